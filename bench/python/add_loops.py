"""add_loops.py — one timed loop of counter adds from Python, for run-python.sh.

    python add_loops.py KIND OPS DIR

Runs OPS adds of one KIND in this process, then checks that the counter
moved by exactly OPS (through the library's own read path), and prints one
JSON line: the kind, the ops, the nanoseconds per op and the clock used.
Exit 1 when the count is wrong: a fast wrong number must fail the bench.

Each measurement runs in a fresh process, so prometheus_client's
multiprocess mode sees PROMETHEUS_MULTIPROC_DIR (set by the caller, before
the import) and nothing one kind leaves behind (an imported module, a
warm cache of another library) weighs on the next.

The loops are written as an application writes them (the attribute lookup
of `c.add` included), with the garbage collector off as timeit does. Loops
that never block are timed by this thread's CPU clock (a busy machine's
other processes do not count); SQLite by the wall clock, since waiting for
the disk is part of its cost.
"""
import gc
import json
import os
import sys
import time

NAME = "api.requests.total"  # the application's busiest counter
PROM_NAME = "api_requests"  # prometheus_client appends _total
SEED_KEYS = [  # the application's usage_metrics keys (shared/seeds/usage_metric.md)
    "api.requests.total", "api.requests.today", "api.requests.novels",
    "api.requests.writer", "api.requests.llm", "feature.outline.generated",
    "feature.chapter.written", "feature.concept.extracted", "feature.evaluation.done",
    "user.registrations", "user.active.daily", "user.active.monthly",
    "error.llm.timeout", "error.llm.rate_limit", "error.db.connection",
]


def loop_floor(ops, _dir):
    """The loop alone: what every figure below carries besides its add."""
    gc.disable()
    t0 = time.thread_time_ns()
    for _ in range(ops):
        pass
    t1 = time.thread_time_ns()
    return t1 - t0, "cpu", None


def tally_region(dir_):
    import tally

    return tally.Region(os.path.join(dir_, "region"), capacity=1024)


def tally_value(r):
    return r.items(NAME).get(NAME, 0)


def loop_tally_handle(ops, dir_):
    r = tally_region(dir_)
    c = r.counter(NAME)
    before = tally_value(r)
    gc.disable()
    t0 = time.thread_time_ns()
    for _ in range(ops):
        c.add()
    t1 = time.thread_time_ns()
    moved = tally_value(r) - before
    r.close()
    return t1 - t0, "cpu", moved


def loop_tally_name(ops, dir_):
    r = tally_region(dir_)
    before = tally_value(r)
    gc.disable()
    t0 = time.thread_time_ns()
    for _ in range(ops):
        r.add(NAME)
    t1 = time.thread_time_ns()
    moved = tally_value(r) - before
    r.close()
    return t1 - t0, "cpu", moved


def prom_multiprocess_total():
    """The sum of api_requests_total as a scrape sees it: through the collector."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    total = 0
    for metric in registry.collect():
        for s in metric.samples:
            if s.name == PROM_NAME + "_total":
                total += s.value
    return total


def prom_counter(kind, multiprocess, labels=()):
    """A Counter, once the environment is what KIND needs: the multiprocess
    mode is chosen by PROMETHEUS_MULTIPROC_DIR when the library is imported."""
    if bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")) != multiprocess:
        raise RuntimeError(f"{kind} must run {'with' if multiprocess else 'without'} "
                           "PROMETHEUS_MULTIPROC_DIR set before the import")
    from prometheus_client import Counter

    return Counter(PROM_NAME, "Requests served", list(labels))


def prom_inc_loop(ops, multiprocess):
    c = prom_counter("prom-mp" if multiprocess else "prom-single", multiprocess)
    gc.disable()
    t0 = time.thread_time_ns()
    for _ in range(ops):
        c.inc()
    t1 = time.thread_time_ns()
    if multiprocess:
        return t1 - t0, "cpu", prom_multiprocess_total()
    from prometheus_client import REGISTRY

    return t1 - t0, "cpu", REGISTRY.get_sample_value(PROM_NAME + "_total")


def loop_prom_mp_labels(ops, _dir):
    c = prom_counter("prom-mp-labels", True, ["method", "route", "status"])
    gc.disable()
    t0 = time.thread_time_ns()
    for _ in range(ops):
        c.labels("GET", "/api/novels/{id}", "2xx").inc()
    t1 = time.thread_time_ns()
    return t1 - t0, "cpu", prom_multiprocess_total()


def sqlite_loop(ops, dir_, synchronous):
    """The application's atomic_increment: its UPDATE ... RETURNING, one commit a request."""
    import sqlite3

    con = sqlite3.connect(os.path.join(dir_, f"usage-{synchronous.lower()}.db"))
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={synchronous}")
    con.execute("CREATE TABLE IF NOT EXISTS usage_metrics ("
                "key VARCHAR(64) PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0)")
    con.executemany("INSERT OR IGNORE INTO usage_metrics(key, value) VALUES (?, 0)",
                    [(k,) for k in SEED_KEYS])
    con.commit()
    sql = "UPDATE usage_metrics SET value = value + ? WHERE key = ? RETURNING value"

    def value():
        return con.execute("SELECT value FROM usage_metrics WHERE key = ?", (NAME,)).fetchone()[0]

    before = value()
    missed = 0
    gc.disable()
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        if con.execute(sql, (1, NAME)).fetchone() is None:
            missed += 1
        con.commit()
    t1 = time.perf_counter_ns()
    moved = value() - before
    con.close()
    return t1 - t0, "wall", moved if missed == 0 else -missed


LOOPS = {
    "floor": loop_floor,
    "tally-handle": loop_tally_handle,
    "tally-name": loop_tally_name,
    "prom-mp": lambda ops, _d: prom_inc_loop(ops, True),
    "prom-mp-labels": loop_prom_mp_labels,
    "prom-single": lambda ops, _d: prom_inc_loop(ops, False),
    "sqlite-wal": lambda ops, d: sqlite_loop(ops, d, "NORMAL"),
    "sqlite-wal-full": lambda ops, d: sqlite_loop(ops, d, "FULL"),
}


def main(argv):
    if len(argv) != 4 or argv[1] not in LOOPS:
        sys.stderr.write(f"usage: add_loops.py {{{'|'.join(LOOPS)}}} OPS DIR\n")
        return 2
    kind, ops, dir_ = argv[1], int(argv[2]), argv[3]
    ns, clock, moved = LOOPS[kind](ops, dir_)
    exact = moved is None or moved == ops
    print(json.dumps({"kind": kind, "ops": ops, "ns_per_op": ns / ops, "clock": clock,
                      "counted": moved, "exact": exact}))
    if not exact:
        sys.stderr.write(f"add_loops.py {kind}: {ops} adds, but the counter moved by {moved}: "
                         "a lost or doubled count; this figure is refused\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
