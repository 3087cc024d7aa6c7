#!/usr/bin/env bash
# The README's first command: set up this machine, build tally, and run the
# agent in the foreground on the demo config (etc/demo.conf.in): the
# bundled sample data (data/sample: a week of usage rows, some of them bad)
# through the csv source, an LLM gateway's JSON-lines log through the jsonl
# source, and the daily collector, while the demo program
# bumps counters the way a web back end would; state, region and outputs
# under build/demo. TALLY_DEMO_SECONDS (default 12) says how long, 0 runs
# until Ctrl-C; TALLY_DEMO_NOW (default 2026-11-22T03:00:00Z, the day after
# the sample week) is the agent's "now", so "today" has rows.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"

build="$root/build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

demo="$build/demo"
seconds=${TALLY_DEMO_SECONDS:-12}
now=${TALLY_DEMO_NOW:-2026-11-22T03:00:00Z}
# A fresh state each run, so the statistics are those of the sample alone.
rm -rf "$demo/state"
mkdir -p "$demo/state" "$demo/out"
# The serve exporter's port: TALLY_DEMO_PORT, or a free one.
port=${TALLY_DEMO_PORT:-$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')}
sed -e "s|@DEMO@|$demo|g" -e "s|@DATA@|$root/data/sample|g" -e "s|@PLUGINS@|$build/lib/tally|g" \
  -e "s|@PORT@|$port|g" \
  "$root/etc/demo.conf.in" > "$demo/tallyd.conf"
"$build/agent/tallyd" -t -c "$demo/tallyd.conf"

cat <<MSG
tallyd runs in the foreground on $demo/tallyd.conf (a cycle every 2 s);
the demo program bumps counters in the region $demo/region.
  JSON summary:     $demo/out/summary.json
  Prometheus text:  $demo/out/tally.prom   (point node_exporter's textfile collector here)
  served:           http://127.0.0.1:$port/metrics   (and /api/v1/summary, /readyz)
  rejected rows:    $demo/state/rejects/usage.csv (the sample's bad rows, with file, line, reason)
                    $demo/state/rejects/edge.csv  (the edge log's bad lines)
  live counters:    $build/tools/tally --region $demo/region watch
MSG

demo_seconds=$seconds
[ "$seconds" -eq 0 ] && demo_seconds=86400
"$build/tools/tally-demo" --region "$demo/region" --workers 4 --seconds "$demo_seconds" &
app=$!
"$build/agent/tallyd" -f -c "$demo/tallyd.conf" --now "$now" &
agent=$!
trap 'kill "$app" "$agent" 2>/dev/null || true' INT TERM EXIT
if [ "$seconds" -eq 0 ]; then
  wait "$agent"
else
  sleep "$seconds"
  curl -s -m 5 "http://127.0.0.1:$port/metrics" >"$demo/out/served.prom" || true
  kill -TERM "$agent"
  wait "$agent" || true
  wait "$app" || true
fi
trap - INT TERM EXIT

echo
echo "== business days and counters in $demo/out/summary.json"
python3 - "$demo/out/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("now:", d["now"], " timezone:", d["timezone"], " rejected rows:", d.get("rejected_rows"))
print(f"  {'date':10} {'requests':>8} {'errors':>6} {'in tokens':>12} {'cost USD':>12} {'fallbacks':>9} {'models':>6}")
for day in d["days"]:
    print(f"  {day['date']:10} {day['total_requests']:8} {day['error_requests']:6} "
          f"{day['input_tokens']:12} {day['total_cost']:12.6f} {day['fallback_count']:9} "
          f"{day['unique_models']:6}")
s, t, c = d["summary"], d["today"], d["combined"]
print(f"  all time (before {s['cutoff_date']}): {s['all_time_requests']} requests, "
      f"{s['all_time_cost']:.6f} USD; today: {t['total_requests']} requests; "
      f"combined: {c['total_requests']}")
print(f"  users {s['total_users']} ({s['active_users']} active), "
      f"API keys {s['total_api_keys']} ({s['active_api_keys']} active), "
      f"user-days {len(d['user_days'])}")
for name, value in d["counters"].items():
    print(f"  {name:32} {value}")
PY
echo "== http://127.0.0.1:$port/metrics, served by tallyd while it ran (its first region counters)"
grep -m 8 '^tally_region_value' "$demo/out/served.prom" || true
echo "== the first lines of $demo/out/tally.prom"
grep -m 8 '^tally_region_value' "$demo/out/tally.prom" || true
