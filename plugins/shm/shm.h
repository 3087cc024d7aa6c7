/*
 * shm.h — the shm source's instance: one libtally region, and the daily
 * counters (names, or prefixes ending in '*') it reads and zeroes at each
 * business-day rollover.
 */
#ifndef TALLY_PLUGIN_SHM_H
#define TALLY_PLUGIN_SHM_H

#include <stdint.h>
#include <sys/types.h>

#include "tally.h"
#include "tally/plugin.h"

/* Counters the agent keeps in the region to make rollovers crash-safe. */
#define SHM_MOVED_PREFIX "tally.moved."

typedef struct shm_source {
    tally_host *host;
    const tally_host_api *api;
    char *region_name;
    tally_open_opts open; /* how the region is opened: mode, group, owner,
                           * read-only (options group, mode, owner, readonly) */
    char **daily; /* names, or prefixes ending in '*' */
    size_t n_daily;
    tally_region *region; /* NULL until it opens */
    int last_open_error;  /* logged once, until it changes */
    uint32_t last_skipped; /* records not read (tally_foreach_checked):
                            * logged when the number changes */
    char region_id[17];   /* the open region's identity, in hex: what the
                           * rollover marks in the state belong to */
} shm_source;

extern const tally_option shm_options[];
/* Checks across options (readonly with daily), for tallyd -t too. */
int shm_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
int shm_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, shm_source **out);
void shm_conf_free(shm_source *s);

/* The region, opened if it is not, and opened again if its path now names
 * another region. 0, or -1 (logged) when there is none to read. */
int shm_region_ready(shm_source *s);
/* The region's file shrank under the mapping (TALLY_ESHRUNK from a
 * guarded read): logged, closed; the next cycle opens it again. */
void shm_region_lost(shm_source *s, int rc);
/* Whether a counter is one of the daily ones: 0, or how it is named. */
enum { SHM_DAILY_NAMED = 1, SHM_DAILY_PREFIX = 2 };
int shm_is_daily(const shm_source *s, const char *name);
int shm_rollover(void *ctx, const tally_day *ended);

#endif
