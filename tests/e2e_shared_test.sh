#!/usr/bin/env bash
# e2e_shared_test.sh — a region the agent and the applications share, and a
# stranger cannot break (issue 13):
#  - truncated while `tallyd -f` and `tally watch` both read it: neither
#    dies (no SIGBUS); watch exits 2 saying what happened, the agent logs
#    it, keeps running, and reads the region once it is there again;
#  - planted in /dev/shm by another user (nobody), or writable by every
#    user: the agent refuses it, naming path, owner, group and mode, and
#    leaves it as it was; with owner = that user, it reads it;
#  - created by the agent with group and mode, under umask 077: 0640 (or
#    0660) in that group;
#  - an agent that may only read the region (run as nobody): refused
#    read-write with what to do, reads it with readonly = true.
# Runs as root (chown, setpriv).
#
# usage: e2e_shared_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
    fail "setup: needs root, setpriv(1) and the user nobody"
    finish
fi
NOGROUP=$(id -gn nobody)
P=tally-e2eshared-$$
e2e_shared_cleanup() {
    rm -f /dev/shm/"$P"-*
    e2e_cleanup
}
trap e2e_shared_cleanup EXIT
# nobody must reach its state directory below $WORK.
chmod 0755 "$WORK"

# conf DIR REGION EXTRA_OPTIONS: a config reading REGION with EXTRA_OPTIONS
# in its shm section, exporting live values to DIR/summary.json.
conf() {
    mkdir -p "$1/state"
    cat >"$1/tallyd.conf" <<EOC
timezone   = "UTC"
state_dir  = "$1/state"
interval   = 1
plugin_dir = "$PLUGIN_DIR"
shm "counters" { region = "$2" $3 }
file "summary"  { path = "$1/summary.json"  format = "json" }
EOC
}
exported() { [ "$(counter "$1" "$2")" == "$3" ]; }

# --- truncated under the agent and the tool -----------------------------------
D=$WORK/shrink
conf "$D" "$D/region" ""
"$TALLY" -r "$D/region" add s.x 5
"$TALLYD" -f -c "$D/tallyd.conf" >>"$D/agent.log" 2>&1 &
AGENT=$!
E2E_PIDS+=("$AGENT")
"$TALLY" -r "$D/region" watch --interval 0.1 --count 3000 >"$D/watch.out" 2>"$D/watch.err" &
WATCH=$!
E2E_PIDS+=("$WATCH")
watching() { grep -q '^s.x ' "$D/watch.out"; }
wait_for 30 exported "$D" s.x 5 || fail "shrink: the agent exported s.x before the cut"
wait_for 30 watching || fail "shrink: watch showed s.x before the cut"
# Header kept, table and values gone: readers fault inside the mapping.
truncate -s 4096 "$D/region"
wait_pid "$WATCH" 30
check "shrink: watch exits 2, not of SIGBUS" "$WAIT_STATUS" 2
check "shrink: watch says the region shrank and what to do" \
    "$(grep -c "tally: reading region '$D/region': region file shrank while in use: something with \
write access truncated it (libtally never does); its counters are lost. Check who can write it \
(ls -l), then open the region again" "$D/watch.err")" 1
logged_shrunk() { grep -q "error: shm \"counters\": region '$D/region': region file shrank while in use" "$D/agent.log"; }
if wait_for 30 logged_shrunk; then
    pass "shrink: the agent logs that the region shrank"
else
    fail "shrink: the agent logs that the region shrank" "$(tail -n 5 "$D/agent.log")"
fi
check "shrink: the agent is still running" "$(kill -0 "$AGENT" 2>/dev/null && echo alive)" alive
# The file is made again, as an application would after a removal.
rm -f "$D/region"
"$TALLY" -r "$D/region" add s.y 2
if wait_for 30 exported "$D" s.y 2; then
    pass "shrink: the agent reads the region made again"
else
    fail "shrink: the agent reads the region made again" "$(tail -n 5 "$D/agent.log")"
fi
kill -TERM "$AGENT" 2>/dev/null
wait_pid "$AGENT" 30
check "shrink: the agent stops cleanly on TERM" "$WAIT_STATUS" 0

# --- planted in /dev/shm by another user ---------------------------------------
D=$WORK/planted
N=$P-planted
"$TALLY" -r "$N" add p.x 4
chown nobody:"$NOGROUP" "/dev/shm/$N"
chmod 0600 "/dev/shm/$N"
before=$(stat -c '%s %a %U:%G %Y' "/dev/shm/$N")
conf "$D" "$N" ""
once "$D" 2026-11-01T12:00:00Z
check "planted: --once exits 1, not of a signal" "$ONCE_STATUS" 1
check "planted: the agent refuses it, naming path, owner, group and mode" \
    "$(grep -c "error: shm \"counters\": region '$N' (/dev/shm/$N -rw------- nobody:$NOGROUP): region is owned by a \
user this process does not trust" "$D/agent.log")" 1
check "planted: the file is left as it was" "$(stat -c '%s %a %U:%G %Y' "/dev/shm/$N")" "$before"
check "planted: nothing of it exported" "$(counter "$D" p.x)" null
# The application's user, configured as the owner: trusted.
conf "$D" "$N" 'owner = "nobody"'
once_ok planted-owner "$D" 2026-11-01T12:00:00Z
check "planted: with owner = \"nobody\" the agent reads it" "$(counter "$D" p.x)" 4

D=$WORK/everyones
N=$P-everyones
"$TALLY" -r "$N" add w.x 1
chmod 0666 "/dev/shm/$N"
conf "$D" "$N" ""
once "$D" 2026-11-01T12:00:00Z
check "o+w: --once exits 1" "$ONCE_STATUS" 1
check "o+w: the agent refuses it, naming its mode" \
    "$(grep -c "error: shm \"counters\": region '$N' (/dev/shm/$N -rw-rw-rw- root:root): region is writable by every \
user (mode o+w)" "$D/agent.log")" 1

# --- created by the agent, with group and mode, whatever the umask ---------------
D=$WORK/created
N=$P-created
conf "$D" "$N" "group = \"$NOGROUP\" mode = \"0640\""
(umask 077 && timeout -s KILL 120 "$TALLYD" -c "$D/tallyd.conf" --once --now 2026-11-01T12:00:00Z \
    >>"$D/agent.log" 2>&1)
check "created: --once exits 0" "$?" 0
check "created: the region is 0640 in the configured group under umask 077" \
    "$(stat -c '%a %U:%G' "/dev/shm/$N")" "640 root:$NOGROUP"
"$TALLY" -r "$N" add c.x 6

# --- an agent that may only read (nobody, in the region's group, 0640) -----------
D=$WORK/reader
mkdir -p "$D"
chown nobody "$D"
as_nobody_once() {
    setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups timeout -s KILL 120 "$TALLYD" \
        -c "$D/tallyd.conf" --once --now 2026-11-01T12:00:00Z >>"$D/agent.log" 2>&1
}
conf "$D" "$N" ""
chown -R nobody "$D"
as_nobody_once
check "reader: read-write refused: --once exits 1" "$?" 1
check "reader: the agent says who may use the region and what to do" \
    "$(grep -c "error: shm \"counters\": region '$N' (/dev/shm/$N -rw-r----- root:$NOGROUP): Permission denied; to \
read it, be its owner or in its group (or ask for o+r); to write it, be its owner or in its group \
with g+w (the agent's unit: SupplementaryGroups=), or set readonly = true if the agent only reads \
it" "$D/agent.log")" 1
before=$(md5sum <"/dev/shm/$N")
conf "$D" "$N" "readonly = true"
chown -R nobody "$D"
as_nobody_once
check "reader: readonly = true: --once exits 0" "$?" 0
check "reader: readonly = true: the agent exports the region's counter" "$(counter "$D" c.x)" 6
check "reader: the region is not written" "$(md5sum <"/dev/shm/$N")" "$before"

# Under a sanitizer build, a report in any agent's or tool's output fails.
check "no sanitizer report from the agents or the tool" \
    "$(cat "$WORK"/*/agent.log "$WORK"/*/watch.err | grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0

finish
