#!/usr/bin/env bash
# run-cycle.sh — what one tallyd cycle costs with weeks to a year of usage
# already in the state (issue 12), optionally beside an older build.
#
#   bench/run-cycle.sh [--rounds N] [--days N[,N...]] [--users N] [--seed S]
#                      [--build DIR] [--base DIR] [--layout split|single] [--quick]
#
# For each size (default 30, 90 and 365 days of 1,000 users a day, 8,219
# rows a day: 3M rows at 365 days) gen_usage writes the usage CSV once,
# cached under $TMPDIR/tally-bench-cycle with 100 more rows of today by the
# same users. Each build tree then builds its own state from that CSV with
# one untimed tallyd --once (csv -> daily -> file json + file prometheus),
# and N rounds (default 5) each measure, for every tree:
#   nothing   tallyd --once with nothing new in the CSV
#   100 rows  tallyd --once after the 100 rows are appended to the CSV
# Every run starts from a copy of the prepared state and outputs (copying
# is untimed); the 100 rows are cut off again after the run. The order of
# the runs (every size, tree and cycle) rotates from round to round. CPU (user + system), wall time and
# peak RSS come from wait4 (bench_rusage, CPU to the microsecond); the table shows medians, min and max, and
# with --base the ratio this / base. Each run's Prometheus file is checked:
# all rows counted, and today holds exactly the 100 new rows (or none).
#
# The table goes to stdout and bench/out/cycle.txt, every run's figures to
# bench/out/cycle.runs.tsv (not with --quick).
#   --build DIR  the build tree to measure, used as it is (nothing built);
#                default: build-bench/ (Release), configured and built here
#   --base DIR   a second build tree (say, of an older commit), used as it
#                is and measured interleaved with --build on the same CSV
#   --layout L   the JSON file exporter's layout in --build's config:
#                split (default; a file per closed day, written when it
#                changes) or single (one document, rewritten whenever
#                anything in it changes). --base's config names no layout
#                (trees before issue 12 have one document only).
#   --quick      3 days of 50 users, one round, nothing written to
#                bench/out: the ctest smoke (bench_cycle_smoke)
# Targets (issue 12) are printed with PASS or MISS, never asserted: the
# exit status only says whether the runs worked and counted right.
set -euo pipefail
export LC_ALL=C

rounds=5
sizes="30,90,365"
users=1000
seed=1
build=""
base=""
quick=0
layout=split
tz="Asia/Shanghai"
# 23:59:59 local on 2026-11-22: the generated days are closed, and the new
# rows (all of 2026-11-22 local) are today's.
now="2026-11-22T15:59:59Z"
end_day="2026-11-21"
today="2026-11-22"
new_rows=100
per_user_day=8219 # rows a day per 1,000 users: 3M rows in 365 days

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --days) sizes=${2:?}; shift 2 ;;
    --users) users=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --base) base=${2:?}; shift 2 ;;
    --layout) layout=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-cycle.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$layout" in split | single) ;; *) echo "run-cycle.sh: --layout is split or single" >&2; exit 2 ;; esac
if [ "$quick" = 1 ]; then
    sizes=3
    users=50
    rounds=1
fi
case "$rounds" in '' | *[!0-9]* | 0) echo "run-cycle.sh: --rounds needs a number >= 1" >&2; exit 2 ;; esac
case "$users" in '' | *[!0-9]* | 0) echo "run-cycle.sh: --users needs a number >= 1" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "run-cycle.sh: --seed needs a number" >&2; exit 2 ;; esac
IFS=, read -r -a size_list <<<"$sizes"
for n in "${size_list[@]}"; do
    case "$n" in '' | *[!0-9]* | 0) echo "run-cycle.sh: --days takes numbers >= 1, comma-separated" >&2; exit 2 ;; esac
done

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
outdir="$here/out"
say() { printf 'run-cycle: %s\n' "$*" >&2; }
die() { printf 'run-cycle.sh: %s\n' "$*" >&2; exit 1; }
. "$here/bench_lib.sh"

# --- tools and trees ---------------------------------------------------------
targets="gen_usage bench_rusage tallyd plugin_csv plugin_daily plugin_file"
# shellcheck disable=SC2086 # the targets are words
build=$(bench_build "$build" $targets)
trees=(this)
dirs=("$build")
if [ -n "$base" ]; then
    [ -d "$base" ] || die "--base $base: no such build tree"
    trees+=(base)
    dirs+=("$(CDPATH='' cd -- "$base" && pwd)")
fi
gen="$build/bench/gen_usage"
export BENCH_RUSAGE="$build/bench/bench_rusage"
[ -x "$BENCH_RUSAGE" ] || die "$BENCH_RUSAGE was not built"
[ -x "$gen" ] || die "$gen was not built"
for d in "${dirs[@]}"; do
    [ -x "$d/agent/tallyd" ] || die "$d/agent/tallyd missing: build tallyd in that tree"
    for p in csv daily file; do
        [ -f "$d/lib/tally/$p.so" ] || die "$d/lib/tally/$p.so missing: build plugin_$p in that tree"
    done
done

# The commit a build tree was made from: its source tree's, as it is now.
tree_commit() {
    local src
    src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt" 2>/dev/null || true)
    git -C "${src:-$repo}" describe --always --dirty 2>/dev/null || echo unknown
}

# --- scratch: the cached CSVs, this run's files -----------------------------
tmp=${TMPDIR:-/tmp}
cache="$tmp/tally-bench-cycle"
mkdir -p "$cache"
bench_scratch tally-cycle

# cached NAME GEN-ARGS...: the cached gen_usage file NAME.
cached() {
    bench_cached_csv "$gen" "$cache" "$@"
}

# --- the prepared state of one tree -----------------------------------------
# Every run of tree T at D days works in $work/run-T-D with the same
# config, so a copy of $work/prep-T-D is the state and outputs exactly as
# the preparation left them. Each size has one CSV ($work/usage-D.csv) for
# every tree: the state knows it by device and inode. Every size stays
# prepared until the end, so the rounds interleave sizes as well as trees
# and a change in the machine's load falls on all of them alike.
csv_of() { echo "$work/usage-$1.csv"; }
declare -A csv_bytes rows_of
write_conf() { # TREE DIR DAYS
    local d="$work/run-$1-$3" json
    mkdir -p "$d/state"
    if [ "$1" = base ]; then
        json="path = \"$d/summary.json\" format = \"json\""
    elif [ "$layout" = split ]; then
        json="path = \"$d/split\" format = \"json\" layout = \"split\""
    else
        json="path = \"$d/summary.json\" format = \"json\" layout = \"single\""
    fi
    cat >"$d/tallyd.conf" <<EOF
timezone = "$tz"
state_dir = "$d/state"
plugin_dir = "$2/lib/tally"
csv "usage" { path = "$(csv_of "$3")" stream = "usage" }
daily "stats" { keep_days = 400 }
file "json" { $json }
file "prom" { path = "$d/summary.prom" format = "prometheus" }
EOF
}

# prom_sum FILE METRIC: the sum of a metric's samples in a Prometheus file.
# json_stats TREE DAYS: the user-days the JSON output lists, and its bytes.
json_stats() {
    local d="$work/run-$1-$2"
    if [ -d "$d/split" ]; then
        cat "$d/split/days/"*.json 2>/dev/null | grep -c '"user_id"' || true
        du -sb "$d/split" | cut -f1
    else
        grep -c '"user_id"' "$d/summary.json" || true
        stat -c %s "$d/summary.json"
    fi
}

prom_sum() {
    awk -v m="$2" '$1 ~ "^" m "[{ ]" || $1 == m { s += $2 } END { printf "%d\n", s }' "$1"
}

# check_counts TREE DAYS NAME TOTAL TODAY: the run's Prometheus file counts
# TOTAL rows in all, TODAY of them today.
check_counts() {
    local p="$work/run-$1-$2/summary.prom" got_total got_today
    [ -s "$p" ] || die "$3: tallyd wrote no $p (log: $work/$3.err)"
    got_total=$(prom_sum "$p" tally_requests_total)
    got_today=$(prom_sum "$p" tally_today_requests)
    if [ "$got_total" -ne "$4" ] || [ "$got_today" -ne "$5" ]; then
        die "$3: $p counts $got_total rows ($got_today today), expected $4 ($5 today); log: $work/$3.err"
    fi
}

prepare() { # TREE DIR DAYS
    local t=$1 d=$3 name="prep-$1-$3"
    rm -rf "$work/run-$t-$d" "$work/prep-$t-$d"
    write_conf "$t" "$2" "$d"
    bench_measure "$name" "$2/agent/tallyd" -c "$work/run-$t-$d/tallyd.conf" --once --now "$now"
    check_counts "$t" "$d" "$name" "${rows_of[$d]}" 0
    local ud db json
    { read -r ud; read -r json; } < <(json_stats "$t" "$d")
    db=$(du -sk "$work/run-$t-$d/state" | cut -f1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$3" "$t" "$ud" "$db" "$json" "$m_wall" "$m_rss" >>"$preps"
    say "$t, $3 days: state built in ${m_wall} s ($ud user-days, state $((db / 1024)) MiB, JSON $((json / 1048576)) MiB)"
    mv "$work/run-$t-$d" "$work/prep-$t-$d"
}

# --- one measured run ---------------------------------------------------------
run_cycle() { # TREE DIR DAYS KIND ROUND
    local t=$1 d=$3 name="$1-$3-$4-$5" csv
    csv=$(csv_of "$d")
    rm -rf "$work/run-$t-$d"
    cp -a "$work/prep-$t-$d" "$work/run-$t-$d"
    # Untimed: the copy's pages are dirty in the page cache, and the
    # cycle's first fsync of the state would otherwise write back the
    # whole copied database (51 MiB at 365 days) on the agent's account,
    # a cost no running agent pays: its state is not a fresh copy.
    sync -f "$work/run-$t-$d/state"
    if [ "$4" = rows ]; then
        cat "$new" >>"$csv"
        bench_measure "$name" "$2/agent/tallyd" -c "$work/run-$t-$d/tallyd.conf" --once --now "$now"
        truncate -s "${csv_bytes[$d]}" "$csv"
        check_counts "$t" "$d" "$name" $((${rows_of[$d]} + new_rows)) "$new_rows"
    else
        bench_measure "$name" "$2/agent/tallyd" -c "$work/run-$t-$d/tallyd.conf" --once --now "$now"
        check_counts "$t" "$d" "$name" "${rows_of[$d]}" 0
    fi
    rm -rf "$work/run-$t-$d"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$3" "$t" "$4" "$5" "$m_cpu" "$m_wall" "$m_rss" >>"$runs"
    rm -f "$work/$name.out" "$work/$name.err" "$work/$name.time"
}

# --- the table ------------------------------------------------------------------
# stat_of DAYS TREE KIND COLUMN (5 cpu s, 6 wall s, 7 rss KiB): median min max
stat_of() {
    awk -F'\t' -v d="$1" -v t="$2" -v k="$3" -v c="$4" '$1 == d && $2 == t && $3 == k { print $c }' "$runs" | bench_median
}

report_size() { # DAYS
    local d=$1 t k cpu wall rss
    local rows_d
    rows_d=$(awk -F'\t' -v d="$d" '$1 == d { print $2; exit }' "$sizes_tsv")
    printf '\n%s days x %s users in the state: %s rows; %s new rows appended for the second cycle\n' \
        "$d" "$users" "$rows_d" "$new_rows"
    awk -F'\t' -v d="$d" '$1 == d {
        printf "  %-5s state built in %.1f s, %.1f MiB RSS: %d user-days, state dir %.1f MiB, JSON %.1f MiB\n",
            $2, $6, $7 / 1024, $3, $4 / 1024, $5 / 1048576 }' "$preps"
    printf '%-10s %-6s %9s %9s %9s %9s %9s %9s %9s\n' cycle tree "CPU ms" min max "wall ms" min max "RSS MiB"
    for k in nothing rows; do
        for t in "${trees[@]}"; do
            read -r cpu cpu0 cpu1 < <(stat_of "$d" "$t" "$k" 5)
            read -r wall wall0 wall1 < <(stat_of "$d" "$t" "$k" 6)
            read -r rss _ _ < <(stat_of "$d" "$t" "$k" 7)
            awk -v k="$([ "$k" = rows ] && echo "$new_rows rows" || echo nothing)" -v t="$t" \
                -v c="$cpu" -v c0="$cpu0" -v c1="$cpu1" -v w="$wall" -v w0="$wall0" -v w1="$wall1" -v r="$rss" \
                'BEGIN { printf "%-10s %-6s %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.1f\n", k, t,
                    c * 1000, c0 * 1000, c1 * 1000, w * 1000, w0 * 1000, w1 * 1000, r / 1024 }'
            eval "med_${t}_${k}_${d}_cpu=$cpu med_${t}_${k}_${d}_wall=$wall med_${t}_${k}_${d}_rss=$rss"
        done
        if [ -n "$base" ]; then
            local vc vw vr
            eval "vc=\$med_this_${k}_${d}_cpu/\$med_base_${k}_${d}_cpu vw=\$med_this_${k}_${d}_wall/\$med_base_${k}_${d}_wall vr=\$med_this_${k}_${d}_rss/\$med_base_${k}_${d}_rss"
            awk -v c="$vc" -v w="$vw" -v r="$vr" '
            function ratio(s, p) { split(s, p, "/"); return p[2] > 0 ? sprintf("%.2fx", p[1] / p[2]) : "-" }
            BEGIN { printf "%-10s %-6s %9s %9s %9s %9s %9s %9s %9s\n", "", "ratio", ratio(c), "", "", ratio(w), "", "", ratio(r) }'
        fi
    done
}

report_targets() {
    local big=${size_list[-1]} small=${size_list[0]} c rmax fn fr
    echo
    echo "targets (issue 12), tree 'this':"
    eval "c=\$med_this_rows_${big}_cpu"
    rmax=$(awk -F'\t' '$2 == "this" { if ($7 > m) m = $7 } END { print m + 0 }' "$runs")
    awk -v c="$c" -v d="$big" 'BEGIN { printf "%-44s %10s  %-10s %s\n", sprintf("CPU, %d new rows, %d days", '"$new_rows"', d),
        sprintf("%.0f ms", c * 1000), "<= 20 ms", c <= 0.020 ? "PASS" : "MISS" }'
    awk -v r="$rmax" 'BEGIN { printf "%-44s %10s  %-10s %s\n", "peak RSS, the largest of every cycle run",
        sprintf("%.1f MiB", r / 1024), "<= 32 MiB", r <= 32 * 1024 ? "PASS" : "MISS" }'
    if [ "$big" = "$small" ]; then
        printf '%-44s %10s  %-10s %s\n' "flat: CPU from the fewest to the most days" - "<= 1.25x" "(one size: give --days two)"
    fi
    for k in nothing rows; do
        [ "$big" != "$small" ] || break
        eval "fn=\$med_this_${k}_${big}_cpu fr=\$med_this_${k}_${small}_cpu"
        # "Flat": within 1.25x; a 1 ms floor keeps noise in two tiny
        # figures from looking like a trend.
        awk -v a="$fn" -v b="$fr" -v k="$([ "$k" = rows ] && echo "$new_rows rows" || echo nothing)" \
            -v big="$big" -v small="$small" 'BEGIN {
            if (b < 0.001) b = 0.001
            if (a < 0.001) a = 0.001
            printf "%-44s %10s  %-10s %s\n", sprintf("flat: CPU %d / %d days, %s", big, small, k),
                sprintf("%.2fx", a / b), "<= 1.25x", a / b <= 1.25 ? "PASS" : "MISS" }'
    done
    if [ "$big" != 365 ]; then
        echo "(the issue's targets are at 365 days; this run's largest size is $big days)"
    fi
}

# --- the run ----------------------------------------------------------------------
runs="$work/runs.tsv"
preps="$work/preps.tsv"
sizes_tsv="$work/sizes.tsv"
: >"$runs"
: >"$preps"
: >"$sizes_tsv"
table="$work/table.txt"
{
    echo "cycle: one tallyd --once over a prepared state, nothing new and $new_rows new rows"
    bench_machine
    for i in "${!trees[@]}"; do
        echo "${trees[$i]}: $(tree_commit "${dirs[$i]}"), build ${dirs[$i]}" \
            "($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "${dirs[$i]}/CMakeCache.txt" 2>/dev/null || true))"
    done
    echo "config: csv -> daily -> file json (this: layout $layout; base: one document) + file prometheus; timezone $tz, --now $now"
    echo "data: gen_usage --seed $seed --users $users, $per_user_day rows a day per 1,000 users, days ending $end_day;" \
        "new rows: --row-seed $((seed + 1)), $today"
    echo "$rounds round$([ "$rounds" -gt 1 ] && echo s), medians; CPU = user + system (wait4, microseconds)"
} >"$table"

new=$(cached "new-u$users-s$seed" --rows "$new_rows" --seed "$seed" --row-seed $((seed + 1)) --users "$users" \
    --days 1 --end "$today" --no-header)
for d in "${size_list[@]}"; do
    rows_of[$d]=$(((d * users * per_user_day + 500) / 1000))
    printf '%s\t%s\n' "$d" "${rows_of[$d]}" >>"$sizes_tsv"
    src=$(cached "usage-d$d-u$users-s$seed" --rows "${rows_of[$d]}" --seed "$seed" --users "$users" --days "$d" --end "$end_day")
    cp "$src" "$(csv_of "$d")"
    csv_bytes[$d]=$(stat -c %s "$(csv_of "$d")")
    for i in "${!trees[@]}"; do
        prepare "${trees[$i]}" "${dirs[$i]}" "$d"
    done
done
# The runs of a round: every size x tree x cycle, rotated each round.
plan=()
for d in "${size_list[@]}"; do
    for k in nothing rows; do
        for i in "${!trees[@]}"; do
            plan+=("$d:$i:$k")
        done
    done
done
for r in $(seq 1 "$rounds"); do
    say "round $r of $rounds"
    for j in "${!plan[@]}"; do
        p=${plan[$(((r - 1 + j) % ${#plan[@]}))]}
        IFS=: read -r d i k <<<"$p"
        run_cycle "${trees[$i]}" "${dirs[$i]}" "$d" "$k" "$r"
    done
done
for d in "${size_list[@]}"; do
    report_size "$d" >>"$table"
done
report_targets >>"$table"

cat "$table"
if [ "$quick" = 0 ]; then
    mkdir -p "$outdir"
    cp "$table" "$outdir/cycle.txt"
    { printf 'days\ttree\tcycle\tround\tcpu_s\twall_s\trss_kib\n'; cat "$runs"; } >"$outdir/cycle.runs.tsv"
fi
