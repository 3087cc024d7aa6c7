#!/usr/bin/env bash
# agent_logs_test.sh — tallyd's log as its hosts read it (issue 14 part 4):
#   journald  with JOURNAL_STREAM naming stderr's device:inode, every line
#             starts with its priority (<3> error, <4> warning, <6> info,
#             <7> debug), the config's errors too, and carries no time of
#             its own; naming another file, lines stay as they were;
#   logfmt    every line parses (a logfmt reader below), with ts, level and
#             msg, and a plugin's line with plugin and instance, quoting
#             and escaping a title with a space and a path with a quote;
#   json      every line is one JSON object with the same fields;
#   -v        one line per cycle: records and rejected rows per source, the
#             duration, the result; a failing source is named as failed;
#   log_format is checked by -t with its file and line.
#
# usage: agent_logs_test.sh TALLYD PLUGIN_DIR SQLITE_ODBC_DRIVER
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
# (A real journald, through systemd-run, is not used: the sandboxes this
# runs in have no systemd; JOURNAL_STREAM is how systemd tells a service
# its stderr is the journal, and that is what is set here.)
set -u

usage="usage: agent_logs_test.sh TALLYD PLUGIN_DIR SQLITE_ODBC_DRIVER"
TALLYD=${1:?$usage}
PLUGINS=$(realpath "${2:?$usage}")
SQLITE_DRIVER=${3:?$usage}
work=$(realpath "$(mktemp -d)")
trap 'rm -rf "$work"' EXIT
unset JOURNAL_STREAM TALLYD_FAULT NOTIFY_SOCKET
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

HEADER='id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms'

# case_dir NAME FORMAT [SECTIONS]: DIR/tallyd.conf with log_format FORMAT, a
# csv source "my usage" reading DIR/in/usage*.csv (two good rows, one
# rejected), a daily collector and SECTIONS; prints DIR.
case_dir() {
    local d=$work/$1
    mkdir -p "$d/state" "$d/in"
    {
        printf '%s\n' "$HEADER"
        printf 'a1,r1,not-a-time,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100\n'
        printf 'a2,r2,2026-11-22T01:00:00Z,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100\n'
        printf 'a3,r3,2026-11-22T02:00:00Z,u,k,p,m,200,,1,0,0,0,0,0,0,0,0,0,100\n'
    } >"$d/in/usage.csv"
    cat >"$d/tallyd.conf" <<EOF
timezone = "UTC"
state_dir = "$d/state"
plugin_dir = "$PLUGINS"
log_format = "$2"
csv "my usage" { path = "$d/in/usage*.csv" stream = "usage" }
daily "stats" { }
${3:-}
EOF
    echo "$d"
}

# once DIR [ARGS...]: one cycle, stderr alone in DIR/err (stdout apart),
# under the environment the caller set; sets status ("sanitizer report"
# when a sanitizer build reported, which no check expects).
once() {
    local d=$1
    shift
    status=0
    timeout -s KILL 60 "$TALLYD" -c "$d/tallyd.conf" --once --now 2026-11-22T03:00:00Z "$@" \
        >"$d/out" 2>"$d/err" || status=$?
    # In a sanitizer build a report fails the run whatever its status.
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$d/err"; then
        status="sanitizer report"
    fi
}

# dev_ino FILE: FILE's device and inode the way JOURNAL_STREAM gives them.
dev_ino() {
    stat -c '%d:%i' "$1"
}

# has NAME FILE PATTERN (an extended regex): a line of FILE matches.
has() {
    if grep -qE -- "$3" "$2"; then pass "$1"; else fail "$1" "no line matches: $3" "$(cat "$2")"; fi
}

# has_not NAME FILE PATTERN: no line of FILE matches.
has_not() {
    if ! grep -qE -- "$3" "$2"; then pass "$1"; else fail "$1" "a line matches: $3" "$(grep -E -- "$3" "$2")"; fi
}

# ---- journald priorities ------------------------------------------------------
journal_case() {
    local d
    d=$(case_dir journal text)
    rm "$d/in/usage.csv" # a warning from the plugin: no file matches
    : >"$d/err"
    # The shell opens DIR/err before tallyd runs, so its inode is known.
    JOURNAL_STREAM=$(dev_ino "$d/err") once "$d" -v
    check journal_once_ok [ "$status" == 0 ]
    has journal_warning_prefixed "$d/err" '^<4>csv "my usage": no file matches '
    has journal_info_prefixed "$d/err" '^<6>stopped$'
    has journal_debug_prefixed "$d/err" '^<7>cycle 1 ok in '
    has_not journal_every_line_prefixed "$d/err" '^([^<]|<[^3467]|<[3467][^>])'
    has_not journal_no_timestamps "$d/err" '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z tallyd'

    # An error before any config is read is the journal's too.
    : >"$d/err"
    status=0
    JOURNAL_STREAM=$(dev_ino "$d/err") timeout -s KILL 60 "$TALLYD" -c "$d/none.conf" --once \
        --plugin-dir "$PLUGINS" >"$d/out" 2>"$d/err" || status=$?
    check journal_missing_config_fails [ "$status" == 1 ]
    has journal_config_error_prefixed "$d/err" "^<3>config $d/none.conf: cannot read"

    # JOURNAL_STREAM names another file (stderr was redirected after
    # systemd started the parent): lines stay as they were.
    : >"$d/err"
    JOURNAL_STREAM=$(dev_ino "$d/tallyd.conf") once "$d"
    has journal_other_file_no_prefix "$d/err" \
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z tallyd info: stopped$'
    has_not journal_other_file_nothing_prefixed "$d/err" '^<[0-9]>'
    # Garbage in the variable is no journal either.
    JOURNAL_STREAM="x:y" once "$d"
    has_not journal_garbage_no_prefix "$d/err" '^<[0-9]>'

    # The structured formats keep the prefix and drop their own ts.
    d=$(case_dir journal_json json)
    : >"$d/err"
    JOURNAL_STREAM=$(dev_ino "$d/err") once "$d"
    has journal_json_prefixed "$d/err" '^<4>\{"level":"warning","msg":'
    has_not journal_json_no_ts "$d/err" '"ts":'
}

# ---- logfmt and json --------------------------------------------------------------
# parse FORMAT FILE: every line of FILE parsed as FORMAT, checked, and the
# lines printed back as JSON objects (one a line) for the checks below;
# exit 1 with the offending line if one does not parse.
parse() {
    python3 - "$1" "$2" <<'EOF'
import json, re, sys

fmt, path = sys.argv[1], sys.argv[2]
# logfmt: key=bare or key="quoted", separated by single spaces; the
# quoted form uses JSON's escapes.
PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^\s"=\\]+)(?: |$)')

def logfmt(line):
    out, pos = {}, 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            raise ValueError("no key=value at byte %d" % pos)
        key, value = m.group(1), m.group(2)
        if key in out:
            raise ValueError("key %s twice" % key)
        out[key] = json.loads(value) if value.startswith('"') else value
        pos = m.end()
    return out

TS = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    try:
        obj = logfmt(line) if fmt == "logfmt" else json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        if not TS.match(obj.get("ts", "")):
            raise ValueError("ts is not RFC 3339 UTC with milliseconds")
        if obj.get("level") not in ("error", "warning", "info", "debug"):
            raise ValueError("level")
        if not isinstance(obj.get("msg"), str) or not obj["msg"]:
            raise ValueError("msg")
        if ("plugin" in obj) != ("instance" in obj):
            raise ValueError("plugin without instance or the other way")
    except ValueError as e:
        print("line %d: %s: %s" % (n, e, line))
        sys.exit(1)
    print(json.dumps(obj, sort_keys=True))
EOF
}

# field_line NAME FILE PYTHON-EXPR: some parsed line o of FILE makes
# PYTHON-EXPR true.
field_line() {
    if python3 -c '
import json, sys
sys.exit(0 if any(eval(sys.argv[2], {"o": json.loads(l)}) for l in open(sys.argv[1])) else 1)
' "$2" "$3"; then pass "$1"; else fail "$1" "no line with: $3" "$(cat "$2")"; fi
}

structured_case() {
    local fmt=$1 d
    # A glob with a quote and a space, so the message needs escaping.
    d=$(case_dir "$fmt" "$fmt" "csv \"q\" { path = \"$work/$fmt/in/say \\\"hi\\\"*.csv\" stream = \"usage\" }")
    once "$d" -v
    check "${fmt}_once_ok" [ "$status" == 0 ]
    if parse "$fmt" "$d/err" >"$d/parsed"; then
        pass "${fmt}_every_line_parses"
    else
        fail "${fmt}_every_line_parses" "$(cat "$d/parsed")"
    fi
    field_line "${fmt}_plugin_fields" "$d/parsed" \
        'o.get("plugin") == "csv" and o.get("instance") == "my usage" and o["level"] == "warning" and "row set aside" in o["msg"]'
    field_line "${fmt}_escaped_message" "$d/parsed" \
        "o.get(\"instance\") == \"q\" and 'say \"hi\"*.csv' in o[\"msg\"]"
    field_line "${fmt}_agent_line_has_no_plugin" "$d/parsed" \
        'o["msg"] == "stopped" and o["level"] == "info" and "plugin" not in o'
    field_line "${fmt}_cycle_line" "$d/parsed" \
        'o["level"] == "debug" and o["msg"].startswith("cycle 1 ok in ") and "plugin" not in o'
}

# The config's own errors, found before it is in force, already follow
# the log_format the file sets.
early_case() {
    local d
    d=$(case_dir early json 'interval = 0')
    once "$d" -v
    check early_config_error_exit_1 [ "$status" == 1 ]
    if parse json "$d/err" >"$d/parsed"; then
        pass early_lines_are_json
    else
        fail early_lines_are_json "$(cat "$d/parsed")"
    fi
    field_line early_config_error_in_json "$d/parsed" \
        "o['level'] == 'error' and o['msg'].startswith('$d/tallyd.conf:7: interval 0 is out of range')"
    field_line early_plugin_loading_in_json "$d/parsed" \
        "o['level'] == 'debug' and o['msg'].startswith('plugin $PLUGINS/csv.so: loaded')"
}

# ---- the -v cycle line ----------------------------------------------------------
cycle_line_case() {
    local d
    d=$(case_dir cycle text)
    once "$d" -v
    has cycle_line_counts "$d/err" \
        '^[0-9T:Z-]+ tallyd debug: cycle 1 ok in [0-9]+\.[0-9]{3} s: 2 records, 1 rejected rows; csv "my usage" 2 records, 1 rejected$'
    check cycle_line_once_per_cycle [ "$(grep -c 'debug: cycle ' "$d/err")" == 1 ]
    once "$d"
    has_not cycle_line_needs_v "$d/err" 'debug: cycle '

    # Nothing new to read: the next cycle says so.
    once "$d" -v
    has cycle_line_nothing_new "$d/err" \
        'debug: cycle 3 ok in [0-9.]+ s: 0 records, 0 rejected rows; csv "my usage" 0 records, 0 rejected$'

    # A source whose table is missing fails; the others still count.
    d=$(case_dir cycle_failed text \
        "odbc \"gone\" { connection = \"DRIVER=$SQLITE_DRIVER;Database=$work/cycle_failed/empty.db\" stream = \"usage\" table = \"usage_archive\" }")
    once "$d" -v
    check cycle_failed_once_exit_1 [ "$status" == 1 ]
    has cycle_line_failed "$d/err" \
        'debug: cycle 1 failed in [0-9.]+ s: 2 records, 1 rejected rows; csv "my usage" 2 records, 1 rejected, odbc "gone" failed$'
}

# ---- log_format in the config ------------------------------------------------------
config_case() {
    local d
    d=$(case_dir config yaml)
    status=0
    out=$(timeout -s KILL 60 "$TALLYD" -c "$d/tallyd.conf" -t 2>&1) || status=$?
    if [[ $status == 1 && $out == *"$d/tallyd.conf:4: log_format 'yaml' is not one of text, logfmt, json"* ]]; then
        pass config_bad_format_refused_with_line
    else
        fail config_bad_format_refused_with_line "exit $status" "$out"
    fi
    d=$(case_dir config_ok logfmt)
    status=0
    out=$(timeout -s KILL 60 "$TALLYD" -c "$d/tallyd.conf" -t 2>&1) || status=$?
    check config_logfmt_accepted [ "$status" == 0 ]
}

journal_case
structured_case logfmt
structured_case json
early_case
cycle_line_case
config_case
totals
