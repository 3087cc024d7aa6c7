/*
 * file_changes.c — what changed in the two long lists (user-days, daily
 * counter totals) since an instance's mark, at the cost of what changed.
 *
 * A mark at the snapshot's own seq: nothing. A mark at changed_after
 * (the cycle before, the usual case): the snapshot's arrays hold exactly
 * the changed rows. A mark further back (a failed export, a restart): the
 * host's history of the rows changed after the mark's seq says; asking
 * only whether there is one costs a one-row page.
 */
#include "file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil/civil.h"

void file_lists(const file_ctx *ctx, int *user_days, int *counter_days)
{
    *user_days = *counter_days = 0;
    switch (ctx->format) {
    case TALLY_FORMAT_JSON:
    case TALLY_FORMAT_INFLUX:
        *user_days = *counter_days = 1;
        break;
    case TALLY_FORMAT_CSV:
        *user_days = strcmp(ctx->csv_table, "user_days") == 0;
        *counter_days = strcmp(ctx->csv_table, "counter_days") == 0;
        break;
    case TALLY_FORMAT_PROMETHEUS:
        break;
    }
}

/* Open a read of table's rows changed after `after` in [from, to). */
static int history_open(const file_ctx *ctx, const tally_snapshot *snap, tally_history_table table,
                        int64_t after, const char *from, const char *to, size_t page_rows,
                        tally_history **it)
{
    tally_history_query q;
    memset(&q, 0, sizeof(q));
    q.struct_size = sizeof(q);
    q.table = table;
    q.changed_after = after;
    snprintf(q.from_date, sizeof(q.from_date), "%s", from);
    snprintf(q.to_date, sizeof(q.to_date), "%s", to);
    q.page_rows = page_rows;
    if (ctx->api->history_open(ctx->host, snap, &q, it) == TALLY_HOST_OK)
        return 0;
    *it = NULL;
    ctx->api->log(ctx->host, TALLY_LOG_ERR,
                  "cannot read what changed in the state's %s; nothing was written and the "
                  "next export tries again",
                  table == TALLY_HISTORY_USER_DAYS ? "user-days" : "daily counter totals");
    return TALLY_HOST_ERR;
}

static size_t page_len(tally_history_table table, const tally_history_page *page)
{
    return table == TALLY_HISTORY_USER_DAYS ? page->n_user_days : page->n_counter_days;
}

/* The date of the first row of table changed after `after` and dated
 * from `from` on ("": the oldest listed), in date (TALLY_DATE_LEN bytes):
 * 1, 0 when there is none, or TALLY_HOST_ERR (logged). A one-row page. */
static int first_date(const file_ctx *ctx, const tally_snapshot *snap, tally_history_table table,
                      int64_t after, const char *from, char *date)
{
    tally_history *it;
    if (history_open(ctx, snap, table, after, from, "", 1, &it) != 0)
        return TALLY_HOST_ERR;
    tally_history_page page;
    int rc = ctx->api->history_next(it, &page) == TALLY_HOST_OK ? 0 : TALLY_HOST_ERR;
    if (rc == 0 && page_len(table, &page) > 0) {
        const char *d =
            table == TALLY_HISTORY_USER_DAYS ? page.user_days[0].date : page.counter_days[0].date;
        snprintf(date, TALLY_DATE_LEN, "%.10s", d);
        rc = 1;
    }
    ctx->api->history_close(it);
    return rc;
}

int file_lists_changed(const file_ctx *ctx, const tally_snapshot *snap, int64_t after, int *changed)
{
    int ud, cd;
    file_lists(ctx, &ud, &cd);
    *changed = 0;
    if (after == snap->seq)
        return 0;
    if (after == snap->changed_after) {
        *changed = (ud && snap->n_user_days > 0) || (cd && snap->n_counter_days > 0);
        return 0;
    }
    char date[TALLY_DATE_LEN];
    int found = 0;
    if (ud)
        found = first_date(ctx, snap, TALLY_HISTORY_USER_DAYS, after, "", date);
    if (found == 0 && cd)
        found = first_date(ctx, snap, TALLY_HISTORY_COUNTER_DAYS, after, "", date);
    if (found < 0)
        return TALLY_HOST_ERR;
    *changed = found;
    return 0;
}

/* ---- the dates that changed ---- */

static int by_date(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Add date unless it is there; dates are few (one per listed day). */
static int dates_add(file_dates *d, const char *date)
{
    char key[TALLY_DATE_LEN];
    snprintf(key, sizeof(key), "%s", date);
    if (d->n > 0 && bsearch(key, d->v, d->n, sizeof(*d->v), by_date) != NULL)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        void *v = realloc(d->v, cap * sizeof(*d->v));
        if (v == NULL)
            return TALLY_HOST_ERR;
        d->v = v;
        d->cap = cap;
    }
    size_t at = d->n;
    while (at > 0 && strcmp(d->v[at - 1], key) > 0)
        at--;
    memmove(&d->v[at + 1], &d->v[at], (d->n - at) * sizeof(*d->v));
    memcpy(d->v[at], key, sizeof(key));
    d->n++;
    return 0;
}

/* Every date of table's rows changed after `after`, a page at a time. */
static int dates_from_history(const file_ctx *ctx, const tally_snapshot *snap,
                              tally_history_table table, int64_t after, file_dates *d)
{
    tally_history *it;
    if (history_open(ctx, snap, table, after, "", "", 0, &it) != 0)
        return TALLY_HOST_ERR;
    int rc = 0;
    for (;;) {
        tally_history_page page;
        if (ctx->api->history_next(it, &page) != TALLY_HOST_OK) {
            rc = TALLY_HOST_ERR;
            break;
        }
        size_t n = page_len(table, &page);
        if (n == 0)
            break;
        /* Rows come by date: only a new date is looked up. */
        const char *last = "";
        for (size_t i = 0; i < n && rc == 0; i++) {
            const char *date = table == TALLY_HISTORY_USER_DAYS ? page.user_days[i].date
                                                                : page.counter_days[i].date;
            if (strncmp(date, last, TALLY_DATE_LEN) != 0)
                rc = dates_add(d, date);
            last = date;
        }
        if (rc != 0)
            break;
    }
    ctx->api->history_close(it);
    return rc;
}

/* Every date of table that has a row, at one one-row read per date: the
 * first row from each date found on. For everything (no mark), where
 * paging through every row would read the whole list to learn a few
 * hundred dates; a read with changed_after 0 seeks by date. */
static int dates_by_seeking(const file_ctx *ctx, const tally_snapshot *snap,
                            tally_history_table table, file_dates *d)
{
    char from[TALLY_DATE_LEN] = "", date[TALLY_DATE_LEN];
    int found;
    while ((found = first_date(ctx, snap, table, 0, from, date)) == 1) {
        if (dates_add(d, date) != 0 || file_date_next(date, from) != 0)
            return TALLY_HOST_ERR;
    }
    return found;
}

int file_dates_changed(const file_ctx *ctx, const tally_snapshot *snap, const file_mark *mark,
                       file_dates *d)
{
    memset(d, 0, sizeof(*d));
    int rc = 0;
    if (mark != NULL && mark->seq == snap->seq)
        return 0;
    if (mark != NULL && mark->seq == snap->changed_after) {
        for (size_t i = 0; i < snap->n_user_days && rc == 0; i++)
            rc = dates_add(d, snap->user_days[i].date);
        for (size_t i = 0; i < snap->n_counter_days && rc == 0; i++)
            rc = dates_add(d, snap->counter_days[i].date);
    } else if (mark != NULL) {
        rc = dates_from_history(ctx, snap, TALLY_HISTORY_USER_DAYS, mark->seq, d);
        if (rc == 0)
            rc = dates_from_history(ctx, snap, TALLY_HISTORY_COUNTER_DAYS, mark->seq, d);
    } else {
        rc = dates_by_seeking(ctx, snap, TALLY_HISTORY_USER_DAYS, d);
        if (rc == 0)
            rc = dates_by_seeking(ctx, snap, TALLY_HISTORY_COUNTER_DAYS, d);
    }
    if (rc != 0) {
        file_dates_free(d);
        return TALLY_HOST_ERR;
    }
    return 0;
}

void file_dates_free(file_dates *d)
{
    free(d->v);
    memset(d, 0, sizeof(*d));
}

int file_date_next(const char *date, char next[TALLY_DATE_LEN])
{
    civil_date c;
    if (civil_parse_date(date, strnlen(date, TALLY_DATE_LEN), &c) != 0)
        return TALLY_HOST_ERR;
    civil_format_date(civil_date_from_days(civil_days_from_date(c) + 1), next);
    return 0;
}
