#!/usr/bin/env bash
# agent_notify_test.sh — tallyd under Type=notify (issue 14 part 5),
# against a stand-in for systemd's notify socket (notify_listener.py: an
# AF_UNIX datagram socket in a temp dir, NOTIFY_SOCKET pointing at it):
#   READY only after the first cycle, with its summary as STATUS;
#   HUP: RELOADING, then READY again;
#   TERM: STOPPING, exit 0;
#   with WATCHDOG_USEC and WATCHDOG_PID = tallyd's pid, WATCHDOG pings
#   while the interval (an hour) runs no cycle; none for another pid;
#   every message from tallyd's own pid (NotifyAccess=main);
#   nothing at all with NOTIFY_SOCKET unset.
#
# usage: agent_notify_test.sh TALLYD PLUGIN_DIR
# Agents and listeners are stopped by their PID only; every wait is bounded.
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
# (systemd-run is not used: the sandboxes this runs in have no systemd to
# run a unit; the socket protocol is what a unit would see.)
set -u

usage="usage: agent_notify_test.sh TALLYD PLUGIN_DIR"
TALLYD=$(realpath "${1:?$usage}")
PLUGINS=$(realpath "${2:?$usage}")
HERE=$(dirname "${BASH_SOURCE[0]}")
work=$(realpath "$(mktemp -d)")
unset JOURNAL_STREAM TALLYD_FAULT NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID

PIDS=() # agents and listeners started here, killed by PID at exit
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
source "$HERE/check_lib.sh"
source "$HERE/tallyd_lib.sh"

# case_dir NAME: DIR/tallyd.conf, an hour's interval, a csv source with two
# rows; prints DIR.
case_dir() {
    local d=$work/$1
    mkdir -p "$d/state" "$d/in"
    {
        echo 'id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms'
        echo 'a1,r1,2026-11-22T01:00:00Z,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100'
        echo 'a2,r2,2026-11-22T02:00:00Z,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100'
    } >"$d/in/usage.csv"
    cat >"$d/tallyd.conf" <<EOF
timezone = "UTC"
state_dir = "$d/state"
plugin_dir = "$PLUGINS"
interval = 3600
csv "usage" { path = "$d/in/usage*.csv" stream = "usage" }
daily "stats" { }
EOF
    echo "$d"
}

# listen DIR: a listener on DIR/notify.sock writing DIR/notify.log; sets
# lpid once it listens.
listen() {
    python3 "$HERE/notify_listener.py" "$1/notify.sock" "$1/notify.log" 120 &
    lpid=$!
    PIDS+=("$lpid")
    wait_for 10 grep -q listening "$1/notify.log"
}

# agent DIR [ENV...]: tallyd -f in the background with ENV (NAME=VALUE,
# where "WATCHDOG_PID=self" becomes its own pid: the shell execs it, so
# the pid stays); sets pid.
agent() {
    local d=$1
    shift
    bash -c 'for kv in "$@"; do [[ $kv == WATCHDOG_PID=self ]] && kv=WATCHDOG_PID=$$; export "$kv"; done
             exec "$0" -c "$1" -f' "$TALLYD" "$d/tallyd.conf" "$@" >"$d/log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
}

# messages DIR: the datagrams so far, one a line: "PID<TAB>LINE|LINE".
messages() {
    python3 - "$1/notify.log" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "lines" in o:
        print("%s\t%s" % (o["pid"], "|".join(o["lines"])))
EOF
}

# count DIR REGEX: how many datagrams match.
count() {
    messages "$1" | grep -cE -- "$2"
}

# seen DIR REGEX: a datagram matches (for wait_for).
seen() {
    messages "$1" | grep -qE -- "$2"
}

# clean NAME DIR: the agent's log has no sanitizer report (a sanitizer
# build's).
clean() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$2/log"; then
        fail "$1" "$(cat "$2/log")"
    else
        pass "$1"
    fi
}

# ---- READY, STATUS, RELOADING, STOPPING ----------------------------------------
lifecycle_case() {
    local d
    d=$(case_dir life)
    listen "$d" || { fail life_listener "the listener did not start"; return; }
    agent "$d" NOTIFY_SOCKET="$d/notify.sock"
    check life_ready wait_for 30 seen "$d" 'READY=1'
    # READY comes with the first cycle's summary, so after that cycle.
    check life_ready_after_first_cycle seen "$d" \
        '^[0-9]+	READY=1\|STATUS=last cycle ok at [0-9T:Z-]+ in [0-9.]+ s: 2 records, 0 rejected rows$'
    check life_ready_first [ "$(messages "$d" | head -n 1 | cut -f 2 | cut -d '|' -f 1)" == READY=1 ]
    check life_ready_once [ "$(count "$d" 'READY=1')" == 1 ]

    kill -HUP "$pid"
    check life_reloading wait_for 30 seen "$d" 'RELOADING=1'
    check life_ready_again wait_for 30 eval '[ "$(count "$d" "READY=1")" == 2 ]'
    # The order: READY, RELOADING, READY.
    check life_reload_order [ "$(messages "$d" | grep -oE 'READY=1|RELOADING=1' | tr '\n' ' ')" == \
        "READY=1 RELOADING=1 READY=1 " ]

    stop "$pid" 30
    check life_term_exit_0 [ "$status" == 0 ]
    check life_stopping seen "$d" 'STOPPING=1'
    check life_stopping_once [ "$(count "$d" 'STOPPING=1')" == 1 ]
    # No watchdog was asked for.
    check life_no_watchdog [ "$(count "$d" 'WATCHDOG=1')" == 0 ]
    check life_all_from_main_pid [ "$(messages "$d" | cut -f 1 | sort -u)" == "$pid" ]
    clean life_clean_log "$d"
}

# ---- the watchdog ---------------------------------------------------------------
watchdog_case() {
    local d
    d=$(case_dir watchdog)
    listen "$d" || { fail watchdog_listener "the listener did not start"; return; }
    # A 1 s watchdog: a ping each half second, though no cycle is due for
    # an hour: the loop wakes for the watchdog.
    agent "$d" NOTIFY_SOCKET="$d/notify.sock" WATCHDOG_USEC=1000000 WATCHDOG_PID=self
    check watchdog_ready wait_for 30 seen "$d" 'READY=1'
    check watchdog_pings wait_for 30 eval '[ "$(count "$d" "^[0-9]+	WATCHDOG=1$")" -ge 3 ]'
    check watchdog_between_cycles [ "$(count "$d" 'STATUS=last cycle')" == 1 ]
    check watchdog_from_main_pid [ "$(messages "$d" | cut -f 1 | sort -u)" == "$pid" ]
    stop "$pid" 30
    check watchdog_term_exit_0 [ "$status" == 0 ]
    clean watchdog_clean_log "$d"

    # The watchdog is another process's (WATCHDOG_PID names pid 1): none.
    d=$(case_dir watchdog_other)
    listen "$d" || { fail watchdog_other_listener "the listener did not start"; return; }
    agent "$d" NOTIFY_SOCKET="$d/notify.sock" WATCHDOG_USEC=1000000 WATCHDOG_PID=1
    check watchdog_other_ready wait_for 30 seen "$d" 'READY=1'
    sleep 3 # six pings' time, were they sent
    stop "$pid" 30
    check watchdog_other_stopping seen "$d" 'STOPPING=1'
    check watchdog_other_pid_no_pings [ "$(count "$d" 'WATCHDOG=1')" == 0 ]
}

# ---- not under systemd --------------------------------------------------------------
unset_case() {
    local d
    d=$(case_dir unset)
    listen "$d" || { fail unset_listener "the listener did not start"; return; }
    # The socket exists, but nothing tells tallyd about it.
    echo 'log_level = "debug"' >>"$d/tallyd.conf"
    agent "$d" WATCHDOG_USEC=1000000 WATCHDOG_PID=self
    check unset_cycle_ran wait_for 30 grep -q 'debug: cycle 1 ok' "$d/log"
    sleep 2 # four pings' time, were they sent
    kill -HUP "$pid"
    sleep 1
    stop "$pid" 30
    check unset_term_exit_0 [ "$status" == 0 ]
    check unset_nothing_sent [ "$(messages "$d" | wc -l)" == 0 ]
    clean unset_clean_log "$d"
}

lifecycle_case
watchdog_case
unset_case
totals
