/*
 * cycle.h — one collection cycle: in ONE state transaction, take the
 * cycle's seq (the last committed one + 1), tell sources and collectors
 * about every business day that ended since the last cycle, let every
 * source collect, and commit; then build the snapshot and hand it to the
 * exporters. A crash anywhere before the commit leaves the state as the
 * last cycle committed it, so nothing is lost or doubled, and no seq is
 * skipped or given twice.
 */
#ifndef TALLY_AGENT_CYCLE_H
#define TALLY_AGENT_CYCLE_H

#include <stdint.h>

#include "agent.h"

/* 0, or -1 if the cycle's transaction could not commit (logged); a
 * failing source is logged and skipped, the others still commit. */
int cycle_run(agent *a);

/* tallyd --recompute: in one transaction with a seq of its own, the
 * collector forgets the business days that start in [from, to) and every
 * source emits again what it has consumed; only records created in
 * [from, to) are folded. Running it twice changes nothing. 0, or -1 with
 * nothing changed. */
int cycle_recompute(agent *a, int64_t from, int64_t to);

#endif
