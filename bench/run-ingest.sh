#!/usr/bin/env bash
# run-ingest.sh — tallyd's csv source and daily collector ingesting a large
# usage CSV, beside the read floor and DuckDB, in one run.
#
#   bench/run-ingest.sh [--rounds N] [--rows N[,N...]] [--seed S] [--build DIR] [--quick]
#
# For each size (default 1,000,000 and 10,000,000 rows) the file is made
# once by gen_usage and cached under $TMPDIR/tally-bench-ingest, keyed by
# rows, seed and the generator's source. Then N rounds (default 5) each run,
# every run after reading the file once untimed (cat > /dev/null), so all
# three read it from the page cache:
#   floor   read_floor: read() in 1 MiB blocks, count newlines with memchr
#   tally   tallyd --once, csv "usage" -> daily "stats" -> file "json",
#           a fresh state dir every run
#   DuckDB  duckdb_agg.mjs: read_csv with every column typed, the same day
#           and user-day figures, every row fetched; its default threads
# The order of the three rotates from round to round. Wall time and peak
# RSS of each process come from GNU time. After the first round the JSON
# tally wrote is checked against DuckDB's figures: every closed day and
# user-day present in both, request counts, token sums and distinct counts
# exact, costs and the mean response time within 1e-9 relative, and the
# days contiguous up to yesterday. A mismatch fails the run.
#
# The table of medians goes to stdout and to bench/out/ingest.txt, every
# run's figures to bench/out/ingest.runs.tsv (not with --quick).
#   --build DIR  use an existing build tree as it is (nothing is built);
#                default: build-bench/ (Release), configured and built here
#   --quick      100,000 rows, one round, nothing written to bench/out: the
#                ctest smoke (bench_ingest_smoke); exits 77 (skipped)
#                without node and npm
# Timings are reported, never asserted: the exit status only says whether
# the runs worked and the results agree.
set -euo pipefail
export LC_ALL=C

rounds=5
sizes="1000000,10000000"
seed=1
build=""
quick=0
duckdb_version="1.5.6-r.1" # @duckdb/node-api, pinned so runs compare
tz="Asia/Shanghai"
now="2026-11-22T03:00:00Z" # 11:00 local on 2026-11-22: every generated day is closed
days=30
end_day="2026-11-21"

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --rows) sizes=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-ingest.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$quick" = 1 ]; then
    sizes=100000
    rounds=1
fi
case "$rounds" in '' | *[!0-9]* | 0) echo "run-ingest.sh: --rounds needs a number >= 1" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "run-ingest.sh: --seed needs a number" >&2; exit 2 ;; esac
IFS=, read -r -a size_list <<<"$sizes"
for n in "${size_list[@]}"; do
    case "$n" in '' | *[!0-9]* | 0) echo "run-ingest.sh: --rows takes numbers >= 1, comma-separated" >&2; exit 2 ;; esac
done

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
outdir="$here/out"
say() { printf 'run-ingest: %s\n' "$*" >&2; }
die() { printf 'run-ingest.sh: %s\n' "$*" >&2; exit 1; }
. "$here/bench_lib.sh"

# --- tools -------------------------------------------------------------------
[ -x /usr/bin/time ] || die "/usr/bin/time missing: install Debian's time package (scripts/deps.sh)"
command -v python3 >/dev/null || die "python3 missing (scripts/deps.sh)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$quick" = 1 ]; then
        echo "run-ingest.sh: SKIP: node and npm are needed for the DuckDB peer" >&2
        exit 77
    fi
    die "node and npm are needed for the DuckDB peer (Debian: nodejs, npm)"
fi

# --- build -------------------------------------------------------------------
build=$(bench_build "$build" gen_usage read_floor tallyd plugin_csv plugin_daily plugin_file)
gen="$build/bench/gen_usage"
floor="$build/bench/read_floor"
tallyd="$build/agent/tallyd"
plugin_dir="$build/lib/tally"
for f in "$gen" "$floor" "$tallyd"; do
    [ -x "$f" ] || die "$f was not built"
done
for p in csv daily file; do
    [ -f "$plugin_dir/$p.so" ] || die "$plugin_dir/$p.so was not built"
done

# --- scratch: the cached data files, DuckDB's package, this run's files -----
tmp=${TMPDIR:-/tmp}
cache="$tmp/tally-bench-ingest"
duck="$tmp/tally-bench-duckdb"
mkdir -p "$cache" "$duck"
bench_scratch tally-ingest

installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
    "$duck/node_modules/@duckdb/node-api/package.json" 2>/dev/null | head -n 1 || true)
if [ "$installed" != "$duckdb_version" ]; then
    say "installing @duckdb/node-api@$duckdb_version into $duck"
    (
        flock 9
        npm install --prefix "$duck" --no-audit --no-fund --loglevel=error \
            "@duckdb/node-api@$duckdb_version" >"$work/npm.log" 2>&1 ||
            { cat "$work/npm.log" >&2; exit 1; }
    ) 9>"$duck/.lock" || die "npm install of @duckdb/node-api@$duckdb_version failed"
fi

# gen_usage writes the file once per rows, seed and generator source.
data_file() {
    bench_cached_csv "$gen" "$cache" "usage-$1-s$seed" --rows "$1" --seed "$seed" --days "$days" --end "$end_day"
}

# --- one measured run ------------------------------------------------------
# measure NAME CMD...: bench_measure after reading the data file once,
# untimed, so every run finds it in the page cache.
measure() {
    cat "$file" >/dev/null
    bench_measure "$@"
}

run_floor() { # N ROUND
    measure "floor-$1-$2" "$floor" "$file"
    read -r f_bytes f_lines _ < <(tr ' ' '\n' <"$work/floor-$1-$2.out" | cut -d= -f2 | paste -sd' ')
    [ "$f_bytes" -eq "$(stat -c %s "$file")" ] || die "read_floor read $f_bytes bytes of $file, not all"
    [ "$f_lines" -eq $(($1 + 1)) ] || die "read_floor counted $f_lines lines in $file, expected $(($1 + 1))"
    printf '%s\tfloor\t%s\t%s\t%s\t-\t-\t%s\n' "$1" "$2" "$m_wall" "$m_rss" "$m_cpu" >>"$runs"
}

run_tally() { # N ROUND
    local d="$work/tally-$1-$2"
    mkdir -p "$d/state"
    cat >"$d/tallyd.conf" <<EOF
timezone = "$tz"
state_dir = "$d/state"
plugin_dir = "$plugin_dir"
csv "usage" { path = "$file" stream = "usage" }
daily "stats" { keep_days = 400 }
file "json" { path = "$d/summary.json" format = "json" }
EOF
    measure "tally-$1-$2" "$tallyd" -c "$d/tallyd.conf" --once --now "$now"
    [ -s "$d/summary.json" ] || die "tallyd wrote no $d/summary.json (log: $work/tally-$1-$2.err)"
    printf '%s\ttally\t%s\t%s\t%s\t-\t-\t%s\n' "$1" "$2" "$m_wall" "$m_rss" "$m_cpu" >>"$runs"
    # Keep the first round's summary for the check; the state can go.
    rm -rf "$d/state"
    [ "$2" -eq 1 ] || rm -rf "$d"
}

run_duckdb() { # N ROUND
    measure "duckdb-$1-$2" node "$here/duckdb_agg.mjs" --modules "$duck" --csv "$file" --tz "$tz" \
        --out "$work/duckdb-$1-$2.json"
    local line q th
    line=$(tail -n 1 "$work/duckdb-$1-$2.out")
    q=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
    th=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["threads"])')
    duck_version=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
    printf '%s\tduckdb\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$m_wall" "$m_rss" "$q" "$th" "$m_cpu" >>"$runs"
    [ "$2" -eq 1 ] || rm -f "$work/duckdb-$1-$2.json"
}

# --- the check: tally's JSON against DuckDB's figures -----------------------
check_agreement() { # N -> prints one line, fails on a mismatch
    python3 - "$work/tally-$1-1/summary.json" "$work/duckdb-$1-1.json" "$tz" "$now" "$days" <<'PY'
import datetime, json, sys, zoneinfo

tally_path, duck_path, tz, now, want_days = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
tally = json.load(open(tally_path))
duck = json.load(open(duck_path))
today = (datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))
         .astimezone(zoneinfo.ZoneInfo(tz)).date().isoformat())
problems = []

def close(a, b):
    a, b = float(a), float(b)
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) or abs(a - b) < 1e-12

exact = ["total_requests", "success_requests", "error_requests", "input_tokens", "output_tokens",
         "cache_creation_tokens", "cache_read_tokens"]
day_exact = exact + ["unique_models", "unique_providers"]
day_close = ["total_cost", "actual_total_cost", "input_cost", "output_cost", "cache_creation_cost",
             "cache_read_cost", "avg_response_time_ms"]

def compare(what, t, d, ints, reals):
    for k in ints:
        if k not in t:
            problems.append(f"{what}: tally has no {k}")
        elif int(t[k]) != int(d[k]):
            problems.append(f"{what} {k}: tally {t[k]} duckdb {d[k]}")
    for k in reals:
        if k not in t:
            problems.append(f"{what}: tally has no {k}")
        elif not close(t[k], d[k]):
            problems.append(f"{what} {k}: tally {t[k]!r} duckdb {d[k]}")

# Days: DuckDB's closed days must all be in tally's JSON with the same
# figures; tally's other days (gaps) must be all zero.
t_days = {d["date"]: d for d in tally.get("days", [])}
d_days = {d["date"]: d for d in duck["days"] if d["date"] < today}
for date, d in sorted(d_days.items()):
    if date not in t_days:
        problems.append(f"day {date}: missing in tally's JSON")
    else:
        compare(f"day {date}", t_days[date], d, day_exact, day_close)
for date, t in t_days.items():
    if date not in d_days and any(t.get(k) for k in exact):
        problems.append(f"day {date}: tally counts rows DuckDB has none for")
dates = sorted(t_days)
if len(dates) != want_days:
    problems.append(f"tally's JSON has {len(dates)} days, expected {want_days}")
if dates:
    first = datetime.date.fromisoformat(dates[0])
    expect = [(first + datetime.timedelta(days=i)).isoformat() for i in range(len(dates))]
    if dates != expect:
        problems.append("tally's days are not contiguous")
    if dates[-1] != (datetime.date.fromisoformat(today) - datetime.timedelta(days=1)).isoformat():
        problems.append(f"tally's last day is {dates[-1]}, not the day before {today}")

t_users = {(u["date"], u["user_id"]): u for u in tally.get("user_days", [])}
d_users = {(u["date"], u["user_id"]): u for u in duck["user_days"] if u["date"] < today}
for key, d in d_users.items():
    if key not in t_users:
        problems.append(f"user-day {key}: missing in tally's JSON")
    else:
        compare(f"user-day {key}", t_users[key], d, exact, ["total_cost"])
for key in t_users:
    if key not in d_users:
        problems.append(f"user-day {key}: in tally's JSON only")

if problems:
    print(f"agreement: DISAGREE, {len(problems)} differences; the first:")
    for p in problems[:15]:
        print("  " + p)
    sys.exit(1)
print(f"agreement: AGREE on {len(d_days)} days and {len(d_users)} user-days "
      "(requests, tokens, distinct counts exact; costs and mean response time within 1e-9)")
PY
}

# --- the table ------------------------------------------------------------
# median_of N KIND COLUMN (4 wall, 5 rss, 6 duckdb query seconds, 8 cpu)
median_of() {
    awk -F'\t' -v n="$1" -v k="$2" -v c="$3" '$1 == n && $2 == k { print $c }' "$runs" | bench_median
}

report() { # N FILE
    local n=$1 bytes
    bytes=$(stat -c %s "$2")
    local fw fr fc tw tr tc dw dr dc dq dth
    read -r fw fw_min fw_max < <(median_of "$n" floor 4)
    read -r fr _ _ < <(median_of "$n" floor 5)
    read -r fc _ _ < <(median_of "$n" floor 8)
    read -r tw tw_min tw_max < <(median_of "$n" tally 4)
    read -r tr _ _ < <(median_of "$n" tally 5)
    read -r tc _ _ < <(median_of "$n" tally 8)
    read -r dw dw_min dw_max < <(median_of "$n" duckdb 4)
    read -r dr _ _ < <(median_of "$n" duckdb 5)
    read -r dc _ _ < <(median_of "$n" duckdb 8)
    read -r dq dq_min dq_max < <(median_of "$n" duckdb 6)
    dth=$(awk -F'\t' -v n="$n" '$1 == n && $2 == "duckdb" { print $7; exit }' "$runs")
    awk -v n="$n" -v bytes="$bytes" -v r="$rounds" -v th="$dth" \
        -v fw="$fw" -v fw0="$fw_min" -v fw1="$fw_max" -v fr="$fr" -v fc="$fc" \
        -v tw="$tw" -v tw0="$tw_min" -v tw1="$tw_max" -v tr="$tr" -v tc="$tc" \
        -v dw="$dw" -v dw0="$dw_min" -v dw1="$dw_max" -v dr="$dr" -v dc="$dc" \
        -v dq="$dq" -v dq0="$dq_min" -v dq1="$dq_max" '
    function row(name, s, s0, s1, cpu, rss) {
        printf "%-34s %8.3f %8.3f %8.3f %7s %12.0f %9.1f %8s\n", name, s, s0, s1,
            cpu == "" ? "-" : sprintf("%.2f", cpu), n / s, bytes / s / 1e6,
            rss == "" ? "-" : sprintf("%.1f", rss / 1024)
    }
    function target(name, v, shown, goal, ok) {
        printf "%-34s %10s  %-12s %s\n", name, shown, goal, ok ? "PASS" : "MISS"
    }
    BEGIN {
        printf "%d rows, %.1f MB, file in the page cache; %d round%s, medians\n", n, bytes / 1e6, r, (r > 1 ? "s" : "")
        printf "%-34s %8s %8s %8s %7s %12s %9s %8s\n", "run", "wall s", "min", "max", "CPU s", "rows/s", "MB/s", "RSS MiB"
        row("floor: read() + memchr", fw, fw0, fw1, fc, fr)
        row("tallyd --once (csv, daily, json)", tw, tw0, tw1, tc, tr)
        row(sprintf("DuckDB query, %d threads", th), dq, dq0, dq1, "", "")
        row(sprintf("DuckDB process (node), %d thr.", th), dw, dw0, dw1, dc, dr)
        print ""
        thr = dq / tw
        target("tally / DuckDB throughput", thr, sprintf("%.2fx", thr), ">= 2x", thr >= 2)
        rss = tr / dr
        target("tally RSS / DuckDB RSS", rss, sprintf("1/%.1f", dr / tr), "<= 1/8", rss <= 1 / 8)
        ft = tw / fw
        target("tally time / floor time", ft, sprintf("%.2fx", ft), "<= 3x", ft <= 3)
        printf "(throughput against DuckDB query time; against its whole process: %.2fx;\n", dw / tw
        printf " CPU time, all threads, median: DuckDB process / tally %.2fx)\n", dc / tc
    }'
}

# --- the run ----------------------------------------------------------------
runs="$work/runs.tsv"
: >"$runs"
table="$work/table.txt"
duck_version="?"
{
    echo "ingest: tallyd beside the read floor and DuckDB"
    bench_machine
    echo "tally: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown), build $build" \
        "($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true))"
    echo "config: timezone $tz, --now $now; data: gen_usage --seed $seed --days $days --end $end_day"
} >"$table"

status=0
for n in "${size_list[@]}"; do
    file=$(data_file "$n")
    kinds=(floor tally duckdb)
    for r in $(seq 1 "$rounds"); do
        say "$n rows, round $r of $rounds"
        for i in 0 1 2; do
            k=${kinds[$(((r - 1 + i) % 3))]}
            "run_$k" "$n" "$r"
        done
        if [ "$r" -eq 1 ]; then
            check_agreement "$n" >"$work/check-$n.txt" || status=1
            cat "$work/check-$n.txt" >&2
        fi
    done
    {
        echo
        report "$n" "$file"
        cat "$work/check-$n.txt"
    } >>"$table"
done
sed -i "1a duckdb: @duckdb/node-api $duckdb_version (DuckDB $duck_version), default threads" "$table"

cat "$table"
if [ "$quick" = 0 ]; then
    mkdir -p "$outdir"
    cp "$table" "$outdir/ingest.txt"
    { printf 'rows\trun\tround\twall_s\trss_kib\tduckdb_query_s\tduckdb_threads\tcpu_s\n'; cat "$runs"; } >"$outdir/ingest.runs.tsv"
fi
exit "$status"
