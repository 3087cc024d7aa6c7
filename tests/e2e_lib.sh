# e2e_lib.sh — sourced by the e2e_*_test.sh scripts: arguments, a private
# work directory, pass/fail bookkeeping, bounded waits, configs, and
# reading the agent's outputs.
#
# Scripts are run as: e2e_X_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
# and end with exactly "N passed, M failed" (exit 1 if any failed).
# E2E_KEEP=1 keeps the work directory for a look after a failure.

TALLYD=${1:?usage: $0 TALLYD TALLY PLUGIN_DIR E2E_APP}
TALLY=${2:?usage: $0 TALLYD TALLY PLUGIN_DIR E2E_APP}
PLUGIN_DIR=${3:?usage: $0 TALLYD TALLY PLUGIN_DIR E2E_APP}
APP=${4:?usage: $0 TALLYD TALLY PLUGIN_DIR E2E_APP}
for f in "$TALLYD" "$TALLY" "$APP"; do
    [ -x "$f" ] || { echo "$f is not an executable; build first"; echo "0 passed, 1 failed"; exit 1; }
done
for f in "$PLUGIN_DIR/shm.so" "$PLUGIN_DIR/file.so"; do
    [ -f "$f" ] || { echo "$f is missing; build first"; echo "0 passed, 1 failed"; exit 1; }
done
command -v python3 >/dev/null || { echo "python3 is missing: run scripts/deps.sh"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-e2e.XXXXXX")
# PIDs of servers and agents this script started; stopped at exit, by PID.
E2E_PIDS=()
e2e_cleanup() {
    local p
    for p in "${E2E_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${E2E_KEEP:-}" ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap e2e_cleanup EXIT
unset TALLY_REGION TALLYD_FAULT
export LC_ALL=C.UTF-8

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
# check NAME GOT WANT: exact string comparison.
check() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1" "got:  $2" "want: $3"
    fi
}
finish() {
    totals
    exit $?
}

free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# wait_pid PID SECONDS: wait for a child of ours, killing it if it is still
# running after SECONDS. Sets WAIT_STATUS (124 if it had to be killed).
wait_pid() {
    local i limit=$(($2 * 10))
    for ((i = 0; i < limit; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
        WAIT_STATUS=124
        return 1
    fi
    WAIT_STATUS=0
    wait "$1" 2>/dev/null || WAIT_STATUS=$?
    return 0
}

# write_conf DIR TIMEZONE INTERVAL DAILY_LIST [EXTRA_SECTIONS]: DIR/tallyd.conf
# with the state in DIR/state, the region at DIR/region, a json file
# exporter to DIR/summary.json and a prometheus one to DIR/tally.prom (or
# the path in PROM_PATH).
write_conf() {
    local dir=$1 tz=$2 interval=$3 daily=$4
    mkdir -p "$dir/state"
    cat >"$dir/tallyd.conf" <<EOF
timezone   = "$tz"
state_dir  = "$dir/state"
interval   = $interval
plugin_dir = "$PLUGIN_DIR"
shm "counters" { region = "$dir/region"  daily = {$daily} }
file "summary"  { path = "$dir/summary.json"  format = "json" }
file "textfile" { path = "${PROM_PATH:-$dir/tally.prom}"  format = "prometheus" }
${5:-}
EOF
}

# once DIR NOW [FAULT]: one cycle at NOW; sets ONCE_STATUS; the agent's log
# is in DIR/agent.log (appended). Bounded by 120 s.
once() {
    local dir=$1 now=$2 fault=${3:-}
    echo "--- tallyd --once --now $now ${fault:+TALLYD_FAULT=$fault}" >>"$dir/agent.log"
    if [ -n "$fault" ]; then
        TALLYD_FAULT=$fault timeout -s KILL 120 "$TALLYD" -c "$dir/tallyd.conf" --once --now "$now" \
            >>"$dir/agent.log" 2>&1
    else
        timeout -s KILL 120 "$TALLYD" -c "$dir/tallyd.conf" --once --now "$now" >>"$dir/agent.log" 2>&1
    fi
    ONCE_STATUS=$?
}

# once_ok NAME DIR NOW: a clean cycle that must exit 0.
once_ok() {
    once "$2" "$3"
    if [ "$ONCE_STATUS" -ne 0 ]; then
        fail "$1: tallyd --once --now $3 exited $ONCE_STATUS" "$(tail -n 5 "$2/agent.log")"
        return 1
    fi
    return 0
}

# app DIR NPROC ITERS SLEEP_US NAME=AMOUNT...: run the app to completion (bounded).
app() {
    local dir=$1
    shift
    timeout -s KILL 300 "$APP" "$dir/region" "$@"
}

# jq_py FILE EXPR [ARG]: evaluate a python expression with d = the JSON of
# FILE and a = ARG; prints the result as JSON (strings quoted, keys sorted).
jq_py() {
    python3 - "$1" "$2" "${3:-}" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
a = sys.argv[3]
print(json.dumps(eval(sys.argv[2]), sort_keys=True, ensure_ascii=False))
EOF
}

# counter DIR NAME: the live value of NAME in DIR/summary.json ("null" if absent).
counter() {
    jq_py "$1/summary.json" "d['counters'].get(a)" "$2"
}

# days DIR: counter_days of DIR/summary.json as "date name value" lines.
days() {
    python3 - "$1/summary.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for r in d["counter_days"]:
    print(r["date"], r["name"], r["value"])
EOF
}

# day_sum DIR NAME: sum of NAME's counter_days in DIR/summary.json.
day_sum() {
    python3 - "$1/summary.json" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(sum(r["value"] for r in d["counter_days"] if r["name"] == sys.argv[2]))
EOF
}

# region_get DIR NAME: the value of NAME in DIR/region, straight from the region.
region_get() {
    "$TALLY" --region "$1/region" get "$2"
}

# db_days DIR: counter_days straight from the state database.
db_days() {
    sqlite3 "$1/state/tally.db" "SELECT date || ' ' || name || ' ' || value FROM counter_days ORDER BY date, name"
}

# moved_mark DIR NAME: how much of NAME's companion the state has accounted (0 if none).
moved_mark() {
    local v
    v=$(sqlite3 "$1/state/tally.db" "SELECT value FROM plugin_state WHERE key = 'moved.$2'")
    echo "${v:-0}"
}

# unaccounted DIR NAME: companion value in the region minus the state's mark:
# moved out of the live counter but credited to no day yet.
unaccounted() {
    local m
    m=$(region_get "$1" "tally.moved.$2" 2>/dev/null) || m=0
    echo $((m - $(moved_mark "$1" "$2")))
}
