/*
 * snapshot.h — the immutable, reference-counted snapshot a cycle hands to
 * every exporter thread: the cycle's live counters, the statistics (empty
 * until a daily collector fills them), the agent's own figures, the user-days and daily counter
 * totals that cycle changed, and a read of the state pinned as the cycle
 * committed it, through which exporters page the rest (history.h).
 */
#ifndef TALLY_AGENT_SNAPSHOT_H
#define TALLY_AGENT_SNAPSHOT_H

#include <stdatomic.h>

#include "agent.h"

struct sqlite3;

typedef struct snap_ref {
    tally_snapshot s;
    _Atomic int refs;
    tally_counter_value *counters; /* owned */
    size_t n_counters;
    tally_counter_day *counter_days; /* owned: the changed ones */
    size_t n_counter_days;
    /* owned: a copy of the collector's; user_days[0].user_id starts the
     * one block all user ids are in */
    tally_stats stats;
    /* A connection of its own on the state file with a read transaction
     * opened right after the cycle's commit: history reads the state as
     * of this snapshot whatever commits later. Closed with the last
     * reference (any thread). NULL if it could not be opened (logged;
     * history then fails). */
    struct sqlite3 *view;
    /* Serves the user-days' history, or NULL (no collector). */
    struct tally_host *collector;
    struct conf_map *map;       /* a reference: s.map stays valid across a reload */
    char today[TALLY_DATE_LEN]; /* the business day of s.now_utc */
    /* References exporters keep with snapshot_hold (plugin.h), each
     * counted in refs too: snapshot_release gives back only these, never
     * the agent's own. */
    _Atomic int holds;
    tally_agent_stats *agent;   /* owned: s.agent, a copy (selfstats.h) */
    struct snap_ref *next_live; /* snap_ref_find's list */
} snap_ref;

/* Build from the cycle that just committed as `seq`: takes the cycle's
 * counters, asks the collector (if any) for the statistics, reads the
 * counter totals that cycle changed and pins the view. Costs what the
 * cycle changed and the days listed, never what the state keeps (but for
 * a state's first cycle, seq 1, whose changed_after 0 means every row).
 * Returns NULL (logged) on failure. One reference is the caller's. */
snap_ref *snap_build(agent *a, int64_t seq, int64_t now, int32_t now_nsec);
void snap_ref_get(snap_ref *r);
void snap_ref_put(snap_ref *r);
/* The live snapshot snap is (or is a copy of: the same seq and
 * state_id), with a reference taken for the caller, or NULL: not a
 * snapshot the agent handed out, or one gone. */
snap_ref *snap_ref_find(const tally_snapshot *snap);

/* The host's snapshot_hold and snapshot_release (plugin.h): keep the
 * live snapshot snap is (its reference counted as a hold) or give one
 * hold back. hold: 0, or -1 when snap is not live (snap_ref_find).
 * release: 0, or -1 when snap holds no hold (nothing is dropped). */
int snap_hold(const tally_snapshot *snap);
int snap_release(const tally_snapshot *snap);

#endif
