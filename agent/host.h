/*
 * host.h — the tally_host_api that plugins call, and starting, checking
 * and stopping plugin instances through their descriptors.
 */
#ifndef TALLY_AGENT_HOST_H
#define TALLY_AGENT_HOST_H

#include "agent.h"

extern const tally_host_api host_api;

/* Run a plugin's option checks and its check on one section (no side
 * effects). 0 or -1. */
int host_check(const loaded_plugin *lp, const char *title, cfg_t *section);

/* Build a->hosts from a->conf and init every instance. On failure, the
 * instances started are stopped again and -1 is returned. */
int host_start_all(agent *a);
/* Stop every started instance; hosts whose export hangs are skipped by
 * the caller (see exportq). */
void host_stop_all(agent *a);

/* Forget the counters of the last cycle, and what each source handed
 * over in it. */
void host_cycle_reset(agent *a);

#endif
