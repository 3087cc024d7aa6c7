#!/usr/bin/env bash
# The README's first command: set up this machine, build tally, and run the
# agent in the foreground on the demo config (etc/demo.conf.in: state,
# region and outputs under build/demo) while the demo program bumps
# counters the way a web back end would. TALLY_DEMO_SECONDS (default 12)
# says how long; 0 runs until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"

build="$root/build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

demo="$build/demo"
seconds=${TALLY_DEMO_SECONDS:-12}
mkdir -p "$demo/state" "$demo/out"
sed -e "s|@DEMO@|$demo|g" -e "s|@PLUGINS@|$build/lib/tally|g" \
  "$root/etc/demo.conf.in" > "$demo/tallyd.conf"
"$build/agent/tallyd" -t -c "$demo/tallyd.conf"

cat <<MSG
tallyd runs in the foreground on $demo/tallyd.conf (a cycle every 2 s);
the demo program bumps counters in the region $demo/region.
  JSON summary:     $demo/out/summary.json
  Prometheus text:  $demo/out/tally.prom   (point node_exporter's textfile collector here)
  live counters:    $build/tools/tally --region $demo/region watch
MSG

demo_seconds=$seconds
[ "$seconds" -eq 0 ] && demo_seconds=86400
"$build/tools/tally-demo" --region "$demo/region" --workers 4 --seconds "$demo_seconds" &
app=$!
"$build/agent/tallyd" -f -c "$demo/tallyd.conf" &
agent=$!
trap 'kill "$app" "$agent" 2>/dev/null || true' INT TERM EXIT
if [ "$seconds" -eq 0 ]; then
  wait "$agent"
else
  sleep "$seconds"
  kill -TERM "$agent"
  wait "$agent" || true
  wait "$app" || true
fi
trap - INT TERM EXIT

echo
echo "== counters in $demo/out/summary.json"
python3 - "$demo/out/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("now:", d["now"], " timezone:", d["timezone"])
for name, value in d["counters"].items():
    print(f"  {name:32} {value}")
PY
echo "== the first lines of $demo/out/tally.prom"
grep -m 8 '^tally_region_value' "$demo/out/tally.prom" || true
