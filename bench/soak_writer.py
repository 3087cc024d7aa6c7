#!/usr/bin/env python3
"""soak_writer.py — one writer of usage CSV files for bench/soak.sh.

Appends bursts of usage rows to DIR/usage-NAME.csv, stamped with the
current time, some of them bad (a created_at that is no instant: the csv
source must set them aside), and rotates the file every few seconds the
way MODE says:

  rename        rename to usage-NAME.csv.SEQ, start a new file
  copytruncate  copy to usage-NAME.csv.SEQ, truncate the file in place
  gzip          rename to usage-NAME.csv.SEQ, then compress it to
                usage-NAME.csv.SEQ.gz and remove the plain copy

A new or emptied file gets the header row, as a CSV logger writes one
whenever it finds its file empty. The writer itself rotates between two
appends, so copytruncate loses nothing (logrotate's copytruncate can lose
what is written between the copy and the truncate; that loss is not what
the soak measures).

Rotated files are kept as logrotate's "rotate KEEP" would, except that the
oldest is removed only once the agent's checkpoint (the csv source's state
in --db) shows it read to its end: a file removed unread is lost by
design, and would make the expected total unknowable.

Stops when --stop exists, then writes --report: JSON with the good and bad
rows written, the input_tokens of the good ones, rotations and removals.
"""
import argparse
import datetime
import gzip
import json
import os
import random
import shutil
import sqlite3
import time

HEADER = (
    "id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,"
    "input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,"
    "input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,"
    "total_cost_usd,actual_total_cost_usd,response_time_ms\n"
)


def now_iso():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def consumed_offsets(db):
    """(dev, ino) -> offset of every file the checkpoint knows, read
    without a lock the agent would wait on (WAL readers do not block)."""
    out = {}
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            rows = con.execute("SELECT value FROM plugin_state").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return out

    def walk(v):
        if isinstance(v, dict):
            if "ino" in v and "offset" in v and "dev" in v:
                key = (int(v["dev"]), int(v["ino"]))
                out[key] = max(out.get(key, 0), int(v["offset"]))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for (value,) in rows:
        try:
            walk(json.loads(value))
        except (ValueError, TypeError):
            pass
    return out


class Writer:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.live = os.path.join(a.dir, "usage-%s.csv" % a.name)
        self.seq = 0
        self.good = self.bad = self.tokens = 0
        self.rotations = self.removed = 0
        self.rotated = []  # [path, content bytes], oldest first
        self.fd = -1
        self.open_live()

    def open_live(self):
        self.fd = os.open(self.live, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        if os.fstat(self.fd).st_size == 0:
            os.write(self.fd, HEADER.encode())

    def row(self):
        n = self.good + self.bad
        rid = "%s-%d" % (self.a.name, n)
        if self.rng.randrange(self.a.bad_every) == 0:
            self.bad += 1
            # Parses as CSV, but created_at is no instant: set aside.
            return "%s,%s,not-a-time,u1,k1,p,m,200,,1,1,0,0,0,0,0,0,0,0,10\n" % (rid, rid)
        tokens = self.rng.randrange(1, 1000)
        self.good += 1
        self.tokens += tokens
        status = 500 if self.rng.randrange(10) == 0 else 200
        return "%s,%s,%s,u%d,k1,prov,model-%d,%d,,%d,%d,0,0,0.001,0.002,0,0,0.003,0.003,%d\n" % (
            rid, rid, now_iso(), self.rng.randrange(5), self.rng.randrange(3), status,
            tokens, self.rng.randrange(100), self.rng.randrange(10, 2000))

    def burst(self):
        rows = "".join(self.row() for _ in range(self.rng.randrange(1, self.a.burst + 1)))
        os.write(self.fd, rows.encode())

    def rotate(self):
        self.seq += 1
        self.rotations += 1
        dst = "%s.%d" % (self.live, self.seq)
        size = os.fstat(self.fd).st_size
        if self.a.mode == "copytruncate":
            shutil.copyfile(self.live, dst)
            os.ftruncate(self.fd, 0)
            os.write(self.fd, HEADER.encode())
        else:
            os.close(self.fd)
            os.rename(self.live, dst)
            self.open_live()
            if self.a.mode == "gzip":
                # Written in place, as gzip(1) does: the agent may find the
                # .gz half written, and the plain file gone before it read
                # all of it.
                with open(dst, "rb") as src, gzip.open(dst + ".gz", "wb") as out:
                    shutil.copyfileobj(src, out)
                os.unlink(dst)
                dst += ".gz"
        self.rotated.append([dst, size])

    def prune(self):
        if len(self.rotated) <= self.a.keep:
            return
        done = consumed_offsets(self.a.db)
        while len(self.rotated) > self.a.keep:
            path, size = self.rotated[0]
            try:
                st = os.stat(path)
            except FileNotFoundError:
                self.rotated.pop(0)
                continue
            if done.get((st.st_dev, st.st_ino), -1) < size:
                return  # not read to its end yet
            os.unlink(path)
            self.rotated.pop(0)
            self.removed += 1

    def run(self):
        next_rotation = time.monotonic() + self.rng.uniform(self.a.rotate_min, self.a.rotate_max)
        while not os.path.exists(self.a.stop):
            self.burst()
            if time.monotonic() >= next_rotation:
                self.rotate()
                next_rotation = time.monotonic() + self.rng.uniform(self.a.rotate_min, self.a.rotate_max)
            self.prune()
            time.sleep(self.rng.uniform(0.02, 0.2))
        os.close(self.fd)
        report = {"name": self.a.name, "mode": self.a.mode, "good": self.good, "bad": self.bad,
                  "input_tokens": self.tokens, "rotations": self.rotations, "removed": self.removed}
        tmp = self.a.report + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(report, f)
        os.rename(tmp, self.a.report)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--mode", required=True, choices=["rename", "copytruncate", "gzip"])
    p.add_argument("--db", required=True, help="the agent's tally.db")
    p.add_argument("--stop", required=True)
    p.add_argument("--report", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--burst", type=int, default=20, help="rows per burst, at most")
    p.add_argument("--bad-every", type=int, default=40, help="one row in about this many is bad")
    p.add_argument("--rotate-min", type=float, default=4.0)
    p.add_argument("--rotate-max", type=float, default=12.0)
    p.add_argument("--keep", type=int, default=2, help="rotated files kept once read")
    Writer(p.parse_args()).run()


if __name__ == "__main__":
    main()
