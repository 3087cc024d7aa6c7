#!/usr/bin/env bash
# http_changes_test.sh — what tallyd's http exporter sends of the daily
# counter totals (a list that grows with the days kept), against the test
# receiver (http_receiver.py) on 127.0.0.1:
#  1. with the receiver down over several days, a tallyd killed right
#     after a cycle committed (before any exporter saw it) and restarts
#     between every cycle, then the receiver back: every payload is
#     accepted once, in order, each total arrives exactly once, and each
#     payload's X-Tally-Changed-After is the X-Tally-Seq of the one
#     before; the instance's mark in the state is the last payload's;
#  2. delivery = "latest" lists every total in the payload it keeps;
#  3. tallyd -t refuses history = "changed" with delivery = "latest".
#
# usage: http_changes_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/http_test_lib.sh"
[ -f "$PLUGIN_DIR/http.so" ] || { fail "http.so is missing from $PLUGIN_DIR; build first"; finish; }
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing: run scripts/deps.sh"; finish; }

DAILY=n.today

# changes_conf DIR PORT OPTIONS: a daily counter and an http exporter to
# 127.0.0.1:PORT (the state in DIR/state is kept across calls).
changes_conf() {
    write_conf "$1" UTC 60 "\"$DAILY\"" \
        "http \"push\" { url = \"http://127.0.0.1:$2/ingest\" retry_wait = 0.05 $3 }"
}

# add DIR N: N more on the daily counter.
add() {
    app "$1" 1 "$2" 0 "$DAILY=1" >>"$1/app.log" 2>&1 || fail "e2e_app: could not add $2" "$(tail -n 3 "$1/app.log")"
}

# --- 1. down, a crash after commit, restarts, then back ----------------------------
D=$WORK/changes
PORT=$(free_port)
changes_conf "$D" "$PORT" 'max_retries = 0'
add "$D" 10
once_ok "day 1" "$D" 2026-11-20T10:00:00Z
add "$D" 20
once_ok "day 2: 2026-11-20 closes with 30" "$D" 2026-11-21T00:00:10Z
add "$D" 5
# 2026-11-21 closes with 5 in a cycle that commits, and tallyd dies before
# any exporter has its snapshot.
once "$D" 2026-11-22T00:00:10Z after-commit
check "crash: tallyd killed after the commit (exit 99)" "$ONCE_STATUS" 99
add "$D" 7
once_ok "day 4: 2026-11-22 closes with 7" "$D" 2026-11-23T00:00:10Z
check "down: three payloads wait in the spool" "$(spool_count "$D")" 3
rx_start changes "$PORT" ""
once_ok "back" "$D" 2026-11-23T01:00:00Z
rx_stop
check "back: four payloads, each accepted once, in order" \
    "$(rx "$RX_LOG" '[[now_of(e), e["accepted"]] for e in r]')" \
    '[["2026-11-20T10:00:00Z", true], ["2026-11-21T00:00:10Z", true], ["2026-11-23T00:00:10Z", true], ["2026-11-23T01:00:00Z", true]]'
check "back: every daily total arrives exactly once, the crashed cycle's included" \
    "$(rx "$RX_LOG" '["%s %s %d" % (c["date"], c["name"], c["value"]) for e in r for c in json.loads(e["body"])["counter_days"]]')" \
    '["2026-11-20 n.today 30", "2026-11-21 n.today 5", "2026-11-22 n.today 7"]'
check "back: each payload starts where the one before ended (X-Tally-Changed-After, X-Tally-Seq)" \
    "$(rx "$RX_LOG" '[int(e["headers"]["x-tally-changed-after"]) for e in r] == [0] + [int(e["headers"]["x-tally-seq"]) for e in r][:-1]')" \
    true
check "back: one state, seqs that only grow" \
    "$(rx "$RX_LOG" '[len(set(e["headers"]["x-tally-state"] for e in r)), sorted(set(int(e["headers"]["x-tally-seq"]) for e in r)) == [int(e["headers"]["x-tally-seq"]) for e in r]]')" \
    '[1, true]'
check "back: the instance's mark is the last payload's state and seq" \
    "$(sqlite3 "$D/state/tally.db" "SELECT value FROM export_marks WHERE instance = 'http.push' AND name = 'spooled'")" \
    "$(rx "$RX_LOG" 'r[-1]["headers"]["x-tally-state"] + ":" + r[-1]["headers"]["x-tally-seq"]' | tr -d '"')"
check "back: spool empty; 4 delivered, 0 refused, 0 overflowed" "$(spool_count "$D") $(spool_counts "$D")" "0 4 0 0"
if grep -q "the last payload spooled was of seq" "$D/agent.log"; then
    pass "crash: the payload after it was read from the state's history"
else
    fail "crash: the payload after it was read from the state's history" "$(grep -i payload "$D/agent.log" | tail -n 3)"
fi

# --- 2. latest: the payload kept lists every total ---------------------------------
changes_conf "$D" "$PORT" 'delivery = "latest"'
rx_start latest "$PORT" ""
once_ok "latest" "$D" 2026-11-23T02:00:00Z
rx_stop
check "latest: every listed total, from the start (X-Tally-Changed-After: 0)" \
    "$(rx "$RX_LOG" '[[e["headers"]["x-tally-changed-after"], len(json.loads(e["body"])["counter_days"])] for e in r]')" \
    '[["0", 3]]'

# --- 3. tallyd -t refuses changes with latest --------------------------------------
changes_conf "$D" "$PORT" 'delivery = "latest" history = "changed"'
out=$("$TALLYD" -t -c "$D/tallyd.conf" 2>&1)
status=$?
if [ "$status" -ne 0 ] && [[ $out == *"in http \"push\": option 'history' = \"changed\" cannot go with delivery = \"latest\""* ]]; then
    pass "check: tallyd -t refuses history = changed with delivery = latest, naming both"
else
    fail "check: tallyd -t refuses history = changed with delivery = latest, naming both" "exit $status: $out"
fi
finish
