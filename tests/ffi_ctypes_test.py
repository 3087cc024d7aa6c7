"""ffi_ctypes_test.py — libtally as a foreign-function caller sees it.

ctypes cannot inline tally_add, so it counts through the exported
tally_counter_add on an opaque handle: from two processes with two threads
each (ctypes releases the GIL during the call), the total must be exact;
tally_counter_reset must hand back the old value; and the calls must report
bad handles and names by their codes, never by a crash.

usage: /usr/bin/python3 ffi_ctypes_test.py LIBTALLY_SO
"""
import ctypes
import os
import shutil
import sys
import tempfile
import threading

TALLY_ENAME = -1002
TALLY_ENOCOUNTER = -1009
TALLY_EINVAL = -1010

PROCS = 2
THREADS = 2
ADDS = 20000

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("ffi_ctypes_test: check failed: " + what, file=sys.stderr)


def load(path):
    lib = ctypes.CDLL(path)
    handle = ctypes.c_void_p
    lib.tally_open.argtypes = [ctypes.POINTER(handle), ctypes.c_char_p, ctypes.c_void_p]
    lib.tally_open.restype = ctypes.c_int
    lib.tally_close.argtypes = [handle]
    lib.tally_close.restype = None
    for fn in (lib.tally_counter_get, lib.tally_counter_find):
        fn.argtypes = [handle, ctypes.c_char_p, ctypes.POINTER(handle)]
        fn.restype = ctypes.c_int
    lib.tally_counter_add.argtypes = [handle, ctypes.c_int64]
    lib.tally_counter_add.restype = ctypes.c_int
    lib.tally_counter_reset.argtypes = [handle, ctypes.POINTER(ctypes.c_int64)]
    lib.tally_counter_reset.restype = ctypes.c_int
    lib.tally_value.argtypes = [handle]
    lib.tally_value.restype = ctypes.c_int64
    lib.tally_strerror.argtypes = [ctypes.c_int]
    lib.tally_strerror.restype = ctypes.c_char_p
    return lib


def adder(lib, counter, bad):
    for i in range(ADDS):
        if lib.tally_counter_add(counter, i % 3 + 1) != 0:
            bad.append(i)


def child(lib, counter):
    """Adds from THREADS threads; its exit status says whether all went in."""
    bad = []
    threads = [threading.Thread(target=adder, args=(lib, counter, bad)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os._exit(0 if not bad else 1)


def main():
    lib = load(sys.argv[1])
    scratch = tempfile.mkdtemp(prefix="tally-ffi-")
    try:
        run(lib, os.path.join(scratch, "region").encode())
    finally:
        shutil.rmtree(scratch)
    if failures:
        return 1
    print("ffi_ctypes_test: ok")
    return 0


def run(lib, path):
    region = ctypes.c_void_p()
    rc = lib.tally_open(ctypes.byref(region), path, None)
    if rc != 0:
        check(False, "tally_open: " + lib.tally_strerror(rc).decode())
        return
    counter = ctypes.c_void_p()
    check(lib.tally_counter_get(region, b"ffi.adds", ctypes.byref(counter)) == 0, "counter_get")

    # The handle made before fork is valid in every child.
    pids = []
    for _ in range(PROCS):
        pid = os.fork()
        if pid == 0:
            child(lib, counter)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        check(os.waitstatus_to_exitcode(status) == 0, "a child's adds all returned 0")
    expected = PROCS * THREADS * sum(i % 3 + 1 for i in range(ADDS))
    check(lib.tally_value(counter) == expected, "exact total %d, got %d" % (expected, lib.tally_value(counter)))

    old = ctypes.c_int64(-1)
    check(lib.tally_counter_reset(counter, ctypes.byref(old)) == 0, "reset returns 0")
    check(old.value == expected, "reset hands back the old value")
    check(lib.tally_value(counter) == 0, "reset leaves 0")
    check(lib.tally_counter_reset(counter, None) == 0, "reset without an old value")

    # Values wrap modulo 2^64, as the inline add does.
    lib.tally_counter_add(counter, 2**63 - 1)
    lib.tally_counter_add(counter, 1)
    check(lib.tally_value(counter) == -(2**63), "wraps to INT64_MIN")

    check(lib.tally_counter_add(None, 1) == TALLY_EINVAL, "add on a NULL handle")
    old.value = 5
    check(lib.tally_counter_reset(None, ctypes.byref(old)) == TALLY_EINVAL, "reset on a NULL handle")
    check(old.value == 0, "a failed reset stores 0")
    missing = ctypes.c_void_p()
    check(lib.tally_counter_find(region, b"ffi.missing", ctypes.byref(missing)) == TALLY_ENOCOUNTER,
          "find of a missing name")
    check(lib.tally_counter_get(region, b"", ctypes.byref(missing)) == TALLY_ENAME, "an empty name")
    check(len(lib.tally_strerror(TALLY_ENAME)) > 0, "strerror explains")
    lib.tally_close(region)


if __name__ == "__main__":
    sys.exit(main())
