#!/usr/bin/env bash
# state_migrate_test.sh — the state database's owners (agent, spool, daily)
# migrate by their own versioned steps. A database exactly as the release
# before schema_versions wrote it (state_before_versions.sql) is opened by
# this tallyd (--once): every row survives, the summary shows the old days,
# and schema_versions records each owner; a second run changes nothing.
# A database whose collector tables a newer release wrote is refused and
# left as it was.
#
# usage: state_migrate_test.sh TALLYD PLUGIN_DIR
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

TALLYD=${1:?usage: state_migrate_test.sh TALLYD PLUGIN_DIR}
PLUGINS=$(realpath "${2:?usage: state_migrate_test.sh TALLYD PLUGIN_DIR}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/check_lib.sh"

NOW=2026-11-22T03:00:00Z

# check NAME WANT GOT
check() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

# rows DB: every row the old release's tables hold, in a fixed order; the
# agent's last_day is left out (a run moves it on, as it always has).
rows() {
    sqlite3 "$1" <<'EOF'
SELECT 'plugin_state', * FROM plugin_state WHERE NOT (instance = 'tallyd' AND key = 'last_day') ORDER BY 2, 3;
SELECT 'counter_days', date, name, value FROM counter_days ORDER BY 2, 3;
SELECT 'spool_instances', * FROM spool_instances ORDER BY 2;
SELECT 'spool', instance, seq, created, meta, bytes, hex(payload) FROM spool ORDER BY 2, 3;
SELECT 'daily_days', date, start_utc, total, error, tok_input, tok_output, tok_cache_creation, tok_cache_read, cost_total_w, cost_total_a, cost_actual_w, cost_actual_a, cost_input_w, cost_input_a, cost_output_w, cost_output_a, cost_cache_creation_w, cost_cache_creation_a, cost_cache_read_w, cost_cache_read_a, rt_w, rt_a, rt_count, fallback FROM daily_days ORDER BY 2;
SELECT 'daily_user_days', date, hex(user_id), total, error, tok_input, tok_output, tok_cache_creation, tok_cache_read, cost_total_w, cost_total_a FROM daily_user_days ORDER BY 2, 3;
SELECT 'daily_values', date, kind, hex(value) FROM daily_values ORDER BY 2, 3, 4;
SELECT 'daily_candidates', date, hex(request_id), n FROM daily_candidates ORDER BY 2, 3;
SELECT 'daily_inventory', source, stream, hex(id), active FROM daily_inventory ORDER BY 2, 3, 4;
EOF
}

versions() {
    sqlite3 "$1" "PRAGMA user_version; SELECT owner || '=' || version FROM schema_versions ORDER BY owner" | paste -sd' ' -
}

# conf DIR: the daily collector and a JSON summary on state DIR.
conf() {
    cat >"$1/tallyd.conf" <<EOF
timezone = "Asia/Shanghai"
state_dir = "$1/state"
plugin_dir = "$PLUGINS"
daily "stats" { keep_days = 400 }
file "summary" { path = "$1/summary.json"  format = "json" }
EOF
}

# json DIR EXPR: a Python expression over the summary d.
json() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1/summary.json" "$2"
}

# ---- a database of the release before schema_versions ----------------------
d="$work/old"
mkdir -p "$d/state"
sqlite3 "$d/state/tally.db" <"$here/state_before_versions.sql" >/dev/null
chmod 0600 "$d/state/tally.db"
rows "$d/state/tally.db" >"$d/before"
conf "$d"
status=0
"$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >"$d/log1" 2>&1 || status=$?
check old_once_exit_0 0 "$status"
[[ $status == 0 ]] || cat "$d/log1"
rows "$d/state/tally.db" >"$d/after"
if diff -u "$d/before" "$d/after" >"$d/diff"; then
    pass old_rows_survive
else
    fail old_rows_survive "rows changed" "$(cat "$d/diff")"
fi
check old_versions_recorded "2 agent=2 daily=3 spool=2" "$(versions "$d/state/tally.db")"
check old_migration_logged "3" "$(grep -c "migrated from version 0 to " "$d/log1")"
check old_days_in_summary "[('2026-11-20', 406), ('2026-11-21', 405)]" \
    "$(json "$d" "[(x['date'], x['total_requests']) for x in d['days']]")"
check old_summary_all_time "811 2 1" \
    "$(json "$d" "'%d %d %d' % (d['summary']['all_time_requests'], d['summary']['total_users'], d['summary']['active_users'])")"
check old_user_days "[('2026-11-20', 'u1', 400), ('2026-11-21', 'u2', 405)]" \
    "$(json "$d" "[(x['date'], x['user_id'], x['total_requests']) for x in d['user_days']]")"
check old_counter_days "[('2026-11-20', 1234), ('2026-11-21', 77)]" \
    "$(json "$d" "[(x['date'], x['value']) for x in d['counter_days']]")"
check old_rejected_rows "11" "$(json "$d" "d['rejected_rows']")"

# A second run: nothing to migrate, nothing changed.
status=0
"$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >"$d/log2" 2>&1 || status=$?
check again_exit_0 0 "$status"
check again_nothing_migrated 0 "$(grep -c "migrated" "$d/log2")"
check again_versions "2 agent=2 daily=3 spool=2" "$(versions "$d/state/tally.db")"
rows "$d/state/tally.db" >"$d/after2"
if diff -u "$d/before" "$d/after2" >"$d/diff2"; then pass again_rows_same; else fail again_rows_same "$(cat "$d/diff2")"; fi

# ---- a new database -----------------------------------------------------------
d="$work/new"
mkdir -p "$d/state"
conf "$d"
status=0
"$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >"$d/log" 2>&1 || status=$?
check new_exit_0 0 "$status"
check new_versions "2 agent=2 daily=3 spool=2" "$(versions "$d/state/tally.db")"

# ---- the collector's tables from a newer release ------------------------------
d="$work/newer"
mkdir -p "$d/state"
sqlite3 "$d/state/tally.db" <"$here/state_before_versions.sql" >/dev/null
conf "$d"
"$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >"$d/log0" 2>&1
sqlite3 "$d/state/tally.db" "UPDATE schema_versions SET version = 5 WHERE owner = 'daily'"
rows "$d/state/tally.db" >"$d/before"
sqlite3 "$d/state/tally.db" "SELECT value FROM plugin_state WHERE key = 'last_day'" >>"$d/before"
rm -f "$d/summary.json"
status=0
"$TALLYD" -c "$d/tallyd.conf" --once --now 2026-11-23T03:00:00Z >"$d/log" 2>&1 || status=$?
check newer_daily_exit_1 1 "$status"
want="daily \"stats\": state database $d/state/tally.db: the tables of 'daily' are at schema version 5, newer than this release knows (3): a newer tally release wrote it; run that release (or a newer one) on this state_dir, or move the database away to start afresh"
if grep -qF -- "$want" "$d/log"; then pass newer_daily_message; else fail newer_daily_message "missing: $want" "$(cat "$d/log")"; fi
rows "$d/state/tally.db" >"$d/after"
sqlite3 "$d/state/tally.db" "SELECT value FROM plugin_state WHERE key = 'last_day'" >>"$d/after"
if diff -u "$d/before" "$d/after" >"$d/diff"; then pass newer_daily_untouched; else fail newer_daily_untouched "$(cat "$d/diff")"; fi
check newer_daily_version_kept "2 agent=2 daily=5 spool=2" "$(versions "$d/state/tally.db")"
if [[ ! -e $d/summary.json ]]; then pass newer_daily_no_export; else fail newer_daily_no_export "a summary was written"; fi

totals
