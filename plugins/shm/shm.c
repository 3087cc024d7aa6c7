/*
 * shm.c — the shm source: each cycle, the live value of every counter of
 * its region; at each business-day rollover (shm_rollover.c), the daily
 * counters' values, read and zeroed, as that day's totals.
 */
#include "shm.h"

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

static int shm_collect(void *ctx)
{
    shm_source *s = ctx;
    if (shm_region_ready(s) != 0)
        return TALLY_HOST_ERR;
    struct emit_arg e = {s, 0};
    int rc = tally_foreach(s->region, NULL, emit_one, &e);
    return rc == 0 && !e.failed ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int shm_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    shm_source *s;
    if (shm_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    /* A missing region is created now; a bad one is reported and retried
     * each cycle, so the agent still runs its other plugins. */
    shm_region_ready(s);
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
