/*
 * counter_days.h — the daily counter totals (the agent's counter_days
 * table) read a page at a time, sorted by date then name, on any
 * connection to the state: the cycle's own, for the rows a snapshot
 * carries, or a snapshot's pinned read, for the host's history. Each row
 * carries the seq of the cycle that last changed it (state.h), so the
 * rows changed after a seq cost what changed, not what is kept.
 */
#ifndef TALLY_AGENT_COUNTER_DAYS_H
#define TALLY_AGENT_COUNTER_DAYS_H

#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

struct sqlite3;
typedef struct counter_days_read counter_days_read;

/* Which rows: changed in (changed_after, up_to] (changed_after < 0:
 * every row up to up_to, also those an older release wrote, which carry
 * 0; up_to 0: no upper bound), dated in [from, to) (NULL: no bound),
 * named `name` (NULL: every name). */
typedef struct counter_days_filter {
    int64_t changed_after, up_to;
    const char *from, *to;
    const char *name;
} counter_days_filter;

/* Start a read of f on db, page_rows rows a page (> 0). 0, or -1 (logged
 * with the database's file). The reader copies f; db must outlive it, and
 * one thread at a time uses a reader (several readers may share a
 * serialized connection). */
int counter_days_open(struct sqlite3 *db, const counter_days_filter *f, size_t page_rows,
                      counter_days_read **out);
/* The next page: *rows (the reader's memory, valid until the next call or
 * close) and *n, 0 at the end. 0, or -1 (logged). */
int counter_days_next(counter_days_read *r, const tally_counter_day **rows, size_t *n);
void counter_days_close(counter_days_read *r);

/* Every row of f at once, in memory of the caller's (free it with
 * counter_days_free): for the rows one cycle changed, which are few. It
 * stops once it holds more than max (a page more at most), so the caller
 * sees *n > max and memory stays bounded. 0, or -1 (logged). */
int counter_days_all(struct sqlite3 *db, const counter_days_filter *f, size_t max,
                     tally_counter_day **out, size_t *n);
void counter_days_free(tally_counter_day *rows, size_t n);

#endif
