# check_lib.sh — the counting every shell test shares: sourced, never run.
# pass NAME / fail NAME [DETAIL...] count and print one line per check;
# totals prints the closing `N passed, M failed` line ctest and CI read and
# returns 1 if anything failed.

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
