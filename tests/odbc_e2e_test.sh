#!/usr/bin/env bash
# odbc_e2e_test.sh — the odbc source and the sql exporter end to end: the
# real tallyd, the SQLite ODBC driver on files made here, and a real
# PostgreSQL (tests/pg_test.sh: initdb in a temporary directory, 127.0.0.1,
# a free port, stopped by its pid file at the end).
#
#   - the same data through csv and through odbc give identical JSON, from
#     SQLite (text columns) and from PostgreSQL (uuid, timestamptz,
#     numeric, bigint, double precision, boolean columns);
#   - the sql exporter's tables hold exactly the JSON's days, user-days
#     and summary, in SQLite and PostgreSQL; a second run changes nothing;
#     a late record changes its closed day's row;
#   - create_tables = false with no tables, a missing table, wrong
#     credentials: a clear error naming the instance, no secret in the
#     log, and the other sources and exporters go on;
#   - test_odbc_source's PostgreSQL cases (a restart and a crash in the
#     middle of a collect: every row exactly once);
#   - test_sql_exporter's PostgreSQL cases (what changed only: a restart
#     with nothing changed writes no user-day, a mark behind, the
#     connection cut mid-transaction and the server stopped for a few
#     cycles, another state, a target of the previous release);
#   - tallyd running, the server restarted between cycles: the source and
#     the exporter connect again and nothing is lost or doubled.
#
# usage: odbc_e2e_test.sh TALLYD PLUGIN_DIR TEST_ODBC_SOURCE SQLITE_DRIVER PG_DRIVER TEST_SQL_EXPORTER
# Ends with "N passed, M failed". ODBC_KEEP=1 keeps the work directory.
set -euo pipefail

TALLYD=${1:?usage: $0 TALLYD PLUGIN_DIR TEST_ODBC_SOURCE SQLITE_DRIVER PG_DRIVER TEST_SQL_EXPORTER}
PLUGIN_DIR=${2:?}
TEST_ODBC=${3:?}
SQLITE_DRIVER=${4:?}
PG_DRIVER=${5:?}
TEST_SQL=${6:?}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
PG=$HERE/pg_test.sh
source "$HERE/check_lib.sh"
export LC_ALL=C.UTF-8
NOW=2026-11-22T03:00:00Z

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-odbc-e2e.XXXXXX")
PGDIR=
AGENT=
cleanup() {
    [ -z "$AGENT" ] || { kill -KILL "$AGENT" 2>/dev/null || true; wait "$AGENT" 2>/dev/null || true; }
    [ -z "$PGDIR" ] || bash "$PG" stop "$PGDIR" >/dev/null 2>&1 || true
    [ -z "$PGDIR" ] || rm -rf "$PGDIR"
    if [ -n "${ODBC_KEEP:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# expect_same NAME A B: the two JSON summaries are equal but for generated_at.
expect_same() {
    local out rc=0
    out=$(python3 "$HERE/json_expect.py" --same --label "$1" --ignore generated_at "$2" "$3" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$1"; else mapfile -t l <<<"$out"; fail "$1" "${l[@]:0:12}"; fi
}

# expect_tables NAME JSON ARGS...: sql_expect.py's verdict.
expect_tables() {
    local name=$1 out rc=0
    shift
    out=$(python3 "$HERE/sql_expect.py" "$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name ($out)"; else mapfile -t l <<<"$out"; fail "$name" "${l[@]:0:12}"; fi
}

# logged NAME FILE TEXT / not_logged NAME FILE TEXT
logged() {
    if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1" "no line holds: $3" "$(tail -n 5 "$2")"; fi
}
not_logged() {
    if grep -qF -- "$3" "$2"; then fail "$1" "$(grep -F -- "$3" "$2" | head -n 2)"; else pass "$1"; fi
}

# conf NAME BODY: $WORK/NAME/tallyd.conf with the globals, a fresh state,
# and BODY; the JSON goes to $WORK/NAME/out.json.
conf() {
    local d=$WORK/$1
    rm -rf "$d"
    mkdir -p "$d/state"
    {
        printf 'timezone = "Asia/Shanghai"\nstate_dir = "%s/state"\nplugin_dir = "%s"\ninterval = 1\n' "$d" "$PLUGIN_DIR"
        printf '%s\n' "$2"
        printf 'daily "stats" { }\nfile "json" { path = "%s/out.json" format = "json" }\n' "$d"
    } >"$d/tallyd.conf"
}

# once NAME [STATUS]: one cycle; passes when it exits STATUS (default 0;
# 1 where a plugin is meant to fail its part) and writes the JSON.
once() {
    local d=$WORK/$1 rc=0 want=${2:-0}
    rm -f "$d/out.json"
    timeout -s KILL 120 "$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >>"$d/agent.log" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ] || [ ! -s "$d/out.json" ]; then
        fail "$1: tallyd --once exited $rc (want $want)" "$(tail -n 6 "$d/agent.log")"
        return 1
    fi
}

csv_sources() {
    printf 'csv "usage" { path = "%s/usage.csv" stream = "usage" }\n' "$1"
    printf 'csv "candidates" { path = "%s/candidates.csv" stream = "candidates" }\n' "$1"
    printf 'csv "users" { path = "%s/users.csv" stream = "users" }\n' "$1"
    printf 'csv "keys" { path = "%s/api_keys.csv" stream = "api_keys" }\n' "$1"
}

# odbc_sources CONNECTION [EXTRA]: the four streams from one database.
odbc_sources() {
    local s
    for s in usage candidates users api_keys; do
        printf 'odbc "%s" { connection = "%s" stream = "%s" %s }\n' "$s" "$1" "$s" "${2:-}"
    done
}

for f in "$TALLYD" "$TEST_ODBC" "$TEST_SQL"; do
    [ -x "$f" ] || { fail "$f is not an executable; build first"; totals; exit 1; }
done

# --- the data: the sample set without its bad rows ----------------------------
DATA=$WORK/data
python3 "$HERE/odbc_data.py" clean "$REPO/data/sample" "$DATA"

# --- csv: the reference ------------------------------------------------------------
conf csv "$(csv_sources "$DATA")"
once csv || true

# --- SQLite ----------------------------------------------------------------------------
python3 "$HERE/odbc_data.py" sqlite "$WORK/usage.db" "$DATA"
LITE="DRIVER=$SQLITE_DRIVER;Database=$WORK/usage.db"
conf lite "$(odbc_sources "$LITE" "batch_rows = 333")"
if once lite; then
    expect_same "SQLite: the same data through csv and through odbc give identical JSON" \
        "$WORK/csv/out.json" "$WORK/lite/out.json"
    once lite && expect_same "SQLite: a second cycle reads nothing again" "$WORK/csv/out.json" "$WORK/lite/out.json"
fi

# The sql exporter into SQLite, fed by the csv sources.
DASH="DRIVER=$SQLITE_DRIVER;Database=$WORK/dash.db"
LATE=$WORK/late
mkdir -p "$LATE"
cp "$DATA"/*.csv "$LATE/"
conf sqlite_out "$(csv_sources "$LATE")
sql \"dash\" { connection = \"$DASH\" table_prefix = \"tally_\" }"
if once sqlite_out; then
    expect_tables "SQLite: the tables hold the JSON's days, user-days and summary" \
        "$WORK/sqlite_out/out.json" --sqlite "$WORK/dash.db" --prefix tally_
    sqlite3 "$WORK/dash.db" .dump >"$WORK/dash1.sql"
    once sqlite_out
    sqlite3 "$WORK/dash.db" .dump >"$WORK/dash2.sql"
    if cmp -s "$WORK/dash1.sql" "$WORK/dash2.sql"; then pass "SQLite: running it again changes nothing"
    else fail "SQLite: running it again changes nothing" "$(diff "$WORK/dash1.sql" "$WORK/dash2.sql" | head -n 6)"; fi
    # A record for the closed day 2026-11-16, arriving late.
    printf 'late-1,,2026-11-16T05:00:00Z,late-user,,openai,gpt-4o,200,,1000,10,,,0.01,0.02,,,0.03,0.03,100\n' >>"$LATE/usage.csv"
    once sqlite_out
    expect_tables "SQLite: a late record updates its closed day" "$WORK/sqlite_out/out.json" \
        --sqlite "$WORK/dash.db" --prefix tally_
    n=$(sqlite3 "$WORK/dash.db" "SELECT total_requests FROM tally_stats_daily WHERE business_date = '2026-11-16'")
    before=$(sed -n "s/^INSERT INTO tally_stats_daily VALUES('2026-11-15T16:00:00Z','2026-11-16',\([0-9]*\),.*/\1/p" "$WORK/dash2.sql")
    if [ -n "$before" ] && [ "$n" -eq $((before + 1)) ]; then pass "SQLite: 2026-11-16 went from $before to $n requests"
    else fail "SQLite: 2026-11-16 should have one request more" "before: $before, now: $n"; fi
    users=$(sqlite3 "$WORK/dash.db" "SELECT total_requests FROM tally_stats_user_daily WHERE user_id = 'late-user'")
    if [ "$users" = 1 ]; then pass "SQLite: the late record's user-day is there"; else fail "SQLite: late-user's day" "got: $users"; fi
fi

# create_tables = false and no tables: the sql exporter says so; the file
# exporter still writes.
conf notables "$(csv_sources "$DATA")
sql \"dash\" { connection = \"DRIVER=$SQLITE_DRIVER;Database=$WORK/empty.db\" create_tables = false }"
if once notables 1; then
    logged "create_tables = false: the missing table is named" "$WORK/notables/agent.log" \
        'sql "dash": table stats_daily is missing or lacks a column tally writes'
    expect_same "create_tables = false: the other exporters go on" "$WORK/csv/out.json" "$WORK/notables/out.json"
fi

# A missing table in one odbc source: named, and the others go on.
conf missing "$(csv_sources "$DATA")
odbc \"gone\" { connection = \"$LITE\" stream = \"usage\" table = \"usage_archive\" }"
if once missing 1; then
    logged "a missing table: a clear error naming the instance" "$WORK/missing/agent.log" \
        'odbc "gone": reading the columns of usage_archive failed: [SQLite]no such table: usage_archive'
    expect_same "a missing table: the other sources go on" "$WORK/csv/out.json" "$WORK/missing/out.json"
fi

# --- PostgreSQL ---------------------------------------------------------------------
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/tally-pg.XXXXXX")
if ! port=$(bash "$PG" start "$PGDIR" 2>"$WORK/pg_start.err"); then
    fail "PostgreSQL: initdb and start in $PGDIR" "$(tail -n 5 "$WORK/pg_start.err")"
    totals
    exit 1
fi
pass "PostgreSQL: started on 127.0.0.1:$port"
psql_() { bash "$PG" psql "$PGDIR" "$@"; }
psql_ <<SQL
SET client_min_messages TO warning;
CREATE TABLE usage (id uuid PRIMARY KEY, request_id uuid, created_at timestamptz NOT NULL,
  user_id uuid, api_key_id uuid, provider text, model text, status_code integer,
  error_message text, input_tokens bigint, output_tokens bigint, cache_creation_input_tokens bigint,
  cache_read_input_tokens bigint, input_cost_usd numeric(20,10), output_cost_usd numeric(20,10),
  cache_creation_cost_usd numeric(20,10), cache_read_cost_usd numeric(20,10),
  total_cost_usd numeric(20,10), actual_total_cost_usd numeric(20,10),
  response_time_ms double precision);
CREATE INDEX usage_keyset ON usage (created_at, id);
CREATE TABLE request_candidates (id uuid PRIMARY KEY, request_id uuid, status text,
  created_at timestamptz);
CREATE INDEX candidates_keyset ON request_candidates (created_at, id);
CREATE TABLE users (id uuid PRIMARY KEY, is_active boolean);
CREATE TABLE api_keys (id uuid PRIMARY KEY, user_id uuid, is_active boolean);
\copy usage FROM '$DATA/usage.csv' CSV HEADER
\copy request_candidates FROM '$DATA/candidates.csv' CSV HEADER
\copy users FROM '$DATA/users.csv' CSV HEADER
\copy api_keys FROM '$DATA/api_keys.csv' CSV HEADER
SQL
PGC="DRIVER=$PG_DRIVER;Server=127.0.0.1;Port=$port;Database=postgres;UID=tally"
PW="password_file = \"$PGDIR/password\""

# pg_cases NAME PROGRAM WHAT: a cmocka program's cases, its PostgreSQL
# ones included (none may skip).
pg_cases() {
    local out rc=0
    out=$(TALLY_TEST_PG_DIR=$PGDIR TALLY_TEST_PG_SCRIPT=$PG "$2" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ] && ! grep -q SKIPPED <<<"$out"; then
        pass "$1 on PostgreSQL: $(grep -c '^\[       OK \]' <<<"$out") cases ($3)"
    else
        mapfile -t l < <(grep -v '^\[ *\(RUN\|OK\) ' <<<"$out" | tail -n 15)
        fail "$1 on PostgreSQL" "${l[@]}"
    fi
}
pg_cases test_odbc_source "$TEST_ODBC" "restart and crash mid-collect, retry_for, credentials, columns"
pg_cases test_sql_exporter "$TEST_SQL" "changed rows only: restarts, a mark behind, the connection cut mid-transaction, the server away, another state"

conf pg "$(odbc_sources "$PGC" "$PW batch_rows = 400")"
if once pg; then
    expect_same "PostgreSQL: the same data through csv and through odbc give identical JSON" \
        "$WORK/csv/out.json" "$WORK/pg/out.json"
fi

# The sql exporter into PostgreSQL, fed by the csv sources.
pg_tables() { # DIR: the three tables as JSON lines, in key order
    mkdir -p "$1"
    psql_ -At -c "SELECT row_to_json(t) FROM stats_daily t ORDER BY date" >"$1/stats_daily.jsonl"
    psql_ -At -c "SELECT row_to_json(t) FROM stats_user_daily t ORDER BY user_id, date" >"$1/stats_user_daily.jsonl"
    psql_ -At -c "SELECT row_to_json(t) FROM stats_summary t" >"$1/stats_summary.jsonl"
}
cp "$DATA"/*.csv "$LATE/"
conf pg_out "$(csv_sources "$LATE")
sql \"pg\" { connection = \"$PGC\" $PW }"
if once pg_out; then
    pg_tables "$WORK/pg1"
    expect_tables "PostgreSQL: the tables hold the JSON's days, user-days and summary" \
        "$WORK/pg_out/out.json" --jsonl "$WORK/pg1"
    xmin1=$(psql_ -At -c "SELECT string_agg(xmin::text, ',' ORDER BY date) FROM stats_daily")
    once pg_out
    pg_tables "$WORK/pg2"
    xmin2=$(psql_ -At -c "SELECT string_agg(xmin::text, ',' ORDER BY date) FROM stats_daily")
    if diff -r "$WORK/pg1" "$WORK/pg2" >/dev/null && [ "$xmin1" = "$xmin2" ]; then
        pass "PostgreSQL: running it again changes nothing (no row rewritten)"
    else
        fail "PostgreSQL: running it again changes nothing" "$(diff -r "$WORK/pg1" "$WORK/pg2" | head -n 4)" "xmin $xmin1 / $xmin2"
    fi
    printf 'late-2,,2026-11-16T05:00:00Z,late-user,,openai,gpt-4o,500,boom,1,1,,,0,0,,,0,0,\n' >>"$LATE/usage.csv"
    once pg_out
    pg_tables "$WORK/pg3"
    expect_tables "PostgreSQL: a late record updates its closed day" "$WORK/pg_out/out.json" --jsonl "$WORK/pg3"
    changed=$(psql_ -At -c "SELECT business_date FROM stats_daily WHERE xmin::text <> ALL (string_to_array('$xmin2', ','))")
    if [ "$changed" = 2026-11-16 ]; then pass "PostgreSQL: only 2026-11-16 was rewritten"
    else fail "PostgreSQL: only 2026-11-16 was rewritten" "rewritten: $changed"; fi
fi

# Wrong credentials: named, no secret in the log, the other sources go on.
conf badpw "$(csv_sources "$DATA")
odbc \"pgbad\" { connection = \"$PGC;PWD=not-the-password\" stream = \"usage\" }"
if once badpw 1; then
    logged "wrong credentials: a clear error naming the instance" "$WORK/badpw/agent.log" \
        'odbc "pgbad": connecting with "DRIVER='
    logged "wrong credentials: the server's reason" "$WORK/badpw/agent.log" 'password authentication failed for user "tally"'
    not_logged "wrong credentials: the password is not logged" "$WORK/badpw/agent.log" not-the-password
    expect_same "wrong credentials: the other sources go on" "$WORK/csv/out.json" "$WORK/badpw/out.json"
fi

# tallyd running, the server restarted between cycles.
conf live "$(odbc_sources "$PGC" "$PW")
sql \"pg\" { connection = \"$PGC\" $PW table_prefix = \"live_\" }"
d=$WORK/live
"$TALLYD" -c "$d/tallyd.conf" -f --now "$NOW" >"$d/agent.log" 2>&1 &
AGENT=$!
today() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["today"]["total_requests"])' "$d/out.json" 2>/dev/null; }
wait_today() { # N: up to 30 s for the JSON's today to count N requests
    local i
    for i in $(seq 1 300); do
        [ "$(today)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["today"]["total_requests"])' "$WORK/csv/out.json")
if wait_today "$base"; then pass "tallyd running: the first cycles read everything ($base requests today)"
else fail "tallyd running: first cycles" "today: $(today), want $base" "$(tail -n 5 "$d/agent.log")"; fi
bash "$PG" restart "$PGDIR"
psql_ -c "INSERT INTO usage (id, created_at, user_id, model, input_tokens) SELECT gen_random_uuid(), timestamptz '2026-11-22 03:30:00+00' + g * interval '1 ms', NULL, 'm', 1 FROM generate_series(1, 250) g"
if wait_today $((base + 250)); then
    pass "tallyd running: after the server restarted, the new rows are read, each once ($((base + 250)))"
else
    fail "tallyd running: after a restart" "today: $(today), want $((base + 250))" "$(tail -n 5 "$d/agent.log")"
fi
sleep 2.5 # two more cycles: nothing new, nothing counted twice
check_today=$(today)
[ "$check_today" = $((base + 250)) ] && pass "tallyd running: later cycles count nothing twice" ||
    fail "tallyd running: later cycles" "today: $check_today"
kill -TERM "$AGENT"
wait "$AGENT" 2>/dev/null || true
AGENT=
logged "tallyd running: the lost connection is logged" "$d/agent.log" "the connection to the database is lost"
mkdir -p "$WORK/live_tables"
psql_ -At -c "SELECT row_to_json(t) FROM live_stats_daily t" >"$WORK/live_tables/live_stats_daily.jsonl"
psql_ -At -c "SELECT row_to_json(t) FROM live_stats_user_daily t" >"$WORK/live_tables/live_stats_user_daily.jsonl"
psql_ -At -c "SELECT row_to_json(t) FROM live_stats_summary t" >"$WORK/live_tables/live_stats_summary.jsonl"
expect_tables "tallyd running: the sql exporter reconnected and its tables match the last JSON" \
    "$d/out.json" --jsonl "$WORK/live_tables" --prefix live_

bash "$PG" stop "$PGDIR" && pass "PostgreSQL: stopped by its pid file" || fail "PostgreSQL: stop"
totals
