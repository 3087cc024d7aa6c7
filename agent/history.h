/*
 * history.h — the host's history_open/next/close (plugin.h): exporters
 * page through the user-days (served by the collector's history callbacks)
 * or the daily counter totals (counter_days.h) exactly as a snapshot's
 * cycle committed them, through the snapshot's pinned read. Any number of
 * reads at once, from any thread; each holds its snapshot until closed.
 */
#ifndef TALLY_AGENT_HISTORY_H
#define TALLY_AGENT_HISTORY_H

#include "tally/plugin.h"

/* Rows a page when the query says 0, and the most a page holds (a larger
 * page_rows is cut to it): memory stays a page's. */
#define HISTORY_PAGE_ROWS_DEFAULT 1000
#define HISTORY_PAGE_ROWS_MAX 100000

int history_open(tally_host *h, const tally_snapshot *snap, const tally_history_query *q,
                 tally_history **out);
int history_next(tally_history *it, tally_history_page *page);
void history_close(tally_history *it);

#endif
