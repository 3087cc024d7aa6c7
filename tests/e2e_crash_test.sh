#!/usr/bin/env bash
# e2e_crash_test.sh — crash safety of the daily rollover, with the agent's
# own fault points (TALLYD_FAULT=before-commit|after-commit: _exit(99)
# there):
#  - before-commit at midnight: the counter is zeroed and its value moved
#    to the companion, nothing committed; the next clean cycle credits the
#    day exactly once with the full value;
#  - after-commit: the next cycle does not roll again;
#  - many rounds of random faults at instants crossing several midnights
#    while applications keep adding: after every round, and at the end,
#    what the days were credited + the live value + what was moved but not
#    yet accounted is exactly what the applications added.
#
# usage: e2e_crash_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
# E2E_SEED=N replays a run of the random rounds; E2E_ROUNDS=N (>= 20) sets how many.
set -u
source "$(dirname "$0")/e2e_lib.sh"
command -v sqlite3 >/dev/null || { fail "sqlite3: not installed (run scripts/deps.sh)"; finish; }

DAILY=api.requests.today
DAILY_CONF='"api.requests.today", "daily.*"'

# expect_exit NAME STATUS: the last once's exit status.
expect_exit() {
    check "$1: exit status" "$ONCE_STATUS" "$2"
}

# --- before-commit, then a clean run ------------------------------------------
D=$WORK/faults
mkdir -p "$D"
# The single summary.json is rewritten only when more than its times
# changed; the split layout's current.json is written every cycle, so its
# now tells whether a cycle exported.
write_conf "$D" Asia/Shanghai 60 "$DAILY_CONF" \
    "file \"current\" { path = \"$D/split\" format = \"json\" layout = \"split\" }"
once_ok "faults" "$D" 2026-11-22T10:00:00Z
app "$D" 3 1000 0 $DAILY=1 api.requests.total=1 >"$D/app.log" 2>&1
once "$D" 2026-11-22T16:00:00Z before-commit
expect_exit "before-commit at midnight" 99
check "before-commit: the live counter was zeroed" "$(region_get "$D" $DAILY)" 0
check "before-commit: its value was moved to the companion" "$(region_get "$D" tally.moved.$DAILY)" 3000
check "before-commit: nothing committed (no day in the state)" "$(db_days "$D")" ""
check "before-commit: nothing accounted in the state" "$(moved_mark "$D" $DAILY)" 0
check "before-commit: no export (the file is the previous cycle's)" \
    "$(jq_py "$D/summary.json" "[d['now'], d['counter_days']]")" '["2026-11-22T10:00:00Z", []]'
once_ok "faults" "$D" 2026-11-22T16:00:00Z
check "after before-commit, a clean run credits the day once with the full value" \
    "$(days "$D" | grep " $DAILY ")" "2026-11-22 $DAILY 3000"
check "... the live counter is 0" "$(counter "$D" $DAILY)" 0
check "... nothing moved is left unaccounted" "$(unaccounted "$D" $DAILY)" 0
check "... the non-daily counter is untouched" "$(counter "$D" api.requests.total)" 3000
once_ok "faults" "$D" 2026-11-22T16:00:01Z
check "... and a further clean run does not credit it again" "$(day_sum "$D" $DAILY)" 3000

# --- after-commit, then a clean run ------------------------------------------
app "$D" 1 700 0 $DAILY=1 >>"$D/app.log" 2>&1
once "$D" 2026-11-23T16:00:00Z after-commit
expect_exit "after-commit at midnight" 99
check "after-commit: the day is committed in the state" "$(db_days "$D" | grep " $DAILY ")" \
    "2026-11-22 $DAILY 3000
2026-11-23 $DAILY 700"
check "after-commit: no export happened" "$(jq_py "$D/split/current.json" "d['now']")" \
    '"2026-11-22T16:00:01Z"'
app "$D" 1 40 0 $DAILY=1 >>"$D/app.log" 2>&1
once_ok "faults" "$D" 2026-11-23T16:00:01Z
check "after after-commit, the next run does not roll again" "$(days "$D" | grep " $DAILY ")" \
    "2026-11-22 $DAILY 3000
2026-11-23 $DAILY 700"
check "... what came after stays live" "$(counter "$D" $DAILY)" 40
check "... nothing moved is left unaccounted" "$(unaccounted "$D" $DAILY)" 0

# --- before-commit twice in a row -------------------------------------------
app "$D" 1 11 0 $DAILY=1 >>"$D/app.log" 2>&1
once "$D" 2026-11-24T16:00:00Z before-commit
s1=$ONCE_STATUS
once "$D" 2026-11-24T16:00:02Z before-commit
check "before-commit twice: both exit 99" "$s1 $ONCE_STATUS" "99 99"
check "before-commit twice: the companion holds the value once" \
    "$(unaccounted "$D" $DAILY)" 51
once_ok "faults" "$D" 2026-11-24T16:00:03Z
check "before-commit twice, then clean: 2026-11-24 credited once" \
    "$(days "$D" | grep " $DAILY " | tail -n 1)" "2026-11-24 $DAILY 51"
check "... all the days add up to everything added" \
    "$(($(day_sum "$D" $DAILY) + $(counter "$D" $DAILY)))" $((3000 + 700 + 40 + 11))

# --- random faults across midnights while applications add -------------------
SEED=${E2E_SEED:-$RANDOM$RANDOM}
ROUNDS=${E2E_ROUNDS:-30}
[ "$ROUNDS" -ge 20 ] || ROUNDS=20
echo "random rounds: E2E_SEED=$SEED E2E_ROUNDS=$ROUNDS"
R=$WORK/rounds
mkdir -p "$R"
write_conf "$R" Asia/Shanghai 60 "$DAILY_CONF"
# The plan: ROUNDS lines "instant fault", from a seeded generator. The
# faults are balanced (a third each) and shuffled; instants either jump to
# the next local midnight exactly (at least every 6th round), move on by up
# to 10 hours, or repeat.
python3 - "$SEED" "$ROUNDS" >"$R/plan" <<'EOF'
import random, sys, datetime as dt
rng = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
faults = (["none", "before-commit", "after-commit"] * n)[:n]
rng.shuffle(faults)
t = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.timezone.utc)
for i, f in enumerate(faults):
    k = 0 if i % 6 == 5 else rng.randrange(3)  # a midnight at least every 6 rounds
    if k == 0:  # the next Shanghai midnight (16:00Z) exactly
        nxt = t.replace(hour=16, minute=0, second=0)
        t = nxt if nxt > t else nxt + dt.timedelta(days=1)
    elif k == 1:
        t += dt.timedelta(seconds=rng.randrange(1, 36000))
    print(t.strftime("%Y-%m-%dT%H:%M:%SZ"), f)
EOF
local_date() { TZ=Asia/Shanghai date -d "$1" +%F; }

added_daily=0 added_bytes=0 added_total=0
last_day="" expected_dates=() bad_status=0 seen_bc=0 seen_ac=0 round=0
while read -r now fault; do
    round=$((round + 1))
    # An application adds while the agent runs (and crashes).
    "$APP" "$R/region" 2 200 500 $DAILY=1 daily.bytes=7 api.requests.total=1 >>"$R/app.log" 2>&1 &
    apid=$!
    if [ "$fault" = none ]; then once "$R" "$now"; else once "$R" "$now" "$fault"; fi
    st=$ONCE_STATUS
    wait_pid $apid 300
    [ "$WAIT_STATUS" -eq 0 ] || fail "round $round: the application failed (status $WAIT_STATUS)"
    added_daily=$((added_daily + 400)) added_bytes=$((added_bytes + 2800)) added_total=$((added_total + 400))
    want_st=0
    [ "$fault" != none ] && want_st=99
    [ "$fault" = before-commit ] && seen_bc=$((seen_bc + 1))
    [ "$fault" = after-commit ] && seen_ac=$((seen_ac + 1))
    [ "$st" -eq "$want_st" ] || { bad_status=$((bad_status + 1)); echo "round $round: $now $fault exited $st (want $want_st)"; }
    # Which days a committed cycle credits: the day before today, when
    # today is later than the last committed day.
    if [ "$fault" != before-commit ]; then
        today=$(local_date "$now")
        if [ -n "$last_day" ] && [[ $today > $last_day ]]; then
            expected_dates+=("$(date -d "$today -1 day" +%F)")
        fi
        last_day=$today
    fi
    # Nothing lost, nothing doubled, right after the crash: straight from
    # the state database and the region.
    for pair in "$DAILY:$added_daily" "daily.bytes:$added_bytes"; do
        n=${pair%%:*} want=${pair#*:}
        credited=$(sqlite3 "$R/state/tally.db" "SELECT COALESCE(SUM(value), 0) FROM counter_days WHERE name = '$n'")
        live=$(region_get "$R" "$n")
        left=$(unaccounted "$R" "$n")
        check "round $round ($now, fault $fault): $n: days $credited + live $live + moved $left = added" \
            $((credited + live + left)) "$want"
    done
done <"$R/plan"
check "random rounds: every run exited as its fault says (99 at a fault, else 0)" "$bad_status" 0
check "random rounds: before-commit and after-commit faults each hit at least 6 times" \
    "$((seen_bc >= 6 && seen_ac >= 6))" 1
check "random rounds: the instants crossed at least 3 midnights" "$((${#expected_dates[@]} >= 3))" 1

# A final clean cycle settles whatever the last crash left moved.
final=$(tail -n 1 "$R/plan" | cut -d' ' -f1)
final=$(date -u -d "$final + 1 second" +%Y-%m-%dT%H:%M:%SZ)
once_ok "final" "$R" "$final"
today=$(local_date "$final")
if [ -n "$last_day" ] && [[ $today > $last_day ]]; then
    expected_dates+=("$(date -d "$today -1 day" +%F)")
fi
for pair in "$DAILY:$added_daily" "daily.bytes:$added_bytes"; do
    n=${pair%%:*} want=${pair#*:}
    check "final: $n: moved but unaccounted is 0" "$(unaccounted "$R" "$n")" 0
    check "final: $n: sum(counter_days) + live = $want added" \
        "$(($(day_sum "$R" "$n") + $(counter "$R" "$n")))" "$want"
done
check "final: the non-daily counter is exactly what was added" "$(counter "$R" api.requests.total)" "$added_total"
check "final: exactly the days that ended at a committed cycle have rows, each once" \
    "$(days "$R" | awk -v n=$DAILY '$2 == n {print $1}' | tr '\n' ' ')" \
    "$(printf '%s ' "${expected_dates[@]}")"
check "final: the state database is intact" "$(sqlite3 "$R/state/tally.db" 'PRAGMA integrity_check')" ok
finish
