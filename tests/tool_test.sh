#!/usr/bin/env bash
# tool_test.sh — integration test of the `tally` command line tool against
# real regions: a file region in a private temporary directory and a POSIX
# shared memory region (/dev/shm/tally-tooltest-PID), both removed at exit.
#
# usage: tool_test.sh PATH_TO_TALLY
# Every check compares exact output; the last line is "N passed, M failed".
set -euo pipefail

T=${1:?usage: tool_test.sh PATH_TO_TALLY}
work=$(mktemp -d)
SHM=tally-tooltest-$$
cleanup() {
    rm -rf "$work"
    rm -f "/dev/shm/$SHM" "/dev/shm/$SHM-missing" "/dev/shm/$SHM-link"
}
trap cleanup EXIT
unset TALLY_REGION

passed=0
failed=0
pass() {
    printf 'ok   %s\n' "$1"
    passed=$((passed + 1))
}
fail() {
    printf 'FAIL %s\n' "$1"
    shift
    printf '       %s\n' "$@"
    failed=$((failed + 1))
}

source "$(dirname "$0")/tool_lib.sh"

# wait_or_kill PID SECONDS: wait for a background PID, killing it if it is
# still running after SECONDS, so a hung watch fails the test instead of
# hanging it. Sets status.
wait_or_kill() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    status=0
    wait "$1" || status=$?
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# json_expect NAME PYTHON_LITERAL: the last run succeeded quietly and printed
# JSON equal to the literal, with counters in name order.
json_expect() {
    local why
    if [[ $status != 0 || -n $err ]]; then
        fail "$1" "status $status, stderr: $err"
        return
    fi
    if why=$(python3 - "$out" "$2" <<'EOF'
import ast, json, sys
got = json.loads(sys.argv[1])
want = ast.literal_eval(sys.argv[2])
if got != want:
    sys.exit("got  %r\nwant %r" % (got, want))
names = list(got["counters"])
if names != sorted(names, key=lambda s: s.encode()):
    sys.exit("counters not sorted: %r" % names)
EOF
    ); then pass "$1"; else fail "$1" "$why"; fi
}

R=$work/region
MAX=9223372036854775807
MIN=-9223372036854775808

# --- add, get ----------------------------------------------------------
t --region "$R" add b.second
expect "add on a missing region creates it, prints nothing" 0 "" ""
check "add created the region file" test -f "$R"
t --region "$R" get b.second
expect "get after one add prints 1" 0 "1" ""
t --region "$R" add b.second 41
t --region "$R" get b.second
expect "add N adds N" 0 "42" ""
t --region "$R" add b.second -50
expect "add with a negative N succeeds" 0 "" ""
t --region "$R" get b.second
expect "negative N subtracts" 0 "-8" ""
t -r "$R" add big.max "$MAX"
t -r "$R" get big.max
expect "add and get the largest int64" 0 "$MAX" ""
t -r "$R" add big.min "$MIN"
t -r "$R" get big.min
expect "add and get the smallest int64" 0 "$MIN" ""
t -r "$R" reset big.min
t --region="$R" add zeta 3
t "--region=$R" add a.first
t add -r "$R" b.sub.x 10
expect "options after the command" 0 "" ""
t -r "$R" get nope
expect "get of an unknown name exits 1" 1 "" \
    "tally: counter 'nope' in region '$R': no counter of that name in the region"

# --- list --------------------------------------------------------------
t -r "$R" list
expect "list: sorted names, values, capacity, used, overflow" 0 \
    "# region $R: capacity 4096, used 6, overflow 0
a.first                     1
b.second                   -8
b.sub.x                    10
big.max   9223372036854775807
big.min                     0
zeta                        3" ""
t -r "$R" list b.
expect "list PREFIX filters by prefix" 0 \
    "# region $R: capacity 4096, used 6, overflow 0
b.second  -8
b.sub.x   10" ""
t -r "$R" list nothing.here
expect "list PREFIX matching nothing prints the header only" 0 \
    "# region $R: capacity 4096, used 6, overflow 0" ""

# --- JSON --------------------------------------------------------------
t -r "$R" --json list
json_expect "list --json" "{'region': '$R', 'path': '$R', 'capacity': 4096, 'used': 6,
    'overflow': 0, 'counters': {'a.first': 1, 'b.second': -8, 'b.sub.x': 10,
    'big.max': $MAX, 'big.min': 0, 'zeta': 3}}"
t -r "$R" list --json b.
json_expect "list --json PREFIX" "{'region': '$R', 'path': '$R', 'capacity': 4096, 'used': 6,
    'overflow': 0, 'counters': {'b.second': -8, 'b.sub.x': 10}}"
t -r "$R" get --json b.second
json_expect "get --json" "{'region': '$R', 'counters': {'b.second': -8}}"
t -r "$R" get --json nope
expect "get --json of an unknown name exits 1" 1 "" \
    "tally: counter 'nope' in region '$R': no counter of that name in the region"

# --- reset -------------------------------------------------------------
t -r "$R" reset zeta
expect "reset prints the old value" 0 "3" ""
t -r "$R" get zeta
expect "get after reset prints 0" 0 "0" ""
t -r "$R" reset zeta
expect "reset of a zero counter prints 0" 0 "0" ""
t -r "$R" reset nope
expect "reset of an unknown name exits 1" 1 "" \
    "tally: counter 'nope' in region '$R': no counter of that name in the region"

# --- missing regions are never created -----------------------------------
M=$work/missing
for cmd in list "get x" "reset x" watch; do
    # shellcheck disable=SC2086
    t -r "$M" $cmd
    expect "$cmd on a missing region exits 2" 2 "" "tally: region '$M': region does not exist"
done
check "reading commands did not create the region" test ! -e "$M"
t -r "$SHM-missing" list
expect "list on a missing shm region exits 2" 2 "" \
    "tally: region '$SHM-missing': region does not exist"
check "list did not create the shm region" test ! -e "/dev/shm/$SHM-missing"

# --- a POSIX shared memory region, named by TALLY_REGION ------------------
status=0
TALLY_REGION=$SHM "$T" add shm.hits 2 >"$work/out" 2>"$work/err" || status=$?
out=$(cat "$work/out")
err=$(cat "$work/err")
expect "add to a shm region named by TALLY_REGION" 0 "" ""
check "the shm region is /dev/shm/NAME" test -f "/dev/shm/$SHM"
t -r "$SHM" list
expect "list of the shm region shows its /dev/shm path" 0 \
    "# region /dev/shm/$SHM: capacity 4096, used 1, overflow 0
shm.hits  2" ""
status=0
out=$(TALLY_REGION=$SHM "$T" -r "$R" get b.second 2>"$work/err") || status=$?
err=$(cat "$work/err")
expect "--region wins over TALLY_REGION" 0 "-8" ""

# --- usage errors --------------------------------------------------------
N=$work/never
t -r "$N" frob
expect "unknown command exits 2" 2 "" "tally: unknown command 'frob' (see 'tally --help')"
t -r "$N"
expect "no command exits 2" 2 "" "tally: no command given (see 'tally --help')"
t -r "$N" add x 1x
expect "bad number exits 2" 2 "" "tally: value '1x': not an integer (see 'tally --help')"
t -r "$N" add x ""
expect "empty number exits 2" 2 "" "tally: value '': not an integer (see 'tally --help')"
t -r "$N" add x " 5"
expect "number with a blank exits 2" 2 "" "tally: value ' 5': not an integer (see 'tally --help')"
t -r "$N" add x 9223372036854775808
expect "number out of range exits 2" 2 "" \
    "tally: value '9223372036854775808': out of range $MIN..$MAX (see 'tally --help')"
t -r "$N" get
expect "get without NAME exits 2" 2 "" "tally: get: missing NAME (see 'tally --help')"
t -r "$N" add
expect "add without NAME exits 2" 2 "" "tally: add: missing NAME (see 'tally --help')"
t -r "$N" reset
expect "reset without NAME exits 2" 2 "" "tally: reset: missing NAME (see 'tally --help')"
t -r "$N" get a b
expect "get with two names exits 2" 2 "" "tally: get: too many arguments (see 'tally --help')"
t -r "$N" --frob list
expect "unknown long option exits 2" 2 "" "tally: unknown option '--frob' (see 'tally --help')"
t -r "$N" -q list
expect "unknown short option exits 2" 2 "" "tally: unknown option '-q' (see 'tally --help')"
t list --region
expect "option without its value exits 2" 2 "" \
    "tally: option '--region' needs a value (see 'tally --help')"
t -r "$N" --json add x
expect "--json on add exits 2" 2 "" \
    "tally: option '--json' does not apply to 'add' (see 'tally --help')"
t -r "$N" watch --interval 0
expect "interval 0 exits 2" 2 "" \
    "tally: interval '0': out of range: more than 0, at most 86400 seconds (see 'tally --help')"
t -r "$N" watch --interval soon
expect "interval not a number exits 2" 2 "" \
    "tally: interval 'soon': not a number of seconds (see 'tally --help')"
t -r "$N" watch --count 0
expect "count 0 exits 2" 2 "" "tally: count '0': out of range 1..$MAX (see 'tally --help')"
NAME65=$(printf 'n%.0s' {1..65})
t -r "$N" add "$NAME65"
expect "add of a 65-byte name exits 2" 2 "" "tally: counter '$NAME65': invalid counter name: use 1 \
to 64 bytes of UTF-8 without control characters"
check "usage and name errors created no region" test ! -e "$N"
t -r "$R" get "$NAME65"
expect "get of a 65-byte name exits 2, not 1" 2 "" "tally: counter '$NAME65' in region '$R': \
invalid counter name: use 1 to 64 bytes of UTF-8 without control characters"
NAME64=$(printf 'n%.0s' {1..64})
t -r "$R" add "$NAME64" 7
t -r "$R" get "$NAME64"
expect "a 64-byte name is fine" 0 "7" ""
t --help
check "--help exits 0 and prints the usage" \
    test "$status $(head -1 "$work/out")" == "0 usage: tally [OPTIONS] COMMAND [ARGS]"

# --- files that are not regions ------------------------------------------
head -c 8192 /dev/urandom >"$work/junk"
t -r "$work/junk" list
expect "a file of random bytes is refused" 2 "" \
    "tally: region '$work/junk': not a tally region (wrong magic): check the region name or path"
t -r "$work/junk" add x
expect "add does not overwrite a non-region file" 2 "" \
    "tally: region '$work/junk': not a tally region (wrong magic): check the region name or path"
: >"$work/empty"
t -r "$work/empty" get x
expect "an empty file is refused" 2 "" "tally: region '$work/empty': region file is empty: it is \
not a tally region (libtally never leaves one empty); check what the path names, and remove it \
only if it is yours, so the region can be created"
printf 'hello\n' >"$work/short"
t -r "$work/short" list
expect "a short foreign file is not called a truncated region" 2 "" \
    "tally: region '$work/short': not a tally region (wrong magic): check the region name or path"
ln -s "$work/nowhere" "$work/dangling"
t -r "$work/dangling" add x
expect "a dangling symlink is named as such" 2 "" "tally: region '$work/dangling': region path is \
a symbolic link to nothing (dangling): point it at a region, or remove the link so the region can \
be created"
check "add created nothing through the dangling link" test ! -e "$work/nowhere"
mkfifo "$work/fifo"
t -r "$work/fifo" list
expect "a FIFO is refused, without blocking" 2 "" "tally: region '$work/fifo': region path is a \
FIFO, socket or device, not a region file: libtally neither reads nor writes it; give the path of \
a regular file"
t -r /dev/null add x
expect "a device is refused" 2 "" "tally: region '/dev/null': region path is a FIFO, socket or \
device, not a region file: libtally neither reads nor writes it; give the path of a regular file"
mkdir "$work/dir"
t -r "$work/dir" get x
expect "a directory is refused" 2 "" "tally: region '$work/dir': region path is a directory, not \
a region file: give a file's path, or a name without '/' for a region in /dev/shm"
ln -s "$work/dir" "/dev/shm/$SHM-link"
t -r "$SHM-link" list
expect "a symbolic link in /dev/shm is not followed" 2 "" "tally: region '$SHM-link': region name \
is a symbolic link in /dev/shm: libtally never follows a link there (anyone may plant one); remove \
the link if it is yours, or use another region name"

# --- a full region: capacity and overflow ---------------------------------
F=$work/full
t -r "$F" --capacity 2 add one
t -r "$F" add two
t -r "$F" add three
expect "add to a full region exits 2" 2 "" "tally: adding to counter 'three' in region '$F': \
region is full: every counter slot is taken; create the region with a larger capacity"
t -r "$F" list
expect "list shows the capacity and the overflow count" 0 "# region $F: capacity 2, used 2, \
overflow 1
one  1
two  1" ""

# --- hostile names, written into the region at the byte level -------------
# publish_raw REGION NAME_BYTES...: each name (a Python bytes literal) is
# published in a free slot, under a tag libtally would never give it.
publish_raw() {
    python3 - "$@" <<'EOF'
import ast, struct, sys
path, names = sys.argv[1], [ast.literal_eval(a) for a in sys.argv[2:]]
with open(path, "r+b") as f:
    table_slots = struct.unpack_from("<I", f.read(64), 28)[0]
    slot = table_slots
    for name in names:
        while True:
            slot -= 1
            f.seek(4096 + slot * 64)
            if struct.unpack("<Q", f.read(8))[0] == 0:
                break
        rec = name.ljust(64, b"\0")
        f.seek(4096 + slot * 64 + 8)
        f.write(rec[:56])
        f.seek(4096 + table_slots * 64 + slot * 8)
        f.write(rec[56:])
        f.seek(4096 + slot * 64)
        f.write(struct.pack("<Q", (1 << 63) | 0x123400 | len(name)))
EOF
}
H=$work/hostile
t -r "$H" --capacity 16 add good 3
publish_raw "$H" "b'\\x1b]0;owned\\x07'" "b'bad\\xff'" "b'bad\\xfe'"
t -r "$H" list
expect "list leaves out hostile names and says how many" 0 "# region $H: capacity 16, used 4, \
overflow 0
good  3" "tally: region '$H': 3 counter record(s) not shown: their names are not valid, or repeat \
another's, so libtally did not write them; something with write access to the region did (check \
its owner and mode)"
t -r "$H" --json list
check "list --json still prints the region's valid counters" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["counters"] == {"good": 3} and d["skipped"] == 3, d' "$out"
t -r "$H" watch --count 1
check "watch prints no escape either" test "$(printf '%s' "$out" | LC_ALL=C grep -c $'\033')" == 0

# --- a region truncated under a reader --------------------------------------
S=$work/shrinks
t -r "$S" add a 1
"$T" -r "$S" watch --interval 0.1 --count 600 >"$work/wout" 2>"$work/werr" &
wpid=$!
for ((i = 0; i < 100; i++)); do
    [[ -s $work/wout ]] && break
    sleep 0.05
done
truncate -s 0 "$S"
wait_or_kill "$wpid" 30
check "watch on a region truncated under it exits 2, not of SIGBUS" test "$status" == 2
check "and says what happened and what to do" grep -q "tally: reading region '$S': region file shrank \
while in use: something with write access truncated it (libtally never does); its counters are \
lost. Check who can write it (ls -l), then open the region again" "$work/werr"

# --- output errors --------------------------------------------------------
if [[ -w /dev/full ]]; then
    status=0
    "$T" -r "$R" list >/dev/full 2>"$work/err" || status=$?
    out=""
    err=$(cat "$work/err")
    expect "a failed write exits 2" 2 "" "tally: writing output: No space left on device"
fi

# --- many processes at once, creation included ----------------------------
C=$work/concurrent
pids=()
for p in 1 2 3 4 5 6 7 8; do
    (for i in $(seq 25); do "$T" -r "$C" add hits; done) &
    pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
t -r "$C" get hits
check "8 processes x 25 adds, racing to create: every add succeeded" test "$bad" == 0
expect "8 processes x 25 adds count 200" 0 "200" ""

# --- watch -----------------------------------------------------------------
t -r "$R" watch --count 2 --interval 0.2 b.
expect "watch --count 2 on a non-tty: two plain blocks with rates" 0 \
    "region $R  capacity 4096  used 7  overflow 0  every 0.2s
NAME      VALUE  RATE/s
b.second     -8       -
b.sub.x      10       -

region $R  capacity 4096  used 7  overflow 0  every 0.2s
NAME      VALUE  RATE/s
b.second     -8     0.0
b.sub.x      10     0.0" ""
check "watch on a non-tty writes no escape codes" test "$(tr -d -c '\033' <"$work/out")" == ""

# A counter that moves between two refreshes shows a positive rate.
"$T" -r "$R" watch --count 2 --interval 2 b.sub. >"$work/rate" 2>&1 &
wpid=$!
for i in $(seq 100); do
    [[ -s $work/rate ]] && break
    sleep 0.05
done
"$T" -r "$R" add b.sub.x 1000
wait_or_kill "$wpid" 10
rate=$(awk '$1 == "b.sub.x" { v = $2; r = $3 } END { print v, r }' "$work/rate")
check "watch shows a moving counter's value and a positive rate" \
    awk -v s="$status" -v vr="$rate" 'BEGIN { split(vr, a, " ");
        exit !(s == 0 && a[1] == 1010 && a[2] > 0 && a[2] <= 1000) }'

# SIGINT ends watch cleanly, after whole refreshes.
"$T" -r "$R" watch --interval 0.1 b. >"$work/int" 2>"$work/interr" &
wpid=$!
for i in $(seq 100); do
    [[ -s $work/int ]] && break
    sleep 0.05
done
sleep 0.3
kill -INT "$wpid"
wait_or_kill "$wpid" 5
out=$(tail -n 3 "$work/int")
err=$(cat "$work/interr")
expect "watch exits 0 on SIGINT, last refresh whole" 0 "NAME      VALUE  RATE/s
b.second     -8     0.0
b.sub.x    1010     0.0" ""

# On a terminal, refreshes redraw in place (needs script(1) and a pty).
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
    timeout 10 script -qec "'$T' -r '$R' watch --count 2 --interval 0.1 b." /dev/null \
        >"$work/tty" 2>&1 || true
    check "watch on a tty homes, clears, and redraws in place" python3 - "$work/tty" <<'EOF'
import sys
sys.stderr = sys.stdout
s = open(sys.argv[1], "rb").read()
assert s.startswith(b"\x1b[H\x1b[2Jregion "), s[:40]
assert s.count(b"\x1b[H") == 2 and s.count(b"\x1b[2J") == 1, s
assert s.count(b"\x1b[J") == 2 and b"b.sub.x" in s and b"\x1b[K" in s, s
EOF
else
    echo "skip watch on a tty: no script(1) or no pty"
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
