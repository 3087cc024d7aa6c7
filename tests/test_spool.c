/*
 * test_spool.c — exporters' spools in the real state database
 * (agent/spool.c): order, keys that stay the same across a reopen and are
 * never given twice, replacing, the byte budget and its counts, payloads
 * that survive a restart, instances kept apart, and pushes from threads
 * while the cycle's transaction holds the write lock; marks that survive
 * a restart, and a marked push that is both or neither.
 */
#include "agent.h"
#include "host.h"
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

static char dir[64];
static state *st;
static spool *sp;

static int setup(void **unused)
{
    snprintf(dir, sizeof(dir), "/tmp/tally-spool-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(state_open(dir, &st), 0);
    assert_int_equal(spool_open(dir, &sp), 0);
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **unused)
{
    spool_close(sp);
    state_close(st);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void push(const char *inst, const char *text, int mode, int64_t max, int64_t *seq,
                 int64_t *over)
{
    assert_int_equal(spool_push(sp, inst, inst, text, strlen(text), "json", mode, max, seq, over),
                     TALLY_HOST_OK);
}

/* The oldest payload's text and key; drops it when outcome >= 0. */
static void expect_head(const char *inst, const char *text, char key[64], int outcome)
{
    tally_spool_item it;
    assert_int_equal(spool_peek(sp, inst, &it), TALLY_HOST_OK);
    assert_int_equal(it.len, strlen(text));
    assert_string_equal(it.data, text); /* NUL terminated, for text payloads */
    assert_string_equal(it.meta, "json");
    if (key != NULL)
        memcpy(key, it.key, sizeof(it.key));
    if (outcome >= 0)
        assert_int_equal(spool_drop(sp, inst, it.seq, outcome), TALLY_HOST_OK);
    free(it.data);
    free(it.meta);
}

/* The instance's counts: {items, bytes, delivered, rejected, overflowed}. */
static void expect_stats(const char *inst, int64_t items, int64_t bytes, int64_t delivered,
                         int64_t rejected, int64_t overflowed)
{
    tally_spool_stats got;
    assert_int_equal(spool_stats(sp, inst, &got), TALLY_HOST_OK);
    assert_int_equal(got.items, items);
    assert_int_equal(got.bytes, bytes);
    assert_int_equal(got.delivered, delivered);
    assert_int_equal(got.rejected, rejected);
    assert_int_equal(got.overflowed, overflowed);
}

static void test_queue_order_and_keys(void **unused)
{
    int64_t s1, s2, s3;
    push("http.a", "one", TALLY_SPOOL_QUEUE, 0, &s1, NULL);
    push("http.a", "two", TALLY_SPOOL_QUEUE, 0, &s2, NULL);
    push("http.a", "three", TALLY_SPOOL_QUEUE, 0, &s3, NULL);
    assert_true(s1 < s2 && s2 < s3);
    char k1[64], again[64], k2[64];
    expect_head("http.a", "one", k1, -1);
    expect_head("http.a", "one", again, -1);
    assert_string_equal(k1, again); /* a retry sends the same key */
    /* "<32 hex digits>-<seq>" */
    char want[64];
    snprintf(want, sizeof(want), "-%lld", (long long)s1);
    assert_string_equal(k1 + 32, want);
    expect_head("http.a", "one", NULL, TALLY_SPOOL_DELIVERED);
    expect_head("http.a", "two", k2, TALLY_SPOOL_REJECTED);
    assert_string_not_equal(k1, k2);
    assert_memory_equal(k1, k2, 32); /* one instance, one id */

    /* Dropping what is gone already says so and counts nothing. */
    assert_int_equal(spool_drop(sp, "http.a", s1, TALLY_SPOOL_DELIVERED), TALLY_HOST_ENOENT);
    expect_stats("http.a", 1, 5, 1, 1, 0);

    /* Another instance has its own queue, id and counts. */
    tally_spool_item it;
    assert_int_equal(spool_peek(sp, "http.b", &it), TALLY_HOST_ENOENT);
    push("http.b", "b1", TALLY_SPOOL_QUEUE, 0, NULL, NULL);
    char kb[64];
    expect_head("http.b", "b1", kb, TALLY_SPOOL_DELIVERED);
    assert_memory_not_equal(kb, k1, 32);
    expect_stats("http.b", 0, 0, 1, 0, 0);
    /* An instance that never spooled has all zeros. */
    expect_stats("http.none", 0, 0, 0, 0, 0);

    /* Emptied, then reopened (a restart): numbering goes on, never
     * giving a key twice, and what was left is still there. */
    expect_head("http.a", "three", k2, -1);
    spool_close(sp);
    state_close(st);
    assert_int_equal(state_open(dir, &st), 0);
    assert_int_equal(spool_open(dir, &sp), 0);
    expect_head("http.a", "three", again, TALLY_SPOOL_DELIVERED);
    assert_string_equal(k2, again);
    int64_t s4;
    push("http.a", "four", TALLY_SPOOL_QUEUE, 0, &s4, NULL);
    assert_true(s4 > s3);
}

static void test_replace(void **unused)
{
    int64_t seq, over = -1;
    push("http.p", "old1", TALLY_SPOOL_QUEUE, 0, NULL, NULL);
    push("http.p", "old2", TALLY_SPOOL_QUEUE, 0, NULL, NULL);
    push("http.p", "newest", TALLY_SPOOL_REPLACE, 0, &seq, &over);
    assert_int_equal(over, 0); /* replaced, not overflowed */
    expect_head("http.p", "newest", NULL, TALLY_SPOOL_DELIVERED);
    tally_spool_item it;
    assert_int_equal(spool_peek(sp, "http.p", &it), TALLY_HOST_ENOENT);
    expect_stats("http.p", 0, 0, 1, 0, 0);
}

static void test_budget(void **unused)
{
    int64_t over = -1;
    /* 10 bytes each, 35 allowed: the fourth push drops the first. */
    push("http.q", "payload-01", TALLY_SPOOL_QUEUE, 35, NULL, &over);
    push("http.q", "payload-02", TALLY_SPOOL_QUEUE, 35, NULL, &over);
    push("http.q", "payload-03", TALLY_SPOOL_QUEUE, 35, NULL, &over);
    assert_int_equal(over, 0);
    push("http.q", "payload-04", TALLY_SPOOL_QUEUE, 35, NULL, &over);
    assert_int_equal(over, 1);
    /* 25 bytes need the room of three. */
    push("http.q", "payload-05-is-much-longer", TALLY_SPOOL_QUEUE, 35, NULL, &over);
    assert_int_equal(over, 2);
    expect_stats("http.q", 2, 35, 0, 0, 3);
    tally_spool_stats stats;
    assert_int_equal(spool_stats(sp, "http.q", &stats), TALLY_HOST_OK);
    assert_int_equal(stats.overflowed_bytes, 30);
    /* Larger than the whole budget: refused, counted, the rest kept. */
    const char *big = "a payload of more than thirty-five bytes";
    assert_int_equal(spool_push(sp, "http.q", "test", big, strlen(big), "json", TALLY_SPOOL_QUEUE,
                                35, NULL, &over),
                     TALLY_HOST_ERR);
    assert_int_equal(over, 1);
    expect_stats("http.q", 2, 35, 0, 0, 4);
    expect_head("http.q", "payload-04", NULL, TALLY_SPOOL_DELIVERED);
    expect_head("http.q", "payload-05-is-much-longer", NULL, TALLY_SPOOL_DELIVERED);
}

/* ---- threads while a cycle holds the write lock ---- */

#define N_THREADS 4
#define N_PUSHES 25

static void *pusher(void *arg)
{
    char inst[32], text[32];
    snprintf(inst, sizeof(inst), "http.t%d", (int)(intptr_t)arg);
    for (int i = 0; i < N_PUSHES; i++) {
        snprintf(text, sizeof(text), "%d", i);
        if (spool_push(sp, inst, inst, text, strlen(text), "json", TALLY_SPOOL_QUEUE, 0, NULL,
                       NULL) != TALLY_HOST_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_wait_for_the_cycle(void **unused)
{
    /* The cycle's transaction on the main connection: pushes wait for its
     * commit (busy timeout) instead of failing. */
    assert_int_equal(state_begin(st), 0);
    assert_int_equal(state_kv_put(st, "cycle", "k", "v"), 0);
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, pusher, (void *)(intptr_t)i), 0);
    usleep(100000);
    assert_int_equal(state_commit(st), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    for (int i = 0; i < N_THREADS; i++) {
        char inst[32], text[32];
        snprintf(inst, sizeof(inst), "http.t%d", i);
        for (int k = 0; k < N_PUSHES; k++) {
            snprintf(text, sizeof(text), "%d", k);
            expect_head(inst, text, NULL, TALLY_SPOOL_DELIVERED);
        }
    }
}

/* ---- marks ---- */

/* An exporter instance's host, as the agent makes it. */
static struct tally_host *exporter(const char *instance)
{
    static agent a;
    static struct tally_host h;
    a.spool = sp;
    memset(&h, 0, sizeof(h));
    h.agent = &a;
    snprintf(h.instance, sizeof(h.instance), "%s", instance);
    snprintf(h.who, sizeof(h.who), "test \"%s\"", instance);
    return &h;
}

static void expect_mark(struct tally_host *h, const char *name, const char *want)
{
    char *got = (char *)1;
    if (want == NULL) {
        assert_int_equal(host_api.mark_get(h, name, &got), TALLY_HOST_ENOENT);
        assert_null(got);
        return;
    }
    assert_int_equal(host_api.mark_get(h, name, &got), TALLY_HOST_OK);
    assert_string_equal(got, want);
    free(got);
}

static void test_marks_survive_a_restart(void **unused)
{
    struct tally_host *h = exporter("sql.dash");
    expect_mark(h, "delivered", NULL);
    assert_int_equal(host_api.mark_put(h, "delivered", "ab12:1"), TALLY_HOST_OK);
    assert_int_equal(host_api.mark_put(h, "delivered", "ab12:2"), TALLY_HOST_OK);
    assert_int_equal(host_api.mark_put(h, "other", ""), TALLY_HOST_OK);
    expect_mark(h, "delivered", "ab12:2");
    expect_mark(h, "other", "");
    /* Another instance's marks are its own. */
    expect_mark(exporter("sql.other"), "delivered", NULL);

    spool_close(sp);
    state_close(st);
    assert_int_equal(state_open(dir, &st), 0);
    assert_int_equal(spool_open(dir, &sp), 0);
    h = exporter("sql.dash");
    expect_mark(h, "delivered", "ab12:2");
    expect_mark(h, "other", "");

    /* Names and values a mark cannot have. */
    char *v = NULL;
    char longer[SPOOL_MARK_VALUE_MAX + 2];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(host_api.mark_get(h, NULL, &v), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.mark_get(h, "", &v), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.mark_get(h, "x", NULL), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.mark_put(h, "x", NULL), TALLY_HOST_EINVAL);
    assert_int_equal(host_api.mark_put(h, "x", longer), TALLY_HOST_EINVAL);
    longer[SPOOL_MARK_NAME_MAX + 1] = '\0';
    assert_int_equal(host_api.mark_put(h, longer, "1"), TALLY_HOST_EINVAL);
    expect_mark(h, "x", NULL);
}

/* A trigger makes the mark's write fail inside the push's transaction,
 * after the payload went in. */
static void fail_marks_named(const char *name)
{
    char path[128], sql[256];
    snprintf(path, sizeof(path), "%s/tally.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "CREATE TRIGGER fail_mark BEFORE INSERT ON export_marks WHEN NEW.name = '%s' "
             "BEGIN SELECT RAISE(ABORT, 'the test fails this mark'); END",
             name);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_push_marked_both_or_neither(void **unused)
{
    struct tally_host *h = exporter("http.m");
    int64_t seq = 0, over = -1;
    assert_int_equal(host_api.spool_push_marked(h, "one", 3, "json", TALLY_SPOOL_QUEUE, 0, "sent",
                                                "id:1", &seq, &over),
                     TALLY_HOST_OK);
    assert_true(seq > 0);
    assert_int_equal(over, 0);
    expect_mark(h, "sent", "id:1");
    expect_stats("http.m", 1, 3, 0, 0, 0);

    /* The mark cannot be written: the payload is not spooled either. */
    fail_marks_named("broken");
    assert_int_equal(host_api.spool_push_marked(h, "two", 3, "json", TALLY_SPOOL_QUEUE, 0, "broken",
                                                "id:2", &seq, &over),
                     TALLY_HOST_ERR);
    expect_stats("http.m", 1, 3, 0, 0, 0);
    expect_mark(h, "broken", NULL);
    /* Nor does a REPLACE that fails take the queue away. */
    assert_int_equal(host_api.spool_push_marked(h, "three", 5, "json", TALLY_SPOOL_REPLACE, 0,
                                                "broken", "id:3", &seq, &over),
                     TALLY_HOST_ERR);
    expect_stats("http.m", 1, 3, 0, 0, 0);

    /* Too large for max_bytes: not kept (counted), and not marked. */
    assert_int_equal(host_api.spool_push_marked(h, "a long payload", 14, "json", TALLY_SPOOL_QUEUE,
                                                10, "sent", "id:4", &seq, &over),
                     TALLY_HOST_ERR);
    assert_int_equal(over, 1);
    expect_mark(h, "sent", "id:1");
    expect_stats("http.m", 1, 3, 0, 0, 1);

    /* The next good one: both, and the queue keeps its order. */
    assert_int_equal(host_api.spool_push_marked(h, "five", 4, "json", TALLY_SPOOL_QUEUE, 0, "sent",
                                                "id:5", NULL, NULL),
                     TALLY_HOST_OK);
    expect_mark(h, "sent", "id:5");
    expect_head("http.m", "one", NULL, TALLY_SPOOL_DELIVERED);
    expect_head("http.m", "five", NULL, TALLY_SPOOL_DELIVERED);

    /* Bad arguments change nothing. */
    assert_int_equal(
        host_api.spool_push_marked(h, "x", 1, "json", TALLY_SPOOL_QUEUE, 0, NULL, "v", NULL, NULL),
        TALLY_HOST_EINVAL);
    assert_int_equal(
        host_api.spool_push_marked(h, "x", 1, "json", TALLY_SPOOL_QUEUE, 0, "n", NULL, NULL, NULL),
        TALLY_HOST_EINVAL);
    assert_int_equal(host_api.spool_push_marked(h, "x", 1, "json", 7, 0, "n", "v", NULL, NULL),
                     TALLY_HOST_EINVAL);
    expect_stats("http.m", 0, 0, 2, 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_order_and_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_wait_for_the_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks_survive_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_marked_both_or_neither, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
