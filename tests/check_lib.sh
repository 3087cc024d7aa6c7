# check_lib.sh — the counting every shell test shares: sourced, never run.
# pass NAME / fail NAME [DETAIL...] count and print one line per check;
# totals prints the closing `N passed, M failed` line ctest and CI read and
# returns 1 if anything failed. check NAME COMMAND... passes when COMMAND
# succeeds; wait_for SECONDS COMMAND... polls COMMAND until it does.

passed=0
failed=0

pass() {
    printf 'ok   %s\n' "$1"
    passed=$((passed + 1))
}

fail() {
    printf 'FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do printf '       %s\n' "$line"; done
    failed=$((failed + 1))
}

totals() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ]
}

# check NAME COMMAND...: pass when COMMAND succeeds. (A script may define
# its own check after sourcing this file.)
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# wait_for SECONDS COMMAND...: COMMAND every 0.1 s until it succeeds; 1 if
# it never did within SECONDS.
wait_for() {
    local i limit=$(($1 * 10))
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
