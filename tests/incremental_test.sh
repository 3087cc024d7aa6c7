#!/usr/bin/env bash
# incremental_test.sh — issue 12's promise: a cycle that costs what changed
# writes exactly what a full rebuild writes.
#
# A state with DAYS closed business days of USERS users a day is built by
# the real tallyd through the csv source and the daily collector (never by
# hand-written SQL). Then, in the same state:
#   1. a cycle with nothing new changes no output but the times in it;
#   2. a cycle with 100 new rows of today;
#   3. a cycle with one late row for a closed day;
# and after each, a fresh agent (a new state) over the same input, at the
# same --now, must have written byte for byte the same single JSON
# document (but for generated_at), split layout (every day file, and
# current.json but for generated_at), Prometheus text (but for its
# generated timestamp), CSV of user-days,
# and SQL tables (SQLite over ODBC). The late row must change its day
# everywhere and once: one day file rewritten and no other touched, and in
# the sql exporter's tables exactly the changed rows written (a trigger
# counts the writes).
#
# usage: incremental_test.sh TALLYD PLUGIN_DIR GEN_USAGE SQLITE_DRIVER DAYS USERS
# Ends with "N passed, M failed". INCR_KEEP=1 keeps the work directory.
set -euo pipefail

TALLYD=${1:?usage: $0 TALLYD PLUGIN_DIR GEN_USAGE SQLITE_DRIVER DAYS USERS}
PLUGIN_DIR=${2:?}
GEN=${3:?}
SQLITE_DRIVER=${4:?}
DAYS=${5:?}
USERS=${6:?}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/check_lib.sh"
source "$HERE/outputs_lib.sh"
export LC_ALL=C.UTF-8
NOW1=2026-11-22T03:00:00Z
NOW2=2026-11-22T15:59:59Z

command -v sqlite3 >/dev/null || { fail "sqlite3: not installed (run scripts/deps.sh)"; totals; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-incremental.XXXXXX")
cleanup() {
    if [ -n "${INCR_KEEP:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the data ----------------------------------------------------------------
# 8,219 rows a day per 1,000 users, as bench/run-cycle.sh.
rows=$((DAYS * USERS * 8219 / 1000))
"$GEN" --rows "$rows" --days "$DAYS" --users "$USERS" --seed 1 --end 2026-11-21 \
    --out "$WORK/history.csv" >/dev/null
"$GEN" --rows 100 --days 1 --users "$USERS" --seed 1 --row-seed 2 --end 2026-11-22 \
    --no-header --out "$WORK/new.csv" >/dev/null
# The late row: a copy of a row of a closed day ten days back, with an id
# of its own (the first column), so it counts once more for its user.
late_day=2026-11-11
orig=$(grep -m1 ",${late_day}T0[4-9]:" "$WORK/history.csv" || true)
[ -n "$orig" ] || { fail "no row of $late_day in the generated history"; totals; exit 1; }
late_user=$(printf '%s\n' "$orig" | cut -d, -f4)
printf 'late-row-1,%s\n' "$(printf '%s\n' "$orig" | cut -d, -f2-)" >"$WORK/late.csv"

# conf NAME: a config over $WORK/NAME.csv with every output under $WORK/NAME.
conf() {
    local d=$WORK/$1
    mkdir -p "$d/state" "$d/split"
    cat >"$d/tallyd.conf" <<EOF
timezone = "Asia/Shanghai"
state_dir = "$d/state"
plugin_dir = "$PLUGIN_DIR"
csv "usage" { path = "$d/usage.csv" stream = "usage" }
daily "stats" { keep_days = 400 }
file "json" { path = "$d/summary.json" format = "json" }
file "split" { path = "$d/split" format = "json" layout = "split" }
file "prom" { path = "$d/summary.prom" format = "prometheus" }
file "ud" { path = "$d/user_days.csv" format = "csv" table = "user_days" }
sql "dash" { connection = "DRIVER=$SQLITE_DRIVER;Database=$d/dash.db" table_prefix = "tally_" }
EOF
}

# once NAME NOW: one cycle; fails the test when tallyd does.
once() {
    local rc=0
    timeout -s KILL 600 "$TALLYD" -c "$WORK/$1/tallyd.conf" --once --now "$2" >>"$WORK/$1/agent.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$1: tallyd --once at $2 exited $rc" "$(tail -n 8 "$WORK/$1/agent.log")"
        return 1
    fi
}

# without_times FILE: the file without its generated_at line (JSON) or
# sample (Prometheus): the wall clock when each agent made its snapshot;
# and without the agent's figures about itself (without_agent.py).
without_times() {
    python3 "$(dirname "$0")/without_agent.py" "$1" |
        grep -v '"generated_at"\|^tally_snapshot_generated_timestamp_seconds '
}


# same_as_fresh STEP A FRESH: every output of A is the fresh agent's.
same_as_fresh() {
    local step=$1 a=$WORK/$2 b=$WORK/$3 f
    if cmp -s <(without_times "$a/summary.json") <(without_times "$b/summary.json"); then
        pass "$step: the single JSON document is the fresh agent's"
    else
        fail "$step: the single JSON document is the fresh agent's" \
            "$(diff <(without_times "$a/summary.json") <(without_times "$b/summary.json") | head -n 8)"
    fi
    if cmp -s <(without_times "$a/split/current.json") <(without_times "$b/split/current.json"); then
        pass "$step: split current.json is the fresh agent's"
    else
        fail "$step: split current.json is the fresh agent's" \
            "$(diff <(without_times "$a/split/current.json") <(without_times "$b/split/current.json") | head -n 8)"
    fi
    if cmp -s "$a/split/days.json" "$b/split/days.json"; then
        pass "$step: split days.json is the fresh agent's"
    else
        fail "$step: split days.json is the fresh agent's" "$(diff "$a/split/days.json" "$b/split/days.json" | head -n 8)"
    fi
    if diff -r "$a/split/days" "$b/split/days" >"$WORK/split.diff" 2>&1; then
        pass "$step: split day files are the fresh agent's ($(ls "$a/split/days" | wc -l) files)"
    else
        fail "$step: split day files are the fresh agent's" "$(head -n 8 "$WORK/split.diff")"
    fi
    for f in summary.prom user_days.csv; do
        if cmp -s <(without_times "$a/$f") <(without_times "$b/$f"); then pass "$step: $f is the fresh agent's"
        else fail "$step: $f is the fresh agent's" "$(diff <(without_times "$a/$f") <(without_times "$b/$f") | head -n 8)"; fi
    done
    if cmp -s <(sql_dump "$a/dash.db") <(sql_dump "$b/dash.db"); then
        pass "$step: the SQL tables are the fresh agent's"
    else
        fail "$step: the SQL tables are the fresh agent's" "$(diff <(sql_dump "$a/dash.db") <(sql_dump "$b/dash.db") | head -n 8)"
    fi
}

# fresh NAME NOW INPUT...: a new state over the concatenated inputs.
fresh() {
    local n=$1 now=$2
    shift 2
    rm -rf "${WORK:?}/$n"
    conf "$n"
    cat "$@" >"$WORK/$n/usage.csv"
    once "$n" "$now"
}

# --- the state, built through the collector ------------------------------------
conf a
cp "$WORK/history.csv" "$WORK/a/usage.csv"
once a "$NOW1" || { totals; exit 1; }
n_files=$(ls "$WORK/a/split/days" | wc -l)
if [ "$n_files" -eq "$DAYS" ]; then pass "the state holds $DAYS days of $USERS users: $n_files day files"
else fail "the state holds $DAYS days of $USERS users" "day files: $n_files"; fi

# --- 1. nothing new ----------------------------------------------------------------
json_ino=$(stat -c %i "$WORK/a/summary.json")
ud_ino=$(stat -c %i "$WORK/a/user_days.csv")
day_ino=$(stat -c %i "$WORK/a/split/days/$late_day.json")
once a "$NOW1"
check "nothing new: the single document is not rewritten" [ "$(stat -c %i "$WORK/a/summary.json")" = "$json_ino" ]
check "nothing new: the user-days CSV is not rewritten" [ "$(stat -c %i "$WORK/a/user_days.csv")" = "$ud_ino" ]
check "nothing new: no day file is rewritten" [ "$(stat -c %i "$WORK/a/split/days/$late_day.json")" = "$day_ino" ]

# --- 2. 100 new rows of today ----------------------------------------------------------
cat "$WORK/new.csv" >>"$WORK/a/usage.csv"
once a "$NOW2"
fresh b "$NOW2" "$WORK/history.csv" "$WORK/new.csv"
same_as_fresh "100 new rows" a b
check "100 new rows of today: no day file is rewritten" [ "$(stat -c %i "$WORK/a/split/days/$late_day.json")" = "$day_ino" ]

# --- 3. a late row for a closed day ---------------------------------------------------
# Count the sql exporter's writes from here on.
sqlite3 "$WORK/a/dash.db" "
CREATE TABLE test_writes (tbl TEXT NOT NULL, what TEXT NOT NULL);
CREATE TRIGGER tw1 AFTER INSERT ON tally_stats_user_daily BEGIN INSERT INTO test_writes VALUES ('user_daily', NEW.user_id); END;
CREATE TRIGGER tw2 AFTER UPDATE ON tally_stats_user_daily BEGIN INSERT INTO test_writes VALUES ('user_daily', NEW.user_id); END;
CREATE TRIGGER tw3 AFTER INSERT ON tally_stats_daily BEGIN INSERT INTO test_writes VALUES ('daily', NEW.business_date); END;
CREATE TRIGGER tw4 AFTER UPDATE ON tally_stats_daily BEGIN INSERT INTO test_writes VALUES ('daily', NEW.business_date); END;"
other=$(ls "$WORK/a/split/days" | grep -v "^$late_day" | sed -n 1p)
other_ino=$(stat -c %i "$WORK/a/split/days/$other")
cat "$WORK/late.csv" >>"$WORK/a/usage.csv"
once a "$NOW2"
fresh c "$NOW2" "$WORK/history.csv" "$WORK/new.csv" "$WORK/late.csv"
same_as_fresh "a late row" a c
check "a late row: its day's file is rewritten" [ "$(stat -c %i "$WORK/a/split/days/$late_day.json")" != "$day_ino" ]
check "a late row: another day's file is not" [ "$(stat -c %i "$WORK/a/split/days/$other")" = "$other_ino" ]
writes=$(sqlite3 "$WORK/a/dash.db" "SELECT tbl || ' ' || what FROM test_writes ORDER BY 1" | tr '\n' ';')
want="daily $late_day;user_daily $late_user;"
if [ "$writes" = "$want" ]; then pass "a late row: the sql exporter writes its day and its user-day, once"
else fail "a late row: the sql exporter writes its day and its user-day, once" "wrote: $writes" "want: $want"; fi

# --- and again: nothing new after the late row writes nothing ---------------------------
sqlite3 "$WORK/a/dash.db" "DELETE FROM test_writes"
once a "$NOW2"
writes=$(sqlite3 "$WORK/a/dash.db" "SELECT count(*) FROM test_writes")
check "after the late row, a cycle with nothing new writes no SQL row" [ "$writes" = 0 ]
same_as_fresh "after the late row, nothing new" a c

totals
