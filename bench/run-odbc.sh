#!/usr/bin/env bash
# run-odbc.sh — tallyd's odbc source reading usage rows from PostgreSQL into
# the daily aggregates, beside the floor: psql copying the same rows out, in
# the same run.
#
#   bench/run-odbc.sh [--rows N] [--rounds N] [--batch N] [--seed S] [--build DIR] [--quick]
#
# A throwaway PostgreSQL (tests/pg_test.sh: initdb in a temporary
# directory, 127.0.0.1, a free port, stopped by its pid file at the end)
# gets N rows (default 1,000,000) of gen_usage's data in a typed table
# (uuid, timestamptz, numeric, bigint, double precision) with an index on
# (created_at, id), then VACUUM ANALYZE. Each round (default 5) runs, in
# an order that rotates:
#   floor   psql -c "\copy (SELECT <the 20 columns> FROM usage) TO '/dev/null'":
#           the server reads every row and sends it as text, the client
#           parses the protocol and drops it
#   tally   tallyd --once with odbc "usage" (batch_rows --batch, default
#           10000) -> daily "stats" -> file "json", a fresh state each run
# Wall time comes from nanosecond clocks around each process; CPU time
# (user + system) of the client process from GNU time (the server's
# is the same work for both and not counted). After the first round the
# JSON's totals are checked against SQL over the same table: rows, error
# rows, token sums and the cost sum. A mismatch fails the run.
#
# The table of medians goes to stdout and bench/out/odbc.txt (not with
# --quick); --quick is 20,000 rows and one round, the ctest smoke
# (bench_odbc_smoke). Timings are reported, never asserted.
#   --build DIR  an existing build tree, used as it is; default build-bench/
#                (Release), configured and built here
set -euo pipefail
export LC_ALL=C

rows=1000000
rounds=5
batch=10000
seed=1
build=""
quick=0
tz="Asia/Shanghai"
now="2026-11-22T03:00:00Z"
days=30
end_day="2026-11-21"

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --batch) batch=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-odbc.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$quick" = 1 ]; then
    rows=20000
    rounds=1
fi
for v in "$rows" "$rounds" "$batch" "$seed"; do
    case "$v" in '' | *[!0-9]*) echo "run-odbc.sh: numbers only, please ($v)" >&2; exit 2 ;; esac
done

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
say() { printf 'run-odbc: %s\n' "$*" >&2; }
die() { printf 'run-odbc.sh: %s\n' "$*" >&2; exit 1; }
. "$here/bench_lib.sh"

[ -x /usr/bin/time ] || die "/usr/bin/time missing: install Debian's time package (scripts/deps.sh)"
command -v python3 >/dev/null || die "python3 missing (scripts/deps.sh)"
driver=""
for d in /usr/lib/"$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"/odbc /usr/lib/odbc /usr/lib64/odbc; do
    [ -f "$d/psqlodbcw.so" ] && { driver="$d/psqlodbcw.so"; break; }
done
[ -n "$driver" ] || die "the PostgreSQL ODBC driver (psqlodbcw.so) is missing: run scripts/deps.sh"

# --- build -----------------------------------------------------------------------
build=$(bench_build "$build" gen_usage tallyd plugin_odbc plugin_daily plugin_file)
gen="$build/bench/gen_usage"
tallyd="$build/agent/tallyd"
plugin_dir="$build/lib/tally"
for f in "$gen" "$tallyd" "$plugin_dir/odbc.so" "$plugin_dir/daily.so" "$plugin_dir/file.so"; do
    [ -e "$f" ] || die "$f was not built"
done

# --- the server and its table --------------------------------------------------------
tmp=${TMPDIR:-/tmp}
work=$(mktemp -d "$tmp/tally-odbc-bench.XXXXXX")
pgdir=$(mktemp -d "$tmp/tally-odbc-pg.XXXXXX")
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bash "$repo/tests/pg_test.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$work" "$pgdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting PostgreSQL in $pgdir"
port=$(bash "$repo/tests/pg_test.sh" start "$pgdir")
psql_() { bash "$repo/tests/pg_test.sh" psql "$pgdir" "$@"; }
pg_version=$(psql_ -At -c "SHOW server_version")
say "generating $rows rows and loading them"
"$gen" --rows "$rows" --seed "$seed" --days "$days" --end "$end_day" --out "$work/usage.csv" >&2
cols="id, request_id, created_at, user_id, api_key_id, provider, model, status_code, error_message, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, input_cost_usd, output_cost_usd, cache_creation_cost_usd, cache_read_cost_usd, total_cost_usd, actual_total_cost_usd, response_time_ms"
psql_ <<SQL
SET client_min_messages TO warning;
CREATE TABLE usage (id uuid PRIMARY KEY, request_id uuid, created_at timestamptz NOT NULL,
  user_id uuid, api_key_id uuid, provider text, model text, status_code integer,
  error_message text, input_tokens bigint, output_tokens bigint, cache_creation_input_tokens bigint,
  cache_read_input_tokens bigint, input_cost_usd numeric(20,10), output_cost_usd numeric(20,10),
  cache_creation_cost_usd numeric(20,10), cache_read_cost_usd numeric(20,10),
  total_cost_usd numeric(20,10), actual_total_cost_usd numeric(20,10),
  response_time_ms double precision);
\copy usage FROM '$work/usage.csv' CSV HEADER
CREATE INDEX usage_keyset ON usage (created_at, id);
VACUUM ANALYZE usage;
SQL
rm -f "$work/usage.csv"
conn="DRIVER=$driver;Server=127.0.0.1;Port=$port;Database=postgres;UID=tally"

# --- one measured run ------------------------------------------------------------

runs="$work/runs.tsv"
: >"$runs"
run_floor() { # ROUND
    bench_measure "floor-$1" bash "$repo/tests/pg_test.sh" psql "$pgdir" -c "\\copy (SELECT $cols FROM usage) TO '/dev/null'"
    printf 'floor\t%s\t%s\t%s\t%s\n' "$1" "$m_wall" "$m_cpu" "$m_rss" >>"$runs"
}
run_tally() { # ROUND
    local d="$work/tally-$1"
    mkdir -p "$d/state"
    cat >"$d/tallyd.conf" <<EOF2
timezone = "$tz"
state_dir = "$d/state"
plugin_dir = "$plugin_dir"
odbc "usage" { connection = "$conn" password_file = "$pgdir/password" stream = "usage" batch_rows = $batch }
daily "stats" { keep_days = 400 }
file "json" { path = "$d/summary.json" format = "json" }
EOF2
    bench_measure "tally-$1" "$tallyd" -c "$d/tallyd.conf" --once --now "$now"
    [ -s "$d/summary.json" ] || die "tallyd wrote no summary (log: $work/tally-$1.err)"
    printf 'tally\t%s\t%s\t%s\t%s\n' "$1" "$m_wall" "$m_cpu" "$m_rss" >>"$runs"
    rm -rf "$d/state"
}

check() { # the first round's JSON against SQL over the table
    local sqlsum
    sqlsum=$(psql_ -At -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE status_code >= 400 OR error_message IS NOT NULL), sum(coalesce(input_tokens, 0)), sum(coalesce(output_tokens, 0)), sum(coalesce(total_cost_usd, 0)) FROM usage")
    python3 - "$work/tally-1/summary.json" "$sqlsum" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
n, err, inp, outp, cost = sys.argv[2].split()
days, today = s["days"], s["today"]
got = [sum(d["total_requests"] for d in days) + today["total_requests"],
       sum(d["error_requests"] for d in days) + today["error_requests"],
       sum(d["input_tokens"] for d in days) + today["input_tokens"],
       sum(d["output_tokens"] for d in days) + today["output_tokens"]]
want = [int(n), int(err), int(inp), int(outp)]
c = sum(d["total_cost"] for d in days) + today["total_cost"]
ok = got == want and abs(c - float(cost)) <= 1e-9 * abs(float(cost))
print(("agreement: AGREE" if ok else "agreement: DISAGREE") +
      f" with SQL over the table: {want[0]} rows, {want[1]} errors, {want[2]} input and {want[3]} output tokens, cost {cost}" +
      ("" if ok else f"; tally: {got}, cost {c}"))
sys.exit(0 if ok else 1)
PY
}

status=0
for r in $(seq 1 "$rounds"); do
    say "round $r of $rounds"
    if [ $((r % 2)) -eq 1 ]; then run_floor "$r"; run_tally "$r"; else run_tally "$r"; run_floor "$r"; fi
    if [ "$r" -eq 1 ]; then check >"$work/check.txt" || status=1; cat "$work/check.txt" >&2; fi
done

table="$work/table.txt"
{
    echo "odbc: tallyd's odbc source from PostgreSQL beside psql \\copy"
    bench_machine
    echo "tally: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown), build $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true))"
    echo "PostgreSQL $pg_version on 127.0.0.1 (same machine), psqlODBC $(basename "$driver"); batch_rows $batch"
    echo "data: gen_usage --rows $rows --seed $seed --days $days --end $end_day, typed table, index on (created_at, id)"
    echo
    python3 - "$runs" "$rows" "$rounds" <<'PY'
import statistics, sys
runs, rows, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
by = {}
for line in open(runs):
    kind, _, wall, cpu, rss = line.split("\t")
    by.setdefault(kind, []).append((float(wall), float(cpu), float(rss)))
print(f"{rows} rows, {rounds} rounds, medians")
print(f"{'run':44} {'wall s':>8} {'min':>8} {'max':>8} {'CPU s':>7} {'rows/s':>11} {'RSS MiB':>8}")
med = {}
for kind, label in (("floor", "floor: psql \\copy (SELECT ...) TO /dev/null"), ("tally", "tallyd --once (odbc, daily, json)")):
    w = [r[0] for r in by[kind]]
    m = statistics.median(w)
    med[kind] = m
    print(f"{label:44} {m:8.3f} {min(w):8.3f} {max(w):8.3f} {statistics.median(r[1] for r in by[kind]):7.2f} "
          f"{rows / m:11.0f} {statistics.median(r[2] for r in by[kind]) / 1024:8.1f}")
ratio = med["tally"] / med["floor"]
print(f"\n{'tally time / floor time':40} {ratio:7.2f}x  {'<= 1.5x':10} {'PASS' if ratio <= 1.5 else 'MISS'}")
PY
    cat "$work/check.txt"
} >"$table"
cat "$table"
if [ "$quick" = 0 ]; then
    mkdir -p "$here/out"
    cp "$table" "$here/out/odbc.txt"
    { printf 'run\tround\twall_s\tcpu_s\trss_kib\n'; cat "$runs"; } >"$here/out/odbc.runs.tsv"
fi
exit "$status"
