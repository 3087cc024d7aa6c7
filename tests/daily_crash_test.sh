#!/usr/bin/env bash
# daily_crash_test.sh — kill -9 the agent again and again while CSV files
# grow, and check that nothing was lost or counted twice:
#  1. python3 makes (deterministically) ~300k usage rows over ten business
#     days in Asia/Shanghai plus today, with late rows for earlier days,
#     and their candidates, in 30 pieces;
#  2. a writer appends the pieces over ~25 s to a glob of files (a new file
#     joins the glob half way) while `tallyd -f` (interval 1) ingests; the
#     agent is killed with SIGKILL, by its PID, at random moments at least
#     20 times and restarted on the same state each time;
#  3. once everything is written, a last agent runs until the JSON holds
#     every row, and stops on SIGTERM;
#  4. one clean `tallyd --once` over the final files with a fresh state and
#     the same --now must give the same JSON (apart from generated_at and
#     now, which -f moves on with the wall clock), and the SQLite state
#     passes PRAGMA integrity_check.
# --now is fixed at 12:00 local, so no midnight passes during the test.
# FORMAT jsonl writes the usage rows as JSON lines instead (token counts
# nested, as tests/csv_to_jsonl.py writes them) and reads them with the
# jsonl source; the other streams stay CSV.
# With SQLITE_DRIVER (issue 12: exporters that write what changed since
# their mark) the agents also write the split JSON layout, a CSV of the
# user-days and the sql exporter's tables (SQLite over ODBC); the killed
# agent's must equal the clean run's too, whatever the kills cut between
# a cycle's commit and an exporter's write.
#
# usage: daily_crash_test.sh TALLYD PLUGIN_DIR [FORMAT [SQLITE_DRIVER]]
#        (FORMAT: csv, the default, or jsonl)
# DAILY_SEED=N replays the kill moments; DAILY_KILLS=N (>= 20) sets how
# many kills; DAILY_KEEP=1 keeps the work directory.
set -euo pipefail

TALLYD=${1:?usage: $0 TALLYD PLUGIN_DIR}
PLUGIN_DIR=${2:?usage: $0 TALLYD PLUGIN_DIR [FORMAT]}
FORMAT=${3:-csv}
SQLITE_DRIVER=${4:-}
case $FORMAT in csv | jsonl) ;; *) echo "$0: FORMAT is csv or jsonl, not $FORMAT" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
EXPECT=$HERE/json_expect.py
source "$HERE/check_lib.sh"
source "$HERE/outputs_lib.sh"
export LC_ALL=C.UTF-8
# check NAME GOT WANT: exact string comparison.
check() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got:  $2" "want: $3"; fi
}

[ -x "$TALLYD" ] || { fail "$TALLYD is not an executable; build first"; totals; exit 1; }
for so in csv $FORMAT daily file; do
    [ -f "$PLUGIN_DIR/$so.so" ] || { fail "$PLUGIN_DIR/$so.so is missing; build first"; totals; exit 1; }
done
for tool in python3 sqlite3; do
    command -v $tool >/dev/null || { fail "$tool is missing: run scripts/deps.sh"; totals; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-daily-crash.XXXXXX")
# The agent and the writer while they run (emptied once waited for, so a
# reused PID is never signalled); killed by PID at exit.
AGENT_PID=
WRITER_PID=
cleanup() {
    local p
    for p in $AGENT_PID $WRITER_PID; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${DAILY_KEEP:-}" ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

NOW=2026-11-22T04:00:00Z # 12:00 in Shanghai
KILLS=${DAILY_KILLS:-20}
SEED=${DAILY_SEED:-$RANDOM}
RANDOM=$SEED
echo "daily_crash: FORMAT=$FORMAT DAILY_SEED=$SEED DAILY_KILLS=$KILLS now=$NOW"

IN=$WORK/in
PIECES=$WORK/pieces
mkdir -p "$IN" "$PIECES"

# --- 1. the data ------------------------------------------------------------
# Piece i is pieces/NNN.<target file name>, one or more per piece number;
# the writer appends them in name order. total_rows holds the usage count.
python3 - "$PIECES" "$FORMAT" "$HERE" <<'EOF'
import csv, datetime as dt, os, random, sys

FORMAT = sys.argv[2]
sys.path.insert(0, sys.argv[3])
import csv_to_jsonl

out = sys.argv[1]
rng = random.Random(20261122)
N_PIECES, PER_PIECE = 30, 10000
SH = dt.timezone(dt.timedelta(hours=8))
first = dt.datetime(2026, 11, 12, tzinfo=SH)      # ten closed days: 11-12 .. 11-21
today = dt.datetime(2026, 11, 22, tzinfo=SH)
USAGE_HEADER = ("id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,"
                "input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,"
                "input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,"
                "total_cost_usd,actual_total_cost_usd,response_time_ms\n")
CAND_HEADER = "id,request_id,status,created_at\n"
providers = ["openai", "anthropic", "OpenAI", "google"]
models = ["gpt-4o", "GPT-4o", "gpt-4o-mini", "claude-3-opus", "claude-3-haiku", "gemini-1.5", "o1", "o1-mini"]
statuses = ["success"] * 5 + ["failed"] * 3 + ["skipped", "pending"]

def stamp(t):
    """An instant in one of the spellings the sources accept."""
    k = rng.randrange(4)
    if k == 0:
        return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if k == 1:
        return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if k == 2:
        return t.astimezone(SH).isoformat(timespec="milliseconds")
    return t.astimezone(SH).isoformat(timespec="seconds")

def money():
    return rng.randrange(0, 5_000_000)  # micro-dollars

def usd(micro):
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"

usage_files = {}
cand_files = {}
n = 0
span = (today - first) / (N_PIECES - 1)
for i in range(N_PIECES):
    # Pieces 0..28 cover the ten closed days in order; piece 29 is today
    # (some rows after now). About 5% of each piece are late rows for an
    # earlier closed day.
    if i < N_PIECES - 1:
        lo, hi = first + span * i, first + span * (i + 1)
    else:
        lo, hi = today, today + dt.timedelta(hours=23, minutes=59)
    urows, crows = [], []
    for _ in range(PER_PIECE):
        n += 1
        if i > 0 and i < N_PIECES - 1 and rng.random() < 0.05:
            t = first + (lo - first) * rng.random()
        else:
            t = lo + (hi - lo) * rng.random()
        t = t.replace(microsecond=rng.randrange(1_000_000))
        user = "" if rng.random() < 0.05 else f"user{rng.randrange(60)}"
        key = "" if rng.random() < 0.1 else f"key{rng.randrange(90)}"
        prov = "" if rng.random() < 0.02 else rng.choice(providers)
        model = '""' if rng.random() < 0.02 else rng.choice(models)
        r = rng.random()
        status = "" if r < 0.03 else ("500" if r < 0.06 else ("429" if r < 0.08 else ("399" if r < 0.09 else "200")))
        err = ""
        if rng.random() < 0.02:
            err = '" "' if rng.random() < 0.5 else "upstream timeout"
        toks = [str(1 << 40) if rng.random() < 0.0005 else str(rng.randrange(0, 200_000)) for _ in range(4)]
        if rng.random() < 0.03:
            toks[rng.randrange(4)] = ""
        costs = [money() for _ in range(4)]
        total = sum(costs)
        rt = "" if rng.random() < 0.05 else f"{rng.randrange(1, 30000)}.{rng.randrange(10)}"
        urows.append(",".join([f"u{n}", f"q{n}", stamp(t), user, key, prov, model, status, err, *toks,
                               *(usd(c) for c in costs), usd(total), usd(total * 9 // 10), rt]) + "\n")
        if rng.random() < 0.15:
            for c in range(rng.choice([1, 2, 2, 3])):
                ct = t + dt.timedelta(milliseconds=rng.randrange(0, 4000))
                crows.append(f"c{n}.{c},q{n},{rng.choice(statuses)},{stamp(ct)}\n")
    # A new file joins the usage glob at piece 15.
    uname = f"usage-{i % 4 if i >= 15 else i % 3}.{FORMAT}"
    uheader = USAGE_HEADER
    if FORMAT == "jsonl":
        # The same rows as JSON lines, which have no header.
        names = USAGE_HEADER.strip().split(",")
        urows = [csv_to_jsonl.line(names, [f.encode() for f in next(csv.reader([r]))], True).decode() + "\n"
                 for r in urows]
        uheader = ""
    cname = f"candidates-{i % 2}.csv"
    for name, files, header, rows in ((cname, cand_files, CAND_HEADER, crows),
                                      (uname, usage_files, uheader, urows)):
        text = "".join(rows)
        if name not in files:
            files[name] = True
            text = header + text
        # Candidates first: when the last usage piece is in, every candidate is.
        order = "a" if name.startswith("candidates") else "b"
        with open(os.path.join(out, f"{i:03d}{order}.{name}"), "w", encoding="utf-8") as f:
            f.write(text)
with open(os.path.join(out, "total_rows"), "w") as f:
    f.write(f"{n}\n")
EOF
TOTAL=$(cat "$PIECES/total_rows")
rm "$PIECES/total_rows"
if [ "$TOTAL" -gt 0 ]; then
    pass "generated $TOTAL usage rows in $(find "$PIECES" -type f | wc -l) pieces"
else
    fail "no rows generated"
    totals
    exit 1
fi

cat >"$IN/users.csv" <<'EOF'
id,is_active
EOF
for ((u = 0; u < 60; u++)); do echo "user$u,$([ $((u % 3)) -eq 0 ] && echo false || echo true)" >>"$IN/users.csv"; done
echo "id,user_id,is_active" >"$IN/api_keys.csv"
for ((k = 0; k < 90; k++)); do echo "key$k,user$((k % 60)),$([ $((k % 4)) -eq 0 ] && echo false || echo true)" >>"$IN/api_keys.csv"; done

USAGE_SOURCE="csv \"usage\"      { path = \"$IN/usage*.csv\"      stream = \"usage\" }"
if [ "$FORMAT" = jsonl ]; then
    COLUMNS=$(cd "$HERE" && python3 -c "import csv_to_jsonl; print(csv_to_jsonl.NESTED_COLUMNS)")
    USAGE_SOURCE="jsonl \"usage\"    { path = \"$IN/usage*.jsonl\" stream = \"usage\" columns = {$COLUMNS} }"
fi

# write_conf DIR: DIR/tallyd.conf over $IN, state in DIR/state, JSON in DIR/out.json.
write_conf() {
    mkdir -p "$1/state"
    cat >"$1/tallyd.conf" <<EOF
timezone = "Asia/Shanghai"
state_dir = "$1/state"
plugin_dir = "$PLUGIN_DIR"
interval = 1
$USAGE_SOURCE
csv "candidates" { path = "$IN/candidates*.csv" stream = "candidates" }
csv "users"      { path = "$IN/users*.csv"      stream = "users" }
csv "keys"       { path = "$IN/api_keys*.csv"   stream = "api_keys" }
daily "stats"    { keep_days = 400 }
file "json"      { path = "$1/out.json" format = "json" }
EOF
    [ -z "$SQLITE_DRIVER" ] || cat >>"$1/tallyd.conf" <<EOF
file "split"     { path = "$1/split" format = "json" layout = "split" }
file "ud"        { path = "$1/user_days.csv" format = "csv" table = "user_days" }
sql "dash"       { connection = "DRIVER=$SQLITE_DRIVER;Database=$1/dash.db" table_prefix = "tally_" }
EOF
}
A=$WORK/agent
write_conf "$A"

# json_total FILE: combined.total_requests of FILE, or -1 when unreadable.
json_total() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo -1
import json, sys
print(json.load(open(sys.argv[1], encoding="utf-8"))["combined"]["total_requests"])
EOF
}

# --- 2. the writer and the kills ----------------------------------------------
(
    for p in "$PIECES"/*; do
        name=${p##*/}
        python3 -c 'import os,sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
view = memoryview(data)
while view:
    view = view[os.write(fd, view):]
os.close(fd)' "$p" "$IN/${name#*.}"
        # Candidates and usage of one piece go together; then a pause.
        [[ $name == *a.candidates* ]] || sleep 0.8
    done
    touch "$WORK/written"
) >"$WORK/writer.log" 2>&1 &
WRITER_PID=$!

killed=0 exited=() bad_json=0 round=0 progress=()
while :; do
    round=$((round + 1))
    echo "--- round $round: tallyd -f --now $NOW" >>"$A/agent.log"
    "$TALLYD" -f -c "$A/tallyd.conf" --now "$NOW" >>"$A/agent.log" 2>&1 &
    pid=$!
    AGENT_PID=$pid
    # A random moment 0.2 .. 2.6 s after the start.
    sleep "$((RANDOM % 25 / 10)).$((RANDOM % 10))"
    sleep 0.2
    if kill -KILL "$pid" 2>/dev/null; then
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ "$rc" -eq 137 ]; then killed=$((killed + 1)); else exited+=("round $round: exit status $rc"); fi
    else
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        exited+=("round $round: the agent had already exited with status $rc (see agent.log)")
    fi
    AGENT_PID=
    if [ -e "$A/out.json" ]; then
        t=$(json_total "$A/out.json")
        [ "$t" == -1 ] && bad_json=$((bad_json + 1))
        progress+=("$t")
    fi
    if [ "$killed" -ge "$KILLS" ] && [ -e "$WORK/written" ]; then break; fi
    if [ "$round" -ge $((KILLS * 4)) ]; then break; fi
done
echo "daily_crash: $round rounds, $killed kills; rows in the JSON after each kill: ${progress[*]:-none} (of $TOTAL)"
if [ "$killed" -ge "$KILLS" ]; then
    pass "kill -9 landed on a running agent $killed times (at least $KILLS)"
else
    fail "kill -9 landed on a running agent only $killed times in $round rounds (want $KILLS)"
fi
if [ ${#exited[@]} -eq 0 ]; then
    pass "every agent was still running when killed"
else
    fail "every agent was still running when killed" "${exited[@]}" "$(tail -n 5 "$A/agent.log")"
fi
if [ "$bad_json" -eq 0 ]; then
    pass "after every kill, out.json was a whole JSON document"
else
    fail "after $bad_json kills, out.json was not a whole JSON document"
fi
rc=0
wait "$WRITER_PID" || rc=$?
WRITER_PID=
if [ "$rc" -eq 0 ]; then pass "the writer appended all pieces"; else fail "the writer failed" "$(cat "$WORK/writer.log")"; fi

# --- 3. a last agent consumes the rest and stops on TERM ----------------------
echo "--- last: tallyd -f --now $NOW" >>"$A/agent.log"
"$TALLYD" -f -c "$A/tallyd.conf" --now "$NOW" >>"$A/agent.log" 2>&1 &
pid=$!
AGENT_PID=$pid
got=-1 since=0
for ((i = 0; i < 1200; i++)); do # at most 120 s
    sleep 0.1
    t=$(json_total "$A/out.json")
    if [ "$t" == "$TOTAL" ]; then
        since=$((since + 1))
        # Three more seconds of cycles, so the candidates are surely in.
        [ "$since" -ge 30 ] && break
    else
        since=0
    fi
    got=$t
    kill -0 "$pid" 2>/dev/null || break
done
if [ "$(json_total "$A/out.json")" == "$TOTAL" ]; then
    pass "the agent consumed all $TOTAL usage rows"
else
    fail "the agent consumed all $TOTAL usage rows" "combined.total_requests is $got" "$(tail -n 5 "$A/agent.log")"
fi
kill -TERM "$pid" 2>/dev/null || true
stopped=0
for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
done
rc=0
if [ "$stopped" -eq 1 ]; then
    wait "$pid" 2>/dev/null || rc=$?
    check "the last agent stopped on SIGTERM with status 0" "$rc" 0
else
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fail "the last agent did not stop within 30 s of SIGTERM (killed)"
fi
AGENT_PID=
check "the state database passes PRAGMA integrity_check" \
    "$(sqlite3 "$A/state/tally.db" 'PRAGMA integrity_check' 2>&1)" ok

# --- 4. one clean run over the final files ------------------------------------
C=$WORK/clean
write_conf "$C"
rc=0
timeout -s KILL 300 "$TALLYD" -c "$C/tallyd.conf" --once --now "$NOW" >"$C/agent.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || [ ! -s "$C/out.json" ]; then
    fail "clean tallyd --once exited $rc" "$(tail -n 5 "$C/agent.log")"
    totals
    exit 1
fi
check "clean run: combined.total_requests is every row" "$(json_total "$C/out.json")" "$TOTAL"
out=$(python3 "$EXPECT" --same --label "killed vs clean" --ignore generated_at --ignore now \
    "$C/out.json" "$A/out.json" 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ]; then
    pass "the killed and restarted agent's JSON equals one clean run's (A = clean, B = killed)"
else
    mapfile -t lines <<<"$out"
    fail "the killed and restarted agent's JSON equals one clean run's (A = clean, B = killed)" "${lines[@]}"
fi

# same NAME FILE-A FILE-B: byte for byte.
same() {
    if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$(diff "$2" "$3" | head -n 8)"; fi
}
if [ -n "$SQLITE_DRIVER" ]; then
    if diff -r "$C/split/days" "$A/split/days" >"$WORK/split.diff" 2>&1; then
        pass "split layout: every day file equals the clean run's ($(ls "$C/split/days" | wc -l) files)"
    else
        fail "split layout: every day file equals the clean run's" "$(head -n 8 "$WORK/split.diff")"
    fi
    same "split layout: current.json equals the clean run's but for now and generated_at" \
        <(python3 "$HERE/without_agent.py" "$C/split/current.json" | grep -v '"now"\|"generated_at"') \
        <(python3 "$HERE/without_agent.py" "$A/split/current.json" | grep -v '"now"\|"generated_at"')
    same "split layout: days.json equals the clean run's" "$C/split/days.json" "$A/split/days.json"
    same "the user-days CSV equals the clean run's" "$C/user_days.csv" "$A/user_days.csv"
    same "the sql exporter's tables equal the clean run's" <(sql_dump "$C/dash.db") <(sql_dump "$A/dash.db")
fi
totals
