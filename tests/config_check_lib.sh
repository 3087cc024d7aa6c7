# config_check_lib.sh — `tallyd -t` checks the config tests share: sourced
# after check_lib.sh, never run; needs TALLYD, PLUGINS and work set.

# sanitizer_report < OUTPUT: OUTPUT holds an ASan, LSan or UBSan report
# (in a sanitizer build, a report is a failure even with the right status).
sanitizer_report() {
    grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:'
}

# check_t NAME FILE WANT_STATUS WANT_TEXT [TALLYD_ARGS...]: run tallyd -t on
# FILE; pass if the status is exact and the output holds WANT_TEXT (a fixed
# string). A failing check must not also claim "config OK".
check_t() {
    local name=$1 file=$2 want_status=$3 want=$4 status=0 out
    shift 4
    # Bounded: a config that makes tallyd block (a FIFO) must fail, not hang.
    out=$(timeout -s KILL 60 "$TALLYD" -c "$file" -t "$@" 2>&1) || status=$?
    if sanitizer_report <<<"$out"; then
        fail "$name" "a sanitizer report" "output: $out"
    elif [[ $status != "$want_status" ]]; then
        fail "$name" "exit $status (want $want_status)" "output: $out"
    elif ! grep -qF -- "$want" <<<"$out"; then
        fail "$name" "missing: $want" "output:  $out"
    elif [[ $want_status != 0 ]] && grep -qF "config OK" <<<"$out"; then
        fail "$name" "a bad config also printed config OK" "output: $out"
    else
        pass "$name"
    fi
}

# The two lines every config starts with, so line numbers in the tables
# below count from 3 for the first line of a body.
header() {
    printf 'state_dir = "%s"\nplugin_dir = "%s"\n' "$work" "$PLUGINS"
}

# bad NAME LINE MESSAGE < BODY: the config is header + BODY; tallyd -t must
# exit 1 and print "FILE:LINE: MESSAGE".
bad() {
    local name=$1 line=$2 msg=$3 file="$work/$1.conf"
    { header; cat; } >"$file"
    check_t "$name" "$file" 1 "$file:$line: $msg"
}
