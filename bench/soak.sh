#!/usr/bin/env bash
# soak.sh — tallyd under load and abuse for a given time; at the end every
# total must equal what was written, and its RSS, descriptors and state
# database must have stayed flat.
#
#   bench/soak.sh [--minutes N] [--smoke] [--seed S] [--region PATH] [--build DIR] [--keep]
#
# tallyd -f runs at a 1 s interval (csv source, daily collector, shm
# source, a json file exporter and a json http exporter) for N minutes
# (default 10; --smoke: 60 s, the ctest test soak_smoke) while:
#   - three writers (soak_writer.py) append usage rows to CSV files and
#     rotate them by rename, by copytruncate, and by rename + gzip; about
#     one row in 40 is bad and must be set aside;
#   - an application (tests/e2e_app.c, a new process per burst, so each
#     burst attaches to whatever region is there) bumps daily counters
#     soak.requests and soak.bytes by known amounts;
#   - at random moments one of: SIGHUP to the agent; kill -9 of the agent,
#     restarted after up to 3 s; the http receiver (tests/http_receiver.py
#     on a free 127.0.0.1 port) stopped, or started again; the region
#     removed between two bursts (the app recreates it, the agent must
#     carry what it counted into the new one).
# Processes are stopped by their pid only.
#
# Then writers and app stop, the receiver and agent are up, and the script
# waits (deadlines, no fixed sleeps) until the JSON shows everything, then
# stops the agent with TERM and checks:
#   - combined.total_requests == good rows written, and
#     sum(days) + today == the same; rejected_rows == bad rows written;
#     combined.input_tokens == the good rows' tokens;
#   - per shm counter, live value + sum of its counter_days == bumps
#     written. A region is removed only while the agent runs and has it
#     open, and the next chaos step waits until the agent logged the
#     replacement: a region removed while the agent is down takes what it
#     counted since the last rollover with it, and that loss is by design;
#   - the last body the receiver accepted equals the file exporter's JSON.
# Every minute (10 s with --smoke) the agent's RSS, open descriptors
# (/proc/PID/fd) and state database size (tally.db + -wal) are printed.
# After the first minute (20 s with --smoke) each sample must stay within:
#   RSS  <= 2 x the first minute's largest;
#   fds  <= the first minute's most + 5 + files the csv glob matches beyond
#           what it matched then (the csv source holds each file it follows
#           open, so a rotated file not yet removed is one descriptor);
#   db   <= 2 x the first minute's largest + 8 MiB (a WAL grows to about
#           4 MiB between checkpoints and keeps its size) + the most the
#           http spool ever held (payloads kept while the receiver was
#           down leave free pages behind).
# The run's time is a given, never an assertion. Exit 0 when every check
# passed, 1 otherwise; the work directory is kept on failure (or --keep).
#   --region PATH  the region as a file path instead of a POSIX shm name
#                (default: /dev/shm/tally-soak.*, as deployments use it)
#   --build DIR  use an existing build tree as it is (nothing is built);
#                default: build-bench/ (Release), configured and built here
set -uo pipefail
export LC_ALL=C

minutes=10
smoke=0
seed=$$
build=""
keep=0
region=""
usage() { sed -n '2,53p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) minutes=${2:?}; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --seed) seed=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --region) region=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$minutes" in '' | *[!0-9]* | 0) echo "soak.sh: --minutes needs a number >= 1" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "soak.sh: --seed needs a number" >&2; exit 2 ;; esac
if [ "$smoke" = 1 ]; then
    duration=60 sample_every=10 window=20 pause_min=2 pause_max=6
else
    duration=$((minutes * 60)) sample_every=60 window=60 pause_min=4 pause_max=15
fi
RANDOM=$((seed % 32768))

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
say() { printf 'soak: %s\n' "$*" >&2; }
die() { printf 'soak.sh: %s\n' "$*" >&2; exit 1; }
. "$here/bench_lib.sh"

command -v python3 >/dev/null || die "python3 missing (scripts/deps.sh)"
command -v sqlite3 >/dev/null || die "sqlite3 missing (scripts/deps.sh)"
command -v flock >/dev/null || die "flock missing (util-linux)"

build=$(bench_build "$build" tallyd e2e_app plugin_csv plugin_daily plugin_shm plugin_file plugin_http) ||
    die "build failed"
tallyd="$build/agent/tallyd"
app="$build/tests/e2e_app"
plugin_dir="$build/lib/tally"
for f in "$tallyd" "$app"; do
    [ -x "$f" ] || die "$f was not built"
done
for p in csv daily shm file http; do
    [ -f "$plugin_dir/$p.so" ] || die "$plugin_dir/$p.so was not built"
done

# --- scratch and the processes we started ----------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-soak.XXXXXX")
. "$here/soak_lib.sh"
trap soak_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$work/logs" "$work/state"
db="$work/state/tally.db"
# The region as the agent and the application name it, and its file.
if [ -z "$region" ]; then
    region="tally-soak.${work##*.}"
    region_file="/dev/shm/$region"
else
    case "$region" in */*) ;; *) die "--region takes a path with a /" ;; esac
    region_file=$region
    [ ! -e "$region_file" ] || die "$region_file exists: give a path soak.sh may create and remove"
fi
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$work/tallyd.conf" <<EOF
timezone   = "UTC"
state_dir  = "$work/state"
interval   = 1
plugin_dir = "$plugin_dir"
csv "usage" { path = "$work/logs/usage-*.csv*"  stream = "usage"  reject_file = "$work/rejects.csv" }
daily "stats" { }
shm "app" { region = "$region"  daily = {"soak.*"} }
file "json" { path = "$work/summary.json"  format = "json" }
http "push" { url = "http://127.0.0.1:$port/push"  format = "json"  timeout = 5  connect_timeout = 2
              retry_wait = 0.2  retry_max_wait = 2 }
EOF
"$tallyd" -t -c "$work/tallyd.conf" >"$work/check.log" 2>&1 || die "tallyd -t refused the config: $(cat "$work/check.log")"

say "work directory $work; $duration s; seed $seed; build $build"
rx_up
agent_start
wait_for 60 test -s "$work/summary.json" || fail_now "the agent wrote no summary.json within 60 s"

# --- load: writers and the application ---------------------------------------
stop_file="$work/stop"
for spec in a:rename b:copytruncate c:gzip; do
    name=${spec%%:*}
    python3 "$here/soak_writer.py" --dir "$work/logs" --name "$name" --mode "${spec#*:}" \
        --db "$db" --stop "$stop_file" --report "$work/writer-$name.json" \
        --seed $((seed + ${#name} + RANDOM)) 2>>"$work/writer-$name.err" &
    pids+=($!)
    writer_pids+=($!)
done
app_loop &
pids+=($!)
app_pid=$!

# --- chaos and samples ---------------------------------------------------------
t0=$(date +%s)
next_sample=$((t0 + sample_every))
sample_header
while [ $(($(date +%s) - t0)) -lt "$duration" ]; do
    pause=$((pause_min + RANDOM % (pause_max - pause_min + 1)))
    deadline=$(($(date +%s) + pause))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if [ "$(date +%s)" -ge "$next_sample" ]; then
            sample $(($(date +%s) - t0))
            # A chaos step that waited long delays a sample; none is made up.
            while [ "$next_sample" -le "$(date +%s)" ]; do
                next_sample=$((next_sample + sample_every))
            done
        fi
        sleep 0.5
    done
    [ $(($(date +%s) - t0)) -lt "$duration" ] || break
    chaos_step
done
sample $(($(date +%s) - t0))

# --- the end: stop the load, let the agent catch up, check -----------------
say "stopping the writers and the application"
: >"$stop_file"
for p in "${writer_pids[@]}"; do
    wait "$p" || record_failure "a writer (pid $p) failed: see $work/writer-*.err"
done
wait "$app_pid" || record_failure "the application loop failed: see $work/app.err"
expect_totals
[ -n "$rx_pid" ] || rx_up
alive "$agent_pid" || agent_start
say "waiting for the agent to count everything (up to 240 s)"
wait_for 240 totals_match || record_failure "the totals did not reach what was written within 240 s"
say "waiting for the http spool to drain (up to 120 s)"
wait_for 120 spool_empty || record_failure "the http spool still holds $(spool_rows) payloads after 120 s"
agent_stop
check_totals
check_http
final_table
[ "${#failures[@]}" -eq 0 ] || { keep=1; exit 1; }
exit 0
