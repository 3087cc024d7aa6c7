# outputs_lib.sh — reading tallyd's outputs back for comparison, shared by
# the tests that hold one agent's outputs against another's: sourced,
# never run.
#   sql_dump DB   the sql exporter's three tables in DB (SQLite), each row
#                 as CSV, sorted, under a "== table" line; its marks table
#                 (tally_export) left out, since it names the state.

sql_dump() {
    local t
    for t in tally_stats_daily tally_stats_user_daily tally_stats_summary; do
        echo "== $t"
        sqlite3 -csv "$1" "SELECT * FROM $t ORDER BY 1, 2" | sort
    done
}
