/*
 * selfstats.h — the agent's figures about itself (issue 14): cycles by
 * result, the last cycle's duration and success time, the start time and
 * build, and per plugin instance what the agent counts (a source's
 * records, rejected rows and errors; an exporter's exports by result)
 * and what the plugin reported with the host's metric callback. They
 * live for the running agent (they start at zero when it starts); a HUP
 * reload keeps an instance's figures when its plugin and title stay.
 * Exporter threads write to them, the cycle reads them: one mutex.
 */
#ifndef TALLY_AGENT_SELFSTATS_H
#define TALLY_AGENT_SELFSTATS_H

#include <stdint.h>

#include "tally/plugin.h"

struct agent;
typedef struct selfstats selfstats;
typedef struct self_inst self_inst; /* one plugin instance's figures */

/* start_utc: the wall clock at start. 0, or -1 (out of memory). */
int selfstats_new(const char *version, int64_t start_utc, selfstats **out);
void selfstats_free(selfstats *s);

/* A start of the plugin instances (at start and after each reload):
 * begin, then attach each instance, then end, which zeroes the figures of
 * every instance the new config no longer has (an entry is never freed
 * before selfstats_free: an abandoned export thread may still report). */
void selfstats_begin_attach(selfstats *s);
/* The entry of (plugin, title): the one kept from before a reload, or a
 * new one. 0, or -1 (out of memory). */
int selfstats_attach(selfstats *s, const char *plugin, const char *title, int kind,
                     self_inst **out);
void selfstats_end_attach(selfstats *s);

/* What a source handed over in a committed cycle, and its failed steps. */
void selfstats_source_add(self_inst *e, int64_t records, int64_t rejected, int64_t errors);
/* One export_snapshot's result. */
void selfstats_export(self_inst *e, int ok);
/* The host's metric callback: 0, or -1 with *why (selfmetric.h, or "one
 * name too many"). Any thread. */
int selfstats_metric(self_inst *e, const char *name, tally_metric_kind kind, double value,
                     const char *help, const char **why);
/* A cycle ended: ok (it committed and no step failed), how long it took,
 * and the wall clock then. */
void selfstats_cycle(selfstats *s, int ok, double seconds, int64_t end_utc);

/* A copy of every figure for a snapshot, instances in a->hosts' order,
 * each exporter that has spooled with its spool's figures: immutable,
 * owned by the caller (selfstats_copy_free). NULL when out of memory. */
tally_agent_stats *selfstats_copy(struct agent *a);
void selfstats_copy_free(tally_agent_stats *st);

#endif
