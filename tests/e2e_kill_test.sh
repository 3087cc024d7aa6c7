#!/usr/bin/env bash
# e2e_kill_test.sh — kill -9 the running agent at random moments while
# applications add, and restart it on the same state and region, 20 times
# (E2E_KILLS to change). Half the runs start a second or two before a
# Shanghai midnight (--now), so kills also land in and around rollovers.
# After a final clean --once, the JSON's counters are exactly what the
# applications added, and the SQLite state passes PRAGMA integrity_check.
#
# usage: e2e_kill_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
# E2E_SEED=N replays the kill moments.
set -u
source "$(dirname "$0")/e2e_lib.sh"
command -v sqlite3 >/dev/null || { fail "sqlite3: not installed (run scripts/deps.sh)"; finish; }

DAILY=api.requests.today
D=$WORK/kill
mkdir -p "$D"
write_conf "$D" Asia/Shanghai 1 '"api.requests.today", "daily.*"'
KILLS=${E2E_KILLS:-20}
SEED=${E2E_SEED:-$RANDOM}
RANDOM=$SEED
echo "kill rounds: E2E_SEED=$SEED E2E_KILLS=$KILLS"

# Applications add in batches until told to stop; each finished batch is
# one line in $D/batches, so the total is known exactly however long the
# kills take. A batch: 3 processes x 150 iterations, 1 ms apart.
PER_BATCH=$((3 * 150))
(
    while [ ! -e "$D/stop" ]; do
        if timeout -s KILL 120 "$APP" "$D/region" 3 150 1000 $DAILY=1 daily.bytes=3 \
            api.requests.total=1 api.tokens.total=1000 >>"$D/app.log" 2>&1; then
            echo ok >>"$D/batches"
        else
            echo failed >>"$D/batches"
        fi
    done
) &
FEEDER=$!
E2E_PIDS+=("$FEEDER")

base=$(date -u -d 2026-11-22T16:00:00Z +%s) # Shanghai midnight of 2026-11-23
killed=0 not_running=() bad_json=0
for ((k = 1; k <= KILLS; k++)); do
    # Odd rounds: 0..3 s before a midnight; even rounds: local noon. The
    # local day moves on every two rounds.
    t=$((base + (k - 1) / 2 * 86400 - RANDOM % 4))
    ((k % 2 == 0)) && t=$((t + 12 * 3600))
    now=$(date -u -d @$t +%Y-%m-%dT%H:%M:%SZ)
    echo "--- round $k: tallyd -f --now $now" >>"$D/agent.log"
    "$TALLYD" -f -c "$D/tallyd.conf" --now "$now" >>"$D/agent.log" 2>&1 &
    pid=$!
    E2E_PIDS+=("$pid")
    # A random moment: 0.1 .. 3.0 s after the start (cycles run every second).
    sleep "$((RANDOM % 30 / 10)).$((RANDOM % 10))$((RANDOM % 10))"
    sleep 0.1
    if kill -KILL "$pid" 2>/dev/null; then
        wait_pid "$pid" 10 2>/dev/null # no "Killed" notice from bash
        [ "$WAIT_STATUS" -eq 137 ] && killed=$((killed + 1))
    else
        wait "$pid" 2>/dev/null
        not_running+=("round $k: the agent had already exited with status $? (see agent.log)")
    fi
    # The exporter writes to a temporary file and renames: a kill leaves
    # the previous summary or the new one, never half of one.
    if [ -e "$D/summary.json" ] && ! python3 -c 'import json,sys;json.load(open(sys.argv[1]))' \
        "$D/summary.json" 2>/dev/null; then
        bad_json=$((bad_json + 1))
    fi
done
check "kill -9 landed on a running agent $KILLS times (status 137)" "$killed" "$KILLS"
[ ${#not_running[@]} -eq 0 ] || fail "every agent was still running when killed" "${not_running[@]}"
check "after every kill, summary.json was a whole JSON document" "$bad_json" 0
# The local day moves on KILLS/2 times; most of those rollovers commit
# before a kill. (Fewer would mean the kills never let a rollover finish.)
days_during=$(sqlite3 "$D/state/tally.db" "SELECT COUNT(DISTINCT date) FROM counter_days")
min_days=$((KILLS / 5 > 0 ? KILLS / 5 : 1))
check "rollovers committed between the kills ($days_during days in the state, want >= $min_days)" \
    "$((days_during >= min_days))" 1

touch "$D/stop"
if wait_pid "$FEEDER" 120; then
    pass "applications stopped adding"
else
    fail "applications did not stop within 120 s"
fi
batches=$(grep -c '^ok$' "$D/batches")
check "every application batch succeeded" "$(grep -vc '^ok$' "$D/batches")" 0
check "applications ran throughout (at least $KILLS batches)" "$((batches >= KILLS))" 1
added=$((batches * PER_BATCH))
echo "applications added $added to each counter in $batches batches"

# A final clean cycle, the next day: settles whatever a kill left moved.
final=$(date -u -d @$((t + 86400)) +%Y-%m-%dT%H:%M:%SZ)
once_ok "final" "$D" "$final"
check "final: api.requests.total is exactly what was added" "$(counter "$D" api.requests.total)" "$added"
check "final: api.tokens.total is exactly what was added" "$(counter "$D" api.tokens.total)" $((added * 1000))
check "final: $DAILY: sum(counter_days) + live = added" \
    "$(($(day_sum "$D" $DAILY) + $(counter "$D" $DAILY)))" "$added"
check "final: daily.bytes: sum(counter_days) + live = added" \
    "$(($(day_sum "$D" daily.bytes) + $(counter "$D" daily.bytes)))" $((added * 3))
check "final: $DAILY: nothing moved is left unaccounted" "$(unaccounted "$D" $DAILY)" 0
check "final: daily.bytes: nothing moved is left unaccounted" "$(unaccounted "$D" daily.bytes)" 0
check "final: the state database passes PRAGMA integrity_check" \
    "$(sqlite3 "$D/state/tally.db" 'PRAGMA integrity_check')" ok
check "final: the region's counters agree with the file" "$(region_get "$D" api.requests.total)" "$added"
leftover=$(find "$D" -maxdepth 1 -name '*.tmp.*' | wc -l)
echo "info: $leftover temporary export file(s) left by kills mid-write (expected; not checked)"
finish
