/*
 * cycle.h — one collection cycle: in ONE state transaction, tell sources
 * and collectors about every business day that ended since the last
 * cycle, let every source collect, and commit; then build the snapshot and
 * hand it to the exporters. A crash anywhere before the commit leaves the
 * state as the last cycle committed it, so nothing is lost or doubled.
 */
#ifndef TALLY_AGENT_CYCLE_H
#define TALLY_AGENT_CYCLE_H

#include "agent.h"

/* 0, or -1 if the cycle's transaction could not commit (logged); a
 * failing source is logged and skipped, the others still commit. */
int cycle_run(agent *a);

#endif
