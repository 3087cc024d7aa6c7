#!/usr/bin/env bash
# serve_concurrent_test.sh — 32 clients x 1,000 requests of /metrics at
# once (serve_load, kept-alive connections) while cycles run every second
# on rows being added and HUP reloads restart the server: every response
# is whole, and every body is one snapshot's (its success requests x 3 =
# its input tokens: each row added has 3). A reload closes the port for a
# moment; the clients connect again, but no response that began is cut.
# Run under TSan too (label concurrent).
#
# usage: serve_concurrent_test.sh TALLYD TALLY PLUGIN_DIR SERVE_LOAD
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/serve_test_lib.sh"

D=$WORK/load
serve_conf "$D" 1 'max_connections = 128  max_connections_per_ip = 64'
add_rows "$D" 5
agent_start "$D"
wait_http /readyz 200 60 || fail "/readyz never answered 200" "$(tail -n 5 "$D/agent.log")"
first=$(metric "$(http /metrics)" 'tally_requests_total{outcome="success"}')

# Rows and a reload every 0.25 s, until the load is done.
(
    for ((i = 0; i < 400; i++)); do
        add_rows "$D" 3
        kill -HUP "$AGENT"
        sleep 0.25
    done
) &
writer=$!
E2E_PIDS+=("$writer")
out=$("$LOAD" 127.0.0.1 "$SPORT" /metrics 32 1000 --pair 3 2>&1)
status=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
echo "$out"
check "32 x 1,000 requests: all whole, each from one snapshot (exit $status)" \
    "$(grep -o 'requests [0-9]* failed [0-9]*' <<<"$out")" "requests 32000 failed 0"
reloads=$(grep -c 'reloaded ' "$D/agent.log")
if [ "$reloads" -ge 2 ]; then
    pass "reloads happened meanwhile ($reloads)"
else
    fail "reloads happened meanwhile" "only $reloads"
fi
last=$(metric "$(http /metrics)" 'tally_requests_total{outcome="success"}')
if [ -n "$first" ] && [ -n "$last" ] && [ "$last" -gt "$first" ]; then
    pass "cycles ran meanwhile (success requests $first, then $last)"
else
    fail "cycles ran meanwhile" "success requests $first, then $last"
fi
if kill -0 "$AGENT" 2>/dev/null; then pass "tallyd still runs"; else fail "tallyd still runs"; fi
agent_stop
check "tallyd stops on TERM" "$STOP_STATUS" 0
no_sanitizer "$D" "the run"
finish
