#!/usr/bin/env bash
# agent_budget.sh — the idle budget of tallyd beside collectd, in one run.
#
#   bench/agent_budget.sh [--rounds N] [--counters N] [--no-strace] [--quick]
#
# tallyd runs with the shm source (a region of a few hundred counters) and
# two file exporters (json and prometheus), interval 10; collectd
# (collectd-core) runs a comparable config: the table plugin reading the
# same counters from a file, and two file writers (csv, and write_log in
# JSON through logfile). Rounds are interleaved and their order alternates:
# round 1 runs tallyd then collectd, round 2 collectd then tallyd, and so
# on; every run lasts about 35 s (start-up and 3 more cycles). Each run
# measures RSS, CPU per cycle, and the CPU and wakeups of every thread in
# the idle windows between cycles. The table of medians goes to stdout and
# to bench/out/agent_budget.txt; every run's figures to
# bench/out/agent_budget.runs.tsv. See bench/agent_budget.md.
#
# Works from any directory. A benchmark, not a test: nothing is asserted,
# the exit status only says whether the measurement itself worked.
set -euo pipefail
export LC_ALL=C

rounds=5
counters=300
use_strace=1
interval=10
settle_us=2000000   # an idle window starts this long after a cycle's output...
guard_us=1000000    # ...and ends this long before the next cycle is due

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --counters) counters=${2:?}; shift 2 ;;
    --no-strace) use_strace=0; shift ;;
    --quick) rounds=1; use_strace=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "agent_budget.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$rounds" in '' | *[!0-9]*) echo "agent_budget.sh: --rounds needs a number" >&2; exit 2 ;; esac
case "$counters" in '' | *[!0-9]*) echo "agent_budget.sh: --counters needs a number" >&2; exit 2 ;; esac
if [ "$rounds" -lt 1 ] || [ "$counters" -lt 1 ] || [ "$counters" -gt 4000 ]; then
    echo "agent_budget.sh: rounds >= 1, 1 <= counters <= 4000" >&2; exit 2
fi

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
build="$repo/build-bench"
outdir="$here/out"
say() { printf 'agent_budget: %s\n' "$*" >&2; }

command -v collectd >/dev/null ||
    { echo "agent_budget.sh: collectd not found; run scripts/deps.sh (collectd-core)" >&2; exit 1; }
collectd_plugins=/usr/lib/collectd
for p in table csv logfile write_log; do
    [ -f "$collectd_plugins/$p.so" ] ||
        { echo "agent_budget.sh: $collectd_plugins/$p.so missing (collectd-core)" >&2; exit 1; }
done
if ldd "$collectd_plugins/write_log.so" 2>&1 | grep 'not found' >/dev/null; then
    echo "agent_budget.sh: write_log.so cannot load its libraries (libyajl2); run scripts/deps.sh" >&2
    exit 1
fi
[ "$use_strace" = 1 ] && ! command -v strace >/dev/null && { say "no strace: skipping the syscall count"; use_strace=0; }

# --- build: a Release tree in build-bench/, reused when already configured --
if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
    say "configuring $build (Release)"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
say "building tallyd, shm.so, file.so and tally in $build"
make -C "$build" -j2 tallyd plugin_shm plugin_file tally_tool >/dev/null
tallyd="$build/agent/tallyd"
tally="$build/tools/tally"
plugin_dir="$build/lib/tally"
for f in "$tallyd" "$tally" "$plugin_dir/shm.so" "$plugin_dir/file.so"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "agent_budget.sh: $f was not built" >&2; exit 1; }
done

# --- scratch, region, clean-up ---------------------------------------------
scratch=$(mktemp -d /tmp/agent_budget.XXXXXX)
region="agent_budget.$$"        # POSIX shared memory: /dev/shm/$region
cur_pid=""
aux_pid=""
stop_pid() {                     # stop one process we started, by its PID
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { say "PID $pid ignored TERM for 15 s; KILL"; kill -KILL "$pid" 2>/dev/null; }
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$aux_pid" ] && kill -INT "$aux_pid" 2>/dev/null && wait "$aux_pid" 2>/dev/null
    stop_pid "$cur_pid"
    rm -rf "$scratch"
    rm -f "/dev/shm/$region"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "scratch $scratch, region /dev/shm/$region, $counters counters"
"$tally" -r "$region" add api.requests.total 1000 >/dev/null
"$tally" -r "$region" add api.requests.today 100 >/dev/null
i=2
while [ "$i" -lt "$counters" ]; do
    "$tally" -r "$region" add "app.svc$((i % 12)).metric$i" "$((i * 7))" >/dev/null
    i=$((i + 1))
done
# The same counters, names and values, as the file collectd's table plugin reads.
"$tally" -r "$region" list | awk '!/^#/ && NF == 2 { print $1, $2 }' >"$scratch/counters.txt"
[ "$(wc -l <"$scratch/counters.txt")" -eq "$counters" ] ||
    { echo "agent_budget.sh: the region holds $(wc -l <"$scratch/counters.txt") counters, not $counters" >&2; exit 1; }
first_counter=$(head -n 1 "$scratch/counters.txt" | cut -d' ' -f1)

cat >"$scratch/tallyd.conf" <<EOF
timezone   = "UTC"
state_dir  = "$scratch/tallyd/state"
interval   = $interval
plugin_dir = "$plugin_dir"
log_level  = "info"

shm  "counters" { region = "$region"  daily = {"api.requests.today"} }
file "summary"  { path = "$scratch/tallyd/out/summary.json"  format = "json" }
file "textfile" { path = "$scratch/tallyd/out/tally.prom"    format = "prometheus" }
EOF

# collectd: Debian's built-in defaults (5 read and 5 write threads), one read
# plugin handing over the same counters, two writers that write files.
cat >"$scratch/collectd.conf" <<EOF
Hostname    "bench"
FQDNLookup  false
BaseDir     "$scratch/collectd"
PIDFile     "$scratch/collectd/collectd.pid"
PluginDir   "$collectd_plugins"
TypesDB     "/usr/share/collectd/types.db"
Interval    $interval

LoadPlugin logfile
<Plugin logfile>
  LogLevel  "info"
  File      "$scratch/collectd/values.jsonl"
  Timestamp true
</Plugin>

LoadPlugin table
<Plugin table>
  <Table "$scratch/counters.txt">
    Instance  "tally"
    Separator " "
    <Result>
      Type          derive
      InstancesFrom 0
      ValuesFrom    1
    </Result>
  </Table>
</Plugin>

LoadPlugin csv
<Plugin csv>
  DataDir    "$scratch/collectd/csv"
  StoreRates false
</Plugin>

LoadPlugin write_log
<Plugin write_log>
  Format "JSON"
</Plugin>
EOF

"$tallyd" -t -c "$scratch/tallyd.conf" >/dev/null ||
    { "$tallyd" -t -c "$scratch/tallyd.conf"; exit 1; }
mkdir -p "$scratch/collectd"
collectd -t -C "$scratch/collectd.conf" ||
    { echo "agent_budget.sh: collectd refuses its config" >&2; exit 1; }

# --- sampling, without disturbing the process --------------------------------
# Reading /proc never wakes the process read. Times are microseconds of the
# wall clock (the clock of file modification times).
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
sleep_until_us() {
    local d=$(($1 - $(now_us)))
    [ "$d" -gt 0 ] || return 0
    sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
}
mtime_us() {                     # modification time of the cycle marker, 0 if none
    local f
    for f in $1; do
        [ -e "$f" ] && { local m; m=$(stat -c %.6Y "$f") && echo "${m/./}" && return 0; }
    done
    echo 0
}
# CPU of the whole process in clock ticks: utime + stime of /proc/PID/stat.
proc_ticks() {
    local line rest
    read -r line <"/proc/$1/stat"
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo $((${12} + ${13}))
}
# Over all threads alive: CPU in ns (schedstat), voluntary and involuntary
# context switches (each one a wakeup of a thread that slept).
threads_sample() {
    local t ns vol=0 invol=0 cpu=0 key val rest
    for t in /proc/"$1"/task/*; do
        read -r ns rest 2>/dev/null <"$t/schedstat" || continue
        cpu=$((cpu + ns))
        while read -r key val rest; do
            case "$key" in
            voluntary_ctxt_switches:) vol=$((vol + val)) ;;
            nonvoluntary_ctxt_switches:) invol=$((invol + val)) ;;
            esac
        done 2>/dev/null <"$t/status" || true
    done
    echo "$cpu $vol $invol"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status"; }
pss_kb() { awk '$1 == "Pss:" { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

clk_tck=$(getconf CLK_TCK)
mkdir -p "$outdir"
runs_tsv="$scratch/runs.tsv"
printf 'round\tagent\tmetric\tvalue\n' >"$runs_tsv"
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$runs_tsv"; }

start_agent() {                  # start_agent NAME -> cur_pid, marker
    local who=$1
    case "$who" in
    tallyd)
        rm -rf "$scratch/tallyd"
        mkdir -p "$scratch/tallyd/state" "$scratch/tallyd/out"
        "$tallyd" -f -c "$scratch/tallyd.conf" >>"$scratch/tallyd.log" 2>&1 &
        cur_pid=$!
        marker="$scratch/tallyd/out/summary.json"
        ;;
    collectd)
        rm -rf "$scratch/collectd"
        mkdir -p "$scratch/collectd/csv"
        collectd -f -C "$scratch/collectd.conf" >>"$scratch/collectd.log" 2>&1 &
        cur_pid=$!
        marker="$scratch/collectd/csv/bench/table-tally/derive-$first_counter-*"
        ;;
    esac
}

# Wait for the first cycle's output; its time is t1. Cycles are then due at
# t1 + k*interval (both agents schedule from the previous cycle's start).
wait_first_cycle() {
    local deadline=$(($(now_us) + 15000000)) m
    while :; do
        kill -0 "$cur_pid" 2>/dev/null ||
            { echo "agent_budget.sh: $1 (PID $cur_pid) died; see its log:" >&2; tail -n 20 "$scratch/$1.log" >&2; exit 1; }
        m=$(mtime_us "$marker")
        [ "$m" -gt 0 ] && { t1=$m; return 0; }
        [ "$(now_us)" -lt "$deadline" ] ||
            { echo "agent_budget.sh: $1 wrote no output in 15 s" >&2; tail -n 20 "$scratch/$1.log" >&2; exit 1; }
        sleep 0.05
    done
}

run_one() {                      # run_one ROUND NAME
    local round=$1 who=$2 pid k w0 w1 a b m0 m1 contaminated=0
    local idle_us=0 idle_ns=0 idle_ticks=0 idle_wake=0 c0 c1 v0 v1 i0 i1 x0 x1
    start_agent "$who"
    pid=$cur_pid
    local t0; t0=$(now_us)
    wait_first_cycle "$who"
    local ns_first ns_end
    sleep_until_us $((t1 + settle_us))
    read -r ns_first _ _ < <(threads_sample "$pid")
    for k in 0 1 2; do
        w0=$((t1 + k * interval * 1000000 + settle_us))
        w1=$((t1 + (k + 1) * interval * 1000000 - guard_us))
        sleep_until_us "$w0"
        m0=$(mtime_us "$marker"); a=$(now_us)
        x0=$(proc_ticks "$pid"); read -r c0 v0 i0 < <(threads_sample "$pid")
        sleep_until_us "$w1"
        x1=$(proc_ticks "$pid"); read -r c1 v1 i1 < <(threads_sample "$pid")
        b=$(now_us); m1=$(mtime_us "$marker")
        [ "$m1" = "$m0" ] || contaminated=$((contaminated + 1))
        idle_us=$((idle_us + b - a))
        idle_ns=$((idle_ns + c1 - c0))
        idle_ticks=$((idle_ticks + x1 - x0))
        idle_wake=$((idle_wake + (v1 - v0) + (i1 - i0)))
    done
    # After the start-up cycle and three more (the last due at t1 + 30 s).
    sleep_until_us $((t1 + 3 * interval * 1000000 + settle_us))
    local ticks_end rss hwm anon file shmem pss threads mlast cycles
    read -r ns_end _ _ < <(threads_sample "$pid")
    ticks_end=$(proc_ticks "$pid")
    rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM)
    anon=$(status_kb "$pid" RssAnon); file=$(status_kb "$pid" RssFile); shmem=$(status_kb "$pid" RssShmem)
    threads=$(status_kb "$pid" Threads); pss=$(pss_kb "$pid")
    mlast=$(mtime_us "$marker")
    cycles=$(( (mlast - t1 + interval * 500000) / (interval * 1000000) + 1 ))
    stop_pid "$pid"
    cur_pid=""
    local wall_ms=$(( ($(now_us) - t0) / 1000 ))

    rec "$round" "$who" vmrss_kb "$rss"
    rec "$round" "$who" vmhwm_kb "$hwm"
    rec "$round" "$who" rss_anon_kb "$anon"
    rec "$round" "$who" rss_file_kb "$file"
    rec "$round" "$who" rss_shmem_kb "$shmem"
    rec "$round" "$who" pss_kb "$pss"
    rec "$round" "$who" threads "$threads"
    rec "$round" "$who" cycles "$cycles"
    rec "$round" "$who" cpu_startup_ms "$(awk -v n="$ns_first" 'BEGIN { printf "%.1f", n / 1e6 }')"
    rec "$round" "$who" cpu_per_cycle_ms "$(awk -v n=$((ns_end - ns_first)) 'BEGIN { printf "%.2f", n / 1e6 / 3 }')"
    rec "$round" "$who" cpu_total_ms "$(awk -v n="$ns_end" 'BEGIN { printf "%.1f", n / 1e6 }')"
    rec "$round" "$who" cpu_total_ticks_ms "$(( ticks_end * 1000 / clk_tck ))"
    rec "$round" "$who" idle_s "$(awk -v u="$idle_us" 'BEGIN { printf "%.1f", u / 1e6 }')"
    rec "$round" "$who" idle_ticks "$idle_ticks"
    rec "$round" "$who" idle_cpu_us_per_min "$(awk -v n="$idle_ns" -v u="$idle_us" 'BEGIN { printf "%.1f", n / 1e3 * 60e6 / u }')"
    rec "$round" "$who" idle_wakeups "$idle_wake"
    rec "$round" "$who" idle_wakeups_per_min "$(awk -v w="$idle_wake" -v u="$idle_us" 'BEGIN { printf "%.2f", w * 60e6 / u }')"
    rec "$round" "$who" contaminated "$contaminated"
    say "round $round $who: RSS ${rss} KiB (peak $hwm), $threads threads, $cycles cycles," \
        "idle $((idle_us / 1000)) ms: $idle_wake wakeups, $((idle_ns / 1000)) us CPU;" \
        "run ${wall_ms} ms$([ "$contaminated" -eq 0 ] || echo "; $contaminated window(s) saw a cycle")"
}

# --- strace: every system call of every thread over one idle window ---------
strace_one() {                   # strace_one NAME -> rec syscalls
    local who=$1 pid f w0 w1
    start_agent "$who"
    pid=$cur_pid
    wait_first_cycle "$who"
    w0=$((t1 + interval * 1000000 + settle_us))
    w1=$((t1 + 2 * interval * 1000000 - guard_us))
    sleep_until_us "$w0"
    f="$scratch/strace.$who"
    # Without -q strace says on stderr that it attached: the proof that an
    # empty count means no system call rather than no trace.
    strace -f -c -p "$pid" -o "$f" 2>"$f.err" &
    aux_pid=$!
    sleep_until_us "$w1"
    kill -INT "$aux_pid" 2>/dev/null || true
    wait "$aux_pid" 2>/dev/null || true
    aux_pid=""
    stop_pid "$pid"
    cur_pid=""
    # "total" line: % time, seconds, usecs/call, calls, [errors,] total
    local calls names
    if grep -q 'attached' "$f.err"; then
        calls=$(awk '$NF == "total" { print $4; f = 1 } END { if (!f) print 0 }' "$f")
    else
        say "strace could not attach to $who: $(head -n 1 "$f.err")"
        calls=n/a
    fi
    names=$(awk '/^-/ { n++; next } n == 1 && NF >= 5 { printf "%s%s", s, $NF; s = "," }' "$f")
    rec strace "$who" idle_syscalls "$calls"
    rec strace "$who" idle_syscall_names "${names:--}"
    rec strace "$who" strace_window_s "$(awk -v u=$((w1 - w0)) 'BEGIN { printf "%.1f", u / 1e6 }')"
    say "strace $who: $calls system calls in $(( (w1 - w0) / 1000 )) ms of idle${names:+ ($names)}"
}

say "$rounds rounds of about 35 s per agent; interval $interval s"
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order="tallyd collectd"; else order="collectd tallyd"; fi
    for who in $order; do run_one "$r" "$who"; done
done
if [ "$use_strace" = 1 ]; then
    for who in tallyd collectd; do strace_one "$who"; done
fi

# --- the table ----------------------------------------------------------------
tallyd_version=$("$tallyd" --version 2>/dev/null | head -n 1 || true)
collectd_version=$(dpkg-query -W -f='${Version}' collectd-core 2>/dev/null || echo '?')
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')
git_dirty=$(git -C "$repo" status --porcelain -- agent plugins exporters shm include 2>/dev/null | wc -l)

table="$scratch/table.txt"
{
    echo "agent_budget — tallyd's idle budget beside collectd, measured in the same run"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ)  $(uname -r)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "tallyd: ${tallyd_version:-?} (git $git_rev$([ "$git_dirty" -gt 0 ] && echo ", $git_dirty files of agent/plugins/exporters/shm edited")), Release, $build"
    echo "collectd: collectd-core $collectd_version"
    echo
    echo "tallyd:   shm source ($counters counters in /dev/shm) -> file json + file prometheus; interval $interval s"
    echo "collectd: table plugin (the same $counters counters, from a text file) -> csv (one file per value)"
    echo "          + write_log Format JSON into logfile (one JSON line per value); interval $interval s,"
    echo "          its default 5 read + 5 write threads. write_prometheus would be a server, not a file;"
    echo "          csv and write_log/logfile are collectd's file writers that need no further libraries"
    echo "          beyond libyajl2 (rrdtool would pull in librrd and cairo)."
    echo
    echo "Medians of $rounds interleaved rounds (order alternating), [min-max] beside them; ratio = collectd / tallyd."
    echo "Idle windows: $(( (interval * 1000000 - settle_us - guard_us) / 1000 )) ms from $((settle_us / 1000)) ms after a cycle's output to $((guard_us / 1000)) ms before the next is due, 3 per run."
    echo
    awk -F'\t' -v rounds="$rounds" '
    NR == 1 { next }
    $1 == "strace" { st[$2, $3] = $4; next }
    { v[$2, $3, ++n[$2, $3]] = $4 }
    function med(a, m,   i, j, t, k, x) {
        k = n[a, m]; if (k == 0) return ""
        for (i = 1; i <= k; i++) x[i] = v[a, m, i] + 0
        for (i = 2; i <= k; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
        lo[a, m] = x[1]; hi[a, m] = x[k]
        return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
    }
    function fmt(x) { return x == int(x) ? sprintf("%d", x) : x < 10 ? sprintf("%.2f", x) : sprintf("%.1f", x) }
    function cell(a, m,   x) {
        x = med(a, m); if (x == "") return "-"
        if (lo[a, m] == hi[a, m]) return fmt(x)
        return fmt(x) " [" fmt(lo[a, m]) "-" fmt(hi[a, m]) "]"
    }
    function ratio(m,   t, c) {
        t = med("tallyd", m); c = med("collectd", m)
        if (t == "" || c == "") return "-"
        if (t + 0 == 0) return c + 0 == 0 ? "=" : "-"
        return sprintf("%.2f", c / t)
    }
    function row(label, m, target,   verdict) {
        printf "%-38s %-20s %-20s %-7s %s\n", label, cell("tallyd", m), cell("collectd", m), ratio(m), target
    }
    function mark(ok) { return ok ? "PASS" : "MISS" }
    END {
        printf "%-38s %-20s %-20s %-7s %s\n", "figure", "tallyd", "collectd", "ratio", "target (tallyd)"
        printf "%-38s %-20s %-20s %-7s %s\n", "------", "------", "--------", "-----", "---------------"
        rss = med("tallyd", "vmrss_kb"); hwm = med("tallyd", "vmhwm_kb")
        row("VmRSS after 4 cycles (KiB)", "vmrss_kb", "<= 8192 KiB  " mark(rss <= 8192))
        row("VmHWM, peak RSS (KiB)", "vmhwm_kb", "<= 8192 KiB  " mark(hwm <= 8192))
        row("  RssAnon (KiB)", "rss_anon_kb", "")
        row("  RssFile (KiB)", "rss_file_kb", "")
        row("  RssShmem (KiB)", "rss_shmem_kb", "")
        row("Pss (KiB)", "pss_kb", "")
        row("threads", "threads", "")
        row("cycles seen (start-up + 3)", "cycles", "")
        row("CPU, start-up + first cycle (ms)", "cpu_startup_ms", "")
        row("CPU per cycle (ms)", "cpu_per_cycle_ms", "")
        row("CPU, whole run (ms)", "cpu_total_ms", "")
        row("  the same from /proc/PID/stat (ms)", "cpu_total_ticks_ms", "")
        row("idle time measured (s)", "idle_s", "")
        cpu = med("tallyd", "idle_cpu_us_per_min"); tk = med("tallyd", "idle_ticks")
        row("idle CPU, all threads (us/idle min)", "idle_cpu_us_per_min", "~0 (<= 1000)  " mark(cpu <= 1000))
        row("idle CPU, /proc/PID/stat (ticks)", "idle_ticks", "0  " mark(tk == 0))
        row("idle wakeups, all threads", "idle_wakeups", "")
        wk = med("tallyd", "idle_wakeups_per_min")
        row("idle wakeups per idle min", "idle_wakeups_per_min", "~0 (<= 1)  " mark(wk <= 1))
        row("idle windows that saw a cycle", "contaminated", "")
        if (("tallyd", "idle_syscalls") in st) {
            printf "%-38s %-20s %-20s %-7s %s\n", "strace -f -c: syscalls in " st["tallyd", "strace_window_s"] " s idle",
                st["tallyd", "idle_syscalls"], st["collectd", "idle_syscalls"], "", "0  " (st["tallyd", "idle_syscalls"] == "n/a" ? "n/a" : mark(st["tallyd", "idle_syscalls"] == 0))
            printf "%-38s %-20s %-20s\n", "  which", st["tallyd", "idle_syscall_names"], st["collectd", "idle_syscall_names"]
        }
    }' "$runs_tsv"
} >"$table"

cat "$table"
cp "$table" "$outdir/agent_budget.txt"
cp "$runs_tsv" "$outdir/agent_budget.runs.tsv"
say "table in $outdir/agent_budget.txt, every run in $outdir/agent_budget.runs.tsv"
