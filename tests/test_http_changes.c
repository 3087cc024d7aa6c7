/*
 * test_http_changes.c — what the http exporter's json and influx payloads
 * list of the two long lists (user-days, daily counter totals), through
 * the mock host's history rows and marks, delivered to the test receiver:
 * over a run of cycles every change arrives exactly once, a late row for
 * a closed day included; skipped snapshots are caught up from the
 * history; a payload whose mark cannot be written is not spooled, and a
 * history read that fails pushes nothing, and the next payload covers
 * both; a restart against a dead receiver sends nothing twice; a payload
 * refused for good or pushed out of a full spool makes the next one list
 * everything; history = "all" lists everything every time. The X-Tally-*
 * headers say what each payload covers.
 */
#include "http_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_ID "0123456789abcdef0123456789abcdef"
#define MAX_ROWS 16
#define BASE_NOW 1795316400 /* 2026-11-22T03:00:00Z */

/* The agent's state as far as the exporter sees it: the rows of the two
 * lists, each with the seq of the cycle that last changed it, and the
 * snapshot of the last committed cycle. */
typedef struct world {
    tally_user_day_stats ud[MAX_ROWS];
    int64_t ud_seq[MAX_ROWS];
    size_t n_ud;
    tally_counter_day cd[MAX_ROWS];
    int64_t cd_seq[MAX_ROWS];
    size_t n_cd;
    int64_t seq;
    tally_user_day_stats changed_ud[MAX_ROWS];
    tally_counter_day changed_cd[MAX_ROWS];
    tally_snapshot snap;
} world;

/* Row i of the list is at or after (date, key) in the list's order. */
static int row_cmp(const char *date, const char *key, const char *row_date, const char *row_key)
{
    int c = strcmp(date, row_date);
    return c != 0 ? c : strcmp(key, row_key);
}

/* A user-day changed by the cycle under way (the next commit). */
static void set_user_day(world *w, const char *date, const char *user, int64_t requests)
{
    size_t i = 0;
    while (i < w->n_ud && row_cmp(date, user, w->ud[i].date, w->ud[i].user_id) > 0)
        i++;
    if (i == w->n_ud || row_cmp(date, user, w->ud[i].date, w->ud[i].user_id) != 0) {
        assert_true(w->n_ud < MAX_ROWS);
        memmove(&w->ud[i + 1], &w->ud[i], (w->n_ud - i) * sizeof(w->ud[0]));
        memmove(&w->ud_seq[i + 1], &w->ud_seq[i], (w->n_ud - i) * sizeof(w->ud_seq[0]));
        w->n_ud++;
        memset(&w->ud[i], 0, sizeof(w->ud[i]));
        snprintf(w->ud[i].date, sizeof(w->ud[i].date), "%s", date);
        w->ud[i].user_id = user;
    }
    w->ud[i].total_requests = requests;
    w->ud[i].success_requests = requests;
    w->ud_seq[i] = w->seq + 1;
}

/* A daily counter total changed by the cycle under way. */
static void set_counter_day(world *w, const char *date, const char *name, int64_t value)
{
    size_t i = 0;
    while (i < w->n_cd && row_cmp(date, name, w->cd[i].date, w->cd[i].name) > 0)
        i++;
    if (i == w->n_cd || row_cmp(date, name, w->cd[i].date, w->cd[i].name) != 0) {
        assert_true(w->n_cd < MAX_ROWS);
        memmove(&w->cd[i + 1], &w->cd[i], (w->n_cd - i) * sizeof(w->cd[0]));
        memmove(&w->cd_seq[i + 1], &w->cd_seq[i], (w->n_cd - i) * sizeof(w->cd_seq[0]));
        w->n_cd++;
        snprintf(w->cd[i].date, sizeof(w->cd[i].date), "%s", date);
        w->cd[i].name = name;
    }
    w->cd[i].value = value;
    w->cd_seq[i] = w->seq + 1;
}

/* Commit the cycle under way: its snapshot holds the rows it changed, and
 * h serves the whole state as history. */
static const tally_snapshot *commit(world *w, tally_host *h)
{
    w->seq++;
    tally_snapshot *s = &w->snap;
    memset(s, 0, sizeof(*s));
    s->timezone = "UTC";
    s->now_utc = s->generated_utc = BASE_NOW + 60 * w->seq;
    s->summary.cutoff_utc = BASE_NOW - 3 * 3600;
    s->seq = w->seq;
    s->changed_after = w->seq - 1;
    snprintf(s->state_id, sizeof(s->state_id), "%s", STATE_ID);
    snprintf(s->oldest_kept, sizeof(s->oldest_kept), "2026-10-01");
    for (size_t i = 0; i < w->n_ud; i++)
        if (w->ud_seq[i] == w->seq)
            w->changed_ud[s->n_user_days++] = w->ud[i];
    for (size_t i = 0; i < w->n_cd; i++)
        if (w->cd_seq[i] == w->seq)
            w->changed_cd[s->n_counter_days++] = w->cd[i];
    s->user_days = w->changed_ud;
    s->counter_days = w->changed_cd;
    mock_host_set_history(h, w->ud, w->ud_seq, w->n_ud, w->cd, w->cd_seq, w->n_cd);
    return s;
}

/* One test's receiver, host, http instance and agent state. */
typedef struct rig {
    receiver r;
    tally_host *h;
    mock_host_instance in;
    world w;
} rig;

/* A json instance on t's host sending to 127.0.0.1:port, with more
 * options. */
static void rig_open(rig *t, int port, const char *more)
{
    char body[512];
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/in\" retry_wait = 0.01 timeout = 5 format = \"json\" %s",
             port, more);
    inst_open(&t->in, t->h, body);
}

/* A receiver named name answering by plan, and an instance sending to it
 * (none with more NULL). */
static void rig_start(rig *t, const char *name, const char *plan, const char *more)
{
    memset(t, 0, sizeof(*t));
    t->h = mock_host_new();
    receiver_start(&t->r, name, plan);
    if (more != NULL)
        rig_open(t, t->r.port, more);
}

/* Commit the cycle under way and export its snapshot. */
static int export(rig *t)
{
    return http_plugin->exporter.export_snapshot(t->in.ctx, commit(&t->w, t->h));
}

/* Once everything is delivered, stop the instance and the receiver; what
 * the receiver got (json_decref it). */
static json_t *rig_finish(rig *t)
{
    wait_delivered(t->h);
    mock_host_stop(&t->in);
    receiver_stop(&t->r);
    return receiver_log(&t->r);
}

/* The user-days and counter_days of request i's JSON body, in order, as
 * "u DATE USER REQUESTS; c DATE NAME VALUE; ". */
static char *listed(json_t *all, size_t i)
{
    json_error_t err;
    json_t *doc = json_loads(rec_str(all, i, "body"), 0, &err);
    if (doc == NULL)
        fail_msg("request %zu: the body is not JSON: %s", i, err.text);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    size_t k;
    json_t *row;
    json_array_foreach(json_object_get(doc, "user_days"), k, row)
        fprintf(f, "u %s %s %lld; ", json_string_value(json_object_get(row, "date")),
                json_string_value(json_object_get(row, "user_id")),
                (long long)json_integer_value(json_object_get(row, "total_requests")));
    json_array_foreach(json_object_get(doc, "counter_days"), k, row)
        fprintf(f, "c %s %s %lld; ", json_string_value(json_object_get(row, "date")),
                json_string_value(json_object_get(row, "name")),
                (long long)json_integer_value(json_object_get(row, "value")));
    fclose(f);
    json_decref(doc);
    return out;
}

/* Request i was accepted (first time its key was), covers the rows
 * changed after `after` up to `seq`, and lists rows. */
static void expect_payload(json_t *all, size_t i, const char *after, const char *seq,
                           const char *rows)
{
    json_t *rec = json_array_get(all, i);
    if (rec == NULL)
        fail_msg("request %zu never came", i);
    assert_true(json_is_true(json_object_get(rec, "accepted")));
    assert_string_equal(rec_header(all, i, "x-tally-state"), STATE_ID);
    assert_string_equal(rec_header(all, i, "x-tally-changed-after"), after);
    assert_string_equal(rec_header(all, i, "x-tally-seq"), seq);
    char *got = listed(all, i);
    if (strcmp(got, rows) != 0)
        fail_msg("request %zu lists \"%s\", not \"%s\"", i, got, rows);
    free(got);
}

static void test_each_change_once(void **state)
{
    rig t;
    rig_start(&t, "once", "", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    set_counter_day(&t.w, "2026-11-20", "n", 100);
    assert_int_equal(export(&t), 0);
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    set_counter_day(&t.w, "2026-11-21", "n", 50);
    assert_int_equal(export(&t), 0);
    /* A late row for a closed day: that day's row again, once. */
    set_user_day(&t.w, "2026-11-20", "u1", 6);
    assert_int_equal(export(&t), 0);
    /* Nothing changed: the small part still goes (today moves). */
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 4);
    expect_payload(all, 0, "0", "1", "u 2026-11-20 u1 5; u 2026-11-20 u2 7; c 2026-11-20 n 100; ");
    expect_payload(all, 1, "1", "2", "u 2026-11-21 u3 1; c 2026-11-21 n 50; ");
    expect_payload(all, 2, "2", "3", "u 2026-11-20 u1 6; ");
    expect_payload(all, 3, "3", "4", "");
    json_decref(all);
    assert_string_equal(mock_host_mark(t.h, "spooled"), STATE_ID ":4");
    /* Each mark was the snapshot before: the arrays sufficed. */
    assert_null(mock_host_log_find(t.h, "read from the state's history"));
    mock_host_free(t.h);
}

static void test_skipped_snapshots_caught_up(void **state)
{
    rig t;
    rig_start(&t, "skipped", "", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    /* A snapshot replaced before the exporter took it. */
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    set_counter_day(&t.w, "2026-11-20", "n", 10);
    commit(&t.w, t.h);
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    assert_int_equal(export(&t), 0);
    /* Changed twice while skipped: its last value, once. */
    set_user_day(&t.w, "2026-11-20", "u2", 8);
    commit(&t.w, t.h);
    set_user_day(&t.w, "2026-11-20", "u2", 9);
    commit(&t.w, t.h);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    expect_payload(all, 0, "0", "1", "u 2026-11-20 u1 5; ");
    expect_payload(all, 1, "1", "3", "u 2026-11-20 u2 7; u 2026-11-21 u3 1; c 2026-11-20 n 10; ");
    expect_payload(all, 2, "3", "6", "u 2026-11-20 u2 9; ");
    json_decref(all);
    assert_int_equal(mock_host_history_open_count(t.h), 0);
    assert_non_null(mock_host_log_find(t.h, "the last payload spooled was of seq 3"));
    mock_host_free(t.h);
}

static void test_unmarked_push_leaves_nothing(void **state)
{
    rig t;
    rig_start(&t, "unmarked", "", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    wait_delivered(t.h);
    /* The mark cannot be written: the payload is not kept either. */
    mock_host_fail_marks(t.h, true);
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    assert_int_equal(export(&t), TALLY_HOST_ERR);
    assert_int_equal(mock_host_spool_items(t.h), 0);
    assert_string_equal(mock_host_mark(t.h, "spooled"), STATE_ID ":1");
    assert_non_null(mock_host_log_find(t.h, "the payload of seq 2"));
    assert_non_null(mock_host_log_find(t.h, "the next cycle's payload covers its changes"));
    mock_host_fail_marks(t.h, false);
    /* The next one covers both cycles. */
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 2);
    expect_payload(all, 0, "0", "1", "u 2026-11-20 u1 5; ");
    expect_payload(all, 1, "1", "3", "u 2026-11-20 u2 7; u 2026-11-21 u3 1; ");
    json_decref(all);
    assert_string_equal(mock_host_mark(t.h, "spooled"), STATE_ID ":3");
    mock_host_free(t.h);
}

static void test_history_failure_pushes_nothing(void **state)
{
    rig t;
    rig_start(&t, "histfail", "", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    wait_delivered(t.h);
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    commit(&t.w, t.h);
    /* The history (needed: seq 2 was skipped) fails after its first page. */
    mock_host_fail_history_after(t.h, 1);
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    assert_int_equal(export(&t), TALLY_HOST_ERR);
    assert_int_equal(mock_host_spool_items(t.h), 0);
    assert_int_equal(mock_host_history_open_count(t.h), 0);
    assert_string_equal(mock_host_mark(t.h, "spooled"), STATE_ID ":1");
    assert_non_null(mock_host_log_find(t.h, "cannot render the snapshot of seq 3"));
    mock_host_fail_history_after(t.h, -1);
    set_counter_day(&t.w, "2026-11-21", "n", 3);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 2);
    expect_payload(all, 0, "0", "1", "u 2026-11-20 u1 5; ");
    expect_payload(all, 1, "1", "4", "u 2026-11-20 u2 7; u 2026-11-21 u3 1; c 2026-11-21 n 3; ");
    json_decref(all);
    mock_host_free(t.h);
}

static void test_restart_while_down_sends_once(void **state)
{
    int dead = receiver_dead_port();
    rig t;
    rig_start(&t, "restart", "", NULL);
    rig_open(&t, dead, "max_retries = 0");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    set_counter_day(&t.w, "2026-11-20", "n", 1);
    assert_int_equal(export(&t), 0);
    mock_host_stop(&t.in);
    assert_int_equal(mock_host_spool_items(t.h), 2);

    /* Started again (spool and mark kept), the receiver there: what
     * waited goes first, and the next payload repeats none of it. */
    rig_open(&t, t.r.port, "");
    wait_delivered(t.h);
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    expect_payload(all, 0, "0", "1", "u 2026-11-20 u1 5; ");
    expect_payload(all, 1, "1", "2", "u 2026-11-20 u2 7; c 2026-11-20 n 1; ");
    expect_payload(all, 2, "2", "3", "u 2026-11-21 u3 1; ");
    json_decref(all);
    mock_host_free(t.h);
}

static void test_refused_payload_resyncs(void **state)
{
    rig t;
    rig_start(&t, "refused", "400", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    wait_delivered(t.h);
    /* Refused for good: its rows are lost to the receiver, so the next
     * payload lists every row. */
    assert_string_equal(mock_host_mark(t.h, "spooled"), "resync");
    assert_non_null(mock_host_log_find(t.h, "was refused for good (HTTP 400"));
    set_user_day(&t.w, "2026-11-21", "u2", 7);
    assert_int_equal(export(&t), 0);
    wait_delivered(t.h);
    set_user_day(&t.w, "2026-11-21", "u3", 1);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 0), "status")), 400);
    expect_payload(all, 1, "0", "2", "u 2026-11-20 u1 5; u 2026-11-21 u2 7; ");
    expect_payload(all, 2, "2", "3", "u 2026-11-21 u3 1; ");
    json_decref(all);
    mock_host_free(t.h);
}

static void test_full_spool_resyncs(void **state)
{
    int dead = receiver_dead_port();
    rig t;
    rig_start(&t, "full", "", NULL);
    rig_open(&t, dead, "max_retries = 0");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    tally_spool_stats st;
    assert_int_equal(mock_host_api()->spool_stats(t.h, &st), 0);
    mock_host_stop(&t.in);
    /* Room for two payloads of this size, not three. */
    char more[128];
    snprintf(more, sizeof(more), "max_retries = 0 spool_max_bytes = %lld",
             (long long)(st.bytes * 5 / 2));
    rig_open(&t, dead, more);
    set_user_day(&t.w, "2026-11-20", "u2", 7);
    assert_int_equal(export(&t), 0);
    assert_string_equal(mock_host_mark(t.h, "spooled"), STATE_ID ":2");
    set_user_day(&t.w, "2026-11-20", "u3", 1);
    assert_int_equal(export(&t), 0);
    assert_int_equal(mock_host_spool_items(t.h), 2);
    assert_string_equal(mock_host_mark(t.h, "spooled"), "resync");
    assert_non_null(mock_host_log_find(t.h, "1 payload(s) pushed out of the full spool"));
    mock_host_stop(&t.in);

    rig_open(&t, t.r.port, "");
    wait_delivered(t.h);
    set_user_day(&t.w, "2026-11-21", "u4", 2);
    assert_int_equal(export(&t), 0);

    /* Seq 1's payload was lost; seq 4's lists everything again. */
    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    expect_payload(all, 0, "1", "2", "u 2026-11-20 u2 7; ");
    expect_payload(all, 1, "2", "3", "u 2026-11-20 u3 1; ");
    expect_payload(all, 2, "0", "4",
                   "u 2026-11-20 u1 5; u 2026-11-20 u2 7; u 2026-11-20 u3 1; u 2026-11-21 u4 2; ");
    json_decref(all);
    mock_host_free(t.h);
}

/* How many lines of body start with prefix. */
static int lines_starting(const char *body, const char *prefix)
{
    int n = 0;
    for (const char *p = body; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

static void test_history_all_lists_everything(void **state)
{
    rig t;
    rig_start(&t, "all", "", NULL);
    char body[256];
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/in\" format = \"influx\" history = \"all\"", t.r.port);
    inst_open(&t.in, t.h, body);
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    set_counter_day(&t.w, "2026-11-20", "n", 4);
    assert_int_equal(export(&t), 0);
    set_user_day(&t.w, "2026-11-21", "u2", 7);
    assert_int_equal(export(&t), 0);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    static const int user_days[] = {1, 2, 2};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(rec_header(all, i, "x-tally-changed-after"), "0");
        assert_int_equal(lines_starting(rec_str(all, i, "body"), "tally_user_day,"), user_days[i]);
        assert_int_equal(lines_starting(rec_str(all, i, "body"), "tally_counter_day,"), 1);
    }
    assert_string_equal(rec_header(all, 2, "x-tally-seq"), "3");
    json_decref(all);
    mock_host_free(t.h);
}

/* A new state (a new state_dir) counts its seqs from 1 again: a mark of
 * the old one, whatever its seq, says nothing about it. */
static void test_new_state_lists_everything(void **state)
{
    rig t;
    rig_start(&t, "newstate", "", "");
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);
    assert_int_equal(export(&t), 0);
    world fresh = {0};
    set_user_day(&fresh, "2026-11-20", "v1", 1);
    commit(&fresh, t.h);
    set_user_day(&fresh, "2026-11-21", "v2", 2);
    tally_snapshot *s = (tally_snapshot *)commit(&fresh, t.h);
    snprintf(s->state_id, sizeof(s->state_id), "fedcba9876543210fedcba9876543210");
    assert_int_equal(http_plugin->exporter.export_snapshot(t.in.ctx, s), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 3);
    assert_string_equal(rec_header(all, 2, "x-tally-state"), "fedcba9876543210fedcba9876543210");
    assert_string_equal(rec_header(all, 2, "x-tally-changed-after"), "0");
    assert_string_equal(rec_header(all, 2, "x-tally-seq"), "2");
    char *got = listed(all, 2);
    assert_string_equal(got, "u 2026-11-20 v1 1; u 2026-11-21 v2 2; ");
    free(got);
    json_decref(all);
    assert_string_equal(mock_host_mark(t.h, "spooled"), "fedcba9876543210fedcba9876543210:2");
    mock_host_free(t.h);
}

/* Prometheus lists no history: no mark, no X-Tally-* headers. */
static void test_prometheus_unchanged(void **state)
{
    rig t;
    rig_start(&t, "prom", "", NULL);
    char body[256];
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/metrics/job/t\" format = \"prometheus\"", t.r.port);
    inst_open(&t.in, t.h, body);
    set_user_day(&t.w, "2026-11-20", "u1", 5);
    assert_int_equal(export(&t), 0);

    json_t *all = rig_finish(&t);
    assert_int_equal(json_array_size(all), 1);
    assert_null(rec_header(all, 0, "x-tally-seq"));
    assert_null(mock_host_mark(t.h, "spooled"));
    json_decref(all);
    mock_host_free(t.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_change_once),
        cmocka_unit_test(test_skipped_snapshots_caught_up),
        cmocka_unit_test(test_unmarked_push_leaves_nothing),
        cmocka_unit_test(test_history_failure_pushes_nothing),
        cmocka_unit_test(test_restart_while_down_sends_once),
        cmocka_unit_test(test_refused_payload_resyncs),
        cmocka_unit_test(test_full_spool_resyncs),
        cmocka_unit_test(test_history_all_lists_everything),
        cmocka_unit_test(test_new_state_lists_everything),
        cmocka_unit_test(test_prometheus_unchanged),
    };
    return cmocka_run_group_tests_name("http exporter: changes", tests, http_test_setup,
                                       http_test_teardown);
}
