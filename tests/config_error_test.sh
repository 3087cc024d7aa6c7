#!/usr/bin/env bash
# config_error_test.sh — every plugin reports a bad option in the one shape
# of the host's config_error: "FILE:LINE: in PLUGIN "TITLE": MESSAGE", the
# file and line of the section, the plugin, the instance title exactly
# once. Each plugin tallyd lists (--list-plugins, the real ones and the
# test plugins given) gets a config with one bad option, checked with
# tallyd -t; a listed plugin without a case below is a failure, so a new
# plugin must add its own.
#
# usage: config_error_test.sh TALLYD PLUGIN_DIR TEST_PLUGIN...
# The plugins are copied into a private mktemp -d directory, removed at
# exit. The last line is "N passed, M failed"; the exit status is 1 if any
# failed.
set -u

usage="usage: config_error_test.sh TALLYD PLUGIN_DIR TEST_PLUGIN..."
TALLYD=${1:?$usage}
PLUGINS=$(realpath "${2:?$usage}")
shift 2
work=$(realpath "$(mktemp -d)")
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

mkdir -p "$work/plugins" "$work/state"
cp "$PLUGINS"/*.so "$work/plugins/"
for p in "$@"; do cp "$p" "$work/plugins/"; done

# bad_body PLUGIN: a section body with one bad option, and (after a tab)
# a fixed string of the message it must produce; nothing for a plugin
# without a case.
bad_body() {
    case $1 in
    csv) printf '%s\t%s' 'path = "/tmp/x*.csv" stream = "nope"' "option 'stream' = \"nope\" is unknown" ;;
    jsonl) printf '%s\t%s' 'path = "/tmp/x*.jsonl" stream = "usage" max_line_bytes = 1' "option 'max_line_bytes' = 1 is out of range" ;;
    odbc) printf '%s\t%s' 'connection = "DSN=x" stream = "nope"' "option 'stream' = \"nope\" is unknown" ;;
    daily) printf '%s\t%s' 'keep_days = 0' 'keep_days = 0 is out of range' ;;
    shm) printf '%s\t%s' 'capacity = -1' 'capacity -1 is out of range' ;;
    file) printf '%s\t%s' 'path = "/tmp/x.json" format = "nope"' "option 'format' = \"nope\" is unknown" ;;
    http) printf '%s\t%s' 'url = "http://127.0.0.1:9/x" method = "nope"' "option 'method' = \"nope\" is unknown" ;;
    sql) printf '%s\t%s' 'connection = "DSN=x" table_prefix = "a-b"' "option 'table_prefix' = \"a-b\" may hold only" ;;
    serve) printf '%s\t%s' 'listen = "127.0.0.1"' "option 'listen' = \"127.0.0.1\" has no :PORT" ;;
    block) printf '%s\t%s' 'record = "/tmp/x"' 'record and release are required' ;;
    esac
}

list=$("$TALLYD" --list-plugins --plugin-dir "$work/plugins" 2>&1)
names=$(sed -nE 's/^([a-z][a-z0-9_]*) \((source|collector|exporter)\).*/\1/p' <<<"$list")
if [[ -z $names ]]; then
    fail list_plugins "tallyd --list-plugins named no plugin" "output: $list"
fi

for name in $names; do
    case_=$(bad_body "$name")
    if [[ -z $case_ ]]; then
        fail "$name" "no bad-option case for plugin '$name': add one to bad_body"
        continue
    fi
    body=${case_%%$'\t'*}
    want=${case_#*$'\t'}
    title="t_$name"
    conf="$work/$name.conf"
    # The section is on line 4 (one line), so that is its line.
    printf 'state_dir = "%s"\nplugin_dir = "%s"\n\n%s "%s" { %s }\n' \
        "$work/state" "$work/plugins" "$name" "$title" "$body" >"$conf"
    status=0
    out=$("$TALLYD" -c "$conf" -t 2>&1) || status=$?
    line=$(grep -F -- "$want" <<<"$out" | head -n 1)
    shape="$conf:4: in $name \"$title\": "
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$out"; then
        fail "$name" "a sanitizer report" "output: $out"
    elif [[ $status != 1 ]]; then
        fail "$name" "exit $status (want 1)" "output: $out"
    elif [[ -z $line ]]; then
        fail "$name" "missing: $want" "output: $out"
    elif [[ $line != *"tallyd error: $shape$want"* ]]; then
        fail "$name" "not in the shape: tallyd error: $shape$want..." "line: $line"
    elif [[ $(grep -o -- "\"$title\"" <<<"$line" | wc -l) != 1 ]]; then
        fail "$name" "the title is not named exactly once" "line: $line"
    else
        pass "$name"
    fi
done

totals
