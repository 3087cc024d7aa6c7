#!/usr/bin/env bash
# file_cut_test.sh — a CSV file cut in place within its first 4 KiB,
# through the real tallyd --once (issue 11 item 5 as reported): 100 rows
# cut to their first 50, the inode kept, still count 100, the cut is said,
# and rows written beyond the old end are counted; then the same file
# emptied and written anew (copytruncate) is read as new content.
# Usage: file_cut_test.sh TALLYD PLUGIN_DIR
set -euo pipefail
TALLYD=$1
PLUGINS=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/check_lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NOW=2026-11-22T03:00:00Z
csv=$work/in/usage.csv

mkdir -p "$work/in" "$work/state"
# rows FROM TO: usage rows, about 40 bytes each (100 of them: 4 KiB).
rows() {
    local i
    for ((i = $1; i <= $2; i++)); do
        printf 'r%d,2026-11-18T01:%02d:00Z,u1,m,10,0.5,\n' "$i" $((i % 60))
    done
}
{
    echo "id,created_at,user_id,model,input_tokens,total_cost_usd,error_message"
    rows 1 100
} > "$csv"
cat > "$work/tallyd.conf" <<CONF
timezone = "UTC"
state_dir = "$work/state"
plugin_dir = "$PLUGINS"
csv "usage" { path = "$work/in/usage*.csv" stream = "usage" }
daily "stats" { keep_days = 400 }
file "json" { path = "$work/out.json" format = "json" }
CONF

once() {
    "$TALLYD" -c "$work/tallyd.conf" --now "$NOW" --once > "$work/log" 2>&1
}
requests() {
    python3 -c "import json; print(json.load(open('$work/out.json'))['summary']['all_time_requests'])"
}
# expect NAME WANT: the all-time request count after a cycle is WANT.
expect() {
    local got=""
    if ! once; then
        fail "$1" "tallyd --once failed: $(cat "$work/log")"
    elif got=$(requests) && [ "$got" = "$2" ]; then
        pass "$1"
    else
        fail "$1" "all_time_requests $got, want $2" "$(cat "$work/log")"
    fi
}

expect first_run_counts_100 100
ino=$(stat -c %i "$csv")
[ "$(stat -c %s "$csv")" -lt 8192 ] && pass rows_are_small || fail rows_are_small
# The header and the first 50 rows stay, in the same inode (truncate, as
# a cut in place does; not a copy).
truncate -s "$(head -n 51 "$csv" | wc -c)" "$csv"
[ "$(stat -c %i "$csv")" = "$ino" ] && [ "$(stat -c %s "$csv")" -lt 4096 ] &&
    pass cut_in_place_within_4k || fail cut_in_place_within_4k
expect cut_still_counts_100 100
grep -q "cut in place, not rotated" "$work/log" && pass cut_is_said ||
    fail cut_is_said "$(cat "$work/log")"
expect cut_again_still_100 100
grep -q "cut in place" "$work/log" && fail cut_said_once "$(cat "$work/log")" || pass cut_said_once
# The writer goes on: rows 51..100 again up to the old end, then 3 new.
rows 51 103 >> "$csv"
expect beyond_old_end_counted 103

# copytruncate of this small file: emptied, a header and new rows.
: > "$csv"
{
    echo "id,created_at,user_id,model,input_tokens,total_cost_usd,error_message"
    rows 201 202
} >> "$csv"
expect copytruncate_read_as_new 105
grep -q "cut in place" "$work/log" && fail copytruncate_not_a_cut "$(cat "$work/log")" ||
    pass copytruncate_not_a_cut

totals
