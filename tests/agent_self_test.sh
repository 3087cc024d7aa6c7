#!/usr/bin/env bash
# agent_self_test.sh — the agent reports on itself, exactly (issue 14):
# tallyd with a csv source fed good and malformed rows, the daily
# collector, two file exporters (json, prometheus) and an http exporter
# pushing to a port where nothing listens. After several cycles, a HUP
# and more rows, the agent's figures count every record and every
# rejected row of the input (and agree with the JSON's own totals), the
# exporters' exports, and the dead exporter's spool; the prometheus file
# carries the same figures and `promtool check metrics` says nothing.
#
# usage: agent_self_test.sh TALLYD PLUGIN_DIR SAMPLE_CSV WORKDIR
set -u
TALLYD=$1
PLUGIN_DIR=$2
SAMPLE=$3
W=$4
source "$(dirname "$0")/check_lib.sh"
source "$(dirname "$0")/tallyd_lib.sh"
PIDS=()
trap kill_started EXIT
rm -rf "$W"
mkdir -p "$W/data" "$W/state" "$W/out"
for tool in python3 promtool; do
  command -v $tool >/dev/null || { fail "$tool is missing: run scripts/deps.sh"; totals; exit 1; }
done

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$W/tallyd.conf" <<CONF
timezone = "UTC"
state_dir = "$W/state"
plugin_dir = "$PLUGIN_DIR"
interval = 1
csv "usage" { path = "$W/data/usage*.csv" stream = "usage" }
daily "stats" {}
file "summary" { path = "$W/out/summary.json" format = "json" }
file "textfile" { path = "$W/out/tally.prom" format = "prometheus" }
http "dead" { url = "http://127.0.0.1:$port/push" format = "json" max_retries = 0 }
CONF

# 29 good rows, 3 malformed ones (too few fields, a bad instant, a bad
# number) between them.
head -n 16 "$SAMPLE" >"$W/data/usage.csv"
echo "only,two" >>"$W/data/usage.csv"
sed -n 17,26p "$SAMPLE" >>"$W/data/usage.csv"
sed -n 27p "$SAMPLE" | awk -F, 'BEGIN{OFS=","} {$3="not-a-time"; print}' >>"$W/data/usage.csv"
sed -n 28,31p "$SAMPLE" >>"$W/data/usage.csv"
sed -n 32p "$SAMPLE" | awk -F, 'BEGIN{OFS=","} {$10="ten"; print}' >>"$W/data/usage.csv"
good=29
bad=3

# fig PLUGIN TITLE NAME: a figure of the agent object in the JSON file.
fig() {
  python3 - "$W/out/summary.json" "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for i in d["agent"]["instances"]:
    if i["plugin"] == sys.argv[2] and i["instance"] == sys.argv[3]:
        print(i["metrics"].get(sys.argv[4], "absent"))
PY
}
# agent KEY: a member of the agent object ("cycles.ok" for a nested one).
agent() {
  python3 -c "import json,sys; a=json.load(open('$W/out/summary.json'))['agent']
for k in '$1'.split('.'): a=a[k]
print(a)"
}
cycles_at_least() { [ "$(agent cycles.ok 2>/dev/null)" -ge "$1" ] 2>/dev/null; }
records_are() { [ "$(fig csv usage records_total 2>/dev/null)" == "$1" ]; }

start "$W" "$W/tallyd.conf"
if wait_for 60 cycles_at_least 3; then pass "three cycles ran"; else fail "three cycles ran" "$(cat "$W/log")"; fi
check "records_total counts every good row of the input ($good)" records_are $good
[ "$(fig csv usage rejected_rows_total)" == $bad ] && pass "rejected_rows_total counts every malformed row ($bad)" ||
  fail "rejected_rows_total counts every malformed row ($bad)" "got $(fig csv usage rejected_rows_total)"

# A HUP keeps the figures of the instances that stay; more rows follow.
before=$(agent cycles.ok)
kill -HUP "$pid"
wait_for 30 cycles_at_least $((before + 2))
check "a reload keeps records_total" records_are $good
sed -n 33,44p "$SAMPLE" >>"$W/data/usage.csv"
echo "x,y,z" >>"$W/data/usage.csv"
good=$((good + 12))
bad=$((bad + 1))
wait_for 30 records_are $good
before=$(agent cycles.ok)
wait_for 30 cycles_at_least $((before + 1))
stop "$pid" 30
check "tallyd stops on TERM" [ "$status" == 0 ]
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$W/log"; then
  fail "no sanitizer report in tallyd's log" "$(grep -m5 -E 'Sanitizer|runtime error' "$W/log")"
else
  pass "no sanitizer report in tallyd's log"
fi

# After TERM's last cycle and export, both files show the same snapshot.
results=$(python3 - "$W/out/summary.json" "$W/out/tally.prom" "$good" "$bad" "$W/state/rejects/usage.csv" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
prom = open(sys.argv[2]).read()
good, bad = int(sys.argv[3]), int(sys.argv[4])
rejects = sum(1 for _ in open(sys.argv[5])) - 1  # its header row
a = d["agent"]
inst = {(i["plugin"], i["instance"]): i for i in a["instances"]}
out = []
def check(name, ok, detail=""):
    out.append(("ok   " if ok else "FAIL ") + name + ("" if ok else "\n       " + detail))
src = inst[("csv", "usage")]["metrics"]
check("json: records_total = good input rows", src["records_total"] == good, str(src))
check("json: records_total = the collector's all-time requests",
      src["records_total"] == d["combined"]["total_requests"], str(d["combined"]))
check("json: rejected_rows_total = malformed input rows = rejected_rows = the reject file",
      src["rejected_rows_total"] == bad == d["rejected_rows"] == rejects,
      f'{src} {d["rejected_rows"]} {rejects}')
check("json: errors_total 0", src["errors_total"] == 0, str(src))
check("json: bytes_read_total is the input's size",
      src.get("bytes_read_total", 0) > 0 and src.get("lag_bytes") == 0, str(src))
check("json: no cycle failed", a["cycles"]["failed"] == 0, str(a))
check("json: kinds in config order",
      [(i["plugin"], i["kind"]) for i in a["instances"]] ==
      [("csv", "source"), ("daily", "collector"), ("file", "exporter"), ("file", "exporter"),
       ("http", "exporter")], str(a["instances"]))
n = a["cycles"]["ok"]
for title in ("summary", "textfile"):
    m = inst[("file", title)]["metrics"]
    # A snapshot shows the exports before it: every cycle's but its own
    # (one more may still have been running when it was made).
    check(f"json: file {title}: exports_ok_total is the cycles before this one",
          m["exports_failed_total"] == 0 and n - 2 <= m["exports_ok_total"] <= n - 1,
          f"{m} cycles {n}")
h = inst[("http", "dead")]["metrics"]
check("json: http dead: its spool waits, nothing delivered",
      h.get("spool_items", 0) >= 1 and h.get("spool_bytes", 0) > 0 and
      h.get("spool_delivered_total") == 0, str(h))
def series(line):
    return line in prom.splitlines()
check("prometheus: records_total as in the json",
      series(f'tally_source_records_total{{plugin="csv",plugin_instance="usage"}} {good}'), prom)
check("prometheus: rejected_rows_total as in the json",
      series(f'tally_source_rejected_rows_total{{plugin="csv",plugin_instance="usage"}} {bad}'))
# The json file is written only when its data changed (file_single.c),
# the prometheus file every cycle: it may be a cycle or two ahead.
ok = re.search(r'^tally_agent_cycles_total\{result="ok"\} (\d+)$', prom, re.M)
check("prometheus: cycles, at least the json's",
      ok is not None and int(ok.group(1)) >= n and
      series('tally_agent_cycles_total{result="failed"} 0'), prom)
check("prometheus: build info", re.search(
      r'^tally_agent_build_info\{version="[^"]+",plugin_abi="4"\} 1$', prom, re.M) is not None)
items = re.search(r'^tally_exporter_spool_items\{plugin="http",plugin_instance="dead"\} (\d+)$', prom,
                  re.M)
check("prometheus: the dead exporter's spool",
      items is not None and int(items.group(1)) >= h.get("spool_items", 1) and
      series('tally_exporter_spool_delivered_total{plugin="http",plugin_instance="dead"} 0'))
print("\n".join(out))
PY
)
[ -n "$results" ] || fail "the checks of the json and prometheus files ran" "$(cat "$W/log")"
while IFS= read -r line; do
  case $line in
    "ok   "*) pass "${line#ok   }" ;;
    "FAIL "*) fail "${line#FAIL }" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <<<"$results"
lint=$(promtool check metrics <"$W/out/tally.prom" 2>&1)
check "promtool check metrics says nothing of the agent's file" [ -z "$lint" ]
[ -n "$lint" ] && printf '%s\n' "$lint"
totals
