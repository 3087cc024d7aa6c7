/*
 * shm_region.c — the shm source's region: opened on demand, and opened
 * again when its path names another region. A region removed while the
 * agent has it mapped lives on, unseen by anyone else, as long as the
 * mapping does: without this check the agent would export its frozen
 * values forever, and roll over counters nobody adds to.
 */
#include "shm.h"

#include "perm/perm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

/* Why the region could not be opened; refused for who owns it or who may
 * use it, with its owner, group and mode as ls -l shows them. */
static void log_open_error(shm_source *s, int rc)
{
    char desc[700];
    if (rc != TALLY_EOWNER && rc != TALLY_EMODE && rc != -EACCES && rc != -EPERM) {
        s->api->log(s->host, TALLY_LOG_ERR, "region '%s': %s", s->region_name, tally_strerror(rc));
        return;
    }
    perm_region_describe(s->region_name, desc, sizeof(desc));
    if (rc == TALLY_EOWNER || rc == TALLY_EMODE)
        s->api->log(s->host, TALLY_LOG_ERR, "region '%s' (%s): %s", s->region_name, desc,
                    tally_strerror(rc));
    else
        s->api->log(s->host, TALLY_LOG_ERR,
                    "region '%s' (%s): %s; " PERM_REGION_ACCESS_HINT
                    " (the agent's unit: SupplementaryGroups=), or set readonly = true if the "
                    "agent only reads it",
                    s->region_name, desc, tally_strerror(rc));
}

static int open_region(shm_source *s)
{
    int rc = tally_open(&s->region, s->region_name, &s->open);
    tally_identity id;
    if (rc == 0 && (rc = tally_identity_get(s->region, &id)) != 0) {
        tally_close(s->region);
        s->region = NULL;
    }
    if (rc != 0) {
        /* A region another layout wrote is reported, never read. */
        if (rc != s->last_open_error)
            log_open_error(s, rc);
        s->last_open_error = rc;
        s->region = NULL;
        return -1;
    }
    if (s->last_open_error != 0)
        s->api->log(s->host, TALLY_LOG_INFO, "region '%s' is open again", s->region_name);
    s->last_open_error = 0;
    snprintf(s->region_id, sizeof(s->region_id), "%016" PRIx64, id.id);
    return 0;
}

struct carry_arg {
    shm_source *s;
    tally_region *from, *to;
    int64_t lost;
    tally_info info; /* of the new region */
};

/* A daily counter's count since the last rollover, moved from the old
 * region into the new one, so the next rollover credits it. */
static int carry_one(const char *name, int64_t value, void *arg)
{
    struct carry_arg *c = arg;
    tally_counter *from, *to;
    if (value == 0 || !shm_is_daily(c->s, name) || tally_counter_find(c->from, name, &from) != 0)
        return 0;
    if (tally_counter_get(c->to, name, &to) != 0) {
        c->lost += value;
        return 0;
    }
    tally_add(to, tally_reset(from));
    return 0;
}

static int carry_all(void *arg)
{
    struct carry_arg *c = arg;
    return tally_foreach(c->from, NULL, carry_one, c);
}

/* Under the guard of both regions: either file may be the one cut short. */
static int carry_guarded(void *arg)
{
    struct carry_arg *c = arg;
    return tally_guarded(c->to, carry_all, c);
}

static int info_of(void *arg)
{
    struct carry_arg *c = arg;
    return tally_info_get(c->to, &c->info);
}

int shm_region_ready(shm_source *s)
{
    if (s->region == NULL)
        return open_region(s);
    int rc = tally_check_path(s->region);
    if (rc != TALLY_EREPLACED) {
        /* 0, or the path cannot be checked now (a directory became
         * unreadable): keep reading the mapping rather than lose it. */
        if (rc != 0)
            s->api->log(s->host, TALLY_LOG_DEBUG, "region '%s': cannot check its path: %s",
                        s->region_name, tally_strerror(rc));
        return 0;
    }
    struct carry_arg c = {.s = s, .from = s->region};
    s->region = NULL;
    if (open_region(s) != 0) {
        /* Logged once by open_region; the old region's daily counts wait
         * in it for the next try. */
        s->region = c.from;
        return -1;
    }
    c.to = s->region;
    /* Guarded: the new file may already be cut short (the next collect
     * says so); its path is then the name's. */
    rc = tally_guarded(c.to, info_of, &c);
    s->api->log(s->host, TALLY_LOG_WARNING,
                "region '%s' was removed or replaced while open (path %s); reading the one there "
                "now: its counters start again from zero",
                s->region_name, rc == 0 ? c.info.path : s->region_name);
    /* A read-only source has no daily counters to carry, and may not write. */
    int readonly = (s->open.flags & TALLY_OPEN_RDONLY) != 0;
    if (!readonly && tally_guarded(c.from, carry_guarded, &c) == TALLY_ESHRUNK)
        s->api->log(s->host, TALLY_LOG_ERR,
                    "region '%s': carrying the daily counts of the region it replaced: %s; what "
                    "they gathered since the last rollover is lost",
                    s->region_name, tally_strerror(TALLY_ESHRUNK));
    tally_close(c.from);
    if (c.lost != 0)
        s->api->log(s->host, TALLY_LOG_ERR,
                    "region '%s' is full: %" PRId64 " counted by daily counters of the region it "
                    "replaced could not be carried into it, and will be missing from today",
                    s->region_name, c.lost);
    return 0;
}

void shm_region_lost(shm_source *s, int rc)
{
    s->api->log(s->host, TALLY_LOG_ERR, "region '%s': %s; it is closed and opened again next cycle",
                s->region_name, tally_strerror(rc));
    tally_close(s->region);
    s->region = NULL;
    s->last_open_error = 0;
}
