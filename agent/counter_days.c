/*
 * counter_days.c — see counter_days.h.
 *
 * One statement per read, stepped a page at a time: the read stays
 * inside whatever transaction its connection holds (a snapshot's pinned
 * one), so pages never skip or repeat a row, and memory is one page.
 */
#include "counter_days.h"

#include "log.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Rows changed after a seq are found through the seq index (the few a
 * cycle changed, however many are kept), then sorted; every row in date
 * order comes straight from the primary key. SQLite cannot tell the two
 * apart without statistics, so each says which it wants. */
static const char by_seq_sql[] =
    "SELECT date, name, value FROM counter_days INDEXED BY counter_days_by_seq "
    "WHERE seq > ?1 AND seq <= ?2 AND date >= ?3 AND date < ?4 AND (?5 IS NULL OR name = ?5) "
    "ORDER BY date, name";
static const char by_date_sql[] =
    "SELECT date, name, value FROM counter_days "
    "WHERE seq <= ?2 AND date >= ?3 AND date < ?4 AND (?5 IS NULL OR name = ?5) "
    "ORDER BY date, name";

struct counter_days_read {
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t page_rows;
    int done;
    tally_counter_day *rows; /* page_rows; names are the page's copies */
    size_t n;                /* rows in the page */
};

static void log_sql_error(sqlite3 *db, const char *what)
{
    log_msg(TALLY_LOG_ERR,
            "state %s: reading the daily counter totals (%s): %s; check the disk and the "
            "file's owner",
            sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}

int counter_days_open(sqlite3 *db, const counter_days_filter *f, size_t page_rows,
                      counter_days_read **out)
{
    *out = NULL;
    counter_days_read *r = calloc(1, sizeof(*r));
    if (r == NULL || page_rows == 0 || (r->rows = calloc(page_rows, sizeof(*r->rows))) == NULL) {
        free(r);
        log_msg(TALLY_LOG_ERR, "reading the daily counter totals: out of memory for a page of %zu",
                page_rows);
        return -1;
    }
    r->db = db;
    r->page_rows = page_rows;
    const char *sql = f->changed_after >= 0 ? by_seq_sql : by_date_sql;
    if (sqlite3_prepare_v2(db, sql, -1, &r->st, NULL) != SQLITE_OK) {
        log_sql_error(db, "prepare");
        counter_days_close(r);
        return -1;
    }
    sqlite3_bind_int64(r->st, 1, f->changed_after);
    sqlite3_bind_int64(r->st, 2, f->up_to > 0 ? f->up_to : INT64_MAX);
    /* TRANSIENT: the filter's strings are the caller's, the read may
     * outlive them. */
    sqlite3_bind_text(r->st, 3, f->from ? f->from : "", -1, SQLITE_TRANSIENT);
    if (f->to != NULL)
        sqlite3_bind_text(r->st, 4, f->to, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_text(r->st, 4, "9999-99-99", -1, SQLITE_STATIC);
    if (f->name != NULL)
        sqlite3_bind_text(r->st, 5, f->name, -1, SQLITE_TRANSIENT);
    *out = r;
    return 0;
}

/* Forget the page: its names are copies. */
static void drop_page(counter_days_read *r)
{
    for (size_t i = 0; i < r->n; i++)
        free((char *)r->rows[i].name);
    r->n = 0;
}

int counter_days_next(counter_days_read *r, const tally_counter_day **rows, size_t *n)
{
    drop_page(r);
    *rows = r->rows;
    *n = 0;
    int rc = SQLITE_DONE;
    while (!r->done && r->n < r->page_rows && (rc = sqlite3_step(r->st)) == SQLITE_ROW) {
        const char *date = (const char *)sqlite3_column_text(r->st, 0);
        const char *name = (const char *)sqlite3_column_text(r->st, 1);
        tally_counter_day *d = &r->rows[r->n];
        snprintf(d->date, sizeof(d->date), "%s", date ? date : "");
        d->value = sqlite3_column_int64(r->st, 2);
        if ((d->name = strdup(name ? name : "")) == NULL) {
            log_msg(TALLY_LOG_ERR, "reading the daily counter totals: out of memory");
            return -1;
        }
        r->n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_sql_error(r->db, "a page");
        return -1;
    }
    if (rc == SQLITE_DONE)
        r->done = 1;
    *n = r->n;
    return 0;
}

void counter_days_close(counter_days_read *r)
{
    if (r == NULL)
        return;
    sqlite3_finalize(r->st);
    drop_page(r);
    free(r->rows);
    free(r);
}

int counter_days_all(sqlite3 *db, const counter_days_filter *f, size_t max, tally_counter_day **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    counter_days_read *r;
    if (counter_days_open(db, f, 1000, &r) != 0)
        return -1;
    size_t cap = 0, k;
    const tally_counter_day *rows;
    int rc;
    while (*n <= max && (rc = counter_days_next(r, &rows, &k)) == 0 && k > 0) {
        if (*n + k > cap) {
            size_t c = cap ? cap : k;
            while (c < *n + k)
                c *= 2;
            tally_counter_day *grown = realloc(*out, c * sizeof(**out));
            if (grown == NULL) {
                log_msg(TALLY_LOG_ERR, "reading the daily counter totals: out of memory");
                rc = -1;
                break;
            }
            *out = grown;
            cap = c;
        }
        /* The page's names move with its rows. */
        memcpy(*out + *n, rows, k * sizeof(*rows));
        *n += k;
        r->n = 0;
    }
    counter_days_close(r);
    if (rc != 0) {
        counter_days_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void counter_days_free(tally_counter_day *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)rows[i].name);
    free(rows);
}
