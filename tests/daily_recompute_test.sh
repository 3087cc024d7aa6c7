#!/usr/bin/env bash
# daily_recompute_test.sh — tallyd --recompute FROM..TO end to end: it
# replaces exactly the business days named (a day damaged in the state is
# restored from the input, the days outside the range are left as they
# are), running it again changes nothing, rows the csv source has not yet
# reached are not counted by it (nor twice afterwards), bad ranges are
# refused with nothing changed, and a file rotated and gzipped while the
# agent was stopped is found by its fingerprint (issue 11 item 6). Then a
# file cut in place within its first 4 KiB (issue 11 item 5 as reported):
# 100 rows cut to their first 50, the inode kept, still count 100, the cut
# is said once, rows beyond the old end are counted, and the same file
# emptied and written anew (copytruncate) is read as new content.
# Usage: daily_recompute_test.sh TALLYD PLUGIN_DIR
set -euo pipefail
TALLYD=$1
PLUGINS=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/check_lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NOW=2026-11-22T03:00:00Z

mkdir -p "$work/in" "$work/state"
header=id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms
{
    echo "$header"
    # Asia/Shanghai business days 11-17 .. 11-20, three rows each; 11-21 has none.
    for d in 17 18 19 20; do
        for h in 01 05 09; do
            echo "r$d$h,q$d$h,2026-11-${d}T$h:30:00Z,u$h,k,p,m$h,200,,$d$h,1,0,0,0,0,0,0,0.$d$h,0.$d,10"
        done
    done
} > "$work/in/usage.csv"
cat > "$work/tallyd.conf" <<CONF
timezone = "Asia/Shanghai"
state_dir = "$work/state"
plugin_dir = "$PLUGINS"
csv "usage" { path = "$work/in/usage*.csv" stream = "usage" }
daily "stats" { keep_days = 400 }
file "json" { path = "$work/out.json" format = "json" }
CONF

run() {
    "$TALLYD" -c "$work/tallyd.conf" --now "$NOW" "$@" > "$work/log" 2>&1
}
same() { # NAME A B: equal JSON apart from generated_at
    if python3 "$here/json_expect.py" --same --ignore generated_at "$2" "$3" > "$work/diff" 2>&1; then
        pass "$1"
    else
        fail "$1" "$(head -5 "$work/diff")"
    fi
}
json() { python3 -c "import json,sys; d=json.load(open('$work/out.json')); print($1)"; }

run --once && cp "$work/out.json" "$work/clean.json"
[ "$(json "d['summary']['all_time_requests']")" = 12 ] && pass first_run_counts || fail first_run_counts

run --recompute 2026-11-18..2026-11-19 && pass recompute_runs || fail recompute_runs "$(cat "$work/log")"
same recompute_changes_nothing "$work/clean.json" "$work/out.json"
run --recompute 2026-11-18..2026-11-19
same recompute_twice_changes_nothing "$work/clean.json" "$work/out.json"

# Damage two days in the state; recomputing one of them restores it and
# leaves the other as it is.
sqlite3 "$work/state/tally.db" "UPDATE daily_days SET total = total + 5 WHERE date IN ('2026-11-18', '2026-11-20')"
run --recompute 2026-11-18..2026-11-18
[ "$(json "[x['total_requests'] for x in d['days']]")" = "[3, 3, 3, 8, 0]" ] &&
    pass recompute_replaces_only_its_days || fail recompute_replaces_only_its_days "$(json "d['days']")"
run --recompute 2026-11-17..2026-11-21
same recompute_range_restores "$work/clean.json" "$work/out.json"

# Rows appended after the last cycle: the recompute reads only what the
# source had consumed, the cycle after it reads the new rows once.
echo "late1,ql,2026-11-18T02:00:00Z,u01,k,p,m01,200,,7,1,0,0,0,0,0,0,0.5,0.5,10" >> "$work/in/usage.csv"
run --recompute 2026-11-18..2026-11-18
[ "$(json "d['days'][1]['total_requests']")" = 4 ] && pass appended_counted_once ||
    fail appended_counted_once "$(json "d['days']")"
run --recompute 2026-11-18..2026-11-18
[ "$(json "d['days'][1]['total_requests']")" = 4 ] && pass appended_still_once ||
    fail appended_still_once "$(json "d['days']")"

# Bad ranges: refused, exit 1, nothing changed.
cp "$work/out.json" "$work/before.json"
for bad in 2026-11-19..2026-11-18 2026-11-18 2026-02-30..2026-03-01 yesterday..today; do
    if run --recompute "$bad"; then
        fail "bad_range_$bad" "exit 0"
    elif grep -q -- "--recompute '$bad'" "$work/log"; then
        pass "bad_range_$bad"
    else
        fail "bad_range_$bad" "$(cat "$work/log")"
    fi
done
run --once
same bad_ranges_changed_nothing "$work/before.json" "$work/out.json"

# A file renamed and gzipped while the agent was stopped (a new inode,
# both names in the glob): the recompute finds it as the normal cycle
# does, by its fingerprint, and gives the same result twice.
mkdir -p "$work/rot" "$work/rot-state"
head -13 "$work/in/usage.csv" > "$work/rot/usage-a.csv"
sed "s|$work/state|$work/rot-state|; s|$work/in/usage\*.csv|$work/rot/usage-a.csv*|; s|$work/out.json|$work/rot.json|" \
    "$work/tallyd.conf" > "$work/rot.conf"
rrun() { "$TALLYD" -c "$work/rot.conf" --now "$NOW" "$@" > "$work/log" 2>&1; }
rrun --once && cp "$work/rot.json" "$work/rot-clean.json"
mv "$work/rot/usage-a.csv" "$work/rot/usage-a.csv.1" && gzip "$work/rot/usage-a.csv.1"
rrun --recompute 2026-11-17..2026-11-21 || fail rotated_recompute_runs "$(cat "$work/log")"
same rotated_gz_found_by_recompute "$work/rot-clean.json" "$work/rot.json"
rrun --recompute 2026-11-17..2026-11-21
same rotated_gz_recompute_twice "$work/rot-clean.json" "$work/rot.json"

# A file cut in place within its first 4 KiB, with tallyd --once.
mkdir -p "$work/cut" "$work/cut-state"
cut=$work/cut/usage.csv
cut_rows() { # FROM TO: usage rows of about 40 bytes (100 of them: 4 KiB)
    local i
    for ((i = $1; i <= $2; i++)); do
        printf 'c%d,2026-11-18T01:%02d:00Z,u1,m,10,0.5,\n' "$i" $((i % 60))
    done
}
short_header=id,created_at,user_id,model,input_tokens,total_cost_usd,error_message
{ echo "$short_header"; cut_rows 1 100; } > "$cut"
sed "s|$work/state|$work/cut-state|; s|$work/in/usage\*.csv|$cut|; s|$work/out.json|$work/cut.json|" \
    "$work/tallyd.conf" > "$work/cut.conf"
cut_expect() { # NAME WANT: after one cycle, the all-time request count is WANT
    local got=""
    if ! "$TALLYD" -c "$work/cut.conf" --now "$NOW" --once > "$work/log" 2>&1; then
        fail "$1" "tallyd --once failed: $(cat "$work/log")"
    elif got=$(python3 -c "import json; print(json.load(open('$work/cut.json'))['summary']['all_time_requests'])") &&
        [ "$got" = "$2" ]; then
        pass "$1"
    else
        fail "$1" "all_time_requests $got, want $2" "$(cat "$work/log")"
    fi
}
said() { grep -q "cut in place, not rotated" "$work/log"; }
cut_expect cut_first_run_counts_100 100
ino=$(stat -c %i "$cut")
truncate -s "$(head -n 51 "$cut" | wc -c)" "$cut" # the header and rows 1..50
[ "$(stat -c %i "$cut")" = "$ino" ] && [ "$(stat -c %s "$cut")" -lt 4096 ] &&
    pass cut_within_first_4k || fail cut_within_first_4k
cut_expect cut_still_counts_100 100
said && pass cut_is_said || fail cut_is_said "$(cat "$work/log")"
cut_expect cut_again_still_100 100
said && fail cut_said_once "$(cat "$work/log")" || pass cut_said_once
cut_rows 51 103 >> "$cut" # the writer goes on: rows up to the old end, then 3 new
cut_expect cut_beyond_old_end_counted 103
: > "$cut" # copytruncate: emptied, then a header and new rows
{ echo "$short_header"; cut_rows 201 202; } >> "$cut"
cut_expect copytruncate_small_read_as_new 105
said && fail copytruncate_small_not_a_cut "$(cat "$work/log")" || pass copytruncate_small_not_a_cut

totals
