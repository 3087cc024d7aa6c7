#!/usr/bin/env python3
"""rusage.py OUT CMD...: run CMD (stdin, stdout and stderr inherited) and
write to OUT one line "WALL_S MAXRSS_KIB CPU_S": the wall time, the peak
resident set and the user + system CPU time of CMD and everything it
waited for, from getrusage(RUSAGE_CHILDREN). Linux accounts CPU time to
the microsecond, where GNU time prints hundredths of a second: a cycle
that costs 12 ms must not read as 10 or 20. Exits with CMD's status."""
import os
import resource
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit("usage: rusage.py OUT CMD...")
t0 = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.6f} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.6f}\n")
sys.exit(rc if rc >= 0 else 128 - rc)
