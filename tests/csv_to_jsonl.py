#!/usr/bin/env python3
"""csv_to_jsonl.py — write a CSV file of tally rows as JSON lines, the way
an LLM gateway logs them, for tests that feed the same data to the csv and
the jsonl source (tests/jsonl_twin_test.sh) and for the sample's edge feed.

  csv_to_jsonl.py [--nest] IN.csv OUT.jsonl

One object per row, keyed by the header's names. Values that are JSON
numbers stay bare numbers, written digit for digit as in the CSV (costs
are never turned into floats); is_active becomes a boolean; an empty field
becomes null; everything else is a string. With --nest, the token counts
go into a nested "usage" object (usage.prompt_tokens, ...), created_at is
"timestamp": the jsonl source reads them with the `columns` renames in
NESTED_COLUMNS below.

Rows the csv source must set aside stay bad lines: a row with the wrong
number of fields becomes a JSON array (not an object), and a field that
is not UTF-8 or holds a NUL is written raw (not JSON).
"""
import csv
import io
import json
import re
import sys

NUMBER = re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
NUMERIC = {"status_code", "input_tokens", "output_tokens", "cache_creation_input_tokens",
           "cache_read_input_tokens", "input_cost_usd", "output_cost_usd",
           "cache_creation_cost_usd", "cache_read_cost_usd", "total_cost_usd",
           "actual_total_cost_usd", "response_time_ms"}
# field -> the key a nested line keeps it under (the jsonl source's columns).
NESTED = {
    "created_at": "timestamp",
    "input_tokens": "usage.prompt_tokens",
    "output_tokens": "usage.completion_tokens",
    "cache_creation_input_tokens": "usage.cache_creation_input_tokens",
    "cache_read_input_tokens": "usage.cache_read_input_tokens",
}
NESTED_COLUMNS = ", ".join(f'"{f}={k}"' for f, k in NESTED.items())


def value(name, raw):
    """The JSON text of one field (bytes)."""
    if raw == b"":
        return b"null"
    if name in NUMERIC and NUMBER.fullmatch(raw):
        return raw
    if name == "is_active" and raw in (b"true", b"false"):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return b'"' + raw + b'"'
    return json.dumps(text, ensure_ascii=False).encode()


def obj(pairs):
    return b"{" + b",".join(json.dumps(k).encode() + b":" + v for k, v in pairs) + b"}"


def line(header, fields, nest):
    if len(fields) != len(header):
        return b"[" + b",".join(value("", f) for f in fields) + b"]"
    flat, nested = [], {}
    for name, raw in zip(header, fields):
        key = NESTED.get(name, name) if nest else name
        if "." in key:
            outer, inner = key.split(".", 1)
            nested.setdefault(outer, []).append((inner, value(name, raw)))
        else:
            flat.append((key, value(name, raw)))
    return obj(flat + [(k, obj(v)) for k, v in nested.items()])


def main():
    args = sys.argv[1:]
    nest = args[:1] == ["--nest"]
    if nest:
        args = args[1:]
    if len(args) != 2:
        print("usage: csv_to_jsonl.py [--nest] IN.csv OUT.jsonl", file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        data = f.read()
    # Parsed as latin-1, which maps every byte to one character, so bytes
    # that are not UTF-8 come back out as they went in.
    rows = list(csv.reader(io.StringIO(data.decode("latin-1"), newline="")))
    header = rows[0]
    with open(args[1], "wb") as out:
        for r in rows[1:]:
            out.write(line(header, [f.encode("latin-1") for f in r], nest) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
