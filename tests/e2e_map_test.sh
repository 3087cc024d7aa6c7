#!/usr/bin/env bash
# e2e_map_test.sh — region counters under real names, end to end: an app
# adds to llm.gpt-4o.tokens and friends in a real region, tallyd's shm
# source reads it and the prometheus file exporter writes it through the
# config's map rules; the text has llm_tokens_total{model="gpt-4o"} (so
# `sum by (model)` needs no label_replace), promtool check metrics finds
# nothing, unmapped counters are kept or dropped as the config says, and a
# HUP with other rules renames the series in the running agent.
#
# usage: e2e_map_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"

MAPS='map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} help = "LLM tokens by model." }
map "http.*.*.hits" { name = "http_hits_total" labels = {"service=$1", "code=$2"} }'

D=$WORK/map
write_conf "$D" UTC 60 '"d.x"' "$MAPS"
"$TALLY" --region "$D/region" add llm.gpt-4o.tokens 10 >/dev/null
"$TALLY" --region "$D/region" add llm.claude.tokens 5 >/dev/null
"$TALLY" --region "$D/region" add 'http.api.200.hits' 7 >/dev/null
"$TALLY" --region "$D/region" add app.other 3 >/dev/null
once_ok keep "$D" 2026-11-02T12:00:00Z
prom=$(grep -E '^(# (HELP|TYPE) )?(llm_|http_|tally_region_value)' "$D/tally.prom")
want='# HELP tally_region_value Live value of a libtally counter, by counter name (a gauge: tally_add also takes negative numbers).
# TYPE tally_region_value gauge
tally_region_value{name="app.other"} 3
# HELP llm_tokens_total LLM tokens by model.
# TYPE llm_tokens_total counter
llm_tokens_total{model="claude"} 5
llm_tokens_total{model="gpt-4o"} 10
# HELP http_hits_total Live value of the libtally counters http.*.*.hits (tallyd.conf map).
# TYPE http_hits_total counter
http_hits_total{service="api",code="200"} 7'
check "keep: the region's families, mapped and unmatched, exactly" "$prom" "$want"
# sum by (model), as PromQL would take it: one series a model, no rewriting.
sums=$(python3 - "$D/tally.prom" <<'EOF'
import re, sys
s = {}
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r'llm_tokens_total\{model="([^"]*)"\} (\S+)$', line)
    if m:
        s[m[1]] = s.get(m[1], 0) + float(m[2])
print(" ".join(f"{k}={v:g}" for k, v in sorted(s.items())))
EOF
)
check "keep: sum by (model) straight from the labels" "$sums" "claude=5 gpt-4o=10"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <"$D/tally.prom" 2>&1)
    check "keep: promtool check metrics finds nothing" "$out" ""
else
    fail "promtool: not installed (run scripts/deps.sh)"
fi

# unmapped = "drop": only what a rule names.
D2=$WORK/drop
write_conf "$D2" UTC 60 '"d.x"' "$MAPS
unmapped = \"drop\""
cp "$D/region" "$D2/region"
once_ok drop "$D2" 2026-11-02T12:00:00Z
check "drop: no tally_region_value" "$(grep -c tally_region_value "$D2/tally.prom")" 0
check "drop: the mapped series stay" "$(grep -c '^llm_tokens_total{model="gpt-4o"} 10$' "$D2/tally.prom")" 1

# HUP: other rules in the running agent; the next file has the new names.
write_conf "$D" UTC 1 '"d.x"' "$MAPS"
"$TALLYD" -f -c "$D/tallyd.conf" --now 2026-11-02T12:00:10Z >>"$D/agent.log" 2>&1 &
AGENT=$!
E2E_PIDS+=("$AGENT")
has() { grep -q "$1" "$D/tally.prom" 2>/dev/null; }
rm -f "$D/tally.prom"
wait_for 30 has '^llm_tokens_total{model="gpt-4o"}' || fail "hup: the running agent wrote the map"
write_conf "$D" UTC 1 '"d.x"' 'map "llm.*.tokens" { name = "llm_model_tokens_total" labels = {"llm_model=$1"} }'
kill -HUP "$AGENT"
if wait_for 30 has '^llm_model_tokens_total{llm_model="gpt-4o"} 10$'; then
    pass "hup: the reloaded rules name the series"
else
    fail "hup: the reloaded rules name the series" "$(tail -n 5 "$D/agent.log")"
fi
check "hup: the old family is gone" "$(grep -c '^llm_tokens_total' "$D/tally.prom")" 0
kill -TERM "$AGENT" 2>/dev/null
wait_pid "$AGENT" 30
check "hup: the agent stops cleanly on TERM" "$WAIT_STATUS" 0
finish
