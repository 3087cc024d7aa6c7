#!/usr/bin/env python3
"""gen_sample.py — writes the sample data set in data/sample/: a week of a
small gateway's usage, its candidates, users and API keys, with a few
deliberately bad usage rows, a second small usage feed as JSON lines (an
LLM gateway's request log, "edge"), and the README that says what is in
it, including the figures tally should compute from it.

    scripts/gen_sample.py [--out DIR]     (default: data/sample beside scripts/)

Python 3 standard library only. Deterministic: the same script always writes
the same bytes, so the committed files can be regenerated and compared.
"""
import argparse
import datetime as dt
import json
import os
import random
import sys
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = dt.date(2026, 11, 15)
DAYS = 7  # closed business days 2026-11-15 .. 2026-11-21
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)  # 11:00 local on 2026-11-22
TODAY = dt.date(2026, 11, 22)
USAGE_ROWS = 3000  # good rows, today's included
TODAY_ROWS = 160  # of them, on 2026-11-22 before 11:00 local
USERS = 30
SEED = 20261122

USAGE_HEADER = [
    "id", "request_id", "created_at", "user_id", "api_key_id", "provider", "model",
    "status_code", "error_message", "input_tokens", "output_tokens",
    "cache_creation_input_tokens", "cache_read_input_tokens", "input_cost_usd",
    "output_cost_usd", "cache_creation_cost_usd", "cache_read_cost_usd", "total_cost_usd",
    "actual_total_cost_usd", "response_time_ms",
]

# name, provider, price per token in 1e-10 USD: input, output, cache write, cache read;
# whether the provider reports prompt caching (else those columns are empty), weight
MODELS = [
    ("gpt-4o", "openai", 25000, 100000, 0, 12500, True, 30),
    ("gpt-4o-mini", "openai", 1500, 6000, 0, 750, True, 40),
    ("GPT-4o", "openai", 25000, 100000, 0, 12500, True, 2),  # another model than gpt-4o
    ("claude-sonnet-4", "anthropic", 30000, 150000, 37500, 3000, True, 30),
    ("claude-3-5-haiku", "anthropic", 8000, 40000, 10000, 800, True, 15),
    ("gemini-2.5-flash", "google", 3000, 25000, 0, 750, True, 20),
    ("deepseek-chat", "deepseek", 2700, 11000, 0, 700, True, 15),
    ("mistral-small", "mistral", 1000, 3000, 0, 0, False, 8),
]

ERRORS = [
    (429, "rate limit exceeded, retry after 20s"),
    (500, "internal server error"),
    (502, "bad gateway, upstream closed the connection"),
    (401, "invalid api key"),
    (400, 'invalid request: "max_tokens" too large'),
    (503, None),  # an error by its status alone
    (200, "stream interrupted, partial response"),  # an error by its message alone
    (200, " "),  # one space is not NULL: an error too
]


class Rng:
    """random.Random with only the calls whose results are stable across
    Python versions (random() and getrandbits())."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def unit(self):
        return self.r.random()

    def below(self, n):
        return int(self.r.random() * n)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def weighted(self, seq, weights):
        x = self.unit() * sum(weights)
        for item, w in zip(seq, weights):
            if x < w:
                return item
            x -= w
        return seq[-1]

    def uuid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))


def cost(units):
    """Units of 1e-10 USD as a decimal string with at most 10 fractional digits."""
    s = format(Decimal(units).scaleb(-10), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def csv_field(v):
    if v is None:
        return ""
    v = str(v)
    if any(c in v for c in ',"\r\n') or v == "":
        return '"' + v.replace('"', '""') + '"'
    return v


def local_midnight_utc(day):
    return dt.datetime.combine(day, dt.time(0), TZ).astimezone(dt.timezone.utc)


def stamp(t, style):
    """An instant in one of the forms a gateway writes."""
    if style == "offset":  # local time with its offset
        return t.astimezone(TZ).isoformat(timespec="microseconds")
    if style == "seconds":  # no fraction
        return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "millis":
        return t.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return t.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def business_day(t):
    return t.astimezone(TZ).date()


def make_people(rng):
    users, keys = [], []
    for i in range(USERS):
        uid = rng.uuid()
        active = i % 9 != 4  # a few inactive users
        users.append((uid, active))
        for k in range(1 + rng.below(3)):
            keys.append((rng.uuid(), uid, active and rng.unit() > 0.15))
    # Users and keys that never make a request still count in the inventories.
    for _ in range(4):
        uid = rng.uuid()
        users.append((uid, rng.unit() > 0.5))
        keys.append((rng.uuid(), uid, False))
    keys.append((rng.uuid(), "", True))  # a service key of no user
    return users, keys


def make_usage(rng, users, keys):
    """Good rows, each a dict with its fields (None = NULL) and its instant."""
    callers = [u for u, _ in users[:USERS]]
    keys_of = {}
    for kid, uid, _ in keys:
        keys_of.setdefault(uid, []).append(kid)
    start = local_midnight_utc(FIRST_DAY)
    span = (local_midnight_utc(TODAY) - start) + dt.timedelta(hours=11)  # to 11:00 today
    closed = USAGE_ROWS - TODAY_ROWS
    today_start = local_midnight_utc(TODAY)
    rows = []
    for i in range(USAGE_ROWS):
        if i < closed:
            frac = (i + rng.unit()) / closed
            t = start + (today_start - start) * frac
        else:
            frac = (i - closed + rng.unit()) / TODAY_ROWS
            t = today_start + dt.timedelta(hours=11) * frac
        style = rng.pick(["micro"] * 17 + ["offset", "seconds", "millis"])
        if style == "seconds":  # the instant is what the row says
            t = t.replace(microsecond=0)
        elif style == "millis":
            t = t.replace(microsecond=t.microsecond // 1000 * 1000)
        user = None if rng.unit() < 0.02 else callers[int(rng.unit() ** 2 * len(callers))]
        key = rng.pick(keys_of[user]) if user else None
        name, provider, p_in, p_out, p_cw, p_cr, caching, _ = rng.weighted(MODELS, [m[7] for m in MODELS])
        status, message = 200, None
        if rng.unit() < 0.03:
            status, message = rng.pick(ERRORS)
        tin = tout = tcw = tcr = 0
        if not 400 <= status < 500:
            tin = 20 + int(rng.unit() ** 3 * 60000)
            tout = 0 if status >= 500 else 1 + int(rng.unit() ** 2 * 4000)
            if caching:
                c = rng.unit()
                if c < 0.3:
                    tcr = int(rng.unit() * 0.9 * tin)
                elif c < 0.4:
                    tcw = int(rng.unit() * 0.5 * tin)
        c_in, c_out, c_cw, c_cr = tin * p_in, tout * p_out, tcw * p_cw, tcr * p_cr
        total = c_in + c_out + c_cw + c_cr
        actual = 0 if status >= 500 else total - total // 10 * (1 if user and user < "8" else 0)
        rt = None
        if rng.unit() >= 0.04:
            rt = 5 + rng.below(60) if 400 <= status < 500 else 150 + tout * (8 + rng.below(20)) + rng.below(300)
        rows.append({
            "t": t,
            "id": rng.uuid(),
            "request_id": rng.uuid(),
            "created_at": stamp(t, style),
            "user_id": user,
            "api_key_id": key,
            "provider": provider,
            "model": name,
            "status_code": status,
            "error_message": message,
            "input_tokens": tin,
            "output_tokens": tout,
            "cache_creation_input_tokens": tcw if caching else None,
            "cache_read_input_tokens": tcr if caching else None,
            "input_cost_usd": c_in,
            "output_cost_usd": c_out,
            "cache_creation_cost_usd": c_cw if caching else None,
            "cache_read_cost_usd": c_cr if caching else None,
            "total_cost_usd": total,
            "actual_total_cost_usd": actual,
            "response_time_ms": rt,
        })
    # Fine points of DESIGN.md. The instants go on the rows nearest them, so
    # the file stays in time order.
    def nearest(t):
        return next(i for i, r in enumerate(rows) if r["t"] >= t)

    midnight = local_midnight_utc(dt.date(2026, 11, 18))
    i = nearest(midnight)
    rows[i].update(t=midnight, created_at=stamp(midnight, "seconds"))  # exactly local midnight: 11-18
    before = midnight - dt.timedelta(microseconds=1)
    rows[i - 1].update(t=before, created_at=stamp(before, "micro"))  # the last microsecond of 11-17
    fine = {"midnight": i, "before": i - 1}
    at = local_midnight_utc(dt.date(2026, 11, 19))
    fine["offset"] = i = nearest(at)
    rows[i].update(t=at, created_at="2026-11-19T00:00:00+08:00")  # local midnight, by its offset
    fine["quoted"] = 703
    rows[703].update(status_code=200, error_message="")  # written as "": NULL, not an error
    fine["nomodel"] = 704
    rows[704]["model"] = None  # no model: not a distinct model
    return rows, fine


def usage_line(row):
    out = []
    for k in USAGE_HEADER:
        v = row[k]
        if k.endswith("_usd") and isinstance(v, int):
            v = cost(v)
        out.append(csv_field(v))
    return ",".join(out).encode()


def bad_rows(rng, near):
    """(line bytes, reason) for rows the csv source must set aside; each is
    a copy of the next row of `near`, with new ids, so its time fits its place."""
    near = iter(near)

    def base():
        r = dict(next(near))
        r["id"], r["request_id"] = rng.uuid(), rng.uuid()
        return r

    def with_field(field, raw):
        # The placeholder is written unquoted, then swapped for the raw bytes.
        line = usage_line({**base(), field: "\x01"})
        return line.replace(b"\x01", raw)

    r = base()
    short = b",".join(usage_line({**r, "error_message": None}).split(b",")[:19])
    r = base()
    long_ = usage_line({**r, "error_message": None}) + b",extra"
    return [
        (short, "19 fields, not 20: the last field is missing"),
        (long_, "21 fields, not 20: one field too many"),
        (with_field("input_tokens", b"12k"), "input_tokens `12k` is not a number"),
        (with_field("total_cost_usd", b"0.12.5"), "total_cost_usd `0.12.5` is not a decimal"),
        (with_field("status_code", b"OK"), "status_code `OK` is not a number"),
        (with_field("response_time_ms", b"fast"), "response_time_ms `fast` is not a number"),
        (with_field("created_at", b"2026-11-18T25:61:00Z"), "created_at `2026-11-18T25:61:00Z`: hour 25, minute 61"),
        (with_field("created_at", b"last tuesday"), "created_at `last tuesday` is not ISO 8601"),
        (with_field("model", b"gpt-\xc3\x28o"), "model holds invalid UTF-8 (bytes C3 28)"),
        (with_field("user_id", b"\x80" + rng.uuid().encode()[1:]), "user_id starts with a lone UTF-8 continuation byte (80)"),
        (with_field("error_message", b"upstream\x00reset"), "error_message holds a NUL byte"),
    ]


EDGE_ROWS = 48
# The jsonl source's `columns` for the edge log (etc/demo.conf.in has them too).
EDGE_COLUMNS = (
    '"id=request_id", "created_at=ts", "user_id=user", "api_key_id=api_key", '
    '"status_code=status", "error_message=error", "response_time_ms=latency_ms", '
    '"input_tokens=usage.input_tokens", "output_tokens=usage.output_tokens", '
    '"cache_read_input_tokens=usage.cache_read_input_tokens", '
    '"input_cost_usd=cost_usd.input", "output_cost_usd=cost_usd.output", '
    '"total_cost_usd=cost_usd.total", "actual_total_cost_usd=cost_usd.total"'
)


def make_edge(users, keys):
    """The edge gateway's request log: JSON lines over the same week, its
    own random stream (so the CSV files do not change with it), token
    counts nested under "usage", costs under "cost_usd" (some as strings,
    as some gateways write decimals), and two bad lines. Returns the lines
    (bytes) and the bad ones as (line number, why)."""
    rng = Rng(SEED + 8)
    callers = [u for u, _ in users[:USERS]]
    keys_of = {}
    for kid, uid, _ in keys:
        keys_of.setdefault(uid, []).append(kid)
    start = local_midnight_utc(FIRST_DAY)
    span = local_midnight_utc(TODAY) + dt.timedelta(hours=11) - start
    lines, bad = [], []
    for i in range(EDGE_ROWS):
        t = start + span * ((i + rng.unit()) / EDGE_ROWS)
        user = callers[rng.below(len(callers))]
        name, provider, p_in, p_out, _, p_cr, _, _ = rng.weighted(MODELS[:5], [m[7] for m in MODELS[:5]])
        status, error = (200, None) if rng.unit() >= 0.08 else (529, "overloaded")
        tin = 50 + int(rng.unit() ** 2 * 20000)
        tout = 0 if status != 200 else 1 + int(rng.unit() * 2000)
        tcr = int(rng.unit() * 0.5 * tin) if rng.unit() < 0.3 else 0
        c_in, c_out, c_cr = tin * p_in, tout * p_out, tcr * p_cr
        total = c_in + c_out + c_cr
        line = {
            "ts": stamp(t, "millis"),
            "request_id": "edge-" + rng.uuid(),
            "route": "/v1/chat/completions",
            "user": user,
            "api_key": rng.pick(keys_of[user]),
            "provider": provider,
            "model": name,
            "status": status,
            "error": error,
            "latency_ms": 120 + rng.below(4000),
            "usage": {"input_tokens": tin, "output_tokens": tout, "cache_read_input_tokens": tcr},
            # Decimals as written: bare numbers and strings both, never floats.
            "cost_usd": {"input": cost(c_in), "output": cost(c_out), "total": cost(total)},
        }
        text = json.dumps(line, separators=(",", ":"))
        for k in ("input", "total") if i % 2 else ():
            text = text.replace(f'"{k}":"{line["cost_usd"][k]}"', f'"{k}":{line["cost_usd"][k]}')
        lines.append(text.encode())
        if i == 17:
            lines.append(text.encode()[:97])  # cut off mid-write: not JSON
            bad.append((len(lines), "cut off mid-write: not JSON"))
        if i == 33:
            broken = dict(line, request_id="edge-" + rng.uuid(), usage="n/a")
            lines.append(json.dumps(broken, separators=(",", ":")).encode())
            bad.append((len(lines), '"usage" is the string "n/a", not an object of token counts'))
    return lines, bad


def make_candidates(rng, rows):
    """Candidates of each good usage row's request, and the fallback count
    per business day by DESIGN.md's rule."""
    cands = []
    for i, row in enumerate(rows):
        t = row["t"]
        failed = row["status_code"] >= 400 or row["error_message"] not in (None, "")
        n = 1
        x = rng.unit()
        if x < 0.12:
            n = 2
        elif x < 0.16:
            n = 3
        if i in (900, 1300, 1800):  # a request whose candidates straddle local midnight
            mid = local_midnight_utc(business_day(t) + dt.timedelta(days=1))
            seq = [(mid - dt.timedelta(milliseconds=400), "failed"), (mid + dt.timedelta(milliseconds=300), "success")]
        elif n == 1:
            seq = [(t, "failed" if failed else "success")]
        else:
            seq = []
            tc = t - dt.timedelta(seconds=n * 2)
            for k in range(n - 1):
                seq.append((tc, rng.pick(["failed", "failed", "skipped", "pending"])))
                tc += dt.timedelta(milliseconds=500 + rng.below(1500))
            seq.append((t, "failed" if failed else "success"))
        for tc, status in seq:
            cands.append((rng.uuid(), row["request_id"], status, tc))
    cands.sort(key=lambda c: c[3])
    fallback = {}
    groups = {}
    for _, req, status, tc in cands:
        if status in ("success", "failed"):
            key = (business_day(tc), req)
            groups[key] = groups.get(key, 0) + 1
    for (day, _), k in groups.items():
        if k > 1:
            fallback[day] = fallback.get(day, 0) + 1
    return cands, fallback


def expected(rows, fallback):
    days = {}
    for r in rows:
        d = business_day(r["t"])
        e = days.setdefault(d, dict(total=0, error=0, inp=0, out=0, cw=0, cr=0, cost=0, actual=0, models=set(), providers=set()))
        e["total"] += 1
        if r["status_code"] >= 400 or r["error_message"] not in (None, ""):
            e["error"] += 1
        e["inp"] += r["input_tokens"]
        e["out"] += r["output_tokens"]
        e["cw"] += r["cache_creation_input_tokens"] or 0
        e["cr"] += r["cache_read_input_tokens"] or 0
        e["cost"] += r["total_cost_usd"]
        e["actual"] += r["actual_total_cost_usd"]
        if r["model"]:
            e["models"].add(r["model"])
        e["providers"].add(r["provider"])
    lines = [
        "| date | total | success | error | input tokens | output tokens | cache creation | cache read | total_cost | actual_total_cost | fallback | models | providers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in sorted(days):
        e = days[d]
        label = d.isoformat() + (" (today)" if d == TODAY else "")
        lines.append(
            f"| {label} | {e['total']} | {e['total'] - e['error']} | {e['error']} | {e['inp']} | {e['out']} | "
            f"{e['cw']} | {e['cr']} | {cost(e['cost'])} | {cost(e['actual'])} | {fallback.get(d, 0) if d != TODAY else '-'} | "
            f"{len(e['models'])} | {len(e['providers'])} |")
    return "\n".join(lines)


README = """# Sample data set

A week of a small LLM gateway's usage, for trying tally by hand and for tests
that want realistic input. Written by `scripts/gen_sample.py` (Python 3
standard library only, deterministic: run it again and `git diff` shows
nothing). Do not edit these files by hand; change the script and rerun it.

Business time zone **Asia/Shanghai** (UTC+8, no DST). The usage covers the
seven business days **2026-11-15 .. 2026-11-21** and the morning of
**2026-11-22** up to 11:00 local, so with `--now 2026-11-22T03:00:00Z` the
seven days are closed and 2026-11-22 is today:

```
timezone = "Asia/Shanghai"
csv "usage"      {{ path = "data/sample/usage.csv"      stream = "usage" }}
csv "candidates" {{ path = "data/sample/candidates.csv" stream = "candidates" }}
csv "users"      {{ path = "data/sample/users.csv"      stream = "users" }}
csv "keys"       {{ path = "data/sample/api_keys.csv"   stream = "api_keys" }}
daily "stats"    {{ keep_days = 400 }}
```

## Files

| file | rows | what |
|---|---|---|
| `usage.csv` | {n_usage} good + {n_bad} bad | the `usage` stream, header first, in time order except three rows written a few hours late (lines {late}) |
| `candidates.csv` | {n_cand} | `id,request_id,status,created_at`: one to three candidates per usage request, in time order |
| `users.csv` | {n_users} | `id,is_active` |
| `api_keys.csv` | {n_keys} | `id,user_id,is_active` |
| `edge-usage.jsonl` | {n_edge} good + {n_edge_bad} bad | a second `usage` feed: the request log of an LLM gateway "edge", one JSON object per line, read by the `jsonl` source (below) |

What the usage holds: {n_callers} users (UUIDs) make the requests, a few of them
most; 1 to 3 API keys each; {n_models} models of {n_providers} providers
(`gpt-4o` and `GPT-4o` are two models, as DESIGN.md wants); about 3% errors,
among them 4xx and 5xx with a message, a 503 without one, status 200 with a
message, and status 200 with a message of one space (not NULL, so an error);
about 2% of rows without a user (and key); about 4% without a response time;
empty cache columns for the provider without prompt caching. Error messages
with a comma or a quote are quoted (`"rate limit exceeded, retry after 20s"`).
Costs are exact decimals with at most 10 fractional digits. Timestamps come in
four forms: `2026-11-15T03:12:45.123456Z` (most), milliseconds, whole seconds,
and local time with its offset (`2026-11-16T09:30:00.000000+08:00`).

Fine points on fixed rows: line {l_mid} is exactly local midnight
(`2026-11-17T16:00:00Z`) and belongs to 2026-11-18; line {l_before} is the
microsecond before it, on 2026-11-17; line {l_mid2} is local midnight written
with its offset (`2026-11-19T00:00:00+08:00`), on 2026-11-19; line {l_quoted}
has an error_message of `""`, which is NULL (not an error); line {l_nomodel} has no
model. Candidates: about 12% of requests have two candidates and 4% three
(earlier ones failed, skipped or pending, the last success, or failed when
the request failed); three requests have a failed candidate 0.4 s before local
midnight and a success 0.3 s after it, so they count as a fallback on neither
day. Users and keys: {n_inactive_users} users and {n_inactive_keys} keys are
inactive, 4 users never make a request, and one key belongs to no user.

## The bad rows in usage.csv

The csv source must set each of these aside (reject file, with its line and
reason) and keep every other row:

| line | why it is bad |
|---|---|
{bad_table}

## The edge gateway's log (edge-usage.jsonl)

JSON lines as LLM gateways write them: the time under `ts`, token counts
nested under `usage`, costs under `cost_usd` (some as bare numbers, some as
strings; both are read exactly), spread over the same days and users. The
demo (`scripts/run.sh`) reads it beside the CSV files:

```
jsonl "edge" {{
  path = "data/sample/edge-usage.jsonl"  stream = "usage"
  columns = {{{edge_columns}}}
}}
```

Its bad lines, which the jsonl source sets aside:

| line | why it is bad |
|---|---|
{edge_bad_table}

The figures below are those of `usage.csv` alone, without the edge feed.

## What tally should compute

From the good rows only. Closed days, then today (from 2026-11-22 00:00
local on; no fallback count, since today is not closed yet):

{expected}

Inventories: total_users {n_users}, active_users {active_users},
total_api_keys {n_keys}, active_api_keys {active_keys}.
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Write the sample data set.")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(here), "data", "sample"))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)

    rng = Rng(SEED)
    users, keys = make_people(rng)
    rows, fine = make_usage(rng, users, keys)

    # Three late rows: each written 40 rows (a few hours) after its time.
    order = list(range(len(rows)))
    for i in (1200, 2100, 2600):
        order.insert(i + 40, order.pop(i))
    # The bad rows go in at fixed places, spread through the file.
    bad_pos = [150 + k * 260 for k in range(11)]
    bad = bad_rows(rng, [rows[order[p]] for p in bad_pos])
    lines = [b",".join(h.encode() for h in USAGE_HEADER)]
    line_of = {}
    bad_at = {p: k for k, p in enumerate(bad_pos)}
    bad_lines = []
    for pos, i in enumerate(order):
        if pos in bad_at:
            lines.append(bad[bad_at[pos]][0])
            bad_lines.append((len(lines), bad[bad_at[pos]][1]))
        r = rows[i]
        lines.append(usage_line(r))
        line_of[i] = len(lines)
    with open(os.path.join(out, "usage.csv"), "wb") as f:
        f.write(b"\n".join(lines) + b"\n")

    cands, fallback = make_candidates(rng, rows)
    with open(os.path.join(out, "candidates.csv"), "w", newline="") as f:
        f.write("id,request_id,status,created_at\n")
        for cid, req, status, tc in cands:
            f.write(f"{cid},{req},{status},{stamp(tc, 'micro')}\n")
    with open(os.path.join(out, "users.csv"), "w", newline="") as f:
        f.write("id,is_active\n")
        for uid, active in users:
            f.write(f"{uid},{'true' if active else 'false'}\n")
    with open(os.path.join(out, "api_keys.csv"), "w", newline="") as f:
        f.write("id,user_id,is_active\n")
        for kid, uid, active in keys:
            f.write(f"{kid},{uid},{'true' if active else 'false'}\n")

    edge, edge_bad = make_edge(users, keys)
    with open(os.path.join(out, "edge-usage.jsonl"), "wb") as f:
        f.write(b"\n".join(edge) + b"\n")

    readme = README.format(
        n_edge=len(edge) - len(edge_bad), n_edge_bad=len(edge_bad), edge_columns=EDGE_COLUMNS,
        edge_bad_table="\n".join(f"| {ln} | {why} |" for ln, why in edge_bad),
        n_usage=len(rows), n_bad=len(bad), n_cand=len(cands), n_users=len(users), n_keys=len(keys),
        n_callers=USERS, n_models=len(MODELS), n_providers=len({m[1] for m in MODELS}),
        l_mid=line_of[fine["midnight"]], l_before=line_of[fine["before"]], l_mid2=line_of[fine["offset"]],
        l_quoted=line_of[fine["quoted"]], l_nomodel=line_of[fine["nomodel"]],
        late=", ".join(str(line_of[i]) for i in (1200, 2100, 2600)),
        n_inactive_users=sum(1 for _, a in users if not a), n_inactive_keys=sum(1 for *_, a in keys if not a),
        bad_table="\n".join(f"| {ln} | {why} |" for ln, why in bad_lines),
        expected=expected(rows, fallback),
        active_users=sum(1 for _, a in users if a), active_keys=sum(1 for *_, a in keys if a),
    )
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme)
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"gen_sample: {len(rows)} good and {len(bad)} bad usage rows, {len(cands)} candidates, "
          f"{len(users)} users, {len(keys)} keys; {total} bytes in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
