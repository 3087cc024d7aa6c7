#!/usr/bin/env bash
# tally.h for every language: the header compiles cleanly as C11 with gcc
# and clang, and as C++11, 14, 17 and 20 with g++ and clang++ (-Wall -Wextra
# -pedantic -Werror, and -Wold-style-cast for C++); tests/cxx_api_test.cc,
# the whole API from C++, is built with each pair, linked against libtally.so
# and run; and the inline tally_add is one locked instruction (x86-64).
#
# usage: cxx_header_test.sh SRC_DIR LIBTALLY_SO RUN_WITH [FLAG...]
#   RUN_WITH: the C++ compilers whose builds are also linked and run,
#   separated by spaces ("g++ clang++"); a sanitizer build links only with
#   the compiler whose runtime libtally was built against. FLAGs (the
#   sanitizer's) go to every link.
set -euo pipefail

src=$1 lib=$2 run_with=$3
shift 3
extra=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

warn=(-Wall -Wextra -pedantic -Werror)
cxxwarn=(-Wold-style-cast -Wzero-as-null-pointer-constant)
inc=(-I"$src/shm")
fail=0

say_fail() {
    echo "FAIL: $*" >&2
    fail=1
}

# A translation unit with one function that adds through a handle.
printf '#include <tally.h>\n#ifdef __cplusplus\nextern "C"\n#endif\nvoid bump(tally_counter *c, int64_t n) { tally_add(c, n); }\n' >"$work/bump.c"
cp "$work/bump.c" "$work/bump.cc"

# The add must stay one atomic instruction, no call, whatever the language.
one_locked_add() {
    local obj=$1 what=$2 dis
    [ "$(uname -m)" = x86_64 ] || return 0
    dis=$(objdump -d --no-show-raw-insn "$obj")
    local locks calls
    locks=$(grep -c $'\tlock ' <<<"$dis" || true)
    calls=$(grep -c $'\tcall' <<<"$dis" || true)
    if [ "$locks" != 1 ] || [ "$calls" != 0 ]; then
        say_fail "$what: tally_add compiled to $locks locked instructions and $calls calls, not one lock add:"
        echo "$dis" >&2
    fi
}

for cc in gcc clang; do
    if ! "$cc" -std=c11 -O2 "${warn[@]}" "${inc[@]}" -c "$work/bump.c" -o "$work/bump-$cc.o"; then
        say_fail "tally.h does not compile as C11 with $cc"
        continue
    fi
    one_locked_add "$work/bump-$cc.o" "$cc -std=c11"
done

for cxx in g++ clang++; do
    for std in 11 14 17 20; do
        what="$cxx -std=c++$std"
        flags=(-std=c++"$std" -O2 "${warn[@]}" "${cxxwarn[@]}" "${inc[@]}")
        if ! "$cxx" "${flags[@]}" -c "$work/bump.cc" -o "$work/bump.o"; then
            say_fail "tally.h does not compile with $what"
            continue
        fi
        one_locked_add "$work/bump.o" "$what"
        case " $run_with " in
        *" $cxx "*) ;;
        *)
            # Compile the API test anyway: the header must serve all of it.
            "$cxx" "${flags[@]}" -c "$src/tests/cxx_api_test.cc" -o "$work/api.o" ||
                say_fail "cxx_api_test.cc does not compile with $what"
            continue
            ;;
        esac
        exe="$work/api-$cxx-$std"
        if ! "$cxx" "${flags[@]}" "${extra[@]}" -pthread "$src/tests/cxx_api_test.cc" "$lib" \
            -Wl,-rpath,"$(dirname "$lib")" -o "$exe"; then
            say_fail "cxx_api_test.cc does not build with $what"
            continue
        fi
        "$exe" "$work/region-$cxx-$std" || say_fail "cxx_api_test built with $what failed"
    done
done

[ "$fail" = 0 ] && echo "tally.h: C11 and C++11..20 with both compilers: ok"
exit "$fail"
