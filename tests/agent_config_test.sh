#!/usr/bin/env bash
# agent_config_test.sh — `tallyd -t` against a table of broken configs, each
# with the exact message it must produce (with the file and line of the
# offending line) and exit status 1; then what a start would refuse (two
# collectors, state_dir, the state database, the pidfile), each through
# -t, which must create nothing; then good configs (exit 0, "config OK"),
# the example configs of etc/, and `tallyd --list-plugins`.
#
# usage: agent_config_test.sh TALLYD PLUGIN_DIR
# Each config lives in a private mktemp -d directory, removed at exit.
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

TALLYD=${1:?usage: agent_config_test.sh TALLYD PLUGIN_DIR}
PLUGINS=$(realpath "${2:?usage: agent_config_test.sh TALLYD PLUGIN_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/config_check_lib.sh"

# ---- broken configs: the globals ----------------------------------------

# The plugins as tallyd lists them, in its order: "csv (plugin), daily (plugin), ...".
plugin_list=$(
    "$TALLYD" --list-plugins --plugin-dir "$PLUGINS" 2>/dev/null |
        sed -nE 's/^([a-z][a-z0-9_]*) \((source|collector|exporter)\).*/\1 (plugin)/p' |
        paste -sd, - | sed 's/,/, /g'
)
if [[ $plugin_list == *"daily (plugin)"* ]]; then
    pass plugin_list_from_list_plugins
else
    fail plugin_list_from_list_plugins "tallyd --list-plugins named no daily plugin" "got: $plugin_list"
fi
VALID_ROOT="valid options and plugins: timezone, state_dir, interval, plugin_dir, log_level, log, log_format, include(FILE), $plugin_list"

bad unknown_global 4 "no such option 'intervall'; $VALID_ROOT" <<'EOF'
timezone = "UTC"
intervall = 5
EOF

bad unknown_plugin 3 "no such option 'csvv'; $VALID_ROOT" <<'EOF'
csvv "usage" { path = "/tmp/x.csv" }
EOF

bad unknown_plugin_option 5 "no such option 'colour'; valid options here: region, daily, capacity" <<'EOF'
shm "counters" {
    region = "x"
    colour = "red"
}
EOF

# The line of the second section's title.
bad duplicate_title 6 "found duplicate title 'counters'; two instances of one plugin need two titles: rename one of them" <<'EOF'
shm "counters" {
    region = "a"
}
shm "counters" {
    region = "b"
}
EOF

bad missing_title 3 "missing title for section 'shm'; name the instance: shm \"title\" { ... }" <<'EOF'
shm { region = "a" }
EOF

TZ_HINT="is not in the system tz database (/usr/share/zoneinfo): use an IANA name like Asia/Shanghai or America/New_York"
bad timezone_mars 4 "timezone 'Mars/Olympus' $TZ_HINT" <<'EOF'
interval = 5
timezone = "Mars/Olympus"
EOF

bad timezone_empty 3 "timezone '' $TZ_HINT" <<'EOF'
timezone = ""
EOF

bad interval_zero 3 "interval 0 is out of range: use 1..86400 seconds" <<'EOF'
interval = 0
EOF

bad interval_negative 3 "interval -5 is out of range: use 1..86400 seconds" <<'EOF'
interval = -5
EOF

bad interval_too_long 3 "interval 100000 is out of range: use 1..86400 seconds" <<'EOF'
interval = 100000
EOF

bad interval_not_a_number 3 "invalid integer value for option 'interval'" <<'EOF'
interval = "abc"
EOF

bad interval_no_equals 3 "missing equal sign after option 'interval'" <<'EOF'
interval 5
EOF

bad log_level_loud 3 "log_level 'loud' is not one of error, warning, info, debug" <<'EOF'
log_level = "loud"
EOF

bad log_target_file 3 "log 'file' is not one of stderr, syslog" <<'EOF'
log = "file"
EOF

bad state_dir_empty 3 "state_dir must not be empty: give a directory" <<'EOF'
state_dir = ""
EOF

# libconfuse 3.3 alone counts a # or // comment as three lines and a
# /* */ comment as two; the line must still be the true one.
bad line_after_comments 9 "no such option 'bogus'; $VALID_ROOT" <<'EOF'
# one
// two
/* three
   four */
interval = 5  # five
/* six */ log_level = "info"
bogus = 1
EOF

# ---- includes ---------------------------------------------------------------

bad include_missing 4 "include(\"$work/missing.conf\"): cannot read $work/missing.conf: No such file or directory" <<EOF
interval = 5
include("$work/missing.conf")
EOF

# The error is in the included file: the message names it and its line.
printf '# included\n\nshm "c" {\n    regoin = "x"\n}\n' >"$work/inc_bad.inc"
{ header; printf 'include("%s")\n' "$work/inc_bad.inc"; } >"$work/include_with_error.conf"
check_t include_with_error "$work/include_with_error.conf" 1 \
    "$work/inc_bad.inc:4: no such option 'regoin'; valid options here: region, daily, capacity"

# A plugin's own check names the included file too.
printf '\nfile "f" {\n    path = "%s/out.xml"\n    format = "xml"\n}\n' "$work" >"$work/inc_plugin.inc"
{ header; printf 'include("%s")\n' "$work/inc_plugin.inc"; } >"$work/include_plugin_check.conf"
check_t include_plugin_check "$work/include_plugin_check.conf" 1 \
    "$work/inc_plugin.inc:5: in file \"f\": option 'format' = \"xml\" is unknown; use one of json, prometheus, csv, influx"

# The line after an include is counted in the including file again.
printf 'interval = 5\n' >"$work/inc_ok.inc"
{ header; printf 'include("%s")\nbogus = 1\n' "$work/inc_ok.inc"; } >"$work/include_then_error.conf"
check_t include_then_error "$work/include_then_error.conf" 1 \
    "$work/include_then_error.conf:4: no such option 'bogus'"

{ header; printf '\ninclude("%s")\n' "$work/include_self.conf"; } >"$work/include_self.conf"
check_t include_self "$work/include_self.conf" 1 \
    "$work/include_self.conf:4: include(\"$work/include_self.conf\"): includes nested more than 8 deep; does a file include itself?"

printf 'file "f" {\n    path = "%s/out.json"\n' "$work" >"$work/inc_open.inc"
{ header; printf 'include("%s")\n' "$work/inc_open.inc"; } >"$work/include_unclosed.conf"
check_t include_unclosed "$work/include_unclosed.conf" 1 \
    "$work/inc_open.inc:1: this '{' is never closed before the end of the file: add the matching '}'"

# ---- syntax -----------------------------------------------------------------

# libconfuse 3.3 alone takes the end of the file for the missing brace.
bad brace_unclosed 4 "this '{' is never closed before the end of the file: add the matching '}'" <<'EOF'
interval = 5
shm "counters" {
    region = "x"
EOF

bad brace_extra 6 "unexpected closing brace" <<'EOF'
shm "counters" {
    region = "x"
}
}
EOF

bad string_unterminated 4 'this " string is never closed: add the closing "' <<'EOF'
shm "counters" {
    region = "x
}
EOF

bad comment_unterminated 4 "this /* comment is never closed: add */ where it ends" <<'EOF'
interval = 5
/* the rest of the file
shm "counters" { region = "x" }
EOF

bad value_missing 4 "premature end of file; the last option or section is unfinished" <<'EOF'
interval =
EOF

# ---- the shm source's checks (one line per section in libconfuse 3.3:
# the section's closing brace) --------------------------------------------

bad shm_daily_control_char 3 "in shm \"c\": daily entry '"$'a\tb'"' is not a counter name (1..64 bytes of UTF-8, no control characters) or a prefix ending in '*'" <<'EOF'
shm "c" { daily = {"a\tb"} }
EOF

long=$(printf 'n%.0s' {1..65})
bad shm_daily_65_bytes 5 "in shm \"c\": daily entry '$long' is not a counter name (1..64 bytes of UTF-8, no control characters) or a prefix ending in '*'" <<EOF
shm "c" {
    daily = {"ok.name", "$long"}
}
EOF

bad shm_capacity_negative 3 "in shm \"c\": capacity -1 is out of range: use 0..4194304" <<'EOF'
shm "c" { capacity = -1 }
EOF

bad shm_region_empty 3 "in shm \"c\": region must not be empty: give a name or a path" <<'EOF'
shm "c" { region = "" }
EOF

bad shm_group_unknown 3 "in shm \"c\": group 'no-such-group-here': no such group on this machine; give a group name or number (see /etc/group), or leave it out for the agent's own group" <<'EOF'
shm "c" { group = "no-such-group-here" }
EOF

bad shm_owner_unknown 3 "in shm \"c\": owner 'no-such-user-here': no such user on this machine; give the user name or number of the application that may create the region" <<'EOF'
shm "c" { owner = "no-such-user-here" }
EOF

bad shm_mode_not_octal 3 "in shm \"c\": mode '0680' is not a region mode; give octal digits from \"0001\" to \"0777\", e.g. mode = \"0660\"" <<'EOF'
shm "c" { mode = "0680" }
EOF

bad shm_mode_world_writable 3 "in shm \"c\": mode '0666' lets every user write the region, and libtally attaches no such region (anyone could truncate it); use \"0660\" with a group" <<'EOF'
shm "c" { mode = "0666" }
EOF

bad shm_readonly_daily 6 "in shm \"c\": readonly = true cannot go with daily: the rollover zeroes daily counters, which needs write access; drop daily, or readonly and give the agent write access (the region's group)" <<'EOF'
shm "c" {
    readonly = true
    daily = {"d.x"}
}
EOF

# ---- the file exporter's checks -----------------------------------------------

bad file_without_path 5 "in file \"summary\": option 'path' is required; set path = \"/var/lib/tally/summary.json\"" <<'EOF'
file "summary" {
    format = "json"
}
EOF

bad file_format_xml 6 "in file \"summary\": option 'format' = \"xml\" is unknown; use one of json, prometheus, csv, influx" <<'EOF'
file "summary" {
    path = "/tmp/summary.xml"
    format = "xml"
}
EOF

bad file_table_without_csv 3 "in file \"summary\": option 'table' only applies to format = \"csv\" (format is \"json\"); remove table or set format = \"csv\"" <<'EOF'
file "summary" { path = "/tmp/s.json"  table = "days" }
EOF

bad file_mode_999 3 "in file \"summary\": option 'mode' = \"999\" is not a file mode; give octal digits from \"0000\" to \"0777\", e.g. mode = \"0644\"" <<'EOF'
file "summary" { path = "/tmp/s.json"  mode = "999" }
EOF

# Every problem of a section is reported, not only the first.
{ header; printf 'file "two" {\n    format = "xml"\n    mode = "9"\n}\n'; } >"$work/file_two_errors.conf"
check_t file_two_errors_format "$work/file_two_errors.conf" 1 \
    "$work/file_two_errors.conf:6: in file \"two\": option 'format' = \"xml\" is unknown"
check_t file_two_errors_mode "$work/file_two_errors.conf" 1 \
    "$work/file_two_errors.conf:6: in file \"two\": option 'mode' = \"9\" is not a file mode"

# ---- plugin_dir ---------------------------------------------------------------

# Plugins come from --plugin-dir; the file names another directory.
printf 'state_dir = "%s"\n\nplugin_dir = "%s"\n' "$work" "$work" >"$work/plugin_dir_differs.conf"
check_t plugin_dir_differs "$work/plugin_dir_differs.conf" 1 \
    "$work/plugin_dir_differs.conf:3: plugin_dir '$work' differs from the directory the plugins were loaded from ('$PLUGINS')" \
    --plugin-dir "$PLUGINS"

# An included file is read after the plugins are loaded: its plugin_dir
# cannot take effect, and saying so beats ignoring it.
printf '\nplugin_dir = "%s"\n' "$work" >"$work/inc_plugin_dir.inc"
{ header; printf 'include("%s")\n' "$work/inc_plugin_dir.inc"; } >"$work/plugin_dir_in_include.conf"
check_t plugin_dir_in_include "$work/plugin_dir_in_include.conf" 1 \
    "$work/inc_plugin_dir.inc:2: plugin_dir '$work' differs from the directory the plugins were loaded from"

check_t config_missing "$work/nonexistent.conf" 1 \
    "config $work/nonexistent.conf: cannot read: No such file or directory; give an existing file with -c" \
    --plugin-dir "$PLUGINS"

# ---- config files that are not safe to parse -------------------------------
# Only a regular file is read (a FIFO would block, /dev/zero never ends),
# at most 1 MiB, no line over 64 KiB (libconfuse is quadratic in a
# line's length); a symlink to a regular file is fine.
mkfifo "$work/fifo.conf"
check_t config_fifo "$work/fifo.conf" 1 \
    "config $work/fifo.conf is a FIFO; a config file must be a regular file (or a symlink to one)" \
    --plugin-dir "$PLUGINS"
check_t config_dev_zero /dev/zero 1 "config /dev/zero is a device; a config file must be a regular file" \
    --plugin-dir "$PLUGINS"
check_t config_directory "$work" 1 "config $work is a directory; a config file must be a regular file" \
    --plugin-dir "$PLUGINS"
bad include_fifo 4 "include(\"$work/fifo.conf\"): $work/fifo.conf is a FIFO; a config file must be a regular file" <<EOF
interval = 5
include("$work/fifo.conf")
EOF
bad include_dev_zero 3 "include(\"/dev/zero\"): /dev/zero is a device; a config file must be a regular file" <<EOF
include("/dev/zero")
EOF
# A symlink to a regular file is read, for -c and include alike.
header >"$work/real.conf"
ln -s "$work/real.conf" "$work/link.conf"
check_t config_symlink_to_file "$work/link.conf" 0 "config OK"
{ header; printf 'include("%s")\n' "$work/link.conf"; } >"$work/include_link.conf"
check_t include_symlink_to_file "$work/include_link.conf" 0 "config OK"

# 1 MiB and one byte, of short comment lines.
{ header; yes '# a comment line of exactly forty bytes.' | head -c $((1024 * 1024 + 1 - $(header | wc -c))); } >"$work/big.conf"
check_t config_too_big "$work/big.conf" 1 \
    "config $work/big.conf holds 1048577 bytes, more than the 1048576 a config file may hold"
bad include_too_big 3 "include(\"$work/big.conf\"): $work/big.conf holds 1048577 bytes, more than the 1048576" <<EOF
include("$work/big.conf")
EOF
# Just under 1 MiB is accepted.
head -c $((1024 * 1024)) "$work/big.conf" | sed '$d' >"$work/big_ok.conf"
check_t config_1mib_ok "$work/big_ok.conf" 0 "config OK"

# A comment line of 100000 bytes, on line 4: refused with its line before
# libconfuse sees it; 65536 bytes is the most a line may hold.
{ header; printf 'interval = 5\n# '; head -c 99998 /dev/zero | tr '\0' x; printf '\ninterval = 6\n'; } >"$work/long_line.conf"
check_t long_comment_line "$work/long_line.conf" 1 \
    "config $work/long_line.conf:4: a line of 100000 bytes, more than the 65536 a config line may hold: shorten it or split it over lines"
{ printf '\n\n'; head -c 70000 /dev/zero | tr '\0' ' '; printf '\n'; } >"$work/long_blank.inc"
bad include_long_blank_line 3 "include(\"$work/long_blank.inc\"): $work/long_blank.inc:3: a line of 70000 bytes" <<EOF
include("$work/long_blank.inc")
EOF
{ header; printf '# '; head -c 65534 /dev/zero | tr '\0' x; printf '\n'; } >"$work/line_at_limit.conf"
check_t line_at_limit_ok "$work/line_at_limit.conf" 0 "config OK"

# ---- what a start refuses, through -t ----------------------------------------
# Each is refused by `tallyd --once` too; -t must say so and create nothing.

# nothing_made NAME DIR: DIR holds no file (no database, -wal, -shm or region).
nothing_made() {
    local left
    left=$(find "$2" -mindepth 1 2>/dev/null)
    if [[ -z $left ]]; then pass "$1"; else fail "$1" "-t left files behind" "$left"; fi
}

# once_refuses NAME FILE TEXT [ARGS...]: tallyd --once refuses FILE as -t did.
once_refuses() {
    local name=$1 file=$2 want=$3 status=0 out
    shift 3
    out=$("$TALLYD" -c "$file" --once --now 2026-11-22T03:00:00Z "$@" 2>&1) || status=$?
    if [[ $status == 1 ]] && grep -qF -- "$want" <<<"$out"; then
        pass "$name"
    else
        fail "$name" "exit $status (want 1), or missing: $want" "output: $out"
    fi
}

# In libconfuse 3.3 a section's line is that of its closing brace.
mkdir "$work/two"
printf 'state_dir = "%s"\nplugin_dir = "%s"\ndaily "a" { keep_days = 10 }\n\ndaily "b" {\n    keep_days = 20\n}\n' \
    "$work/two" "$PLUGINS" >"$work/two_collectors.conf"
two_msg="$work/two_collectors.conf:7: daily \"b\": a second collector; records go to one collector, so keep one (daily \"a\" at $work/two_collectors.conf:3) and remove the other section"
check_t two_collectors "$work/two_collectors.conf" 1 "$two_msg"
nothing_made two_collectors_nothing_made "$work/two"
once_refuses two_collectors_once "$work/two_collectors.conf" "$two_msg"

STATE_HINT="does not exist or is not a directory: create it (mkdir -p) or point state_dir at a writable directory"
printf 'plugin_dir = "%s"\n\nstate_dir = "%s"\n' "$PLUGINS" "$work/nope" >"$work/state_dir_missing.conf"
check_t state_dir_missing "$work/state_dir_missing.conf" 1 \
    "$work/state_dir_missing.conf:3: state_dir '$work/nope' $STATE_HINT"
if [[ ! -e $work/nope ]]; then pass state_dir_missing_not_made; else fail state_dir_missing_not_made "-t made $work/nope"; fi
once_refuses state_dir_missing_once "$work/state_dir_missing.conf" "state_dir '$work/nope' $STATE_HINT"

: >"$work/a_file"
printf 'plugin_dir = "%s"\nstate_dir = "%s"\n' "$PLUGINS" "$work/a_file" >"$work/state_dir_file.conf"
check_t state_dir_not_a_directory "$work/state_dir_file.conf" 1 \
    "$work/state_dir_file.conf:2: state_dir '$work/a_file' $STATE_HINT"

# Set in an included file: that file and line.
printf '\n\nstate_dir = "%s"\n' "$work/nope" >"$work/inc_state_dir.inc"
printf 'plugin_dir = "%s"\ninclude("%s")\n' "$PLUGINS" "$work/inc_state_dir.inc" >"$work/state_dir_included.conf"
check_t state_dir_in_include "$work/state_dir_included.conf" 1 \
    "$work/inc_state_dir.inc:3: state_dir '$work/nope' $STATE_HINT"

# Not set at all: the default, said so (where the default cannot be used here).
if [[ ! -d /var/lib/tally ]]; then
    printf 'plugin_dir = "%s"\n' "$PLUGINS" >"$work/state_dir_default.conf"
    check_t state_dir_default "$work/state_dir_default.conf" 1 \
        "$work/state_dir_default.conf: state_dir is not set, so the default applies: state_dir '/var/lib/tally' $STATE_HINT"
fi

# Not writable by the agent's user: root writes through any mode bits, so
# as root a read-only mount, else mode 0500.
mkdir "$work/ro"
ro_ok=1
if [[ $(id -u) == 0 ]]; then
    mount -t tmpfs -o ro,size=64k tmpfs "$work/ro" 2>"$work/mount.err" || ro_ok=0
    [[ $ro_ok == 1 ]] && trap 'umount "$work/ro"; rm -rf "$work"' EXIT
    ro_why="Read-only file system"
else
    chmod 0500 "$work/ro"
    ro_why="Permission denied"
fi
if [[ $ro_ok == 1 ]]; then
    printf 'plugin_dir = "%s"\nstate_dir = "%s"\n' "$PLUGINS" "$work/ro" >"$work/state_dir_ro.conf"
    ro_msg="state_dir '$work/ro' is not writable by uid $(id -u): $ro_why; fix its owner or mode, or point state_dir elsewhere"
    check_t state_dir_not_writable "$work/state_dir_ro.conf" 1 "$work/state_dir_ro.conf:2: $ro_msg"
    once_refuses state_dir_not_writable_once "$work/state_dir_ro.conf" "$ro_msg"
else
    fail state_dir_not_writable "cannot mount a read-only tmpfs: $(cat "$work/mount.err")"
fi

# A plugin whose check fails (the collector's keep_days).
bad daily_keep_days_zero 3 "in daily \"stats\": keep_days = 0 is out of range: give 1..100000" <<'EOF'
daily "stats" { keep_days = 0 }
EOF

# The pidfile (-p) is written at start.
header >"$work/pidfile.conf"
check_t pidfile_dir_missing "$work/pidfile.conf" 1 \
    "pidfile $work/nodir/tallyd.pid cannot be written by uid $(id -u): No such file or directory; give -p a file in a writable directory" \
    -p "$work/nodir/tallyd.pid"
check_t pidfile_ok "$work/pidfile.conf" 0 "config OK" -p "$work/tallyd.pid"
if [[ ! -e $work/tallyd.pid ]]; then pass pidfile_not_made; else fail pidfile_not_made "-t wrote $work/tallyd.pid"; fi

# --recompute's dates are checked with the rest.
check_t recompute_bad_range "$work/pidfile.conf" 1 \
    "--recompute '2026-11-07..2026-11-01': not two valid dates with FROM <= TO (YYYY-MM-DD..YYYY-MM-DD)" \
    --recompute 2026-11-07..2026-11-01

# The state database: one that a newer release wrote, or not SQLite at all,
# is refused by -t as by the start, and -t leaves it as it was (no -wal or
# -shm files made, not a byte changed).
newer_db() { # newer_db DIR SQL: DIR/tally.db written by a newer release
    mkdir -p "$1"
    sqlite3 "$1/tally.db" "CREATE TABLE schema_versions (owner TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID; $2"
}
db_case() { # db_case NAME DIR MESSAGE
    local name=$1 dir=$2 msg=$3 before after
    printf 'state_dir = "%s"\nplugin_dir = "%s"\ndaily "stats" { }\n' "$dir" "$PLUGINS" >"$work/$name.conf"
    before=$(sha256sum "$dir/tally.db")
    check_t "$name" "$work/$name.conf" 1 "$msg"
    after=$(sha256sum "$dir/tally.db")
    if [[ $before == "$after" && ! -e $dir/tally.db-wal && ! -e $dir/tally.db-shm ]]; then
        pass "${name}_untouched"
    else
        fail "${name}_untouched" "-t changed $dir" "$(ls -la "$dir")"
    fi
    once_refuses "${name}_once" "$work/$name.conf" "$msg"
}
NEWER_HINT="a newer tally release wrote it; run that release (or a newer one) on this state_dir, or move the database away to start afresh"
newer_db "$work/db_agent" "INSERT INTO schema_versions VALUES ('agent', 99); PRAGMA user_version = 2;"
db_case db_agent_newer "$work/db_agent" \
    "state database $work/db_agent/tally.db: the tables of 'agent' are at schema version 99, newer than this release knows (2): $NEWER_HINT"
newer_db "$work/db_spool" "INSERT INTO schema_versions VALUES ('spool', 7); PRAGMA user_version = 2;"
db_case db_spool_newer "$work/db_spool" \
    "state database $work/db_spool/tally.db: the tables of 'spool' are at schema version 7, newer than this release knows (2): $NEWER_HINT"
newer_db "$work/db_layout" "PRAGMA user_version = 3;"
db_case db_layout_newer "$work/db_layout" \
    "state database $work/db_layout/tally.db: its layout version 3 is newer than this release knows (2): $NEWER_HINT"
mkdir "$work/db_junk"
head -c 8192 /dev/zero | tr '\0' 'x' >"$work/db_junk/tally.db"
db_case db_not_sqlite "$work/db_junk" \
    "state database $work/db_junk/tally.db: not a readable SQLite database (file is not a database); move it away so tallyd can start a new one"

# A good state database, as a run left it: -t reads it and changes nothing.
mkdir "$work/db_good"
printf 'state_dir = "%s"\nplugin_dir = "%s"\ndaily "stats" { }\n' "$work/db_good" "$PLUGINS" >"$work/db_good.conf"
"$TALLYD" -c "$work/db_good.conf" --once --now 2026-11-22T03:00:00Z >"$work/db_good.log" 2>&1 ||
    fail db_good_once "tallyd --once failed" "$(cat "$work/db_good.log")"
before=$(sha256sum "$work/db_good/tally.db")
check_t db_good "$work/db_good.conf" 0 "config OK (1 plugin instance)"
if [[ $before == "$(sha256sum "$work/db_good/tally.db")" && ! -e $work/db_good/tally.db-wal ]]; then
    pass db_good_untouched
else
    fail db_good_untouched "-t changed $work/db_good" "$(ls -la "$work/db_good")"
fi

# ---- good configs -------------------------------------------------------------

header >"$work/minimal.conf"
check_t minimal "$work/minimal.conf" 0 "$work/minimal.conf: config OK (0 plugin instances)"

# No plugin_dir at all: --plugin-dir is enough. (The state_dir must be
# usable: -t checks it as a start would.)
printf 'state_dir = "%s"\n' "$work" >"$work/empty.conf"
check_t empty_with_plugin_dir_flag "$work/empty.conf" 0 \
    "$work/empty.conf: config OK (0 plugin instances)" --plugin-dir "$PLUGINS"

# Unquoted values are libconfuse strings too, plugin_dir included.
printf 'plugin_dir = %s\nstate_dir = %s\n' "$PLUGINS" "$work" >"$work/unquoted.conf"
check_t unquoted_plugin_dir "$work/unquoted.conf" 0 "$work/unquoted.conf: config OK (0 plugin instances)"

cat >"$work/second.inc" <<EOF
// the exporters live in their own file
file "summary" {
    path = "$work/summary-%Y-%m-%d.json"   # a strftime template
    format = "json"
    mode = "0640"
}
file "days" { path = "$work/days.csv"  format = "csv"  table = "user_days" }
file "prom" { path = "$work/tally.prom"  format = "prometheus" }
EOF
cat >"$work/full.conf" <<EOF
# tallyd.conf with every global option
timezone   = "America/New_York"   // a DST zone
state_dir  = "$work"
interval   = 30
plugin_dir = "$PLUGINS"
log_level  = "debug"
log        = "stderr"
/* a block comment
   over two lines, with { braces } and "quotes" that mean nothing */
shm "counters" {
    region   = "$work/region"
    daily    = {"api.requests.today",   # a comment inside a list
                "api.tokens.*" /* and another */}
    capacity = 1024
}
shm 'other' { region = 'other-region' }
include("$work/second.inc")
EOF
check_t full_with_include "$work/full.conf" 0 "$work/full.conf: config OK (5 plugin instances)"

# ---- the example configs of etc/ ------------------------------------------------
# As shipped, with state_dir (and plugin_dir) pointed at a fresh directory
# here; -t passes and makes nothing in it.
etc=$(cd "$(dirname "${BASH_SOURCE[0]}")/../etc" && pwd)
mkdir "$work/etc_state"
sed -e "s|^state_dir = .*|state_dir = \"$work/etc_state\"|" \
    -e "s|^#plugin_dir = .*|plugin_dir = \"$PLUGINS\"|" "$etc/tallyd.conf" >"$work/etc_tallyd.conf"
check_t etc_tallyd_conf "$work/etc_tallyd.conf" 0 "$work/etc_tallyd.conf: config OK (8 plugin instances)"
nothing_made etc_tallyd_conf_nothing_made "$work/etc_state"

mkdir -p "$work/demo/state"
sed -e "s|@DEMO@|$work/demo|g" -e "s|@DATA@|$etc/../data/sample|g" -e "s|@PLUGINS@|$PLUGINS|g" \
    -e "s|@PORT@|0|g" "$etc/demo.conf.in" >"$work/demo.conf"
check_t etc_demo_conf "$work/demo.conf" 0 "$work/demo.conf: config OK (10 plugin instances)"
nothing_made etc_demo_conf_nothing_made "$work/demo/state"

# ---- --list-plugins -----------------------------------------------------------

# list_has NAME TEXT: the last --list-plugins output holds the line TEXT.
list_has() {
    if [[ $list_status == 0 ]] && grep -qxF -- "$2" <<<"$list"; then
        pass "$1"
    else
        fail "$1" "exit $list_status, missing line: $2" "output: $list"
    fi
}
list_status=0
list=$("$TALLYD" --list-plugins --plugin-dir "$PLUGINS" 2>&1) || list_status=$?
if sanitizer_report <<<"$list"; then list_status="sanitizer report"; fi
list_has list_dir "plugin dir: $PLUGINS"
list_has list_shm "shm (source): the counters of a libtally shared-memory region, and daily totals of some"
list_has list_shm_region '  region (string, default "tally")'
list_has list_shm_daily '  daily (list of strings, default {})'
list_has list_shm_capacity '  capacity (integer, default 0)'
list_has list_shm_help "      counters in the region if this source creates it (0 = libtally's default, 4096)"
list_has list_file "file (exporter): write each snapshot to a file, atomically, as json, prometheus, csv or influx"
list_has list_file_path '  path (string)'
list_has list_file_format '  format (string, default "json")'
list_has list_file_mode '  mode (string, default "0644")'
list_has list_file_format_help '      json, prometheus, csv or influx'

totals
