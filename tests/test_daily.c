/*
 * test_daily.c — the daily collector (daily.so) driven directly: records
 * in, flush or discard, statistics out, against a real SQLite database,
 * through the mock host (tests/mock_host.h) like every plugin test. The expected values are worked
 * out by hand from DESIGN.md's rules in the comments beside them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "civil/civil.h"
#include "mock_host.h"

typedef struct fixture {
    void *dl;
    const tally_plugin *p;
    tally_host *h;
    sqlite3 *db;
    mock_host_instance in;
    void *ctx;
    tally_stats st;
} fixture;

static int64_t ns_of(const char *iso)
{
    int64_t s;
    int32_t nanos;
    bool zoned;
    assert_int_equal(civil_parse_iso8601(iso, strlen(iso), CIVIL_ISO_RFC3339, &s, &nanos, &zoned),
                     0);
    return s * 1000000000 + nanos;
}

/* The collector started on db (the fixture closes it): a state the test
 * made, or an empty one. */
static fixture *start_on(const char *zone, const char *now, int keep_days, sqlite3 *db)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->h = mock_host_new();
    assert_non_null(f->h);
    assert_int_equal(mock_host_set_timezone(f->h, zone), 0);
    mock_host_set_now(f->h, ns_of(now) / 1000000000);
    f->p = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "daily", &f->dl);
    assert_non_null(f->p);
    f->db = db;
    mock_host_set_state_db(f->h, f->db);
    char body[64];
    snprintf(body, sizeof(body), "keep_days = %d", keep_days);
    if (mock_host_start(&f->in, f->p, f->h, "stats", body) != 0)
        fail_msg("starting daily failed: %s", mock_host_parse_error());
    f->ctx = f->in.ctx;
    return f;
}

/* The collector on a state database at db_path (WAL for a file). */
static fixture *start_at(const char *zone, const char *now, int keep_days, const char *db_path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    if (strcmp(db_path, ":memory:") != 0)
        assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    return start_on(zone, now, keep_days, db);
}

static fixture *start(const char *zone, const char *now, int keep_days)
{
    return start_at(zone, now, keep_days, ":memory:");
}

/* Log lines at error level or worse: a test expects none. */
static size_t errors(const tally_host *h)
{
    size_t n = 0;
    for (size_t i = 0; i < mock_host_log_count(h); i++)
        if (mock_host_log_level(h, i) <= TALLY_LOG_ERR)
            n++;
    return n;
}

/* The plugin frees its own statistics, as the agent has it do. */
static void free_stats(fixture *f)
{
    f->p->collector.free_stats(f->ctx, &f->st);
    memset(&f->st, 0, sizeof(f->st));
}

static void finish(fixture *f)
{
    free_stats(f);
    mock_host_stop(&f->in);
    sqlite3_close(f->db);
    mock_host_unload(f->dl);
    size_t n_errors = errors(f->h);
    mock_host_free(f->h);
    assert_int_equal(n_errors, 0);
    free(f);
}

/* The statistics with the users' days changed after `after` (0: all). */
static void stats_after(fixture *f, int64_t after)
{
    free_stats(f);
    assert_int_equal(f->p->collector.stats(f->ctx, mock_host_api()->now(f->h), after, &f->st),
                     TALLY_HOST_OK);
}

static void stats(fixture *f)
{
    stats_after(f, 0);
}

static tally_str str(const char *s)
{
    return (tally_str){s, s ? (uint32_t)strlen(s) : 0};
}

/* A usage row: cost in millionths of a dollar keeps the test's own
 * arithmetic exact. */
static tally_record usage(const char *at, const char *user, const char *model, int64_t status,
                          const char *err, int64_t in_tokens, int64_t micro_usd)
{
    tally_record r = {.stream = TALLY_STREAM_USAGE};
    tally_usage *u = &r.u.usage;
    u->created_ns = ns_of(at);
    u->user_id = str(user);
    u->model = str(model);
    u->provider = str(model ? "prov" : NULL);
    u->has_status_code = status != 0;
    u->status_code = status;
    u->error_message = str(err);
    u->input_tokens = in_tokens;
    u->output_tokens = 2 * in_tokens;
    u->total_cost_usd = (tally_fixed)micro_usd * 1000000000000;
    u->actual_total_cost_usd = u->total_cost_usd / 2;
    return r;
}

static void feed(fixture *f, const tally_record *r, size_t n)
{
    assert_int_equal(f->p->collector.consume(f->ctx, "csv.usage", r, n), TALLY_HOST_OK);
    assert_int_equal(f->p->collector.flush(f->ctx), TALLY_HOST_OK);
}

static const tally_day_stats *day(fixture *f, const char *date)
{
    for (size_t i = 0; i < f->st.n_days; i++)
        if (strcmp(f->st.days[i].date, date) == 0)
            return &f->st.days[i];
    fail_msg("no day %s in the statistics", date);
    return NULL;
}

static void test_one_day_rules(void **state)
{
    fixture *f = start("Asia/Shanghai", "2026-11-22T03:00:00Z", 400);
    tally_record r[] = {
        /* 2026-11-21 local (UTC+8): 2026-11-20T16:00Z .. 2026-11-21T16:00Z */
        usage("2026-11-20T16:00:00Z", "bob", "gpt-4o", 200, NULL, 10, 1000000),
        usage("2026-11-21T15:59:59.999999Z", "alice", "GPT-4o", 500, NULL, 20, 2000000),
        usage("2026-11-21T01:00:00Z", "alice", NULL, 0, " ", 30, 3000000),
        usage("2026-11-21T02:00:00Z", NULL, "gpt-4o", 399, NULL, 40, 4000000),
    };
    r[0].u.usage.has_response_time = true;
    r[0].u.usage.response_time_ms = 100 * TALLY_FIXED_ONE;
    r[1].u.usage.has_response_time = true;
    r[1].u.usage.response_time_ms = 251 * TALLY_FIXED_ONE;
    feed(f, r, 4);
    stats(f);
    assert_int_equal(f->st.n_days, 1);
    const tally_day_stats *d = day(f, "2026-11-21");
    assert_int_equal(d->day_start_utc, ns_of("2026-11-20T16:00:00Z") / 1000000000);
    assert_int_equal(d->total_requests, 4);
    assert_int_equal(d->error_requests, 2); /* 500, and the message of one space */
    assert_int_equal(d->success_requests, 2);
    assert_int_equal(d->input_tokens, 100);
    assert_int_equal(d->output_tokens, 200);
    assert_true(d->total_cost == 10.0);
    assert_true(d->actual_total_cost == 5.0);
    assert_true(d->avg_response_time_ms == 175.5); /* (100 + 251) / 2; NULLs left out */
    assert_int_equal(d->unique_models, 2);         /* gpt-4o, GPT-4o */
    assert_int_equal(d->unique_providers, 1);
    /* user_days: alice before bob (bytes), none for the row without user */
    assert_int_equal(f->st.n_user_days, 2);
    assert_string_equal(f->st.user_days[0].user_id, "alice");
    assert_int_equal(f->st.user_days[0].total_requests, 2);
    assert_int_equal(f->st.user_days[0].error_requests, 2);
    assert_int_equal(f->st.user_days[0].input_tokens, 50);
    assert_true(f->st.user_days[0].total_cost == 5.0);
    assert_string_equal(f->st.user_days[1].user_id, "bob");
    assert_int_equal(f->st.summary.all_time_requests, 4);
    assert_int_equal(f->st.summary.cutoff_utc, ns_of("2026-11-21T16:00:00Z") / 1000000000);
    assert_int_equal(f->st.today.total_requests, 0);
    finish(f);
}

static void test_today_and_future_rows(void **state)
{
    fixture *f = start("Asia/Shanghai", "2026-11-22T03:00:00Z", 400);
    tally_record r[] = {
        usage("2026-11-21T15:59:59Z", "u", "m", 200, NULL, 1, 1), /* 11-21 */
        usage("2026-11-21T16:00:00Z", "u", "m", 200, NULL, 2, 2), /* today, 00:00 local */
        usage("2026-11-23T01:00:00Z", "u", "m", 200, NULL, 4, 4), /* after now */
    };
    feed(f, r, 3);
    stats(f);
    assert_int_equal(f->st.n_days, 1);
    assert_int_equal(f->st.summary.all_time_input_tokens, 1);
    assert_int_equal(f->st.today.total_requests, 2);
    assert_int_equal(f->st.today.input_tokens, 6);
    assert_int_equal(f->st.combined.total_requests, 3);
    assert_int_equal(f->st.combined.input_tokens, 7);
    finish(f);
}

static void test_exact_costs_any_order(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    enum { N = 1000 };
    tally_record *r = calloc(N + 1, sizeof(*r));
    for (int i = 0; i < N; i++) {
        r[i] = usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, 1, 0);
        r[i].u.usage.total_cost_usd = TALLY_FIXED_ONE / 10; /* 0.1 */
    }
    r[N] = usage("2026-11-20T11:00:00Z", "u", "m", 200, NULL, 1, 0);
    r[N].u.usage.total_cost_usd = (tally_fixed)1000000000000000LL * TALLY_FIXED_ONE; /* 1e15 */
    feed(f, r + N, 1); /* the big one first: float summation would lose the tenths */
    feed(f, r, N);
    stats(f);
    /* 1e15 + 100 exactly, which a double holds exactly */
    assert_true(day(f, "2026-11-20")->total_cost == 1000000000000100.0);
    assert_true(f->st.summary.all_time_cost == 1000000000000100.0);
    free(r);
    finish(f);
}

static void test_tokens_2_to_40(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record r[4];
    for (int i = 0; i < 4; i++)
        r[i] = usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, (int64_t)1 << 40, 0);
    feed(f, r, 2);
    feed(f, r + 2, 2);
    stats(f);
    assert_int_equal(day(f, "2026-11-20")->input_tokens, (int64_t)1 << 42);
    assert_int_equal(day(f, "2026-11-20")->output_tokens, (int64_t)1 << 43);
    assert_int_equal(f->st.user_days[0].input_tokens, (int64_t)1 << 42);
    finish(f);
}

/* How many log lines hold needle. */
static size_t logged(const tally_host *h, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < mock_host_log_count(h); i++)
        n += strstr(mock_host_log_text(h, i), needle) != NULL;
    return n;
}

/* Sums saturate at int64 and say so once, never wrap: pending (two rows
 * in one flush), in the tables (one row per flush), per user-day, and in
 * the summary and combined totals of two saturated days. Costs too. */
static void test_sums_saturate(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    const tally_fixed big = (tally_fixed)INT64_MAX * TALLY_FIXED_ONE; /* 9.2e18 dollars */
    tally_record r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = usage(i < 2 ? "2026-11-20T10:00:00Z" : "2026-11-21T10:00:00Z", "u", "m", 200, NULL,
                     0, 0);
        r[i].u.usage.input_tokens = INT64_MAX;
        r[i].u.usage.output_tokens = 1;
        r[i].u.usage.total_cost_usd = big;
    }
    feed(f, r, 2);     /* 2026-11-20: saturates while pending */
    feed(f, r + 2, 1); /* 2026-11-21: one row, at the bound */
    feed(f, r + 2, 1); /* ... and again: saturates in the table */
    stats(f);
    assert_int_equal(day(f, "2026-11-20")->input_tokens, INT64_MAX);
    assert_int_equal(day(f, "2026-11-20")->output_tokens, 2);
    assert_int_equal(day(f, "2026-11-21")->input_tokens, INT64_MAX);
    assert_int_equal(day(f, "2026-11-21")->total_requests, 2);
    assert_true(day(f, "2026-11-21")->total_cost >= 9.2e18);
    assert_int_equal(f->st.summary.all_time_input_tokens, INT64_MAX);
    assert_int_equal(f->st.summary.all_time_output_tokens, 4);
    assert_true(f->st.summary.all_time_cost >= 9.2e18);
    for (size_t i = 0; i < f->st.n_user_days; i++)
        assert_int_equal(f->st.user_days[i].input_tokens, INT64_MAX);
    /* Reported once per scope, day and field, however often it recurs. */
    assert_int_equal(logged(f->h, "the day sum input_tokens of 2026-11-20 went beyond"), 1);
    assert_int_equal(logged(f->h, "the day sum input_tokens of 2026-11-21 went beyond"), 1);
    assert_int_equal(logged(f->h, "the user day sum input_tokens of 2026-11-20"), 1);
    assert_int_equal(logged(f->h, "the day sum total_cost_usd of 2026-11-20"), 1);
    assert_int_equal(logged(f->h, "the summary sum input_tokens"), 1);
    stats(f);
    assert_int_equal(logged(f->h, "the summary sum input_tokens"), 1);
    assert_int_equal(logged(f->h, "output_tokens"), 0);
    mock_host_log_clear(f->h);
    finish(f);
}

static void test_discard_forgets_pending(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record a = usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, 5, 0);
    assert_int_equal(f->p->collector.consume(f->ctx, "csv.usage", &a, 1), TALLY_HOST_OK);
    f->p->collector.discard(f->ctx);
    assert_int_equal(f->p->collector.flush(f->ctx), TALLY_HOST_OK);
    stats(f);
    assert_int_equal(f->st.n_days, 0);
    assert_int_equal(f->st.summary.all_time_requests, 0);
    feed(f, &a, 1);
    stats(f);
    assert_int_equal(f->st.summary.all_time_requests, 1);
    finish(f);
}

static void test_late_rows_and_zero_days(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record a = usage("2026-11-17T10:00:00Z", "u", "m", 200, NULL, 5, 0);
    tally_record b = usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, 7, 0);
    feed(f, &b, 1);
    stats(f);
    assert_int_equal(f->st.n_days, 2); /* 20 and 21 (a zero day) */
    feed(f, &a, 1);                    /* late: an earlier closed day */
    feed(f, &b, 1);                    /* and one more for the 20th */
    stats(f);
    assert_int_equal(f->st.n_days, 5); /* 17..21 */
    assert_string_equal(f->st.days[0].date, "2026-11-17");
    assert_int_equal(day(f, "2026-11-18")->total_requests, 0);
    assert_int_equal(day(f, "2026-11-18")->day_start_utc,
                     ns_of("2026-11-18T00:00:00Z") / 1000000000);
    assert_int_equal(day(f, "2026-11-20")->total_requests, 2);
    assert_int_equal(day(f, "2026-11-21")->total_requests, 0);
    assert_int_equal(f->st.summary.all_time_input_tokens, 19);
    finish(f);
}

static tally_record candidate(const char *at, const char *request, const char *status)
{
    tally_record r = {.stream = TALLY_STREAM_CANDIDATES};
    r.u.candidate.created_ns = ns_of(at);
    r.u.candidate.request_id = str(request);
    r.u.candidate.status = str(status);
    return r;
}

static void test_fallbacks(void **state)
{
    fixture *f = start("America/New_York", "2026-11-22T15:00:00Z", 400);
    tally_record u[] = {usage("2026-11-19T15:00:00Z", "u", "m", 200, NULL, 1, 0),
                        usage("2026-11-20T15:00:00Z", "u", "m", 200, NULL, 1, 0)};
    feed(f, u, 2);
    tally_record c[] = {
        /* r1: success then failed, in two flushes: one fallback on the 20th */
        candidate("2026-11-20T15:00:00Z", "r1", "success"),
        candidate("2026-11-20T15:00:01Z", "r1", "failed"),
        candidate("2026-11-20T15:00:02Z", "r1", "failed"), /* a third: still one */
        /* r2: one success, skipped and pending never count */
        candidate("2026-11-20T16:00:00Z", "r2", "success"),
        candidate("2026-11-20T16:00:01Z", "r2", "skipped"),
        candidate("2026-11-20T16:00:02Z", "r2", "pending"),
        /* r3: across local midnight (05:00Z is 00:00 EST): one on each day, neither counts */
        candidate("2026-11-21T04:59:59Z", "r3", "success"),
        candidate("2026-11-21T05:00:00Z", "r3", "failed"),
        /* r4: two on the 21st, a day without usage rows: all zeros, fallback_count
         * included (DESIGN.md) */
        candidate("2026-11-21T12:00:00Z", "r4", "failed"),
        candidate("2026-11-21T12:00:01Z", "r4", "success"),
    };
    feed(f, c, 1);
    feed(f, c + 1, 9);
    stats(f);
    assert_int_equal(day(f, "2026-11-19")->fallback_count, 0);
    assert_int_equal(day(f, "2026-11-20")->fallback_count, 1);
    assert_int_equal(day(f, "2026-11-21")->total_requests, 0);
    assert_int_equal(day(f, "2026-11-21")->fallback_count, 0);
    finish(f);
}

static tally_record item(tally_stream s, const char *id, bool active)
{
    tally_record r = {.stream = s};
    r.u.item.id = str(id);
    r.u.item.is_active = active;
    return r;
}

static void test_inventories_replace(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record users[] = {item(TALLY_STREAM_USERS, "a", true),
                            item(TALLY_STREAM_USERS, "b", false),
                            item(TALLY_STREAM_USERS, "c", true)};
    tally_record keys[] = {item(TALLY_STREAM_API_KEYS, "k1", true)};
    f->p->collector.inventory(f->ctx, "csv.users", TALLY_STREAM_USERS, TALLY_INVENTORY_BEGIN);
    f->p->collector.consume(f->ctx, "csv.users", users, 3);
    f->p->collector.inventory(f->ctx, "csv.users", TALLY_STREAM_USERS, TALLY_INVENTORY_END);
    f->p->collector.flush(f->ctx);
    f->p->collector.inventory(f->ctx, "csv.keys", TALLY_STREAM_API_KEYS, TALLY_INVENTORY_BEGIN);
    f->p->collector.consume(f->ctx, "csv.keys", keys, 1);
    f->p->collector.inventory(f->ctx, "csv.keys", TALLY_STREAM_API_KEYS, TALLY_INVENTORY_END);
    f->p->collector.flush(f->ctx);
    stats(f);
    assert_int_equal(f->st.summary.inventory.total_users, 3);
    assert_int_equal(f->st.summary.inventory.active_users, 2);
    assert_int_equal(f->st.summary.inventory.total_api_keys, 1);
    assert_int_equal(f->st.summary.inventory.active_api_keys, 1);
    /* A new whole inventory replaces the old one; one never ended changes nothing. */
    f->p->collector.inventory(f->ctx, "csv.users", TALLY_STREAM_USERS, TALLY_INVENTORY_BEGIN);
    f->p->collector.consume(f->ctx, "csv.users", users + 1, 1);
    f->p->collector.inventory(f->ctx, "csv.users", TALLY_STREAM_USERS, TALLY_INVENTORY_END);
    f->p->collector.flush(f->ctx);
    f->p->collector.inventory(f->ctx, "csv.keys", TALLY_STREAM_API_KEYS, TALLY_INVENTORY_BEGIN);
    f->p->collector.flush(f->ctx);
    stats(f);
    assert_int_equal(f->st.summary.inventory.total_users, 1);
    assert_int_equal(f->st.summary.inventory.active_users, 0);
    assert_int_equal(f->st.summary.inventory.total_api_keys, 1);
    finish(f);
}

static void test_keep_days_and_prune(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 2);
    tally_record r[] = {
        usage("2026-11-18T10:00:00Z", "u", "m", 200, NULL, 1, 0),
        usage("2026-11-19T10:00:00Z", "u", "m", 200, NULL, 2, 0),
        usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, 4, 0),
        usage("2026-11-21T10:00:00Z", "u", "m", 200, NULL, 8, 0),
    };
    feed(f, r, 4);
    stats(f);
    assert_int_equal(f->st.n_days, 2); /* 20 and 21 */
    assert_string_equal(f->st.days[0].date, "2026-11-20");
    assert_int_equal(f->st.n_user_days, 2);
    assert_int_equal(f->st.summary.all_time_input_tokens, 15);
    tally_day ended;
    assert_int_equal(
        mock_host_api()->day_of(f->h, ns_of("2026-11-21T10:00:00Z") / 1000000000, &ended), 0);
    assert_int_equal(f->p->rollover(f->ctx, &ended), TALLY_HOST_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(f->db, "SELECT min(date) FROM daily_user_days", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "2026-11-20");
    sqlite3_finalize(st);
    stats(f);
    assert_int_equal(f->st.summary.all_time_input_tokens, 15);
    finish(f);
}

/* Batched pruning (DAILY_PRUNE_BATCH in plugins/daily/daily.h, 10,000
 * rows per table per cycle). A backlog of 25 old days x 1,000 users: */
enum { OLD_DAYS = 25, OLD_USERS = 1000, BATCH = 10000, BACKLOG = OLD_DAYS * OLD_USERS };

/* Rows of a table, all or of the days before a date. */
static int64_t rows(fixture *f, const char *table, const char *before)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE date < '%s'", table,
             before ? before : "9999");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void exec(fixture *f, const char *sql)
{
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* 2026-10-01..25, OLD_USERS users a day, and two kept days (keep_days 2
 * on 11-22: 11-20 and 11-21) with three users each; fed through the
 * collector, one flush per day. */
static void feed_backlog(fixture *f)
{
    tally_record *r = calloc(OLD_USERS, sizeof(*r));
    char(*ids)[16] = calloc(OLD_USERS, 16);
    assert_non_null(r);
    assert_non_null(ids);
    for (int i = 0; i < OLD_USERS; i++)
        snprintf(ids[i], 16, "user-%04d", i);
    for (int day = 1; day <= OLD_DAYS + 2; day++) {
        char at[32];
        if (day <= OLD_DAYS)
            snprintf(at, sizeof(at), "2026-10-%02dT10:00:00Z", day);
        else
            snprintf(at, sizeof(at), "2026-11-%02dT10:00:00Z", 20 + day - OLD_DAYS - 1);
        int n = day <= OLD_DAYS ? OLD_USERS : 3;
        for (int i = 0; i < n; i++)
            r[i] = usage(at, ids[i], "m", 200, NULL, day, 1);
        feed(f, r, (size_t)n);
    }
    free(ids);
    free(r);
}

/* Two statistics agree on everything a snapshot shows. */
static void assert_same_stats(const tally_stats *a, const tally_stats *b)
{
    assert_int_equal(a->n_days, b->n_days);
    assert_memory_equal(a->days, b->days, a->n_days * sizeof(*a->days));
    assert_int_equal(a->n_user_days, b->n_user_days);
    for (size_t i = 0; i < a->n_user_days; i++) {
        const tally_user_day_stats *x = &a->user_days[i], *y = &b->user_days[i];
        assert_string_equal(x->date, y->date);
        assert_string_equal(x->user_id, y->user_id);
        assert_int_equal(x->total_requests, y->total_requests);
        assert_int_equal(x->input_tokens, y->input_tokens);
        assert_true(x->total_cost == y->total_cost);
    }
    assert_int_equal(a->summary.all_time_requests, b->summary.all_time_requests);
    assert_int_equal(a->summary.all_time_input_tokens, b->summary.all_time_input_tokens);
    assert_true(a->summary.all_time_cost == b->summary.all_time_cost);
    assert_int_equal(a->combined.total_requests, b->combined.total_requests);
    assert_string_equal(a->oldest_kept, b->oldest_kept);
}

/* The rows of a table. */
static int64_t count_rows(fixture *f, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* One cycle's start as the agent runs it: in a transaction of its own
 * (the mock host has none), committed or rolled back. */
static void cycle(fixture *f, const char *today, bool commit)
{
    tally_day d;
    assert_int_equal(mock_host_api()->day_of(f->h, ns_of(today) / 1000000000, &d), 0);
    exec(f, "BEGIN");
    assert_int_equal(f->p->cycle_begin(f->ctx, &d), TALLY_HOST_OK);
    exec(f, commit ? "COMMIT" : "ROLLBACK");
}

/* keep_days lowered from 400 to 2 (a restart) on a backlog of 2.5
 * batches: each cycle deletes one batch of the old user-days, never a
 * kept row, and the statistics at every step are those of a full prune
 * (made by hand on a twin state). */
static void test_prune_backlog_in_batches(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    fixture *full = start("UTC", "2026-11-22T03:00:00Z", 2);
    feed_backlog(f);
    feed_backlog(full);
    /* More than a snapshot carries: the statistics say so, and list none. */
    stats(f);
    assert_int_equal(f->st.more_changed, 1);
    assert_int_equal(f->st.n_user_days, 0);
    assert_int_equal(count_rows(f, "daily_user_days"), BACKLOG + 6);
    mock_host_stop(&f->in);
    if (mock_host_start(&f->in, f->p, f->h, "stats", "keep_days = 2") != 0)
        fail_msg("restarting daily failed: %s", mock_host_parse_error());
    f->ctx = f->in.ctx;
    exec(full, "DELETE FROM daily_user_days WHERE date < '2026-11-20';"
               "DELETE FROM daily_values WHERE date < '2026-11-20'");
    stats(full);
    assert_int_equal(full->st.n_user_days, 6);

    int64_t left = BACKLOG;
    for (int c = 1; left > 0; c++) {
        assert_true(c <= BACKLOG / BATCH + 1); /* it finishes */
        stats(f);
        assert_same_stats(&f->st, &full->st);
        cycle(f, "2026-11-22T03:00:00Z", true);
        int64_t now = rows(f, "daily_user_days", "2026-11-20");
        assert_int_equal(left - now, left < BATCH ? left : BATCH);
        left = now;
        assert_int_equal(rows(f, "daily_user_days", NULL), left + 6);
    }
    assert_int_equal(rows(f, "daily_values", "2026-11-20"), 0);
    assert_non_null(mock_host_log_find(f->h, "more remain, the next cycles go on"));
    stats(f);
    assert_same_stats(&f->st, &full->st);
    cycle(f, "2026-11-22T03:00:00Z", true); /* nothing left: nothing happens */
    assert_int_equal(rows(f, "daily_user_days", NULL), 6);
    assert_int_equal(f->st.summary.all_time_requests, BACKLOG + 6);
    finish(full);
    finish(f);
}

/* A cycle that rolls back (a crash before its commit) takes its batch
 * back whole: the next one deletes that same batch, once; the kept days
 * never lose a row. */
static void test_prune_rollback_mid_backlog(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 2);
    feed_backlog(f);
    cycle(f, "2026-11-22T03:00:00Z", true);
    assert_int_equal(rows(f, "daily_user_days", "2026-11-20"), BACKLOG - BATCH);
    stats(f);
    tally_stats before = f->st;
    memset(&f->st, 0, sizeof(f->st));
    cycle(f, "2026-11-22T03:00:00Z", false);
    assert_int_equal(rows(f, "daily_user_days", "2026-11-20"), BACKLOG - BATCH);
    assert_int_equal(rows(f, "daily_user_days", NULL), BACKLOG - BATCH + 6);
    stats(f);
    assert_same_stats(&f->st, &before);
    f->p->collector.free_stats(f->ctx, &before);
    cycle(f, "2026-11-22T03:00:00Z", true);
    assert_int_equal(rows(f, "daily_user_days", "2026-11-20"), BACKLOG - 2 * BATCH);
    assert_int_equal(rows(f, "daily_user_days", NULL), BACKLOG - 2 * BATCH + 6);
    finish(f);
}

/* Days that ended while the agent was down roll over in one cycle: one
 * batch in all, and that cycle's cycle_begin adds none; the next goes on. */
static void test_prune_one_batch_per_cycle_over_rollovers(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 2);
    feed_backlog(f);
    exec(f, "BEGIN");
    for (int day = 19; day <= 21; day++) {
        char at[32];
        tally_day ended;
        snprintf(at, sizeof(at), "2026-11-%02dT10:00:00Z", day);
        assert_int_equal(mock_host_api()->day_of(f->h, ns_of(at) / 1000000000, &ended), 0);
        assert_int_equal(f->p->rollover(f->ctx, &ended), TALLY_HOST_OK);
    }
    exec(f, "COMMIT");
    cycle(f, "2026-11-22T03:00:00Z", true);
    assert_int_equal(rows(f, "daily_user_days", "2026-11-20"), BACKLOG - BATCH);
    cycle(f, "2026-11-22T03:00:00Z", true);
    assert_int_equal(rows(f, "daily_user_days", "2026-11-20"), BACKLOG - 2 * BATCH);
    finish(f);
}

static void test_recompute_forgets_range(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record r[] = {
        usage("2026-11-19T10:00:00Z", "u", "m", 200, NULL, 1, 0),
        usage("2026-11-20T10:00:00Z", "u", "m", 200, NULL, 2, 0),
        usage("2026-11-21T10:00:00Z", "u", "m", 200, NULL, 4, 0),
    };
    feed(f, r, 3);
    assert_int_equal(f->p->collector.recompute_begin(f->ctx,
                                                     ns_of("2026-11-20T00:00:00Z") / 1000000000,
                                                     ns_of("2026-11-21T00:00:00Z") / 1000000000),
                     TALLY_HOST_OK);
    stats(f);
    assert_int_equal(day(f, "2026-11-20")->total_requests, 0);
    assert_int_equal(f->st.summary.all_time_input_tokens, 5);
    feed(f, r + 1, 1);
    stats(f);
    assert_int_equal(f->st.summary.all_time_input_tokens, 7);
    finish(f);
}

static void test_dst_25_hour_day(void **state)
{
    fixture *f = start("America/New_York", "2026-11-03T12:00:00Z", 400);
    tally_record r[] = {
        usage("2026-11-01T03:59:59Z", "u", "m", 200, NULL, 1, 0),  /* 10-31 23:59:59 EDT */
        usage("2026-11-01T04:00:00Z", "u", "m", 200, NULL, 2, 0),  /* 11-01 00:00 EDT */
        usage("2026-11-01T05:30:00Z", "u", "m", 200, NULL, 4, 0),  /* 01:30 EDT */
        usage("2026-11-01T06:30:00Z", "u", "m", 200, NULL, 8, 0),  /* 01:30 EST, repeated hour */
        usage("2026-11-02T04:59:59Z", "u", "m", 200, NULL, 16, 0), /* 11-01 23:59:59 EST */
        usage("2026-11-02T05:00:00Z", "u", "m", 200, NULL, 32, 0), /* 11-02 00:00 EST */
    };
    feed(f, r, 6);
    stats(f);
    const tally_day_stats *d = day(f, "2026-11-01");
    assert_int_equal(d->day_start_utc, ns_of("2026-11-01T04:00:00Z") / 1000000000);
    assert_int_equal(d->input_tokens, 2 + 4 + 8 + 16);
    assert_int_equal(day(f, "2026-10-31")->input_tokens, 1);
    assert_int_equal(day(f, "2026-11-02")->input_tokens, 32);
    finish(f);
}

static void test_many_requests_flush_early(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    enum { N = 300000 };
    char(*ids)[16] = calloc(N, 16);
    tally_record *c = calloc(2 * (size_t)N, sizeof(*c));
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 16, "r%d", i);
        c[2 * i] = candidate("2026-11-20T10:00:00Z", ids[i], "success");
        c[2 * i + 1] = candidate("2026-11-20T10:00:01Z", ids[i], i % 3 == 0 ? "failed" : "pending");
    }
    tally_record u = usage("2026-11-20T09:00:00Z", "u", "m", 200, NULL, 1, 0);
    feed(f, &u, 1);
    /* More than the pending limit in one consume: written early, counted once. */
    feed(f, c, 2 * (size_t)N);
    stats(f);
    assert_int_equal(day(f, "2026-11-20")->fallback_count, (N + 2) / 3);
    free(c);
    free(ids);
    finish(f);
}

static void test_many_distinct_models(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    enum { N = 5000 };
    char(*names)[16] = calloc(N, 16);
    tally_record *r = calloc(2 * (size_t)N, sizeof(*r));
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 16, "model-%d", i);
        r[2 * i] = usage("2026-11-20T10:00:00Z", "u", names[i], 200, NULL, 1, 0);
        r[2 * i + 1] = usage("2026-11-20T11:00:00Z", "u", names[i], 200, NULL, 1, 0);
    }
    feed(f, r, 2 * (size_t)N);
    feed(f, r, N); /* the same names again in a later flush */
    stats(f);
    assert_int_equal(day(f, "2026-11-20")->unique_models, N);
    assert_int_equal(day(f, "2026-11-20")->unique_providers, 1);
    assert_int_equal(day(f, "2026-11-20")->total_requests, 3 * N);
    free(r);
    free(names);
    finish(f);
}

/* ---- issue 12: what changed, and history pages ---- */

/* "date user total" of every user-day in f->st, joined with ';'. */
static void listed(const tally_user_day_stats *u, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s %s %lld;", u[i].date, u[i].user_id,
                 (long long)u[i].total_requests);
    }
}

static void assert_listed(fixture *f, int64_t after, const char *want)
{
    char got[4096];
    stats_after(f, after);
    assert_int_equal(f->st.more_changed, 0);
    listed(f->st.user_days, f->st.n_user_days, got, sizeof(got));
    assert_string_equal(got, want);
}

/* A closed day's row carries the seq of the cycle that changed it; today's
 * rows never count as changed; a late row changes only its own row. */
static void test_changed_user_days(void **state)
{
    (void)state;
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    mock_host_set_cycle_seq(f->h, 5);
    tally_record r[] = {
        usage("2026-11-20T10:00:00Z", "a", "m", 200, NULL, 1, 0),
        usage("2026-11-21T10:00:00Z", "a", "m", 200, NULL, 1, 0),
        usage("2026-11-21T11:00:00Z", "b", "m", 200, NULL, 1, 0),
        usage("2026-11-22T01:00:00Z", "a", "m", 200, NULL, 1, 0), /* today */
    };
    feed(f, r, 4);
    assert_listed(f, 0, "2026-11-20 a 1;2026-11-21 a 1;2026-11-21 b 1;");
    assert_listed(f, 4, "2026-11-20 a 1;2026-11-21 a 1;2026-11-21 b 1;");
    assert_listed(f, 5, "");
    /* Cycle 6: a row of today only: nothing listed changed. */
    mock_host_set_cycle_seq(f->h, 6);
    tally_record t = usage("2026-11-22T02:00:00Z", "b", "m", 200, NULL, 1, 0);
    feed(f, &t, 1);
    assert_listed(f, 5, "");
    /* Cycle 7: a late row for 11-20's user a. */
    mock_host_set_cycle_seq(f->h, 7);
    tally_record late = usage("2026-11-20T12:00:00Z", "a", "m", 200, NULL, 1, 0);
    feed(f, &late, 1);
    assert_listed(f, 6, "2026-11-20 a 2;");
    assert_listed(f, 5, "2026-11-20 a 2;");
    assert_listed(f, 4, "2026-11-20 a 2;2026-11-21 a 1;2026-11-21 b 1;");
    /* The days and the totals stay whole whatever the seq. */
    stats_after(f, 7);
    assert_int_equal(f->st.n_user_days, 0);
    assert_int_equal(f->st.n_days, 2);
    assert_int_equal(f->st.summary.all_time_requests, 4);
    assert_int_equal(f->st.today.total_requests, 2);
    finish(f);
}

/* When today closes, its rows enter the lists with the rollover's seq. */
static void test_rollover_stamps_the_day(void **state)
{
    (void)state;
    fixture *f = start("UTC", "2026-11-21T03:00:00Z", 400);
    mock_host_set_cycle_seq(f->h, 3);
    tally_record r[] = {
        usage("2026-11-21T01:00:00Z", "a", "m", 200, NULL, 1, 0),
        usage("2026-11-21T02:00:00Z", "b", "m", 200, NULL, 1, 0),
        usage("2026-11-22T02:00:00Z", "c", "m", 200, NULL, 1, 0), /* tomorrow */
    };
    feed(f, r, 3);
    assert_listed(f, 0, "");
    /* Midnight: cycle 4 closes 11-21. */
    mock_host_set_now(f->h, ns_of("2026-11-22T03:00:00Z") / 1000000000);
    mock_host_set_cycle_seq(f->h, 4);
    tally_day ended;
    assert_int_equal(
        mock_host_api()->day_of(f->h, ns_of("2026-11-21T10:00:00Z") / 1000000000, &ended), 0);
    assert_int_equal(f->p->rollover(f->ctx, &ended), TALLY_HOST_OK);
    assert_listed(f, 3, "2026-11-21 a 1;2026-11-21 b 1;");
    assert_listed(f, 4, "");
    finish(f);
}

/* More changed than a snapshot carries: none listed, and more_changed. */
static void test_too_many_changed(void **state)
{
    (void)state;
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    size_t n = TALLY_STATS_MAX_CHANGED + 1;
    tally_record *r = calloc(n, sizeof(*r));
    char(*ids)[16] = calloc(n, sizeof(*ids));
    assert_non_null(r);
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "u%06zu", i);
        r[i] = usage("2026-11-21T10:00:00Z", ids[i], "m", 200, NULL, 1, 0);
    }
    feed(f, r, n);
    stats_after(f, 0);
    assert_int_equal(f->st.more_changed, 1);
    assert_int_equal(f->st.n_user_days, 0);
    assert_int_equal(f->st.summary.all_time_requests, (int64_t)n);
    /* One fewer changed (a late row for one user in cycle 2) fits. */
    mock_host_set_cycle_seq(f->h, 2);
    feed(f, r, 1);
    assert_listed(f, 1, "2026-11-21 u000000 2;");
    free(ids);
    free(r);
    finish(f);
}

/* Every page of a history read, joined as `listed` does. */
static void history_text(fixture *f, sqlite3 *db, const tally_history_query *q, char *out,
                         size_t cap, size_t *pages)
{
    void *it;
    assert_int_equal(f->p->collector.history_open(f->ctx, db, q, &it), TALLY_HOST_OK);
    out[0] = '\0';
    *pages = 0;
    for (;;) {
        tally_history_page page;
        assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
        if (page.n_user_days == 0)
            break;
        assert_true(page.n_user_days <= (q->page_rows ? q->page_rows : 1000));
        (*pages)++;
        size_t len = strlen(out);
        listed(page.user_days, page.n_user_days, out + len, cap - len);
    }
    /* The end stays the end. */
    tally_history_page page;
    assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
    assert_int_equal(page.n_user_days, 0);
    f->p->collector.history_close(it);
}

static tally_history_query query(int64_t after, const char *from, const char *to, size_t rows)
{
    tally_history_query q = {.struct_size = sizeof(q),
                             .table = TALLY_HISTORY_USER_DAYS,
                             .changed_after = after,
                             .page_rows = rows};
    snprintf(q.from_date, sizeof(q.from_date), "%s", from);
    snprintf(q.to_date, sizeof(q.to_date), "%s", to);
    return q;
}

/* History pages hold what the statistics list, in order, whatever the
 * page size; filters by dates, key and seq. */
static void test_history_pages(void **state)
{
    (void)state;
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    static const char *const users[] = {"z", "a", "m", "b", "y", "c", "x"};
    tally_record r[21];
    for (int i = 0; i < 21; i++)
        r[i] = usage(i < 7    ? "2026-11-19T10:00:00Z"
                     : i < 14 ? "2026-11-20T10:00:00Z"
                              : "2026-11-21T10:00:00Z",
                     users[i % 7], "m", 200, NULL, 1, 0);
    feed(f, r, 21);
    mock_host_set_cycle_seq(f->h, 2);
    feed(f, &r[10], 1); /* 2026-11-20 b, late */
    stats_after(f, 0);
    char want[4096], got[4096];
    listed(f->st.user_days, f->st.n_user_days, want, sizeof(want));
    assert_int_equal(f->st.n_user_days, 21);
    size_t sizes[] = {1, 7, 1000, 0}, pages;
    for (size_t k = 0; k < 4; k++) {
        tally_history_query q = query(0, "2026-11-19", "2026-11-22", sizes[k]);
        history_text(f, f->db, &q, got, sizeof(got), &pages);
        assert_string_equal(got, want);
        size_t per = sizes[k] ? sizes[k] : 1000;
        assert_int_equal(pages, (21 + per - 1) / per);
    }
    tally_history_query q = query(0, "2026-11-20", "2026-11-21", 3);
    history_text(f, f->db, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "2026-11-20 a 1;2026-11-20 b 2;2026-11-20 c 1;2026-11-20 m 1;"
                             "2026-11-20 x 1;2026-11-20 y 1;2026-11-20 z 1;");
    q = query(0, "2026-11-19", "2026-11-22", 2);
    q.key = "y";
    history_text(f, f->db, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "2026-11-19 y 1;2026-11-20 y 1;2026-11-21 y 1;");
    q = query(1, "2026-11-19", "2026-11-22", 2);
    history_text(f, f->db, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "2026-11-20 b 2;");
    q = query(2, "2026-11-19", "2026-11-22", 2);
    history_text(f, f->db, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "");
    /* Only the users' days are the collector's to serve. */
    q.table = TALLY_HISTORY_COUNTER_DAYS;
    void *it = NULL;
    assert_int_equal(f->p->collector.history_open(f->ctx, f->db, &q, &it), TALLY_HOST_EINVAL);
    assert_null(it);
    finish(f);
}

/* A read on another connection inside a read transaction sees the state
 * as it was when the transaction began, while the collector commits a
 * later cycle on its own connection (what the agent's snapshots rely on). */
static void test_history_read_is_pinned(void **state)
{
    (void)state;
    char dir[] = "/tmp/tally-daily-pin.XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tally.db", dir);
    fixture *f = start_at("UTC", "2026-11-22T03:00:00Z", 400, path);
    tally_record r = usage("2026-11-21T10:00:00Z", "a", "m", 200, NULL, 1, 0);
    assert_int_equal(sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    feed(f, &r, 1);
    assert_int_equal(sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    sqlite3 *view;
    assert_int_equal(sqlite3_open_v2(path, &view, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(view, "BEGIN; SELECT count(*) FROM daily_days", NULL, NULL, NULL),
                     SQLITE_OK);
    mock_host_set_cycle_seq(f->h, 2);
    tally_record more[] = {usage("2026-11-21T11:00:00Z", "a", "m", 200, NULL, 1, 0),
                           usage("2026-11-21T11:00:00Z", "b", "m", 200, NULL, 1, 0)};
    assert_int_equal(sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    feed(f, more, 2);
    assert_int_equal(sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    char got[256];
    size_t pages;
    tally_history_query q = query(0, "2026-11-01", "2026-11-22", 10);
    history_text(f, view, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "2026-11-21 a 1;");
    assert_int_equal(sqlite3_exec(view, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    history_text(f, view, &q, got, sizeof(got), &pages);
    assert_string_equal(got, "2026-11-21 a 2;2026-11-21 b 1;");
    sqlite3_close(view);
    finish(f);
    unlink(path);
    char wal[300];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    rmdir(dir);
}

/* A state of the previous version (schema 1, no seq): migrated, its rows
 * are listed as every row (changed_after 0) and as changed by no cycle. */
static void test_old_state_migrates(void **state)
{
    (void)state;
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record r = usage("2026-11-21T10:00:00Z", "a", "m", 200, NULL, 1, 0);
    feed(f, &r, 1);
    /* Back to what the previous release made: version 1 of "daily". */
    mock_host_stop(&f->in);
    assert_int_equal(sqlite3_exec(f->db,
                                  "DROP INDEX daily_user_days_seq;"
                                  "ALTER TABLE daily_user_days DROP COLUMN seq;"
                                  "ALTER TABLE daily_days DROP COLUMN models;"
                                  "ALTER TABLE daily_days DROP COLUMN providers;"
                                  "UPDATE schema_versions SET version = 1 WHERE owner = 'daily'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(mock_host_start(&f->in, f->p, f->h, "stats", "keep_days = 400"), 0);
    f->ctx = f->in.ctx;
    assert_non_null(mock_host_log_find(f->h, "migrated from version 1 to 3"));
    assert_listed(f, 0, "2026-11-21 a 1;");
    /* Step 3 counted the day's distinct values from the stored ones. */
    assert_int_equal(f->st.n_days, 1);
    assert_int_equal(f->st.days[0].unique_models, 1);
    assert_int_equal(f->st.days[0].unique_providers, 1);
    assert_listed(f, 1, "");
    finish(f);
}

/* ---- issue 12, further: stamps over recompute and pruning, a model of
 * many cycles, what stats cost, history filters and plans, a pinned read
 * across pages and threads, the previous release's state ---- */

/* A statement on the test's connection to the state. */
static sqlite3_stmt *prepared(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("could not prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* The seq a user-day carries in the state; -1 if there is no such row. */
static int64_t seq_of(fixture *f, const char *date, const char *user)
{
    sqlite3_stmt *st =
        prepared(f->db, "SELECT seq FROM daily_user_days WHERE date = ?1 AND user_id = ?2");
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, user, (int)strlen(user), SQLITE_STATIC);
    int64_t seq = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return seq;
}

/* Cycle seq begins on the business day of `today` (an instant in it), as
 * the agent begins one: its number, then the collector's cycle_begin. */
static void begin_seq(fixture *f, int64_t seq, const char *today)
{
    mock_host_set_cycle_seq(f->h, seq);
    cycle(f, today, true);
}

/* One request of user on day (YYYY-MM-DD), at 10:00 UTC. */
static tally_record at_user(const char *day, const char *user)
{
    char at[32];
    snprintf(at, sizeof(at), "%sT10:00:00Z", day);
    return usage(at, user, "m", 200, NULL, 1, 1);
}

/* --recompute forgets days and the sources emit them again: the rows
 * re-emitted for a closed day carry the recompute's seq, the others are
 * gone, days outside the range keep theirs. It runs in a run of its own
 * (a restart), with no cycle_begin. */
static void test_recompute_restamps(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    begin_seq(f, 1, "2026-11-22T03:00:00Z");
    tally_record r[] = {at_user("2026-11-19", "a"), at_user("2026-11-20", "a"),
                        at_user("2026-11-20", "b")};
    feed(f, r, 3);
    mock_host_stop(&f->in);
    if (mock_host_start(&f->in, f->p, f->h, "stats", "keep_days = 400") != 0)
        fail_msg("restarting daily failed: %s", mock_host_parse_error());
    f->ctx = f->in.ctx;
    mock_host_set_cycle_seq(f->h, 5);
    assert_int_equal(f->p->collector.recompute_begin(f->ctx,
                                                     ns_of("2026-11-20T00:00:00Z") / 1000000000,
                                                     ns_of("2026-11-21T00:00:00Z") / 1000000000),
                     TALLY_HOST_OK);
    feed(f, r + 1, 1);
    assert_int_equal(seq_of(f, "2026-11-19", "a"), 1);
    assert_int_equal(seq_of(f, "2026-11-20", "a"), 5);
    assert_int_equal(seq_of(f, "2026-11-20", "b"), -1);
    assert_listed(f, 4, "2026-11-20 a 1;");
    assert_listed(f, 0, "2026-11-19 a 1;2026-11-20 a 1;");
    finish(f);
}

/* A rollover that cannot stamp its day fails, and says what to do: the
 * agent commits the cycle anyway, so the day would stay unlisted as
 * changed until a recompute. */
static void test_rollover_stamp_failure_says_what_to_do(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    tally_record r = at_user("2026-11-22", "a");
    feed(f, &r, 1);
    exec(f, "CREATE TRIGGER no_stamp BEFORE UPDATE OF seq ON daily_user_days "
            "BEGIN SELECT RAISE(ABORT, 'the disk is full (a test trigger)'); END");
    tally_day ended;
    mock_host_set_cycle_seq(f->h, 2);
    mock_host_set_now(f->h, ns_of("2026-11-23T03:00:00Z") / 1000000000);
    assert_int_equal(
        mock_host_api()->day_of(f->h, ns_of("2026-11-22T10:00:00Z") / 1000000000, &ended), 0);
    assert_int_equal(f->p->rollover(f->ctx, &ended), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(
        f->h, "could not mark the users' days of 2026-11-22, which just closed, as changed in "
              "the state database: the disk is full (a test trigger); exporters that write only "
              "what changed miss them until they change again: run tallyd --recompute "
              "2026-11-22..2026-11-22"));
    assert_int_equal(seq_of(f, "2026-11-22", "a"), 0);
    mock_host_log_clear(f->h);
    finish(f);
}

/* Rows that keep_days prunes leave the state: listed by no changed_after,
 * and pruning stamps nothing. */
static void test_pruned_rows_gone(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 2);
    begin_seq(f, 1, "2026-11-22T03:00:00Z");
    tally_record r[] = {at_user("2026-11-18", "a"), at_user("2026-11-19", "a"),
                        at_user("2026-11-20", "a"), at_user("2026-11-21", "a")};
    feed(f, r, 4);
    begin_seq(f, 2, "2026-11-22T03:00:00Z"); /* prunes the days before the 20th */
    assert_int_equal(rows(f, "daily_user_days", NULL), 2);
    assert_int_equal(seq_of(f, "2026-11-18", "a"), -1);
    assert_int_equal(seq_of(f, "2026-11-20", "a"), 1);
    assert_listed(f, 0, "2026-11-20 a 1;2026-11-21 a 1;");
    assert_listed(f, 1, "");
    finish(f);
}

/* A state made by several cycles, with a model of each user-day's seq
 * and requests: days 2026-11-10..22 (the 22nd is today), users u0..u9,
 * ten rows a cycle spread over them by two strides. */
enum { MODEL_DAYS = 13, MODEL_USERS = 10, MODEL_CYCLES = 8 };
static int64_t model_seq[MODEL_DAYS][MODEL_USERS], model_total[MODEL_DAYS][MODEL_USERS];

static void model_date(int day, char out[TALLY_DATE_LEN])
{
    snprintf(out, TALLY_DATE_LEN, "2026-11-%02u", (unsigned)(10 + day) % 100u);
}

static void build_model(fixture *f)
{
    static char users[MODEL_USERS][4];
    memset(model_seq, 0, sizeof(model_seq));
    memset(model_total, 0, sizeof(model_total));
    for (int u = 0; u < MODEL_USERS; u++)
        snprintf(users[u], sizeof(users[u]), "u%d", u);
    for (int c = 1; c <= MODEL_CYCLES; c++) {
        begin_seq(f, c, "2026-11-22T03:00:00Z");
        tally_record r[MODEL_USERS];
        for (int i = 0; i < MODEL_USERS; i++) {
            int day = (c * 7 + i * 3) % MODEL_DAYS, u = (c * 5 + i * 7) % MODEL_USERS;
            char date[TALLY_DATE_LEN];
            model_date(day, date);
            r[i] = at_user(date, users[u]);
            r[i].u.usage.input_tokens = c * 100 + i;
            model_total[day][u]++;
            if (day < MODEL_DAYS - 1)
                model_seq[day][u] = c;
        }
        feed(f, r, MODEL_USERS);
    }
}

/* What the model says changed after k, as `listed` writes it. */
static const char *model_after(int64_t k)
{
    static char buf[8192];
    buf[0] = '\0';
    for (int day = 0; day < MODEL_DAYS - 1; day++)
        for (int u = 0; u < MODEL_USERS; u++)
            if (model_total[day][u] > 0 && model_seq[day][u] > k) {
                char date[TALLY_DATE_LEN];
                model_date(day, date);
                size_t at = strlen(buf);
                snprintf(buf + at, sizeof(buf) - at, "%s u%d %lld;", date, u,
                         (long long)model_total[day][u]);
            }
    return buf;
}

static bool same_user_day(const tally_user_day_stats *x, const tally_user_day_stats *y)
{
    return strcmp(x->date, y->date) == 0 && x->day_start_utc == y->day_start_utc &&
           strcmp(x->user_id, y->user_id) == 0 && x->total_requests == y->total_requests &&
           x->success_requests == y->success_requests && x->error_requests == y->error_requests &&
           x->input_tokens == y->input_tokens && x->output_tokens == y->output_tokens &&
           x->cache_creation_tokens == y->cache_creation_tokens &&
           x->cache_read_tokens == y->cache_read_tokens && x->total_cost == y->total_cost;
}

/* A copy of user-days (ids included), to compare later reads with. */
typedef struct saved_rows {
    tally_user_day_stats *rows;
    size_t n;
} saved_rows;

static saved_rows save_rows(const tally_user_day_stats *u, size_t n)
{
    saved_rows s = {calloc(n + 1, sizeof(*s.rows)), n};
    assert_non_null(s.rows);
    for (size_t i = 0; i < n; i++) {
        s.rows[i] = u[i];
        s.rows[i].user_id = strdup(u[i].user_id);
    }
    return s;
}

static void free_rows(saved_rows *s)
{
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->rows[i].user_id);
    free(s->rows);
}

/* Over eight cycles of late rows, changed_after k lists exactly what the
 * model says changed after k, each row with every sum the full list has;
 * 0 is the full list, as read straight from the table. */
static void test_changed_after_model(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    build_model(f);
    stats_after(f, 0);
    saved_rows all = save_rows(f->st.user_days, f->st.n_user_days);
    sqlite3_stmt *st = prepared(f->db, "SELECT date, user_id, total FROM daily_user_days WHERE "
                                       "date < '2026-11-22' ORDER BY date, user_id");
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(n < all.n);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), all.rows[n].date);
        assert_memory_equal(sqlite3_column_blob(st, 1), all.rows[n].user_id,
                            (size_t)sqlite3_column_bytes(st, 1));
        assert_int_equal(sqlite3_column_int64(st, 2), all.rows[n].total_requests);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, all.n);
    for (int64_t k = 0; k <= MODEL_CYCLES; k++) {
        assert_listed(f, k, model_after(k));
        for (size_t i = 0, j = 0; i < f->st.n_user_days; i++, j++) {
            const tally_user_day_stats *u = &f->st.user_days[i];
            while (j < all.n && (strcmp(all.rows[j].date, u->date) != 0 ||
                                 strcmp(all.rows[j].user_id, u->user_id) != 0))
                j++;
            assert_true(j < all.n);
            assert_true(same_user_day(u, &all.rows[j]));
        }
    }
    free_rows(&all);
    finish(f);
}

/* What the statements run on a connection cost: SQLite's virtual machine
 * steps (work, whatever the machine's speed), and their text with the
 * values bound, to ask SQLite for their plans. */
typedef struct trace {
    int64_t vm_steps;
    char *sql[32];
    size_t n_sql;
} trace;

static int on_profile(unsigned type, void *arg, void *p, void *x)
{
    trace *t = arg;
    sqlite3_stmt *st = p;
    t->vm_steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
    if (t->n_sql < sizeof(t->sql) / sizeof(t->sql[0])) {
        char *sql = sqlite3_expanded_sql(st);
        t->sql[t->n_sql++] = sql ? strdup(sql) : NULL;
        sqlite3_free(sql);
    }
    return 0;
}

static void trace_start(fixture *f, trace *t)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(sqlite3_trace_v2(f->db, SQLITE_TRACE_PROFILE, on_profile, t), SQLITE_OK);
}

/* Stop tracing; true if some traced statement's plan walks the user-days
 * (all of them, or every user of a date range), and *seq_index whether
 * one used the seq index. */
static bool trace_stop(fixture *f, trace *t, bool *seq_index)
{
    sqlite3_trace_v2(f->db, 0, NULL, NULL);
    bool walks = false;
    *seq_index = false;
    for (size_t i = 0; i < t->n_sql; i++) {
        assert_non_null(t->sql[i]);
        char *q;
        assert_true(asprintf(&q, "EXPLAIN QUERY PLAN %s", t->sql[i]) > 0);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(f->db, q, -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) {
                const char *d = (const char *)sqlite3_column_text(st, 3);
                bool user_days = strstr(d, "daily_user_days") != NULL ||
                                 strncmp(d, "SCAN u", 6) == 0 || strncmp(d, "SEARCH u ", 9) == 0;
                if (strstr(d, "daily_user_days_seq") != NULL)
                    *seq_index = true;
                else if (user_days && (strncmp(d, "SCAN", 4) == 0 || strstr(d, "date>?") != NULL))
                    walks = true;
            }
            sqlite3_finalize(st);
        }
        free(q);
        free(t->sql[i]);
    }
    return walks;
}

/* days x users user-days, one flush a day, in cycle 1 (all closed,
 * stamped 1), up to 2026-11-21. */
static void feed_year(fixture *f, int days, int users)
{
    begin_seq(f, 1, "2026-11-22T03:00:00Z");
    tally_record *r = calloc((size_t)users, sizeof(*r));
    char(*ids)[16] = calloc((size_t)users, 16);
    assert_non_null(r);
    assert_non_null(ids);
    for (int i = 0; i < users; i++)
        snprintf(ids[i], 16, "user-%04d", i);
    civil_date today;
    assert_int_equal(civil_parse_date("2026-11-22", 10, &today), 0);
    for (int day = days; day >= 1; day--) {
        char date[CIVIL_DATE_LEN];
        civil_format_date(civil_date_from_days(civil_days_from_date(today) - day), date);
        for (int i = 0; i < users; i++)
            r[i] = at_user(date, ids[i]);
        feed(f, r, (size_t)users);
    }
    free(ids);
    free(r);
}

/* The statistics cost what they list, not what the state keeps: with a
 * year kept, nothing changed or one late row, the same work (SQLite's
 * steps) for 100 or 300 users a day, and no plan walks the user-days. */
static void test_stats_cost_follows_changes(void **state)
{
    enum { DAYS = 365 };
    const int users[2] = {100, 300};
    int64_t quiet[2], late[2];
    for (int v = 0; v < 2; v++) {
        fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
        feed_year(f, DAYS, users[v]);
        begin_seq(f, 2, "2026-11-22T03:00:00Z"); /* nothing new */
        trace t;
        bool seq_index;
        trace_start(f, &t);
        assert_listed(f, 1, "");
        quiet[v] = t.vm_steps;
        assert_false(trace_stop(f, &t, &seq_index));
        assert_true(seq_index);
        assert_int_equal(f->st.n_days, DAYS);
        assert_int_equal(f->st.summary.all_time_requests, (int64_t)DAYS * users[v]);

        begin_seq(f, 3, "2026-11-22T03:00:00Z");
        tally_record r = at_user("2026-06-01", "user-0007");
        feed(f, &r, 1);
        trace_start(f, &t);
        assert_listed(f, 2, "2026-06-01 user-0007 2;");
        late[v] = t.vm_steps;
        assert_false(trace_stop(f, &t, &seq_index));
        assert_true(seq_index);
        finish(f);
    }
    assert_int_equal(quiet[0], quiet[1]);
    assert_int_equal(late[0], late[1]);
}

/* Read q through the collector's history on db and compare it with
 * want[0..n), every field: NULL when equal, every page full but the last,
 * else what differed. No cmocka assert: threads call it too. */
static const char *history_differs(const fixture *f, sqlite3 *db, const tally_history_query *q,
                                   const tally_user_day_stats *want, size_t n)
{
    void *it;
    if (f->p->collector.history_open(f->ctx, db, q, &it) != TALLY_HOST_OK)
        return "history_open failed";
    const size_t page_rows = q->page_rows ? q->page_rows : 1000;
    size_t at = 0;
    bool short_page = false;
    const char *why = NULL;
    for (int ends = 0; why == NULL && ends < 2;) {
        tally_history_page page;
        if (f->p->collector.history_next(it, &page) != TALLY_HOST_OK)
            why = "history_next failed";
        else if (page.n_counter_days != 0)
            why = "counter days in a page of user-days";
        else if (page.n_user_days == 0)
            ends++; /* the end, and it stays the end */
        else if (ends > 0 || short_page)
            why = "rows after a short page or the end";
        else if (page.n_user_days > page_rows)
            why = "a page larger than page_rows";
        short_page = page.n_user_days < page_rows;
        for (size_t i = 0; why == NULL && i < page.n_user_days; i++, at++)
            if (at >= n || !same_user_day(&page.user_days[i], &want[at]))
                why = "a row differs from the statistics' (or is one too many)";
    }
    if (why == NULL && at != n)
        why = "fewer rows than the statistics list";
    f->p->collector.history_close(it);
    return why;
}

/* The rows of s that a key and dates select. */
static saved_rows select_rows(const saved_rows *s, const char *key, const char *from,
                              const char *to)
{
    saved_rows out = {calloc(s->n + 1, sizeof(*out.rows)), 0};
    assert_non_null(out.rows);
    for (size_t i = 0; i < s->n; i++)
        if ((key == NULL || strcmp(s->rows[i].user_id, key) == 0) &&
            strcmp(s->rows[i].date, from) >= 0 && strcmp(s->rows[i].date, to) < 0)
            out.rows[out.n++] = s->rows[i];
    return out;
}

/* Every combination of a key, dates and changed_after selects from the
 * statistics' list, every field alike; and each read costs what it
 * selects: changed rows of everyone from the seq index, one user's from
 * one lookup a day, never a walk over every user of the dates. */
static void test_history_filters_and_plans(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    build_model(f);
    const char *keys[] = {"u3", "u0", "u", NULL};
    const char *ranges[][2] = {{"2026-11-12", "2026-11-15"},
                               {"2026-11-10", "2026-11-22"},
                               {"2026-11-21", "2026-11-22"},
                               {"2026-11-15", "2026-11-15"}};
    for (int64_t k = 0; k <= MODEL_CYCLES; k += 2) {
        stats_after(f, k);
        saved_rows want = save_rows(f->st.user_days, f->st.n_user_days);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            for (size_t j = 0; j < sizeof(ranges) / sizeof(ranges[0]); j++) {
                saved_rows sel = select_rows(&want, keys[i], ranges[j][0], ranges[j][1]);
                tally_history_query q = query(k, ranges[j][0], ranges[j][1], 2);
                q.key = keys[i];
                const char *why = history_differs(f, f->db, &q, sel.rows, sel.n);
                if (why != NULL)
                    fail_msg("changed_after %lld, key %s, %s..%s: %s", (long long)k,
                             keys[i] ? keys[i] : "(all)", ranges[j][0], ranges[j][1], why);
                free(sel.rows);
            }
        free_rows(&want);
    }
    struct {
        int64_t after;
        const char *key;
        bool seq_index;
    } plans[] = {{4, NULL, true}, {4, "u3", false}, {0, "u3", false}};
    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
        trace t;
        bool seq_index;
        void *it;
        tally_history_query q = query(plans[i].after, "2026-11-10", "2026-11-22", 0);
        q.key = plans[i].key;
        trace_start(f, &t);
        assert_int_equal(f->p->collector.history_open(f->ctx, f->db, &q, &it), TALLY_HOST_OK);
        tally_history_page page;
        do
            assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
        while (page.n_user_days > 0);
        f->p->collector.history_close(it);
        if (trace_stop(f, &t, &seq_index))
            fail_msg("read %zu walks every user of its dates", i);
        assert_true(seq_index == plans[i].seq_index);
    }
    finish(f);
}

/* A read that fails half-way (here SQLite interrupted) fails from then
 * on: it never starts over and hands out its first rows again. */
static void test_history_failure_is_final(void **state)
{
    fixture *f = start("UTC", "2026-11-22T03:00:00Z", 400);
    build_model(f);
    void *it;
    tally_history_query q = query(0, "2026-11-10", "2026-11-22", 2);
    assert_int_equal(f->p->collector.history_open(f->ctx, f->db, &q, &it), TALLY_HOST_OK);
    tally_history_page page;
    assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
    assert_int_equal(page.n_user_days, 2);
    sqlite3_interrupt(f->db);
    assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_ERR);
    assert_int_equal(page.n_user_days, 0);
    assert_non_null(mock_host_log_find(f->h, "could not read the users' days"));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_ERR);
        assert_int_equal(page.n_user_days, 0);
    }
    f->p->collector.history_close(it);
    mock_host_log_clear(f->h);
    finish(f);
}

/* An exporter thread reading the history on the pinned connection. */
typedef struct reader {
    const fixture *f;
    sqlite3 *db;
    const saved_rows *want;
    size_t page_rows;
    const char *why;
} reader;

static void *read_in_thread(void *arg)
{
    reader *r = arg;
    for (int i = 0; i < 20 && r->why == NULL; i++) {
        tally_history_query q = query(0, "2026-11-10", "2026-11-22", r->page_rows);
        r->why = history_differs(r->f, r->db, &q, r->want->rows, r->want->n);
    }
    return NULL;
}

/* As the agent reads for a snapshot: one connection (serialized, shared
 * by exporter threads) with a read transaction pinned before the next
 * cycle commits. A read half-way through its pages when the collector
 * commits goes on with the state it began on, and so do reads from four
 * threads at once; a read begun after the transaction ends sees the
 * commit. */
static void test_history_pinned_across_pages_and_threads(void **state)
{
    char dir[] = "/tmp/test_daily.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tally.db", dir);
    sqlite3 *view;
    fixture *f = start_at("UTC", "2026-11-22T03:00:00Z", 400, path);
    build_model(f);
    stats_after(f, 0);
    saved_rows before = save_rows(f->st.user_days, f->st.n_user_days);
    assert_int_equal(
        sqlite3_open_v2(path, &view, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_exec(view,
                                  "PRAGMA query_only = 1; BEGIN; "
                                  "SELECT count(*) FROM daily_user_days",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    void *it;
    tally_history_query q = query(0, "2026-11-10", "2026-11-22", 3);
    assert_int_equal(f->p->collector.history_open(f->ctx, view, &q, &it), TALLY_HOST_OK);
    tally_history_page page;
    assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
    assert_int_equal(page.n_user_days, 3);
    size_t at = 0;
    for (size_t i = 0; i < page.n_user_days; i++)
        assert_true(same_user_day(&page.user_days[i], &before.rows[at++]));

    /* The next cycle commits late rows, for rows read already and not yet,
     * and new users. */
    exec(f, "BEGIN");
    mock_host_set_cycle_seq(f->h, MODEL_CYCLES + 1);
    tally_record late[] = {at_user("2026-11-10", "zz"), at_user("2026-11-11", "u0"),
                           at_user("2026-11-21", "u9"), at_user("2026-11-21", "a")};
    late[0].u.usage.input_tokens = 0;
    feed(f, late, 4);
    exec(f, "COMMIT");
    assert_int_equal(seq_of(f, "2026-11-21", "a"), MODEL_CYCLES + 1);

    do {
        assert_int_equal(f->p->collector.history_next(it, &page), TALLY_HOST_OK);
        for (size_t i = 0; i < page.n_user_days; i++) {
            assert_true(at < before.n);
            assert_true(same_user_day(&page.user_days[i], &before.rows[at++]));
        }
    } while (page.n_user_days > 0);
    assert_int_equal(at, before.n);
    f->p->collector.history_close(it);

    enum { THREADS = 4 };
    pthread_t tid[THREADS];
    reader rd[THREADS];
    for (int i = 0; i < THREADS; i++) {
        rd[i] = (reader){f, view, &before, (size_t)(1 + 5 * i), NULL};
        assert_int_equal(pthread_create(&tid[i], NULL, read_in_thread, &rd[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        if (rd[i].why != NULL)
            fail_msg("thread %d (page_rows %zu): %s", i, rd[i].page_rows, rd[i].why);
    }
    assert_int_equal(sqlite3_exec(view, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    stats_after(f, 0);
    saved_rows after = save_rows(f->st.user_days, f->st.n_user_days);
    /* zz and a are new; u0 on the 11th and u9 on the 21st if the model had none. */
    assert_int_equal(after.n, before.n + 2 + (model_total[1][0] == 0) + (model_total[11][9] == 0));
    assert_null(history_differs(f, view, &q, after.rows, after.n));
    sqlite3_close(view);
    free_rows(&after);
    free_rows(&before);
    finish(f);
    char wal[80], shm[80];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
}

/* The previous releases' own state (tests/state_before_versions.sql, as
 * the release before schema_versions wrote it; and the same with the
 * collector's tables recorded at version 1): migrated to version 2 with
 * the seq index, its rows of seq 0 listed by changed_after 0, in history
 * too, and by no other; a late row after it is stamped as any. */
static void test_previous_release_state_migrates(void **state)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *in = fopen(TALLY_TESTS_DIR "/state_before_versions.sql", "r");
    assert_non_null(in);
    assert_true(getdelim(&sql, &len, '\0', in) > 0);
    fclose(in);
    for (int versioned = 0; versioned <= 1; versioned++) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        if (versioned)
            assert_int_equal(sqlite3_exec(db,
                                          "CREATE TABLE schema_versions (owner TEXT PRIMARY KEY,"
                                          " version INTEGER NOT NULL) WITHOUT ROWID;"
                                          "INSERT INTO schema_versions VALUES ('agent', 1), "
                                          "('daily', 1), ('spool', 1);"
                                          "PRAGMA user_version = 2",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        fixture *f = start_on("Asia/Shanghai", "2026-11-22T03:00:00Z", 400, db);
        assert_non_null(mock_host_log_find(f->h, versioned ? "migrated from version 1 to 3"
                                                           : "migrated from version 0 to 3"));
        sqlite3_stmt *st = prepared(db, "SELECT (SELECT version FROM schema_versions WHERE "
                                        "owner = 'daily'), (SELECT count(*) FROM sqlite_master "
                                        "WHERE name = 'daily_user_days_seq')");
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 3);
        assert_int_equal(sqlite3_column_int(st, 1), 1);
        sqlite3_finalize(st);
        assert_int_equal(seq_of(f, "2026-11-20", "u1"), 0);
        assert_listed(f, 0, "2026-11-20 u1 400;2026-11-21 u2 405;");
        assert_int_equal(f->st.user_days[1].day_start_utc, 1795190400);
        tally_history_query q = query(0, "2026-11-01", "2026-11-22", 1);
        assert_null(history_differs(f, db, &q, f->st.user_days, f->st.n_user_days));
        assert_listed(f, 1, "");
        begin_seq(f, 2, "2026-11-22T03:00:00Z");
        tally_record r = usage("2026-11-20T10:00:00Z", "u1", "m", 200, NULL, 1, 1);
        feed(f, &r, 1);
        assert_listed(f, 1, "2026-11-20 u1 401;");
        finish(f);
    }
    free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_day_rules),
        cmocka_unit_test(test_today_and_future_rows),
        cmocka_unit_test(test_exact_costs_any_order),
        cmocka_unit_test(test_tokens_2_to_40),
        cmocka_unit_test(test_sums_saturate),
        cmocka_unit_test(test_discard_forgets_pending),
        cmocka_unit_test(test_late_rows_and_zero_days),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_inventories_replace),
        cmocka_unit_test(test_keep_days_and_prune),
        cmocka_unit_test(test_prune_backlog_in_batches),
        cmocka_unit_test(test_prune_rollback_mid_backlog),
        cmocka_unit_test(test_prune_one_batch_per_cycle_over_rollovers),
        cmocka_unit_test(test_recompute_forgets_range),
        cmocka_unit_test(test_dst_25_hour_day),
        cmocka_unit_test(test_many_requests_flush_early),
        cmocka_unit_test(test_many_distinct_models),
        cmocka_unit_test(test_changed_user_days),
        cmocka_unit_test(test_rollover_stamps_the_day),
        cmocka_unit_test(test_too_many_changed),
        cmocka_unit_test(test_history_pages),
        cmocka_unit_test(test_history_read_is_pinned),
        cmocka_unit_test(test_old_state_migrates),
        cmocka_unit_test(test_recompute_restamps),
        cmocka_unit_test(test_rollover_stamp_failure_says_what_to_do),
        cmocka_unit_test(test_pruned_rows_gone),
        cmocka_unit_test(test_changed_after_model),
        cmocka_unit_test(test_stats_cost_follows_changes),
        cmocka_unit_test(test_history_filters_and_plans),
        cmocka_unit_test(test_history_failure_is_final),
        cmocka_unit_test(test_history_pinned_across_pages_and_threads),
        cmocka_unit_test(test_previous_release_state_migrates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
