#!/usr/bin/env python3
"""json_expect.py — compare tallyd's JSON summary with hand-computed values.

Two modes, used by tests/daily_cases_test.sh and tests/daily_crash_test.sh:

  json_expect.py [--label NAME] [--ulps N] EXPECTED ACTUAL
      Every key of EXPECTED must be in ACTUAL with an equal value; keys
      absent from EXPECTED are not checked. Integers compare exactly (a
      float where an integer is expected is a mismatch, and the reverse);
      floats compare to 1e-9 relative or 1e-12 absolute, or, with --ulps N,
      to at most N units in the last place of the double (for the cases
      where a tolerance would hide the error of naive float summation).
      Lists compare element by element and must have the same length.

  json_expect.py --same [--label NAME] [--ignore KEY]... A B
      A and B must be equal as JSON values (numbers exactly), apart from
      the top-level keys named by --ignore and "agent": the running
      agent's figures about itself (its start, its cycles, what it read
      since it started) differ from one agent's run to another's, as the
      wall clock of generated_at does.

Prints one line per difference: label, JSON path, expected (or A), actual
(or B); exits 0 when there is none, 1 when there is, 2 on bad input.
"""
import argparse
import json
import math
import struct
import sys

REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_SHOWN = 40


def ordered(x):
    """A double as an integer whose order is the doubles' order."""
    (i,) = struct.unpack("<q", struct.pack("<d", x))
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def ulp_distance(a, b):
    return abs(ordered(a) - ordered(b))


def kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "real"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return "null"


def show(v):
    if isinstance(v, (list, dict)):
        text = json.dumps(v, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 200 else text[:200] + "..."
    if isinstance(v, float):
        return repr(v)
    return json.dumps(v, ensure_ascii=False)


class Comparer:
    def __init__(self, ulps, subset):
        self.ulps = ulps
        self.subset = subset  # True: only the keys of the expected side
        self.diffs = []

    def diff(self, path, want, got, why=""):
        self.diffs.append((path or "$", want, got, why))

    def floats_equal(self, want, got):
        if math.isnan(want) or math.isnan(got):
            return False
        if self.ulps is not None:
            return ulp_distance(want, got) <= self.ulps
        return abs(want - got) <= max(ABS_TOL, REL_TOL * max(abs(want), abs(got)))

    def compare(self, path, want, got):
        kw, kg = kind(want), kind(got)
        if kw != kg:
            self.diff(path, want, got, f"{kw} expected, {kg} found")
            return
        if kw == "object":
            for k, v in want.items():
                p = f"{path}.{k}" if path else k
                if k not in got:
                    self.diff(p, v, "(absent)", "key missing")
                else:
                    self.compare(p, v, got[k])
            if not self.subset:
                for k in got:
                    if k not in want:
                        p = f"{path}.{k}" if path else k
                        self.diff(p, "(absent)", got[k], "unexpected key")
        elif kw == "list":
            if len(want) != len(got):
                self.diff(path, f"{len(want)} elements", f"{len(got)} elements", "length differs")
            for i, (w, g) in enumerate(zip(want, got)):
                label = ""
                if isinstance(w, dict) and "date" in w:
                    label = f"(date {w['date']}" + (f", user {w['user_id']}" if "user_id" in w else "") + ")"
                self.compare(f"{path}[{i}]{label}", w, g)
        elif kw == "real":
            if not self.floats_equal(want, got):
                extra = f"{ulp_distance(want, got)} ulps apart" if not math.isnan(want + got) else "NaN"
                self.diff(path, want, got, extra)
        elif want != got:
            self.diff(path, want, got)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read JSON from {path}: {e}")
        sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="")
    ap.add_argument("--ulps", type=int, default=None)
    ap.add_argument("--same", action="store_true")
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("expected")
    ap.add_argument("actual")
    a = ap.parse_args()

    want, got = load(a.expected), load(a.actual)
    if a.same:
        for k in a.ignore + ["agent"]:
            if isinstance(want, dict):
                want.pop(k, None)
            if isinstance(got, dict):
                got.pop(k, None)
        c = Comparer(ulps=0, subset=False)
    else:
        c = Comparer(ulps=a.ulps, subset=True)
    c.compare("", want, got)
    if not c.diffs:
        return 0
    label = f"{a.label}: " if a.label else ""
    left, right = ("A", "B") if a.same else ("expected", "actual")
    for path, w, g, why in c.diffs[:MAX_SHOWN]:
        print(f"{label}{path}: {left} {show(w)}, {right} {show(g)}" + (f" ({why})" if why else ""))
    if len(c.diffs) > MAX_SHOWN:
        print(f"{label}... and {len(c.diffs) - MAX_SHOWN} more differences")
    return 1


if __name__ == "__main__":
    sys.exit(main())
