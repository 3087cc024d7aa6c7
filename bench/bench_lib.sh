# bench_lib.sh — what the benchmark scripts share: sourced, never run.
# The caller defines say and die, and $repo (the source tree) and $work
# (its scratch directory).

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
# threads) and m_rss (peak KiB, from GNU time). A failing CMD ends the run.
m_wall=0
m_cpu=0
m_rss=0
bench_measure() {
    local name=$1 t0 t1 rc=0
    shift
    t0=$(date +%s%N)
    /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        say "$name failed (exit $rc): $*"
        tail -n 20 "$work/$name.err" >&2
        exit 1
    fi
    m_wall=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f", ns / 1e9 }')
    m_rss=$(tail -n 1 "$work/$name.time" | awk '{ print $2 }')
    m_cpu=$(tail -n 1 "$work/$name.time" | awk '{ printf "%.2f", $3 + $4 }')
}
