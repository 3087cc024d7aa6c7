#!/usr/bin/env bash
# jsonl_twin_test.sh — the same data as CSV and as JSON lines gives the
# same statistics: the bundled sample (data/sample: a week of usage with
# its bad rows, candidates, users, API keys) through `tallyd --once` with
# csv sources, and again, written as JSON lines by csv_to_jsonl.py (token
# counts nested under "usage", read through `columns` renames), with jsonl
# sources; the daily collector and the json file exporter in both. The two
# JSON summaries must be equal apart from generated_at, rejected rows
# included. That run also proves tallyd loads jsonl.so (json-c) beside the
# file exporter (jansson).
#
# usage: jsonl_twin_test.sh TALLYD PLUGIN_DIR
set -euo pipefail

TALLYD=${1:?usage: $0 TALLYD PLUGIN_DIR}
PLUGIN_DIR=${2:?usage: $0 TALLYD PLUGIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data/sample
source "$HERE/check_lib.sh"
export LC_ALL=C.UTF-8

for so in csv jsonl daily file; do
    [ -f "$PLUGIN_DIR/$so.so" ] || { fail "$PLUGIN_DIR/$so.so is missing; build first"; totals; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-jsonl-twin.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
NOW=2026-11-22T03:00:00Z

mkdir -p "$WORK/jsonl"
python3 "$HERE/csv_to_jsonl.py" --nest "$DATA/usage.csv" "$WORK/jsonl/usage.jsonl"
for s in candidates users api_keys; do
    python3 "$HERE/csv_to_jsonl.py" "$DATA/$s.csv" "$WORK/jsonl/$s.jsonl"
done
COLUMNS=$(cd "$HERE" && python3 -c "import csv_to_jsonl; print(csv_to_jsonl.NESTED_COLUMNS)")

# run NAME SOURCES: tallyd --once over SOURCES (config text), JSON in $WORK/NAME.json.
run() {
    local dir=$WORK/$1 rc=0
    mkdir -p "$dir/state"
    cat >"$dir/tallyd.conf" <<EOF
timezone = "Asia/Shanghai"
state_dir = "$dir/state"
plugin_dir = "$PLUGIN_DIR"
$2
daily "stats" { keep_days = 400 }
file "summary" { path = "$WORK/$1.json" format = "json" }
EOF
    "$TALLYD" -c "$dir/tallyd.conf" --once --now "$NOW" >"$dir/agent.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && [ -s "$WORK/$1.json" ]; then
        pass "$1: tallyd --once wrote its summary"
    else
        fail "$1: tallyd --once exited $rc" "$(tail -n 5 "$dir/agent.log")"
    fi
}

run csv "
csv \"usage\"      { path = \"$DATA/usage.csv\"      stream = \"usage\" }
csv \"candidates\" { path = \"$DATA/candidates.csv\" stream = \"candidates\" }
csv \"users\"      { path = \"$DATA/users.csv\"      stream = \"users\" }
csv \"keys\"       { path = \"$DATA/api_keys.csv\"   stream = \"api_keys\" }"
run jsonl "
jsonl \"usage\"      { path = \"$WORK/jsonl/usage.jsonl\" stream = \"usage\" columns = {$COLUMNS} }
jsonl \"candidates\" { path = \"$WORK/jsonl/candidates.jsonl\" stream = \"candidates\" }
jsonl \"users\"      { path = \"$WORK/jsonl/users.jsonl\" stream = \"users\" }
jsonl \"keys\"       { path = \"$WORK/jsonl/api_keys.jsonl\" stream = \"api_keys\" }"

if out=$(python3 "$HERE/json_expect.py" --same --label "csv vs jsonl" --ignore generated_at \
        "$WORK/csv.json" "$WORK/jsonl.json"); then
    pass "the csv and the jsonl summaries are the same"
else
    fail "the csv and the jsonl summaries differ" "$out"
fi
# Not equal by being empty: the sample's rows and bad rows are there.
got=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(d['rejected_rows'], sum(x['total_requests'] for x in d['days']) + d['today']['total_requests'] > 2900)" \
    "$WORK/jsonl.json")
if [ "$got" = "11 True" ]; then
    pass "the jsonl run counted the sample's rows and rejected its 11 bad ones"
else
    fail "the jsonl run: rejected rows and 'most rows counted'" "got: $got" "want: 11 True"
fi
totals
