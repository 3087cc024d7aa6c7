#!/usr/bin/env bash
# e2e_exact_test.sh — exact values from applications to files to Prometheus:
#  1. several real processes add known amounts to a region; `tallyd --once`
#     with the shm source and two file exporters (json, prometheus) writes
#     exactly those values;
#  2. `promtool check metrics` accepts the file silently, tricky counter
#     names (quotes, backslashes, UTF-8) included, and they arrive escaped;
#  3. a real node_exporter's textfile collector serves our metrics with the
#     right values and no scrape error.
#
# usage: e2e_exact_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"

# prom_has NAME FILE LINE: FILE has exactly the line LINE.
prom_has() {
    if grep -qxF -- "$3" "$2"; then
        pass "$1"
    else
        fail "$1" "no line: $3" "in $2:" "$(grep '^tally_region_value' "$2" | head -20)"
    fi
}

# --- 1. exact values ------------------------------------------------------
D=$WORK/exact
mkdir -p "$D"
write_conf "$D" Asia/Shanghai 60 '"api.requests.today"'
BIG=1099511627776 # 2^40: one add of a huge token count
# Two applications at once, 8 + 4 processes, some counters shared.
"$APP" "$D/region" 8 2000 0 api.requests.total=1 api.requests.today=1 api.tokens.total=$BIG \
    api.refunds=-3 >"$D/app1.log" 2>&1 &
a1=$!
"$APP" "$D/region" 4 3000 0 api.requests.total=1 api.cost.microusd=1234567 api.refunds=-7 \
    >"$D/app2.log" 2>&1 &
a2=$!
wait_pid $a1 300
s1=$WAIT_STATUS
wait_pid $a2 300
check "apps: 12 processes of two applications added and exited 0" "$s1 $WAIT_STATUS" "0 0"
declare -A want=(
    [api.requests.total]=$((8 * 2000 + 4 * 3000))
    [api.requests.today]=$((8 * 2000))
    [api.tokens.total]=$((8 * 2000 * BIG))
    [api.refunds]=$((8 * 2000 * -3 + 4 * 3000 * -7))
    [api.cost.microusd]=$((4 * 3000 * 1234567))
)
once_ok "exact" "$D" 2026-11-22T03:00:00Z
check "json: now is the --now instant" "$(jq_py "$D/summary.json" "d['now']")" '"2026-11-22T03:00:00Z"'
for n in "${!want[@]}"; do
    check "json: counters[\"$n\"] = ${want[$n]}" "$(counter "$D" "$n")" "${want[$n]}"
done
# 2^40 * 16000 is above 2^53: a double anywhere on the way would round it.
check "json: the sum above 2^53 is exact (no float on the way)" \
    "$(jq_py "$D/summary.json" "d['counters']['api.tokens.total'] % 2**40")" 0
check "json: exactly the counters the apps made, no companions" \
    "$(jq_py "$D/summary.json" "sorted(d['counters'])")" \
    '["api.cost.microusd", "api.refunds", "api.requests.today", "api.requests.total", "api.tokens.total"]'
check "json: no counter_days before the first midnight" "$(jq_py "$D/summary.json" "d['counter_days']")" "[]"
for n in "${!want[@]}"; do
    prom_has "prometheus: tally_region_value{name=\"$n\"} ${want[$n]}" "$D/tally.prom" \
        "tally_region_value{name=\"$n\"} ${want[$n]}"
done
# The checks above can fail: a value one off is not in the file.
if grep -qF "tally_region_value{name=\"api.requests.total\"} $((${want[api.requests.total]} + 1))" "$D/tally.prom"; then
    fail "control: a wrong value is not found in tally.prom"
else
    pass "control: a wrong value is not found in tally.prom"
fi
check "prometheus: one series per counter" "$(grep -c '^tally_region_value{' "$D/tally.prom")" 5

# More adds and a second cycle: the files follow the region, still exact.
app "$D" 3 1000 0 api.requests.total=2 api.refunds=5 >>"$D/app1.log" 2>&1
once_ok "exact, second cycle" "$D" 2026-11-22T04:00:00Z
check "json: second cycle, counters[\"api.requests.total\"]" "$(counter "$D" api.requests.total)" \
    $((${want[api.requests.total]} + 6000))
prom_has "prometheus: second cycle, api.refunds" "$D/tally.prom" \
    "tally_region_value{name=\"api.refunds\"} $((${want[api.refunds]} + 15000))"
check "region: tally get agrees with the file" "$(region_get "$D" api.refunds)" \
    $((${want[api.refunds]} + 15000))

# --- 2. promtool ------------------------------------------------------------
P=$WORK/tricky
mkdir -p "$P"
write_conf "$P" Asia/Shanghai 60 ''
declare -A tricky=(
    ['say "hi"']=3
    ['back\slash']=4
    ['naïve.计数.🚀']=5
    ['both \"\\ end\']=6
    ['{brace}=x,y']=7
)
# 64 bytes of UTF-8 exactly: 21 three-byte characters and one byte.
long=$(python3 -c 'print("界" * 21 + "x")')
tricky[$long]=8
for n in "${!tricky[@]}"; do
    "$TALLY" --region "$P/region" add "$n" "${tricky[$n]}" >/dev/null
done
once_ok "tricky" "$P" 2026-11-22T03:00:00Z
for n in "${!tricky[@]}"; do
    check "json: counters[$n] round-trips" "$(counter "$P" "$n")" "${tricky[$n]}"
done
if ! command -v promtool >/dev/null; then
    fail "promtool: not installed (Debian package prometheus; run scripts/deps.sh)"
else
    out=$(promtool check metrics <"$D/tally.prom" 2>&1)
    rc=$?
    check "promtool check metrics: plain names, silent and exit 0" "$rc:$out" "0:"
    out=$(promtool check metrics <"$P/tally.prom" 2>&1)
    rc=$?
    check "promtool check metrics: quotes, backslashes, UTF-8 names: silent and exit 0" "$rc:$out" "0:"
    for n in "${!tricky[@]}"; do
        esc=$(python3 -c 'import sys;print(sys.argv[1].replace("\\","\\\\").replace("\"","\\\""))' "$n")
        prom_has "prometheus: $n escaped" "$P/tally.prom" "tally_region_value{name=\"$esc\"} ${tricky[$n]}"
    done
    # promtool does object: the same file with one quote left unescaped.
    sed 's/say \\"hi\\"/say "hi"/' "$P/tally.prom" >"$P/broken.prom"
    if cmp -s "$P/tally.prom" "$P/broken.prom"; then
        fail "control: could not break the file (no escaped quote found)"
    else
        out=$(promtool check metrics <"$P/broken.prom" 2>&1)
        rc=$?
        if [ "$rc" -ne 0 ] && [ -n "$out" ]; then
            pass "control: promtool rejects an unescaped quote (exit $rc)"
        else
            fail "control: promtool rejects an unescaped quote" "exit $rc: $out"
        fi
    fi
fi

# --- 3. node_exporter -------------------------------------------------------
NE=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -z "$NE" ]; then
    fail "node_exporter: not installed (Debian package prometheus-node-exporter; run scripts/deps.sh)"
    finish
fi
N=$WORK/node
TEXTFILE=$N/textfile
mkdir -p "$TEXTFILE"
PROM_PATH=$TEXTFILE/tally.prom write_conf "$N" Asia/Shanghai 60 '"api.requests.today"' \
    'shm "tricky" { region = "'"$P"'/region" }'
PORT=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$PORT --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$TEXTFILE" >"$N/node_exporter.log" 2>&1 &
NE_PID=$!
E2E_PIDS+=("$NE_PID")

scrape() {
    python3 - "$PORT" >"$N/metrics" 2>"$N/scrape.err" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10) as r:
    sys.stdout.write(r.read().decode("utf-8"))
EOF
}
# series_value SERIES: the value node_exporter serves for SERIES (name and
# labels as printed), as an exact integer when it is one.
series_value() {
    python3 - "$N/metrics" "$1" <<'EOF'
import sys
want = sys.argv[2]
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith(want + " "):
        v = float(line[len(want) + 1:].split()[0])
        print(int(v) if v.is_integer() else v)
        break
else:
    print("absent")
EOF
}

if ! wait_for 30 scrape; then
    fail "node_exporter: no /metrics on 127.0.0.1:$PORT within 30 s" "$(tail -n 5 "$N/node_exporter.log")"
    finish
fi
pass "node_exporter: serving on 127.0.0.1:$PORT"

app "$N" 5 1000 0 api.requests.total=1 api.requests.today=1 api.latency.ms=250 >"$N/app.log" 2>&1
once_ok "node_exporter" "$N" 2026-11-22T03:00:00Z
scrape
check "node_exporter: tally_region_value{name=\"api.requests.total\"}" \
    "$(series_value 'tally_region_value{name="api.requests.total"}')" 5000
check "node_exporter: tally_region_value{name=\"api.latency.ms\"}" \
    "$(series_value 'tally_region_value{name="api.latency.ms"}')" 1250000
check "node_exporter: tricky name with quotes" "$(series_value 'tally_region_value{name="say \"hi\""}')" 3
check "node_exporter: tricky UTF-8 name" "$(series_value 'tally_region_value{name="naïve.计数.🚀"}')" 5
check "node_exporter: tally_requests_total{outcome=\"success\"} from the same file" \
    "$(series_value 'tally_requests_total{outcome="success"}')" 0
check "node_exporter: node_textfile_scrape_error" "$(series_value node_textfile_scrape_error)" 0
if grep -q '^node_textfile_scrape_error 1' "$N/metrics"; then
    fail "node_exporter: no node_textfile_scrape_error 1"
else
    pass "node_exporter: no node_textfile_scrape_error 1"
fi
check "node_exporter: it read our file (mtime series)" \
    "$(grep -c '^node_textfile_mtime_seconds{file="[^"]*tally.prom"}' "$N/metrics")" 1

# The next cycle's values are what it serves next.
app "$N" 2 500 0 api.requests.total=3 >>"$N/app.log" 2>&1
once_ok "node_exporter, second cycle" "$N" 2026-11-22T03:01:00Z
scrape
check "node_exporter: second cycle, api.requests.total" \
    "$(series_value 'tally_region_value{name="api.requests.total"}')" 8000

# Control: a bad file next to ours does raise the error, so 0 above means something.
printf 'tally_bad{ this is not the text format\n' >"$TEXTFILE/bad.prom"
scrape
check "control: a malformed .prom makes node_textfile_scrape_error 1" \
    "$(series_value node_textfile_scrape_error)" 1
rm -f "$TEXTFILE/bad.prom"
scrape
check "control: without it, node_textfile_scrape_error is 0 again" \
    "$(series_value node_textfile_scrape_error)" 0

kill -TERM "$NE_PID" 2>/dev/null
if wait_pid "$NE_PID" 15; then
    pass "node_exporter: stopped by its PID"
else
    fail "node_exporter: did not stop within 15 s of SIGTERM (killed)"
fi
finish
