#!/usr/bin/env bash
# agent_files_test.sh — the files tallyd creates, writes or locks, against
# a hostile state_dir and hostile paths: the pidfile and the state_dir lock
# (a planted symlink, a second agent on the same state_dir or pidfile, -t
# while an agent runs), a tally.db symlink and a reject_file symlink
# (their targets keep content and mode); a HUP reload of a config that
# includes a FIFO; then what `--once` and `-t` say
# about a failing exporter, a missing state_dir and a glob that matches
# nothing.
#
# usage: agent_files_test.sh TALLYD PLUGIN_DIR
# Agents are stopped by their PID only; every wait is bounded. Each case
# works in its own directory inside a private mktemp -d, removed at exit.
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

usage="usage: agent_files_test.sh TALLYD PLUGIN_DIR"
TALLYD=${1:?$usage}
PLUGINS=$(realpath "${2:?$usage}")
work=$(realpath "$(mktemp -d)")
unset TALLY_REGION TALLYD_FAULT

PIDS=()
cleanup() {
    kill_started
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tallyd_lib.sh"

# untouched NAME FILE CONTENT MODE: FILE still holds CONTENT with MODE.
untouched() {
    local got mode
    got=$(cat "$2" 2>/dev/null)
    mode=$(stat -c %a "$2" 2>/dev/null)
    if [[ $got == "$3" && $mode == "$4" ]]; then
        pass "$1"
    else
        fail "$1" "$2 now holds '$got' with mode $mode (want '$3', $4)"
    fi
}

# case_dir NAME: a fresh directory with a state dir and a config there
# (tallyd.conf) exporting to out.json every second; EXTRA lines appended.
case_dir() {
    local d="$work/$1"
    mkdir -p "$d/state"
    printf 'state_dir = "%s/state"\nplugin_dir = "%s"\ntimezone = "UTC"\ninterval = 1\nfile "json" { path = "%s/out.json" format = "json" }\n%b' \
        "$d" "$PLUGINS" "$d" "${2:-}" >"$d/tallyd.conf"
    echo "$d"
}

pid_in() {
    [[ $(cat "$1" 2>/dev/null) == "$2" ]]
}

# ---- item 9: the pidfile and the state_dir lock ---------------------------
pidfile_case() {
    local d
    d=$(case_dir pidfile)
    printf 'precious\n' >"$d/target"
    chmod 640 "$d/target"
    ln -s "$d/target" "$d/tallyd.pid"
    run -c "$d/tallyd.conf" --once -p "$d/tallyd.pid"
    expect pidfile_symlink_refused 1 "pidfile $d/tallyd.pid cannot be written by uid $(id -u): it is a symlink"
    untouched pidfile_symlink_target_untouched "$d/target" precious 640
    run -c "$d/tallyd.conf" -t -p "$d/tallyd.pid"
    expect pidfile_symlink_refused_by_t 1 "it is a symlink"
    rm "$d/tallyd.pid"

    # Two agents on one state_dir: the second is refused with the first's
    # pid, takes no pidfile, and the first keeps its own.
    start "$d" "$d/tallyd.conf" -p "$d/one.pid"
    local first=$pid
    check lock_first_pidfile wait_for 10 pid_in "$d/one.pid" "$first"
    check lock_file_names_pid wait_for 10 pid_in "$d/state/tallyd.lock" "$first"
    run -c "$d/tallyd.conf" -f -p "$d/two.pid"
    expect lock_second_agent_refused 1 \
        "state_dir lock $d/state/tallyd.lock is held by another tallyd (pid $first): one agent runs per state_dir"
    check lock_second_no_pidfile [ ! -e "$d/two.pid" ]
    run -c "$d/tallyd.conf" --once
    expect lock_once_refused_too 1 "is held by another tallyd (pid $first)"
    # -t takes no lock: checking a config while the agent runs is normal.
    run -c "$d/tallyd.conf" -t
    expect lock_t_while_running 0 "config OK"

    # Another state_dir, the same pidfile: refused, the pidfile kept.
    local e
    e=$(case_dir pidfile_other)
    run -c "$e/tallyd.conf" -f -p "$d/one.pid"
    expect lock_pidfile_taken_refused 1 "pidfile $d/one.pid is held by another tallyd (pid $first)"
    check lock_pidfile_not_taken_over pid_in "$d/one.pid" "$first"
    check lock_first_still_runs kill -0 "$first"

    stop "$first" 20
    check lock_first_exit_0 [ "$status" == 0 ]
    check lock_first_pidfile_removed [ ! -e "$d/one.pid" ]
    # The lock file stays behind and does not stop the next agent.
    run -c "$d/tallyd.conf" --once -p "$d/one.pid"
    expect lock_next_agent_starts 0 ""
    check lock_next_pidfile_removed [ ! -e "$d/one.pid" ]
}

# ---- item 10: tally.db and the reject file through symlinks ----------------
statedb_case() {
    local d
    d=$(case_dir statedb)
    printf 'not a database\n' >"$d/target"
    chmod 644 "$d/target"
    ln -s "$d/target" "$d/state/tally.db"
    run -c "$d/tallyd.conf" --once
    expect statedb_symlink_refused 1 "state $d/state/tally.db is a symlink"
    untouched statedb_symlink_target_untouched "$d/target" "not a database" 644
    run -c "$d/tallyd.conf" -t
    expect statedb_symlink_refused_by_t 1 "state $d/state/tally.db is a symlink"
}

# bad_row DIR ID: one more row the csv source rejects (a bad created_at).
bad_row() {
    printf '%s,r1,not-a-time,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100\n' "$2" >>"$1/in/usage.csv"
}

# A csv source whose bad row goes to a reject_file that is a symlink.
reject_case() {
    local d
    d=$(case_dir reject)
    mkdir -p "$d/in"
    printf 'id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms\n' >"$d/in/usage.csv"
    bad_row "$d" a1
    printf 'csv "usage" { path = "%s/in/usage*.csv" stream = "usage" reject_file = "%s/rejects.csv" }\ndaily "stats" { }\n' \
        "$d" "$d" >>"$d/tallyd.conf"
    : >"$d/empty"
    chmod 644 "$d/empty"
    ln -s "$d/empty" "$d/rejects.csv"
    # A reject file that cannot be written is logged; the row is counted
    # all the same, so the cycle itself succeeds.
    run -c "$d/tallyd.conf" --once --now 2026-11-22T03:00:00Z
    expect reject_symlink_refused 0 "cannot write rejected rows to $d/rejects.csv: a symlink"
    untouched reject_symlink_target_untouched "$d/empty" "" 644
    rm "$d/rejects.csv"
    mkfifo "$d/rejects.csv"
    bad_row "$d" a2
    run -c "$d/tallyd.conf" --once --now 2026-11-22T03:00:00Z
    expect reject_fifo_refused 0 "cannot write rejected rows to $d/rejects.csv: a FIFO"
    rm "$d/rejects.csv"
    bad_row "$d" a3
    run -c "$d/tallyd.conf" --once --now 2026-11-22T03:00:00Z
    expect reject_plain_file_written 0 "row set aside in $d/rejects.csv"
    check reject_file_mode_0600 [ "$(stat -c %a "$d/rejects.csv")" == 600 ]
    check reject_file_has_row grep -q '"a3,r1,not-a-time' "$d/rejects.csv"
}

# ---- item 13: a HUP whose config now includes a FIFO ------------------------
# The reload is refused at once, the running config stays, TERM still works.
hup_fifo_case() {
    local d
    d=$(case_dir hup_fifo)
    start "$d" "$d/tallyd.conf"
    local agent=$pid
    check hup_fifo_first_export wait_for 10 test -s "$d/out.json"
    mkfifo "$d/fifo.inc"
    printf 'include("%s")\n' "$d/fifo.inc" >>"$d/tallyd.conf"
    kill -HUP "$agent"
    check hup_fifo_refused wait_for 10 grep -qF "$d/fifo.inc is a FIFO; a config file must be a regular file" "$d/log"
    check hup_fifo_old_config_kept wait_for 10 grep -qF "keeping the running config" "$d/log"
    rm -f "$d/out.json"
    check hup_fifo_still_exporting wait_for 10 test -s "$d/out.json"
    stop "$agent" 20
    check hup_fifo_term_exit_0 [ "$status" == 0 ]
}

# ---- item 20: --once's status, an empty glob --------------------------------
# A file exporter whose directory is missing fails its export: --once
# exits 1 and says so; the same config with the directory exits 0.
once_status_case() {
    local d
    d=$(case_dir once_status)
    printf 'file "lost" { path = "%s/nodir/out.prom" format = "prometheus" }\n' "$d" >>"$d/tallyd.conf"
    run -c "$d/tallyd.conf" --once
    expect once_failed_export_exit_1 1 "--once: 1 plugin step failed (see above); exit status 1"
    check once_other_exporter_still_wrote test -s "$d/out.json"
    mkdir "$d/nodir"
    run -c "$d/tallyd.conf" --once
    expect once_all_exported_exit_0 0 ""
    check once_all_exported_file test -s "$d/nodir/out.prom"
}

# A csv source whose glob matches nothing warns at the default level, once
# in a running agent; again once files matched and then none do.
empty_glob_case() {
    local d
    d=$(case_dir empty_glob 'csv "usage" { path = "'"$work"'/empty_glob/in/usage*.csv" stream = "usage" }\ndaily "stats" { }\n')
    local warning="csv \"usage\": no file matches $d/in/usage*.csv: nothing is read until one does"
    run -c "$d/tallyd.conf" --once
    expect empty_glob_once_warns 0 "$warning"
    start "$d" "$d/tallyd.conf"
    local agent=$pid
    # interval 1: after 4 s, four cycles have seen no file.
    check empty_glob_warned wait_for 10 grep -qF "$warning" "$d/log"
    sleep 4
    check empty_glob_warned_once [ "$(grep -cF "$warning" "$d/log")" == 1 ]
    mkdir -p "$d/in"
    printf 'id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms\n' >"$d/in/usage.csv"
    sleep 3
    rm "$d/in/usage.csv"
    check empty_glob_warned_again wait_for 10 eval '[ "$(grep -cF "$warning" "$d/log")" == 2 ]'
    stop "$agent" 20
    check empty_glob_term_exit_0 [ "$status" == 0 ]
}

pidfile_case
hup_fifo_case
statedb_case
reject_case
once_status_case
empty_glob_case

totals
