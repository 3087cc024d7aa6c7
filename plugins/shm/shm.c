/*
 * shm.c — the shm source: each cycle, the live value of every counter of
 * its region; at each business-day rollover (shm_rollover.c), the daily
 * counters' values, read and zeroed, as that day's totals.
 */
#include "shm.h"

#include <inttypes.h>
#include <string.h>

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

struct collect_arg {
    struct emit_arg *e;
    uint32_t skipped;
};

static int collect_guarded(void *arg)
{
    struct collect_arg *c = arg;
    return tally_foreach_checked(c->e->s->region, NULL, emit_one, c->e, &c->skipped);
}

struct info_arg {
    tally_region *region;
    tally_info info;
};

static int info_guarded(void *arg)
{
    struct info_arg *a = arg;
    return tally_info_get(a->region, &a->info);
}

/* The agent's figures (plugin.h, metric): the region's slots, how many
 * are taken, and registrations refused because it was full (kept in the
 * region, so across agent restarts). Read under the guard: the region
 * may shrink under the mapping. */
static void report_figures(shm_source *s)
{
    struct info_arg a = {.region = s->region};
    if (!TALLY_API_HAS(s->api, metric) || tally_guarded(s->region, info_guarded, &a) != 0)
        return;
    s->api->metric(s->host, "region_capacity", TALLY_METRIC_GAUGE, (double)a.info.capacity,
                   "Counter slots of the region.");
    s->api->metric(s->host, "region_used", TALLY_METRIC_GAUGE, (double)a.info.used,
                   "Counter slots of the region in use.");
    s->api->metric(s->host, "region_overflow_total", TALLY_METRIC_COUNTER,
                   (double)a.info.overflow,
                   "Counters the region refused because it was full (kept in the region).");
}

static int shm_collect(void *ctx)
{
    shm_source *s = ctx;
    if (shm_region_ready(s) != 0)
        return TALLY_HOST_ERR;
    struct emit_arg e = {s, 0};
    struct collect_arg c = {&e, 0};
    int rc = tally_guarded(s->region, collect_guarded, &c);
    if (rc == TALLY_ESHRUNK) {
        shm_region_lost(s, rc);
        return TALLY_HOST_ERR;
    }
    uint32_t skipped = c.skipped;
    /* Hostile names are never passed on, and never logged: their bytes
     * could be anything. Only how many there are. */
    if (rc == 0 && skipped != s->last_skipped && skipped > 0)
        s->api->log(s->host, TALLY_LOG_WARNING,
                    "region '%s': %" PRIu32 " counter record(s) not read: their names are not "
                    "valid, or repeat another's, so libtally did not write them; something with "
                    "write access to the region did (check its owner and mode)",
                    s->region_name, skipped);
    if (rc == 0)
        s->last_skipped = skipped;
    if (rc == 0)
        report_figures(s);
    return rc == 0 && !e.failed ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int shm_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    shm_source *s;
    /* A region truncated under the agent must not kill it (guard.c). */
    int rc = tally_guard_install();
    if (rc != 0) {
        api->log(h, TALLY_LOG_ERR, "installing libtally's SIGBUS guard: %s", tally_strerror(rc));
        return TALLY_HOST_ERR;
    }
    if (shm_conf_build(h, api, section, &s) != TALLY_HOST_OK) {
        tally_guard_remove();
        return TALLY_HOST_ERR;
    }
    /* A missing region is created now; a bad one is reported and retried
     * each cycle, so the agent still runs its other plugins. */
    shm_region_ready(s);
    *ctx = s;
    return TALLY_HOST_OK;
}

static void shm_stop(void *ctx)
{
    shm_conf_free(ctx);
    tally_guard_remove();
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "shm",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "the counters of a libtally shared-memory region, and daily totals of some",
    .options = shm_options,
    .check = shm_conf_check,
    .init = shm_init,
    .rollover = shm_rollover,
    .stop = shm_stop,
    .source = {
        .collect = shm_collect,
    });
/* clang-format on */
