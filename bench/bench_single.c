/*
 * bench_single.c — the one-process measurements: the raw atomic floor, a
 * handle add, adds by name, registering, and a foreach pass. Each checks
 * that its adds all landed: a fast figure from a loop that lost counts
 * would be worthless. Times are CPU times (see bench_cpu_ns).
 */
#include "bench.h"

#include <stdio.h>

static double per_op(uint64_t t0, uint64_t t1, uint64_t ops)
{
    return (double)(t1 - t0) / (double)ops;
}

int bench_floor(struct bench_env *e, double *out)
{
    _Atomic uint64_t *p = &e->raw[RAW_FLOOR];
    uint64_t before = atomic_load(p);
    uint64_t t0 = bench_cpu_ns();
    bench_loop_raw(p, e->cfg.adds);
    uint64_t t1 = bench_cpu_ns();
    if (atomic_load(p) - before != e->cfg.adds)
        return BENCH_ECOUNT;
    *out = per_op(t0, t1, e->cfg.adds);
    return 0;
}

int bench_handle(struct bench_env *e, double *out)
{
    int64_t before = tally_value(e->single);
    uint64_t t0 = bench_cpu_ns();
    bench_loop_handle(e->single, e->cfg.adds);
    uint64_t t1 = bench_cpu_ns();
    if ((uint64_t)(tally_value(e->single) - before) != e->cfg.adds)
        return BENCH_ECOUNT;
    *out = per_op(t0, t1, e->cfg.adds);
    return 0;
}

static int name_cycle(struct bench_env *e, const char *const *order, double *out)
{
    uint64_t t0 = bench_cpu_ns();
    int rc = bench_loop_name_cycle(e->named, order, e->cfg.names, e->cfg.name_adds);
    uint64_t t1 = bench_cpu_ns();
    if (rc != 0)
        return rc;
    e->named_expect += (int64_t)e->cfg.name_adds;
    *out = per_op(t0, t1, e->cfg.name_adds);
    return 0;
}

/* In registration order, the names and their records are read in address
 * order, which the hardware prefetcher follows; only the table is random. */
int bench_name_cycle(struct bench_env *e, double *out)
{
    return name_cycle(e, e->names, out);
}

/* In shuffled order every add may miss the cache on the caller's name, the
 * table tag and the name record. */
int bench_name_shuffled(struct bench_env *e, double *out)
{
    return name_cycle(e, e->shuffled, out);
}

int bench_name_one(struct bench_env *e, double *out)
{
    uint64_t t0 = bench_cpu_ns();
    int rc = bench_loop_name_one(e->named, e->names[0], e->cfg.name_adds);
    uint64_t t1 = bench_cpu_ns();
    if (rc != 0)
        return rc;
    e->named_expect += (int64_t)e->cfg.name_adds;
    *out = per_op(t0, t1, e->cfg.name_adds);
    return 0;
}

/* A fresh region per round, so every name is new to it. Its first-touch
 * page faults are timed too: a real first registration pays them. */
int bench_register(struct bench_env *e, double *out)
{
    char leaf[32], path[BENCH_PATH_MAX];
    snprintf(leaf, sizeof(leaf), "register.%d", e->register_seq++);
    int rc = bench_region_path(e, leaf, path, sizeof(path));
    if (rc == 0)
        rc = bench_track(path);
    if (rc != 0)
        return rc;
    tally_region *r;
    tally_open_opts o = {.capacity = e->cfg.capacity};
    rc = tally_open(&r, path, &o);
    if (rc != 0) {
        bench_untrack(path);
        return rc;
    }
    tally_counter *c;
    uint64_t t0 = bench_cpu_ns();
    for (uint32_t i = 0; rc == 0 && i < e->cfg.names; i++)
        rc = tally_counter_get(r, e->names[i], &c);
    uint64_t t1 = bench_cpu_ns();
    tally_info info;
    if (rc == 0 && tally_info_get(r, &info) == 0 && info.used != e->cfg.names)
        rc = BENCH_ECOUNT;
    tally_close(r);
    bench_untrack(path);
    if (rc == 0)
        *out = per_op(t0, t1, e->cfg.names);
    return rc;
}

struct sum_arg {
    int64_t sum;
    uint32_t seen;
};

static int sum_value(const char *name, int64_t value, void *arg)
{
    struct sum_arg *s = arg;
    s->sum += value;
    s->seen++;
    return 0;
}

/* µs per full pass. Every pass must see every counter and the exact sum of
 * all by-name adds so far. */
int bench_foreach(struct bench_env *e, double *out)
{
    uint32_t passes = e->cfg.foreach_passes;
    int rc = 0;
    int exact = 1;
    uint64_t t0 = bench_cpu_ns();
    for (uint32_t p = 0; rc == 0 && p < passes; p++) {
        struct sum_arg s = {0, 0};
        rc = tally_foreach(e->named, NULL, sum_value, &s);
        exact &= s.sum == e->named_expect && s.seen == e->cfg.names;
    }
    uint64_t t1 = bench_cpu_ns();
    if (rc != 0)
        return rc;
    if (!exact)
        return BENCH_ECOUNT;
    *out = per_op(t0, t1, passes) / 1000.0;
    return 0;
}
