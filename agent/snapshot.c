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

/* Two sources (two regions) may report one name: one series, their sum,
 * since a JSON object and a Prometheus family can hold a name only once. */
static void merge_same_names(snap_ref *r)
{
    size_t out = 0;
    for (size_t i = 0; i < r->n_counters; i++) {
        if (out > 0 && strcmp(r->counters[out - 1].name, r->counters[i].name) == 0) {
            r->counters[out - 1].value =
                (int64_t)((uint64_t)r->counters[out - 1].value + (uint64_t)r->counters[i].value);
            free((char *)r->counters[i].name);
            continue;
        }
        r->counters[out++] = r->counters[i];
    }
    r->n_counters = out;
}

/* counter_days go back as far as the days listed: the collector's oldest
 * kept date, or TALLY_KEEP_DAYS_DEFAULT days without one. Noon less whole
 * days stays inside the wanted date whatever DST does. */
static void counter_days_since(const tally_stats *st, const tally_day *today,
                               char since[TALLY_DATE_LEN])
{
    tally_day first;
    if (st->oldest_kept[0] != '\0') {
        memcpy(since, st->oldest_kept, TALLY_DATE_LEN);
        since[TALLY_DATE_LEN - 1] = '\0';
    } else if (clock_day_of(today->start_utc + 43200 - (int64_t)TALLY_KEEP_DAYS_DEFAULT * 86400,
                            &first) == 0) {
        memcpy(since, first.date, TALLY_DATE_LEN);
    } else {
        since[0] = '\0'; /* the clock cannot say: every day */
    }
}

/* The collector's statistics, copied into memory of the agent's own (days,
 * user_days, and one block for the user ids), then given back to the
 * collector with free_stats: the snapshot outlives the call, maybe the
 * plugin too (exporter threads drop it last). 0, or -1 with *out empty. */
static int collector_stats(const struct tally_host *c, int64_t now, tally_stats *out)
{
    const tally_plugin_collector *cb = &c->plugin->desc.collector;
    tally_stats theirs;
    memset(&theirs, 0, sizeof(theirs));
    memset(out, 0, sizeof(*out));
    int rc = cb->stats(c->ctx, now, &theirs) == TALLY_HOST_OK ? 0 : -1;
    size_t ids = 0;
    for (size_t i = 0; rc == 0 && i < theirs.n_user_days; i++)
        ids += strlen(theirs.user_days[i].user_id) + 1;
    *out = theirs;
    out->days = theirs.n_days ? malloc(theirs.n_days * sizeof(*out->days)) : NULL;
    out->user_days =
        theirs.n_user_days ? malloc(theirs.n_user_days * sizeof(*out->user_days)) : NULL;
    char *block = ids ? malloc(ids) : NULL;
    if (rc != 0 || (theirs.n_days && out->days == NULL) ||
        (theirs.n_user_days && (out->user_days == NULL || block == NULL))) {
        free(out->days);
        free(out->user_days);
        free(block);
        memset(out, 0, sizeof(*out));
        rc = -1;
    } else {
        if (theirs.n_days)
            memcpy(out->days, theirs.days, theirs.n_days * sizeof(*out->days));
        for (size_t i = 0; i < theirs.n_user_days; i++) {
            out->user_days[i] = theirs.user_days[i];
            size_t n = strlen(theirs.user_days[i].user_id) + 1;
            memcpy(block, theirs.user_days[i].user_id, n);
            out->user_days[i].user_id = block;
            block += n;
        }
    }
    cb->free_stats(c->ctx, &theirs);
    return rc;
}

snap_ref *snap_build(agent *a, int64_t now, int32_t now_nsec)
{
    snap_ref *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    atomic_init(&r->refs, 1);
    /* The counters move from the cycle into the snapshot. */
    r->counters = a->counters;
    r->n_counters = a->n_counters;
    a->counters = NULL;
    a->n_counters = a->cap_counters = 0;
    /* An empty region leaves counters NULL, and qsort's base must not be. */
    if (r->n_counters > 1)
        qsort(r->counters, r->n_counters, sizeof(*r->counters), by_counter_name);
    merge_same_names(r);

    tally_day today;
    clock_day_of(now, &today);
    tally_snapshot *s = &r->s;
    struct tally_host *c = a->collector;
    if (c != NULL) {
        if (collector_stats(c, now, &r->stats) != 0) {
            log_msg(TALLY_LOG_ERR, "%s: no statistics this cycle (see above)", c->who);
            memset(&r->stats, 0, sizeof(r->stats));
        }
        s->days = r->stats.days;
        s->n_days = r->stats.n_days;
        s->user_days = r->stats.user_days;
        s->n_user_days = r->stats.n_user_days;
        s->summary = r->stats.summary;
        s->today = r->stats.today;
        s->combined = r->stats.combined;
    }
    char since[TALLY_DATE_LEN];
    counter_days_since(&r->stats, &today, since);
    if (state_counter_days(a->state, since, &r->counter_days, &r->n_counter_days) != 0) {
        snap_ref_put(r);
        return NULL;
    }
    if (state_rejected_get(a->state, &s->rejected_rows) != 0)
        s->rejected_rows = 0;
    s->timezone = clock_zone();
    s->now_utc = now;
    s->now_nsec = now_nsec;
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
    free(r->stats.days);
    if (r->stats.n_user_days > 0)
        free((char *)r->stats.user_days[0].user_id);
    free(r->stats.user_days);
    free(r);
}
