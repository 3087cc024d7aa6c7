#!/usr/bin/env bash
# e2e_rollover_test.sh — daily counters across business-day midnights,
# with --now, against a real region fed by real processes:
#  - Asia/Shanghai: local midnight 2026-11-23 is 2026-11-22T16:00:00Z; the
#    instant of midnight belongs to the new day; a second cycle the same
#    day does not count twice; non-daily counters are never touched;
#  - America/New_York: the 25-hour day 2026-11-01 and the 23-hour day
#    2026-03-08 (boundaries checked against zdump first); --now with a
#    fraction of a second keeps it, in the day and in the snapshot's now;
#  - the agent down over two midnights: the value goes to the last day
#    that ended, once.
#
# usage: e2e_rollover_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"

DAILY=api.requests.today
# Also a prefix entry, so both ways of naming daily counters are covered.
DAILY_CONF='"api.requests.today", "daily.*"'

# days_of DIR NAME: "date value" of NAME's counter_days rows, one per line.
days_of() {
    python3 - "$1/summary.json" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(f'{r["date"]}={r["value"]}' for r in d["counter_days"] if r["name"] == sys.argv[2]))
EOF
}
cutoff() { jq_py "$1/summary.json" "d['summary']['cutoff_date']"; }

# --- zdump: the boundaries this test relies on -------------------------------
if command -v zdump >/dev/null; then
    z=$(zdump -v -c 2026,2027 America/New_York)
    check "zdump: New York leaves DST 2026-11-01 06:00 UT (01:59:59 EDT -> 01:00:00 EST)" \
        "$(grep -c 'Sun Nov  1 06:00:00 2026 UT = Sun Nov  1 01:00:00 2026 EST' <<<"$z")" 1
    check "zdump: New York enters DST 2026-03-08 07:00 UT (01:59:59 EST -> 03:00:00 EDT)" \
        "$(grep -c 'Sun Mar  8 07:00:00 2026 UT = Sun Mar  8 03:00:00 2026 EDT' <<<"$z")" 1
    check "zdump: Shanghai has no transition in 2026" \
        "$(zdump -v -c 2026,2027 Asia/Shanghai | grep -c 2026)" 0
else
    fail "zdump: not installed (libc-bin)"
fi
# The UTC instants of the local midnights, from the tz database itself.
mid() { TZ=$1 date -u -d "TZ=\"$1\" $2 00:00:00" +%Y-%m-%dT%H:%M:%SZ; }
check "tz: Shanghai midnight of 2026-11-23" "$(mid Asia/Shanghai 2026-11-23)" 2026-11-22T16:00:00Z
check "tz: New York midnight of 2026-11-01 (EDT)" "$(mid America/New_York 2026-11-01)" 2026-11-01T04:00:00Z
check "tz: New York midnight of 2026-11-02 (EST): a 25-hour day" \
    "$(mid America/New_York 2026-11-02)" 2026-11-02T05:00:00Z
check "tz: New York midnight of 2026-03-08 (EST)" "$(mid America/New_York 2026-03-08)" 2026-03-08T05:00:00Z
check "tz: New York midnight of 2026-03-09 (EDT): a 23-hour day" \
    "$(mid America/New_York 2026-03-09)" 2026-03-09T04:00:00Z

# --- Shanghai: exactly at midnight ------------------------------------------
D=$WORK/shanghai
mkdir -p "$D"
write_conf "$D" Asia/Shanghai 60 "$DAILY_CONF"
app "$D" 4 1000 0 $DAILY=1 daily.bytes=10 api.requests.total=1 >"$D/app.log" 2>&1
once_ok "shanghai" "$D" 2026-11-22T10:00:00Z
app "$D" 3 500 0 $DAILY=1 daily.bytes=10 api.requests.total=1 >>"$D/app.log" 2>&1
once_ok "shanghai" "$D" 2026-11-22T15:59:59Z
check "shanghai 15:59:59Z (23:59:59 local): no rollover yet" "$(days_of "$D" $DAILY)" ""
check "shanghai 15:59:59Z: live daily counter keeps counting" "$(counter "$D" $DAILY)" 5500
check "shanghai 15:59:59Z: cutoff is the start of 2026-11-22" "$(cutoff "$D")" '"2026-11-21T16:00:00Z"'
app "$D" 2 250 0 $DAILY=1 daily.bytes=10 api.requests.total=1 >>"$D/app.log" 2>&1
once_ok "shanghai" "$D" 2026-11-22T16:00:00Z
check "shanghai 16:00:00Z (midnight): 2026-11-22 credited with the exact total" \
    "$(days_of "$D" $DAILY)" "2026-11-22=6000"
check "shanghai 16:00:00Z: prefix daily counter credited too" "$(days_of "$D" daily.bytes)" "2026-11-22=60000"
check "shanghai 16:00:00Z: live daily counter is 0 in the file" "$(counter "$D" $DAILY)" 0
check "shanghai 16:00:00Z: live daily counter is 0 in the region" "$(region_get "$D" $DAILY)" 0
check "shanghai 16:00:00Z: non-daily counter untouched" "$(counter "$D" api.requests.total)" 6000
check "shanghai 16:00:00Z: midnight belongs to the new day (cutoff)" "$(cutoff "$D")" '"2026-11-22T16:00:00Z"'
check "shanghai: prometheus shows the live daily counter at 0" \
    "$(grep -cxF "tally_region_value{name=\"$DAILY\"} 0" "$D/tally.prom")" 1
app "$D" 2 100 0 $DAILY=1 api.requests.total=1 >>"$D/app.log" 2>&1
once_ok "shanghai" "$D" 2026-11-22T16:00:00Z
check "shanghai: the same instant again does not count twice" "$(days_of "$D" $DAILY)" "2026-11-22=6000"
check "shanghai: ... and the new adds stay live" "$(counter "$D" $DAILY)" 200
once_ok "shanghai" "$D" 2026-11-23T15:59:59Z
check "shanghai: later the same day, still once" "$(days_of "$D" $DAILY)" "2026-11-22=6000"
check "shanghai: non-daily counter still untouched" "$(counter "$D" api.requests.total)" 6200
check "shanghai: the state agrees with the file" "$(db_days "$D" | grep " $DAILY ")" "2026-11-22 $DAILY 6000"
once_ok "shanghai" "$D" 2026-11-23T16:00:00Z
check "shanghai: next midnight credits 2026-11-23 with what came after" \
    "$(days_of "$D" $DAILY)" "2026-11-22=6000 2026-11-23=200"
check "shanghai: a daily counter nobody added to that day gets a 0 row" \
    "$(days_of "$D" daily.bytes)" "2026-11-22=60000 2026-11-23=0"
check "shanghai: nothing left moved but unaccounted" "$(unaccounted "$D" $DAILY)" 0

# --- New York, the 25-hour day 2026-11-01 --------------------------------------
D=$WORK/ny25
mkdir -p "$D"
# The single summary.json is rewritten only when more than its times
# changed; the split layout's current.json is written every cycle, so it
# shows each snapshot's now.
write_conf "$D" America/New_York 60 "$DAILY_CONF" \
    "file \"current\" { path = \"$D/split\" format = \"json\" layout = \"split\" }"
app "$D" 2 100 0 $DAILY=1 >"$D/app.log" 2>&1
once_ok "ny25" "$D" 2026-11-01T03:59:59Z
check "ny25 03:59:59Z: still 2026-10-31" "$(cutoff "$D")" '"2026-10-31T04:00:00Z"'
once_ok "ny25" "$D" 2026-11-01T04:00:00Z
check "ny25 04:00:00Z (midnight EDT): 2026-10-31 credited" "$(days_of "$D" $DAILY)" "2026-10-31=200"
check "ny25 04:00:00Z: the day starts at local midnight" "$(cutoff "$D")" '"2026-11-01T04:00:00Z"'
app "$D" 3 1000 0 $DAILY=1 >>"$D/app.log" 2>&1
# 05:30Z and 06:30Z are both 01:30 local: the repeated hour, the same day.
once_ok "ny25" "$D" 2026-11-01T05:30:00Z
app "$D" 1 1000 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "ny25" "$D" 2026-11-01T06:30:00Z
check "ny25 both copies of 01:30: no rollover" "$(days_of "$D" $DAILY)" "2026-10-31=200"
app "$D" 1 777 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "ny25" "$D" 2026-11-02T04:30:00Z
check "ny25 2026-11-02T04:30:00Z (23:30 EST, hour 25): no rollover" "$(days_of "$D" $DAILY)" "2026-10-31=200"
check "ny25 04:30Z: live value" "$(counter "$D" $DAILY)" 4777
check "ny25 04:30Z: today is still Nov 1, begun at 04:00Z" "$(cutoff "$D")" '"2026-11-01T04:00:00Z"'
once_ok "ny25" "$D" 2026-11-02T04:59:59Z
check "ny25 04:59:59Z: still no rollover" "$(days_of "$D" $DAILY)" "2026-10-31=200"
check "ny25 04:59:59Z: today still began at 04:00Z on Nov 1" "$(cutoff "$D")" '"2026-11-01T04:00:00Z"'
# --now keeps its fraction: the last millisecond of the 25-hour day is
# still that day, and the snapshot says the instant given, not 04:59:59.
once_ok "ny25" "$D" 2026-11-02T04:59:59.999Z
check "ny25 04:59:59.999Z: the snapshot's now keeps the fraction" \
    "$(jq_py "$D/split/current.json" "d['now']")" '"2026-11-02T04:59:59.999Z"'
check "ny25 04:59:59.999Z: still no rollover" "$(days_of "$D" $DAILY)" "2026-10-31=200"
once_ok "ny25" "$D" 2026-11-02T00:59:59.5-04:00
check "ny25 00:59:59.5-04:00: an offset and a half second, the same way" \
    "$(jq_py "$D/split/current.json" "d['now']")" '"2026-11-02T04:59:59.5Z"'
once_ok "ny25" "$D" 2026-11-02T05:00:00Z
check "ny25 2026-11-02T05:00:00Z (midnight EST): 2026-11-01 credited, all 25 hours" \
    "$(days_of "$D" $DAILY)" "2026-10-31=200 2026-11-01=4777"
check "ny25 05:00Z: live 0" "$(counter "$D" $DAILY)" 0
check "ny25 05:00Z: the next day starts at 05:00Z" "$(cutoff "$D")" '"2026-11-02T05:00:00Z"'

# --- New York, the 23-hour day 2026-03-08 --------------------------------------
D=$WORK/ny23
mkdir -p "$D"
write_conf "$D" America/New_York 60 "$DAILY_CONF"
app "$D" 1 11 0 $DAILY=1 >"$D/app.log" 2>&1
once_ok "ny23" "$D" 2026-03-08T04:59:59Z
once_ok "ny23" "$D" 2026-03-08T05:00:00Z
check "ny23 05:00:00Z (midnight EST): 2026-03-07 credited" "$(days_of "$D" $DAILY)" "2026-03-07=11"
app "$D" 2 1500 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "ny23" "$D" 2026-03-09T03:59:59Z
check "ny23 2026-03-09T03:59:59Z (23:59:59 EDT): no rollover" "$(days_of "$D" $DAILY)" "2026-03-07=11"
# 04:30Z would be 00:30 on a 24-hour day's clock, but is already Mar 9 here.
app "$D" 1 9 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "ny23" "$D" 2026-03-09T04:00:00Z
check "ny23 2026-03-09T04:00:00Z (midnight EDT, 23 hours later): 2026-03-08 credited" \
    "$(days_of "$D" $DAILY)" "2026-03-07=11 2026-03-08=3009"
check "ny23: the next day starts at 04:00Z" "$(cutoff "$D")" '"2026-03-09T04:00:00Z"'

# --- down over two midnights --------------------------------------------------
D=$WORK/down
mkdir -p "$D"
write_conf "$D" Asia/Shanghai 60 "$DAILY_CONF"
once_ok "down" "$D" 2026-11-22T10:00:00Z
app "$D" 4 1000 0 $DAILY=1 api.requests.total=1 >"$D/app.log" 2>&1
# Down from 2026-11-22 18:00 local to 2026-11-24 20:00 local: the days
# 2026-11-22 and 2026-11-23 ended meanwhile.
once_ok "down" "$D" 2026-11-24T12:00:00Z
check "down over two midnights: the value goes to the last day that ended" \
    "$(days_of "$D" $DAILY | tr ' ' '\n' | grep -v '=0$' | tr '\n' ' ')" "2026-11-23=4000 "
check "down over two midnights: credited once in all" "$(day_sum "$D" $DAILY)" 4000
check "down: live 0" "$(counter "$D" $DAILY)" 0
check "down: non-daily untouched" "$(counter "$D" api.requests.total)" 4000
once_ok "down" "$D" 2026-11-24T13:00:00Z
check "down: the next cycle does not credit it again" "$(day_sum "$D" $DAILY)" 4000
app "$D" 1 5 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "down" "$D" 2026-11-24T16:00:00Z
check "down: the next midnight credits only what came after" \
    "$(days_of "$D" $DAILY | tr ' ' '\n' | grep -v '=0$' | tr '\n' ' ')" "2026-11-23=4000 2026-11-24=5 "
check "down: nothing left moved but unaccounted" "$(unaccounted "$D" $DAILY)" 0
finish
