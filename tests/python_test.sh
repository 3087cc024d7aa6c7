#!/usr/bin/env bash
# bindings/python as a user installs it: a venv (Debian's Python, with its
# site packages: pytest, fastapi, uvicorn, gunicorn), `pip install` of the
# package, then its pytest suite. The package is copied into the build
# tree first, so that pip's build files never land in the source tree and
# the normal and sanitizer builds do not share them.
# Usage: python_test.sh BUILD_DIR SOURCE_DIR TALLYD TALLY_TOOL PLUGIN_DIR [asan]
set -euo pipefail
build=$1 src=$2
export TALLYD=$3 TALLY_TOOL=$4 TALLY_PLUGIN_DIR=$5 TALLY_SOURCE_DIR=$2
sanitize=${6:-}
work="$build/python"
venv="$work/venv"
mkdir -p "$work"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
rm -rf "$work/pkg"
cp -r "$src/bindings/python" "$work/pkg"
rm -rf "$work/pkg/build" "$work/pkg"/*.egg-info
export TALLY_SHM_DIR="$src/shm"
if [ "$sanitize" = asan ]; then export TALLY_SANITIZE=1; fi
"$venv/bin/pip" install --quiet --no-build-isolation --no-index --no-deps --force-reinstall "$work/pkg"

if [ "$sanitize" = asan ]; then
  # CPython is not built with ASan: its runtime must be loaded first.
  # CPython is not leak-clean at exit, so leak checking is off.
  LD_PRELOAD=$(gcc -print-file-name=libasan.so)
  export LD_PRELOAD
  export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
# From the build tree, so that the source tree's bindings/python/tally
# (without the compiled module) is not what `import tally` finds.
cd "$work"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q -ra "$src/bindings/python/tests"
