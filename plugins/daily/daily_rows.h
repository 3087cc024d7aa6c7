/*
 * daily_rows.h — the users' days read from daily_user_days in the lists'
 * order (date, then user_id), a page at a time: the statistics' changed
 * rows and the host's history pages both come from here. A read uses only
 * the connection it is given and memory of its own, so exporter threads
 * run several at once on the host's pinned connection.
 */
#ifndef TALLY_PLUGIN_DAILY_ROWS_H
#define TALLY_PLUGIN_DAILY_ROWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

struct daily_sums;

/* Called for each row read, with its sums as the table holds them (the
 * statistics report a sum that saturated; history reads do not). */
typedef void (*daily_rows_seen)(void *arg, const tally_user_day_stats *u,
                                const struct daily_sums *s);

typedef struct daily_rows {
    sqlite3_stmt *st;
    size_t page_rows; /* SIZE_MAX: every row in one page */
    bool done;
    int failed; /* SQLite's code, kept: a statement stepped again would start over */
    daily_rows_seen seen;
    void *seen_arg;
    /* The page: its rows, and their user ids in one block. */
    tally_user_day_stats *rows;
    size_t n, cap;
    char *ids;
    size_t ids_len, ids_cap;
    size_t *offs; /* each row's id in ids, while ids may still move */
    size_t offs_cap;
} daily_rows;

/* What a read selects: the dates [from, to), the rows whose seq is above
 * changed_after (0: every row, those of seq 0 too), one user or all (key
 * NULL), page_rows at a time (0: all in one page). */
typedef struct daily_rows_query {
    const char *from, *to;
    int64_t changed_after;
    const char *key;
    size_t page_rows;
} daily_rows_query;

/* Start a read on db: SQLITE_OK, or SQLite's error code (the message is
 * db's). *r needs daily_rows_close either way. */
int daily_rows_open(daily_rows *r, sqlite3 *db, const daily_rows_query *q);
/* The next page, valid until the next call or close; no row: the end.
 * SQLITE_OK, or SQLite's error code (SQLITE_NOMEM: out of memory). */
int daily_rows_next(daily_rows *r, const tally_user_day_stats **rows, size_t *n);
/* The page's memory becomes the caller's: *rows (free it) and, when *n >
 * 0, the user ids in one block at (*rows)[0].user_id (free it). */
void daily_rows_take(daily_rows *r, tally_user_day_stats **rows, size_t *n);
void daily_rows_close(daily_rows *r);

/* *arr (of *cap items of size bytes) grown, by doubling, to hold need:
 * 0, or -1 out of memory with *arr as it was. The pages' arrays and the
 * statistics' days grow so. */
int daily_grow(void **arr, size_t *cap, size_t need, size_t size);

#endif
