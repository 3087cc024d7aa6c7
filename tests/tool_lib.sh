# tool_lib.sh — running the `tally` tool in a test and comparing what it
# did: sourced, never run, after check_lib.sh (or its own pass and fail)
# and with $T (the tool) and $work (a scratch directory) set.

# run_cmd COMMAND...: run COMMAND; sets status, out and err.
run_cmd() {
    status=0
    "$@" >"$work/out" 2>"$work/err" || status=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

# t ARGS...: run the tool; sets status, out and err.
t() {
    run_cmd "$T" "$@"
}

# expect NAME STATUS STDOUT STDERR: the last run, compared exactly.
expect() {
    if [[ $status == "$2" && $out == "$3" && $err == "$4" ]]; then
        pass "$1"
    else
        fail "$1" "status: $status (want $2)" "stdout: $out" "want:   $3" "stderr: $err" \
            "want:   $4"
    fi
}
