#!/usr/bin/env python3
"""sql_expect.py — the sql exporter's tables against tallyd's JSON summary.

  sql_expect.py JSON --sqlite DB [--prefix P]
  sql_expect.py JSON --jsonl DIR [--prefix P]
      (DIR holds <prefix>stats_daily.jsonl, ... : one JSON object per row,
      as psql writes `SELECT row_to_json(t) FROM t`)

Every day of JSON's "days" must be one row of stats_daily (date = the
day's UTC start, business_date = its date, every other field equal:
integers exactly, reals as the same double), every user-day one row of
stats_user_daily, the summary the one row of stats_summary; and the
tables hold no other rows. Prints one line per difference; exit 0 when
there is none, 1 when there is.
"""
import argparse
import datetime as dt
import json
import os
import sqlite3
import sys


def instant(v):
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if s.endswith("+00"):
        s += ":00"
    return int(dt.datetime.fromisoformat(s).timestamp())


def json_instant(s):
    return instant(s)


def load_sqlite(db, table):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(f"SELECT * FROM {table}")]
    con.close()
    return rows


def load_jsonl(d, table):
    with open(os.path.join(d, table + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--sqlite")
    ap.add_argument("--jsonl")
    ap.add_argument("--prefix", default="")
    a = ap.parse_args()
    with open(a.json, encoding="utf-8") as f:
        summary = json.load(f)
    load = (lambda t: load_sqlite(a.sqlite, t)) if a.sqlite else (lambda t: load_jsonl(a.jsonl, t))
    problems = []

    def same(what, want, got):
        for k, v in want.items():
            if k not in got:
                problems.append(f"{what}: no column {k}")
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            elif isinstance(v, int) and (not isinstance(got[k], int) or got[k] != v):
                problems.append(f"{what} {k}: json {v!r}, table {got[k]!r}")
            elif isinstance(v, float) and float(got[k]) != v:
                problems.append(f"{what} {k}: json {v!r}, table {got[k]!r}")

    def check(table, items, key_of, row_key):
        rows = load(a.prefix + table)
        by_key = {}
        for r in rows:
            k = row_key(r)
            if k in by_key:
                problems.append(f"{table}: two rows for {k}")
            by_key[k] = r
        for it in items:
            k = key_of(it)
            r = by_key.pop(k, None)
            if r is None:
                problems.append(f"{table}: no row for {k}")
                continue
            if "date" in it and str(r.get("business_date")) != it["date"]:
                problems.append(f"{table} {k}: business_date {r.get('business_date')!r}, json {it['date']!r}")
            same(f"{table} {k}", {x: y for x, y in it.items() if x not in ("date", "day_start_utc")}, r)
        for k in by_key:
            problems.append(f"{table}: a row for {k} that the JSON does not have")
        return len(rows)

    n_days = check("stats_daily", summary["days"], lambda d: json_instant(d["day_start_utc"]),
                   lambda r: instant(r["date"]))
    n_users = check("stats_user_daily", summary["user_days"],
                    lambda d: (d["user_id"], json_instant(d["day_start_utc"])),
                    lambda r: (r["user_id"], instant(r["date"])))
    s = dict(summary["summary"])
    cutoff = json_instant(s.pop("cutoff_date"))
    rows = load(a.prefix + "stats_summary")
    if len(rows) != 1:
        problems.append(f"stats_summary has {len(rows)} rows, not 1")
    else:
        if instant(rows[0]["cutoff_date"]) != cutoff:
            problems.append(f"stats_summary cutoff_date {rows[0]['cutoff_date']!r}, json {cutoff}")
        same("stats_summary", s, rows[0])
    for p in problems[:40]:
        print(p)
    if not problems:
        print(f"tables match the JSON: {n_days} days, {n_users} user-days, the summary")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
