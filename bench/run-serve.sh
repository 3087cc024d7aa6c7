#!/usr/bin/env bash
# run-serve.sh — the serve exporter's /metrics beside node_exporter's
# textfile collector serving the same metrics from tally's .prom file, in
# one run: 10,000 region counters and a state of about 30,000 user-days
# (bench/gen_usage over 30 days and 1,000 users), loaded by serve_load
# (kept-alive clients, tests/serve_load.c) in interleaved rounds, tallyd
# first, then node_exporter, ROUNDS times; then tallyd's RSS with and
# without the serve section after the same cycles. Prints one line per
# round and a summary; bench/serve.md has a run's table.
#
# usage: bench/run-serve.sh [BUILD_DIR]   (env: ROUNDS=3 CLIENTS=4 REQUESTS=200)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-3}
clients=${CLIENTS:-4}
requests=${REQUESTS:-200}
for p in "$build/agent/tallyd" "$build/tests/e2e_app" "$build/tests/serve_load" "$build/bench/gen_usage"; do
  [ -x "$p" ] || { echo "$p is missing: build first (cmake --build $build)"; exit 1; }
done
command -v prometheus-node-exporter >/dev/null || { echo "prometheus-node-exporter is missing: run scripts/deps.sh"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tally-serve-bench.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

mkdir -p "$work/in" "$work/prom"
"$build/bench/gen_usage" --rows 400000 --days 30 --users 1000 --end 2026-11-21 --out "$work/in/usage.csv" >/dev/null 2>&1
sport=$(free_port)
nport=$(free_port)
# conf NAME SERVE(0|1): a config whose state is NAME's own.
conf() {
  mkdir -p "$work/$1/state"
  cat >"$work/$1/tallyd.conf" <<CONF
timezone = "Asia/Shanghai"
state_dir = "$work/$1/state"
interval = 2
plugin_dir = "$build/lib/tally"
shm "counters" { region = "$work/region" capacity = 16384 }
csv "usage" { path = "$work/in/usage*.csv" stream = "usage" }
daily "stats" { }
file "textfile" { path = "$work/prom/tally.prom" format = "prometheus" }
$([ "$2" = 1 ] && echo "serve \"web\" { listen = \"127.0.0.1:$sport\" }")
CONF
}
conf with 1
conf without 0
now=2026-11-22T03:00:00Z

# The region: 10,000 counters, made by an application (one add each).
"$build/agent/tallyd" -c "$work/with/tallyd.conf" --once --now "$now" >"$work/once.log" 2>&1
for ((i = 0; i < 10000; i += 16)); do
  names=()
  for ((k = i; k < i + 16 && k < 10000; k++)); do names+=("app.counter.$k=1"); done
  "$build/tests/e2e_app" "$work/region" 1 1 0 "${names[@]}" >/dev/null # at most 16 a run
done

"$build/agent/tallyd" -f -c "$work/with/tallyd.conf" --now "$now" >"$work/with.log" 2>&1 &
agent=$!
pids+=("$agent")
for ((i = 0; i < 600; i++)); do
  curl -sf "http://127.0.0.1:$sport/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 4 # two cycles: the region's counters and the whole state in the snapshot
user_days=$(curl -s "http://127.0.0.1:$sport/api/v1/summary" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["user_days"]))')
series=$(curl -s "http://127.0.0.1:$sport/metrics" | grep -vc '^#')
bytes=$(curl -s "http://127.0.0.1:$sport/metrics" | wc -c)
prometheus-node-exporter --web.listen-address="127.0.0.1:$nport" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$work/prom" >"$work/node.log" 2>&1 &
pids+=("$!")
for ((i = 0; i < 100; i++)); do curl -sf "http://127.0.0.1:$nport/metrics" >/dev/null 2>&1 && break; sleep 0.1; done

echo "user-days in the state: $user_days; /metrics: $series samples, $bytes bytes"
echo "round server        requests failed  req/s  median_ms  p99_ms"
declare -A rps p99 med
for ((r = 1; r <= rounds; r++)); do
  for who in tallyd node_exporter; do
    port=$sport
    [ "$who" = node_exporter ] && port=$nport
    line=$("$build/tests/serve_load" 127.0.0.1 "$port" /metrics "$clients" "$requests" || true)
    read -r _ n _ f _ _ _ rate _ m _ p _ _ <<<"$line"
    printf '%5d %-13s %8s %6s %6s %10s %7s\n' "$r" "$who" "$n" "$f" "$rate" "$m" "$p"
    rps[$who]+="$rate "
    med[$who]+="$m "
    p99[$who]+="$p "
  done
done
best() { tr ' ' '\n' <<<"$1" | grep . | sort -g | sed -n "$2"; }
echo "tallyd:        median of medians $(best "${med[tallyd]}" 2p) ms, worst p99 $(best "${p99[tallyd]}" '$p') ms, req/s $(best "${rps[tallyd]}" 2p)"
echo "node_exporter: median of medians $(best "${med[node_exporter]}" 2p) ms, worst p99 $(best "${p99[node_exporter]}" '$p') ms, req/s $(best "${rps[node_exporter]}" 2p)"
rss_with=$(rss_kib "$agent")
kill -TERM "$agent"; wait "$agent" || true

"$build/agent/tallyd" -f -c "$work/without/tallyd.conf" --now "$now" >"$work/without.log" 2>&1 &
agent=$!
pids+=("$agent")
sleep 8 # the same state built, then cycles like the run above
rss_without=$(rss_kib "$agent")
kill -TERM "$agent"; wait "$agent" || true
echo "tallyd RSS: $rss_with KiB with the server (after the load), $rss_without KiB without; growth $(( (rss_with - rss_without) )) KiB"
