/*
 * test_format_stream.c — exporters/format's streaming and history reads:
 * tally_format_stream hands on the same text as tally_format_render in
 * bounded pieces; with a host in the options the long lists (user_days,
 * counter_days) come from the host's history page by page and render
 * exactly as the same rows in the snapshot's arrays; the query carries
 * the options' changed_after; a history read or a sink that fails makes
 * the whole rendering fail, with every read closed.
 *
 * The host here is a small fake of the history callbacks over this
 * file's rows (the agent's real ones are tested with the agent).
 */
#include "format.h"
#include "format_priv.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_USERS 2000 /* enough user-days for many pieces and pages */

static tally_user_day_stats user_days[N_USERS];
static char user_ids[N_USERS][24];
static const tally_counter_day counter_days[] = {
    {"2026-11-20", "api.calls", 5},
    {"2026-11-21", "api.calls", 7},
    {"2026-11-21", "jobs \"quoted\"", 1},
};
static const tally_day_stats days[] = {
    {.date = "2026-11-20", .day_start_utc = 1795104000, .total_requests = 3},
    {.date = "2026-11-21", .day_start_utc = 1795190400, .total_requests = 4},
};

static tally_snapshot snapshot(bool with_lists)
{
    tally_snapshot s = {.timezone = "Asia/Shanghai",
                        .now_utc = 1795316400,
                        .generated_utc = 1795316401,
                        .days = days,
                        .n_days = 2,
                        .seq = 9,
                        .changed_after = 8,
                        .oldest_kept = "2026-11-20"};
    if (with_lists) {
        s.user_days = user_days;
        s.n_user_days = N_USERS;
        s.counter_days = counter_days;
        s.n_counter_days = sizeof(counter_days) / sizeof(counter_days[0]);
    }
    return s;
}

static void make_rows(void)
{
    for (int i = 0; i < N_USERS; i++) {
        tally_user_day_stats *u = &user_days[i];
        memset(u, 0, sizeof(*u));
        snprintf(u->date, sizeof(u->date), "%s", i < N_USERS / 2 ? "2026-11-20" : "2026-11-21");
        u->day_start_utc = i < N_USERS / 2 ? 1795104000 : 1795190400;
        snprintf(user_ids[i], sizeof(user_ids[i]), "user-%05d", i);
        u->user_id = user_ids[i];
        u->total_requests = i;
        u->success_requests = i;
        u->total_cost = i * 0.001;
    }
}

/* ---- a fake host serving this file's rows as history ---- */

struct tally_history {
    tally_history_table table;
    size_t at;
};

static struct {
    size_t page_rows;
    int fail_on_page; /* 0: never */
    int pages, open, opened;
    int64_t last_changed_after;
    const tally_snapshot *handed; /* the pointer history_open must get */
} fake;

static int fake_open(tally_host *h, const tally_snapshot *snap, const tally_history_query *q,
                     tally_history **out)
{
    (void)h;
    /* The host finds a snapshot's history by the pointer export_snapshot
     * was given: never a copy of it. */
    assert_ptr_equal(snap, fake.handed);
    assert_true(q->struct_size >= sizeof(*q));
    tally_history *it = calloc(1, sizeof(*it));
    assert_non_null(it);
    it->table = q->table;
    fake.last_changed_after = q->changed_after;
    fake.open++;
    fake.opened++;
    *out = it;
    return TALLY_HOST_OK;
}

static int fake_next(tally_history *it, tally_history_page *page)
{
    memset(page, 0, sizeof(*page));
    if (fake.fail_on_page != 0 && ++fake.pages >= fake.fail_on_page)
        return TALLY_HOST_ERR;
    size_t total = it->table == TALLY_HISTORY_USER_DAYS
                       ? N_USERS
                       : sizeof(counter_days) / sizeof(counter_days[0]);
    size_t n = total - it->at < fake.page_rows ? total - it->at : fake.page_rows;
    if (it->table == TALLY_HISTORY_USER_DAYS) {
        page->user_days = &user_days[it->at];
        page->n_user_days = n;
    } else {
        page->counter_days = &counter_days[it->at];
        page->n_counter_days = n;
    }
    it->at += n;
    return TALLY_HOST_OK;
}

static void fake_close(tally_history *it)
{
    fake.open--;
    free(it);
}

static const tally_host_api fake_api = {
    .struct_size = sizeof(tally_host_api),
    .history_open = fake_open,
    .history_next = fake_next,
    .history_close = fake_close,
};
static tally_host *const fake_host = (tally_host *)&fake;

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.page_rows = 7;
    return 0;
}

/* ---- a sink that keeps what it is given ---- */

typedef struct collected {
    char *text;
    size_t len, pieces, largest;
    int fail_at; /* fail the n-th piece (0: never) */
} collected;

static int collect(void *arg, const char *data, size_t len)
{
    collected *c = arg;
    c->pieces++;
    if (c->fail_at != 0 && (int)c->pieces >= c->fail_at)
        return -1;
    c->text = realloc(c->text, c->len + len + 1);
    assert_non_null(c->text);
    memcpy(c->text + c->len, data, len);
    c->len += len;
    c->text[c->len] = '\0';
    if (len > c->largest)
        c->largest = len;
    return 0;
}

static char *rendered(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                      size_t *len)
{
    char *out = NULL;
    assert_int_equal(tally_format_render(f, s, o, &out, len), 0);
    return out;
}

static const tally_format f_all[] = {TALLY_FORMAT_JSON, TALLY_FORMAT_CSV, TALLY_FORMAT_INFLUX,
                                     TALLY_FORMAT_PROMETHEUS};
static const char *const csv_tables[] = {"user_days", "counter_days", "days"};

/* The stream is the rendering, in pieces no larger than a piece and one
 * row's text. */
static void test_stream_equals_render(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(true);
    for (size_t i = 0; i < sizeof(f_all) / sizeof(f_all[0]); i++) {
        tally_format_opts o = {.csv_table = "user_days"};
        size_t len;
        char *want = rendered(f_all[i], &s, &o, &len);
        collected c = {0};
        assert_int_equal(tally_format_stream(f_all[i], &s, &o, collect, &c), 0);
        assert_int_equal(c.len, len);
        assert_memory_equal(c.text, want, len);
        assert_true(c.largest < TF_BUF_PIECE + 4096);
        if (len > 2 * TF_BUF_PIECE)
            assert_true(c.pieces >= 2);
        free(want);
        free(c.text);
    }
}

/* Lists read from the host's history, in pages of 7 rows, render as the
 * same rows in the snapshot's arrays; every read is closed. */
static void test_history_renders_as_arrays(void **state)
{
    (void)state;
    tally_snapshot with = snapshot(true), without = snapshot(false);
    for (size_t i = 0; i < sizeof(f_all) / sizeof(f_all[0]); i++) {
        for (size_t t = 0; t < 3; t++) {
            tally_format_opts plain = {.csv_table = csv_tables[t]};
            tally_format_opts hist = {.csv_table = csv_tables[t],
                                      .host = fake_host,
                                      .api = &fake_api,
                                      .changed_after = 0};
            size_t want_len, got_len;
            char *want = rendered(f_all[i], &with, &plain, &want_len);
            fake.handed = &without;
            char *got = rendered(f_all[i], &without, &hist, &got_len);
            assert_int_equal(got_len, want_len);
            assert_memory_equal(got, want, want_len);
            assert_int_equal(fake.open, 0);
            free(want);
            free(got);
        }
    }
    /* json and influx read both lists, prometheus none. */
    assert_true(fake.opened > 0);
}

/* The query asks for what the options say: an exporter's mark. */
static void test_history_changed_after(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(false);
    tally_format_opts o = {.host = fake_host, .api = &fake_api, .changed_after = 41};
    size_t len;
    fake.handed = &s;
    free(rendered(TALLY_FORMAT_JSON, &s, &o, &len));
    assert_int_equal(fake.last_changed_after, 41);
}

/* A history read that fails on its third page fails the rendering (no
 * half document) and the stream, with every read closed. */
static void test_history_failure(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(false);
    tally_format_opts o = {.host = fake_host, .api = &fake_api, .csv_table = "user_days"};
    fake.handed = &s;
    for (size_t i = 0; i < 3; i++) {
        fake.fail_on_page = 3;
        fake.pages = 0;
        char *out = (char *)"untouched";
        size_t len = 1;
        assert_int_equal(tally_format_render(f_all[i], &s, &o, &out, &len), -1);
        assert_null(out);
        assert_int_equal(len, 0);
        assert_int_equal(fake.open, 0);
        fake.pages = 0;
        collected c = {0};
        assert_int_equal(tally_format_stream(f_all[i], &s, &o, collect, &c), -1);
        assert_int_equal(fake.open, 0);
        free(c.text);
    }
}

/* A sink that refuses stops the rendering: -1, nothing more handed on,
 * reads closed. */
static void test_sink_failure(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(false);
    tally_format_opts o = {.host = fake_host, .api = &fake_api};
    fake.handed = &s;
    collected c = {.fail_at = 2};
    assert_int_equal(tally_format_stream(TALLY_FORMAT_JSON, &s, &o, collect, &c), -1);
    assert_int_equal(c.pieces, 2);
    assert_int_equal(fake.open, 0);
    free(c.text);
    assert_int_equal(tally_format_stream(TALLY_FORMAT_JSON, &s, &o, NULL, NULL), -1);
}

/* A host table without the history callbacks (an older agent): the
 * rendering fails rather than list nothing. */
static void test_host_without_history(void **state)
{
    (void)state;
    tally_host_api old = fake_api;
    old.struct_size = offsetof(tally_host_api, cycle_seq);
    tally_snapshot s = snapshot(false);
    tally_format_opts o = {.host = fake_host, .api = &old};
    char *out;
    size_t len;
    assert_int_equal(tally_format_render(TALLY_FORMAT_JSON, &s, &o, &out, &len), -1);
    /* Prometheus lists no history and does not need it. */
    assert_int_equal(tally_format_render(TALLY_FORMAT_PROMETHEUS, &s, &o, &out, &len), 0);
    free(out);
}

int main(void)
{
    make_rows();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_stream_equals_render, setup),
        cmocka_unit_test_setup(test_history_renders_as_arrays, setup),
        cmocka_unit_test_setup(test_history_changed_after, setup),
        cmocka_unit_test_setup(test_history_failure, setup),
        cmocka_unit_test_setup(test_sink_failure, setup),
        cmocka_unit_test_setup(test_host_without_history, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
