#!/usr/bin/env python3
"""soak_check.py — soak.sh's arithmetic over its work directory WORK.

  soak_check.py WORK expect    add up what was written (writer-*.json, app.tsv)
                               into WORK/expected.json
  soak_check.py WORK match     exit 0 iff summary.json shows every total of
                               expected.json (quiet: polled)
  soak_check.py WORK totals    the table of written against counted; exit 1
                               on any difference
  soak_check.py WORK http      the last body the receiver accepted against
                               summary.json; exit 1 if they differ
  soak_check.py WORK samples W the samples' bounds after the first W
                               seconds (see soak.sh); exit 1 past a bound
"""
import csv
import glob
import json
import os
import statistics
import sys

COUNTERS = ("soak.requests", "soak.bytes")
WAL_SLACK = 8 << 20


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def expect(work):
    e = {"rows": 0, "bad": 0, "input_tokens": 0, "rotations": {}, "bursts": 0,
         "counters": {c: 0 for c in COUNTERS}}
    for path in sorted(glob.glob(os.path.join(work, "writer-*.json"))):
        w = load(path)
        e["rows"] += w["good"]
        e["bad"] += w["bad"]
        e["input_tokens"] += w["input_tokens"]
        e["rotations"][w["mode"]] = w["rotations"]
    if len(e["rotations"]) != 3:
        print("soak_check: a writer left no report", file=sys.stderr)
        return 1
    try:
        with open(os.path.join(work, "app.tsv"), encoding="utf-8") as f:
            for line in f:
                requests, amount = map(int, line.split())
                e["counters"]["soak.requests"] += requests
                e["counters"]["soak.bytes"] += amount
                e["bursts"] += 1
    except FileNotFoundError:
        pass
    with open(os.path.join(work, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(e, f)
    return 0


def reject_rows(work):
    """Rows the reject file holds (after its header row), as CSV records."""
    try:
        with open(os.path.join(work, "rejects.csv"), encoding="utf-8", newline="") as f:
            return max(0, sum(1 for _ in csv.reader(f)) - 1)
    except FileNotFoundError:
        return 0


def counted(work):
    """What the agent's JSON shows, as (label, written, counted) rows."""
    e = load(os.path.join(work, "expected.json"))
    s = load(os.path.join(work, "summary.json"))
    days = sum(d["total_requests"] for d in s["days"])
    rows = [
        ("usage rows: combined.total_requests", e["rows"], s["combined"]["total_requests"]),
        ("usage rows: sum(days) + today", e["rows"], days + s["today"]["total_requests"]),
        ("usage rows: summary.all_time + today", e["rows"],
         s["summary"]["all_time_requests"] + s["today"]["total_requests"]),
        ("input tokens: combined.input_tokens", e["input_tokens"], s["combined"]["input_tokens"]),
        ("bad rows: rejected_rows", e["bad"], s.get("rejected_rows")),
        ("bad rows: rows in reject_file", e["bad"], reject_rows(work)),
    ]
    for c in COUNTERS:
        live = s["counters"].get(c, 0)
        past = sum(r["value"] for r in s["counter_days"] if r["name"] == c)
        rows.append(("shm %s: live + counter_days" % c, e["counters"][c], live + past))
    return e, rows


def match(work):
    try:
        _, rows = counted(work)
    except (OSError, ValueError, KeyError):
        return 1
    return 0 if all(w == c for _, w, c in rows) else 1


def totals(work):
    e, rows = counted(work)
    print("\n%-40s %14s %14s  %s" % ("total", "written", "counted", ""))
    bad = 0
    for label, w, c in rows:
        ok = w == c
        bad += not ok
        print("%-40s %14s %14s  %s" % (label, w, c, "ok" if ok else "DIFFERS"))
    rot = e["rotations"]
    print("rotations: %d rename, %d copytruncate, %d gzip; %d application bursts" % (
        rot.get("rename", 0), rot.get("copytruncate", 0), rot.get("gzip", 0), e["bursts"]))
    return 1 if bad else 0


def http(work):
    s = load(os.path.join(work, "summary.json"))
    last = None
    try:
        with open(os.path.join(work, "rx.jsonl"), encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r.get("accepted") or r.get("duplicate"):
                    last = r
    except FileNotFoundError:
        pass
    if last is None:
        print("http: the receiver accepted nothing")
        return 1
    body = json.loads(last["body"])
    # summary.json is rewritten only when more than its times changed: a
    # snapshot that moved only now and generated_at left the older ones.
    # The agent's figures about itself (exports counted, the last cycle)
    # move every cycle as well, so an older file differs there too.
    times = ("now", "generated_at", "agent")
    same = {k: v for k, v in body.items() if k not in times} == {
        k: v for k, v in s.items() if k not in times}
    print("http: last accepted snapshot (now %s) %s the file exporter's (now %s)" % (
        body.get("now"), "equals" if same else "DIFFERS from", s.get("now")))
    return 0 if same else 1


def samples(work, window):
    rows = []
    with open(os.path.join(work, "samples.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            t, pid, rss, fds, db, spool, files = line.rstrip("\n").split("\t")
            rows.append({"t": int(t), "pid": pid, "rss": None if rss == "-" else int(rss),
                         "fds": None if fds == "-" else int(fds), "db": int(db),
                         "spool": int(spool), "files": int(files)})
    first = [r for r in rows if r["t"] <= window]
    # Samples are taken every `window` seconds in a long run, so a busy
    # loop can put the first one a second past it: then it is the window.
    if not first and rows:
        first = rows[:1]
        window = rows[0]["t"]
    later = [r for r in rows if r["t"] > window]
    if not first or not later:
        print("samples: too few to judge (%d in the first %d s, %d after)" % (len(first), window, len(later)))
        return 1
    up = [r for r in first if r["rss"] is not None]
    # A sample can fall just after a kill -9 and restart, before the new
    # agent has opened its files or run a cycle: such a baseline is too low
    # (seen: 5 MiB and 6 descriptors at 12 s). The baseline is never below
    # the median of every sample, which a leak would drag up only halfway.
    alive = [r for r in rows if r["rss"] is not None]
    base_rss = max((r["rss"] for r in up), default=None)
    base_fds = max((r["fds"] for r in up), default=None)
    if base_rss is not None:
        base_rss = max(base_rss, int(statistics.median(r["rss"] for r in alive)))
        base_fds = max(base_fds, int(statistics.median(r["fds"] for r in alive)))
    base_files = max(r["files"] for r in first)
    base_db = max(r["db"] for r in first)
    spool_max = 0
    bad = []
    worst = {"rss": 0, "fds": 0, "db": 0}
    for r in rows:
        spool_max = max(spool_max, r["spool"])
        if r["t"] <= window:
            continue
        db_bound = 2 * base_db + WAL_SLACK + spool_max
        worst["db"] = max(worst["db"], r["db"])
        if r["db"] > db_bound:
            bad.append("t=%d s: db+wal %d B > bound %d B" % (r["t"], r["db"], db_bound))
        if r["rss"] is None or base_rss is None:
            continue
        worst["rss"] = max(worst["rss"], r["rss"])
        worst["fds"] = max(worst["fds"], r["fds"])
        if r["rss"] > 2 * base_rss:
            bad.append("t=%d s: RSS %d KiB > 2 x %d KiB" % (r["t"], r["rss"], base_rss))
        fd_bound = base_fds + 5 + max(0, r["files"] - base_files)
        if r["fds"] > fd_bound:
            bad.append("t=%d s: %d fds > bound %d (%d + 5 + %d more files)" % (
                r["t"], r["fds"], fd_bound, base_fds, max(0, r["files"] - base_files)))
    print("\n%-10s %16s %16s  %s" % ("resource", "first %d s" % window, "largest after", "bound"))
    print("%-10s %16s %16s  %s" % ("RSS KiB", base_rss, worst["rss"], "2 x first"))
    print("%-10s %16s %16s  %s" % ("fds", base_fds, worst["fds"], "first + 5 + new files in the glob"))
    print("%-10s %16s %16s  %s" % ("db+wal B", base_db, worst["db"],
                                   "2 x first + 8 MiB + largest spool (%d B)" % spool_max))
    for b in bad:
        print("  OVER: " + b)
    return 1 if bad else 0


def main():
    work, cmd = sys.argv[1], sys.argv[2]
    if cmd == "expect":
        return expect(work)
    if cmd == "match":
        return match(work)
    if cmd == "totals":
        return totals(work)
    if cmd == "http":
        return http(work)
    if cmd == "samples":
        return samples(work, int(sys.argv[3]))
    print("soak_check.py: unknown command %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
