"""read_all.py — one timed read of every counter, for run-python.sh.

    python read_all.py KIND TARGET WORKERS COUNTERS READS [TOOL]

Reads the COUNTERS counters that workers.py left in TARGET after WORKERS
workers, once untimed (files and pages into the cache, lazy imports done:
the steady state of a scrape endpoint or a dashboard), then READS times
timed, and checks every read: counter j must hold WORKERS * (j + 1).
Prints one JSON line with the median CPU time (user + system, kernel time
included) and wall time of the timed reads. Exit 1 when a value is wrong.

  tally-items  tally.Region(TARGET, readonly=True).items(prefix), in process
  tally-list   the built tool, `TOOL -r TARGET list PREFIX`, a process of
               its own; its CPU time comes from wait4
  prom         prometheus_client's MultiProcessCollector over the directory
               TARGET, rendered by generate_latest, as a multiprocess
               /metrics view does on every scrape
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

PREFIX = "api.requests.route_"


def expected(workers, counters):
    return {f"route_{j:02d}": workers * (j + 1) for j in range(counters)}


def read_tally_items(target, _tool):
    import tally

    r = tally.Region(target, readonly=True)

    def read():
        return r.items(PREFIX)

    def values(items):
        return {k[len(PREFIX) - len("route_"):]: v for k, v in items.items()}

    return read, values


def read_tally_list(target, tool):
    cmd = [tool, "-r", target, "list", PREFIX]
    ru = {}

    def read():
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        out = p.stdout.read()
        p.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {p.returncode}")
        ru["cpu_ns"] = int((usage.ru_utime + usage.ru_stime) * 1e9)
        return out.decode()

    def values(text):
        got = {}
        for line in text.splitlines():
            if line.startswith(PREFIX):
                name, value = line.split()
                got[name[len(PREFIX) - len("route_"):]] = int(value)
        return got

    return read, values, ru


def read_prom(target, _tool):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = target
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    def read():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry).decode()

    sample = re.compile(r'^api_requests_total\{route="(route_\d+)"\} (\S+)$', re.M)

    def values(text):
        return {m.group(1): float(m.group(2)) for m in sample.finditer(text)}

    return read, values


READERS = {"tally-items": read_tally_items, "tally-list": read_tally_list, "prom": read_prom}


def main(argv):
    if len(argv) not in (6, 7) or argv[1] not in READERS:
        sys.stderr.write(f"usage: read_all.py {{{'|'.join(READERS)}}} TARGET WORKERS COUNTERS READS [TOOL]\n")
        return 2
    kind, target, workers, counters, reads = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5])
    tool = argv[6] if len(argv) == 7 else None
    made = READERS[kind](target, tool)
    read, values = made[0], made[1]
    child = made[2] if len(made) > 2 else None
    want = expected(workers, counters)
    read()  # untimed: caches warm, imports done
    cpus, walls, exact, got = [], [], True, want
    for _ in range(reads):
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        out = read()
        c1, w1 = time.process_time_ns(), time.perf_counter_ns()
        cpus.append(child["cpu_ns"] if child is not None else c1 - c0)
        walls.append(w1 - w0)
        got = values(out)
        exact = exact and got == want
    print(json.dumps({"kind": kind, "workers": workers, "reads": reads,
                      "cpu_ns": statistics.median(cpus), "wall_ns": statistics.median(walls),
                      "exact": exact}))
    if not exact:
        wrong = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        sys.stderr.write(f"read_all.py {kind} {target}: {len(wrong)} counters wrong after {workers} "
                         f"workers, e.g. {wrong[:3]}: "
                         f"expected {[want.get(k) for k in wrong[:3]]}, read {[got.get(k) for k in wrong[:3]]}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
