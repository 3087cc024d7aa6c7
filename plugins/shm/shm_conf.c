/*
 * shm_conf.c — the shm source's options, one row each with its check, and
 * building and freeing its instance from a checked config section.
 */
#include "shm.h"

#include "perm/perm.h"

#include <stdlib.h>
#include <sys/stat.h>
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

static int check_group(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *group = cfg_getstr(section, name);
    gid_t gid;
    if (group[0] != '\0' && perm_group_parse(group, &gid) != 0) {
        api->config_error(h, section,
                          "group '%s': no such group on this machine; give a group name or number "
                          "(see /etc/group), or leave it out for the agent's own group",
                          group);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static int check_owner(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *owner = cfg_getstr(section, name);
    uid_t uid;
    if (owner[0] != '\0' && perm_user_parse(owner, &uid) != 0) {
        api->config_error(h, section,
                          "owner '%s': no such user on this machine; give the user name or number "
                          "of the application that may create the region",
                          owner);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

/* Octal, no set-id or sticky bits, someone may read it, and not o+w:
 * libtally attaches no region every user may write (anyone could
 * truncate it). */
static int check_mode(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *text = cfg_getstr(section, name);
    mode_t mode;
    if (perm_mode_parse(text, 0777, &mode) != 0 || mode == 0) {
        api->config_error(h, section,
                          "mode '%s' is not a region mode; give octal digits from \"0001\" to "
                          "\"0777\", e.g. mode = \"0660\"",
                          text);
        return TALLY_HOST_ERR;
    }
    if (mode & S_IWOTH) {
        api->config_error(h, section,
                          "mode '%s' lets every user write the region, and libtally attaches no "
                          "such region (anyone could truncate it); use \"0660\" with a group",
                          text);
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
    {CFG_STR("group", "", CFGF_NONE),
     "the group (name or number) of the region if this source creates it; empty = the agent's "
     "group. Put the agent and the applications in it",
     check_group},
    {CFG_STR("mode", "0660", CFGF_NONE),
     "the octal mode of the region if this source creates it, whatever the umask; o+w is refused",
     check_mode},
    {CFG_STR("owner", "", CFGF_NONE),
     "a user (name or number) trusted to own the region besides the agent's user and root: the "
     "application's, when it may create the region first",
     check_owner},
    {CFG_BOOL("readonly", cfg_false, CFGF_NONE),
     "attach read-only (never create, never write): for an agent that may only read the region; "
     "not with daily, whose rollover zeroes counters",
     NULL},
    TALLY_OPTION_END,
};

int shm_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    if (cfg_getbool(section, "readonly") && cfg_size(section, "daily") > 0) {
        api->config_error(h, section,
                          "readonly = true cannot go with daily: the rollover zeroes daily "
                          "counters, which needs write access; drop daily, or readonly and give "
                          "the agent write access (the region's group)");
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

/* The open options the checked section asks for. */
static void open_opts_of(cfg_t *section, tally_open_opts *o)
{
    mode_t mode = 0660;
    perm_mode_parse(cfg_getstr(section, "mode"), 0777, &mode);
    o->capacity = (uint32_t)cfg_getint(section, "capacity");
    o->mode = mode;
    if (perm_group_parse(cfg_getstr(section, "group"), &o->group) == 0)
        o->flags |= TALLY_OPEN_GROUP;
    if (perm_user_parse(cfg_getstr(section, "owner"), &o->owner) == 0)
        o->flags |= TALLY_OPEN_OWNER;
    if (cfg_getbool(section, "readonly"))
        o->flags |= TALLY_OPEN_RDONLY;
}

int shm_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, shm_source **out)
{
    shm_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    s->region_name = strdup(cfg_getstr(section, "region"));
    open_opts_of(section, &s->open);
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
