/*
 * test_daily.c — the daily collector (daily.so) driven directly: records
 * in, flush or discard, statistics out, against a real SQLite database,
 * through the mock host (tests/mock_host.h) like every plugin test. The expected values are worked
 * out by hand from DESIGN.md's rules in the comments beside them.
 */
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

/* The collector on a state database at db_path (WAL for a file). */
static fixture *start_at(const char *zone, const char *now, int keep_days, const char *db_path)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->h = mock_host_new();
    assert_non_null(f->h);
    assert_int_equal(mock_host_set_timezone(f->h, zone), 0);
    mock_host_set_now(f->h, ns_of(now) / 1000000000);
    f->p = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "daily", &f->dl);
    assert_non_null(f->p);
    assert_int_equal(sqlite3_open(db_path, &f->db), SQLITE_OK);
    if (strcmp(db_path, ":memory:") != 0)
        assert_int_equal(sqlite3_exec(f->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL),
                         SQLITE_OK);
    mock_host_set_state_db(f->h, f->db);
    char body[64];
    snprintf(body, sizeof(body), "keep_days = %d", keep_days);
    if (mock_host_start(&f->in, f->p, f->h, "stats", body) != 0)
        fail_msg("starting daily failed: %s", mock_host_parse_error());
    f->ctx = f->in.ctx;
    return f;
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
                                  "UPDATE schema_versions SET version = 1 WHERE owner = 'daily'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(mock_host_start(&f->in, f->p, f->h, "stats", "keep_days = 400"), 0);
    f->ctx = f->in.ctx;
    assert_non_null(mock_host_log_find(f->h, "migrated from version 1 to 2"));
    assert_listed(f, 0, "2026-11-21 a 1;");
    assert_listed(f, 1, "");
    finish(f);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
