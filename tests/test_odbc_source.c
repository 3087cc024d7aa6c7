/*
 * test_odbc_source.c — the odbc source, as the agent drives it: the built
 * odbc.so loaded by the mock host, reading through unixODBC from a SQLite
 * file the test makes (the SQLite ODBC driver, no server) and, when
 * odbc_pg_test.sh runs it beside a real PostgreSQL, from that server.
 *
 * What rows become (every type binding, NULLs in every nullable column,
 * "" as NULL, zones), keyset pages (many rows with one timestamp across
 * page boundaries, new rows after, a rolled-back cycle read again),
 * inventories, recompute, column renames and queries, rejected rows, and
 * every error: missing table and column, wrong types, bad connection
 * strings, wrong credentials (with no secret in any message), and the
 * server restarted or crashed in the middle of a collect: read on after
 * the last row handed over, every row exactly once.
 *
 * PostgreSQL cases run when TALLY_TEST_PG_DIR names a server started by
 * tests/pg_test.sh (TALLY_TEST_PG_SCRIPT is that script); else skipped.
 */
#include "mock_host.h"
#include "pg_testutil.h"
#include "plugin_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif
#ifndef TALLY_SQLITE_ODBC_DRIVER
#error "build with -DTALLY_SQLITE_ODBC_DRIVER=<path of libsqlite3odbc.so>"
#endif

static const tally_plugin *plugin;
static void *plugin_dl;
static char scratch[PATH_MAX];
static char db_path[PATH_MAX];

/* ---- the SQLite file ---- */

static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("sqlite: %s in: %s", err, text);
    sqlite3_free(text);
    sqlite3_close(db);
}

#define USAGE_TABLE                                                                                \
    "CREATE TABLE usage (id TEXT, request_id TEXT, created_at TEXT, user_id TEXT, "                \
    "api_key_id TEXT, provider TEXT, model TEXT, status_code INTEGER, error_message TEXT, "        \
    "input_tokens INTEGER, output_tokens INTEGER, cache_creation_input_tokens INTEGER, "           \
    "cache_read_input_tokens INTEGER, input_cost_usd TEXT, output_cost_usd TEXT, "                 \
    "cache_creation_cost_usd TEXT, cache_read_cost_usd TEXT, total_cost_usd TEXT, "                \
    "actual_total_cost_usd TEXT, response_time_ms REAL)"

/* n rows with ids p0001.. at created_at `at` (or one second apart when
 * at is NULL), a token each. */
static void usage_rows(const char *prefix, int from, int to, const char *at)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = from; i <= to; i++) {
        char *q = sqlite3_mprintf(
            "INSERT INTO usage (id, created_at, user_id, model, input_tokens, total_cost_usd) "
            "VALUES ('%s%04d', %Q, 'u%d', 'm', 1, '0.5')",
            prefix, i, at, i % 3);
        if (at == NULL) {
            sqlite3_free(q);
            q = sqlite3_mprintf(
                "INSERT INTO usage (id, created_at, user_id, model, input_tokens, "
                "total_cost_usd) VALUES ('%s%04d', '2026-11-21T%02d:%02d:%02dZ', 'u%d', 'm', 1, "
                "'0.5')",
                prefix, i, (i / 3600) % 24, (i / 60) % 60, i % 60, i % 3);
        }
        assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(q);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* ---- the instance ---- */

typedef mock_host_instance inst;

static const char *sqlite_conn(void)
{
    static char buf[PATH_MAX + 128];
    snprintf(buf, sizeof(buf), "DRIVER=%s;Database=%s", TALLY_SQLITE_ODBC_DRIVER, db_path);
    return buf;
}

static void start_on(inst *in, tally_host *h, const char *title, const char *text)
{
    if (mock_host_start(in, plugin, h, title, text) != 0)
        fail_msg("%s", mock_host_parse_error());
}

/* A section body, formatted; %C in it is not special: callers pass the
 * connection string as an argument. */
static void start(inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void start(inst *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    plugin_test_vstart(in, plugin, "db", scratch, fmt, ap);
    va_end(ap);
}

static void finish(inst *in)
{
    mock_host_stop(in);
    mock_host_free(in->h);
}

static void collect(inst *in)
{
    int rc = plugin->source.collect(in->ctx);
    if (rc != TALLY_HOST_OK) {
        for (size_t i = 0; i < mock_host_log_count(in->h); i++)
            fprintf(stderr, "log: %s\n", mock_host_log_text(in->h, i));
        fail_msg("collect failed");
    }
}

static void assert_logged(const inst *in, const char *needle)
{
    if (mock_host_log_find(in->h, needle) == NULL) {
        for (size_t i = 0; i < mock_host_log_count(in->h); i++)
            fprintf(stderr, "log: %s\n", mock_host_log_text(in->h, i));
        fail_msg("no log line contains \"%s\"", needle);
    }
}

/* No log line holds the text. */
static void assert_not_logged(const inst *in, const char *needle)
{
    const char *line = mock_host_log_find(in->h, needle);
    if (line != NULL)
        fail_msg("a log line holds \"%s\": %s", needle, line);
}

static bool str_is(tally_str s, const char *want)
{
    if (want == NULL)
        return s.ptr == NULL && s.len == 0;
    return s.ptr != NULL && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static tally_str rec_id(const tally_record *r)
{
    return r->stream == TALLY_STREAM_USAGE        ? r->u.usage.id
           : r->stream == TALLY_STREAM_CANDIDATES ? r->u.candidate.id
                                                  : r->u.item.id;
}

/* The ids emitted since the last clear, comma separated; then cleared. */
static char *take_ids(inst *in)
{
    static char buf[65536];
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < mock_host_record_count(in->h); i++) {
        tally_str id = rec_id(mock_host_record_at(in->h, i));
        int n = snprintf(buf + at, sizeof(buf) - at, "%s%.*s", i ? "," : "", (int)id.len, id.ptr);
        assert_true(n > 0 && (size_t)n < sizeof(buf) - at);
        at += (size_t)n;
    }
    mock_host_records_clear(in->h);
    return buf;
}

#define assert_ids(in, want) assert_string_equal(take_ids(in), want)

/* Every id prefix0001..prefix<n> emitted exactly once, in order. */
static void assert_all_once(inst *in, const char *prefix, int n)
{
    size_t count = mock_host_record_count(in->h);
    if (count != (size_t)n)
        fail_msg("%zu records, expected %d", count, n);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof(want), "%s%04d", prefix, i + 1);
        tally_str id = rec_id(mock_host_record_at(in->h, (size_t)i));
        if (!str_is(id, want))
            fail_msg("record %d has id %.*s, expected %s", i, (int)id.len, id.ptr, want);
    }
    mock_host_records_clear(in->h);
}

static const tally_usage *usage(const inst *in, size_t i)
{
    const tally_record *r = mock_host_record_at(in->h, i);
    assert_non_null(r);
    assert_int_equal(r->stream, TALLY_STREAM_USAGE);
    return &r->u.usage;
}

/* The usage record with this id. */
static const tally_usage *usage_id(const inst *in, const char *id)
{
    for (size_t i = 0; i < mock_host_record_count(in->h); i++) {
        const tally_record *r = mock_host_record_at(in->h, i);
        if (r->stream == TALLY_STREAM_USAGE && str_is(r->u.usage.id, id))
            return &r->u.usage;
    }
    fail_msg("no usage record has id %s", id);
    return NULL;
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    (void)state;
    plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "odbc", &plugin_dl);
    return plugin != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    mock_host_unload(plugin_dl);
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(scratch, sizeof(scratch), "%s/tally-odbc-XXXXXX", tmp);
    if (mkdtemp(scratch) == NULL)
        return -1;
    if (snprintf(db_path, sizeof(db_path), "%.4000s/usage.db", scratch) >= (int)sizeof(db_path))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- rows to records (SQLite) ---- */

/* Negative token counts and costs are bad rows unless allow_negative is
 * set; a negative response time is not refused for its sign. */
static void test_negative_refused(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    sql("INSERT INTO usage (id, created_at, input_tokens, total_cost_usd, response_time_ms) "
        "VALUES ('a', '2026-11-21T10:00:00Z', 5, '1', -3),"
        " ('b', '2026-11-21T10:00:01Z', -5, '1', 1),"
        " ('c', '2026-11-21T10:00:02Z', 5, '-0.001', 1);");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\"", sqlite_conn());
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_true(str_is(usage(&in, 0)->id, "a"));
    assert_int_equal(mock_host_rejected(in.h), 2);
    assert_non_null(mock_host_log_find(in.h, "(input_tokens) is "));
    assert_non_null(mock_host_log_find(in.h, "which is not 0 or more (a negative count or cost"));
    finish(&in);
}

static void test_values_and_nulls(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    sql("INSERT INTO usage VALUES ('a', 'ra', '2026-11-21T10:00:00.250Z', 'u1', 'k1', 'openai', "
        "'gpt-4o', 200, NULL, 10, 20, 30, 40, '0.1', '0.2', '0.0000000001', '0', '0.3', '0.25', "
        "812.5);"
        /* NULL in every nullable column */
        "INSERT INTO usage (id, created_at) VALUES ('b', '2026-11-21T10:00:01Z');"
        /* "" is NULL as an empty CSV field is; one space is not */
        "INSERT INTO usage VALUES ('c', '', '2026-11-21 18:00:02+08:00', '', '', '', '', NULL, ' "
        "', "
        "NULL, NULL, NULL, NULL, '', '', '', '', '', '', NULL);"
        /* big numbers, an exponent, a negative cost */
        "INSERT INTO usage (id, created_at, input_tokens, total_cost_usd, response_time_ms) "
        "VALUES ('d', '2026-11-21T10:00:03Z', 1099511627776, '-1.5e-3', 3);");
    inst in;
    /* A negative cost is read only when allowed (test_negative_refused). */
    start(&in, "connection = \"%s\" stream = \"usage\" allow_negative = true", sqlite_conn());
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 4);
    /* Text in SQLite sorts as bytes: 'c' (a space after the date) first. */
    assert_true(str_is(usage(&in, 0)->id, "c"));
    const tally_usage *a = usage_id(&in, "a");
    assert_true(str_is(a->request_id, "ra"));
    assert_int_equal(a->created_ns, ns_of("2026-11-21T10:00:00") + 250000000);
    assert_true(str_is(a->user_id, "u1"));
    assert_true(str_is(a->api_key_id, "k1"));
    assert_true(str_is(a->provider, "openai"));
    assert_true(str_is(a->model, "gpt-4o"));
    assert_true(a->has_status_code);
    assert_int_equal(a->status_code, 200);
    assert_true(str_is(a->error_message, NULL));
    assert_int_equal(a->input_tokens, 10);
    assert_int_equal(a->output_tokens, 20);
    assert_int_equal(a->cache_creation_input_tokens, 30);
    assert_int_equal(a->cache_read_input_tokens, 40);
    assert_true(a->input_cost_usd == TALLY_FIXED_ONE / 10);
    assert_true(a->output_cost_usd == TALLY_FIXED_ONE / 5);
    assert_true(a->cache_creation_cost_usd == TALLY_FIXED_ONE / 10000000000);
    assert_true(a->cache_read_cost_usd == 0);
    assert_true(a->total_cost_usd == TALLY_FIXED_ONE * 3 / 10);
    assert_true(a->actual_total_cost_usd == TALLY_FIXED_ONE / 4);
    assert_true(a->has_response_time);
    assert_true(a->response_time_ms == TALLY_FIXED_ONE * 8125 / 10);

    const tally_usage *b = usage_id(&in, "b"), *c = usage_id(&in, "c");
    for (int k = 0; k < 2; k++) {
        const tally_usage *u = k == 0 ? b : c;
        assert_true(str_is(u->request_id, NULL));
        assert_true(str_is(u->user_id, NULL));
        assert_true(str_is(u->api_key_id, NULL));
        assert_true(str_is(u->provider, NULL));
        assert_true(str_is(u->model, NULL));
        assert_false(u->has_status_code);
        assert_false(u->has_response_time);
        assert_int_equal(u->input_tokens + u->output_tokens + u->cache_creation_input_tokens +
                             u->cache_read_input_tokens,
                         0);
        assert_true(u->input_cost_usd == 0 && u->output_cost_usd == 0 &&
                    u->cache_creation_cost_usd == 0 && u->cache_read_cost_usd == 0 &&
                    u->total_cost_usd == 0 && u->actual_total_cost_usd == 0);
    }
    assert_true(str_is(b->error_message, NULL));
    assert_true(str_is(c->error_message, " "));
    assert_int_equal(c->created_ns, ns_of("2026-11-21T10:00:02"));
    const tally_usage *d = usage_id(&in, "d");
    assert_int_equal(d->input_tokens, 1099511627776LL);
    assert_true(d->total_cost_usd == -(TALLY_FIXED_ONE * 15 / 10000));
    assert_true(d->response_time_ms == TALLY_FIXED_ONE * 3);
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_naive_times(void **state)
{
    (void)state;
    sql("CREATE TABLE usage (id TEXT, created_at TEXT);"
        "INSERT INTO usage VALUES ('1', '2026-11-21 08:00:00'), ('2', '2026-11-21T08:00:00Z')");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" naive_timezone = \"+08:00\"", sqlite_conn());
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T00:00:00"));
    assert_int_equal(usage(&in, 1)->created_ns, ns_of("2026-11-21T08:00:00"));
    finish(&in);

    /* business: the host's zone (Asia/Shanghai, UTC+8) */
    sql("DELETE FROM usage; INSERT INTO usage VALUES ('3', '2026-11-21 08:00:00')");
    start(&in, "connection = \"%s\" stream = \"usage\" naive_timezone = \"business\"",
          sqlite_conn());
    assert_int_equal(mock_host_set_timezone(in.h, "Asia/Shanghai"), 0);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T00:00:00"));
    finish(&in);
}

/* ---- keyset pages ---- */

static void test_one_timestamp_across_pages(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    /* 250 rows at one instant, pages of 7: 35 full pages and a short one */
    usage_rows("r", 1, 250, "2026-11-21T10:00:00Z");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" batch_rows = 7", sqlite_conn());
    collect(&in);
    assert_true(mock_host_emit_calls(in.h) >= 36);
    assert_all_once(&in, "r", 250);
    /* Nothing new: nothing read. */
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    /* More rows at the same instant, after the last id: exactly those. */
    usage_rows("r", 251, 260, "2026-11-21T10:00:00Z");
    collect(&in);
    assert_ids(&in, "r0251,r0252,r0253,r0254,r0255,r0256,r0257,r0258,r0259,r0260");
    /* A page ending exactly at the last row (14 = 2 pages of 7). */
    usage_rows("s", 1, 14, "2026-11-21T10:00:01Z");
    collect(&in);
    assert_all_once(&in, "s", 14);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    finish(&in);
}

static void test_rollback_reads_again(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    usage_rows("r", 1, 20, NULL);
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" batch_rows = 6", sqlite_conn());
    collect(&in);
    assert_all_once(&in, "r", 20);
    char *committed = strdup(mock_host_state(in.h, "keyset"));
    usage_rows("r", 21, 25, NULL);
    collect(&in);
    assert_ids(&in, "r0021,r0022,r0023,r0024,r0025");
    /* The cycle rolled back: the watermark is the committed one again. */
    assert_int_equal(mock_host_state_put(in.h, "keyset", committed), 0);
    collect(&in);
    assert_ids(&in, "r0021,r0022,r0023,r0024,r0025");
    /* A restart of the plugin on the same state goes on from there. */
    mock_host_stop(&in);
    /* In single quotes ${NAME} reaches the plugin, which expands it. */
    setenv("TALLY_TEST_DB", db_path, 1);
    start_on(&in, in.h, "db",
             "connection = 'DRIVER=" TALLY_SQLITE_ODBC_DRIVER ";Database=${TALLY_TEST_DB}' "
             "stream = \"usage\"");
    usage_rows("r", 26, 26, NULL);
    collect(&in);
    assert_ids(&in, "r0026");
    free(committed);
    finish(&in);
}

static void test_rows_without_key_skipped(void **state)
{
    (void)state;
    sql("CREATE TABLE usage (id TEXT, created_at TEXT);"
        "INSERT INTO usage VALUES ('1', '2026-11-21T08:00:00Z'), (NULL, '2026-11-21T08:00:01Z'), "
        "('3', NULL), ('4', '2026-11-21T08:00:02Z')");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\"", sqlite_conn());
    collect(&in);
    assert_ids(&in, "1,4");
    finish(&in);
}

static void test_integer_ids(void **state)
{
    (void)state;
    /* Integer ids compare as numbers: 10 after 9, not after 1. */
    sql("CREATE TABLE usage (id INTEGER, created_at TEXT)");
    for (int i = 1; i <= 12; i++)
        sql("INSERT INTO usage VALUES (%d, '2026-11-21T08:00:00Z')", i);
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" batch_rows = 5", sqlite_conn());
    collect(&in);
    assert_ids(&in, "1,2,3,4,5,6,7,8,9,10,11,12");
    sql("INSERT INTO usage VALUES (100, '2026-11-21T08:00:00Z')");
    collect(&in);
    assert_ids(&in, "100");
    finish(&in);
}

static void test_columns_and_query(void **state)
{
    (void)state;
    sql("CREATE TABLE events (ev_id TEXT, ts TEXT, who TEXT, kind TEXT);"
        "INSERT INTO events VALUES ('e1', '2026-11-21T08:00:00Z', 'u1', 'usage'), "
        "('e2', '2026-11-21T08:00:01Z', 'u2', 'other'), ('e3', '2026-11-21T08:00:02Z', 'u3', "
        "'usage')");
    inst in;
    start(&in,
          "connection = \"%s\" stream = \"usage\" table = \"events\" "
          "columns = {\"id=ev_id\", \"created_at=ts\", \"user_id=WHO\"}",
          sqlite_conn());
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 3);
    assert_true(str_is(usage(&in, 2)->user_id, "u3"));
    finish(&in);

    start(&in,
          "connection = \"%s\" stream = \"usage\" "
          "query = \"SELECT ev_id AS id, ts AS created_at, who AS user_id FROM events WHERE "
          "kind = 'usage';\" batch_rows = 1",
          sqlite_conn());
    collect(&in);
    assert_ids(&in, "e1,e3");
    finish(&in);
}

static void test_bad_values_rejected(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    sql("INSERT INTO usage (id, created_at, input_tokens) VALUES ('1', '2026-11-21T08:00:00Z', "
        "1), ('2', '2026-11-21T08:00:01Z', 'many'), ('3', 'yesterday', 1), "
        "('4', '2026-11-21T08:00:03Z', 4)");
    sql("INSERT INTO usage (id, created_at, total_cost_usd) VALUES ('5', '2026-11-21T08:00:04Z', "
        "'1,5')");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" batch_rows = 2", sqlite_conn());
    collect(&in);
    assert_ids(&in, "1,4");
    assert_int_equal(mock_host_rejected(in.h), 3);
    assert_logged(&in,
                  "column input_tokens (input_tokens) is \"many\", which is not a whole number");
    assert_logged(&in, "created_at \"yesterday\"");
    assert_logged(&in, "column total_cost_usd (total_cost_usd) is \"1,5\"");
    /* Set aside once: not read again. */
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_int_equal(mock_host_rejected(in.h), 3);
    finish(&in);
}

static void test_long_values(void **state)
{
    (void)state;
    sql("CREATE TABLE usage (id TEXT, created_at TEXT, model TEXT, error_message TEXT)");
    char longer[100];
    memset(longer, 'x', 40);
    longer[40] = '\0';
    sql("INSERT INTO usage VALUES ('1', '2026-11-21T08:00:00Z', 'm', '%s'), "
        "('2', '2026-11-21T08:00:01Z', '%s', NULL)",
        longer, longer);
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" max_field_bytes = 16", sqlite_conn());
    collect(&in);
    /* A long error message is cut (it only has to be there); a long model
     * would count as another model, so its row is set aside. */
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_int_equal(usage(&in, 0)->error_message.len, 16);
    assert_int_equal(mock_host_rejected(in.h), 1);
    finish(&in);
}

/* ---- inventories, candidates, recompute ---- */

static void test_inventories(void **state)
{
    (void)state;
    sql("CREATE TABLE users (id TEXT, is_active TEXT);"
        "INSERT INTO users VALUES ('u1', 'true'), ('u2', 'false'), ('u3', '1'), (NULL, 'true'), "
        "('u5', 'maybe');"
        "CREATE TABLE api_keys (id INTEGER, user_id TEXT, is_active INTEGER);"
        "INSERT INTO api_keys VALUES (1, 'u1', 1), (2, NULL, 0)");
    inst in;
    start(&in, "connection = \"%s\" stream = \"users\" batch_rows = 2", sqlite_conn());
    for (int round = 0; round < 2; round++) {
        collect(&in);
        /* Whole every cycle, between begin and end. */
        assert_int_equal(mock_host_inventory_count(in.h), 2);
        assert_int_equal(mock_host_inventory_at(in.h, 0)->phase, TALLY_INVENTORY_BEGIN);
        assert_int_equal(mock_host_inventory_at(in.h, 1)->phase, TALLY_INVENTORY_END);
        assert_int_equal(mock_host_inventory_at(in.h, 1)->at_record -
                             mock_host_inventory_at(in.h, 0)->at_record,
                         3);
        const tally_record *r = mock_host_record_at(in.h, 1);
        assert_true(str_is(r->u.item.id, "u2"));
        assert_false(r->u.item.is_active);
        assert_true(mock_host_record_at(in.h, 2)->u.item.is_active);
        mock_host_records_clear(in.h);
    }
    assert_int_equal(mock_host_rejected(in.h), 4);
    finish(&in);

    start(&in, "connection = \"%s\" stream = \"api_keys\"", sqlite_conn());
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 2);
    const tally_record *k = mock_host_record_at(in.h, 1);
    assert_int_equal(k->stream, TALLY_STREAM_API_KEYS);
    assert_true(str_is(k->u.item.id, "2"));
    assert_true(str_is(k->u.item.user_id, NULL));
    assert_false(k->u.item.is_active);
    finish(&in);
}

static void test_candidates(void **state)
{
    (void)state;
    sql("CREATE TABLE request_candidates (id TEXT, request_id TEXT, status TEXT, created_at TEXT);"
        "INSERT INTO request_candidates VALUES ('c1', 'r1', 'failed', '2026-11-21T08:00:00Z'), "
        "('c2', 'r1', 'success', '2026-11-21T08:00:01Z')");
    inst in;
    start(&in, "connection = \"%s\" stream = \"candidates\"", sqlite_conn());
    collect(&in);
    const tally_record *r = mock_host_record_at(in.h, 1);
    assert_int_equal(r->stream, TALLY_STREAM_CANDIDATES);
    assert_true(str_is(r->u.candidate.request_id, "r1"));
    assert_true(str_is(r->u.candidate.status, "success"));
    assert_int_equal(r->u.candidate.created_ns, ns_of("2026-11-21T08:00:01"));
    finish(&in);
}

static void test_recompute(void **state)
{
    (void)state;
    sql(USAGE_TABLE);
    usage_rows("r", 1, 10, NULL);
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" batch_rows = 3", sqlite_conn());
    collect(&in);
    mock_host_records_clear(in.h);
    usage_rows("r", 11, 12, NULL); /* not consumed yet: not recomputed */
    assert_int_equal(plugin->source.recompute(in.ctx, 0, INT64_MAX / 2000000000), TALLY_HOST_OK);
    assert_all_once(&in, "r", 10);
    /* The watermark stays as it was. */
    collect(&in);
    assert_ids(&in, "r0011,r0012");
    finish(&in);
}

/* ---- errors ---- */

static void test_missing_table_and_column(void **state)
{
    (void)state;
    sql("CREATE TABLE usage (id TEXT, ts TEXT)");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" table = \"nosuch\"", sqlite_conn());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "reading the columns of nosuch failed");
    assert_logged(&in, "no such table");
    finish(&in);

    start(&in, "connection = \"%s\" stream = \"usage\"", sqlite_conn());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "usage has no column created_at for the field created_at");
    assert_logged(&in, "its columns are: id, ts");
    assert_logged(&in, "columns = {\"created_at=<column>\"}");
    finish(&in);

    start(&in,
          "connection = \"%s\" stream = \"usage\" query = \"SELECT id, ts AS created_at, "
          "nonesuch FROM usage\"",
          sqlite_conn());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "no such column: nonesuch");
    finish(&in);
}

static void test_wrong_types(void **state)
{
    (void)state;
    sql("CREATE TABLE usage (id TEXT, created_at INTEGER, n BLOB);"
        "INSERT INTO usage VALUES ('1', 1763700000, x'00')");
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\"", sqlite_conn());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "column created_at of usage is an integer");
    assert_logged(&in, "the field created_at is read from a timestamp, or text in ISO 8601");
    finish(&in);

    start(&in,
          "connection = \"%s\" stream = \"usage\" query = \"SELECT id, '2026-11-21T08:00:00Z' "
          "AS created_at, n AS input_tokens FROM usage\"",
          sqlite_conn());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "column input_tokens of the query is binary");
    finish(&in);
}

static void test_connection_errors(void **state)
{
    (void)state;
    inst in;
    unsetenv("TALLY_TEST_UNSET");
    setenv("TALLY_TEST_SECRET", "s3cr3t-from-env", 1);
    start(&in,
          "connection = 'DRIVER=/nonexistent/driver.so;PWD=hunter2;Server=${TALLY_TEST_SECRET}' "
          "stream = \"usage\"");
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "connecting with \"DRIVER=/nonexistent/driver.so;PWD=***;"
                       "Server=${TALLY_TEST_SECRET}\" failed");
    assert_not_logged(&in, "hunter2");
    assert_not_logged(&in, "s3cr3t-from-env");
    finish(&in);

    start(&in, "connection = 'DSN=x;UID=${TALLY_TEST_UNSET}' stream = \"usage\"");
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "environment variable TALLY_TEST_UNSET, which is not set");
    finish(&in);

    char pw[PATH_MAX];
    snprintf(pw, sizeof(pw), "%.4000s/missing.password", scratch);
    start(&in, "connection = \"%s\" stream = \"usage\" password_file = \"%s\"", sqlite_conn(), pw);
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "the password for the connection cannot be read from");
    finish(&in);
}

/* The section "db" on line 1. */
static void check_fails(const char *body, const char *needle)
{
    plugin_check_fails(plugin, "db", body, 1, needle);
}

static void test_check_errors(void **state)
{
    (void)state;
    check_fails("stream = \"usage\"", "option 'connection' is required");
    check_fails("connection = 'DSN=x;PWD=${1X}' stream = \"usage\"",
                "does not start a ${NAME} reference");
    check_fails("connection = \"DSN=x\"", "option 'stream' is required");
    check_fails("connection = \"DSN=x\" stream = \"logs\"",
                "option 'stream' = \"logs\" is unknown");
    check_fails("connection = \"DSN=x\" stream = \"usage\" table = \"t\" query = \"SELECT 1\"",
                "options 'table' and 'query' are both set");
    check_fails("connection = \"DSN=x\" stream = \"usage\" query = \"  \"",
                "option 'query' is empty");
    check_fails("connection = \"DSN=x\" stream = \"usage\" columns = {\"status=st\"}",
                "status is not a field of stream usage");
    check_fails("connection = \"DSN=x\" stream = \"usage\" columns = {\"id\"}",
                "is not \"field=column\"");
    check_fails("connection = \"DSN=x\" stream = \"usage\" columns = {\"id=a\", \"id=b\"}",
                "renames id twice");
    check_fails("connection = \"DSN=x\" stream = \"usage\" batch_rows = 0",
                "option 'batch_rows' = 0 is out of range");
    check_fails("connection = \"DSN=x\" stream = \"usage\" max_field_bytes = 1",
                "option 'max_field_bytes' = 1 is out of range");
    check_fails("connection = \"DSN=x\" stream = \"usage\" naive_timezone = \"Mars\"",
                "option 'naive_timezone' = \"Mars\" is unknown");
    check_fails("connection = \"DSN=x\" stream = \"usage\" timeout = -1",
                "option 'timeout' = -1 is out of range");
    check_fails("connection = \"DSN=x\" stream = \"usage\" retry_for = 99999",
                "option 'retry_for' = 99999 is out of range");
    check_fails("connection = \"DSN=x\" stream = \"usage\" password_file = \"pw\"",
                "option 'password_file' = \"pw\" must be an absolute path");
}

/* ---- PostgreSQL ---- */

#define PG_ROWS 6000

static int pg_setup(void **state)
{
    if (pg_test_dir() == NULL)
        return 0; /* the tests skip themselves */
    if (setup(state) != 0)
        return -1;
    pg_test_sql(
        "DROP TABLE IF EXISTS restart_usage; CREATE TABLE restart_usage (id text, created_at "
        "timestamptz, input_tokens bigint); INSERT INTO restart_usage SELECT 'p' || "
        "lpad(g::text, 4, '0'), timestamptz '2026-11-21 08:00:00+00' + (g / 100) * interval "
        "'1 second', 1 FROM generate_series(1, 6000) g; CREATE INDEX ON restart_usage "
        "(created_at, id)");
    return 0;
}

static void restart_on_call(tally_host *h, size_t call, void *arg)
{
    (void)h;
    if (call == *(size_t *)arg)
        pg_test_cmd("restart");
}

static void crash_on_call(tally_host *h, size_t call, void *arg)
{
    (void)h;
    if (call == *(size_t *)arg)
        pg_test_cmd("crash");
}

static void pg_restart_case(void (*hook)(tally_host *, size_t, void *))
{
    if (pg_test_dir() == NULL)
        skip();
    inst in;
    start(&in,
          "connection = \"%s\" password_file = \"%s/password\" stream = \"usage\" "
          "table = \"restart_usage\" batch_rows = 500 retry_for = 60",
          pg_test_conn(NULL), pg_test_dir());
    size_t at = 4; /* in the middle: 2000 rows handed over, 4000 to come */
    mock_host_on_emit(in.h, hook, &at);
    collect(&in);
    mock_host_on_emit(in.h, NULL, NULL);
    assert_all_once(&in, "p", PG_ROWS);
    assert_logged(&in, "the connection to the database is lost");
    assert_logged(&in, "then reading on after the last row handed over");
    assert_not_logged(&in, "tally-test-password");
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    finish(&in);
}

static void test_pg_restart_mid_ingest(void **state)
{
    (void)state;
    pg_restart_case(restart_on_call);
}

static void test_pg_crash_mid_ingest(void **state)
{
    (void)state;
    pg_restart_case(crash_on_call);
}

static void stop_on_call(tally_host *h, size_t call, void *arg)
{
    (void)h;
    if (call == *(size_t *)arg)
        pg_test_cmd("stop");
}

static void test_pg_down_longer_than_retry_for(void **state)
{
    (void)state;
    if (pg_test_dir() == NULL)
        skip();
    inst in;
    start(&in,
          "connection = \"%s\" password_file = \"%s/password\" stream = \"usage\" "
          "table = \"restart_usage\" batch_rows = 1000 retry_for = 1",
          pg_test_conn(NULL), pg_test_dir());
    size_t at = 2;
    mock_host_on_emit(in.h, stop_on_call, &at);
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    mock_host_on_emit(in.h, NULL, NULL);
    assert_logged(&in, "did not come back within retry_for (1 s)");
    /* The agent rolls the cycle back: its records are forgotten, the
     * watermark was not put. The next cycle reads everything. */
    assert_null(mock_host_state(in.h, "keyset"));
    mock_host_records_clear(in.h);
    pg_test_cmd("restart");
    collect(&in);
    assert_all_once(&in, "p", PG_ROWS);
    finish(&in);
}

static void test_pg_wrong_password(void **state)
{
    (void)state;
    if (pg_test_dir() == NULL)
        skip();
    inst in;
    start(&in, "connection = \"%s\" stream = \"usage\" table = \"restart_usage\"",
          pg_test_conn("not-the-password"));
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "password authentication failed");
    assert_logged(&in, ";PWD=***\" failed");
    assert_not_logged(&in, "not-the-password");
    finish(&in);
}

static void test_pg_missing_column(void **state)
{
    (void)state;
    if (pg_test_dir() == NULL)
        skip();
    inst in;
    start(&in,
          "connection = \"%s\" password_file = \"%s/password\" stream = \"usage\" "
          "query = \"SELECT id, created_at, nonesuch FROM restart_usage\"",
          pg_test_conn(NULL), pg_test_dir());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "column \"nonesuch\" does not exist");
    finish(&in);

    start(&in,
          "connection = \"%s\" password_file = \"%s/password\" stream = \"usage\" "
          "query = \"SELECT id, created_at::date AS created_at FROM restart_usage\"",
          pg_test_conn(NULL), pg_test_dir());
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_logged(&in, "column created_at of the query is a date (no time of day)");
    finish(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_naive_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_timestamp_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_reads_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_without_key_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_and_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_candidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recompute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_table_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_errors, setup, teardown),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test_setup_teardown(test_pg_restart_mid_ingest, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_crash_mid_ingest, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_down_longer_than_retry_for, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_wrong_password, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_missing_column, pg_setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
