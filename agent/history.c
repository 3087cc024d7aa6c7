/*
 * history.c — see history.h.
 *
 * A read holds a reference on its snapshot, so the pinned connection it
 * reads through lives as long as the read, even past export_snapshot. The
 * user-days are the collector's tables, read by the collector's callbacks
 * on that connection; a collector stopped meanwhile (a reload, shutdown)
 * is never called again: its reads fail, and their close leaks the
 * collector's iterator rather than call into a stopped plugin.
 */
#include "history.h"

#include "civil/civil.h"
#include "counter_days.h"
#include "log.h"
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

struct tally_history {
    snap_ref *snap;
    tally_history_table table;
    char who[600];           /* the exporter reading, for messages */
    int empty;               /* nothing to read: every page is the end */
    counter_days_read *days; /* COUNTER_DAYS */
    struct tally_host *collector;
    void *theirs; /* USER_DAYS: the collector's read */
    char *key;    /* the query's, for as long as the read */
};

/* "" or a date that exists, "YYYY-MM-DD", NUL inside the array. */
static int date_ok(const char d[TALLY_DATE_LEN])
{
    civil_date unused;
    return d[0] == '\0' ||
           (strnlen(d, TALLY_DATE_LEN) == 10 && civil_parse_date(d, 10, &unused) == 0);
}

/* What the query may be: every member of ABI 4's query there, a table,
 * dates, a seq; 0 or an explanation. */
static const char *query_problem(const tally_history_query *q)
{
    if (q->struct_size < offsetof(tally_history_query, page_rows) + sizeof(q->page_rows))
        return "struct_size is less than ABI 4's query: set it to sizeof(tally_history_query)";
    if (q->table != TALLY_HISTORY_USER_DAYS && q->table != TALLY_HISTORY_COUNTER_DAYS)
        return "table is neither TALLY_HISTORY_USER_DAYS nor TALLY_HISTORY_COUNTER_DAYS";
    if (!date_ok(q->from_date) || !date_ok(q->to_date))
        return "from_date and to_date must each be \"\" or a date YYYY-MM-DD that exists";
    if (q->changed_after < 0)
        return "changed_after is negative (0 reads every row)";
    return NULL;
}

/* The query as read: "" dates filled in, both clamped to the listed days
 * [oldest_kept, today) of the agent's own snapshot (not what a copy an
 * exporter passed may say), the page size settled. */
static void settle(const snap_ref *r, tally_history_query *q)
{
    if (q->from_date[0] == '\0' || strcmp(q->from_date, r->s.oldest_kept) < 0)
        memcpy(q->from_date, r->s.oldest_kept, TALLY_DATE_LEN);
    if (q->to_date[0] == '\0' || strcmp(q->to_date, r->today) > 0)
        memcpy(q->to_date, r->today, TALLY_DATE_LEN);
    if (q->page_rows == 0)
        q->page_rows = HISTORY_PAGE_ROWS_DEFAULT;
    if (q->page_rows > HISTORY_PAGE_ROWS_MAX)
        q->page_rows = HISTORY_PAGE_ROWS_MAX;
}

/* The collector's history_open under its life lock; -1 if it stopped. */
static int open_theirs(tally_history *it, const tally_history_query *q)
{
    struct tally_host *c = it->collector;
    const tally_plugin_collector *cb = &c->plugin->desc.collector;
    pthread_rwlock_rdlock(&c->life);
    int stopped = c->stopped;
    int rc = stopped ? TALLY_HOST_ERR : cb->history_open(c->ctx, it->snap->view, q, &it->theirs);
    pthread_rwlock_unlock(&c->life);
    if (rc != TALLY_HOST_OK) {
        log_msg(TALLY_LOG_ERR, "%s: %s could not start a read of the user-days (%s)", it->who,
                c->who, stopped ? "it has stopped" : "see above");
        it->theirs = NULL;
        return -1;
    }
    return 0;
}

static int start_read(tally_history *it, const tally_history_query *q)
{
    if (strcmp(q->from_date, q->to_date) >= 0 ||
        (q->table == TALLY_HISTORY_USER_DAYS && it->collector == NULL)) {
        it->empty = 1; /* no day in range, or no collector: no user-day */
        return 0;
    }
    if (it->snap->view == NULL) {
        log_msg(TALLY_LOG_ERR,
                "%s: this snapshot (cycle %lld) has no read of the state (see above); the next "
                "one will",
                it->who, (long long)it->snap->s.seq);
        return -1;
    }
    if (q->table == TALLY_HISTORY_USER_DAYS)
        return open_theirs(it, q);
    counter_days_filter f = {.changed_after = q->changed_after > 0 ? q->changed_after : -1,
                             .up_to = it->snap->s.seq,
                             .from = q->from_date,
                             .to = q->to_date,
                             .name = q->key};
    return counter_days_open(it->snap->view, &f, q->page_rows, &it->days);
}

int history_open(tally_host *h, const tally_snapshot *snap, const tally_history_query *q,
                 tally_history **out)
{
    if (out == NULL)
        return TALLY_HOST_EINVAL;
    *out = NULL;
    if (h == NULL || snap == NULL || q == NULL)
        return TALLY_HOST_EINVAL;
    const char *problem = query_problem(q);
    if (problem != NULL) {
        log_msg(TALLY_LOG_ERR, "%s: history_open: %s", h->who, problem);
        return TALLY_HOST_EINVAL;
    }
    snap_ref *r = snap_ref_find(snap);
    if (r == NULL) {
        log_msg(TALLY_LOG_ERR,
                "%s: history_open: the snapshot of cycle %lld of state %.32s is not one tallyd "
                "handed over, or it is gone (read history during export_snapshot, or keep a "
                "read open)",
                h->who, (long long)snap->seq, snap->state_id);
        return TALLY_HOST_EINVAL;
    }
    tally_history *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        snap_ref_put(r);
        return TALLY_HOST_ERR;
    }
    it->snap = r;
    it->table = q->table;
    it->collector = r->collector;
    snprintf(it->who, sizeof(it->who), "%s", h->who);
    tally_history_query settled;
    memcpy(&settled, q, sizeof(settled));
    settled.struct_size = sizeof(settled);
    settle(r, &settled);
    if (q->key != NULL && (settled.key = it->key = strdup(q->key)) == NULL) {
        history_close(it);
        return TALLY_HOST_ERR;
    }
    if (start_read(it, &settled) != 0) {
        history_close(it);
        return TALLY_HOST_ERR;
    }
    *out = it;
    return TALLY_HOST_OK;
}

int history_next(tally_history *it, tally_history_page *page)
{
    if (it == NULL || page == NULL)
        return TALLY_HOST_EINVAL;
    memset(page, 0, sizeof(*page));
    if (it->empty)
        return TALLY_HOST_OK;
    if (it->days != NULL)
        return counter_days_next(it->days, &page->counter_days, &page->n_counter_days) == 0
                   ? TALLY_HOST_OK
                   : TALLY_HOST_ERR;
    struct tally_host *c = it->collector;
    pthread_rwlock_rdlock(&c->life);
    int stopped = c->stopped;
    int rc = stopped ? TALLY_HOST_ERR : c->plugin->desc.collector.history_next(it->theirs, page);
    pthread_rwlock_unlock(&c->life);
    if (stopped)
        log_msg(TALLY_LOG_ERR, "%s: %s stopped during a read of the user-days", it->who, c->who);
    /* Only the query's table: a page is one list. */
    page->counter_days = NULL;
    page->n_counter_days = 0;
    if (rc != TALLY_HOST_OK)
        memset(page, 0, sizeof(*page));
    return rc == TALLY_HOST_OK ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

void history_close(tally_history *it)
{
    if (it == NULL)
        return;
    counter_days_close(it->days);
    struct tally_host *c = it->collector;
    if (it->theirs != NULL) {
        pthread_rwlock_rdlock(&c->life);
        if (!c->stopped)
            c->plugin->desc.collector.history_close(it->theirs);
        pthread_rwlock_unlock(&c->life);
    }
    /* Last: the collector's read used the snapshot's connection. */
    snap_ref_put(it->snap);
    free(it->key);
    free(it);
}
