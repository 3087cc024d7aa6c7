/*
 * cycle_report.h — what a cycle did, said in one place for everyone who
 * asks: the line the debug log (-v) gets after each cycle, and the STATUS
 * systemd shows in `systemctl status tallyd`. The host counts, per
 * instance, the records a source handed over, the rows it rejected and
 * the counters it emitted; the cycle marks the instances that failed.
 */
#ifndef TALLY_AGENT_CYCLE_REPORT_H
#define TALLY_AGENT_CYCLE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* A cycle begins: every instance's counts back to zero. */
void cycle_report_begin(agent *a);

/* A cycle ended (rc: cycle_run's) after seconds, at at_utc: kept in
 * a->last_cycle, and at debug level one line
 *   cycle 7 ok in 0.012 s: 1200 records, 3 rejected rows; csv "usage" 1200
 *   records, 3 rejected; jsonl "api" failed
 * A cycle is ok when it committed and no instance failed in it. */
void cycle_report_end(agent *a, int rc, int64_t seq, int64_t at_utc, double seconds);

/* The last cycle in a few words, for systemd's STATUS:
 *   last cycle ok at 2026-11-22T03:00:00Z in 0.012 s: 1200 records, 3 rejected rows
 * 0, or -1 before the first cycle (buf then says so). */
int cycle_report_status(const agent *a, char *buf, size_t cap);

#endif
