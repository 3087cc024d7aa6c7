#!/usr/bin/env bash
# promtool_test.sh — the Prometheus text of several snapshots (empty,
# realistic, edge) passes `promtool check metrics` without a single word:
# promtool prints lint problems (naming, units, _total, HELP) and parse
# errors, so silence and exit 0 mean Prometheus' own tools accept it.
#
# usage: promtool_test.sh FORMAT_DUMP WORKDIR
set -u
dump=$1
dir=$2

if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found; run scripts/deps.sh (Debian package prometheus)"
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir"
fail=0

# First, that promtool does complain, so its silence below means something.
printf '# HELP tally_bad A counter without _total.\n# TYPE tally_bad counter\ntally_bad 1\n' \
  >"$dir/control.prom"
out=$(promtool check metrics <"$dir/control.prom" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] || [ -z "$out" ]; then
  echo "FAIL: promtool accepted a counter without _total (exit $rc); the check proves nothing"
  fail=1
fi

# The families every snapshot has, in order; region values only with counters.
families="tally_requests_total counter
tally_tokens_total counter
tally_cost_usd_total counter
tally_actual_cost_usd_total counter
tally_today_requests gauge
tally_today_tokens gauge
tally_today_cost_usd gauge
tally_today_actual_cost_usd gauge
tally_users gauge
tally_active_users gauge
tally_api_keys gauge
tally_active_api_keys gauge
tally_rejected_rows_total counter
tally_snapshot_generated_timestamp_seconds gauge"

for snap in empty realistic edge; do
  f="$dir/$snap.prom"
  if ! "$dump" "$snap" prometheus >"$f"; then
    echo "FAIL: $snap: format_dump failed"
    fail=1
    continue
  fi
  want=$families
  [ "$snap" != empty ] && want="$want
tally_region_value gauge"
  got=$(sed -n 's/^# TYPE //p' "$f")
  if [ "$got" != "$want" ]; then
    echo "FAIL: $snap: families differ; expected:"
    echo "$want"
    echo "got:"
    echo "$got"
    fail=1
  fi
  out=$(promtool check metrics <"$f" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL: $snap: promtool check metrics exited $rc and said:"
    echo "$out"
    fail=1
  else
    echo "ok: $snap ($(wc -l <"$f") lines) passes promtool check metrics"
  fi
done

# The edge names arrived escaped, not dropped or mangled.
for series in 'tally_region_value{name="a\"b\\c"} -9223372036854775808' \
  'tally_region_value{name="line\nfeed"} 1' \
  'tally_region_value{name="quote\""} 9223372036854775807' \
  'tally_today_cost_usd NaN' 'tally_actual_cost_usd_total +Inf' \
  'tally_cost_usd_total 1e+300'; do
  if ! grep -qxF "$series" "$dir/edge.prom"; then
    echo "FAIL: edge: no line '$series'"
    fail=1
  fi
done
exit $fail
