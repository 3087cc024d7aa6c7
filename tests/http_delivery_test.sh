#!/usr/bin/env bash
# http_delivery_test.sh — the http exporter in tallyd against the test
# receiver (http_receiver.py) on 127.0.0.1:
#  1. 503, 429 with Retry-After, a response cut short and a hang past the
#     timeout are retried with one Idempotency-Key, and accepted once;
#     the retry after 429 comes no sooner than Retry-After says;
#  2. with the receiver down, payloads wait in the state database across
#     restarts of tallyd; once it is back, every snapshot is accepted
#     exactly once, in order, and a payload's key is the same after a
#     restart;
#  3. a 400 is final: one request, dropped, counted, logged with the first
#     line of the answer only; the next snapshot still goes;
#  4. delivery = "latest" keeps only the newest undelivered snapshot;
#  5. a full spool drops the oldest payloads, logs it and counts it;
#  6. a bearer token from a file reaches the receiver (with PUT, gzip and
#     a configured header) and never the log or the state database;
#  7. a hung endpoint delays neither collection nor the file exporters, and
#     TERM still ends tallyd.
#
# usage: http_delivery_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/http_test_lib.sh"
[ -f "$PLUGIN_DIR/http.so" ] || { fail "http.so is missing from $PLUGIN_DIR; build first"; finish; }
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing: run scripts/deps.sh"; finish; }

# http_conf DIR PORT OPTIONS...: DIR/tallyd.conf with an http exporter to
# 127.0.0.1:PORT/ingest (the state in DIR/state is kept across calls).
http_conf() {
    local dir=$1 port=$2
    shift 2
    write_conf "$dir" UTC 60 '' "http \"push\" { url = \"http://127.0.0.1:$port/ingest\" $* }"
}

# down_runs NAME DIR PORT OPTIONS: three cycles (03:00, 03:01, 03:02) of an
# http exporter to PORT, where nothing listens.
down_runs() {
    local name=$1 dir=$2 port=$3 m
    http_conf "$dir" "$port" "$4"
    for m in 00 01 02; do
        once_ok "$name $m" "$dir" "2026-11-22T03:$m:00Z"
    done
}

# --- 1. retries, one key, Retry-After -------------------------------------
D=$WORK/retries
rx_start retries 0 "503,429:1,close,hang:3,200"
http_conf "$D" "$RX_PORT" 'timeout = 1 retry_wait = 0.05'
once_ok "retries" "$D" 2026-11-22T03:00:00Z
rx_stop
check "retries: 5 requests (503, 429, cut short, hang, 200)" \
    "$(rx "$RX_LOG" '[e["action"] for e in r]')" '["503", "429:1", "close", "hang:3", "200"]'
check "retries: one Idempotency-Key for all of them" \
    "$(rx "$RX_LOG" 'len(set(e["headers"]["idempotency-key"] for e in r))')" 1
check "retries: accepted exactly once" "$(rx "$RX_LOG" 'sum(e["accepted"] for e in r)')" 1
check "retries: the retry after 429 waited the Retry-After second" \
    "$(rx "$RX_LOG" 'r[2]["t"] - r[1]["t"] >= 1.0')" true
check "retries: nothing left in the spool" "$(spool_count "$D")" 0
if grep -q 'retry 2 of 5 in 1.0 s (the server.s Retry-After)' "$D/agent.log"; then
    pass "retries: the log names the Retry-After wait"
else
    fail "retries: the log names the Retry-After wait" "$(grep retry "$D/agent.log")"
fi

# --- 2. receiver down across restarts, then back ----------------------------
D=$WORK/down
PORT=$(free_port)
down_runs down "$D" "$PORT" 'max_retries = 1 retry_wait = 0.05'
check "down: three payloads wait in the state database" "$(spool_count "$D")" 3
if grep -q "still failing after 1 retries: [0-9]* payload(s)" "$D/agent.log"; then
    pass "down: the log says they wait in the spool"
else
    fail "down: the log says they wait in the spool" "$(tail -n 3 "$D/agent.log")"
fi
# Listening, but no answer ever comes: that run ends with every payload
# still waiting, in line.
rx_start down1 "$PORT" "" --then drop
once_ok "down 03, requests dropped" "$D" 2026-11-22T03:03:00Z
rx_stop
DROPPED=$RX_LOG
check "down: four payloads wait" "$(spool_count "$D")" 4
rx_start down2 "$PORT" ""
once_ok "down 04, receiver answers" "$D" 2026-11-22T03:04:00Z
rx_stop
check "down: every snapshot accepted, in order" \
    "$(rx "$RX_LOG" '[now_of(e) for e in r if e["accepted"]]')" \
    '["2026-11-22T03:00:00Z", "2026-11-22T03:01:00Z", "2026-11-22T03:02:00Z", "2026-11-22T03:03:00Z", "2026-11-22T03:04:00Z"]'
check "down: each accepted exactly once (5 keys, 5 acceptances)" \
    "$(rx "$RX_LOG" '[len(set(e["headers"]["idempotency-key"] for e in r)), sum(e["accepted"] for e in r)]')" \
    '[5, 5]'
first_key=$(rx "$DROPPED" 'r[0]["headers"]["idempotency-key"]')
check "down: a dropped request's key is sent again after the restart" \
    "$(rx "$RX_LOG" '[e["headers"]["idempotency-key"] for e in r][0]')" "$first_key"
check "down: spool empty; 5 delivered, 0 refused, 0 overflowed" "$(spool_count "$D") $(spool_counts "$D")" "0 5 0 0"

# --- 3. a final 400 ----------------------------------------------------------
D=$WORK/final
rx_start final 0 "400"
http_conf "$D" "$RX_PORT" 'retry_wait = 0.05'
once_ok "final" "$D" 2026-11-22T03:00:00Z
check "final: one request, not retried" "$(rx "$RX_LOG" '[e["status"] for e in r]')" '[400]'
check "final: dropped and counted (delivered refused overflowed)" "$(spool_count "$D") $(spool_counts "$D")" "0 0 1 0"
line=$(grep 'refused payload' "$D/agent.log")
if [[ $line == *"HTTP 400: bad payload: tally test receiver refused it;"* && $line != *"second line"* ]]; then
    pass "final: logged with the first line of the answer only"
else
    fail "final: logged with the first line of the answer only" "$line"
fi
once_ok "final, next" "$D" 2026-11-22T03:01:00Z
rx_stop
check "final: the next snapshot is delivered" \
    "$(rx "$RX_LOG" '[now_of(e) for e in r if e["accepted"]]')" '["2026-11-22T03:01:00Z"]'

# --- 4. latest ---------------------------------------------------------------
D=$WORK/latest
PORT=$(free_port)
down_runs latest "$D" "$PORT" 'delivery = "latest" max_retries = 0'
check "latest: one payload waits, not three" "$(spool_count "$D")" 1
rx_start latest "$PORT" ""
once_ok "latest 03" "$D" 2026-11-22T03:03:00Z
rx_stop
check "latest: only the newest is sent" "$(rx "$RX_LOG" '[now_of(e) for e in r]')" '["2026-11-22T03:03:00Z"]'

# --- 5. a full spool -----------------------------------------------------------
D=$WORK/full
PORT=$(free_port)
http_conf "$D" "$PORT" 'max_retries = 0'
once_ok "full, measure" "$D" 2026-11-22T03:00:00Z
size=$(sqlite3 "$D/state/tally.db" "SELECT bytes FROM spool")
# Room for two payloads of this size, not three.
http_conf "$D" "$PORT" "max_retries = 0 spool_max_bytes = $((size * 5 / 2))"
for m in 01 02 03; do
    once_ok "full $m" "$D" "2026-11-22T03:$m:00Z"
done
check "full: two payloads kept" "$(spool_count "$D")" 2
check "full: two overflowed (delivered refused overflowed)" "$(spool_counts "$D")" "0 0 2"
if grep -q "the spool is full (spool_max_bytes = $((size * 5 / 2))): dropped the 1 oldest undelivered payload(s) (2 dropped so far" "$D/agent.log"; then
    pass "full: logged with the count"
else
    fail "full: logged with the count" "$(grep -i spool "$D/agent.log" | tail -n 3)"
fi
# Room again, so the next push cannot overflow what is being sent.
http_conf "$D" "$PORT" 'max_retries = 0'
rx_start full "$PORT" ""
once_ok "full, back" "$D" 2026-11-22T03:04:00Z
rx_stop
check "full: the newest survived, in order" "$(rx "$RX_LOG" '[now_of(e) for e in r]')" \
    '["2026-11-22T03:02:00Z", "2026-11-22T03:03:00Z", "2026-11-22T03:04:00Z"]'

# --- 6. bearer token, PUT, gzip, headers --------------------------------------
D=$WORK/token
mkdir -p "$D"
TOKEN="tok-$$-$RANDOM-never-in-logs"
printf '%s\n' "$TOKEN" >"$D/token"
chmod 600 "$D/token"
rx_start token 0 "503,200"
http_conf "$D" "$RX_PORT" "bearer_token_file = \"$D/token\" method = \"PUT\" compress = \"gzip\"" \
    'headers = {"X-Team: billing"} retry_wait = 0.05'
timeout -s KILL 60 "$TALLYD" -c "$D/tallyd.conf" --once -v --now 2026-11-22T03:00:00Z >>"$D/agent.log" 2>&1
check "token: tallyd -v --once exits 0" "$?" 0
rx_stop
check "token: Authorization: Bearer <the file's token> on every request" \
    "$(rx "$RX_LOG" '[e["headers"].get("authorization") for e in r]')" "[\"Bearer $TOKEN\", \"Bearer $TOKEN\"]"
check "token: PUT, gzip, the configured header, and the body decompresses to the snapshot" \
    "$(rx "$RX_LOG" '[r[1]["method"], r[1]["gzip"], r[1]["headers"]["content-encoding"], r[1]["headers"]["x-team"], now_of(r[1])]')" \
    '["PUT", true, "gzip", "billing", "2026-11-22T03:00:00Z"]'
if grep -q "delivered payload" "$D/agent.log" && ! grep -qF "$TOKEN" "$D/agent.log"; then
    pass "token: not in the debug log (which logged the delivery)"
else
    fail "token: not in the debug log (which logged the delivery)" "$(grep -c -F "$TOKEN" "$D/agent.log") lines with it"
fi
if grep -rqaF "$TOKEN" "$D/state"; then
    fail "token: not in the state database or its WAL"
else
    pass "token: not in the state database or its WAL"
fi

# --- 7. a hung endpoint delays nobody ------------------------------------------
D=$WORK/hang
rx_start hang 0 "" --then "hang:60"
write_conf "$D" UTC 1 '' \
    "http \"push\" { url = \"http://127.0.0.1:$RX_PORT/ingest\" timeout = 3 max_retries = 0 }"
"$TALLYD" -c "$D/tallyd.conf" -f >>"$D/agent.log" 2>&1 &
AGENT=$!
E2E_PIDS+=("$AGENT")
# The Prometheus file is written every cycle, and its generated timestamp
# is the wall clock (summary.json is rewritten only when more than its
# times changed).
seen() {
    local g
    g=$(grep '^tally_snapshot_generated_timestamp_seconds ' "$D/tally.prom" 2>/dev/null) || return 1
    grep -qxF -- "$g" "$D/generations" 2>/dev/null || echo "$g" >>"$D/generations"
    [ "$(wc -l <"$D/generations")" -ge 4 ] && [ -s "$RX_LOG" ]
}
if wait_for 60 seen; then
    pass "hang: the file exporter wrote 4 cycles while the endpoint hung"
else
    fail "hang: the file exporter wrote 4 cycles while the endpoint hung" \
        "$(cat "$D/generations" 2>/dev/null | wc -l) cycles, $(wc -l <"$RX_LOG" 2>/dev/null) requests"
fi
kill -TERM "$AGENT"
wait_pid "$AGENT" 60
check "hang: TERM ends tallyd with status 0" "$WAIT_STATUS" 0
rx_stop
check "hang: the endpoint got requests and accepted none" \
    "$(rx "$RX_LOG" '[len(r) > 0, sum(e["accepted"] for e in r)]')" '[true, 0]'
finish
