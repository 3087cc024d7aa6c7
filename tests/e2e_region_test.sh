#!/usr/bin/env bash
# e2e_region_test.sh — the region under the agent is not always the one it
# read before, and is not always roomy:
#  - recreated between rollovers (a reboot empties /dev/shm; the reproduction
#    of issue 11 item 1): the new region's counters count from zero, so
#    2026-11-02 is 3, never 10 - 10 + 3 - 10 = -7;
#  - recreated with the agent down across two midnights;
#  - recreated while a state from before region identities is kept;
#  - removed and recreated while `tallyd -f` runs: the agent notices, says
#    so naming the path, reads the new region, carries the old one's daily
#    counts into it, and credits the day rightly;
#  - full, the daily counter included: the companion counter has no slot,
#    yet every day is credited, once.
#
# usage: e2e_region_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
command -v sqlite3 >/dev/null || { fail "sqlite3: not installed (run scripts/deps.sh)"; finish; }

# days_of DIR NAME: "date=value" of NAME's counter_days, space separated.
days_of() {
    python3 - "$1/summary.json" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(f'{r["date"]}={r["value"]}' for r in d["counter_days"] if r["name"] == sys.argv[2]))
EOF
}
add() { "$TALLY" --region "$1/region" add "$2" "$3"; }
# no_negative_day NAME DIR: not one day in DIR's state is below zero.
no_negative_day() {
    check "$1: no day is negative in the state" \
        "$(sqlite3 "$2/state/tally.db" "SELECT COUNT(*) FROM counter_days WHERE value < 0")" 0
}
# day_one_credited NAME DIR DAILY_LIST [INTERVAL]: DIR's region had d.x = 10
# on 2026-11-01 (UTC), and a rollover credited it: the state holds a mark.
day_one_credited() {
    write_conf "$2" UTC "${4:-60}" "$3"
    add "$2" d.x 10
    once_ok "$1" "$2" 2026-11-01T12:00:00Z
    once_ok "$1" "$2" 2026-11-02T12:00:00Z
    check "$1: 2026-11-01 credited before the region goes" "$(days_of "$2" d.x)" "2026-11-01=10"
}
# recreate DIR N: the region removed, and a new one made with d.x = N.
recreate() {
    rm -f "$1/region"
    add "$1" d.x "$2"
}
# days_after NAME DIR NOW WANT WHY: a cycle at NOW leaves d.x's days as
# WANT, and no day negative.
days_after() {
    once_ok "$1" "$2" "$3"
    check "$1: $5" "$(days_of "$2" d.x)" "$4"
    no_negative_day "$1" "$2"
}

# --- the reproduction: recreated between two rollovers (a reboot) -----------
D=$WORK/reboot
day_one_credited reboot "$D" '"d.x"'
recreate "$D" 3
days_after reboot "$D" 2026-11-03T12:00:00Z "2026-11-01=10 2026-11-02=3" \
    "the new region's 3 is 2026-11-02's total, not 3 - 10 = -7"
once_ok reboot "$D" 2026-11-03T13:00:00Z
add "$D" d.x 4
days_after reboot "$D" 2026-11-04T12:00:00Z "2026-11-01=10 2026-11-02=3 2026-11-03=4" \
    "the day after counts from the new region's own mark"

# --- recreated with the agent down across two midnights ----------------------
D=$WORK/down
day_one_credited down "$D" '"d.*"'
recreate "$D" 3
days_after down "$D" 2026-11-04T12:00:00Z "2026-11-01=10 2026-11-03=3" \
    "the last day that ended gets the new region's 3, the other nothing"

# --- a state kept from before region identities ------------------------------
# The marks of that state name no region: one that is larger than its
# companion cannot be this region's (companions only grow).
D=$WORK/legacy
day_one_credited legacy "$D" '"d.x"'
sqlite3 "$D/state/tally.db" "DELETE FROM plugin_state WHERE key LIKE 'region.%'"
add "$D" d.x 5
days_after legacy "$D" 2026-11-03T12:00:00Z "2026-11-01=10 2026-11-02=5" \
    "a state from before identities, the same region: the mark still holds"
sqlite3 "$D/state/tally.db" "DELETE FROM plugin_state WHERE key LIKE 'region.%'"
recreate "$D" 3
days_after legacy "$D" 2026-11-04T12:00:00Z "2026-11-01=10 2026-11-02=5 2026-11-03=3" \
    "a state from before identities, a new region: counted from zero"
check "legacy: the agent said why it counted from zero" \
    "$(grep -c "region '$D/region' holds 3, less than the 15 already credited" "$D/agent.log")" 1

# --- removed and recreated while tallyd -f runs --------------------------------
# The clock starts 20 s before midnight (UTC) and runs in real time, so the
# replacement happens, and is seen, before the rollover that must count it.
D=$WORK/running
day_one_credited running "$D" '"d.x"' 1
add "$D" live.x 1
rm -f "$D/summary.json"
"$TALLYD" -f -c "$D/tallyd.conf" --now 2026-11-02T23:59:40Z >>"$D/agent.log" 2>&1 &
AGENT=$!
E2E_PIDS+=("$AGENT")
exported() { [ "$(counter "$D" "$1")" == "$2" ]; }
wait_for 30 exported live.x 1 || fail "running: the agent exported the first region's live.x"
add "$D" d.x 2 # counted today in the region about to go
recreate "$D" 3
add "$D" live.y 7
if wait_for 30 exported live.y 7; then
    pass "running: the agent reads the recreated region"
else
    fail "running: the agent still exports the removed region" "$(tail -n 5 "$D/agent.log")"
fi
check "running: the removed region's counters are gone from the snapshot" "$(counter "$D" live.x)" null
check "running: the replacement is logged as a warning naming the path" \
    "$(grep -c "warning: .*region '$D/region' was removed or replaced" "$D/agent.log")" 1
has_day() { [ -n "$(days_of "$D" d.x | grep -o '2026-11-02=[-0-9]*')" ]; }
wait_for 60 has_day || fail "running: the midnight rollover was exported within 60 s"
check "running: 2026-11-02 is the old region's 2, carried over, and the new one's 3" \
    "$(days_of "$D" d.x)" "2026-11-01=10 2026-11-02=5"
kill -TERM "$AGENT" 2>/dev/null
wait_pid "$AGENT" 30
check "running: the agent stops cleanly on TERM" "$WAIT_STATUS" 0
no_negative_day running "$D"

# --- a full region ------------------------------------------------------------
D=$WORK/full
write_conf "$D" UTC 60 '"d.x", "d.none", "p.*"'
"$TALLY" --region "$D/region" --capacity 4 add d.x 5
add "$D" p.a 2
add "$D" other.a 1
add "$D" other.b 1
check "full: the region is full (4 of 4)" \
    "$("$TALLY" --region "$D/region" --json list | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["used"], d["capacity"])')" "4 4"
once_ok full "$D" 2026-11-01T12:00:00Z
once_ok full "$D" 2026-11-02T12:00:00Z
check "full: 2026-11-01 credited though no companion fits" "$(days_of "$D" d.x)" "2026-11-01=5"
check "full: prefix daily counter credited too" "$(days_of "$D" p.a)" "2026-11-01=2"
check "full: a daily counter the full region cannot hold gets its 0 row" \
    "$(days_of "$D" d.none)" "2026-11-01=0"
check "full: the agent warned that it rolls d.x over in place" \
    "$(grep -c "warning: .*daily counter 'd.x'.*region '$D/region' is full" "$D/agent.log")" 1
add "$D" d.x 2
once_ok full "$D" 2026-11-02T13:00:00Z
check "full: without a companion the live counter runs on" "$(counter "$D" d.x)" 7
once_ok full "$D" 2026-11-03T12:00:00Z
check "full: 2026-11-02 gets what came after, once" "$(days_of "$D" d.x)" "2026-11-01=5 2026-11-02=2"
once_ok full "$D" 2026-11-05T12:00:00Z
check "full: across a stop over two midnights, the last day that ended gets its 0" \
    "$(days_of "$D" d.x)" "2026-11-01=5 2026-11-02=2 2026-11-04=0"
no_negative_day full "$D"
finish
