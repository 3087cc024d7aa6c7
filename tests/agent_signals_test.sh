#!/usr/bin/env bash
# agent_signals_test.sh — real tallyd processes in the foreground (-f), fed
# by a region the `tally` tool writes to, exporting through two file
# exporters, driven by signals:
#   HUP   a broken config is reported and the running one kept (exports go
#         on); a good one takes effect;
#   TERM  a last cycle and export, exit 0, pidfile removed;
#   USR1  an export now, whatever the interval;
#   a blocking exporter delays neither the other exporter nor shutdown
#   (abandoned after the grace period);
#   a missing or read-only state_dir stops the start with a message.
#
# usage: agent_signals_test.sh TALLYD TALLY PLUGIN_DIR BLOCK_PLUGIN_DIR
# Agents are stopped by their PID only; every wait is bounded. Each case
# works in its own directory inside a private mktemp -d, removed at exit.
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

usage="usage: agent_signals_test.sh TALLYD TALLY PLUGIN_DIR BLOCK_PLUGIN_DIR"
TALLYD=${1:?$usage}
TALLY=${2:?$usage}
PLUGINS=$(realpath "${3:?$usage}")
BLOCK_PLUGINS=$(realpath "${4:?$usage}")
work=$(realpath "$(mktemp -d)")
unset TALLY_REGION TALLYD_FAULT

# The agent's grace period for exporters at shutdown (EXPORT_GRACE_MS).
GRACE=10

PIDS=()    # agents started here, killed by PID at exit if still running
MOUNTS=()  # tmpfs mounts made here
cleanup() {
    local m
    kill_started
    for m in "${MOUNTS[@]}"; do
        umount "$m" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tallyd_lib.sh"

# counter FILE NAME: the value of counter NAME in the JSON summary FILE, or
# nothing if the file or the counter is not there (yet).
counter() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
try:
    print(json.load(open(sys.argv[1]))["counters"][sys.argv[2]])
except Exception:
    pass
EOF
}

# counter_is FILE NAME VALUE: for wait_for.
counter_is() {
    [[ $(counter "$1" "$2") == "$3" ]]
}

# prom_has FILE NAME VALUE: the Prometheus text FILE has counter NAME at
# VALUE.
prom_has() {
    grep -qxF "tally_region_value{name=\"$2\"} $3" "$1"
}

# log_has LOG TEXT: the agent's log holds TEXT (a fixed string).
log_has() {
    grep -qF -- "$2" "$1"
}


mtime() {
    stat -c %Y.%y "$1" 2>/dev/null
}

# config FILE DIR INTERVAL JSON PROM [EXTRA]: an agent config for case dir
# DIR: the shm source on DIR/region, a JSON and a Prometheus file exporter.
config() {
    cat >"$1" <<EOF
# written by agent_signals_test.sh
state_dir = "$2/state"
plugin_dir = "${PLUGIN_DIR_FOR_CONF:-$PLUGINS}"
timezone = "UTC"
interval = $3
shm "counters" { region = "$2/region" }
file "json" { path = "$4"  format = "json" }
file "prom" { path = "$5"  format = "prometheus" }
${6:-}
EOF
}

# case_dir NAME: a fresh directory for one case, with its state dir and a
# region the tally tool creates.
case_dir() {
    local d="$work/$1"
    mkdir -p "$d/state"
    "$TALLY" -r "$d/region" add "$1.start" 1 >/dev/null
    echo "$d"
}

# ---- HUP ------------------------------------------------------------------
hup_case() {
    local d conf
    d=$(case_dir hup)
    conf="$d/tallyd.conf"
    config "$conf" "$d" 1 "$d/out.json" "$d/out.prom"
    "$TALLY" -r "$d/region" add hup.count 1 >/dev/null
    start "$d" "$conf"
    check hup_first_export wait_for 10 counter_is "$d/out.json" hup.count 1
    check hup_prom_export wait_for 10 prom_has "$d/out.prom" hup.count 1

    # A broken config: reported with file and line, the old one kept.
    cp "$conf" "$d/good.conf"
    printf 'intervall = 5\n' >>"$conf"
    local bad_line
    bad_line=$(wc -l <"$conf")
    kill -HUP "$pid"
    check hup_bad_reported wait_for 10 log_has "$d/log" \
        "$conf:$bad_line: no such option 'intervall'"
    check hup_bad_kept wait_for 10 log_has "$d/log" \
        "reload of $conf failed (see above); keeping the running config"
    check hup_bad_still_running alive "$pid"
    # Still exporting with the old config: a new value shows, and the file
    # is written again (new mtime).
    local before
    before=$(mtime "$d/out.json")
    "$TALLY" -r "$d/region" add hup.count 1 >/dev/null
    check hup_bad_exports_go_on wait_for 10 counter_is "$d/out.json" hup.count 2
    check hup_bad_mtime_moves wait_for 10 eval '[[ $(mtime "$d/out.json") != "$before" ]]'

    # A good config that moves the JSON output: the new path gets the
    # exports, the old one no more.
    config "$conf" "$d" 1 "$d/moved.json" "$d/out.prom"
    kill -HUP "$pid"
    check hup_good_reloaded wait_for 10 log_has "$d/log" "reloaded $conf"
    "$TALLY" -r "$d/region" add hup.count 1 >/dev/null
    check hup_good_new_path wait_for 10 counter_is "$d/moved.json" hup.count 3
    # With interval 1, three seconds without a write mean nobody writes it.
    before=$(mtime "$d/out.json")
    sleep 3
    check hup_good_old_path_left [ "$(mtime "$d/out.json")" == "$before" ]
    check hup_good_still_running alive "$pid"

    stop "$pid" 20
    check hup_term_exit_0 [ "$status" == 0 ]
}

# ---- HUP, again and again, with an error in an included file ---------------
# libconfuse 3.3's own include left its include stack behind on an error:
# after ten such reloads no include worked any more, and each leaked a
# descriptor.
# fd_floor PID: the fewest descriptors PID holds over two seconds. A cycle
# (every second here) holds a snapshot's read connection and the
# exporters' files for a while: one sample could catch them.
fd_floor() {
    local m=1000000 n k
    for k in $(seq 1 20); do
        n=$(ls "/proc/$1/fd" | wc -l)
        [ "$n" -lt "$m" ] && m=$n
        sleep 0.1
    done
    echo "$m"
}

hup_include_case() {
    local d conf i fds_before fds_after
    d=$(case_dir hupinc)
    conf="$d/tallyd.conf"
    config "$conf" "$d" 1 "$d/out.json" "$d/out.prom" "include(\"$d/more.inc\")"
    printf 'shm "more" { region = "%s/region2" }\n' "$d" >"$d/more.inc"
    "$TALLY" -r "$d/region2" add hupinc.more 1 >/dev/null
    start "$d" "$conf"
    check hupinc_first_export wait_for 10 counter_is "$d/out.json" hupinc.more 1
    fds_before=$(fd_floor "$pid")
    printf 'shm "more" {\n    regoin = "x"\n}\n' >"$d/more.inc"
    for i in $(seq 1 12); do
        kill -HUP "$pid"
        wait_for 10 eval '[[ $(grep -c "reload of $conf failed" "$d/log") == "$i" ]]' || break
    done
    check hupinc_12_failed_reloads [ "$(grep -c "reload of $conf failed" "$d/log")" == 12 ]
    check hupinc_names_included_file log_has "$d/log" "$d/more.inc:2: no such option 'regoin'"
    fds_after=$(fd_floor "$pid")
    # A leak is one descriptor per failed reload, 12 here; a snapshot's
    # read of the state (the database, its WAL and shm) may be open at any
    # sample, so up to 3 more is not one.
    check hupinc_no_descriptor_leak [ "$fds_after" -le $((fds_before + 3)) ]
    printf 'shm "more" { region = "%s/region2" }\n' "$d" >"$d/more.inc"
    kill -HUP "$pid"
    check hupinc_good_reload_after_failures wait_for 10 log_has "$d/log" "reloaded $conf"
    "$TALLY" -r "$d/region2" add hupinc.more 1 >/dev/null
    check hupinc_exports_after wait_for 10 counter_is "$d/out.json" hupinc.more 2
    stop "$pid" 20
    check hupinc_term_exit_0 [ "$status" == 0 ]
}

# ---- TERM -----------------------------------------------------------------
term_case() {
    local d conf
    d=$(case_dir term)
    conf="$d/tallyd.conf"
    # interval 3600: after the first cycle, only the exit can export again.
    config "$conf" "$d" 3600 "$d/out.json" "$d/out.prom"
    "$TALLY" -r "$d/region" add term.count 1 >/dev/null
    start "$d" "$conf" -p "$d/tallyd.pid"
    check term_pidfile_written wait_for 10 eval '[[ $(cat "$d/tallyd.pid" 2>/dev/null) == "$pid" ]]'
    check term_first_export wait_for 10 counter_is "$d/out.json" term.count 1
    "$TALLY" -r "$d/region" add term.count 7 >/dev/null
    stop "$pid" 20
    check term_exit_0 [ "$status" == 0 ]
    check term_final_export_json counter_is "$d/out.json" term.count 8
    check term_final_export_prom prom_has "$d/out.prom" term.count 8
    check term_pidfile_removed [ ! -e "$d/tallyd.pid" ]
    check term_log_stopped log_has "$d/log" "tallyd info: stopped"
}

# ---- INT ------------------------------------------------------------------
# INT is TERM for a user at a terminal: the same last export.
int_case() {
    local d conf
    d=$(case_dir int)
    conf="$d/tallyd.conf"
    config "$conf" "$d" 3600 "$d/out.json" "$d/out.prom"
    start "$d" "$conf"
    check int_first_export wait_for 10 counter_is "$d/out.json" int.start 1
    "$TALLY" -r "$d/region" add int.start 2 >/dev/null
    kill -INT "$pid"
    wait_exit "$pid" 20
    check int_exit_0 [ "$status" == 0 ]
    check int_final_export counter_is "$d/out.json" int.start 3
}

# ---- USR1 -----------------------------------------------------------------
usr1_case() {
    local d conf
    d=$(case_dir usr1)
    conf="$d/tallyd.conf"
    config "$conf" "$d" 3600 "$d/out.json" "$d/out.prom"
    start "$d" "$conf"
    check usr1_first_export wait_for 10 counter_is "$d/out.json" usr1.start 1
    "$TALLY" -r "$d/region" add usr1.count 5 >/dev/null
    kill -USR1 "$pid"
    check usr1_exports_now wait_for 5 counter_is "$d/out.json" usr1.count 5
    "$TALLY" -r "$d/region" add usr1.count 5 >/dev/null
    kill -USR1 "$pid"
    check usr1_exports_again wait_for 5 counter_is "$d/out.json" usr1.count 10
    check usr1_prom_too prom_has "$d/out.prom" usr1.count 10
    check usr1_still_running alive "$pid"
    stop "$pid" 20
    check usr1_term_exit_0 [ "$status" == 0 ]
}

# ---- a blocking exporter --------------------------------------------------
block_case() {
    local d conf plugdir
    d=$(case_dir block)
    conf="$d/tallyd.conf"
    # One plugin dir with the real plugins and block.so, all copies.
    plugdir="$d/plugins"
    mkdir -p "$plugdir"
    cp "$PLUGINS/shm.so" "$PLUGINS/file.so" "$BLOCK_PLUGINS/block.so" "$plugdir/"
    PLUGIN_DIR_FOR_CONF=$plugdir config "$conf" "$d" 1 "$d/out.json" "$d/out.prom" \
        "block \"stuck\" { record = \"$d/record\"  release = \"$d/release\" }"
    start "$d" "$conf"
    check block_export_started wait_for 10 grep -q start "$d/record"
    # block is stuck in its first export; the file exporters go on.
    local i
    for i in 1 2 3; do
        "$TALLY" -r "$d/region" add block.count 1 >/dev/null
        check "block_file_exporter_goes_on_$i" wait_for 5 counter_is "$d/out.json" block.count "$i"
    done
    check block_prom_goes_on prom_has "$d/out.prom" block.count 3
    # One export at a time per exporter: still the first one.
    check block_one_export_at_a_time [ "$(grep -c start "$d/record")" == 1 ]

    "$TALLY" -r "$d/region" add block.count 1 >/dev/null
    stop "$pid" $((GRACE + 10))
    check block_term_exit_0 [ "$status" == 0 ]
    check block_term_within_grace [ "$took" -le $((GRACE + 5)) ]
    check block_abandoned_logged log_has "$d/log" \
        "block \"stuck\": export still running after $((GRACE * 1000)) ms; abandoning it (check the destination)"
    check block_final_export_despite_block counter_is "$d/out.json" block.count 4
    touch "$d/release"
}

# ---- state_dir ------------------------------------------------------------
state_dir_case() {
    local d conf
    d="$work/statedir"
    mkdir -p "$d"
    "$TALLY" -r "$d/region" add statedir.start 1 >/dev/null

    conf="$d/missing.conf"
    config "$conf" "$d" 1 "$d/out.json" "$d/out.prom"
    sed -i "s|^state_dir = .*|state_dir = \"$d/nope\"|" "$conf"
    start "$d" "$conf" -p "$d/missing.pid"
    wait_exit "$pid" 20
    check state_dir_missing_exit_1 [ "$status" == 1 ]
    check state_dir_missing_message log_has "$d/log" \
        "state_dir '$d/nope' does not exist or is not a directory: create it (mkdir -p) or point state_dir at a writable directory"
    check state_dir_missing_pidfile_removed [ ! -e "$d/missing.pid" ]
    check state_dir_missing_no_export [ ! -e "$d/out.json" ]
    mv "$d/log" "$d/log.missing"

    # Root writes through any mode bits, so read-only means a read-only
    # mount here.
    mkdir -p "$d/ro"
    if ! mount -t tmpfs -o ro,size=64k tmpfs "$d/ro" 2>"$d/mount.err"; then
        fail state_dir_readonly_mount "cannot mount a read-only tmpfs (root needed): $(cat "$d/mount.err")"
        return
    fi
    MOUNTS+=("$d/ro")
    conf="$d/ro.conf"
    config "$conf" "$d" 1 "$d/out.json" "$d/out.prom"
    sed -i "s|^state_dir = .*|state_dir = \"$d/ro\"|" "$conf"
    start "$d" "$conf"
    wait_exit "$pid" 20
    check state_dir_readonly_exit_1 [ "$status" == 1 ]
    check state_dir_readonly_message log_has "$d/log" \
        "state_dir '$d/ro' is not writable by uid 0: Read-only file system; fix its owner or mode, or point state_dir elsewhere"
    # --once takes the same path.
    local out
    status=0
    out=$("$TALLYD" -c "$conf" --once 2>&1) || status=$?
    printf '%s\n' "$out" >>"$d/log"
    check state_dir_readonly_once_exit_1 [ "$status" == 1 ]
    check state_dir_readonly_once_message grep -qF "state_dir '$d/ro' is not writable" <<<"$out"
    umount "$d/ro" && MOUNTS=()
}

hup_case
hup_include_case
term_case
int_case
usr1_case
block_case
state_dir_case

# In a sanitizer build, any report in any agent's output is a failure.
reports=$(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work"/*/log* 2>/dev/null)
check no_sanitizer_reports [ -z "$reports" ]
[ -z "$reports" ] || sed 's/^/       /' $reports

totals
