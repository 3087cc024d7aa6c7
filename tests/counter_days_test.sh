#!/usr/bin/env bash
# counter_days_test.sh — the snapshot's counter_days go back as far as the
# days it lists: from the daily collector's oldest kept date (today less
# keep_days), or TALLY_KEEP_DAYS_DEFAULT (400) days without a collector;
# older totals stay in the state database, unread.
#
# usage: counter_days_test.sh TALLYD PLUGIN_DIR
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

TALLYD=${1:?usage: counter_days_test.sh TALLYD PLUGIN_DIR}
PLUGINS=$(realpath "${2:?usage: counter_days_test.sh TALLYD PLUGIN_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

NOW=2026-11-22T03:00:00Z # 2026-11-22 in Asia/Shanghai

check() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

# run NAME SECTIONS: a state whose counter_days hold a total for each of
# several dates, then one cycle; prints the dates of the JSON's counter_days.
run() {
    local d="$work/$1"
    mkdir -p "$d/state"
    cat >"$d/tallyd.conf" <<EOF
timezone = "Asia/Shanghai"
state_dir = "$d/state"
plugin_dir = "$PLUGINS"
$2
file "summary" { path = "$d/summary.json"  format = "json" }
EOF
    # A first cycle makes the database; the totals go in between, as a
    # source would emit them in the second cycle (stamped with its seq).
    "$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >"$d/log" 2>&1 || { cat "$d/log"; return; }
    sqlite3 "$d/state/tally.db" "INSERT INTO counter_days (date, name, value, seq)
        SELECT column1, 'n', column2, (SELECT seq + 1 FROM state_cycle) FROM (VALUES
        ('2025-10-17', 1), ('2025-10-18', 2), ('2025-10-19', 2),
        ('2026-11-18', 3), ('2026-11-19', 4), ('2026-11-21', 5))"
    "$TALLYD" -c "$d/tallyd.conf" --once --now "$NOW" >>"$d/log" 2>&1 || { cat "$d/log"; return; }
    python3 -c 'import json, sys; print(" ".join(x["date"] for x in json.load(open(sys.argv[1]))["counter_days"]))' \
        "$d/summary.json"
}

# keep_days = 3 lists 2026-11-19..2026-11-21.
check keep_days_3 "2026-11-19 2026-11-21" "$(run keep3 'daily "stats" { keep_days = 3 }')"
# The default keep_days (400): from 2025-10-18 on.
check keep_days_default "2025-10-18 2025-10-19 2026-11-18 2026-11-19 2026-11-21" \
    "$(run keepdefault 'daily "stats" { }')"
# No collector: the same 400 days.
check no_collector "2025-10-18 2025-10-19 2026-11-18 2026-11-19 2026-11-21" "$(run nocollector '')"
# The older totals are kept in the state, only not read.
check older_kept "6" "$(sqlite3 "$work/keep3/state/tally.db" "SELECT count(*) FROM counter_days")"

totals
