#!/usr/bin/env bash
# What a user does: install tally into a prefix, then build an application
# against it with pkg-config, shared and static, and run it on a region.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
region="$prefix/region"
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc_dir=$(dirname "$(find "$prefix" -name tally.pc | head -1)")
export PKG_CONFIG_PATH="$pc_dir"

pass=0 fail=0
check() { # check NAME COMMAND...
  if "${@:2}"; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}

check "header installed" test -f "$prefix/include/tally.h"
check "shared library installed" test -n "$(find "$prefix" -name 'libtally.so*' | head -1)"
check "static library installed" test -n "$(find "$prefix" -name libtally.a | head -1)"
check "tool installed" test -x "$prefix/bin/tally"
check "man pages installed" test -f "$prefix/share/man/man1/tally.1" -a -f "$prefix/share/man/man3/tally.h.3"

cat > "$prefix/app.c" <<'C'
#include <tally.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    tally_region *r;
    tally_counter *c;
    int rc = tally_open(&r, argv[1], NULL);
    if (rc == 0)
        rc = tally_counter_get(r, "app.requests", &c);
    if (rc != 0) {
        fprintf(stderr, "app: %s\n", tally_strerror(rc));
        return 1;
    }
    for (int i = 0; i < 1000; i++)
        tally_add(c, 1);
    printf("%lld\n", (long long)tally_value(c));
    tally_close(r);
    return 0;
}
C
# shellcheck disable=SC2046
check "compiles with pkg-config (shared)" cc -std=c11 -Wall -Werror "$prefix/app.c" -o "$prefix/app" $(pkg-config --cflags --libs tally)
check "runs against the shared library" test "$(LD_LIBRARY_PATH="$(dirname "$(find "$prefix" -name 'libtally.so' | head -1)")" "$prefix/app" "$region")" = 1000
# shellcheck disable=SC2046
check "compiles with pkg-config (static)" cc -std=c11 -Wall -Werror "$prefix/app.c" -o "$prefix/app-static" $(pkg-config --cflags tally) $(pkg-config --variable=libdir tally)/libtally.a
check "static app shares the region" test "$("$prefix/app-static" "$region")" = 2000
check "installed tool reads it" test "$("$prefix/bin/tally" --region "$region" get app.requests)" = 2000
# The C++ example as a user builds it, on the same region.
example="$(cd "$(dirname "$0")/.." && pwd)/examples/cxx/counters.cc"
# shellcheck disable=SC2046
check "C++ example compiles with pkg-config" c++ -std=c++11 -Wall -Wextra -pedantic -Werror "$example" -o "$prefix/counters" $(pkg-config --cflags tally) $(pkg-config --variable=libdir tally)/libtally.a
cxx_out=$("$prefix/counters" "$region" || true)
check "C++ example counts into the region" grep -qx "api.requests.total 3" <<<"$cxx_out"
check "C++ example lists the C app's counter" grep -qx "app.requests 2000" <<<"$cxx_out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
