/*
 * daily_rows.c — see daily_rows.h.
 *
 * One statement per read, stepped across its pages: the rows come in the
 * lists' order from an index, or (changed rows) sorted once by SQLite, and
 * a page costs its own rows. Which plan depends on the question, and
 * SQLite's planner, with no statistics on the tables, would pick the
 * date range of the primary key over the seq index (two bounds look more
 * selective than one); so each query names its path:
 *
 *   changed rows, every user:  the seq index (daily_user_days_seq), then
 *       a sort: the cost of the rows changed, however many are kept;
 *   every row, or one user:    the days in range, each joined to its
 *       users on the primary key (date, user_id), already in order
 *       (ordered by d.date: SQLite sorts again if told u.date): the cost
 *       of the rows read, or for one user one lookup per day.
 *
 * changed_after 0 reads every row, those of seq 0 (rows from before the
 * seq existed, today's) too: a query of its own rather than an OR, which
 * would take the seq index away from the other.
 */
#include "daily_rows.h"

#include "daily.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_ROWS                                                                                \
    "SELECT u.date, d.start_utc, u.user_id, u.total, u.error, u.tok_input, u.tok_output, "       \
    "u.tok_cache_creation, u.tok_cache_read, u.cost_total_w, u.cost_total_a FROM "

static void query_sql(char *sql, size_t cap, bool changed, bool key)
{
    if (changed && !key)
        snprintf(sql, cap,
                 SELECT_ROWS "daily_user_days u INDEXED BY daily_user_days_seq "
                             "JOIN daily_days d ON d.date = u.date "
                             "WHERE u.seq > ?3 AND u.date >= ?1 AND u.date < ?2 "
                             "ORDER BY u.date, u.user_id");
    else
        snprintf(sql, cap,
                 SELECT_ROWS "daily_days d CROSS JOIN daily_user_days u ON u.date = d.date "
                             "WHERE d.date >= ?1 AND d.date < ?2%s%s "
                             "ORDER BY d.date, u.user_id",
                 changed ? " AND u.seq > ?3" : "", key ? " AND u.user_id = ?4" : "");
}

int daily_rows_open(daily_rows *r, sqlite3 *db, const daily_rows_query *q)
{
    memset(r, 0, sizeof(*r));
    r->page_rows = q->page_rows ? q->page_rows : SIZE_MAX;
    const bool changed = q->changed_after > 0, key = q->key != NULL;
    char sql[1024];
    query_sql(sql, sizeof(sql), changed, key);
    int rc = sqlite3_prepare_v2(db, sql, -1, &r->st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(r->st, 1, q->from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(r->st, 2, q->to, -1, SQLITE_TRANSIENT);
    if (changed)
        sqlite3_bind_int64(r->st, 3, q->changed_after);
    /* The ids are stored as blobs: a text key would never equal one. */
    if (key)
        sqlite3_bind_blob(r->st, 4, q->key, (int)strlen(q->key), SQLITE_TRANSIENT);
    return SQLITE_OK;
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

/* The statement's row appended to the page: 0, or -1 out of memory. */
static int add_row(daily_rows *r)
{
    sqlite3_stmt *st = r->st;
    const void *id = sqlite3_column_blob(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 2), i = r->n;
    if (daily_grow((void **)&r->rows, &r->cap, i + 1, sizeof(*r->rows)) != 0 ||
        daily_grow((void **)&r->offs, &r->offs_cap, i + 1, sizeof(*r->offs)) != 0 ||
        daily_grow((void **)&r->ids, &r->ids_cap, r->ids_len + len + 1, 1) != 0)
        return -1;
    tally_user_day_stats *u = &r->rows[i];
    memset(u, 0, sizeof(*u));
    snprintf(u->date, TALLY_DATE_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
    u->day_start_utc = sqlite3_column_int64(st, 1);
    r->offs[i] = r->ids_len;
    if (len > 0)
        memcpy(r->ids + r->ids_len, id, len);
    r->ids[r->ids_len + len] = '\0';
    r->ids_len += len + 1;
    daily_sums s = {.total = sqlite3_column_int64(st, 3), .error = sqlite3_column_int64(st, 4)};
    for (int t = 0; t < DAILY_N_TOKENS; t++)
        s.tokens[t] = sqlite3_column_int64(st, 5 + t);
    s.cost[DAILY_COST_TOTAL] = daily_fixed_column(st, 9);
    u->total_requests = s.total;
    u->error_requests = s.error;
    u->success_requests = s.total - s.error;
    u->input_tokens = s.tokens[DAILY_TOK_INPUT];
    u->output_tokens = s.tokens[DAILY_TOK_OUTPUT];
    u->cache_creation_tokens = s.tokens[DAILY_TOK_CACHE_CREATION];
    u->cache_read_tokens = s.tokens[DAILY_TOK_CACHE_READ];
    u->total_cost = daily_fixed_to_double(s.cost[DAILY_COST_TOTAL]);
    if (r->seen != NULL)
        r->seen(r->seen_arg, u, &s);
    r->n++;
    return 0;
}

int daily_rows_next(daily_rows *r, const tally_user_day_stats **rows, size_t *n)
{
    r->n = r->ids_len = 0;
    *rows = NULL;
    *n = 0;
    if (r->failed != SQLITE_OK)
        return r->failed;
    int rc = SQLITE_DONE;
    while (!r->done && r->n < r->page_rows) {
        rc = sqlite3_step(r->st);
        if (rc != SQLITE_ROW)
            break;
        if (add_row(r) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r->n = 0;
        return r->failed = rc;
    }
    r->done = r->done || rc == SQLITE_DONE;
    /* The ids stay where they are until the next page. */
    for (size_t i = 0; i < r->n; i++)
        r->rows[i].user_id = r->ids + r->offs[i];
    *rows = r->rows;
    *n = r->n;
    return SQLITE_OK;
}

void daily_rows_take(daily_rows *r, tally_user_day_stats **rows, size_t *n)
{
    *rows = r->rows;
    *n = r->n;
    if (r->n == 0)
        free(r->ids);
    r->rows = NULL;
    r->ids = NULL;
    r->n = r->cap = r->ids_len = r->ids_cap = 0;
}

void daily_rows_close(daily_rows *r)
{
    sqlite3_finalize(r->st);
    free(r->rows);
    free(r->ids);
    free(r->offs);
    memset(r, 0, sizeof(*r));
}
