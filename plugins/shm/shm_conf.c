/*
 * shm_conf.c — the shm source's options, one row each with its check, and
 * building and freeing its instance from a checked config section.
 */
#include "shm.h"

#include <stdlib.h>
#include <string.h>

/* A daily entry: a counter name, or a prefix of one followed by '*'. */
static int daily_entry_ok(const char *e)
{
    size_t n = strlen(e);
    if (n >= 1 && e[n - 1] == '*') {
        if (n == 1)
            return 1; /* every counter */
        char prefix[TALLY_NAME_MAX + 1];
        if (n - 1 > TALLY_NAME_MAX)
            return 0;
        memcpy(prefix, e, n - 1);
        prefix[n - 1] = '\0';
        return tally_name_valid(prefix) == 0;
    }
    return tally_name_valid(e) == 0;
}

static int check_region(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *region = cfg_getstr(section, name);
    if (region == NULL || region[0] == '\0') {
        api->config_error(h, section, "region must not be empty: give a name or a path");
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static int check_daily(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    int bad = 0;
    for (unsigned i = 0; i < cfg_size(section, name); i++) {
        const char *e = cfg_getnstr(section, name, i);
        if (!daily_entry_ok(e)) {
            api->config_error(h, section,
                              "daily entry '%s' is not a counter name (1..64 bytes of UTF-8, "
                              "no control characters) or a prefix ending in '*'",
                              e);
            bad = 1;
        }
    }
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

static int check_capacity(tally_host *h, const tally_host_api *api, cfg_t *section,
                          const char *name)
{
    long cap = cfg_getint(section, name);
    if (cap < 0 || cap > (long)TALLY_MAX_CAPACITY) {
        api->config_error(h, section, "capacity %ld is out of range: use 0..%u", cap,
                          TALLY_MAX_CAPACITY);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

const tally_option shm_options[] = {
    {CFG_STR("region", "tally", CFGF_NONE),
     "the region: a POSIX shared memory name (/dev/shm/NAME), or a file path if it contains "
     "'/'; created on demand",
     check_region},
    {CFG_STR_LIST("daily", "{}", CFGF_NONE),
     "counters read and zeroed at each business-day rollover, their values kept per day: "
     "names, or prefixes ending in '*'",
     check_daily},
    {CFG_INT("capacity", 0, CFGF_NONE),
     "counters in the region if this source creates it (0 = libtally's default, 4096)",
     check_capacity},
    TALLY_OPTION_END,
};

int shm_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, shm_source **out)
{
    shm_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    s->region_name = strdup(cfg_getstr(section, "region"));
    s->capacity = (uint32_t)cfg_getint(section, "capacity");
    s->n_daily = cfg_size(section, "daily");
    s->daily = calloc(s->n_daily ? s->n_daily : 1, sizeof(*s->daily));
    int ok = s->region_name != NULL && s->daily != NULL;
    for (size_t i = 0; ok && i < s->n_daily; i++)
        ok = (s->daily[i] = strdup(cfg_getnstr(section, "daily", (unsigned)i))) != NULL;
    if (!ok) {
        shm_conf_free(s);
        return TALLY_HOST_ERR;
    }
    *out = s;
    return TALLY_HOST_OK;
}

void shm_conf_free(shm_source *s)
{
    if (s == NULL)
        return;
    tally_close(s->region);
    for (size_t i = 0; i < s->n_daily; i++)
        free(s->daily[i]);
    free(s->daily);
    free(s->region_name);
    free(s);
}
