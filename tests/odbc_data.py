#!/usr/bin/env python3
"""odbc_data.py — test data for the odbc source and the sql exporter.

  odbc_data.py clean SAMPLE_DIR OUT_DIR
      The sample data set (data/sample) without the bad usage rows its
      README lists: usage.csv, candidates.csv, users.csv, api_keys.csv in
      OUT_DIR, the same bytes line for line otherwise. The csv source and the
      odbc source must agree on these.

  odbc_data.py sqlite DB CSV_DIR
      Tables usage, request_candidates, users and api_keys in the SQLite
      file DB, loaded from CSV_DIR's four files (header first); an empty
      field is NULL. Numbers are stored in INTEGER columns, costs as TEXT
      (as exact as the CSV), everything else as TEXT.

  odbc_data.py same-ts OUT_CSV ROWS INSTANT
      A usage CSV of ROWS rows that all have created_at INSTANT, ids
      r000001.., one token each: for keyset pages across one timestamp.

Python 3 standard library only.
"""
import csv
import os
import re
import sqlite3
import sys

TABLES = [
    ("usage", "usage.csv"),
    ("request_candidates", "candidates.csv"),
    ("users", "users.csv"),
    ("api_keys", "api_keys.csv"),
]
INTEGER_COLUMNS = {
    "status_code", "input_tokens", "output_tokens", "cache_creation_input_tokens",
    "cache_read_input_tokens",
}


def clean(sample, out):
    with open(os.path.join(sample, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("## The bad rows in usage.csv", 1)[1].split("\n## ", 1)[0]
    bad = {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.M)}
    if not bad:
        sys.exit("odbc_data.py: no bad rows listed in the sample README")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(sample, "usage.csv"), "rb") as f:
        lines = f.read().split(b"\n")
    kept = [line for n, line in enumerate(lines, 1) if n not in bad]
    with open(os.path.join(out, "usage.csv"), "wb") as f:
        f.write(b"\n".join(kept))
    for name in ("candidates.csv", "users.csv", "api_keys.csv"):
        with open(os.path.join(sample, name), "rb") as src, open(os.path.join(out, name), "wb") as dst:
            dst.write(src.read())


def load_sqlite(db, csv_dir):
    con = sqlite3.connect(db)
    for table, name in TABLES:
        path = os.path.join(csv_dir, name)
        if not os.path.exists(path):
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        cols = ", ".join(f'"{c}" {"INTEGER" if c in INTEGER_COLUMNS else "TEXT"}' for c in header)
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(f'CREATE TABLE "{table}" ({cols})')
        marks = ", ".join("?" for _ in header)
        con.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})',
            [[None if v == "" else (int(v) if h in INTEGER_COLUMNS else v) for h, v in zip(header, r)]
             for r in body],
        )
        if "created_at" in header and "id" in header:
            con.execute(f'CREATE INDEX "{table}_keyset" ON "{table}" (created_at, id)')
    con.commit()
    con.close()


def same_ts(out, rows, instant):
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "created_at", "user_id", "model", "input_tokens"])
        for i in range(1, rows + 1):
            w.writerow([f"r{i:06d}", instant, f"u{i % 7}", "m", 1])


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "clean":
        clean(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "sqlite":
        load_sqlite(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "same-ts":
        same_ts(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
