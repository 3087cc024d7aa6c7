/*
 * snapshot.h — the immutable, reference-counted snapshot a cycle hands to
 * every exporter thread: the cycle's live counters, the daily counter
 * totals from the state store, and the statistics (empty until a daily
 * collector fills them).
 */
#ifndef TALLY_AGENT_SNAPSHOT_H
#define TALLY_AGENT_SNAPSHOT_H

#include <stdatomic.h>

#include "agent.h"

typedef struct snap_ref {
    tally_snapshot s;
    _Atomic int refs;
    tally_counter_value *counters; /* owned */
    size_t n_counters;
    tally_counter_day *counter_days; /* owned */
    size_t n_counter_days;
    /* owned: a copy of the collector's; user_days[0].user_id starts the
     * one block all user ids are in */
    tally_stats stats;
} snap_ref;

/* Build from the cycle that just committed; takes the cycle's counters
 * and asks the collector (if any) for the statistics.
 * Returns NULL (logged) on failure. One reference is the caller's. */
snap_ref *snap_build(agent *a, int64_t now, int32_t now_nsec);
void snap_ref_get(snap_ref *r);
void snap_ref_put(snap_ref *r);

#endif
