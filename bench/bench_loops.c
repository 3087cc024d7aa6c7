/*
 * bench_loops.c — the loops being timed, one per function, in a unit of
 * their own: the callers cannot inline them, so the timer reads bracket
 * exactly these loops. Each iteration is an atomic read-modify-write,
 * which the compiler may neither drop nor merge with the next one.
 */
#include "bench.h"

void bench_loop_raw(_Atomic uint64_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(p, 1, memory_order_relaxed);
}

void bench_loop_handle(tally_counter *c, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        tally_add(c, 1);
}

/* Checks each return code, as a careful caller would. */
int bench_loop_name_cycle(tally_region *r, const char *const *names, uint32_t count, uint64_t n)
{
    uint32_t j = 0;
    for (uint64_t i = 0; i < n; i++) {
        int rc = tally_add_name(r, names[j], 1);
        if (rc != 0)
            return rc;
        if (++j == count)
            j = 0;
    }
    return 0;
}

int bench_loop_name_one(tally_region *r, const char *name, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int rc = tally_add_name(r, name, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}
