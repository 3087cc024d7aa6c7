"""pybench.py — counting from Python: tally beside prometheus_client and SQLite.

    python pybench.py --shm DIR --disk DIR --tool TALLY [--rounds N] [--quick]
                      [--runs FILE]

Run by bench/run-python.sh with the venv's interpreter (the tally package
installed in it). Every figure comes from a fresh process (add_loops.py,
read_all.py), in interleaved rounds: each round runs every measurement
once, in an order rotated from round to round, so a noisy moment on a
shared machine hits one round of every figure, not every round of one.
Figures are medians, min and max beside them; ratios are taken between
medians. Any measurement whose count is wrong fails the run (exit 1).

Before the rounds, workers.py leaves 1, 100 and 1,000 workers' counts
(untimed) in a tally region and a prometheus_client multiprocess directory
each; the rounds then time the reads of all counters over those.

The table goes to stdout, progress to stderr; --runs writes every run's
figures as TSV. Targets are printed with PASS or MISS, never asserted.
"""
import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTERS = 50  # the counters every worker adds to
# Timed reads in one reader process (their median is the run's figure):
# many of tally's microsecond reads, so that one preempted read moves nothing.
READS_PER_RUN = {"tally-items": 101, "tally-list": 5, "prom": 5}

# kind, label, unit (ns or us per op), ops in a full run, ops in --quick
ADDS = [
    ("floor", "loop alone: for _ in range(n): pass", "ns", 5_000_000, 20_000),
    ("tally-handle", "tally: c.add() on a handle", "ns", 5_000_000, 20_000),
    ("tally-name", "tally: r.add(name)", "ns", 5_000_000, 20_000),
    ("prom-mp", "prometheus_client multiprocess: inc()", "ns", 1_000_000, 5_000),
    ("prom-mp-labels", "prometheus_client multiprocess: labels().inc()", "ns", 1_000_000, 5_000),
    ("prom-single", "prometheus_client one process: inc()", "ns", 2_000_000, 5_000),
    ("sqlite-wal", "SQLite WAL: UPDATE + commit (sync NORMAL)", "us", 5_000, 50),
    ("sqlite-wal-full", "SQLite WAL: UPDATE + commit (sync FULL)", "us", 300, 5),
]
# reader kind, label
READS = [
    ("tally-items", "tally: r.items(prefix)"),
    ("tally-list", "tally: `tally list PREFIX`"),
    ("prom", "prometheus_client: MultiProcessCollector"),
]
# How far behind the handle add each peer is: this ratio is the column `vs`.
REF = "tally-handle"


def say(msg):
    sys.stderr.write(f"pybench: {msg}\n")


def run_json(argv, env=None):
    """Runs a measurement process; its last stdout line is its JSON."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"pybench: {' '.join(argv)} failed (exit {p.returncode}); "
                         "its message is above")
    return json.loads(p.stdout.strip().splitlines()[-1])


class Bench:
    def __init__(self, args):
        self.args = args
        self.py = sys.executable
        self.workers = [1, 5, 10] if args.quick else [1, 100, 1000]
        self.runs = []  # (what, round, value) with value in the figure's unit

    def env_without_prom(self):
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("prometheus_multiproc_dir", None)
        return env

    def add_run(self, kind, unit, ops, rnd):
        env = self.env_without_prom()
        # A fresh region, multiprocess directory or database for every run.
        fresh = tempfile.mkdtemp(prefix=f"{kind}-", dir=self.args.disk if kind.startswith("sqlite")
                                 else self.args.shm)
        if kind.startswith("prom-mp"):
            env["PROMETHEUS_MULTIPROC_DIR"] = fresh
        r = run_json([self.py, os.path.join(HERE, "add_loops.py"), kind, str(ops), fresh], env)
        if not r["exact"]:
            raise SystemExit(f"pybench: {kind} was not exact")
        value = r["ns_per_op"] / (1000.0 if unit == "us" else 1.0)
        self.runs.append((kind, rnd, value))
        subprocess.run(["rm", "-rf", fresh], check=True)

    def target(self, lib, n):
        if lib == "tally":
            return os.path.join(self.args.shm, f"region-w{n}")
        return os.path.join(self.args.shm, f"prom-w{n}")

    def prepare_reads(self):
        self.files = {}
        for n in self.workers:
            for lib in ("tally", "prom"):
                t0 = time.monotonic()
                r = run_json([self.py, os.path.join(HERE, "workers.py"), lib, self.target(lib, n),
                              str(n), str(COUNTERS)], self.env_without_prom())
                self.files[(lib, n)] = r["files"]
                say(f"{lib}: {n} workers came and went in {time.monotonic() - t0:.1f} s"
                    + (f", {r['files']} files left" if r["files"] is not None else ""))

    def read_run(self, kind, n, rnd):
        lib = "prom" if kind == "prom" else "tally"
        reads = 2 if self.args.quick else READS_PER_RUN[kind]
        argv = [self.py, os.path.join(HERE, "read_all.py"), kind, self.target(lib, n), str(n),
                str(COUNTERS), str(reads)] + ([self.args.tool] if kind == "tally-list" else [])
        r = run_json(argv, self.env_without_prom())
        self.runs.append((f"read:{kind}:{n}", rnd, r["cpu_ns"] / 1000.0))
        self.runs.append((f"wall:{kind}:{n}", rnd, r["wall_ns"] / 1000.0))

    def plan(self):
        steps = []
        for kind, _label, unit, full, quick in ADDS:
            ops = quick if self.args.quick else full
            steps.append(lambda rnd, k=kind, u=unit, o=ops: self.add_run(k, u, o, rnd))
        for kind, _label in READS:
            for n in self.workers:
                steps.append(lambda rnd, k=kind, w=n: self.read_run(k, w, rnd))
        return steps

    def run(self):
        self.prepare_reads()
        steps = self.plan()
        for rnd in range(1, self.args.rounds + 1):
            say(f"round {rnd} of {self.args.rounds}")
            for j in range(len(steps)):
                steps[(rnd - 1 + j) % len(steps)](rnd)

    def stats(self, what):
        v = sorted(x for w, _r, x in self.runs if w == what)
        return statistics.median(v), v[0], v[-1]


def versions():
    import prometheus_client  # noqa: F401  (only for its version)

    try:
        from importlib.metadata import version

        prom = version("prometheus_client")
        tally_v = version("tally")
    except Exception:  # a version is a header line, not worth failing the run for
        prom = tally_v = "?"
    return (f"python {platform.python_version()} ({sys.executable}), tally package {tally_v}, "
            f"prometheus_client {prom}, SQLite {sqlite3.sqlite_version}")


def row(label, med, lo, hi, unit, ratio="-", vs=""):
    return f"{label:<60} {med:>10.2f} {unit:<8} {lo:>10.2f} {hi:>10.2f} {ratio:>9}  {vs}".rstrip()


def report(b, args):
    out = []
    out.append(f"{versions()}")
    out.append(f"{args.rounds} round{'s' if args.rounds > 1 else ''}, interleaved, medians; "
               "adds: this thread's CPU time per op (SQLite: wall time), a fresh process per figure; "
               "reads: CPU time (user + system), the median of a process's reads after an untimed one "
               f"({', '.join(f'{k} {v}' for k, v in READS_PER_RUN.items())})")
    out.append(f"regions and multiprocess directories in {args.shm_kind}; SQLite database in "
               f"{args.disk_kind}")
    out.append("")
    out.append(f"{'measurement':<60} {'median':>10} {'unit':<8} {'min':>10} {'max':>10} {'ratio':>9}  vs")
    ref = b.stats(REF)[0]
    med = {}
    for kind, label, unit, full, quick in ADDS:
        m, lo, hi = b.stats(kind)
        med[kind] = m
        ops = quick if args.quick else full
        ns = m * (1000.0 if unit == "us" else 1.0)
        if kind == REF or kind == "floor":
            out.append(row(label, m, lo, hi, f"{unit}/op"))
        else:
            out.append(row(label, m, lo, hi, f"{unit}/op", f"{ns / ref:.1f}x", "handle add"))
    out.append("ops per figure: " + ", ".join(
        f"{k} {(q if args.quick else f):,}" for k, _l, _u, f, q in ADDS))
    out.append("")
    out.append(f"reading all {COUNTERS} counters after N workers came and went, each adding to every one:")
    for kind, label in READS:
        base = b.stats(f"read:{kind}:{b.workers[0]}")[0]
        for n in b.workers:
            m, lo, hi = b.stats(f"read:{kind}:{n}")
            med[(kind, n)] = m
            files = b.files.get(("prom", n)) if kind == "prom" else None
            name = f"{label}, {n} w" + (f", {files} files" if files else "")
            if n == b.workers[0]:
                out.append(row(name, m, lo, hi, "us/read"))
            else:
                out.append(row(name, m, lo, hi, "us/read", f"{m / base:.2f}x", f"{b.workers[0]} w"))
    n = b.workers[-1]
    out.append(f"after {n} workers, prometheus_client's read takes "
               f"{med[('prom', n)] / med[('tally-items', n)]:.1f}x tally's items()")
    out.append("")
    out.append("targets (issue 13):")
    h = med[REF]
    mp = med["prom-mp"]
    last, first = b.workers[-1], b.workers[0]

    def target(what, value, bound, ok):
        out.append(f"  {what:<60} {value:>10}  {bound:<10} {'PASS' if ok else 'MISS'}")

    target("Python add through a handle", f"{h:.1f} ns", "<= 100 ns", h <= 100)
    target("prometheus_client multiprocess inc() / handle add", f"{mp / h:.1f}x", ">= 20x", mp / h >= 20)
    for kind, label in READS[:2]:
        f = med[(kind, last)] / med[(kind, first)]
        target(f"{label}: read after {last} / after {first} w", f"{f:.2f}x",
               "<= 1.25x", f <= 1.25)
    out.append("  (\"no slower\" read as <= 1.25x: one read of 50 counters takes microseconds, and "
               "a shared machine's noise is of that order)")
    if args.quick:
        out.append("  (--quick: tiny loops and 1/5/10 workers; these figures only show that the bench runs)")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="tally beside prometheus_client and SQLite, from Python")
    ap.add_argument("--shm", required=True, help="a fresh directory on a tmpfs for regions")
    ap.add_argument("--disk", required=True, help="a fresh directory on disk for SQLite")
    ap.add_argument("--tool", required=True, help="the built tally tool")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", help="write every run's figures here (TSV)")
    ap.add_argument("--shm-kind", default="a tmpfs")
    ap.add_argument("--disk-kind", default="a disk")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds needs a number >= 1")
    b = Bench(args)
    b.run()
    print(report(b, args))
    if args.runs:
        with open(args.runs, "w") as f:
            f.write("what\tround\tvalue\n")
            for what, rnd, value in b.runs:
                f.write(f"{what}\t{rnd}\t{value:.4f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
