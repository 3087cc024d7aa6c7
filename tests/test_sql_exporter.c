/*
 * test_sql_exporter.c — the sql exporter through the mock host: every
 * check() error, a connection that fails (named, its password masked), a
 * snapshot written to a SQLite file the test reads back, the same
 * snapshot again (nothing rewritten), a changed day (only it rewritten),
 * and create_tables = false on a database without the tables.
 *
 * Then what changed only, cycle by cycle over a state whose user-days
 * carry the seq of the cycle that last changed them (served as the
 * host's history), with a trigger on the target counting every row sent
 * to the user-days table: a restart with nothing changed sends none; a
 * mark several cycles behind (a stop between a commit and its export,
 * snapshots skipped) sends exactly the rows changed since; an export
 * that fails in the middle of its transaction, or a database away for a
 * few cycles, loses nothing and then sends each changed row once; a
 * target marked by another state, or ahead of this one, gets every listed
 * row once; history in many pages, and a history read that fails; a
 * target of the previous release (no marks table). After each, the
 * tables equal what a fresh instance writes into empty ones.
 *
 * Those run on a SQLite file and, when odbc_e2e_test.sh hands over a
 * PostgreSQL server (pg_testutil.h), on it too: there the server cuts
 * the connection in the middle of a transaction, and is stopped for a
 * few cycles. The tables against tallyd's JSON are odbc_e2e's.
 */
#include "mock_host.h"
#include "pg_testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
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

    /* A new instance (a restart) sends the days and the summary once
     * more (the user-days not: the mark says the target holds them), and
     * the database keeps the rows that did not change untouched. */
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

/* ---- a target: a SQLite file, or the PostgreSQL server ---- */

typedef struct target {
    bool pg;
    char prefix[48];
    char db[PATH_MAX + 32];  /* SQLite: the file */
    char body[PATH_MAX * 2]; /* the section body: connection and prefix */
} target;

/* fmt with every "{p}" replaced by the target's prefix (malloc'd). */
static char *with_prefix(const target *t, const char *fmt)
{
    size_t n = strlen(fmt) * 2 + 64 * 16 + 1;
    char *out = malloc(n), *o = out;
    assert_non_null(out);
    for (const char *f = fmt; *f;) {
        if (strncmp(f, "{p}", 3) == 0) {
            o += snprintf(o, n - (size_t)(o - out), "%s", t->prefix);
            f += 3;
        } else {
            *o++ = *f++;
        }
        assert_true((size_t)(o - out) < n - 40);
    }
    *o = '\0';
    return out;
}

static void target_sql(const target *t, const char *fmt)
{
    char *text = with_prefix(t, fmt);
    if (t->pg) {
        pg_test_sql(text);
    } else {
        sqlite3 *db;
        char *err = NULL;
        assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
        if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
            fail_msg("sqlite: %s in: %s", err, text);
        sqlite3_close(db);
    }
    free(text);
}

static int64_t target_int(const target *t, const char *fmt)
{
    char *text = with_prefix(t, fmt);
    int64_t v = 0;
    if (t->pg) {
        v = pg_test_int(text);
    } else {
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
        if (sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK)
            fail_msg("sqlite: %s in %s", sqlite3_errmsg(db), text);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    free(text);
    return v;
}

/* A fresh target under prefix (what a previous run left is dropped). */
static void target_make(target *t, bool pg, const char *prefix)
{
    memset(t, 0, sizeof(*t));
    t->pg = pg;
    snprintf(t->prefix, sizeof(t->prefix), "%s", prefix);
    if (pg) {
        snprintf(t->body, sizeof(t->body),
                 "connection = \"%s\" password_file = \"%s/password\" table_prefix = \"%s\"",
                 pg_test_conn(NULL), pg_test_dir(), prefix);
        target_sql(t, "DROP TABLE IF EXISTS {p}stats_daily, {p}stats_user_daily, "
                      "{p}stats_summary, {p}tally_export, {p}sent, {p}full_stats_daily, "
                      "{p}full_stats_user_daily, {p}full_stats_summary, {p}full_tally_export "
                      "CASCADE");
        return;
    }
    snprintf(t->db, sizeof(t->db), "%s/%s.db", dir, prefix);
    unlink(t->db);
    /* Timeout: how long a statement waits for a lock (ms). */
    snprintf(t->body, sizeof(t->body),
             "connection = \"DRIVER=%s;Database=%s;Timeout=300\" table_prefix = \"%s\"",
             TALLY_SQLITE_ODBC_DRIVER, t->db, prefix);
}

/* Count every row sent to the user-days table, inserted or upserted
 * (a BEFORE INSERT trigger fires for both), from 0. */
static void count_sent(const target *t)
{
    if (t->pg)
        target_sql(t,
                   "CREATE TABLE IF NOT EXISTS {p}sent (n BIGINT NOT NULL); DELETE FROM {p}sent; "
                   "INSERT INTO {p}sent VALUES (0); CREATE OR REPLACE FUNCTION {p}count_sent() "
                   "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE {p}sent SET n = n + 1; "
                   "RETURN NEW; END $$; DROP TRIGGER IF EXISTS count_sent ON "
                   "{p}stats_user_daily; CREATE TRIGGER count_sent BEFORE INSERT ON "
                   "{p}stats_user_daily FOR EACH ROW EXECUTE FUNCTION {p}count_sent()");
    else
        target_sql(t, "CREATE TABLE IF NOT EXISTS {p}sent (n INTEGER NOT NULL); DELETE FROM "
                      "{p}sent; INSERT INTO {p}sent VALUES (0); CREATE TRIGGER IF NOT EXISTS "
                      "{p}count_sent BEFORE INSERT ON {p}stats_user_daily BEGIN UPDATE {p}sent SET "
                      "n = n + 1; END");
}

static int64_t sent(const target *t)
{
    return target_int(t, "SELECT n FROM {p}sent");
}

static void sent_reset(const target *t)
{
    target_sql(t, "UPDATE {p}sent SET n = 0");
}

/* ---- a state, cycle by cycle ---- */

/* User-days sorted by date, then user_id, as history serves them, each
 * with the seq of the cycle that last changed it (-1: not there yet; 0:
 * today's, not listed until its day closes). Besides the listed days,
 * one row of a day older than oldest_kept and one of today: neither may
 * ever be written. */
#define W_ROWS 3000
#define W_DAYS 5
#define NOW_UTC 1795316400  /* 2026-11-22T03:00:00Z: today is 2026-11-22 */
#define DAY0_UTC 1794873600 /* 2026-11-17, the oldest listed day */

typedef struct world {
    char state_id[33];
    int64_t seq; /* the last cycle committed */
    size_t n, users;
    tally_user_day_stats ud[W_ROWS];
    int64_t ud_seq[W_ROWS];
    char names[W_ROWS][16];
    tally_user_day_stats changed[W_ROWS]; /* the snapshot's user_days */
    tally_day_stats days[W_DAYS];
} world;

static world *world_a, *world_b;

static void add_row(world *w, const char *date, int64_t start, const char *user, int64_t seq)
{
    assert_true(w->n < W_ROWS);
    tally_user_day_stats *u = &w->ud[w->n];
    memset(u, 0, sizeof(*u));
    snprintf(u->date, sizeof(u->date), "%s", date);
    u->day_start_utc = start;
    snprintf(w->names[w->n], sizeof(w->names[w->n]), "%s", user);
    u->user_id = w->names[w->n];
    u->total_requests = u->success_requests = 1 + (int64_t)(w->n % 7);
    u->input_tokens = 1000 * (int64_t)w->n;
    u->total_cost = 0.25 * (double)(w->n % 5);
    w->ud_seq[w->n] = seq;
    w->n++;
}

/* users users on each listed day, every row committed by cycle seq. */
static void world_init(world *w, const char *state_id, size_t users, int64_t seq)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->state_id, sizeof(w->state_id), "%s", state_id);
    w->seq = seq;
    w->users = users;
    add_row(w, "2026-11-10", DAY0_UTC - 7 * 86400, "old", 1);
    for (int d = 0; d < W_DAYS; d++) {
        char date[TALLY_DATE_LEN];
        snprintf(date, sizeof(date), "2026-11-%02d", 17 + d);
        for (size_t u = 0; u < users; u++) {
            char name[16];
            snprintf(name, sizeof(name), "u%04u", (unsigned)(u % 10000));
            add_row(w, date, DAY0_UTC + d * 86400, name, seq);
        }
    }
    add_row(w, "2026-11-22", DAY0_UTC + 5 * 86400, "today", 0);
}

/* Row i of the listed ones (day d * users + user u): its index in ud. */
static size_t listed(const world *w, size_t i)
{
    assert_true(i < W_DAYS * w->users);
    return 1 + i;
}

static void cycle(world *w)
{
    w->seq++;
}

/* Listed row i changes in the cycle under way (a late record, say). */
static void touch(world *w, size_t i)
{
    tally_user_day_stats *u = &w->ud[listed(w, i)];
    u->total_requests++;
    u->error_requests++;
    u->output_tokens += 7;
    u->total_cost += 0.5;
    w->ud_seq[listed(w, i)] = w->seq;
}

static bool is_listed(const world *w, size_t k)
{
    return w->ud_seq[k] > 0 && strcmp(w->ud[k].date, "2026-11-17") >= 0 &&
           strcmp(w->ud[k].date, "2026-11-22") < 0;
}

/* How many listed rows changed in the cycles after `after` (0: all). */
static int64_t changed_since(const world *w, int64_t after)
{
    int64_t n = 0;
    for (size_t k = 0; k < w->n; k++)
        n += is_listed(w, k) && w->ud_seq[k] > after;
    return n;
}

/* The snapshot of the last cycle, as the agent builds it. */
static void world_snapshot(world *w, tally_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->timezone = "UTC";
    s->now_utc = NOW_UTC;
    s->seq = w->seq;
    s->changed_after = w->seq - 1;
    snprintf(s->state_id, sizeof(s->state_id), "%s", w->state_id);
    snprintf(s->oldest_kept, sizeof(s->oldest_kept), "2026-11-17");
    for (int d = 0; d < W_DAYS; d++) {
        memset(&w->days[d], 0, sizeof(w->days[d]));
        snprintf(w->days[d].date, sizeof(w->days[d].date), "2026-11-%02d", 17 + d);
        w->days[d].day_start_utc = DAY0_UTC + d * 86400;
    }
    for (size_t k = 0; k < w->n; k++) {
        if (!is_listed(w, k))
            continue;
        tally_day_stats *day = &w->days[(w->ud[k].day_start_utc - DAY0_UTC) / 86400];
        day->total_requests += w->ud[k].total_requests;
        day->error_requests += w->ud[k].error_requests;
        s->summary.all_time_requests += w->ud[k].total_requests;
        if (w->ud_seq[k] == w->seq)
            w->changed[s->n_user_days++] = w->ud[k];
    }
    s->days = w->days;
    s->n_days = W_DAYS;
    s->user_days = w->changed;
    s->summary.cutoff_utc = DAY0_UTC + 5 * 86400;
}

static void start_on(inst *in, const target *t)
{
    start(in, t->body);
}

/* Export the last cycle's snapshot: its outcome. */
static int export_cycle(inst *in, world *w)
{
    tally_snapshot snap;
    world_snapshot(w, &snap);
    mock_host_set_history(in->h, w->ud, w->ud_seq, w->n, NULL, NULL, 0);
    int rc = plugin->exporter.export_snapshot(in->ctx, &snap);
    assert_int_equal(mock_host_history_open_count(in->h), 0);
    return rc;
}

static void export_ok(inst *in, world *w)
{
    if (export_cycle(in, w) != TALLY_HOST_OK) {
        dump_log(in->h);
        fail_msg("export of seq %lld failed", (long long)w->seq);
    }
}

static void assert_mark(const target *t, const world *w)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM {p}tally_export WHERE instance = 'dash' AND state_id = '%s' "
             "AND seq = %lld",
             w->state_id, (long long)w->seq);
    if (target_int(t, q) != 1)
        fail_msg("the target's mark is not %s:%lld (seq there: %lld)", w->state_id,
                 (long long)w->seq,
                 (long long)target_int(t, "SELECT max(seq) FROM {p}tally_export"));
}

/* The tables hold what a fresh instance writes from w into empty ones
 * ({p}full_...): the same rows with the same values, no more. */
static void assert_same_as_rebuild(const target *t, world *w)
{
    target full = *t;
    assert_true(strlen(t->prefix) + 5 < sizeof(full.prefix));
    memcpy(full.prefix + strlen(t->prefix), "full_", 6);
    char *p = strstr(full.body, "table_prefix = ");
    assert_non_null(p);
    snprintf(p, sizeof(full.body) - (size_t)(p - full.body), "table_prefix = \"%s\"", full.prefix);
    target_sql(&full, "DROP TABLE IF EXISTS {p}stats_daily; DROP TABLE IF EXISTS "
                      "{p}stats_user_daily; DROP TABLE IF EXISTS {p}stats_summary; DROP TABLE IF "
                      "EXISTS {p}tally_export");
    inst in;
    start_on(&in, &full);
    export_ok(&in, w);
    finish(&in);
    static const char *const tables[] = {"stats_daily", "stats_user_daily", "stats_summary"};
    for (size_t i = 0; i < 3; i++) {
        char q[512];
        snprintf(q, sizeof(q),
                 "SELECT (SELECT count(*) FROM (SELECT * FROM {p}%s EXCEPT SELECT * FROM "
                 "{p}full_%s) AS a) + (SELECT count(*) FROM (SELECT * FROM {p}full_%s EXCEPT "
                 "SELECT * FROM {p}%s) AS b) + abs((SELECT count(*) FROM {p}%s) - (SELECT "
                 "count(*) FROM {p}full_%s))",
                 tables[i], tables[i], tables[i], tables[i], tables[i], tables[i]);
        if (target_int(t, q) != 0)
            fail_msg("%s%s differs from a rebuild", t->prefix, tables[i]);
    }
}

/* ---- the cases, on either target ---- */

/* A case's start: a fresh target under prefix, written from w (40 users
 * a day, every row at cycle seq) by an instance that then stopped; rows
 * sent to the user-days table are counted from there. */
static void first_export(target *t, bool pg, const char *prefix, world *w, const char *state_id,
                         int64_t seq)
{
    target_make(t, pg, prefix);
    world_init(w, state_id, 40, seq);
    inst in;
    start_on(&in, t);
    export_ok(&in, w);
    finish(&in);
    count_sent(t);
}

#define STATE_ID "0123456789abcdef0123456789abcdef"

/* (c) A restart with nothing changed sends no user-day, however many
 * cycles committed meanwhile, and writes nothing at all. */
static void restart_nothing_changed(bool pg)
{
    target t;
    world *w = world_a;
    first_export(&t, pg, "rn_", w, STATE_ID, 1);
    assert_int_equal(target_int(&t, "SELECT count(*) FROM {p}stats_user_daily"), 200);
    assert_int_equal(target_int(&t, "SELECT count(*) FROM {p}stats_user_daily WHERE user_id IN "
                                    "('old', 'today')"),
                     0);
    assert_mark(&t, w);
    inst in;

    /* The next cycle changed nothing. */
    cycle(w);
    start_on(&in, &t);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 0);
    finish(&in);
    /* Three cycles committed while the exporter was down: the mark is
     * behind, history says nothing changed since. */
    cycle(w);
    cycle(w);
    cycle(w);
    start_on(&in, &t);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 0);
    /* Nothing at all was written: the mark stays (still true) and no
     * transaction was needed. */
    assert_int_equal(target_int(&t, "SELECT seq FROM {p}tally_export"), 1);
    /* The same snapshot again, and the next one. */
    export_ok(&in, w);
    cycle(w);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 0);
    finish(&in);
    assert_same_as_rebuild(&t, w);
}

/* (a) The mark several cycles behind: exactly the rows changed since. */
static void mark_behind(bool pg)
{
    target t;
    world *w = world_a;
    first_export(&t, pg, "mb_", w, STATE_ID, 1);
    inst in;

    /* Cycles 2..4 commit; the agent stops before exporting any. A row
     * changed twice is sent once; a late record reaches the oldest day. */
    cycle(w);
    for (size_t i = 0; i < 10; i++)
        touch(w, 40 + i);
    cycle(w);
    for (size_t i = 5; i < 15; i++)
        touch(w, 40 + i);
    touch(w, 0);
    cycle(w);
    touch(w, 199);
    /* The next agent's first cycle changes one more. */
    cycle(w);
    touch(w, 100);
    int64_t want = changed_since(w, 1);
    assert_int_equal(want, 18);
    start_on(&in, &t);
    export_ok(&in, w);
    assert_int_equal(sent(&t), want);
    assert_non_null(mock_host_log_find(in.h, "holds every user-day up to seq 1: writing those "
                                             "changed since, up to seq 5"));
    assert_mark(&t, w);
    assert_same_as_rebuild(&t, w);

    /* Snapshots the agent replaced before this exporter took them: the
     * next one it takes brings the rows of the skipped ones too. */
    sent_reset(&t);
    int64_t mark = w->seq;
    cycle(w);
    touch(w, 60);
    touch(w, 61);
    cycle(w);
    touch(w, 61);
    touch(w, 150);
    export_ok(&in, w);
    assert_int_equal(sent(&t), changed_since(w, mark));
    assert_int_equal(sent(&t), 3);
    /* In step again: the snapshot's own rows. */
    sent_reset(&t);
    cycle(w);
    touch(w, 3);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 1);
    assert_mark(&t, w);
    finish(&in);
    assert_same_as_rebuild(&t, w);
}

/* The database refuses, or is away, for a few cycles. */
static void database_away(const target *t, bool away)
{
    static sqlite3 *lock;
    if (t->pg) {
        pg_test_cmd(away ? "stop" : "restart");
    } else if (away) {
        assert_int_equal(sqlite3_open(t->db, &lock), SQLITE_OK);
        assert_int_equal(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    } else {
        assert_int_equal(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(lock);
    }
}

/* (b) Failures lose nothing and send nothing twice. */
static void failures_lose_nothing(bool pg)
{
    target t;
    world *w = world_a;
    first_export(&t, pg, "fl_", w, STATE_ID, 1);
    int64_t mark = w->seq;
    inst in;
    start_on(&in, &t);

    /* The summary is written after the user-days: failing there fails
     * the export in the middle of its transaction. PostgreSQL: the
     * server cuts the connection then; SQLite: the statement fails. */
    if (pg)
        target_sql(
            &t, "CREATE OR REPLACE FUNCTION {p}cut() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$; "
                "CREATE TRIGGER cut BEFORE INSERT ON {p}stats_summary FOR EACH ROW "
                "EXECUTE FUNCTION {p}cut()");
    else
        target_sql(&t, "CREATE TRIGGER {p}cut BEFORE INSERT ON {p}stats_summary BEGIN SELECT "
                       "RAISE(ABORT, 'refused by the test'); END");
    cycle(w);
    for (size_t i = 0; i < 5; i++)
        touch(w, 20 + i);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    cycle(w);
    for (size_t i = 3; i < 8; i++)
        touch(w, 20 + i);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    assert_non_null(
        mock_host_log_find(in.h, pg ? "the connection is lost" : "refused by the test"));
    assert_int_equal(sent(&t), 0); /* rolled back */
    assert_int_equal(target_int(&t, "SELECT seq FROM {p}tally_export"), mark);
    target_sql(&t, pg ? "DROP TRIGGER cut ON {p}stats_summary" : "DROP TRIGGER {p}cut");

    /* Then away for two cycles (PostgreSQL stopped; SQLite locked). */
    database_away(&t, true);
    cycle(w);
    touch(w, 120);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    cycle(w);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    database_away(&t, false);

    /* Back: one export sends each row changed since the mark, once. */
    cycle(w);
    touch(w, 121);
    export_ok(&in, w);
    assert_int_equal(changed_since(w, mark), 10);
    assert_int_equal(sent(&t), 10);
    assert_mark(&t, w);
    sent_reset(&t);
    cycle(w);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 0);
    finish(&in);
    assert_same_as_rebuild(&t, w);
}

/* (d) A target marked by another state gets every listed row once; so
 * does one marked ahead of this state (a state restored from an older
 * copy: its seqs are not the ones the mark counted). */
static void other_state(bool pg)
{
    target t;
    world *a = world_a, *b = world_b;
    first_export(&t, pg, "os_", a, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 3);
    inst in;

    /* Another state: its own values and seqs, at cycle 7; its snapshot
     * holds the rows of cycle 7 only. */
    world_init(b, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 40, 2);
    for (int64_t s = 3; s <= 7; s++) {
        b->seq = s;
        for (size_t i = (size_t)s; i < 200; i += 9)
            touch(b, i);
    }
    start_on(&in, &t);
    export_ok(&in, b);
    assert_int_equal(sent(&t), 200);
    assert_non_null(mock_host_log_find(in.h, "holds no user-day of this state (marked by another "
                                             "state): writing every one listed"));
    assert_mark(&t, b);
    finish(&in);
    assert_same_as_rebuild(&t, b);

    /* Marked ahead: rows written at seq 50 of a state now at seq 8. */
    sent_reset(&t);
    target_sql(&t, "UPDATE {p}tally_export SET seq = 50");
    cycle(b);
    touch(b, 0);
    start_on(&in, &t);
    export_ok(&in, b);
    assert_int_equal(sent(&t), 200);
    assert_mark(&t, b);
    finish(&in);
    assert_same_as_rebuild(&t, b);

    /* A state with no listed user-day: nothing to send, yet the mark that
     * names another state is put right, so that no restart trusts it. */
    world_init(a, "cccccccccccccccccccccccccccccccc", 0, 5);
    sent_reset(&t);
    start_on(&in, &t);
    export_ok(&in, a);
    assert_int_equal(sent(&t), 0);
    assert_mark(&t, a);
    finish(&in);
}

/* A target of the previous release: the three tables, rows in them, no
 * marks table. It is made, and every listed row written once. Without
 * create_tables the missing table is named. */
static void previous_release(bool pg)
{
    target t;
    world *w = world_a;
    first_export(&t, pg, "pr_", w, STATE_ID, 1);
    target_sql(&t, "DROP TABLE {p}tally_export");
    inst in;
    cycle(w);
    touch(w, 7);

    char body[sizeof(t.body) + 32];
    snprintf(body, sizeof(body), "%s create_tables = false", t.body);
    start(&in, body);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    char want[128];
    snprintf(want, sizeof(want), "table %stally_export is missing or lacks a column", t.prefix);
    assert_non_null(mock_host_log_find(in.h, want));
    assert_non_null(mock_host_log_find(in.h, "create it as tallyd.conf(5) shows"));
    finish(&in);
    assert_int_equal(sent(&t), 0);

    start_on(&in, &t);
    export_ok(&in, w);
    assert_int_equal(sent(&t), 200);
    assert_mark(&t, w);
    finish(&in);
    assert_same_as_rebuild(&t, w);
}

/* ---- SQLite ---- */

static int lite_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof(dir), "%s/tally-sql-XXXXXX", tmp);
    world_a = calloc(1, sizeof(*world_a));
    world_b = calloc(1, sizeof(*world_b));
    return mkdtemp(dir) != NULL && world_a != NULL && world_b != NULL ? 0 : -1;
}

static int lite_teardown(void **state)
{
    (void)state;
    free(world_a);
    free(world_b);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Many pages of history (1,000 rows each) into many statements (500
 * rows each); a history read that fails on its second page writes
 * nothing and leaves no read open, and the next export writes it all. */
static void test_history_pages(void **state)
{
    (void)state;
    target t;
    target_make(&t, false, "hp_");
    world *w = world_a;
    world_init(w, STATE_ID, 520, 4);
    inst in;
    start_on(&in, &t);
    mock_host_fail_history_after(in.h, 1);
    assert_int_equal(export_cycle(&in, w), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(
        in.h, "reading the user-days changed after seq 0 from the state failed"));
    assert_int_equal(target_int(&t, "SELECT count(*) FROM {p}stats_user_daily"), 0);
    assert_int_equal(target_int(&t, "SELECT count(*) FROM {p}tally_export"), 0);
    mock_host_fail_history_after(in.h, -1);
    export_ok(&in, w);
    assert_int_equal(target_int(&t, "SELECT count(*) FROM {p}stats_user_daily"), 2600);
    assert_mark(&t, w);
    finish(&in);
    assert_same_as_rebuild(&t, w);
}

/* ---- each case on SQLite, and on PostgreSQL when odbc_e2e_test.sh
 * runs a server ---- */

#define ON_BOTH(name)                                                                              \
    static void test_##name(void **state)                                                          \
    {                                                                                              \
        (void)state;                                                                               \
        name(false);                                                                               \
    }                                                                                              \
    static void test_pg_##name(void **state)                                                       \
    {                                                                                              \
        if (pg_test_dir() == NULL)                                                                 \
            skip();                                                                                \
        assert_int_equal(lite_setup(state), 0);                                                    \
        name(true);                                                                                \
        assert_int_equal(lite_teardown(state), 0);                                                 \
    }

ON_BOTH(restart_nothing_changed)
ON_BOTH(mark_behind)
ON_BOTH(failures_lose_nothing)
ON_BOTH(other_state)
ON_BOTH(previous_release)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_connection_fails),
        cmocka_unit_test(test_snapshot_to_sqlite),
        cmocka_unit_test_setup_teardown(test_restart_nothing_changed, lite_setup, lite_teardown),
        cmocka_unit_test_setup_teardown(test_mark_behind, lite_setup, lite_teardown),
        cmocka_unit_test_setup_teardown(test_failures_lose_nothing, lite_setup, lite_teardown),
        cmocka_unit_test_setup_teardown(test_other_state, lite_setup, lite_teardown),
        cmocka_unit_test_setup_teardown(test_history_pages, lite_setup, lite_teardown),
        cmocka_unit_test_setup_teardown(test_previous_release, lite_setup, lite_teardown),
        cmocka_unit_test(test_pg_restart_nothing_changed),
        cmocka_unit_test(test_pg_mark_behind),
        cmocka_unit_test(test_pg_failures_lose_nothing),
        cmocka_unit_test(test_pg_other_state),
        cmocka_unit_test(test_pg_previous_release),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
