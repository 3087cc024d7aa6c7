#!/usr/bin/env bash
# serve_prometheus_test.sh — a real Prometheus scrapes the serve exporter:
#  1. its query API returns the exact values of tally's counters (usage
#     rows through the csv source, a region counter under a map rule and
#     one without), of the summary and
#     of the agent's own metrics, and up == 1 (Prometheus asks for
#     OpenMetrics first, so that is the format it parsed);
#  2. promtool check metrics finds nothing in either format, and gzip
#     gives the same text;
#  3. the JSON API: /api/v1/summary is exactly the file exporter's json
#     of the same snapshot; days, counters and user_days (paged with a
#     cursor to the last row, each row once) agree with it; bad
#     parameters are a 400 with a JSON error; HEAD answers without a body.
#
# usage: serve_prometheus_test.sh TALLYD TALLY PLUGIN_DIR SERVE_LOAD
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/serve_test_lib.sh"
command -v prometheus >/dev/null || { fail "prometheus is missing: run scripts/deps.sh"; finish; }
command -v promtool >/dev/null || { fail "promtool is missing: run scripts/deps.sh"; finish; }

D=$WORK/prom
serve_conf "$D" 1 '' 'map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }'
add_rows "$D" 10
agent_start "$D"
wait_http /readyz 200 30 || fail "/readyz never answered 200" "$(tail -n 5 "$D/agent.log")"
"$TALLY" --region "$D/region" add llm.gpt-4o.tokens 42 >/dev/null
"$TALLY" --region "$D/region" add app.logins 7 >/dev/null
# The region counter is read by the next cycle.
for ((i = 0; i < 100; i++)); do
    body=$(http /metrics)
    [ "$(metric "$body" 'llm_tokens_total{model="gpt-4o"}')" = 42 ] && break
    sleep 0.1
done
check "/metrics: 10 successful requests" "$(metric "$body" 'tally_requests_total{outcome="success"}')" 10
check "/metrics: 30 input tokens" "$(metric "$body" 'tally_tokens_total{kind="input"}')" 30
check "/metrics: the mapped region counter" "$(metric "$body" 'llm_tokens_total{model="gpt-4o"}')" 42
check "/metrics: an unmapped one keeps its form" "$(metric "$body" 'tally_region_value{name="app.logins"}')" 7
check "/metrics: its age" "$(grep -c '^tally_snapshot_age_seconds [0-9]' <<<"$body")" 1

# --- 2. promtool, both formats, gzip ----------------------------------------------
http /metrics >"$D/text.prom"
http /metrics -H 'Accept: application/openmetrics-text;version=1.0.0' >"$D/om.txt"
check "OpenMetrics: ends with # EOF" "$(tail -n 1 "$D/om.txt")" "# EOF"
check "OpenMetrics: counter families are named without _total" \
    "$(grep -c '^# TYPE tally_requests counter$' "$D/om.txt")" 1
check "OpenMetrics: Content-Type" \
    "$(curl -s -o /dev/null -w '%{content_type}' -H 'Accept: application/openmetrics-text;version=1.0.0' "http://127.0.0.1:$SPORT/metrics")" \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"
check "text: Content-Type" "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$SPORT/metrics")" \
    "text/plain; version=0.0.4; charset=utf-8"
out=$(promtool check metrics <"$D/text.prom" 2>&1)
check "promtool check metrics: the text format, nothing to say (exit $?)" "$out" ""
# promtool reads the text format only; an OpenMetrics text is checked by
# the scrape below (Prometheus' own OpenMetrics parser) and, here, for
# the text it is made from: the same samples.
check "OpenMetrics: the same samples as the text format" \
    "$(grep -v '^#' "$D/om.txt" | grep -v '^tally_snapshot_age' | sort)" \
    "$(grep -v '^#' "$D/text.prom" | grep -v '^tally_snapshot_age' | sort)"
# encoding ARGS...: the Content-Encoding of /metrics asked with ARGS.
encoding() {
    curl -s -D - -o "$D/gz.bin" "$@" "http://127.0.0.1:$SPORT/metrics" |
        sed -n 's/^Content-Encoding: *\([^\r]*\).*/\1/Ip'
}
enc=$(encoding -H 'Accept-Encoding: gzip')
check "gzip: Content-Encoding" "$enc" gzip
if gzip -t "$D/gz.bin" 2>/dev/null && gzip -dc "$D/gz.bin" | tail -n 3 | grep -q '^tally_snapshot_age_seconds'; then
    pass "gzip: a valid gzip whose text ends with the age"
else
    fail "gzip: a valid gzip whose text ends with the age" "$(gzip -t "$D/gz.bin" 2>&1)"
fi
check "gzip: refused with q=0" "$(encoding -H 'Accept-Encoding: gzip;q=0')" ""
check "HEAD /metrics: 200, no body" "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$SPORT/metrics")" "200 0"

# --- 1. a real Prometheus -------------------------------------------------------------
PPORT=$(free_port)
mkdir -p "$D/prom-data"
cat >"$D/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tally
    static_configs:
      - targets: ["127.0.0.1:$SPORT"]
YML
prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/prom-data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$D/prometheus.log" 2>&1 &
E2E_PIDS+=($!)
# pq QUERY: the value of an instant query's first sample ("" if none).
pq() {
    curl -s -m 5 --get --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" |
        python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}
for ((i = 0; i < 300; i++)); do
    [ "$(pq 'up{job="tally"}')" = 1 ] && [ -n "$(pq 'tally_requests_total')" ] && break
    sleep 0.2
done
check "Prometheus: up == 1" "$(pq 'up{job="tally"}')" 1
check "Prometheus: the target's scrape had no error" \
    "$(curl -s "http://127.0.0.1:$PPORT/api/v1/targets" | python3 -c 'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"][0]; print(t["health"], repr(t["lastError"]))')" \
    "up ''"
check "Prometheus: tally_requests_total{outcome=success}" "$(pq 'tally_requests_total{outcome="success"}')" 10
check "Prometheus: tally_tokens_total{kind=input}" "$(pq 'tally_tokens_total{kind="input"}')" 30
check "Prometheus: tally_cost_usd_total" "$(pq 'tally_cost_usd_total')" 0.03
check "Prometheus: the mapped region counter, by model" "$(pq 'sum by (model) (llm_tokens_total{model="gpt-4o"})')" 42
check "Prometheus: the unmapped region counter" "$(pq 'tally_region_value{name="app.logins"}')" 7
check "Prometheus: today's requests (the summary's today)" "$(pq 'sum(tally_today_requests)')" 10
check "Prometheus: tally_snapshot_age_seconds is there" "$(pq 'count(tally_snapshot_age_seconds)')" 1
check "Prometheus: agent build info" "$(pq 'tally_agent_build_info')" 1
check "Prometheus: records the csv source handed over" \
    "$(pq 'tally_source_records_total{plugin="csv",plugin_instance="usage"}')" 10
check "Prometheus: rows it rejected" \
    "$(pq 'tally_source_rejected_rows_total{plugin="csv",plugin_instance="usage"}')" 0
check "Prometheus: the serve exporter's exports counted" \
    "$(pq 'tally_exporter_exports_ok_total{plugin="serve",plugin_instance="web"} > bool 0')" 1
check "Prometheus: cycles that failed" "$(pq 'tally_agent_cycles_total{result="failed"}')" 0

# --- 3. the JSON API ----------------------------------------------------------------
same=no
for ((i = 0; i < 50; i++)); do
    http /api/v1/summary >"$D/api.json"
    if cmp -s "$D/api.json" "$D/summary.json"; then
        same=yes
        break
    fi
    sleep 0.1
done
check "/api/v1/summary: exactly the file exporter's json of the same snapshot" "$same" yes
check "/api/v1/summary: application/json" \
    "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$SPORT/api/v1/summary")" application/json
today=$(date -u +%Y-%m-%d)
check "/api/v1/counters?prefix=llm.: the region counter" \
    "$(http '/api/v1/counters?prefix=llm.' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["schema_version"], d["counters"])')" \
    "1 {'llm.gpt-4o.tokens': 42}"
check "/api/v1/counters?prefix=zz: none" \
    "$(http '/api/v1/counters?prefix=zz' | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"])')" "{}"
check "/api/v1/days: the summary's days" \
    "$(http '/api/v1/days' | python3 -c 'import json,sys; print(json.load(sys.stdin)["days"])')" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["days"])' "$D/api.json")"
# Today is not a closed day: the user-days are listed once it closes, so
# the paging is checked on a closed day below (serve_ready_test.sh runs
# with --now); here, the listed ones, paged.
pages=$(python3 - "$SPORT" <<'PY'
import json, sys, urllib.request, urllib.parse
port = sys.argv[1]
rows, after, n = [], None, 0
while True:
    q = {"limit": "3"}
    if after:
        q["after"] = after
    d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/user_days?" + urllib.parse.urlencode(q)))
    rows += [(r["date"], r["user_id"]) for r in d["user_days"]]
    n += 1
    after = d["next"]
    if after is None or n > 100:
        break
summary = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/summary"))
print(rows == [(r["date"], r["user_id"]) for r in summary["user_days"]], len(rows) == len(set(rows)))
PY
)
check "/api/v1/user_days: pages of 3 give the summary's user-days, each once" "$pages" "True True"
for q in 'days?from=2026-13-01' 'days?from=yesterday' 'user_days?limit=0' 'user_days?limit=1001' \
    'user_days?after=nonsense' 'user_days?date=2026-02-30' 'counters?prefix=a&prefix=b' 'days?color=red'; do
    http "/api/v1/$q" >"$D/body"
    err=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["schema_version"], bool(d["error"]))' <"$D/body" 2>/dev/null)
    check "/api/v1/$q: 400 with a JSON error" "$HTTP_STATUS $err" "400 1 True"
done
http /api/v1/nothing >/dev/null
check "/api/v1/nothing: 404" "$HTTP_STATUS" 404
http /healthz >/dev/null
check "/healthz: 200" "$HTTP_STATUS" 200

agent_stop
check "tallyd stops on TERM" "$STOP_STATUS" 0
no_sanitizer "$D" "the run"
finish
