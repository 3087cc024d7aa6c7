# bench_lib.sh — what the benchmark scripts share: sourced, never run.
# The caller defines say and die, and $repo (the source tree); $work (its
# scratch directory) comes from bench_scratch or the caller.

# bench_build DIR TARGET...: with DIR empty, configure build-bench/
# (Release, benchmarks on) if it is not that already and build the
# TARGETs; prints the absolute build directory either way.
bench_build() {
    local dir=$1
    shift
    if [ -z "$dir" ]; then
        dir="$repo/build-bench"
        if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$dir/CMakeCache.txt"; then
            say "configuring $dir (Release)"
            cmake -S "$repo" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DTALLY_BENCH=ON >/dev/null
        fi
        say "building $* in $dir"
        make -C "$dir" -j"$(nproc)" "$@" >/dev/null
    fi
    CDPATH='' cd -- "$dir" && pwd
}

# bench_measure NAME CMD...: runs CMD with stdout to $work/NAME.out and
# stderr to $work/NAME.err; sets m_wall (s), m_cpu (user + system s, all
# threads) and m_rss (peak KiB). From bench_rusage (wait4, CPU to the
# microsecond) when $BENCH_RUSAGE names it, else GNU time (CPU in steps
# of 10 ms). A failing CMD ends the run.
m_wall=0
m_cpu=0
m_rss=0
bench_measure() {
    local name=$1 t0 t1 rc=0
    shift
    t0=$(date +%s%N)
    if [ -n "${BENCH_RUSAGE:-}" ]; then
        "$BENCH_RUSAGE" "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    else
        /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    fi
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        say "$name failed (exit $rc): $*"
        tail -n 20 "$work/$name.err" >&2
        exit 1
    fi
    m_wall=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f", ns / 1e9 }')
    m_rss=$(tail -n 1 "$work/$name.time" | awk '{ print $2 }')
    if [ -n "${BENCH_RUSAGE:-}" ]; then
        m_cpu=$(tail -n 1 "$work/$name.time" | awk '{ printf "%.6f", $3 }')
    else
        m_cpu=$(tail -n 1 "$work/$name.time" | awk '{ printf "%.2f", $3 + $4 }')
    fi
}

# bench_scratch PREFIX: sets $work to a fresh directory under $TMPDIR
# (default /tmp), removed when the script ends, also on INT and TERM.
bench_scratch() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    rm -rf "$work"
    [ -z "${shm:-}" ] || rm -rf "$shm"
    exit "$rc"
}

# bench_scratch_shm PREFIX: sets $shm to a fresh directory under /dev/shm
# (a tmpfs: regions live in memory), removed with $work by bench_cleanup.
bench_scratch_shm() {
    shm=$(mktemp -d "/dev/shm/$1.XXXXXX")
}

# bench_cached_csv GEN CACHE NAME GEN-ARGS...: prints CACHE/NAME-KEY.csv,
# written once by GEN (gen_usage) with GEN-ARGS, under a lock so that
# parallel runs wait for it. KEY hashes gen_usage.c: a changed generator
# writes its files anew, and NAME's files of an older one are removed.
bench_cached_csv() {
    local gen=$1 cache=$2 name=$3 key old
    shift 3
    key=$(sha1sum "$repo/bench/gen_usage.c" | cut -c1-10)
    local f="$cache/$name-$key.csv"
    (
        flock 9
        if [ ! -s "$f" ]; then
            for old in "$cache/$name-"*.csv; do
                [ -e "$old" ] && rm -f "$old"
            done
            say "generating $f"
            "$gen" "$@" --out "$f.tmp.$$" >&2
            mv "$f.tmp.$$" "$f"
        fi
    ) 9>"$cache/.lock"
    printf '%s\n' "$f"
}

# bench_median: numbers on stdin, one a line; prints "median min max"
# (fails when there are none).
bench_median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# bench_machine: one line naming the cores, the CPU and the kernel.
bench_machine() {
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"
}
