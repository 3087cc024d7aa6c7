/*
 * shm_rollover.c — the shm source's daily counters at each business-day
 * rollover: read, zeroed, and credited to the day that ended.
 *
 * A rollover must lose nothing and count nothing twice, even if the agent
 * is killed in the middle. Zeroing is destructive and the state store is
 * not in the region, so the value taken from a daily counter is first
 * moved into a companion counter in the region (SHM_MOVED_PREFIX + name),
 * which only ever grows. The state store keeps how much of each companion
 * has been accounted ("moved.NAME"), and in which region ("region.NAME":
 * the region's identity); a rollover credits the day with the difference
 * and records the new mark in the same transaction. Killed before the
 * commit, the move stays in the companion and the retried rollover
 * credits it. Only the few instructions between the zeroing and the move
 * are exposed.
 *
 * A mark taken in another region (the path was emptied by a reboot, or
 * removed and recreated) says nothing of this one, whose companion started
 * from zero: it counts as 0. So does a mark larger than its companion,
 * which can only mean the companion restarted; no day is ever negative.
 *
 * A full region has no slot for a companion. Its daily counter is then
 * never zeroed: each day is credited with how much the counter grew since
 * the last mark, which needs nothing destructive and so no companion. (A
 * region that was full when the companion was wanted stays full, so a
 * counter never switches between the two ways within one region.)
 */
#include "shm.h"

#include "hash/hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shm_is_daily(const shm_source *s, const char *name)
{
    if (strncmp(name, SHM_MOVED_PREFIX, strlen(SHM_MOVED_PREFIX)) == 0)
        return 0;
    int daily = 0;
    for (size_t i = 0; i < s->n_daily; i++) {
        const char *e = s->daily[i];
        size_t n = strlen(e);
        if (n > 0 && e[n - 1] == '*') {
            if (strncmp(name, e, n - 1) == 0)
                daily = SHM_DAILY_PREFIX;
        } else if (strcmp(name, e) == 0) {
            return SHM_DAILY_NAMED;
        }
    }
    return daily;
}

/* The companion's name; long names use a hash so it fits 64 bytes. */
static void moved_name(const char *name, char *buf, size_t cap)
{
    if (strlen(SHM_MOVED_PREFIX) + strlen(name) <= TALLY_NAME_MAX) {
        snprintf(buf, cap, SHM_MOVED_PREFIX "%s", name);
        return;
    }
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, name, strlen(name));
    snprintf(buf, cap, SHM_MOVED_PREFIX "#%016" PRIx64, h);
}

/* One state value, or NULL for a key not there. -1 on a failed read. */
static int state_value(shm_source *s, const char *prefix, const char *name, char **out)
{
    char key[TALLY_NAME_MAX + 16];
    snprintf(key, sizeof(key), "%s%s", prefix, name);
    *out = NULL;
    int rc = s->api->state_get(s->host, key, out);
    return rc == TALLY_HOST_OK || rc == TALLY_HOST_ENOENT ? 0 : -1;
}

/* How much of `total` (the companion, or the counter itself when rolled
 * in place, read as `what`) earlier rollovers credited already. */
static int accounted_of(shm_source *s, const char *name, const char *what, int64_t total,
                        int64_t *out)
{
    char *mark, *region;
    *out = 0;
    if (state_value(s, "moved.", name, &mark) != 0)
        return -1;
    if (mark == NULL)
        return 0;
    int64_t accounted = strtoll(mark, NULL, 10);
    free(mark);
    if (state_value(s, "region.", name, &region) != 0)
        return -1;
    /* No region recorded: the mark was taken by a release that did not
     * record one; it is this region's unless the guard below says not. */
    int same = region == NULL || strcmp(region, s->region_id) == 0;
    free(region);
    if (!same)
        return 0;
    if (accounted > total) {
        s->api->log(s->host, TALLY_LOG_WARNING,
                    "daily counter '%s': '%s' in region '%s' holds %" PRId64
                    ", less than the %" PRId64
                    " already credited: it was reset, or the region was recreated; counting it "
                    "from zero",
                    name, what, s->region_name, total, accounted);
        return 0;
    }
    *out = accounted;
    return 0;
}

/* The total the day's credit is taken from: the companion's, after the
 * move; or, in a full region, the daily counter's own. */
static int roll_total(shm_source *s, const char *name, tally_counter *c, char *moved,
                      int64_t *total)
{
    tally_counter *m;
    int rc = tally_counter_get(s->region, moved, &m);
    if (rc == 0) {
        tally_add(m, tally_reset(c));
        *total = tally_value(m);
        return 0;
    }
    if (rc != TALLY_EFULL) {
        s->api->log(s->host, TALLY_LOG_ERR, "rollover of counter '%s' in region '%s': %s", name,
                    s->region_name, tally_strerror(rc));
        return -1;
    }
    s->api->log(s->host, TALLY_LOG_WARNING,
                "daily counter '%s' is rolled over in place, not zeroed: region '%s' is full and "
                "has no slot for its companion '%s'; days are still credited, but its live value "
                "runs on. Create the region with a larger capacity",
                name, s->region_name, moved);
    snprintf(moved, TALLY_NAME_MAX + 1, "%s", name);
    *total = tally_value(c);
    return 0;
}

/* Credit the day with everything the counter gathered and no earlier
 * rollover credited. */
static int roll_counter(shm_source *s, const char *name, const tally_day *day)
{
    char moved[TALLY_NAME_MAX + 1], key[TALLY_NAME_MAX + 16];
    tally_counter *c;
    int rc = tally_counter_get(s->region, name, &c);
    if (rc == TALLY_EFULL) {
        /* Nobody could add to a counter the region has no slot for. */
        s->api->log(s->host, TALLY_LOG_WARNING,
                    "daily counter '%s' is not in region '%s', which is full: nobody could "
                    "count it; %s gets 0",
                    name, s->region_name, day->date);
        return s->api->emit_counter_day(s->host, day->date, name, 0);
    }
    if (rc != 0) {
        s->api->log(s->host, TALLY_LOG_ERR, "rollover of counter '%s' in region '%s': %s", name,
                    s->region_name, tally_strerror(rc));
        return TALLY_HOST_ERR;
    }
    moved_name(name, moved, sizeof(moved));
    int64_t total, accounted;
    if (roll_total(s, name, c, moved, &total) != 0 ||
        accounted_of(s, name, moved, total, &accounted) != 0)
        return TALLY_HOST_ERR;
    char value[32];
    snprintf(value, sizeof(value), "%" PRId64, total);
    snprintf(key, sizeof(key), "moved.%s", name);
    if (s->api->emit_counter_day(s->host, day->date, name, total - accounted) != TALLY_HOST_OK ||
        s->api->state_put(s->host, key, value) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    snprintf(key, sizeof(key), "region.%s", name);
    return s->api->state_put(s->host, key, s->region_id);
}

struct roll_arg {
    shm_source *s;
    const tally_day *day;
    int failed;
};

static int roll_one(const char *name, int64_t value, void *arg)
{
    struct roll_arg *r = arg;
    /* Named ones were rolled already. */
    if (shm_is_daily(r->s, name) == SHM_DAILY_PREFIX &&
        roll_counter(r->s, name, r->day) != TALLY_HOST_OK)
        r->failed = 1;
    return 0;
}

struct rollover_call {
    shm_source *s;
    const tally_day *ended;
};

/* Named daily counters are rolled even if nobody registered them yet,
 * so every day has its row. */
static int roll_all(void *arg)
{
    struct rollover_call *c = arg;
    shm_source *s = c->s;
    struct roll_arg r = {s, c->ended, 0};
    for (size_t i = 0; i < s->n_daily; i++) {
        size_t n = strlen(s->daily[i]);
        if (n > 0 && s->daily[i][n - 1] != '*' &&
            roll_counter(s, s->daily[i], c->ended) != TALLY_HOST_OK)
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

/* Counters only say what accumulated since the last rollover, not on which
 * day: when the agent was down over several midnights, everything goes to
 * the last day that ended, and the earlier ones get nothing. The rollover
 * reads and writes the region under libtally's guard: its file may be
 * truncated by anyone who can write it. */
int shm_rollover(void *ctx, const tally_day *ended)
{
    shm_source *s = ctx;
    tally_day today;
    if (s->api->day_of(s->host, s->api->now(s->host), &today) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    if (ended->end_utc != today.start_utc)
        return TALLY_HOST_OK;
    if (shm_region_ready(s) != 0)
        return TALLY_HOST_ERR;
    struct rollover_call c = {s, ended};
    int rc = tally_guarded(s->region, roll_all, &c);
    if (rc == TALLY_ESHRUNK) {
        shm_region_lost(s, rc);
        return TALLY_HOST_ERR;
    }
    return rc;
}
