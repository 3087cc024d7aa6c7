# soak_lib.sh — soak.sh's moving parts: sourced, never run. The agent and
# the http receiver started and stopped by pid, the application's bursts,
# one chaos step, the per-minute samples, and the checks (soak_check.py).
# The caller defines say, $here, $work, $tallyd, $app, $region (as the
# agent names it), $region_file, $port and $stop_file (before the
# application starts).

pids=()        # every process started here, killed by pid at exit
writer_pids=()
failures=()
agent_pid=""
rx_pid=""
n_hup=0 n_kill=0 n_rx_down=0 n_rx_up=0 n_region=0

soak_cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -z "${region_file:-}" ] || rm -f "$region_file"
    if [ "$keep" = 1 ] || [ "$rc" -ne 0 ]; then
        say "work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}

record_failure() {
    failures+=("$*")
    say "FAIL: $*"
}

fail_now() {
    record_failure "$*"
    exit 1
}

# wait_for SECONDS COMMAND...: COMMAND every 0.2 s until it succeeds;
# fails after SECONDS.
wait_for() {
    local until=$(($(date +%s) + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || return 1
        sleep 0.2
    done
}

# alive PID: running, not a zombie waiting for our wait (kill -0 succeeds
# on those).
alive() {
    local st
    [ -n "$1" ] && st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}
not_alive() { ! alive "$1"; }

# wait_gone PID SECONDS: wait for a child to end, killing it after SECONDS.
# Sets gone_status (124 if it had to be killed).
wait_gone() {
    if wait_for "$2" not_alive "$1"; then
        gone_status=0
        wait "$1" 2>/dev/null || gone_status=$?
        return 0
    fi
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    gone_status=124
    return 1
}

# --- the agent -----------------------------------------------------------------
agent_start() {
    echo "--- soak: tallyd -f started at $(date -u +%FT%TZ)" >>"$work/agent.log"
    "$tallyd" -f -c "$work/tallyd.conf" >>"$work/agent.log" 2>&1 &
    agent_pid=$!
    pids+=("$agent_pid")
}

agent_kill() {
    kill -KILL "$agent_pid" 2>/dev/null
    wait "$agent_pid" 2>/dev/null
    echo "--- soak: tallyd killed (-9) at $(date -u +%FT%TZ)" >>"$work/agent.log"
    agent_pid=""
}

agent_stop() {
    alive "$agent_pid" || return 0
    kill -TERM "$agent_pid"
    if ! wait_gone "$agent_pid" 120; then
        record_failure "tallyd did not stop within 120 s of SIGTERM"
    elif [ "$gone_status" -ne 0 ]; then
        record_failure "tallyd exited $gone_status after SIGTERM (log: $work/agent.log)"
    fi
    agent_pid=""
}

# summary_changed STAMP: summary.json was written since its mtime was STAMP.
summary_changed() { [ "$(stat -c %y "$work/summary.json" 2>/dev/null)" != "$1" ]; }

# cycles N: wait (up to 60 s each) until the agent wrote summary.json N more times.
cycles() {
    local i m
    for ((i = 0; i < $1; i++)); do
        m=$(stat -c %y "$work/summary.json" 2>/dev/null)
        wait_for 60 summary_changed "$m" || return 1
    done
}

# --- the http receiver ---------------------------------------------------------
rx_up() {
    rm -f "$work/rx.ready"
    python3 "$repo/tests/http_receiver.py" --port "$port" --log "$work/rx.jsonl" --ready "$work/rx.ready" \
        >>"$work/rx.err" 2>&1 &
    rx_pid=$!
    pids+=("$rx_pid")
    # The port was free a moment ago; one still in TIME_WAIT may take a while.
    if ! wait_for 60 test -s "$work/rx.ready"; then
        record_failure "the http receiver did not listen on 127.0.0.1:$port within 60 s ($work/rx.err)"
        kill -KILL "$rx_pid" 2>/dev/null
        wait "$rx_pid" 2>/dev/null
        rx_pid=""
    fi
}

rx_down() {
    kill -TERM "$rx_pid" 2>/dev/null
    wait_gone "$rx_pid" 30
    rx_pid=""
}

# --- the application: a new process per burst ----------------------------------
# Each burst is 2 processes adding ITERS times to two daily counters; the
# lock keeps a region removal between bursts, never during one.
app_loop() {
    local iters amount
    while [ ! -e "$stop_file" ]; do
        iters=$((20 + RANDOM % 200))
        amount=$((1 + RANDOM % 1000))
        flock "$work/region.lock" "$app" "$region" 2 "$iters" 1000 \
            soak.requests=1 "soak.bytes=$amount" >>"$work/app.err" 2>&1 || return 1
        echo "$((2 * iters)) $((2 * iters * amount))" >>"$work/app.tsv"
        sleep "0.$((RANDOM % 5))"
    done
}

# --- chaos ---------------------------------------------------------------------
replaced_count() { grep -c "was removed or replaced while open" "$work/agent.log"; }
replaced_since() { [ "$(replaced_count)" -gt "$1" ]; }

region_recreate() {
    local before
    before=$(replaced_count)
    flock "$work/region.lock" rm -f "$region_file"
    # The agent must see the replacement before anything else happens: it
    # alone still maps the old region, and carries its counts over.
    if ! wait_for 120 replaced_since "$before"; then
        record_failure "the agent did not log the region's replacement within 120 s"
        return
    fi
    cycles 2 || record_failure "the agent wrote no summary within 60 s after reopening the region"
    n_region=$((n_region + 1))
}

# A HUP stops every plugin instance and starts it again: a region removed
# while the new shm instance opens would be a region removed while no one
# maps it (its counts since the last cycle are gone, by design), so the
# next step waits until the reload is done or refused.
reload_count() { grep -c "tallyd info: reloaded \|reload of .* failed" "$work/agent.log"; }
reloaded_since() { [ "$(reload_count)" -gt "$1" ]; }

agent_hup() {
    local before
    before=$(reload_count)
    kill -HUP "$agent_pid"
    n_hup=$((n_hup + 1))
    wait_for 60 reloaded_since "$before" || record_failure "the agent did not finish a reload within 60 s of a HUP"
    cycles 1 || record_failure "the agent wrote no summary within 60 s after a reload"
}

chaos_step() {
    local what=$((RANDOM % 4))
    if ! alive "$agent_pid"; then
        agent_start
        return
    fi
    case $what in
    0)
        agent_hup
        ;;
    1)
        agent_kill
        n_kill=$((n_kill + 1))
        sleep $((RANDOM % 4))
        agent_start
        ;;
    2)
        if [ -n "$rx_pid" ]; then
            rx_down
            n_rx_down=$((n_rx_down + 1))
        else
            rx_up
            n_rx_up=$((n_rx_up + 1))
        fi
        ;;
    3)
        # Only a region the running agent has opened: a whole cycle first,
        # however long its start took on a loaded machine.
        if cycles 1; then
            region_recreate
        else
            record_failure "the agent wrote no summary within 60 s before a region removal"
        fi
        ;;
    esac
}

# --- samples -------------------------------------------------------------------
sample_header() {
    printf '%6s %8s %10s %5s %12s %12s %6s\n' "t(s)" pid "rss(KiB)" fds "db+wal(B)" "spool(B)" files
    printf 't\tpid\trss\tfds\tdb\tspool\tfiles\n' >"$work/samples.tsv"
}

sample() {
    local t=$1 rss="-" fds="-" dbb wal=0 spool files
    if alive "$agent_pid"; then
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status" 2>/dev/null)
        fds=$(ls "/proc/$agent_pid/fd" 2>/dev/null | wc -l)
    fi
    dbb=$(stat -c %s "$db" 2>/dev/null || echo 0)
    [ -e "$db-wal" ] && wal=$(stat -c %s "$db-wal")
    spool=$(sqlite3 -cmd ".timeout 5000" "file:$db?mode=ro" "SELECT COALESCE(SUM(bytes),0) FROM spool" 2>/dev/null || echo 0)
    files=$(ls "$work/logs" | wc -l)
    printf '%6s %8s %10s %5s %12s %12s %6s\n' "$t" "${agent_pid:--}" "${rss:--}" "${fds:--}" \
        $((dbb + wal)) "$spool" "$files"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${agent_pid:--}" "${rss:--}" "${fds:--}" \
        $((dbb + wal)) "$spool" "$files" >>"$work/samples.tsv"
}

# --- checks --------------------------------------------------------------------
check_py() { python3 "$here/soak_check.py" "$work" "$@"; }
expect_totals() { check_py expect || record_failure "cannot add up what was written"; }
totals_match() { check_py match; }
spool_rows() { sqlite3 -cmd ".timeout 5000" "file:$db?mode=ro" "SELECT COUNT(*) FROM spool" 2>/dev/null; }
spool_empty() { [ "$(spool_rows)" = 0 ]; }
check_totals() { check_py totals || record_failure "totals differ from what was written (table above)"; }
check_http() { check_py http || record_failure "the receiver's last snapshot is not the file exporter's"; }

final_table() {
    check_py samples "$window" || record_failure "RSS, descriptors or the database grew beyond their bounds"
    printf '\nevents: %s HUP, %s kill -9, %s receiver stops, %s receiver starts, %s region recreations\n' \
        "$n_hup" "$n_kill" "$n_rx_down" "$n_rx_up" "$n_region"
    if [ "${#failures[@]}" -eq 0 ]; then
        echo "soak: PASS"
    else
        echo "soak: FAIL (${#failures[@]}):"
        printf '  %s\n' "${failures[@]}"
    fi
}
