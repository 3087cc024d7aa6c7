/*
 * shm.c — the shm source: each cycle, the live value of every counter of
 * its region; at each business-day rollover, the daily counters' values,
 * read and zeroed, as that day's totals.
 *
 * A rollover must lose nothing and count nothing twice, even if the agent
 * is killed in the middle. Zeroing is destructive and the state store is
 * not in the region, so the value taken from a daily counter is first
 * moved into a companion counter in the region (SHM_MOVED_PREFIX + name),
 * which only ever grows. The state store keeps how much of each companion
 * has been accounted; a rollover credits the day with the difference and
 * records the new mark in the same transaction. Killed before the commit,
 * the move stays in the companion and the retried rollover credits it.
 * Only the few instructions between the zeroing and the move are exposed.
 */
#include "shm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_region(shm_source *s)
{
    if (s->region != NULL)
        return 0;
    tally_open_opts o = {.capacity = s->capacity};
    int rc = tally_open(&s->region, s->region_name, &o);
    if (rc != 0) {
        /* A region another layout wrote is reported, never read. */
        if (rc != s->last_open_error)
            s->api->log(s->host, TALLY_LOG_ERR, "region '%s': %s", s->region_name,
                        tally_strerror(rc));
        s->last_open_error = rc;
        s->region = NULL;
        return -1;
    }
    if (s->last_open_error != 0)
        s->api->log(s->host, TALLY_LOG_INFO, "region '%s' is open again", s->region_name);
    s->last_open_error = 0;
    return 0;
}

static int is_daily(const shm_source *s, const char *name)
{
    for (size_t i = 0; i < s->n_daily; i++) {
        const char *e = s->daily[i];
        size_t n = strlen(e);
        if (n > 0 && e[n - 1] == '*' ? strncmp(name, e, n - 1) == 0 : strcmp(name, e) == 0)
            return 1;
    }
    return 0;
}

/* The companion's name; long names use a hash so it fits 64 bytes. */
static void moved_name(const char *name, char *buf, size_t cap)
{
    if (strlen(SHM_MOVED_PREFIX) + strlen(name) <= TALLY_NAME_MAX) {
        snprintf(buf, cap, SHM_MOVED_PREFIX "%s", name);
        return;
    }
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    snprintf(buf, cap, SHM_MOVED_PREFIX "#%016" PRIx64, h);
}

struct emit_arg {
    shm_source *s;
    int failed;
};

static int emit_one(const char *name, int64_t value, void *arg)
{
    struct emit_arg *e = arg;
    if (strncmp(name, SHM_MOVED_PREFIX, strlen(SHM_MOVED_PREFIX)) == 0)
        return 0;
    if (e->s->api->emit_counter(e->s->host, name, value) != TALLY_HOST_OK)
        e->failed = 1;
    return 0;
}

static int shm_collect(void *ctx)
{
    shm_source *s = ctx;
    if (open_region(s) != 0)
        return TALLY_HOST_ERR;
    struct emit_arg e = {s, 0};
    int rc = tally_foreach(s->region, NULL, emit_one, &e);
    return rc == 0 && !e.failed ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* Move one daily counter's value into its companion and credit the day
 * with everything moved and not yet accounted. */
static int roll_counter(shm_source *s, const char *name, const tally_day *day)
{
    char moved[TALLY_NAME_MAX + 1], key[TALLY_NAME_MAX + 16];
    tally_counter *c, *m;
    moved_name(name, moved, sizeof(moved));
    int rc = tally_counter_get(s->region, name, &c);
    if (rc == 0)
        rc = tally_counter_get(s->region, moved, &m);
    if (rc != 0) {
        s->api->log(s->host, TALLY_LOG_ERR, "rollover of counter '%s' in region '%s': %s", name,
                    s->region_name, tally_strerror(rc));
        return TALLY_HOST_ERR;
    }
    tally_add(m, tally_reset(c));
    int64_t moved_total = tally_value(m), accounted = 0;
    char *mark = NULL;
    snprintf(key, sizeof(key), "moved.%s", name);
    rc = s->api->state_get(s->host, key, &mark);
    if (rc == TALLY_HOST_OK) {
        accounted = strtoll(mark, NULL, 10);
        free(mark);
    } else if (rc != TALLY_HOST_ENOENT) {
        return TALLY_HOST_ERR;
    }
    char value[32];
    snprintf(value, sizeof(value), "%" PRId64, moved_total);
    if (s->api->emit_counter_day(s->host, day->date, name, moved_total - accounted) !=
            TALLY_HOST_OK ||
        s->api->state_put(s->host, key, value) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    return TALLY_HOST_OK;
}

struct roll_arg {
    shm_source *s;
    const tally_day *day;
    int failed;
};

static int roll_one(const char *name, int64_t value, void *arg)
{
    struct roll_arg *r = arg;
    if (strncmp(name, SHM_MOVED_PREFIX, strlen(SHM_MOVED_PREFIX)) != 0 && is_daily(r->s, name) &&
        roll_counter(r->s, name, r->day) != TALLY_HOST_OK)
        r->failed = 1;
    return 0;
}

/* Counters only say what accumulated since the last rollover, not on which
 * day: when the agent was down over several midnights, everything goes to
 * the last day that ended, and the earlier ones get nothing. */
static int shm_rollover(void *ctx, const tally_day *ended)
{
    shm_source *s = ctx;
    tally_day today;
    if (s->api->day_of(s->host, s->api->now(s->host), &today) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    if (ended->end_utc != today.start_utc)
        return TALLY_HOST_OK;
    if (open_region(s) != 0)
        return TALLY_HOST_ERR;
    /* Named daily counters are rolled even if nobody registered them yet,
     * so every day has its row. */
    struct roll_arg r = {s, ended, 0};
    for (size_t i = 0; i < s->n_daily; i++) {
        size_t n = strlen(s->daily[i]);
        if (n > 0 && s->daily[i][n - 1] != '*' &&
            roll_counter(s, s->daily[i], ended) != TALLY_HOST_OK)
            r.failed = 1;
    }
    for (size_t i = 0; i < s->n_daily; i++) {
        size_t n = strlen(s->daily[i]);
        if (n > 0 && s->daily[i][n - 1] == '*') {
            tally_foreach(s->region, NULL, roll_one, &r);
            break;
        }
    }
    return r.failed ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

static int shm_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    shm_source *s;
    if (shm_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    /* A missing region is created now; a bad one is reported and retried
     * each cycle, so the agent still runs its other plugins. */
    open_region(s);
    *ctx = s;
    return TALLY_HOST_OK;
}

static void shm_stop(void *ctx)
{
    shm_conf_free(ctx);
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "shm",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "the counters of a libtally shared-memory region, and daily totals of some",
    .options = shm_options,
    .init = shm_init,
    .rollover = shm_rollover,
    .stop = shm_stop,
    .source = {
        .collect = shm_collect,
    });
/* clang-format on */
