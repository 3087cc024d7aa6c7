# http_test_lib.sh — sourced by the http_*_test.sh scripts after
# e2e_lib.sh: the test receiver (http_receiver.py) started and stopped by
# its pid, queries over what it recorded, and the state database's spool.

RECEIVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/http_receiver.py

# rx_start NAME PORT PLAN [RECEIVER ARGS...]: a receiver on 127.0.0.1:PORT
# (0: any free port) answering by PLAN, recording to $WORK/NAME.jsonl.
# Sets RX_PID, RX_PORT and RX_LOG; a receiver that does not start ends
# the script.
rx_start() {
    local name=$1 port=$2 plan=$3
    shift 3
    RX_LOG=$WORK/$name.jsonl
    rm -f "$WORK/$name.ready"
    python3 "$RECEIVER" --port "$port" --log "$RX_LOG" --ready "$WORK/$name.ready" \
        --plan "$plan" "$@" >>"$WORK/$name.err" 2>&1 &
    RX_PID=$!
    E2E_PIDS+=("$RX_PID")
    if ! wait_for 15 test -s "$WORK/$name.ready"; then
        fail "receiver $name: not listening within 15 s" "$(tail -n 5 "$WORK/$name.err")"
        finish
    fi
    RX_PORT=$(cat "$WORK/$name.ready")
}

# rx_stop: stop the last receiver started, by its pid.
rx_stop() {
    kill -TERM "$RX_PID" 2>/dev/null
    wait_pid "$RX_PID" 15
}

# rx LOG EXPR: a python expression over r, the list of recorded requests
# (each a dict: method, path, headers, body, action, status, accepted,
# duplicate, client_cert, t), printed as JSON.
rx() {
    python3 - "$1" "$2" <<'PY'
import json, sys
r = []
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        r = [json.loads(line) for line in f if line.strip()]
except FileNotFoundError:
    pass
def now_of(e):
    return json.loads(e["body"])["now"]
print(json.dumps(eval(sys.argv[2]), sort_keys=True))
PY
}

# spool_count DIR: payloads waiting in DIR/state/tally.db.
spool_count() {
    sqlite3 "$1/state/tally.db" "SELECT COUNT(*) FROM spool"
}

# spool_counts DIR: "delivered rejected overflowed" of all instances.
spool_counts() {
    sqlite3 "$1/state/tally.db" \
        "SELECT COALESCE(SUM(delivered),0) || ' ' || COALESCE(SUM(rejected),0) || ' ' || COALESCE(SUM(overflowed),0) FROM spool_instances"
}
