#!/usr/bin/env bash
# The README's second command: install what is missing, then build and run
# every test three ways — a normal build, ASan+UBSan, and TSan for the
# concurrent tests — and fuzz region opening, CSV scanning and JSON-lines
# parsing for a bounded time (TALLY_FUZZ_SECONDS in all, 60 by default).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh"

jobs=$(nproc)
fuzz_seconds=${TALLY_FUZZ_SECONDS:-60}
passed=0
failed=0

# suite NAME BUILD_DIR CTEST_ARGS -- CMAKE_ARGS
suite() {
  local name=$1 dir=$2 ctest_args=$3
  shift 4
  echo "=== $name: configure and build ($dir)"
  cmake -S "$root" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  echo "=== $name: test"
  local out rc=0
  out=$(cd "$dir" && ctest --output-on-failure -j"$jobs" $ctest_args 2>&1) || rc=$?
  echo "$out" | tail -n 40
  local total fails
  total=$(echo "$out" | sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' | tail -1)
  fails=$(echo "$out" | sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' | tail -1)
  total=${total:-0}
  fails=${fails:-0}
  if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then fails=1; fi
  passed=$((passed + total - fails))
  failed=$((failed + fails))
}

# abort_on_error=0: an ASan or LSan report still ends the process with a
# non-zero status and its "ERROR: ...Sanitizer" text, which the tests look
# for; but LeakSanitizer's own tracer dies at exit in a few tallyd runs
# that stop on a plugin's config error ("Tracer caught signal 11", a
# failure of the checker, not a report), and with abort it turned their
# expected exit status 1 into 134. Not understood yet (see the issue 12
# note); it does not hide a report.
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

suite normal build "" -- -DCMAKE_BUILD_TYPE=RelWithDebInfo
suite asan+ubsan build-asan "" -- -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON -DTALLY_BENCH=OFF
# TSan is slower by an order of magnitude: the tests scale their loops down.
TALLY_TEST_SCALE=8 suite tsan build-tsan "-L concurrent" -- -DCMAKE_BUILD_TYPE=Debug -DTALLY_TSAN=ON -DTALLY_BENCH=OFF

# Each libFuzzer target gets a third of the fuzzing time, and counts as one test.
# fuzz TARGET REPLAY MAX_LEN WHAT
corpus=
trap '[ -z "$corpus" ] || rm -rf "$corpus"' EXIT
fuzz() {
  local target=$1 replay=$2 max_len=$3 what=$4
  echo "=== fuzz: libFuzzer on $what, ${fuzz_each}s"
  corpus=$(mktemp -d)
  "build-fuzz/tests/$replay" --write-seeds "$corpus"
  if "build-fuzz/tests/$target" -max_total_time="$fuzz_each" -max_len="$max_len" \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/build-fuzz/" \
       "$corpus" > "build-fuzz/$target.log" 2>&1; then
    grep -E 'stat::number_of_executed_units|Done' "build-fuzz/$target.log" || true
    passed=$((passed + 1))
  else
    tail -n 60 "build-fuzz/$target.log"
    echo "fuzz: $target FAILED (crash input saved under build-fuzz/)"
    failed=$((failed + 1))
  fi
  rm -rf "$corpus"
  corpus=
}

fuzz_each=$((fuzz_seconds / 3))
[ "$fuzz_each" -gt 0 ] || fuzz_each=1
CC=clang cmake -S "$root" -B build-fuzz -DTALLY_FUZZ=ON -DTALLY_BENCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz_region_open fuzz_region_replay fuzz_csv_scan fuzz_csv_replay \
  fuzz_jsonl_line fuzz_jsonl_replay \
  -j"$jobs" >/dev/null
fuzz fuzz_region_open fuzz_region_replay 40000 "region opening"
fuzz fuzz_csv_scan fuzz_csv_replay 4096 "CSV rows and values"
fuzz fuzz_jsonl_line fuzz_jsonl_replay 4096 "JSON lines and values"

echo
echo "tally: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
