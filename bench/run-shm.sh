#!/bin/sh
# run-shm.sh — build a Release tree in build-bench/ and run the libtally
# benchmark, keeping its table in bench/out/shm.txt.
#
#   bench/run-shm.sh [shm_bench options, e.g. --rounds 9 or --quick]
#
# Works from any directory: the repository is found from this script's path.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
build="$repo/build-bench"
out="$here/out"

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTALLY_BENCH=ON >/dev/null
make -C "$build" -j"$(nproc)" shm_bench >/dev/null
mkdir -p "$out"

# The table goes to stdout and the file; progress stays on stderr. Without
# pipefail in sh, the bench's status is carried out of the pipe by hand.
# A failed run leaves the previous table in place.
status="$out/.shm.status.$$"
partial="$out/.shm.txt.$$"
trap 'rm -f "$status" "$partial"' EXIT
{
    rc=0
    "$build/bench/shm_bench" "$@" || rc=$?
    echo "$rc" >"$status"
} | tee "$partial"
rc=$(cat "$status")
if [ "$rc" -eq 0 ]; then
    mv "$partial" "$out/shm.txt"
fi
exit "$rc"
