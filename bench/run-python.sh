#!/usr/bin/env bash
# run-python.sh — counting from Python (issue 13): tally's Python package
# beside prometheus_client (multiprocess and one process) and the
# application's SQLite UPDATE, and reading every counter after 1, 100 and
# 1,000 worker processes have come and gone.
#
#   bench/run-python.sh [--rounds N] [--build DIR] [--quick]
#
# Makes a venv with Debian's /usr/bin/python3 (--system-site-packages, so
# Debian's prometheus_client is seen), pip-installs ./bindings/python into
# it (--no-build-isolation: Debian's setuptools, no index), and runs
# bench/python/pybench.py with it: N interleaved rounds (default 5) of
# fresh processes, medians. Regions and prometheus_client's multiprocess
# directories live in a fresh directory under /dev/shm, the SQLite database
# in one under $TMPDIR (else /var/tmp): on disk where /tmp is a tmpfs.
#   --build DIR  the build tree whose `tally` tool is timed, used as it is;
#                default: build-bench/ (Release), configured and built here
#   --quick      tiny loops, 1/5/10 workers, one round, nothing written to
#                bench/out: the ctest smoke (bench_python_smoke), which
#                checks that every figure is produced and exact
# The table goes to stdout and bench/out/python.txt, every run's figures
# to bench/out/python.runs.tsv (not with --quick). Targets are printed
# with PASS or MISS, never asserted: the exit status says whether every
# measurement ran and counted exactly.
set -euo pipefail
export LC_ALL=C

rounds=5
build=""
quick=0
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-python.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[ "$quick" = 1 ] && rounds=1
case "$rounds" in '' | *[!0-9]* | 0) echo "run-python.sh: --rounds needs a number >= 1" >&2; exit 2 ;; esac

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
outdir="$here/out"
say() { printf 'run-python: %s\n' "$*" >&2; }
die() { printf 'run-python.sh: %s\n' "$*" >&2; exit 1; }
. "$here/bench_lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || die "$py missing: the bench uses Debian's Python 3 (scripts/deps.sh installs it)"
"$py" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$py has no venv or ensurepip: install python3-venv (scripts/deps.sh)"
"$py" -c 'import prometheus_client' 2>/dev/null ||
    die "$py cannot import prometheus_client, the peer: install python3-prometheus-client (scripts/deps.sh)"

build=$(bench_build "$build" tally_tool)
tool="$build/tools/tally"
[ -x "$tool" ] || die "$tool missing: build tally_tool in $build"

# --- scratch: the venv and the database on disk, regions on a tmpfs ---------
tmp=${TMPDIR:-/tmp}
[ "$(stat -f -c %T "$tmp")" = tmpfs ] && tmp=/var/tmp
TMPDIR=$tmp bench_scratch tally-pybench
bench_scratch_shm tally-pybench
mkdir "$work/disk"

# pip builds in the tree it is given: a copy keeps build/ and *.egg-info
# out of the repository; TALLY_SHM_DIR points the copy at libtally's sources.
say "making a venv and installing ./bindings/python into it"
"$py" -m venv --system-site-packages "$work/venv"
cp -r "$repo/bindings/python" "$work/package"
if ! TALLY_SHM_DIR="$repo/shm" "$work/venv/bin/pip" install --no-build-isolation --no-index --quiet \
    --disable-pip-version-check "$work/package" >"$work/pip.log" 2>&1; then
    tail -n 30 "$work/pip.log" >&2
    die "pip install ./bindings/python failed (log above): needs python3-dev, python3-setuptools and python3-wheel (scripts/deps.sh)"
fi

table="$work/table.txt"
{
    echo "python: counting from Python, tally beside prometheus_client and SQLite (bench/run-python.sh)"
    bench_machine
    echo "tally: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown), tool $tool"
} >"$table"
"$work/venv/bin/python" "$here/python/pybench.py" --shm "$shm" --disk "$work/disk" --tool "$tool" \
    --rounds "$rounds" $([ "$quick" = 1 ] && echo --quick) --runs "$work/runs.tsv" \
    --shm-kind "/dev/shm ($(stat -f -c %T /dev/shm))" --disk-kind "$tmp ($(stat -f -c %T "$tmp"))" \
    >>"$table"

cat "$table"
if [ "$quick" = 0 ]; then
    mkdir -p "$outdir"
    cp "$table" "$outdir/python.txt"
    cp "$work/runs.tsv" "$outdir/python.runs.tsv"
fi
