#!/usr/bin/env bash
# cycle_seq_test.sh — issue 12's cycle numbers in the real tallyd: every
# committed cycle (each --once) takes the next seq, a crash before the
# commit (TALLYD_FAULT=before-commit) takes none and one after it keeps
# its own; the state's id is 32 hex digits, the same across restarts and
# another for another state_dir; a daily counter total carries the seq of
# the cycle that wrote it (the shm source's rollover).
#
# usage: cycle_seq_test.sh TALLYD PLUGIN_DIR
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

TALLYD=${1:?usage: cycle_seq_test.sh TALLYD PLUGIN_DIR}
PLUGINS=$(realpath "${2:?usage: cycle_seq_test.sh TALLYD PLUGIN_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

# check NAME WANT GOT
check() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

command -v sqlite3 >/dev/null || { fail "sqlite3: not installed (run scripts/deps.sh)"; totals; exit 1; }

# conf DIR: a shm source with one named daily counter, state in DIR/state.
conf() {
    mkdir -p "$1/state"
    cat >"$1/tallyd.conf" <<EOF
timezone = "UTC"
state_dir = "$1/state"
plugin_dir = "$PLUGINS"
shm "c" { region = "$1/region" daily = {"d.one"} }
EOF
}

# once DIR NOW [FAULT]: one cycle; prints the exit status.
once() {
    local rc=0
    TALLYD_FAULT=${3:-} timeout -s KILL 60 "$TALLYD" -c "$1/tallyd.conf" --once --now "$2" \
        >>"$1/log" 2>&1 || rc=$?
    echo "$rc"
}

db() { sqlite3 "$1/state/tally.db" "$2"; }

a=$work/a
conf "$a"
check first_once 0 "$(once "$a" 2026-11-22T03:00:00Z)"
check first_seq 1 "$(db "$a" "SELECT seq FROM state_cycle")"
id=$(db "$a" "SELECT state_id FROM state_cycle")
if [[ $id =~ ^[0-9a-f]{32}$ ]]; then pass state_id_32_hex; else fail state_id_32_hex "got: $id"; fi

once "$a" 2026-11-22T04:00:00Z >/dev/null
once "$a" 2026-11-22T05:00:00Z >/dev/null
check three_cycles_three_seqs 3 "$(db "$a" "SELECT seq FROM state_cycle")"
check state_id_stable_across_restarts "$id" "$(db "$a" "SELECT state_id FROM state_cycle")"

# A crash before the commit: no seq taken, and the next cycle takes 4.
check before_commit_crash 99 "$(once "$a" 2026-11-22T06:00:00Z before-commit)"
check before_commit_no_seq 3 "$(db "$a" "SELECT seq FROM state_cycle")"
# After the commit: the cycle's seq is kept.
check after_commit_crash 99 "$(once "$a" 2026-11-22T07:00:00Z after-commit)"
check after_commit_seq_kept 4 "$(db "$a" "SELECT seq FROM state_cycle")"

# Midnight: the cycle that rolls 2026-11-22 over writes its total, with
# its own seq; a later cycle leaves it so.
check rollover_once 0 "$(once "$a" 2026-11-23T00:00:01Z)"
check rollover_total_carries_its_seq "2026-11-22|d.one|0|5" \
    "$(db "$a" "SELECT date, name, value, seq FROM counter_days")"
once "$a" 2026-11-23T01:00:00Z >/dev/null
check later_cycle_leaves_it "2026-11-22|d.one|0|5" \
    "$(db "$a" "SELECT date, name, value, seq FROM counter_days")"
check later_cycle_seq 6 "$(db "$a" "SELECT seq FROM state_cycle")"
check state_id_still_the_same "$id" "$(db "$a" "SELECT state_id FROM state_cycle")"

# Another state_dir is another state, counting from 1.
b=$work/b
conf "$b"
once "$b" 2026-11-22T03:00:00Z >/dev/null
other=$(db "$b" "SELECT state_id FROM state_cycle")
if [[ $other =~ ^[0-9a-f]{32}$ && $other != "$id" ]]; then pass other_state_other_id
else fail other_state_other_id "a: $id" "b: $other"; fi
check other_state_seq 1 "$(db "$b" "SELECT seq FROM state_cycle")"

totals
