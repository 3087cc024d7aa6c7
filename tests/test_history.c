/*
 * test_history.c — issue 12 in the agent's core, driven in-process with a
 * test source and a test collector (no dlopen): every committed cycle gets
 * the next seq and a rolled-back one leaves no trace; the state's id is
 * stable across restarts and another state's differs; a snapshot carries
 * only the counter totals its cycle changed; the host's history pages
 * through them (and through the collector's user-days) in order, with
 * filters, refusing bad queries; a snapshot's history stays as of its
 * cycle while later cycles commit, also read from several threads; a
 * collector stopped under an open read is never called again.
 */
#include "counter_days.h"
#include "cycle.h"
#include "clock.h"
#include "history.h"
#include "host.h"
#include "snapshot.h"
#include "spool.h"
#include "state.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW_22 1795316400 /* 2026-11-22T03:00:00Z */
#define DAY 86400

/* ---- the test source: emits the counter totals the test queues ---- */

typedef struct emit_row {
    const char *date, *name;
    int64_t value;
} emit_row;

static struct {
    const tally_host_api *api;
    tally_host *h;
    emit_row rows[64];
    size_t n_rows;
    int fail;             /* collect fails (its savepoint is taken back) */
    int break_commit;     /* collect ends the cycle's transaction under it */
    int64_t seen_seq[16]; /* cycle_seq during each collect */
    size_t n_seen;
} src;

static int src_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    src.api = api;
    src.h = h;
    *ctx = &src;
    return TALLY_HOST_OK;
}

static void nothing(void *ctx)
{
}

static int src_collect(void *ctx)
{
    if (src.n_seen < 16)
        src.seen_seq[src.n_seen++] = src.api->cycle_seq(src.h);
    for (size_t i = 0; i < src.n_rows; i++)
        if (src.api->emit_counter_day(src.h, src.rows[i].date, src.rows[i].name,
                                      src.rows[i].value) != TALLY_HOST_OK)
            return TALLY_HOST_ERR;
    src.n_rows = 0;
    if (src.break_commit) {
        /* The cycle's COMMIT then fails: a cycle that does not commit. */
        sqlite3_exec(src.api->state_db(src.h), "ROLLBACK", NULL, NULL, NULL);
        src.break_commit = 0;
    }
    return src.fail ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

static void queue(const char *date, const char *name, int64_t value)
{
    src.rows[src.n_rows++] = (emit_row){date, name, value};
}

/* ---- the test collector: user-days in a table of its own ---- */

typedef struct user_row {
    const char *date, *user;
    int64_t total;
} user_row;

static struct {
    const tally_host_api *api;
    tally_host *h;
    sqlite3 *db;
    user_row add[64]; /* added in the next cycle_begin */
    size_t n_add;
    int history_calls; /* into its history callbacks */
} coll;

typedef struct coll_read {
    sqlite3_stmt *st;
    tally_user_day_stats *rows;
    char (*ids)[32];
    size_t page_rows;
} coll_read;

static int coll_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    coll.api = api;
    coll.h = h;
    coll.db = api->state_db(h);
    *ctx = &coll;
    return sqlite3_exec(coll.db,
                        "CREATE TABLE IF NOT EXISTS tcoll_days (date TEXT NOT NULL, user_id TEXT "
                        "NOT NULL, total INTEGER NOT NULL, seq INTEGER NOT NULL, "
                        "PRIMARY KEY (date, user_id))",
                        NULL, NULL, NULL) == SQLITE_OK
               ? TALLY_HOST_OK
               : TALLY_HOST_ERR;
}

static int coll_cycle_begin(void *ctx, const tally_day *today)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(coll.db,
                       "INSERT INTO tcoll_days VALUES (?1, ?2, ?3, ?4) ON CONFLICT (date, user_id) "
                       "DO UPDATE SET total = total + excluded.total, seq = excluded.seq",
                       -1, &st, NULL);
    for (size_t i = 0; i < coll.n_add; i++) {
        sqlite3_bind_text(st, 1, coll.add[i].date, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, coll.add[i].user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, coll.add[i].total);
        sqlite3_bind_int64(st, 4, coll.api->cycle_seq(coll.h));
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    coll.n_add = 0;
    return TALLY_HOST_OK;
}

static int coll_ok(void *ctx)
{
    return TALLY_HOST_OK;
}

static int coll_consume(void *ctx, const char *source, const tally_record *r, size_t n)
{
    return TALLY_HOST_OK;
}

static int coll_inventory(void *ctx, const char *source, tally_stream stream, int phase)
{
    return TALLY_HOST_OK;
}

static int coll_recompute_begin(void *ctx, int64_t from, int64_t to)
{
    return TALLY_HOST_OK;
}

static int coll_read_open(sqlite3 *db, const tally_history_query *q, int64_t changed_after,
                          size_t page_rows, coll_read **out)
{
    coll_read *r = calloc(1, sizeof(*r));
    r->page_rows = page_rows;
    r->rows = calloc(page_rows, sizeof(*r->rows));
    r->ids = calloc(page_rows, sizeof(*r->ids));
    if (sqlite3_prepare_v2(db,
                           "SELECT date, user_id, total FROM tcoll_days WHERE (?1 = 0 OR seq > ?1) "
                           "AND date >= ?2 AND date < ?3 AND (?4 IS NULL OR user_id = ?4) "
                           "ORDER BY date, user_id",
                           -1, &r->st, NULL) != SQLITE_OK) {
        free(r->rows);
        free(r->ids);
        free(r);
        return TALLY_HOST_ERR;
    }
    sqlite3_bind_int64(r->st, 1, changed_after);
    sqlite3_bind_text(r->st, 2, q->from_date, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(r->st, 3, q->to_date, -1, SQLITE_TRANSIENT);
    if (q->key != NULL)
        sqlite3_bind_text(r->st, 4, q->key, -1, SQLITE_TRANSIENT);
    *out = r;
    return TALLY_HOST_OK;
}

static size_t coll_read_page(coll_read *r)
{
    size_t n = 0;
    while (n < r->page_rows && sqlite3_step(r->st) == SQLITE_ROW) {
        tally_user_day_stats *u = &r->rows[n];
        memset(u, 0, sizeof(*u));
        snprintf(u->date, sizeof(u->date), "%s", sqlite3_column_text(r->st, 0));
        snprintf(r->ids[n], sizeof(r->ids[n]), "%s", sqlite3_column_text(r->st, 1));
        u->user_id = r->ids[n];
        u->total_requests = sqlite3_column_int64(r->st, 2);
        n++;
    }
    return n;
}

static void coll_read_close(coll_read *r)
{
    sqlite3_finalize(r->st);
    free(r->rows);
    free(r->ids);
    free(r);
}

/* The changed user-days of closed days (at most a page: the test's are
 * few), on the collector's own connection. */
static coll_read *stats_read;

static int coll_stats(void *ctx, int64_t now, int64_t changed_after, tally_stats *out)
{
    tally_day today;
    coll.api->day_of(coll.h, now, &today);
    snprintf(out->oldest_kept, sizeof(out->oldest_kept), "2026-11-01");
    tally_history_query q = {.struct_size = sizeof(q)};
    memcpy(q.from_date, out->oldest_kept, TALLY_DATE_LEN);
    memcpy(q.to_date, today.date, TALLY_DATE_LEN);
    if (coll_read_open(coll.db, &q, changed_after, 1000, &stats_read) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    out->n_user_days = coll_read_page(stats_read);
    out->user_days = stats_read->rows;
    return TALLY_HOST_OK;
}

static void coll_free_stats(void *ctx, tally_stats *st)
{
    if (stats_read != NULL)
        coll_read_close(stats_read);
    stats_read = NULL;
}

static coll_read *last_opened; /* the newest read history_open started */

static int coll_history_open(void *ctx, void *db, const tally_history_query *q, void **it)
{
    coll.history_calls++;
    int rc = coll_read_open(db, q, q->changed_after, q->page_rows, (coll_read **)it);
    last_opened = *it;
    return rc;
}

static int coll_history_next(void *it, tally_history_page *page)
{
    coll.history_calls++;
    coll_read *r = it;
    page->n_user_days = coll_read_page(r);
    page->user_days = r->rows;
    return TALLY_HOST_OK;
}

static void coll_history_close(void *it)
{
    coll.history_calls++;
    coll_read_close(it);
}

static void user(const char *date, const char *id, int64_t total)
{
    coll.add[coll.n_add++] = (user_row){date, id, total};
}

/* ---- the agent, built by hand around them ---- */

static loaded_plugin src_plugin = {
    .desc =
        {
            .name = "tsrc",
            .kind = TALLY_PLUGIN_SOURCE,
            .init = src_init,
            .stop = nothing,
            .source = {.collect = src_collect},
        },
};

static loaded_plugin coll_plugin = {
    .desc =
        {
            .name = "tcoll",
            .kind = TALLY_PLUGIN_COLLECTOR,
            .init = coll_init,
            .stop = nothing,
            .cycle_begin = coll_cycle_begin,
            .collector =
                {
                    .consume = coll_consume,
                    .inventory = coll_inventory,
                    .flush = coll_ok,
                    .discard = nothing,
                    .recompute_begin = coll_recompute_begin,
                    .stats = coll_stats,
                    .free_stats = coll_free_stats,
                    .history_open = coll_history_open,
                    .history_next = coll_history_next,
                    .history_close = coll_history_close,
                },
        },
};

static char dir[64];
static conf cf;
static conf_instance inst[2];
static agent a;

static void start(const char *state_dir, int with_collector)
{
    cf.state_dir = state_dir;
    cf.inst = inst;
    inst[0] = (conf_instance){&src_plugin, "s", NULL};
    inst[1] = (conf_instance){&coll_plugin, "c", NULL};
    cf.n_inst = with_collector ? 2 : 1;
    memset(&a, 0, sizeof(a));
    a.conf = &cf;
    assert_int_equal(state_open(state_dir, &a.state), 0);
    assert_int_equal(spool_open(state_dir, &a.spool), 0);
    assert_int_equal(host_start_all(&a), 0);
}

static void stop(void)
{
    host_stop_all(&a);
    spool_close(a.spool);
    host_cycle_reset(&a);
    free(a.counters);
    state_close(a.state);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **unused)
{
    snprintf(dir, sizeof(dir), "/tmp/tally-history-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(clock_set_zone("UTC"), 0);
    clock_set_now(NOW_22, 0);
    memset(&src, 0, sizeof(src));
    memset(&coll, 0, sizeof(coll));
    start(dir, 1);
    return 0;
}

static int teardown(void **unused)
{
    stop();
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int64_t committed(void)
{
    int64_t seq = -1;
    assert_int_equal(state_seq_committed(a.state, &seq), 0);
    return seq;
}

/* A cycle, and the snapshot of what it committed (the caller puts it). */
static snap_ref *cycle(void)
{
    assert_int_equal(cycle_run(&a), 0);
    snap_ref *r = snap_build(&a, committed(), clock_now(), 0);
    assert_non_null(r);
    return r;
}

/* ---- seq and state_id ---- */

static void test_seq_per_committed_cycle(void **unused)
{
    assert_int_equal(committed(), 0);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(cycle_run(&a), 0);
    assert_int_equal(committed(), 3);
    assert_int_equal(src.n_seen, 3);
    assert_int_equal(src.seen_seq[0], 1);
    assert_int_equal(src.seen_seq[2], 3);
    /* Between cycles there is none under way. */
    assert_int_equal(host_api.cycle_seq(&a.hosts[0]), 0);

    /* A source that fails: the cycle still commits, with the next seq. */
    src.fail = 1;
    assert_int_equal(cycle_run(&a), 0);
    src.fail = 0;
    assert_int_equal(committed(), 4);

    /* A cycle that cannot commit leaves no trace: not its seq, not its
     * counter totals; the next one takes the same number. */
    queue("2026-11-21", "lost", 1);
    src.break_commit = 1;
    assert_int_equal(cycle_run(&a), -1);
    assert_int_equal(src.seen_seq[4], 5);
    assert_int_equal(committed(), 4);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(state_db(a.state), "SELECT count(*) FROM counter_days", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 0);
    sqlite3_finalize(st);
    assert_int_equal(cycle_run(&a), 0);
    assert_int_equal(src.seen_seq[5], 5);
    assert_int_equal(committed(), 5);

    /* --recompute commits with a seq of its own. */
    assert_int_equal(cycle_recompute(&a, NOW_22 - 2 * DAY, NOW_22 - DAY), 0);
    assert_int_equal(committed(), 6);
    snap_ref *r = cycle();
    assert_int_equal(r->s.seq, 7);
    assert_int_equal(r->s.changed_after, 6);
    snap_ref_put(r);

    /* Emitting outside a cycle has no seq to carry: refused. */
    assert_int_equal(host_api.emit_counter_day(&a.hosts[0], "2026-11-21", "x", 1),
                     TALLY_HOST_EINVAL);
}

static int is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

static void test_state_id(void **unused)
{
    char id[STATE_ID_LEN];
    snprintf(id, sizeof(id), "%s", state_id(a.state));
    assert_true(is_hex32(id));
    assert_int_equal(cycle_run(&a), 0);
    snap_ref *r = cycle();
    assert_string_equal(r->s.state_id, id);
    snap_ref_put(r);

    /* A restart: the same id, and the seq goes on. */
    stop();
    start(dir, 1);
    assert_string_equal(state_id(a.state), id);
    assert_int_equal(committed(), 2);
    r = cycle();
    assert_int_equal(r->s.seq, 3);
    assert_string_equal(r->s.state_id, id);
    snap_ref_put(r);

    /* Another state_dir is another state. */
    char other[64];
    snprintf(other, sizeof(other), "/tmp/tally-history-XXXXXX");
    assert_non_null(mkdtemp(other));
    state *s2;
    assert_int_equal(state_open(other, &s2), 0);
    assert_true(is_hex32(state_id(s2)));
    assert_string_not_equal(state_id(s2), id);
    int64_t seq = -1;
    assert_int_equal(state_seq_committed(s2, &seq), 0);
    assert_int_equal(seq, 0);
    state_close(s2);
    nftw(other, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- what a snapshot carries ---- */

/* Append "date key value;" to buf (cap bytes, *n used): how the tests
 * write a list of rows to compare. */
static void put_row(char *buf, size_t cap, size_t *n, const char *date, const char *key,
                    int64_t value)
{
    int w = snprintf(buf + *n, cap - *n, "%s %s %lld;", date, key, (long long)value);
    assert_true(w > 0 && (size_t)w < cap - *n);
    *n += (size_t)w;
}

/* Append a page of counter totals with put_row. */
static void put_counter_days(char *buf, size_t cap, size_t *n, const tally_counter_day *rows,
                             size_t k)
{
    for (size_t i = 0; i < k; i++)
        put_row(buf, cap, n, rows[i].date, rows[i].name, rows[i].value);
}

/* r's counter_days as "date name value;..." */
static const char *changed_days(const snap_ref *r)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = '\0';
    put_counter_days(buf, sizeof(buf), &n, r->s.counter_days, r->s.n_counter_days);
    return buf;
}

static void test_counter_days_changed_only(void **unused)
{
    queue("2026-11-20", "a", 1);
    queue("2026-11-21", "b", 2);
    queue("2026-10-01", "old", 9); /* before oldest_kept (2026-11-01) */
    snap_ref *r = cycle();
    assert_string_equal(r->s.oldest_kept, "2026-11-01");
    assert_int_equal(r->s.seq, 1);
    assert_int_equal(r->s.changed_after, 0);
    assert_string_equal(changed_days(r), "2026-11-20 a 1;2026-11-21 b 2;");
    snap_ref_put(r);

    /* A late addition to a closed day and a total of today: only the
     * closed day's row is listed, and only it changed. */
    queue("2026-11-21", "b", 5);
    queue("2026-11-22", "c", 1);
    r = cycle();
    assert_int_equal(r->s.changed_after, 1);
    assert_string_equal(changed_days(r), "2026-11-21 b 7;");
    snap_ref_put(r);

    /* Nothing new: nothing changed. */
    r = cycle();
    assert_string_equal(changed_days(r), "");
    snap_ref_put(r);

    /* Midnight: 2026-11-22 closes, and its totals enter the lists as
     * changed by the cycle that closed it. */
    clock_set_now(NOW_22 + DAY, 0);
    r = cycle();
    assert_string_equal(changed_days(r), "2026-11-22 c 1;");
    snap_ref_put(r);
    r = cycle();
    assert_string_equal(changed_days(r), "");
    snap_ref_put(r);
}

/* ---- history ---- */

static tally_history_query query(tally_history_table table, int64_t after, const char *from,
                                 const char *to, const char *key, size_t page_rows)
{
    tally_history_query q = {.struct_size = sizeof(q),
                             .table = table,
                             .changed_after = after,
                             .key = key,
                             .page_rows = page_rows};
    snprintf(q.from_date, sizeof(q.from_date), "%s", from);
    snprintf(q.to_date, sizeof(q.to_date), "%s", to);
    return q;
}

/* Every row of q on r's history as "date key value;...", and the pages. */
static const char *read_all(snap_ref *r, const tally_history_query *q, size_t *pages)
{
    static __thread char buf[16384];
    size_t n = 0;
    buf[0] = '\0';
    tally_history *it;
    assert_int_equal(host_api.history_open(&a.hosts[0], &r->s, q, &it), TALLY_HOST_OK);
    tally_history_page page;
    size_t np = 0;
    for (;;) {
        assert_int_equal(host_api.history_next(it, &page), TALLY_HOST_OK);
        size_t rows =
            q->table == TALLY_HISTORY_COUNTER_DAYS ? page.n_counter_days : page.n_user_days;
        if (rows == 0)
            break;
        np++;
        assert_true(q->page_rows == 0 || rows <= q->page_rows);
        if (q->table == TALLY_HISTORY_COUNTER_DAYS) {
            assert_int_equal(page.n_user_days, 0);
            put_counter_days(buf, sizeof(buf), &n, page.counter_days, rows);
        } else {
            assert_int_equal(page.n_counter_days, 0);
            for (size_t i = 0; i < rows; i++)
                put_row(buf, sizeof(buf), &n, page.user_days[i].date, page.user_days[i].user_id,
                        page.user_days[i].total_requests);
        }
    }
    host_api.history_close(it);
    if (pages != NULL)
        *pages = np;
    return buf;
}

static const char *const names[] = {"n0", "n1", "n2"};
static const char *const dates[] = {"2026-11-03", "2026-11-10", "2026-11-11", "2026-11-17",
                                    "2026-11-20", "2026-11-21", "2026-11-22"};

/* The expected list: closed dates in [from, to), names, both sorted. */
static const char *expected(const char *from, const char *to, const char *key, int changed)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t d = 0; d < 6; d++)
        for (size_t k = 0; k < 3; k++) {
            int64_t v = (int64_t)(10 * d + k);
            int late = (d == 1 && k == 1) || (d == 4 && k == 0);
            if (late)
                v += 100;
            if (strcmp(dates[d], from) < 0 || strcmp(dates[d], to) >= 0 ||
                (key != NULL && strcmp(key, names[k]) != 0) || (changed && !late))
                continue;
            put_row(buf, sizeof(buf), &n, dates[d], names[k], v);
        }
    return buf;
}

/* 21 totals in cycle 1 (three of today's), 3 changed in cycle 2; all:
 * every listed row after them. */
static void fill_history(char all[4096])
{
    for (size_t d = 0; d < 7; d++)
        for (size_t k = 0; k < 3; k++)
            queue(dates[d], names[k], (int64_t)(10 * d + k));
    snap_ref_put(cycle());
    queue("2026-11-10", "n1", 100);
    queue("2026-11-20", "n0", 100);
    queue("2026-11-22", "n2", 100); /* today's: not listed */
    snap_ref_put(cycle());
    snprintf(all, 4096, "%s", expected("", "9999", NULL, 0));
}

static void test_history_counter_days_paging(void **unused)
{
    char all[4096];
    fill_history(all);
    snap_ref *r = cycle();
    size_t pages;
    /* Every page size, across the pages' boundaries: the same list. */
    size_t sizes[] = {1, 2, 7, 18, 1000, 0};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        tally_history_query q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", NULL, sizes[i]);
        assert_string_equal(read_all(r, &q, &pages), all);
        size_t per = sizes[i] ? sizes[i] : HISTORY_PAGE_ROWS_DEFAULT;
        assert_int_equal(pages, (18 + per - 1) / per);
    }
    /* From and to, a key, and both. */
    tally_history_query q =
        query(TALLY_HISTORY_COUNTER_DAYS, 0, "2026-11-10", "2026-11-20", NULL, 2);
    assert_string_equal(read_all(r, &q, NULL), expected("2026-11-10", "2026-11-20", NULL, 0));
    q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", "n1", 2);
    assert_string_equal(read_all(r, &q, NULL), expected("", "9999", "n1", 0));
    q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "2026-11-11", "", "n2", 1);
    assert_string_equal(read_all(r, &q, NULL), expected("2026-11-11", "9999", "n2", 0));
    /* Dates outside the listed ones are never read: before oldest_kept,
     * today and later. */
    q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "2020-01-01", "2099-12-31", NULL, 5);
    assert_string_equal(read_all(r, &q, NULL), all);
    q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "2026-11-21", "2026-11-03", NULL, 5);
    assert_string_equal(read_all(r, &q, NULL), "");
    /* Changed after a seq: cycle 2's rows only; after the last, none. */
    q = query(TALLY_HISTORY_COUNTER_DAYS, 1, "", "", NULL, 1);
    assert_string_equal(read_all(r, &q, &pages), expected("", "9999", NULL, 1));
    assert_int_equal(pages, 2);
    q = query(TALLY_HISTORY_COUNTER_DAYS, 3, "", "", NULL, 1);
    assert_string_equal(read_all(r, &q, NULL), "");
    /* A page size past the cap is cut to it, not refused. */
    q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", NULL, HISTORY_PAGE_ROWS_MAX * 10);
    assert_string_equal(read_all(r, &q, &pages), all);
    assert_int_equal(pages, 1);
    snap_ref_put(r);
}

static void test_history_refuses_bad_queries(void **unused)
{
    snap_ref *r = cycle();
    tally_history *it = (tally_history *)1;
    tally_history_query q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", NULL, 0);
    struct tally_host *h = &a.hosts[0];

    tally_history_query bad = q;
    bad.struct_size = offsetof(tally_history_query, page_rows);
    assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    assert_null(it);
    bad = q;
    bad.table = 0;
    assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    bad.table = 3;
    assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    const char *dates_bad[] = {"2026-13-01", "2026-02-30", "2026-1-01",
                               "yesterday",  "2026/11/01", "2026-11-1 "};
    for (size_t i = 0; i < sizeof(dates_bad) / sizeof(dates_bad[0]); i++) {
        bad = query(TALLY_HISTORY_COUNTER_DAYS, 0, dates_bad[i], "", NULL, 0);
        assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
        bad = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", dates_bad[i], NULL, 0);
        assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    }
    bad = q;
    memset(bad.from_date, '1', sizeof(bad.from_date)); /* no NUL */
    assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    bad = q;
    bad.changed_after = -1;
    assert_int_equal(host_api.history_open(h, &r->s, &bad, &it), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.history_open(h, &r->s, NULL, &it), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.history_open(h, NULL, &q, &it), TALLY_HOST_EINVAL);
    /* A snapshot that is no cycle's tallyd handed over, or of another
     * state. */
    tally_snapshot copy = r->s;
    copy.seq = r->s.seq + 1;
    assert_int_equal(host_api.history_open(h, &copy, &q, &it), TALLY_HOST_EINVAL);
    assert_null(it);
    copy.seq = r->s.seq;
    copy.state_id[0] = copy.state_id[0] == 'f' ? '0' : 'f';
    assert_int_equal(host_api.history_open(h, &copy, &q, &it), TALLY_HOST_EINVAL);
    /* A copy of it, with members changed (as exporters/format makes),
     * reads as the snapshot, by the agent's own dates. */
    copy = r->s;
    copy.n_counters = 0;
    snprintf(copy.oldest_kept, sizeof(copy.oldest_kept), "1999-01-01");
    copy.now_utc += 400 * DAY;
    assert_int_equal(host_api.history_open(h, &copy, &q, &it), TALLY_HOST_OK);
    host_api.history_close(it);
    it = NULL;
    assert_int_equal(host_api.history_next(NULL, NULL), TALLY_HOST_EINVAL);
    host_api.history_close(NULL);
    /* The good one opens. */
    assert_int_equal(host_api.history_open(h, &r->s, &q, &it), TALLY_HOST_OK);
    host_api.history_close(it);
    /* Once the snapshot is gone, so is its history. */
    copy = r->s;
    snap_ref_put(r);
    assert_int_equal(host_api.history_open(h, &copy, &q, &it), TALLY_HOST_EINVAL);
}

/* Every row of an open read that is left, as read_all shows them. */
static const char *read_rest(tally_history *it)
{
    static char rest[4096];
    size_t n = 0;
    tally_history_page page;
    rest[0] = '\0';
    while (host_api.history_next(it, &page) == TALLY_HOST_OK && page.n_counter_days > 0)
        put_counter_days(rest, sizeof(rest), &n, page.counter_days, page.n_counter_days);
    return rest;
}

/* A snapshot reads the state as its cycle committed it, however many
 * cycles commit after it, and a read outlives its snapshot's last put
 * by the exporter. */
static void test_history_as_of_its_cycle(void **unused)
{
    char before[4096];
    fill_history(before);
    user("2026-11-20", "u1", 1);
    user("2026-11-21", "u2", 2);
    snap_ref *old = cycle();
    tally_history_query cq = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", NULL, 4);
    tally_history_query uq = query(TALLY_HISTORY_USER_DAYS, 0, "", "", NULL, 1);
    assert_string_equal(read_all(old, &uq, NULL), "2026-11-20 u1 1;2026-11-21 u2 2;");

    queue("2026-11-03", "n0", 1000);
    queue("2026-11-03", "zz", 5);
    user("2026-11-20", "u1", 10);
    user("2026-11-19", "u0", 3);
    snap_ref *mid = cycle();
    char mid_all[4096];
    snprintf(mid_all, sizeof(mid_all), "%s", read_all(mid, &cq, NULL));
    /* A read of mid open over the next cycle, half read. */
    tally_history *open_read;
    assert_int_equal(host_api.history_open(&a.hosts[0], &mid->s, &cq, &open_read), TALLY_HOST_OK);
    tally_history_page page;
    assert_int_equal(host_api.history_next(open_read, &page), TALLY_HOST_OK);
    assert_int_equal(page.n_counter_days, 4);
    queue("2026-11-21", "n2", 1000);
    queue("2026-11-03", "n1", 1000);
    snap_ref *now = cycle();

    /* The old snapshot: as before, on a connection nothing else reads. */
    assert_string_equal(read_all(old, &cq, NULL), before);
    assert_string_equal(read_all(old, &uq, NULL), "2026-11-20 u1 1;2026-11-21 u2 2;");
    /* The newer ones: with the changes. */
    assert_non_null(strstr(mid_all, "2026-11-03 n0 1000;2026-11-03 n1 1;2026-11-03 n2 2;"
                                    "2026-11-03 zz 5;"));
    const char *after = read_all(now, &cq, NULL);
    assert_non_null(strstr(after, "2026-11-03 n0 1000;2026-11-03 n1 1001;"));
    assert_non_null(strstr(after, "2026-11-21 n2 1052;"));
    assert_string_equal(read_all(mid, &uq, NULL),
                        "2026-11-19 u0 3;2026-11-20 u1 11;2026-11-21 u2 2;");
    /* What mid's cycle changed, as its arrays and as history. */
    assert_string_equal(changed_days(mid), "2026-11-03 n0 1000;2026-11-03 zz 5;");
    assert_int_equal(mid->s.n_user_days, 2);
    uq.changed_after = mid->s.changed_after;
    assert_string_equal(read_all(mid, &uq, NULL), "2026-11-19 u0 3;2026-11-20 u1 11;");
    uq.changed_after = 0;
    uq.key = "u1";
    assert_string_equal(read_all(now, &uq, NULL), "2026-11-20 u1 11;");

    /* The half-read one goes on as of mid's cycle, past mid's last put
     * by its holder. */
    snap_ref_put(mid);
    const char *rest = mid_all;
    for (int i = 0; i < 4; i++)
        rest = strchr(rest, ';') + 1;
    assert_string_equal(read_rest(open_read), rest);
    host_api.history_close(open_read);
    snap_ref_put(old);
    snap_ref_put(now);
}

/* Several exporter threads read one held snapshot while cycles commit. */
struct reader {
    snap_ref *r;
    const char *want;
    int ok;
};

static void *read_many(void *arg)
{
    struct reader *rd = arg;
    rd->ok = 1;
    for (int i = 0; i < 20; i++) {
        tally_history_query q = query(TALLY_HISTORY_COUNTER_DAYS, 0, "", "", NULL, 1 + i % 5);
        tally_history *it;
        char got[4096];
        size_t n = 0;
        got[0] = '\0';
        if (history_open(&a.hosts[0], &rd->r->s, &q, &it) != TALLY_HOST_OK) {
            rd->ok = 0;
            break;
        }
        tally_history_page page;
        while (history_next(it, &page) == TALLY_HOST_OK && page.n_counter_days > 0)
            put_counter_days(got, sizeof(got), &n, page.counter_days, page.n_counter_days);
        history_close(it);
        if (strcmp(got, rd->want) != 0)
            rd->ok = 0;
    }
    return NULL;
}

static void test_history_from_threads(void **unused)
{
    char want[4096];
    fill_history(want);
    snap_ref *r = cycle();
    struct reader rd[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        rd[i] = (struct reader){r, want, 0};
        assert_int_equal(pthread_create(&t[i], NULL, read_many, &rd[i]), 0);
    }
    for (int i = 0; i < 5; i++) {
        queue("2026-11-21", "n1", 1);
        snap_ref_put(cycle());
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(rd[i].ok);
    }
    snap_ref_put(r);
}

/* Without a collector, the user-days are an empty read. */
static void test_history_without_collector(void **unused)
{
    stop();
    start(dir, 0);
    queue("2026-11-21", "n", 1);
    snap_ref *r = cycle();
    assert_null(r->collector);
    tally_history_query q = query(TALLY_HISTORY_USER_DAYS, 0, "", "", NULL, 0);
    size_t pages = 9;
    assert_string_equal(read_all(r, &q, &pages), "");
    assert_int_equal(pages, 0);
    q.table = TALLY_HISTORY_COUNTER_DAYS;
    assert_string_equal(read_all(r, &q, NULL), "2026-11-21 n 1;");
    snap_ref_put(r);
}

/* A collector stopped under an open read (a reload while an exporter
 * hung past the grace) is never called again. */
static void test_history_collector_stopped(void **unused)
{
    user("2026-11-20", "u1", 1);
    snap_ref *r = cycle();
    tally_history_query q = query(TALLY_HISTORY_USER_DAYS, 0, "", "", NULL, 1);
    tally_history *it;
    assert_int_equal(host_api.history_open(&a.hosts[0], &r->s, &q, &it), TALLY_HOST_OK);
    /* What host_stop_all does to every host, before stop. */
    struct tally_host *c = a.collector;
    pthread_rwlock_wrlock(&c->life);
    c->stopped = 1;
    pthread_rwlock_unlock(&c->life);
    int calls = coll.history_calls;
    tally_history_page page;
    assert_int_equal(host_api.history_next(it, &page), TALLY_HOST_ERR);
    assert_int_equal(page.n_user_days, 0);
    tally_history *again = (tally_history *)1;
    assert_int_equal(host_api.history_open(&a.hosts[0], &r->s, &q, &again), TALLY_HOST_ERR);
    assert_null(again);
    host_api.history_close(it); /* leaks the collector's read: never calls it */
    assert_int_equal(coll.history_calls, calls);
    coll_read_close(last_opened); /* what the agent could not */
    pthread_rwlock_wrlock(&c->life);
    c->stopped = 0;
    pthread_rwlock_unlock(&c->life);
    snap_ref_put(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seq_per_committed_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_days_changed_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_counter_days_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_refuses_bad_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_as_of_its_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_from_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_without_collector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_collector_stopped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
