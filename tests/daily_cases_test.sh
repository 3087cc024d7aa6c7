#!/usr/bin/env bash
# daily_cases_test.sh — the daily collector's statistics against values
# computed by hand from DESIGN.md ("Records and the business-day
# statistics", "The JSON summary"). Each folder of tests/daily_cases/ is
# one case:
#   *.csv          inputs, header row first: usage*.csv, candidates*.csv,
#                  users*.csv, api_keys*.csv (a csv source for each kind present)
#   case.conf      timezone=, now= (ISO 8601 UTC), optional keep_days=
#                  (default 400), float_ulps= (reals must be within that many
#                  units in the last place instead of 1e-9 relative),
#                  now2= (the instant of the second step; default now)
#   expected.json  the parts of the JSON summary computed by hand
#   notes.md       the arithmetic behind expected.json, for a reviewer
#   step2/         optional: files appended to the inputs (or added when
#                  new; step2/replace/ files overwrite) before a second run
#                  on the same state, which must give expected2.json
# For every case the runner also checks that a second --once on unchanged
# input changes nothing, and, for cases with a step2, that one run with a
# fresh state over the final inputs gives the same JSON as the two steps.
#
# usage: daily_cases_test.sh TALLYD PLUGIN_DIR [CASE...]
# Ends with "N passed, M failed" (exit 1 if any failed). DAILY_KEEP=1
# keeps the work directory.
set -euo pipefail

TALLYD=${1:?usage: $0 TALLYD PLUGIN_DIR [CASE...]}
PLUGIN_DIR=${2:?usage: $0 TALLYD PLUGIN_DIR [CASE...]}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
CASES=$HERE/daily_cases
EXPECT=$HERE/json_expect.py
source "$HERE/check_lib.sh"
export LC_ALL=C.UTF-8

[ -x "$TALLYD" ] || { fail "$TALLYD is not an executable; build first"; totals; exit 1; }
for so in csv daily file; do
    [ -f "$PLUGIN_DIR/$so.so" ] || { fail "$PLUGIN_DIR/$so.so is missing; build first"; totals; exit 1; }
done
command -v python3 >/dev/null || { fail "python3 is missing: run scripts/deps.sh"; totals; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-daily-cases.XXXXXX")
cleanup() {
    if [ -n "${DAILY_KEEP:-}" ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# conf_get CASE KEY DEFAULT: a value from CASE/case.conf.
conf_get() {
    local line k v
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        [[ $line == *=* ]] || continue
        k=${line%%=*}
        v=${line#*=}
        k=${k//[[:space:]]/}
        v=$(printf '%s' "$v" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
        if [ "$k" == "$2" ]; then
            printf '%s\n' "$v"
            return 0
        fi
    done <"$1/case.conf"
    printf '%s\n' "$3"
}

# has_input DIR PREFIX: DIR holds a PREFIX*.csv file.
has_input() {
    compgen -G "$1/$2*.csv" >/dev/null
}

# write_conf RUN INPUTS TZ KEEP: RUN/tallyd.conf reading INPUTS, state in
# RUN/state, the JSON in RUN/out.json. Only the kinds of input present get
# a csv source.
write_conf() {
    local run=$1 in=$2 tz=$3 keep=$4
    mkdir -p "$run/state"
    {
        printf 'timezone = "%s"\nstate_dir = "%s/state"\nplugin_dir = "%s"\n' "$tz" "$run" "$PLUGIN_DIR"
        has_input "$in" usage && printf 'csv "usage" { path = "%s/usage*.csv" stream = "usage" }\n' "$in"
        has_input "$in" candidates &&
            printf 'csv "candidates" { path = "%s/candidates*.csv" stream = "candidates" }\n' "$in"
        has_input "$in" users && printf 'csv "users" { path = "%s/users*.csv" stream = "users" }\n' "$in"
        has_input "$in" api_keys && printf 'csv "keys" { path = "%s/api_keys*.csv" stream = "api_keys" }\n' "$in"
        printf 'daily "stats" { keep_days = %s }\n' "$keep"
        printf 'file "json" { path = "%s/out.json" format = "json" }\n' "$run"
    } >"$run/tallyd.conf"
}

# run_once NAME RUN NOW: one cycle; passes on exit 0 with a JSON file.
run_once() {
    local name=$1 run=$2 now=$3 rc=0
    rm -f "$run/out.json"
    echo "--- tallyd --once --now $now" >>"$run/agent.log"
    timeout -s KILL 120 "$TALLYD" -c "$run/tallyd.conf" --once --now "$now" >>"$run/agent.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$run/out.json" ]; then
        fail "$name: tallyd --once --now $now exited $rc and wrote ${run}/out.json: $([ -s "$run/out.json" ] && echo yes || echo no)" \
            "$(tail -n 8 "$run/agent.log")"
        return 1
    fi
    return 0
}

# expect NAME EXPECTED ACTUAL ULPS: the hand-computed values are in ACTUAL.
expect() {
    local out rc=0
    out=$(python3 "$EXPECT" --label "$1" ${4:+--ulps "$4"} "$2" "$3" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        pass "$1: $(basename "$2") matches"
    else
        local lines=()
        mapfile -t lines <<<"$out"
        fail "$1: $(basename "$2") differs" "${lines[@]}"
    fi
}

# same NAME A B: A and B are the same JSON apart from generated_at.
same() {
    local out rc=0
    out=$(python3 "$EXPECT" --same --label "$1" --ignore generated_at "$2" "$3" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        pass "$1"
    else
        local lines=()
        mapfile -t lines <<<"$out"
        fail "$1" "${lines[@]}"
    fi
}

# run_case DIR: every check of one case.
run_case() {
    local dir=$1 name tz now now2 keep ulps run in f
    name=$(basename "$dir")
    tz=$(conf_get "$dir" timezone "")
    now=$(conf_get "$dir" now "")
    keep=$(conf_get "$dir" keep_days 400)
    ulps=$(conf_get "$dir" float_ulps "")
    now2=$(conf_get "$dir" now2 "$now")
    if [ -z "$tz" ] || [ -z "$now" ] || [ ! -f "$dir/expected.json" ]; then
        fail "$name: case.conf needs timezone= and now=, and the case an expected.json"
        return
    fi
    run=$WORK/$name
    in=$run/in
    mkdir -p "$in"
    cp "$dir"/*.csv "$in/"

    write_conf "$run" "$in" "$tz" "$keep"
    run_once "$name" "$run" "$now" || return 0
    cp "$run/out.json" "$run/step1.json"
    expect "$name" "$dir/expected.json" "$run/step1.json" "$ulps"
    run_once "$name (again)" "$run" "$now" || return 0
    same "$name: a second --once on unchanged input changes nothing" "$run/step1.json" "$run/out.json"

    [ -d "$dir/step2" ] || return 0
    for f in "$dir"/step2/*.csv; do
        [ -e "$f" ] || continue
        cat "$f" >>"$in/$(basename "$f")"
    done
    if [ -d "$dir/step2/replace" ]; then
        cp "$dir"/step2/replace/*.csv "$in/"
    fi
    write_conf "$run" "$in" "$tz" "$keep"
    run_once "$name, step 2" "$run" "$now2" || return 0
    cp "$run/out.json" "$run/step2.json"
    expect "$name, step 2" "$dir/expected2.json" "$run/step2.json" "$ulps"
    run_once "$name, step 2 (again)" "$run" "$now2" || return 0
    same "$name, step 2: a second --once on unchanged input changes nothing" "$run/step2.json" "$run/out.json"

    # The same final inputs in one run on a fresh state.
    local fresh=$WORK/$name.fresh
    mkdir -p "$fresh"
    write_conf "$fresh" "$in" "$tz" "$keep"
    run_once "$name, one run" "$fresh" "$now2" || return 0
    same "$name: two steps give the same JSON as one run over the final input" "$run/step2.json" \
        "$fresh/out.json"
}

if [ $# -gt 0 ]; then
    for c in "$@"; do
        if [ -d "$CASES/$c" ]; then run_case "$CASES/$c"; else fail "$c: no such case in $CASES"; fi
    done
else
    for d in "$CASES"/*/; do
        run_case "${d%/}"
    done
fi
totals
