#!/usr/bin/env bash
# agent_config_test.sh — `tallyd -t` against a table of broken configs, each
# with the exact message it must produce (with the file and line of the
# offending line) and exit status 1; then good configs (exit 0, "config
# OK") and `tallyd --list-plugins`.
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

# sanitizer_report < OUTPUT: OUTPUT holds an ASan, LSan or UBSan report
# (in a sanitizer build, a report is a failure even with the right status).
sanitizer_report() {
    grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:'
}

# The two lines every config starts with, so line numbers in the tables
# below count from 3 for the first line of a body.
header() {
    printf 'state_dir = "%s"\nplugin_dir = "%s"\n' "$work" "$PLUGINS"
}

# check_t NAME FILE WANT_STATUS WANT_TEXT [TALLYD_ARGS...]: run tallyd -t on
# FILE; pass if the status is exact and the output holds WANT_TEXT (a fixed
# string). A failing check must not also claim "config OK".
check_t() {
    local name=$1 file=$2 want_status=$3 want=$4 status=0 out
    shift 4
    out=$("$TALLYD" -c "$file" -t "$@" 2>&1) || status=$?
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

# bad NAME LINE MESSAGE < BODY: the config is header + BODY; tallyd -t must
# exit 1 and print "FILE:LINE: MESSAGE".
bad() {
    local name=$1 line=$2 msg=$3 file="$work/$1.conf"
    { header; cat; } >"$file"
    check_t "$name" "$file" 1 "$file:$line: $msg"
}

# ---- broken configs: the globals ----------------------------------------

VALID_ROOT="valid options and plugins: timezone, state_dir, interval, plugin_dir, log_level, log, include(FILE), csv (plugin), daily (plugin), file (plugin), http (plugin), odbc (plugin), shm (plugin), sql (plugin)"

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

bad shm_daily_control_char 3 "daily entry '"$'a\tb'"' is not a counter name (1..64 bytes of UTF-8, no control characters) or a prefix ending in '*'" <<'EOF'
shm "c" { daily = {"a\tb"} }
EOF

long=$(printf 'n%.0s' {1..65})
bad shm_daily_65_bytes 5 "daily entry '$long' is not a counter name (1..64 bytes of UTF-8, no control characters) or a prefix ending in '*'" <<EOF
shm "c" {
    daily = {"ok.name", "$long"}
}
EOF

bad shm_capacity_negative 3 "capacity -1 is out of range: use 0..4194304" <<'EOF'
shm "c" { capacity = -1 }
EOF

bad shm_region_empty 3 "region must not be empty: give a name or a path" <<'EOF'
shm "c" { region = "" }
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

# ---- good configs -------------------------------------------------------------

header >"$work/minimal.conf"
check_t minimal "$work/minimal.conf" 0 "$work/minimal.conf: config OK (0 plugin instances)"

# No plugin_dir and no state_dir at all: --plugin-dir is enough.
: >"$work/empty.conf"
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
list_has list_file_format_help '      json, prometheus, csv or influx (default json)'

totals
