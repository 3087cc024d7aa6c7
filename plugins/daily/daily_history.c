/*
 * daily_history.c — the host's history of the users' days, served by the
 * collector (plugin.h: collector.history_open/next/close). Exporter
 * threads call these, several reads at once, while the main thread runs
 * cycles: a read goes through the connection the host passes (its read
 * transaction pinned at a snapshot's commit), never the collector's own,
 * and uses of the collector only what init fixed (the host and its API,
 * for messages). Sums that saturated are reported by the statistics, not
 * here: that bookkeeping belongs to the main thread.
 */
#include "daily.h"
#include "daily_rows.h"

#include <stdlib.h>
#include <string.h>

/* Rows per page when the query leaves it to us (plugin.h). */
#define DAILY_HISTORY_PAGE_ROWS 1000

typedef struct daily_history {
    tally_host *host;
    const tally_host_api *api;
    daily_rows rows;
} daily_history;

int daily_history_open(void *ctx, void *db, const tally_history_query *q, void **it)
{
    const daily_collector *d = ctx;
    *it = NULL;
    if (db == NULL || q == NULL || q->table != TALLY_HISTORY_USER_DAYS)
        return TALLY_HOST_EINVAL;
    daily_history *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return TALLY_HOST_ERR;
    h->host = d->host;
    h->api = d->api;
    const daily_rows_query rq = {
        .from = q->from_date,
        .to = q->to_date,
        .changed_after = q->changed_after,
        .key = q->key,
        .page_rows = q->page_rows ? q->page_rows : DAILY_HISTORY_PAGE_ROWS,
    };
    int rc = daily_rows_open(&h->rows, db, &rq);
    if (rc != SQLITE_OK) {
        /* The connection is shared by exporter threads: its last message
         * may be another read's, the code is this one's. */
        h->api->log(h->host, TALLY_LOG_ERR,
                    "could not start a read of the users' days from %s to %s in the state "
                    "database: %s; check that state_dir holds tally.db of this version",
                    q->from_date, q->to_date, sqlite3_errstr(rc));
        daily_history_close(h);
        return TALLY_HOST_ERR;
    }
    *it = h;
    return TALLY_HOST_OK;
}

int daily_history_next(void *it, tally_history_page *page)
{
    daily_history *h = it;
    memset(page, 0, sizeof(*page));
    int rc = daily_rows_next(&h->rows, &page->user_days, &page->n_user_days);
    if (rc != SQLITE_OK) {
        h->api->log(h->host, TALLY_LOG_ERR,
                    "could not read a page of the users' days from the state database: %s; "
                    "the read ends with an error to the exporter (its own message says what it "
                    "does next); check the disk and the file's owner",
                    sqlite3_errstr(rc));
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

void daily_history_close(void *it)
{
    daily_history *h = it;
    if (h == NULL)
        return;
    daily_rows_close(&h->rows);
    free(h);
}
