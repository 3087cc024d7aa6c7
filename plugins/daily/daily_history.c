/*
 * daily_history.c — the users' days read from the tables a batch of rows
 * at a time: for the statistics (the rows changed since a cycle) and for
 * the host's history pages (exporters, on their own threads, through a
 * database handle of the host's). Nothing here touches the collector's
 * own connection or anything a cycle changes, so reads run beside cycles.
 *
 * Which rows changed is found on the seq index: a closed day's row
 * carries the seq of the cycle that last changed it (daily_store.c), so a
 * cycle costs the rows changed since, not the user-days kept.
 */
#include "daily.h"

#include <stdlib.h>
#include <string.h>

/* The columns every read returns, in daily_ud_read's order. */
#define UD_COLUMNS                                                                                 \
    "SELECT u.date, d.start_utc, u.user_id, u.total, u.error, u.tok_input, u.tok_output, "         \
    "u.tok_cache_creation, u.tok_cache_read, u.cost_total_w, u.cost_total_a "

int daily_ud_prepare(sqlite3 *db, int64_t changed_after, const char *from, const char *to,
                     const void *key, size_t key_len, sqlite3_stmt **st)
{
    /* Rows changed after a seq come from the seq index (INDEXED BY: the
     * planner, without statistics, would walk the date range instead);
     * every row, from the date range of the primary key. Never one
     * statement with an OR: it would use neither. */
    char sql[1024];
    snprintf(sql, sizeof(sql),
             UD_COLUMNS "FROM daily_user_days u %s JOIN daily_days d ON d.date = u.date "
                        "WHERE u.date >= ?1 AND u.date < ?2 %s %s ORDER BY u.date, u.user_id",
             changed_after > 0 ? "INDEXED BY daily_user_days_seq" : "",
             changed_after > 0 ? "AND u.seq > ?3" : "", key != NULL ? "AND u.user_id = ?4" : "");
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(*st, 1, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(*st, 2, to, -1, SQLITE_TRANSIENT);
    if (changed_after > 0)
        sqlite3_bind_int64(*st, 3, changed_after);
    if (key != NULL)
        sqlite3_bind_blob(*st, 4, key, (int)key_len, SQLITE_TRANSIENT);
    return 0;
}

int daily_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *g = realloc(*arr, c * size);
    if (g == NULL)
        return -1;
    *arr = g;
    *cap = c;
    return 0;
}

tally_fixed daily_col_cost(sqlite3_stmt *st, int col)
{
    return daily_fixed_join(sqlite3_column_int64(st, col), sqlite3_column_int64(st, col + 1));
}

int daily_ud_read(daily_ud_batch *b, sqlite3_stmt *st, size_t max, int *done)
{
    b->n = 0;
    b->ids_len = 0;
    *done = 0;
    int rc = SQLITE_ROW;
    while (b->n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *id = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        if (daily_grow((void **)&b->rows, &b->cap, b->n + 1, sizeof(*b->rows)) != 0 ||
            daily_grow((void **)&b->offs, &b->offs_cap, b->n + 1, sizeof(*b->offs)) != 0 ||
            daily_grow((void **)&b->ids, &b->ids_cap, b->ids_len + len + 1, 1) != 0 ||
            daily_grow((void **)&b->costs, &b->costs_cap, b->n + 1, sizeof(*b->costs)) != 0)
            return -1;
        b->costs[b->n] = daily_col_cost(st, 9);
        tally_user_day_stats *u = &b->rows[b->n];
        memset(u, 0, sizeof(*u));
        snprintf(u->date, TALLY_DATE_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
        u->day_start_utc = sqlite3_column_int64(st, 1);
        b->offs[b->n] = b->ids_len;
        if (len > 0)
            memcpy(b->ids + b->ids_len, id, len);
        b->ids[b->ids_len + len] = '\0';
        b->ids_len += len + 1;
        u->total_requests = sqlite3_column_int64(st, 3);
        u->error_requests = sqlite3_column_int64(st, 4);
        u->success_requests = u->total_requests - u->error_requests;
        u->input_tokens = sqlite3_column_int64(st, 5);
        u->output_tokens = sqlite3_column_int64(st, 6);
        u->cache_creation_tokens = sqlite3_column_int64(st, 7);
        u->cache_read_tokens = sqlite3_column_int64(st, 8);
        u->total_cost = daily_fixed_to_double(b->costs[b->n]);
        b->n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    *done = rc == SQLITE_DONE;
    /* The ids block may have moved while it grew: point at it now. */
    for (size_t i = 0; i < b->n; i++)
        b->rows[i].user_id = b->ids + b->offs[i];
    return 0;
}

void daily_ud_batch_free(daily_ud_batch *b)
{
    free(b->rows);
    free(b->offs);
    free(b->ids);
    free(b->costs);
    memset(b, 0, sizeof(*b));
}

/* ---- the host's history pages ---- */

typedef struct daily_history {
    daily_collector *d;
    sqlite3_stmt *st;
    daily_ud_batch page;
    size_t page_rows;
    int done;
} daily_history;

int daily_history_open(void *ctx, void *db, const tally_history_query *q, void **out)
{
    daily_collector *d = ctx;
    *out = NULL;
    if (q->table != TALLY_HISTORY_USER_DAYS)
        return TALLY_HOST_EINVAL;
    daily_history *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return TALLY_HOST_ERR;
    it->d = d;
    it->page_rows = q->page_rows > 0 ? q->page_rows : 1000;
    if (daily_ud_prepare(db, q->changed_after, q->from_date, q->to_date, q->key,
                         q->key != NULL ? strlen(q->key) : 0, &it->st) != 0) {
        d->api->log(d->host, TALLY_LOG_ERR,
                    "could not read the users' days from the state database: %s; the export "
                    "is tried again next cycle",
                    sqlite3_errmsg(db));
        free(it);
        return TALLY_HOST_ERR;
    }
    *out = it;
    return TALLY_HOST_OK;
}

int daily_history_next(void *arg, tally_history_page *page)
{
    daily_history *it = arg;
    memset(page, 0, sizeof(*page));
    if (it->done)
        return TALLY_HOST_OK;
    if (daily_ud_read(&it->page, it->st, it->page_rows, &it->done) != 0) {
        it->d->api->log(it->d->host, TALLY_LOG_ERR,
                        "could not read the users' days from the state database: %s; the "
                        "export is tried again next cycle",
                        sqlite3_errmsg(sqlite3_db_handle(it->st)));
        return TALLY_HOST_ERR;
    }
    page->user_days = it->page.rows;
    page->n_user_days = it->page.n;
    return TALLY_HOST_OK;
}

void daily_history_close(void *arg)
{
    daily_history *it = arg;
    if (it == NULL)
        return;
    sqlite3_finalize(it->st);
    daily_ud_batch_free(&it->page);
    free(it);
}
