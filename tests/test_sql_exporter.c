/*
 * test_sql_exporter.c — the sql exporter through the mock host: every
 * check() error, a connection that fails (named, its password masked), a
 * snapshot written to a SQLite file the test reads back, the same
 * snapshot again (nothing rewritten), a changed day (only it rewritten),
 * and create_tables = false on a database without the tables. The tables
 * against tallyd's JSON, and PostgreSQL, are odbc_e2e's.
 */
#include "mock_host.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif
#ifndef TALLY_SQLITE_ODBC_DRIVER
#error "build with -DTALLY_SQLITE_ODBC_DRIVER=<path of libsqlite3odbc.so>"
#endif

static const tally_plugin *plugin;
static void *plugin_dl;

static int group_setup(void **state)
{
    (void)state;
    plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "sql", &plugin_dl);
    return plugin != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    mock_host_unload(plugin_dl);
    return 0;
}

static void dump_log(tally_host *h)
{
    for (size_t i = 0; i < mock_host_log_count(h); i++)
        fprintf(stderr, "log: %s\n", mock_host_log_text(h, i));
}

static void check_fails(const char *body, const char *needle)
{
    tally_host *h = mock_host_new();
    cfg_t *sec = mock_host_section(plugin, "dash", body);
    if (sec == NULL)
        fail_msg("parse: %s", mock_host_parse_error());
    assert_int_equal(mock_host_check(plugin, h, sec), TALLY_HOST_ERR);
    if (mock_host_log_find(h, needle) == NULL) {
        dump_log(h);
        fail_msg("no log line contains \"%s\"", needle);
    }
    assert_non_null(mock_host_log_find(h, "[buf]:1: in sql \"dash\": "));
    mock_host_section_free(sec);
    mock_host_free(h);
}

static void test_check_errors(void **state)
{
    (void)state;
    check_fails("table_prefix = \"t_\"", "option 'connection' is required");
    check_fails("connection = \"DSN=x\" table_prefix = \"a-b\"",
                "option 'table_prefix' = \"a-b\" may hold only letters, digits and '_'");
    check_fails("connection = \"DSN=x\" table_prefix = \"1a\"", "option 'table_prefix' = \"1a\"");
    check_fails("connection = \"DSN=x\" timeout = 4000", "option 'timeout' = 4000 is out of range");
    check_fails("connection = \"DSN=x\" password_file = \"pw\"",
                "option 'password_file' = \"pw\" must be an absolute path");
}

typedef mock_host_instance inst;

static void start(inst *in, const char *body)
{
    if (mock_host_start(in, plugin, mock_host_new(), "dash", body) != 0)
        fail_msg("%s", mock_host_parse_error());
}

static void finish(inst *in)
{
    mock_host_stop(in);
    mock_host_free(in->h);
}

static void test_connection_fails(void **state)
{
    (void)state;
    inst in;
    start(&in, "connection = \"DRIVER=/nonexistent/driver.so;PWD=hunter2\"");
    tally_snapshot snap = {.timezone = "UTC"};
    assert_int_equal(plugin->exporter.export_snapshot(in.ctx, &snap), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(
        in.h, "connecting with \"DRIVER=/nonexistent/driver.so;PWD=***\" failed"));
    assert_null(mock_host_log_find(in.h, "hunter2"));
    finish(&in);
}

/* ---- a snapshot into SQLite ---- */

static char dir[PATH_MAX], db_path[PATH_MAX + 16], conn[PATH_MAX + 256];

static int64_t query_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("sqlite: %s in %s", sqlite3_errmsg(db), sql);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_snapshot_to_sqlite(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof(dir), "%s/tally-sql-XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/dash.db", dir);
    snprintf(conn, sizeof(conn), "connection = \"DRIVER=%s;Database=%s\" table_prefix = \"t_\"",
             TALLY_SQLITE_ODBC_DRIVER, db_path);

    tally_day_stats days[2] = {
        {.date = "2026-11-20",
         .day_start_utc = 1795132800,
         .total_requests = 5,
         .success_requests = 4,
         .error_requests = 1,
         .input_tokens = 1LL << 40,
         .total_cost = 0.1,
         .avg_response_time_ms = 812.5,
         .unique_models = 2},
        {.date = "2026-11-21",
         .day_start_utc = 1795219200,
         .total_requests = 1,
         .success_requests = 1},
    };
    tally_user_day_stats users[1] = {{.date = "2026-11-20",
                                      .day_start_utc = 1795132800,
                                      .user_id = "o'brien",
                                      .total_requests = 5}};
    tally_snapshot snap = {
        .timezone = "UTC", .days = days, .n_days = 2, .user_days = users, .n_user_days = 1};
    snap.summary.cutoff_utc = 1795305600;
    snap.summary.all_time_requests = 6;
    snap.summary.inventory.total_users = 3;

    inst in;
    start(&in, conn);
    if (plugin->exporter.export_snapshot(in.ctx, &snap) != TALLY_HOST_OK) {
        dump_log(in.h);
        fail_msg("export failed");
    }
    assert_int_equal(query_int("SELECT count(*) FROM t_stats_daily"), 2);
    assert_int_equal(query_int("SELECT input_tokens FROM t_stats_daily WHERE date = "
                               "'2026-11-20T00:00:00Z' AND business_date = '2026-11-20'"),
                     1LL << 40);
    assert_int_equal(query_int("SELECT total_cost = 0.1 AND avg_response_time_ms = 812.5 FROM "
                               "t_stats_daily WHERE business_date = '2026-11-20'"),
                     1);
    assert_int_equal(query_int("SELECT total_requests FROM t_stats_user_daily WHERE user_id = "
                               "'o''brien'"),
                     5);
    assert_int_equal(query_int("SELECT count(*) FROM t_stats_summary WHERE id = 1 AND "
                               "cutoff_date = '2026-11-22T00:00:00Z' AND all_time_requests = 6 "
                               "AND total_users = 3"),
                     1);

    /* The same snapshot again: no row is written (rowids would move with
     * a delete and insert; an update would show in a trigger's count). */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE writes (n INTEGER); INSERT INTO writes VALUES (0);"
                                  "CREATE TRIGGER w1 AFTER UPDATE ON t_stats_daily BEGIN UPDATE "
                                  "writes SET n = n + 1; END;"
                                  "CREATE TRIGGER w2 AFTER UPDATE ON t_stats_summary BEGIN UPDATE "
                                  "writes SET n = n + 100; END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(plugin->exporter.export_snapshot(in.ctx, &snap), TALLY_HOST_OK);
    assert_int_equal(query_int("SELECT n FROM writes"), 0);
    /* A late record changed one closed day: only that row is updated. */
    days[0].total_requests = 6;
    days[0].error_requests = 2;
    assert_int_equal(plugin->exporter.export_snapshot(in.ctx, &snap), TALLY_HOST_OK);
    assert_int_equal(query_int("SELECT n FROM writes"), 1);
    assert_int_equal(query_int("SELECT error_requests FROM t_stats_daily WHERE business_date = "
                               "'2026-11-20'"),
                     2);
    finish(&in);

    /* A new instance (a restart) writes every row once more, and the
     * database keeps the rows that did not change untouched. */
    start(&in, conn);
    assert_int_equal(plugin->exporter.export_snapshot(in.ctx, &snap), TALLY_HOST_OK);
    assert_int_equal(query_int("SELECT n FROM writes"), 1);
    finish(&in);

    /* create_tables = false on a database without them. */
    char other[sizeof(conn) + 64];
    snprintf(other, sizeof(other),
             "connection = \"DRIVER=%s;Database=%s/empty.db\" create_tables = false",
             TALLY_SQLITE_ODBC_DRIVER, dir);
    start(&in, other);
    assert_int_equal(plugin->exporter.export_snapshot(in.ctx, &snap), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(in.h, "table stats_daily is missing or lacks a column"));
    assert_non_null(mock_host_log_find(in.h, "set create_tables = true"));
    finish(&in);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_connection_fails),
        cmocka_unit_test(test_snapshot_to_sqlite),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
