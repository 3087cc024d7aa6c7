/*
 * snapshot.c — see snapshot.h.
 */
#include "snapshot.h"

#include "clock.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int by_counter_name(const void *a, const void *b)
{
    return strcmp(((const tally_counter_value *)a)->name, ((const tally_counter_value *)b)->name);
}

snap_ref *snap_build(agent *a, int64_t now)
{
    snap_ref *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    atomic_init(&r->refs, 1);
    if (state_counter_days(a->state, NULL, &r->counter_days, &r->n_counter_days) != 0) {
        free(r);
        return NULL;
    }
    /* The counters move from the cycle into the snapshot. */
    r->counters = a->counters;
    r->n_counters = a->n_counters;
    a->counters = NULL;
    a->n_counters = a->cap_counters = 0;
    qsort(r->counters, r->n_counters, sizeof(*r->counters), by_counter_name);

    tally_day today;
    clock_day_of(now, &today);
    tally_snapshot *s = &r->s;
    s->timezone = clock_zone();
    s->now_utc = now;
    s->generated_utc = (int64_t)time(NULL);
    s->summary.cutoff_utc = today.start_utc;
    s->counters = r->counters;
    s->n_counters = r->n_counters;
    s->counter_days = r->counter_days;
    s->n_counter_days = r->n_counter_days;
    return r;
}

void snap_ref_get(snap_ref *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void snap_ref_put(snap_ref *r)
{
    if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (size_t i = 0; i < r->n_counters; i++)
        free((char *)r->counters[i].name);
    free(r->counters);
    state_counter_days_free(r->counter_days, r->n_counter_days);
    free(r);
}
