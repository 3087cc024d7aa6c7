#!/usr/bin/env bash
# agent_plugins_test.sh — what tallyd loads from a plugin dir, and what it
# refuses: a plugin of another ABI version, a .so without the descriptor,
# symlinks (inside the dir or leading out of it), a duplicate plugin name,
# things that are not plugins; a config that uses a refused plugin; a
# plugin dir that does not exist.
#
# usage: agent_plugins_test.sh TALLYD PLUGIN_DIR TEST_PLUGIN_DIR
# PLUGIN_DIR holds the real plugins (shm.so, file.so); TEST_PLUGIN_DIR has
# one subdirectory per test plugin (abi/, nodesc/, dup/). Each case gets
# its own plugin dir inside a private mktemp -d directory, removed at exit.
# The last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

usage="usage: agent_plugins_test.sh TALLYD PLUGIN_DIR TEST_PLUGIN_DIR"
TALLYD=${1:?$usage}
PLUGINS=$(realpath "${2:?$usage}")
TEST_PLUGINS=$(realpath "${3:?$usage}")
work=$(realpath "$(mktemp -d)")
# The plugin dirs made here must not be group-writable (tallyd refuses
# them), whatever umask ctest was started with.
umask 022
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tallyd_lib.sh"

# plugin_dir CASE [TEST_PLUGIN...]: a fresh plugin dir $work/CASE with
# copies of the real plugins and of the named test plugins (SUBDIR/FILE).
plugin_dir() {
    local dir="$work/$1" p
    shift
    mkdir -p "$dir"
    cp "$PLUGINS/shm.so" "$PLUGINS/file.so" "$dir/"
    for p in "$@"; do
        cp "$TEST_PLUGINS/$p" "$dir/"
    done
}

# config NAME BODY: $work/NAME.conf, with state_dir set and no plugin_dir
# (the cases pass --plugin-dir).
config() {
    printf 'state_dir = "%s"\n%b' "$work" "$2" >"$work/$1.conf"
}

# expect_not NAME TEXT: the last run did not print TEXT.
expect_not() {
    if grep -qF -- "$2" <<<"$out"; then
        fail "$1" "unexpected: $2" "output: $out"
    else
        pass "$1"
    fi
}

VALID_ROOT="valid options and plugins: timezone, state_dir, interval, plugin_dir, log_level, log, log_format, include(FILE), file (plugin), shm (plugin)"
config plain ''
config uses_shm 'shm "c" { region = "'"$work"'/region" }\n'

# ---- a plugin of another ABI version ------------------------------------
plugin_dir abi abi/abi_mismatch.so
run -c "$work/plain.conf" -t --plugin-dir "$work/abi"
expect abi_refused_names_versions_and_file 0 \
    "plugin $work/abi/abi_mismatch.so: ABI version 999, but this tallyd speaks ABI version 4: rebuild the plugin against this tallyd's plugin.h; not loaded"
# The refusal is logged, not fatal: a config that does not use it is fine.
expect abi_other_plugins_still_load 0 "$work/plain.conf: config OK (0 plugin instances)"

config uses_abi 'abi_mismatch "x" { anything = "1" }\n'
run -c "$work/uses_abi.conf" -t --plugin-dir "$work/abi"
expect abi_config_using_it_fails 1 \
    "$work/uses_abi.conf:2: no such option 'abi_mismatch'; $VALID_ROOT"
expect_not abi_config_using_it_not_ok "config OK"

run --list-plugins --plugin-dir "$work/abi"
expect abi_not_listed 0 "shm (source)"
expect_not abi_not_listed_name "abi_mismatch ("

# The same dir named by the config's plugin_dir instead of --plugin-dir.
printf 'state_dir = "%s"\nplugin_dir = "%s"\n' "$work" "$work/abi" >"$work/abi_by_conf.conf"
run -c "$work/abi_by_conf.conf" -t
expect abi_refused_via_conf_plugin_dir 0 \
    "plugin $work/abi/abi_mismatch.so: ABI version 999, but this tallyd speaks ABI version 4"

# ---- a plugin without a callback the agent would call ----------------------
# Refused at load, naming the file, the plugin and the callback; a config
# that uses it then fails, under -t and --once alike.
missing_case() {
    local name=$1 kind=$2 member=$3
    plugin_dir "$name" "missing/$name.so"
    config "uses_$name" "$name \"x\" { anything = \"1\" }\n"
    run -c "$work/uses_$name.conf" -t --plugin-dir "$work/$name"
    expect "${name}_refused" 1 \
        "plugin $work/$name/$name.so: $kind '$name' has no $member callback, which tallyd calls"
    expect "${name}_what_to_do" 1 "set it in the plugin's TALLY_PLUGIN_DEFINE(...) and rebuild the plugin; not loaded"
    expect "${name}_config_fails" 1 "$work/uses_$name.conf:2: no such option '$name'"
    run -c "$work/uses_$name.conf" --once --plugin-dir "$work/$name"
    expect "${name}_once_refused" 1 "$kind '$name' has no $member callback"
    expect_not "${name}_once_not_run" "config OK"
}
missing_case no_consume collector collector.consume
missing_case no_export exporter exporter.export_snapshot
missing_case no_collect source source.collect
missing_case no_stop source stop
missing_case no_history collector collector.history_open

# ---- a descriptor whose layout is not this agent's -----------------------
plugin_dir layout layout/layout_confuse.so layout/layout_small.so layout/layout_future.so
run -c "$work/plain.conf" -t --plugin-dir "$work/layout"
expect layout_confuse_refused 0 \
    "plugin $work/layout/layout_confuse.so: built with libconfuse 2.7 (cfg_opt_t"
expect layout_confuse_what_to_do 0 \
    "the layouts they share differ; rebuild the plugin against this tallyd's SDK and libconfuse; not loaded"
expect layout_small_refused 0 \
    "plugin $work/layout/layout_small.so: descriptor of 16 bytes, less than ABI 4's"
# A descriptor from a later plugin.h (members appended) loads and runs.
config uses_future 'layout_future "x" { value = 2 }\n'
run -c "$work/uses_future.conf" -t --plugin-dir "$work/layout"
expect layout_future_loads 0 "$work/uses_future.conf: config OK (1 plugin instance)"
run -c "$work/uses_future.conf" --once --plugin-dir "$work/layout"
expect layout_future_runs 0 ""
expect_not layout_future_no_refusal "layout_future.so:"

# ---- a .so without the descriptor ----------------------------------------
plugin_dir nodesc nodesc/no_descriptor.so
run -c "$work/plain.conf" -t --plugin-dir "$work/nodesc"
expect nodesc_refused_names_file_and_symbol 0 \
    "plugin $work/nodesc/no_descriptor.so: no symbol tally_plugin_descriptor: not a tally plugin (remove it from the plugin dir); not loaded"

# ---- symlinks ------------------------------------------------------------
# Inside the dir, to a good plugin in the same dir.
plugin_dir link_inside
ln -s file.so "$work/link_inside/file2.so"
run -c "$work/plain.conf" -t --plugin-dir "$work/link_inside"
expect symlink_inside_refused 0 \
    "plugin $work/link_inside/file2.so: a symlink (to file.so); symlinks are refused, plugins load only from the plugin dir itself: copy the plugin there instead; not loaded"

# Leading out of the dir: shm.so here is a link to the build's shm.so, so
# nothing named shm may load and a config using shm must fail.
mkdir -p "$work/link_outside"
cp "$PLUGINS/file.so" "$work/link_outside/"
ln -s "$PLUGINS/shm.so" "$work/link_outside/shm.so"
run -c "$work/uses_shm.conf" -t --plugin-dir "$work/link_outside"
expect symlink_outside_refused 1 \
    "plugin $work/link_outside/shm.so: a symlink (to $PLUGINS/shm.so); symlinks are refused"
expect symlink_outside_not_loaded 1 \
    "$work/uses_shm.conf:2: no such option 'shm'; valid options and plugins: timezone, state_dir, interval, plugin_dir, log_level, log, log_format, include(FILE), file (plugin)"
run --list-plugins --plugin-dir "$work/link_outside"
expect symlink_outside_list_has_file 0 "file (exporter)"
expect_not symlink_outside_list_lacks_shm "shm (source)"

# ---- a duplicate name ----------------------------------------------------
# shm_dup.so sorts after shm.so: the real shm loads, the impostor does not.
plugin_dir dup dup/shm_dup.so
run -c "$work/uses_shm.conf" -t --plugin-dir "$work/dup"
expect dup_refused 0 \
    "plugin $work/dup/shm_dup.so: name 'shm' already taken by $work/dup/shm.so; not loaded"
expect dup_real_one_kept 0 "$work/uses_shm.conf: config OK (1 plugin instance)"

# ---- things that are not plugins -----------------------------------------
plugin_dir junk
mkdir "$work/junk/dir.so"
# Longer than an ELF header, so the loader reads it and finds no ELF.
printf 'not an ELF file %.0s' {1..10} >"$work/junk/text.so"
printf 'ignored: no .so suffix\n' >"$work/junk/README"
run -c "$work/plain.conf" -t --plugin-dir "$work/junk"
expect junk_dir_refused 0 "plugin $work/junk/dir.so: not a regular file; not loaded"
expect junk_text_refused 0 "plugin $work/junk/text.so: cannot load: $work/junk/text.so: invalid ELF header; not loaded"
expect_not junk_readme_ignored "README"

# ---- who may write the plugin dir and the plugins ------------------------
# A plugin dir or plugin that others may write (or that another user owns)
# is refused before dlopen: constructor.so's constructor, which appends to
# $TALLY_TEST_MARKER, never runs. First the control: in a safe dir it does.
marker="$work/constructor.ran"
export TALLY_TEST_MARKER=$marker
plugin_dir ctor_ok ctor/constructor.so
run -c "$work/plain.conf" -t --plugin-dir "$work/ctor_ok"
expect ctor_control_loaded 0 "plugin $work/ctor_ok/constructor.so: no symbol tally_plugin_descriptor"
if [[ -s $marker ]]; then pass ctor_control_ran; else fail ctor_control_ran "the constructor wrote no $marker"; fi
rm -f "$marker"

# ctor_never_ran NAME: constructor.so's constructor left no marker.
ctor_never_ran() {
    if [[ -e $marker ]]; then fail "$1" "the constructor ran: $(cat "$marker")"; rm -f "$marker"; else pass "$1"; fi
}

plugin_dir world_dir ctor/constructor.so
chmod 0777 "$work/world_dir"
run -c "$work/uses_shm.conf" -t --plugin-dir "$work/world_dir"
expect world_dir_refused_t 1 \
    "plugin_dir $work/world_dir is writable by anyone (mode 0777), who could make this agent run their code: chmod go-w $work/world_dir"
expect_not world_dir_not_ok "config OK"
run -c "$work/uses_shm.conf" --once --plugin-dir "$work/world_dir"
expect world_dir_refused_once 1 "plugin_dir $work/world_dir is writable by anyone (mode 0777)"
ctor_never_ran world_dir_constructor_never_ran
# The sticky bit of a /tmp-like directory does not make it safe.
chmod 1777 "$work/world_dir"
run -c "$work/uses_shm.conf" -t --plugin-dir "$work/world_dir"
expect sticky_dir_refused 1 "plugin_dir $work/world_dir is writable by anyone (mode 1777)"
ctor_never_ran sticky_dir_constructor_never_ran

plugin_dir group_so ctor/constructor.so
chmod 0775 "$work/group_so/constructor.so" "$work/group_so/shm.so"
run -c "$work/uses_shm.conf" -t --plugin-dir "$work/group_so"
expect group_so_refused_t 1 \
    "plugin $work/group_so/constructor.so is writable by its group (mode 0775), who could make this agent run their code: chmod go-w $work/group_so/constructor.so; not loaded"
expect group_so_shm_refused_t 1 "plugin $work/group_so/shm.so is writable by its group (mode 0775)"
expect group_so_config_fails 1 "$work/uses_shm.conf:2: no such option 'shm'"
run -c "$work/uses_shm.conf" --once --plugin-dir "$work/group_so"
expect group_so_refused_once 1 "plugin $work/group_so/constructor.so is writable by its group"
ctor_never_ran group_so_constructor_never_ran

# Owned by another user: only root can give a file away.
if [[ $(id -u) == 0 ]] && id nobody >/dev/null 2>&1; then
    nobody=$(id -u nobody)
    plugin_dir foreign_so ctor/constructor.so
    chown nobody "$work/foreign_so/constructor.so"
    run -c "$work/plain.conf" -t --plugin-dir "$work/foreign_so"
    expect foreign_so_refused_t 0 \
        "plugin $work/foreign_so/constructor.so is owned by uid $nobody, neither root nor uid 0 that tallyd runs as, and its code would run as this agent: chown root $work/foreign_so/constructor.so (or remove it); not loaded"
    run -c "$work/plain.conf" --once --plugin-dir "$work/foreign_so"
    expect foreign_so_refused_once 0 "plugin $work/foreign_so/constructor.so is owned by uid $nobody"
    ctor_never_ran foreign_so_constructor_never_ran
    plugin_dir foreign_dir ctor/constructor.so
    chown nobody "$work/foreign_dir"
    run -c "$work/uses_shm.conf" -t --plugin-dir "$work/foreign_dir"
    expect foreign_dir_refused_t 1 "plugin_dir $work/foreign_dir is owned by uid $nobody"
    ctor_never_ran foreign_dir_constructor_never_ran
else
    printf 'skip foreign_so: needs root and a user nobody\n'
fi
unset TALLY_TEST_MARKER

# ---- a running agent loads the plugins its config uses ---------------------
# -t checks every plugin in the dir; --once and the daemon dlopen only those
# whose sections the config has (an agent that reads a region and writes a
# file must not map libcurl), yet every file is still checked for who may
# write it. ctor/constructor.so's constructor marks that it was loaded.
marker="$work/constructor.ran"
export TALLY_TEST_MARKER=$marker
plugin_dir used ctor/constructor.so
config uses_file 'file "f" { path = "'"$work"'/used.prom" format = "prometheus" }\n'
run -c "$work/uses_file.conf" -f --once -v --plugin-dir "$work/used"
expect used_once_runs 0 "plugin $work/used/file.so: loaded 'file' (exporter)"
expect_not used_once_no_shm "loaded 'shm'"
ctor_never_ran used_once_constructor_not_loaded
run -c "$work/uses_file.conf" -t -v --plugin-dir "$work/used"
expect used_t_loads_all 0 "plugin $work/used/shm.so: loaded 'shm' (source)"
expect used_t_config_ok 0 "$work/uses_file.conf: config OK (1 plugin instance)"
rm -f "$marker"
# A section of a name no plugin file has: every plugin loads, and the
# real parse names the section.
config uses_nothing 'nosuch "x" { a = 1 }\n'
run -c "$work/uses_nothing.conf" -f --once --plugin-dir "$work/used"
expect used_unknown_section 1 "$work/uses_nothing.conf:2: no such option 'nosuch'"
rm -f "$marker"
# An unused plugin that its group may write is still refused, by name.
chmod 0775 "$work/used/shm.so"
run -c "$work/uses_file.conf" -f --once --plugin-dir "$work/used"
expect used_unloaded_still_checked 0 "plugin $work/used/shm.so is writable by its group (mode 0775)"
chmod 0755 "$work/used/shm.so"
# A HUP whose config adds a section of a plugin not loaded yet loads it.
mkdir -p "$work/used_state"
printf 'state_dir = "%s"\ninterval = 1\nfile "f" { path = "%s" format = "prometheus" }\n' \
    "$work/used_state" "$work/used.prom" >"$work/used_hup.conf"
"$TALLYD" -c "$work/used_hup.conf" -f -v --plugin-dir "$work/used" >"$work/used_hup.log" 2>&1 &
hup_pid=$!
PIDS+=("$hup_pid")
log_has() { grep -qF -- "$2" "$1"; }
check used_hup_started wait_for 10 log_has "$work/used_hup.log" "loaded 'file'"
printf 'shm "c" { region = "%s" }\n' "$work/used_region" >>"$work/used_hup.conf"
kill -HUP "$hup_pid"
check used_hup_reloaded wait_for 10 log_has "$work/used_hup.log" "reloaded $work/used_hup.conf"
check used_hup_loaded_shm log_has "$work/used_hup.log" "plugin $work/used/shm.so: loaded 'shm' (source)"
check used_hup_region_made wait_for 10 test -s "$work/used_region"
kill -TERM "$hup_pid"
wait "$hup_pid" 2>/dev/null || true
unset TALLY_TEST_MARKER

# ---- a plugin dir that does not exist ------------------------------------
run -c "$work/plain.conf" -t --plugin-dir "$work/nope"
expect missing_dir_flag 1 \
    "plugin_dir '$work/nope' cannot be read: No such file or directory; set plugin_dir to the directory holding the plugins (*.so)"
expect missing_dir_flag_says_where 1 "(plugin_dir '$work/nope' is the one --plugin-dir gave)"

printf 'state_dir = "%s"\n# where the plugins are\nplugin_dir = "%s"\n' "$work" "$work/nope" \
    >"$work/missing_dir.conf"
run -c "$work/missing_dir.conf" -t
expect missing_dir_conf 1 "plugin_dir '$work/nope' cannot be read: No such file or directory"
expect missing_dir_conf_says_where 1 "$work/missing_dir.conf:3: plugin_dir '$work/nope' is set here"

# Running (not only -t) fails the same way, before anything starts.
run -c "$work/missing_dir.conf" -f --once
expect missing_dir_run 1 "plugin_dir '$work/nope' cannot be read: No such file or directory"

# A plugin dir that is a file.
run -c "$work/plain.conf" -t --plugin-dir "$PLUGINS/shm.so"
expect plugin_dir_is_a_file 1 "plugin_dir '$PLUGINS/shm.so' cannot be read: Not a directory"

totals
