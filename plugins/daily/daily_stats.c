/*
 * daily_stats.c — the statistics of DESIGN.md from the collector's
 * tables: every day from the earliest usage row's day (or keep_days ago)
 * to yesterday, zeros where nothing happened; the users' days; the
 * summary over every closed day; today (every row from today's start on,
 * later instants included); combined; and the inventories.
 */
#include "daily.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Columns of daily_days in schema order, from column 2 (after date,
 * start_utc). */
static void read_sums(sqlite3_stmt *st, daily_sums *s)
{
    int c = 2;
    s->total = sqlite3_column_int64(st, c++);
    s->error = sqlite3_column_int64(st, c++);
    for (int t = 0; t < DAILY_N_TOKENS; t++)
        s->tokens[t] = sqlite3_column_int64(st, c++);
    for (int k = 0; k < DAILY_N_COSTS; k++, c += 2)
        s->cost[k] = daily_col_cost(st, c);
    s->rt_sum = daily_col_cost(st, c);
    c += 2;
    s->rt_count = sqlite3_column_int64(st, c++);
    s->fallback = sqlite3_column_int64(st, c++);
    s->models = sqlite3_column_int64(st, c++);
    s->providers = sqlite3_column_int64(st, c++);
}

static void totals_of(const daily_sums *s, tally_totals *t)
{
    t->total_requests = s->total;
    t->error_requests = s->error;
    t->success_requests = s->total - s->error;
    t->input_tokens = s->tokens[DAILY_TOK_INPUT];
    t->output_tokens = s->tokens[DAILY_TOK_OUTPUT];
    t->cache_creation_tokens = s->tokens[DAILY_TOK_CACHE_CREATION];
    t->cache_read_tokens = s->tokens[DAILY_TOK_CACHE_READ];
    t->total_cost = daily_fixed_to_double(s->cost[DAILY_COST_TOTAL]);
    t->actual_total_cost = daily_fixed_to_double(s->cost[DAILY_COST_ACTUAL]);
}

static void day_of_sums(const daily_sums *s, const tally_day *day, tally_day_stats *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->date, day->date, TALLY_DATE_LEN);
    out->day_start_utc = day->start_utc;
    out->total_requests = s->total;
    out->error_requests = s->error;
    out->success_requests = s->total - s->error;
    out->input_tokens = s->tokens[DAILY_TOK_INPUT];
    out->output_tokens = s->tokens[DAILY_TOK_OUTPUT];
    out->cache_creation_tokens = s->tokens[DAILY_TOK_CACHE_CREATION];
    out->cache_read_tokens = s->tokens[DAILY_TOK_CACHE_READ];
    out->total_cost = daily_fixed_to_double(s->cost[DAILY_COST_TOTAL]);
    out->actual_total_cost = daily_fixed_to_double(s->cost[DAILY_COST_ACTUAL]);
    out->input_cost = daily_fixed_to_double(s->cost[DAILY_COST_INPUT]);
    out->output_cost = daily_fixed_to_double(s->cost[DAILY_COST_OUTPUT]);
    out->cache_creation_cost = daily_fixed_to_double(s->cost[DAILY_COST_CACHE_CREATION]);
    out->cache_read_cost = daily_fixed_to_double(s->cost[DAILY_COST_CACHE_READ]);
    out->avg_response_time_ms =
        s->rt_count > 0 ? daily_fixed_to_double(s->rt_sum / s->rt_count) : 0.0;
    /* DESIGN.md: a day with no usage rows is all zeros, fallback_count
     * included, whatever its candidates say. */
    out->fallback_count = s->total > 0 ? s->fallback : 0;
    out->unique_models = s->models;
    out->unique_providers = s->providers;
}

static int fail(daily_collector *d, const char *what)
{
    d->api->log(d->host, TALLY_LOG_ERR,
                "could not read %s from the state database: %s; the snapshot keeps the last "
                "statistics",
                what, sqlite3_errmsg(d->db));
    return -1;
}

static int query(daily_collector *d, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(d->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : fail(d, "statistics");
}

/* The first date listed: the earliest usage day, or keep_days ago. */
static int first_date(daily_collector *d, const tally_day *today, char out[TALLY_DATE_LEN])
{
    if (daily_oldest_kept(d, today->date, out) != 0)
        return -1;
    sqlite3_stmt *st;
    /* In date order on the key, so it stops at the first day with usage
     * instead of scanning every day (min() with a WHERE would). */
    if (query(d, "SELECT date FROM daily_days WHERE total > 0 ORDER BY date LIMIT 1", &st) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *min = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(min, out) > 0)
            snprintf(out, TALLY_DATE_LEN, "%s", min);
    } else {
        snprintf(out, TALLY_DATE_LEN, "%s", today->date); /* no usage yet: no days */
    }
    sqlite3_finalize(st);
    return 0;
}

/* The business days listed, walked one after another from the first:
 * `next` is the day number (civil days since 1970-01-01) of the next day
 * to list, `on` false once the walk ended. A day with a row lists the
 * date and start stored with it; only a day without one (a zero day) is
 * formatted and asks the zone where it starts, so a year of days costs
 * no year of time zone lookups or date formatting each cycle. */
typedef struct day_walk {
    int64_t next;
    bool on;
    size_t cap;
} day_walk;

/* List every day before day number `until` as zeros, then that day,
 * whose date is until_date and which starts at until_start, with sums s
 * if s is given. 0, or -1 when memory runs out. */
static int walk_to(daily_collector *d, day_walk *w, tally_stats *out, int64_t until,
                   const char *until_date, int64_t until_start, const daily_sums *s)
{
    static const daily_sums zero;
    while (w->on && w->next <= until) {
        int here = w->next == until;
        if (here && s == NULL)
            return 0;
        tally_day day;
        if (here) {
            memcpy(day.date, until_date, TALLY_DATE_LEN);
            day.start_utc = until_start;
        } else {
            char date[TALLY_DATE_LEN];
            daily_date_string(w->next, date);
            if (daily_day_by_date(d, date, &day) != 0) {
                w->on = false;
                break;
            }
        }
        if (daily_grow((void **)&out->days, &w->cap, out->n_days + 1, sizeof(*out->days)) != 0)
            return -1;
        day_of_sums(here ? s : &zero, &day, &out->days[out->n_days++]);
        w->next++;
    }
    return 0;
}

/* One pass over every day row: summary, today, and the listed days with
 * the missing ones filled in as zeros. */
static int build_days(daily_collector *d, const tally_day *today, const char *first,
                      tally_stats *out, daily_sums *closed, daily_sums *from_today)
{
    int64_t first_n, today_n;
    if (daily_date_number(first, &first_n) != 0 || daily_date_number(today->date, &today_n) != 0)
        return fail(d, "the days (a date that is not YYYY-MM-DD)");
    sqlite3_stmt *st;
    if (query(d, "SELECT * FROM daily_days ORDER BY date", &st) != 0)
        return -1;
    day_walk w = {.next = first_n, .on = first_n < today_n};
    int rc, failed = 0;
    while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *date = (const char *)sqlite3_column_text(st, 0);
        int64_t n;
        if (date == NULL || daily_date_number(date, &n) != 0) {
            sqlite3_finalize(st);
            return fail(d, "the days (a date that is not YYYY-MM-DD)");
        }
        daily_sums s = {0};
        read_sums(st, &s);
        daily_sums_report(d, "day", date, &s);
        if (n >= today_n) {
            daily_sums_add(d, from_today, &s, "today", today->date);
            continue;
        }
        daily_sums_add(d, closed, &s, "summary", today->date);
        if (n >= first_n)
            failed = walk_to(d, &w, out, n, date, sqlite3_column_int64(st, 1), &s) != 0;
    }
    sqlite3_finalize(st);
    if (failed)
        return -1;
    if (rc != SQLITE_DONE)
        return fail(d, "the days");
    return walk_to(d, &w, out, today_n, today->date, 0, NULL);
}

/* The users' days changed after changed_after (0: all), at most
 * TALLY_STATS_MAX_CHANGED of them: with more, none and more_changed (the
 * exporters page through them from history instead). The rows go over
 * to *out with their one block of user ids, which daily_free_stats
 * frees. */
static int user_days(daily_collector *d, const char *first, const char *today,
                     int64_t changed_after, tally_stats *out)
{
    sqlite3_stmt *st;
    if (daily_ud_prepare(d->db, changed_after, first, today, NULL, 0, &st) != 0)
        return fail(d, "the users' days");
    daily_ud_batch b = {0};
    int done = 0;
    int rc = daily_ud_read(&b, st, TALLY_STATS_MAX_CHANGED + 1, &done);
    sqlite3_finalize(st);
    if (rc != 0) {
        daily_ud_batch_free(&b);
        return fail(d, "the users' days");
    }
    if (b.n > TALLY_STATS_MAX_CHANGED) {
        daily_ud_batch_free(&b);
        out->more_changed = 1;
        return 0;
    }
    for (size_t i = 0; i < b.n; i++) {
        const tally_user_day_stats *u = &b.rows[i];
        const daily_sums us = {.total = u->total_requests,
                               .error = u->error_requests,
                               .tokens = {u->input_tokens, u->output_tokens,
                                          u->cache_creation_tokens, u->cache_read_tokens},
                               .cost = {b.costs[i]}};
        daily_sums_report(d, "user day", u->date, &us);
    }
    if (b.n == 0) {
        daily_ud_batch_free(&b);
        return 0;
    }
    out->user_days = b.rows;
    out->n_user_days = b.n;
    /* The block starts with user_days[0].user_id (offset 0). */
    free(b.offs);
    free(b.costs);
    return 0;
}

static int inventories(daily_collector *d, tally_inventory *inv)
{
    sqlite3_stmt *st;
    if (query(d,
              "SELECT stream, count(DISTINCT id), count(DISTINCT CASE WHEN active THEN id END) "
              "FROM daily_inventory GROUP BY stream",
              &st) != 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0) == TALLY_STREAM_USERS) {
            inv->total_users = sqlite3_column_int64(st, 1);
            inv->active_users = sqlite3_column_int64(st, 2);
        } else if (sqlite3_column_int(st, 0) == TALLY_STREAM_API_KEYS) {
            inv->total_api_keys = sqlite3_column_int64(st, 1);
            inv->active_api_keys = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(d, "the inventories");
}

void daily_free_stats(void *ctx, tally_stats *st)
{
    free(st->days);
    if (st->n_user_days > 0)
        free((char *)st->user_days[0].user_id);
    free(st->user_days);
    memset(st, 0, sizeof(*st));
}

int daily_stats(void *ctx, int64_t now_utc, int64_t changed_after, tally_stats *out)
{
    daily_collector *d = ctx;
    memset(out, 0, sizeof(*out));
    tally_day today;
    char first[TALLY_DATE_LEN];
    if (d->api->day_of(d->host, now_utc, &today) != TALLY_HOST_OK ||
        first_date(d, &today, first) != 0)
        return TALLY_HOST_ERR;
    daily_sums closed = {0}, from_today = {0};
    tally_inventory inv = {0};
    if (build_days(d, &today, first, out, &closed, &from_today) != 0 ||
        user_days(d, first, today.date, changed_after, out) != 0 || inventories(d, &inv) != 0) {
        daily_free_stats(ctx, out);
        return TALLY_HOST_ERR;
    }
    tally_summary *sm = &out->summary;
    sm->cutoff_utc = today.start_utc;
    tally_totals all;
    totals_of(&closed, &all);
    sm->all_time_requests = all.total_requests;
    sm->all_time_success_requests = all.success_requests;
    sm->all_time_error_requests = all.error_requests;
    sm->all_time_input_tokens = all.input_tokens;
    sm->all_time_output_tokens = all.output_tokens;
    sm->all_time_cache_creation_tokens = all.cache_creation_tokens;
    sm->all_time_cache_read_tokens = all.cache_read_tokens;
    sm->all_time_cost = all.total_cost;
    sm->all_time_actual_cost = all.actual_total_cost;
    sm->inventory = inv;
    if (daily_oldest_kept(d, today.date, out->oldest_kept) != 0) {
        daily_free_stats(ctx, out);
        return TALLY_HOST_ERR;
    }
    totals_of(&from_today, &out->today);
    daily_sums both = closed;
    daily_sums_add(d, &both, &from_today, "combined", today.date);
    totals_of(&both, &out->combined);
    return TALLY_HOST_OK;
}
