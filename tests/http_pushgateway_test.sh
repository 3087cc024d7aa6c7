#!/usr/bin/env bash
# http_pushgateway_test.sh — the http exporter with format prometheus
# against a real Prometheus Pushgateway (Debian prometheus-pushgateway)
# started here on 127.0.0.1:
#  1. after `tallyd --once`, the Pushgateway's API (/api/v1/metrics) shows
#     our metrics with the right values, in the group job="tally",
#     instance=<this host's name> (instance added from the host name);
#  2. with POST a metric another pusher put into the group stays (the
#     control); with PUT the group is replaced: it is gone and our new
#     values are there.
#
# usage: http_pushgateway_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/http_test_lib.sh"
[ -f "$PLUGIN_DIR/http.so" ] || { fail "http.so is missing from $PLUGIN_DIR; build first"; finish; }
PG=$(command -v prometheus-pushgateway || command -v pushgateway)
if [ -z "$PG" ]; then
    fail "pushgateway: not installed (Debian package prometheus-pushgateway; run scripts/deps.sh)"
    finish
fi

PORT=$(free_port)
# Metrics in memory only: Debian's default keeps them in /var/lib/prometheus.
"$PG" --web.listen-address="127.0.0.1:$PORT" --persistence.file="" >"$WORK/pushgateway.log" 2>&1 &
PG_PID=$!
E2E_PIDS+=("$PG_PID")
api() {
    python3 - "$PORT" "$@" <<'PY'
import json, sys, urllib.request
port, what = sys.argv[1], sys.argv[2]
if what == "ready":
    urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5).read()
    sys.exit(0)
if what == "push":  # push TEXT to GROUP_PATH with POST, as another pusher
    req = urllib.request.Request(f"http://127.0.0.1:{port}{sys.argv[3]}",
                                 data=sys.argv[4].encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).read()
    sys.exit(0)
# "value JOB INSTANCE METRIC NAME_LABEL": the sample's value in that group,
# or "absent"; "groups": the groups' label sets.
groups = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5))["data"]
if what == "groups":
    print(json.dumps(sorted([g["labels"] for g in groups], key=json.dumps), sort_keys=True))
    sys.exit(0)
job, inst, metric, name = sys.argv[3:7]
for g in groups:
    if g["labels"] != {"job": job, "instance": inst}:
        continue
    for m in g.get(metric, {}).get("metrics", []):
        if name == "" or m["labels"].get("name") == name:
            print(m["value"])
            sys.exit(0)
print("absent")
PY
}
if ! wait_for 30 api ready; then
    fail "pushgateway: not ready on 127.0.0.1:$PORT within 30 s" "$(tail -n 5 "$WORK/pushgateway.log")"
    finish
fi
pass "pushgateway: ready on 127.0.0.1:$PORT"

HOST=$(hostname)
D=$WORK/push
# Another pusher's metric in the group tallyd will push to.
api push "/metrics/job/tally/instance/$HOST" $'# TYPE other_pusher_metric gauge\nother_pusher_metric 1\n'
mkdir -p "$D"
"$TALLY" --region "$D/region" add api.requests.total 5 >/dev/null
write_conf "$D" UTC 60 '' \
    "http \"push\" { url = \"http://127.0.0.1:$PORT/metrics/job/tally\" format = \"prometheus\" method = \"POST\" }"
once_ok "POST" "$D" 2026-11-22T03:00:00Z
check "POST: the group is job=tally, instance=$HOST (from the host name)" \
    "$(api groups)" "[{\"instance\": \"$HOST\", \"job\": \"tally\"}]"
check "POST: tally_region_value{name=\"api.requests.total\"} = 5" \
    "$(api value tally "$HOST" tally_region_value api.requests.total)" 5
check "POST: tally_requests_total is there (the snapshot's families)" \
    "$(api value tally "$HOST" tally_requests_total '')" 0
check "POST: another pusher's metric stays (POST replaces same-named metrics only)" \
    "$(api value tally "$HOST" other_pusher_metric '')" 1
if grep -q "failed\|refused" "$D/agent.log"; then
    fail "POST: no failed push in the log" "$(grep "failed\|refused" "$D/agent.log")"
else
    pass "POST: no failed push in the log (the Pushgateway refuses timestamps; there were none)"
fi

"$TALLY" --region "$D/region" add api.requests.total 3 >/dev/null
write_conf "$D" UTC 60 '' \
    "http \"push\" { url = \"http://127.0.0.1:$PORT/metrics/job/tally\" format = \"prometheus\" method = \"PUT\" }"
once_ok "PUT" "$D" 2026-11-22T03:01:00Z
check "PUT: the new value, 8" "$(api value tally "$HOST" tally_region_value api.requests.total)" 8
check "PUT: the group was replaced: the other pusher's metric is gone" \
    "$(api value tally "$HOST" other_pusher_metric '')" absent
check "PUT: still one group" "$(api groups)" "[{\"instance\": \"$HOST\", \"job\": \"tally\"}]"

kill -TERM "$PG_PID" 2>/dev/null
if wait_pid "$PG_PID" 15; then
    pass "pushgateway: stopped by its PID"
else
    fail "pushgateway: did not stop within 15 s of SIGTERM (killed)"
fi
finish
