/*
 * daily.h — the daily collector's instance. Records from the sources fold
 * into pending aggregates (per business day, per user and day, distinct
 * models and providers, qualifying candidates per request, inventories);
 * flush adds them to the collector's tables in the agent's SQLite state,
 * inside the cycle's transaction, so the state always holds exactly what
 * the committed checkpoints have read. Statistics are built from those
 * tables. Memory grows with the days and users of one flush and with
 * distinct values, never with rows.
 */
#ifndef TALLY_PLUGIN_DAILY_H
#define TALLY_PLUGIN_DAILY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "daily_map.h"
#include "tally/plugin.h"

/* The six cost columns, in DESIGN.md's order for a day. */
enum {
    DAILY_COST_TOTAL,
    DAILY_COST_ACTUAL,
    DAILY_COST_INPUT,
    DAILY_COST_OUTPUT,
    DAILY_COST_CACHE_CREATION,
    DAILY_COST_CACHE_READ,
    DAILY_N_COSTS
};
enum {
    DAILY_TOK_INPUT,
    DAILY_TOK_OUTPUT,
    DAILY_TOK_CACHE_CREATION,
    DAILY_TOK_CACHE_READ,
    DAILY_N_TOKENS
};

/* Pruning (daily_store_prune): the rows of days older than keep_days
 * leave daily_user_days, daily_values and daily_candidates at most this
 * many per table per cycle, the rest in the cycles after; a cycle's
 * transaction stays short however large the backlog (keep_days lowered
 * from 400 to 30 on a year of 1,000 users a day is 370,000 user-days:
 * 37 cycles). The statistics never list a row older than keep_days, so
 * a row waiting to be pruned never shows. */
#define DAILY_PRUNE_BATCH 10000
#define DAILY_N_PRUNE 3

/* Kinds of distinct values in daily_values. */
enum { DAILY_VALUE_MODEL = 'm', DAILY_VALUE_PROVIDER = 'p' };

/* Sums of one day (and of one user's day: the first fields, total cost). */
typedef struct daily_sums {
    int64_t total, error;
    int64_t tokens[DAILY_N_TOKENS];
    tally_fixed cost[DAILY_N_COSTS];
    tally_fixed rt_sum;
    int64_t rt_count;
    int64_t fallback;
    /* A stored day's distinct models and providers (read, never added). */
    int64_t models, providers;
} daily_sums;

typedef struct daily_user_sums {
    int64_t total, error;
    int64_t tokens[DAILY_N_TOKENS];
    tally_fixed cost;
} daily_user_sums;

/* A business day touched since the last flush. */
typedef struct daily_pending_day {
    tally_day day;
    daily_sums sums;
} daily_pending_day;

/* Items of one inventory (users or api_keys) from one source. */
typedef struct daily_inventory {
    char *source;
    tally_stream stream;
    bool replace;    /* a whole inventory arrived: replace the stored one */
    bool open;       /* between begin and end */
    daily_map items; /* id -> daily_item */
} daily_inventory;

typedef struct daily_item {
    bool is_active;
} daily_item;

typedef struct daily_collector {
    tally_host *host;
    const tally_host_api *api;
    int keep_days;
    sqlite3 *db;

    /* Pending since the last flush. */
    daily_pending_day *days;
    size_t n_days, cap_days;
    size_t last_day;      /* the slot the previous row fell in */
    daily_map user_days;  /* [slot u32][user_id] -> daily_user_sums */
    daily_map values;     /* [slot][(model, provider)] -> nothing, see daily_agg.c */
    daily_map candidates; /* [slot u32][request_id] -> int64 qualifying candidates */
    daily_inventory *inv;
    size_t n_inv;
    daily_map saturated; /* (scope, date, field) already reported, daily_sums.c */
    unsigned char *key;  /* scratch for composite keys */
    size_t key_cap;

    /* A rollover pruned a batch in this cycle: cycle_begin skips its own. */
    bool pruned_at_rollover;

    /* Prepared statements, see daily_store.c. */
    sqlite3_stmt *st_day, *st_user_day, *st_user_day_open, *st_value, *st_candidate, *st_inv_delete,
        *st_inv_put, *st_stamp, *st_value_count;
    sqlite3_stmt *st_prune[DAILY_N_PRUNE];
} daily_collector;

/* daily_sums.c: sums saturate, never wrap. A sum that would leave its
 * range (int64 for counts; whole units in int64 for costs, as the tables
 * store them) stays at the bound it reached, and the collector logs once
 * per run which sum of which day it is (scope: "day", "user day",
 * "summary", "today", "combined"), so a wrong total is never silent. */
#define DAILY_FIXED_MAX ((tally_fixed)INT64_MAX * TALLY_FIXED_ONE + (TALLY_FIXED_ONE - 1))
#define DAILY_FIXED_MIN ((tally_fixed)INT64_MIN * TALLY_FIXED_ONE)

/* *acc += v, saturating: true when it saturated. */
static inline bool daily_add_i64(int64_t *acc, int64_t v)
{
    if (__builtin_add_overflow(*acc, v, acc)) {
        *acc = v > 0 ? INT64_MAX : INT64_MIN;
        return true;
    }
    return false;
}
static inline bool daily_add_fixed(tally_fixed *acc, tally_fixed v)
{
    tally_fixed r;
    if (__builtin_add_overflow(*acc, v, &r) || r > DAILY_FIXED_MAX || r < DAILY_FIXED_MIN) {
        *acc = v > 0 ? DAILY_FIXED_MAX : DAILY_FIXED_MIN;
        return true;
    }
    *acc = r;
    return false;
}
/* Log, once per run for each (scope, date, field), that a sum saturated. */
void daily_saturated(daily_collector *d, const char *scope, const char *date, const char *field)
    __attribute__((cold));
/* Report each sum of s that stands at a bound of its range: one that
 * saturated in the tables' upserts, found when the statistics read it. */
void daily_sums_report(daily_collector *d, const char *scope, const char *date,
                       const daily_sums *s);
/* The names of the sums in messages, by DAILY_TOK_* and DAILY_COST_*. */
extern const char *const daily_token_names[DAILY_N_TOKENS];
extern const char *const daily_cost_names[DAILY_N_COSTS];
/* to += s field by field, saturating and reporting under scope and date.
 * Inline: every usage row is added through these, and inlined the
 * compiler adds the record's fields straight in, with no row struct
 * cleared and copied per row (an out-of-line call cost the ingest ~15%). */
static inline void daily_sums_add(daily_collector *d, daily_sums *to, const daily_sums *s,
                                  const char *scope, const char *date)
{
    if (daily_add_i64(&to->total, s->total))
        daily_saturated(d, scope, date, "requests");
    if (daily_add_i64(&to->error, s->error))
        daily_saturated(d, scope, date, "error requests");
    for (int t = 0; t < DAILY_N_TOKENS; t++)
        if (daily_add_i64(&to->tokens[t], s->tokens[t]))
            daily_saturated(d, scope, date, daily_token_names[t]);
    for (int k = 0; k < DAILY_N_COSTS; k++)
        if (daily_add_fixed(&to->cost[k], s->cost[k]))
            daily_saturated(d, scope, date, daily_cost_names[k]);
    if (daily_add_fixed(&to->rt_sum, s->rt_sum))
        daily_saturated(d, scope, date, "response_time_ms");
    if (daily_add_i64(&to->rt_count, s->rt_count))
        daily_saturated(d, scope, date, "response times");
    if (daily_add_i64(&to->fallback, s->fallback))
        daily_saturated(d, scope, date, "fallbacks");
}

static inline void daily_user_sums_add(daily_collector *d, daily_user_sums *to,
                                       const daily_user_sums *s, const char *date)
{
    if (daily_add_i64(&to->total, s->total))
        daily_saturated(d, "user day", date, "requests");
    if (daily_add_i64(&to->error, s->error))
        daily_saturated(d, "user day", date, "error requests");
    for (int t = 0; t < DAILY_N_TOKENS; t++)
        if (daily_add_i64(&to->tokens[t], s->tokens[t]))
            daily_saturated(d, "user day", date, daily_token_names[t]);
    if (daily_add_fixed(&to->cost, s->cost))
        daily_saturated(d, "user day", date, daily_cost_names[DAILY_COST_TOTAL]);
}

/* daily_conf.c */
extern const tally_option daily_options[];

/* daily_agg.c: folding records into the pending aggregates (daily.c
 * writes them out with daily_store_flush when they grow large). */
int daily_agg_fold(daily_collector *d, const char *source, const tally_record *recs, size_t n);
int daily_inventory_phase(void *ctx, const char *source, tally_stream stream, int phase);
/* clear_records: the days, user-days, values and candidates; clear: those
 * and the inventories too (after a source failed). */
void daily_pending_clear_records(daily_collector *d);
void daily_pending_clear(daily_collector *d);
void daily_pending_free(daily_collector *d);
bool daily_pending_large(const daily_collector *d);

/* daily_store.c: the tables, flushing pending aggregates into them,
 * pruning (a batch at a time, see DAILY_PRUNE_BATCH) and forgetting days. */
int daily_store_open(daily_collector *d);
void daily_store_close(daily_collector *d);
/* Write the pending aggregates and the inventories ended since into the
 * open transaction; the caller then clears the pending records. */
int daily_store_flush(daily_collector *d);
int daily_store_prune(daily_collector *d, const char *before_date, bool *more);
int daily_store_forget(daily_collector *d, const char *from_date, const char *to_date);
/* The day `date` closed in this cycle: its users' rows enter the lists
 * and carry the cycle's seq. */
int daily_store_stamp_day(daily_collector *d, const char *date);

/* daily_history.c: the users' days read a batch at a time from any
 * connection on the state (the collector's for its statistics, the
 * host's for history pages): the rows of [from, to) changed after
 * changed_after (0: every row), only key's when key is not NULL, by date
 * and user_id. A batch owns its rows and one block of their user ids,
 * reused by the next read. read: up to max rows; *done once the
 * statement has no more. 0, or -1 (sqlite3_errmsg of the statement's
 * connection, or out of memory). */
typedef struct daily_ud_batch {
    tally_user_day_stats *rows;
    size_t n, cap;
    char *ids;
    size_t ids_len, ids_cap;
    size_t *offs;
    size_t offs_cap;
    tally_fixed *costs; /* each row's total cost as stored, for daily_sums_report */
    size_t costs_cap;
} daily_ud_batch;
/* Room for need items of size in *arr (doubling): 0, or -1. */
int daily_grow(void **arr, size_t *cap, size_t need, size_t size);
/* A cost stored as the column pair (whole, atto) at col. */
tally_fixed daily_col_cost(sqlite3_stmt *st, int col);
int daily_ud_prepare(sqlite3 *db, int64_t changed_after, const char *from, const char *to,
                     const void *key, size_t key_len, sqlite3_stmt **st);
int daily_ud_read(daily_ud_batch *b, sqlite3_stmt *st, size_t max, int *done);
void daily_ud_batch_free(daily_ud_batch *b);
/* The collector's history callbacks (plugin.h). */
int daily_history_open(void *ctx, void *db, const tally_history_query *q, void **it);
int daily_history_next(void *it, tally_history_page *page);
void daily_history_close(void *it);

/* daily_stats.c */
int daily_stats(void *ctx, int64_t now_utc, int64_t changed_after, tally_stats *out);
/* Free what daily_stats allocated: days, user_days, and the one block the
 * user ids are in (the agent copied what it keeps). */
void daily_free_stats(void *ctx, tally_stats *st);

/* daily_date.c: business dates as day numbers, and fixed point. */
int daily_date_number(const char *date, int64_t *out);
void daily_date_string(int64_t number, char out[TALLY_DATE_LEN]);
int daily_day_by_date(daily_collector *d, const char *date, tally_day *out);
int daily_oldest_kept(const daily_collector *d, const char *today, char out[TALLY_DATE_LEN]);
void daily_fixed_split(tally_fixed v, int64_t *whole, int64_t *atto);
tally_fixed daily_fixed_join(int64_t whole, int64_t atto);
double daily_fixed_to_double(tally_fixed v);

#endif
