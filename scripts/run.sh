#!/usr/bin/env bash
# The README's first command: set up this machine, build tally, and run the
# demo — several processes bump counters in one shared-memory region while
# `tally` shows them live, then lists them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"

build="$root/build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

export TALLY_REGION=${TALLY_REGION:-tally-demo}
tally="$build/tools/tally"
"$build/tools/tally-demo" --workers 4 --seconds 3 &
demo=$!
sleep 0.5
"$tally" watch --interval 1 --count 2 demo.
wait "$demo"
echo
"$tally" list
echo
echo "The region is /dev/shm/$TALLY_REGION. Try: $tally --region $TALLY_REGION get demo.requests"
