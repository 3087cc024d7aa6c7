#!/usr/bin/env bash
# tool_access_test.sh — who may use a region, through the `tally` tool:
# --group and --mode on the region add creates, whatever the umask; a
# region planted by another user, or writable by every user, refused with
# its owner, group and mode named; a user who may only read it can list,
# get and watch it, and cannot add to or reset it. Runs as root; the
# unprivileged user is nobody (setpriv). Regions are /dev/shm names, so
# nobody can reach them.
#
# usage: tool_access_test.sh PATH_TO_TALLY
# The last line is "N passed, M failed".
set -euo pipefail

T=${1:?usage: tool_access_test.sh PATH_TO_TALLY}
work=$(mktemp -d)
P=tally-accesstest-$$
cleanup() {
    rm -rf "$work"
    rm -f /dev/shm/"$P"-*
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
if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
    fail "setup" "needs root, setpriv(1) and the user nobody"
    echo "$passed passed, $failed failed"
    exit 1
fi
NOGROUP=$(id -gn nobody)

# t ARGS...: run the tool as root; sets status, out and err.
t() {
    status=0
    "$T" "$@" >"$work/out" 2>"$work/err" || status=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}
# as_nobody ARGS...: the same as nobody, in no supplementary group.
as_nobody() {
    status=0
    setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$T" "$@" >"$work/out" 2>"$work/err" ||
        status=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}
expect() {
    if [[ $status == "$2" && $out == "$3" && $err == "$4" ]]; then
        pass "$1"
    else
        fail "$1" "status: $status (want $2)" "stdout: $out" "want:   $3" "stderr: $err" \
            "want:   $4"
    fi
}
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}
# perm_of NAME: the region's mode and owner:group, as stat shows them.
perm_of() { stat -c '%a %U:%G' "/dev/shm/$1"; }

# --- creation: group and mode, whatever the umask ---------------------------
G=$P-group
status=0
(umask 077 && "$T" -r "$G" add --group "$NOGROUP" a.b 3) >"$work/out" 2>"$work/err" || status=$?
out=$(cat "$work/out")
err=$(cat "$work/err")
expect "add --group under umask 077 succeeds" 0 "" ""
check "the region is 0660 in the group, not 0600" test "$(perm_of "$G")" == "660 root:$NOGROUP"
(umask 077 && "$T" -r "$P-mode" add -g "$(getent group "$NOGROUP" | cut -d: -f3)" -m 0640 x)
check "add -g GID -m 0640: 0640 in that group" test "$(perm_of "$P-mode")" == "640 root:$NOGROUP"
t -r "$G" add --group root --mode 0600 a.b 1
check "an existing region keeps its group and mode" test "$(perm_of "$G")" == "660 root:$NOGROUP"

t -r "$P-x" add --mode 0666 x
expect "--mode with o+w is refused" 2 "" "tally: mode '0666': gives every user write access, and \
libtally attaches no such region (anyone could truncate it); use 0660 with --group (see 'tally --help')"
t -r "$P-x" add --mode 660x x
expect "--mode that is not octal is refused" 2 "" "tally: mode '660x': not a file mode; give octal \
digits from 0000 to 0777, e.g. 0660 (see 'tally --help')"
t -r "$P-x" add --group no-such-group-here x
expect "--group of no such group is refused" 2 "" "tally: group 'no-such-group-here': no such \
group; give a group name or number (see 'tally --help')"
t -r "$G" list --group "$NOGROUP"
expect "--group applies to add only" 2 "" "tally: option '--group' does not apply to 'list' (see \
'tally --help')"
check "refused options created nothing" test ! -e "/dev/shm/$P-x"
as_nobody -r "$P-x" add --group root x
expect "a user outside the group cannot create a region in it" 2 "" "tally: region '$P-x': could \
not give the new region its group: the creating user must be a member of that group (or root); add \
it to the group or create the region as its owner"
check "and leaves nothing behind" test ! -e "/dev/shm/$P-x"

# --- a region planted by another user ---------------------------------------
H=$P-planted
t -r "$H" add a 1
chown nobody:"$NOGROUP" "/dev/shm/$H"
chmod 0600 "/dev/shm/$H"
want="tally: region '$H' (/dev/shm/$H -rw------- nobody:$NOGROUP): region is owned by a user this \
process does not trust (not itself, not root, not the configured owner): anyone who owns it can \
truncate it under every process that maps it; remove it if it is not yours, or configure its owner"
for cmd in list "get a" "add a" "reset a" "watch --count 1"; do
    # shellcheck disable=SC2086
    t -r "$H" $cmd
    expect "$cmd on a region owned by nobody: refused, owner, group and mode named" 2 "" "$want"
done
# A planted file that is not even a region is refused the same way, before
# anything is read from it.
printf 'junk' >"/dev/shm/$P-junk"
chown nobody "/dev/shm/$P-junk"
t -r "$P-junk" add a
check "a planted non-region is refused as untrusted" grep -q "does not trust" "$work/err"

# --- a region every user may write --------------------------------------------
W=$P-everyones
t -r "$W" add a 1
chmod 0666 "/dev/shm/$W"
want="tally: region '$W' (/dev/shm/$W -rw-rw-rw- root:root): region is writable by every user \
(mode o+w): anyone could truncate it; chmod o-w it, or remove it so it is created again with a safe \
mode"
for cmd in list "add a"; do
    # shellcheck disable=SC2086
    t -r "$W" $cmd
    expect "$cmd on an o+w region: refused, mode named" 2 "" "$want"
done

# --- a user who may only read ---------------------------------------------------
R=$P-readable
t -r "$R" add --mode 0644 a.x 5
t -r "$R" add a.y 7
as_nobody -r "$R" list
expect "list as a read-only user" 0 "# region /dev/shm/$R: capacity 4096, used 2, overflow 0
a.x  5
a.y  7" ""
as_nobody -r "$R" get a.y
expect "get as a read-only user" 0 "7" ""
as_nobody -r "$R" --json get a.y
expect "get --json as a read-only user" 0 '{"region": "'"$R"'", "counters": {"a.y": 7}}' ""
as_nobody -r "$R" get a.zz
expect "get of a missing name as a read-only user exits 1" 1 "" \
    "tally: counter 'a.zz' in region '$R': no counter of that name in the region"
as_nobody -r "$R" watch --count 2 --interval 0.1 a.x
expect "watch as a read-only user" 0 "region /dev/shm/$R  capacity 4096  used 2  overflow 0  every 0.1s
NAME  VALUE  RATE/s
a.x       5       -

region /dev/shm/$R  capacity 4096  used 2  overflow 0  every 0.1s
NAME  VALUE  RATE/s
a.x       5     0.0" ""
hint="to read it, be its owner or in its group (or ask for o+r); to write it, be its owner or in its \
group with g+w"
as_nobody -r "$R" add a.x 1
expect "add as a read-only user: refused, with the region's owner, group and mode" 2 "" \
    "tally: region '$R' (/dev/shm/$R -rw-r--r-- root:root; $hint): Permission denied"
as_nobody -r "$R" reset a.x
expect "reset as a read-only user: refused the same way" 2 "" \
    "tally: region '$R' (/dev/shm/$R -rw-r--r-- root:root; $hint): Permission denied"
t -r "$R" get a.x
expect "nothing was added or reset" 0 "5" ""
chmod 0640 "/dev/shm/$R"
as_nobody -r "$R" list
expect "list by a user who may not even read: refused, with what to do" 2 "" \
    "tally: region '$R' (/dev/shm/$R -rw-r----- root:root; $hint): Permission denied"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
