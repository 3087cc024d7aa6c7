#!/usr/bin/env bash
# serve_ready_test.sh — /readyz follows the cycles: 200 while they
# succeed; 503 with a JSON reason naming the source while a source keeps
# failing (the test source flaky, tests/plugins/flaky.c, in a plugin dir
# of this test's own beside copies of the real plugins), its errors
# counted in tally_source_errors_total; 200 again once it recovers; the
# csv source's rows each counted once meanwhile. /healthz: 200 while the
# agent's loop begins cycles, 503 once a source hangs inside one for two
# intervals and healthz_grace, 200 again when it returns.
#
# usage: serve_ready_test.sh TALLYD TALLY PLUGIN_DIR SERVE_LOAD
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/serve_test_lib.sh"

[ -f "${TALLY_FLAKY_PLUGIN:-}" ] || { fail "TALLY_FLAKY_PLUGIN names no plugin; run through ctest"; finish; }
mkdir -p "$WORK/plugins"
cp "$PLUGIN_DIR"/{shm,file,csv,daily,serve}.so "$TALLY_FLAKY_PLUGIN" "$WORK/plugins/"
PLUGIN_DIR=$WORK/plugins
D=$WORK/ready
serve_conf "$D" 1 'healthz_grace = 2' "flaky \"db\" { fail_while = \"$D/down\" hang_while = \"$D/hang\" }"
add_rows "$D" 3
agent_start "$D"
wait_http /readyz 200 30 || fail "/readyz: 200 after the first cycle" "$(tail -n 5 "$D/agent.log")"
check "/readyz: ready" "$(http /readyz)" '{"schema_version":1,"ready":true}'

add_rows "$D" 2
touch "$D/down"
if wait_http /readyz 503 30; then
    pass "/readyz: 503 while the source fails"
else
    fail "/readyz: 503 while the source fails" "$(http /readyz)"
fi
check "/readyz: the reason names the source" \
    "$(http /readyz | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ready"], d["reason"])')" \
    'False source flaky "db" failed in the last cycle (see the agent'"'"'s log)'
sleep 2.5
check "/readyz: still 503 while it keeps failing" "$(http /readyz >/dev/null; echo "$HTTP_STATUS")" 503
errors=$(metric "$(http /metrics)" 'tally_source_errors_total{plugin="flaky",plugin_instance="db"}')
if [ "${errors:-0}" -ge 2 ]; then
    pass "tally_source_errors_total counts the failures ($errors)"
else
    fail "tally_source_errors_total counts the failures" "got $errors"
fi

rm "$D/down"
if wait_http /readyz 200 30; then
    pass "/readyz: 200 again after the source recovers"
else
    fail "/readyz: 200 again after the source recovers" "$(http /readyz)"
fi
body=$(http /metrics)
check "every row counted once: 5 requests" "$(metric "$body" 'tally_requests_total{outcome="success"}')" 5
check "the source's records: 5" "$(metric "$body" 'tally_source_records_total{plugin="csv",plugin_instance="usage"}')" 5
check "the JSON agent object agrees" \
    "$(http /api/v1/summary | python3 -c 'import json,sys
d = json.load(sys.stdin)["agent"]
print([i["metrics"]["records_total"] for i in d["instances"] if i["instance"] == "usage"])' 2>&1)" \
    "[5]"
check "/healthz: 200 while cycles begin" "$(http /healthz >/dev/null; echo "$HTTP_STATUS")" 200
touch "$D/hang"
if wait_http /healthz 503 30; then
    pass "/healthz: 503 while a source hangs inside a cycle"
else
    fail "/healthz: 503 while a source hangs inside a cycle" "$(http /healthz)"
fi
check "/healthz: says the loop is stalled" \
    "$(http /healthz | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" stalled
rm -f "$D/hang"
if wait_http /healthz 200 30; then
    pass "/healthz: 200 again once the cycle returns"
else
    fail "/healthz: 200 again once the cycle returns" "$(http /healthz)"
fi
agent_stop
check "tallyd stops on TERM" "$STOP_STATUS" 0
no_sanitizer "$D" "the run"
finish
