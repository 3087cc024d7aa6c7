#!/usr/bin/env bash
# plugin_sdk_test.sh — what a plugin writer does: install tally into a
# prefix, build the example plugin (examples/plugin-hello) out of tree
# against it, once with pkg-config and cc and once with CMake's
# find_package(tally-plugin) and tally_add_plugin, then load each into the
# installed tallyd beside the installed file exporter: `tallyd -t` accepts
# a config using it and `tallyd --once` exports the counter it emits.
#
# usage: plugin_sdk_test.sh BUILD_DIR SOURCE_DIR
# Everything lives in a private mktemp -d directory, removed at exit. The
# last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

BUILD=$(realpath "${1:?usage: plugin_sdk_test.sh BUILD_DIR SOURCE_DIR}")
SRC=$(realpath "${2:?usage: plugin_sdk_test.sh BUILD_DIR SOURCE_DIR}")
work=$(realpath "$(mktemp -d)")
trap 'rm -rf "$work"' EXIT
source "$SRC/tests/check_lib.sh"

prefix="$work/prefix"
example="$SRC/examples/plugin-hello"

# check NAME COMMAND...: COMMAND succeeds (its output is shown if not).
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

check install cmake --install "$BUILD" --prefix "$prefix"
pc=$(find "$prefix" -name tally-plugin.pc | head -n 1)
tallyd="$prefix/sbin/tallyd"
file_so=$(find "$prefix" -path '*/tally/file.so' | head -n 1)
check sdk_headers test -f "$prefix/include/tally/plugin.h" -a -f "$prefix/include/tally/sdk.h" \
    -a -f "$prefix/include/tally/record.h" -a -f "$prefix/include/tally/snapshot.h"
check sdk_pc test -n "$pc"
check sdk_cmake test -n "$(find "$prefix" -name tally-plugin-config.cmake | head -n 1)"
check installed_tallyd test -x "$tallyd" -a -n "$file_so"

# The plugin, built with pkg-config and a plain cc.
mkdir -p "$work/pc"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "${pc:-/nonexistent/x}")
# shellcheck disable=SC2046
check build_pkgconfig cc -std=c11 -Wall -Wextra -Werror -shared \
    $(pkg-config --cflags tally-plugin) "$example/hello.c" -o "$work/pc/hello.so"

# The plugin, built with CMake's package (no pkg-config path needed for
# tally itself: CMAKE_PREFIX_PATH finds it).
check build_cmake_configure cmake -S "$example" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
check build_cmake cmake --build "$work/cmake"
check build_cmake_no_lib_prefix test -f "$work/cmake/hello.so"
# Only the descriptor is exported (hidden visibility).
if [[ -f $work/cmake/hello.so ]]; then
    syms=$(nm -D --defined-only "$work/cmake/hello.so" | awk '$2 ~ /[TDBR]/ {print $3}' | sort | tr '\n' ' ')
    if [[ $syms == "tally_plugin_descriptor " ]]; then
        pass build_cmake_exports_only_descriptor
    else
        fail build_cmake_exports_only_descriptor "exported: $syms"
    fi
fi

# load HOW: the plugin built HOW, in a plugin dir of its own beside the
# installed file exporter, checked with -t and run once.
load() {
    local how=$1 dir="$work/run-$1" out status
    mkdir -p "$dir/plugins" "$dir/state"
    cp "$work/$how/hello.so" "$file_so" "$dir/plugins/" 2>/dev/null
    cat >"$dir/tallyd.conf" <<CONF
state_dir = "$dir/state"
plugin_dir = "$dir/plugins"
timezone = "UTC"
hello "greeter" { value = 42 }
file "out" { path = "$dir/out.json" }
CONF
    status=0
    out=$("$tallyd" -c "$dir/tallyd.conf" -t 2>&1) || status=$?
    if [[ $status == 0 ]] && grep -qF "config OK (2 plugin instances)" <<<"$out"; then
        pass "${how}_check"
    else
        fail "${how}_check" "exit $status" "output: $out"
    fi
    out=$("$tallyd" --list-plugins --plugin-dir "$dir/plugins" 2>&1)
    if grep -qxF "hello (source): an example source: one counter with a fixed value" <<<"$out" &&
        grep -qxF "  value (integer, default 1)" <<<"$out"; then
        pass "${how}_listed"
    else
        fail "${how}_listed" "output: $out"
    fi
    status=0
    out=$("$tallyd" -c "$dir/tallyd.conf" --once 2>&1) || status=$?
    local got
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["hello.greetings"])' \
        "$dir/out.json" 2>&1)
    if [[ $status == 0 && $got == 42 ]]; then
        pass "${how}_counter_exported"
    else
        fail "${how}_counter_exported" "exit $status, hello.greetings: $got" "output: $out"
    fi
    # The option row's check runs through the installed tallyd too.
    sed -i 's/value = 42/value = -1/' "$dir/tallyd.conf"
    status=0
    out=$("$tallyd" -c "$dir/tallyd.conf" -t 2>&1) || status=$?
    if [[ $status == 1 ]] && grep -qF "$dir/tallyd.conf:4: in hello \"greeter\": option 'value' = -1 is negative" <<<"$out"; then
        pass "${how}_option_check"
    else
        fail "${how}_option_check" "exit $status" "output: $out"
    fi
}
load pc
load cmake

totals
