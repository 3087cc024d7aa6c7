# tallyd_lib.sh — running tallyd in a shell test: sourced after
# check_lib.sh, never run. The script sets TALLYD (and PIDS=(), the
# agents started, for its cleanup to kill by pid).
# run ARGS...: tallyd with ARGS (killed after 60 s: a tallyd that blocks
# fails its check instead of hanging the suite); sets status and out
# (stdout + stderr). In a sanitizer build, a report is a failure whatever
# the status: status becomes "sanitizer report", which no check expects.
run() {
    status=0
    out=$(timeout -s KILL 60 "$TALLYD" "$@" 2>&1) || status=$?
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$out"; then
        status="sanitizer report"
    fi
}

# expect NAME STATUS TEXT: the last run exited with STATUS and printed TEXT
# (a fixed string).
expect() {
    if [[ $status == "$2" ]] && grep -qF -- "$3" <<<"$out"; then
        pass "$1"
    else
        fail "$1" "exit $status (want $2), missing: $3" "output: $out"
    fi
}

# kill_started: KILL every agent start() started (for the script's exit
# trap), by pid only.
kill_started() {
    local p
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
}

# alive PID / gone PID: whether the process runs, for check and wait_for.
alive() {
    kill -0 "$1" 2>/dev/null
}

gone() {
    ! kill -0 "$1" 2>/dev/null
}

# start DIR CONF [ARGS...]: tallyd -f in the background, its output in
# DIR/log; sets pid.
start() {
    local d=$1 conf=$2
    shift 2
    "$TALLYD" -c "$conf" -f "$@" >"$d/log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
}

# wait_exit PID SECONDS: wait at most SECONDS for PID to exit; sets status
# (its exit status, or "hung" if it had to be killed).
wait_exit() {
    if wait_for "$2" gone "$1"; then
        status=0
        wait "$1" || status=$?
    else
        kill -KILL "$1"
        wait "$1" 2>/dev/null
        status=hung
    fi
}

# stop PID SECONDS: TERM, then wait_exit; also sets took (seconds).
stop() {
    local t0=$SECONDS
    kill -TERM "$1"
    wait_exit "$1" "$2"
    took=$((SECONDS - t0))
}
