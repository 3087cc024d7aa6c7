/*
 * test_shm_counter_call.c — the exported, non-inline counter calls that
 * FFI callers use (tally_counter_add, tally_counter_reset): exact sums from
 * many threads, reset while they add losing nothing, and their return codes
 * for a NULL handle and for a handle of a read-only attach.
 */
#include "layout.h"
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WRITERS 4

static long scaled(long n)
{
    const char *s = getenv("TALLY_TEST_SCALE");
    long div = s ? atol(s) : 1;
    return div > 1 ? n / div : n;
}

static tally_region *open_scratch(const char *leaf)
{
    char path[256];
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), leaf), NULL), 0);
    return r;
}

static void test_add_and_reset_return_zero_and_count(void **state)
{
    tally_region *r = open_scratch("calls");
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_get(r, "calls.n", &c), 0);
    assert_int_equal(tally_counter_add(c, 5), 0);
    assert_int_equal(tally_counter_add(c, -2), 0);
    assert_int_equal(tally_counter_add(c, INT64_C(1) << 40), 0);
    assert_int_equal(tally_value(c), 3 + (INT64_C(1) << 40));

    int64_t old = -1;
    assert_int_equal(tally_counter_reset(c, &old), 0);
    assert_int_equal(old, 3 + (INT64_C(1) << 40));
    assert_int_equal(tally_value(c), 0);
    /* The old value is optional. */
    assert_int_equal(tally_counter_add(c, 7), 0);
    assert_int_equal(tally_counter_reset(c, NULL), 0);
    assert_int_equal(tally_value(c), 0);

    /* Values wrap as the inline add does. */
    assert_int_equal(tally_counter_add(c, INT64_MAX), 0);
    assert_int_equal(tally_counter_add(c, 1), 0);
    assert_int_equal(tally_value(c), INT64_MIN);
    tally_close(r);
}

static void test_null_handle_is_einval(void **state)
{
    int64_t old = 99;
    assert_int_equal(tally_counter_add(NULL, 1), TALLY_EINVAL);
    assert_int_equal(tally_counter_reset(NULL, &old), TALLY_EINVAL);
    assert_int_equal(old, 0);
    assert_int_equal(tally_counter_reset(NULL, NULL), TALLY_EINVAL);
}

/* A read-only attach (TALLY_OPEN_RDONLY) gives its handles the flag the
 * exported calls refuse writes by; the inline add would fault instead. */
static void test_readonly_handle_refuses_writes(void **state)
{
    tally_region *rw = open_scratch("ro");
    tally_region *ro = NULL;
    char path[256];
    tally_open_opts o = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&ro, tu_path(path, sizeof(path), "ro"), &o), 0);
    tally_counter *w = NULL, *c = NULL;
    assert_int_equal(tally_counter_get(rw, "ro.n", &w), 0);
    assert_int_equal(tally_counter_add(w, 41), 0);
    assert_int_equal(tally_counter_find(ro, "ro.n", &c), 0);
    assert_true(c->flags & TALLY__COUNTER_RDONLY);
    assert_false(w->flags & TALLY__COUNTER_RDONLY);

    assert_int_equal(tally_counter_add(c, 1), TALLY_ERDONLY);
    int64_t old = 99;
    assert_int_equal(tally_counter_reset(c, &old), TALLY_ERDONLY);
    assert_int_equal(old, 0);
    assert_int_equal(tally_value(c), 41);
    assert_int_equal(tally_value(w), 41);
    assert_non_null(strstr(tally_strerror(TALLY_ERDONLY), "read-only"));
    tally_close(ro);
    tally_close(rw);
}

struct race {
    tally_counter *c;
    long iters;
    _Atomic int writers_done;
    _Atomic int64_t taken;
    _Atomic long resets;
    _Atomic int failed;
};

static void *writer(void *arg)
{
    struct race *job = arg;
    for (long i = 0; i < job->iters; i++) {
        /* Halfway, wait for a first reset, so adds and resets overlap even
         * when the resetter gets a core late. */
        if (i == job->iters / 2)
            while (atomic_load(&job->resets) == 0)
                sched_yield();
        if (tally_counter_add(job->c, (i % 3) + 1) != 0)
            atomic_store(&job->failed, 1);
    }
    atomic_fetch_add(&job->writers_done, 1);
    return NULL;
}

static void *resetter(void *arg)
{
    struct race *job = arg;
    while (atomic_load(&job->writers_done) < WRITERS) {
        int64_t old = 0;
        if (tally_counter_reset(job->c, &old) != 0)
            atomic_store(&job->failed, 1);
        atomic_fetch_add(&job->taken, old);
        atomic_fetch_add(&job->resets, 1);
    }
    return NULL;
}

static void test_threads_add_and_reset_exactly(void **state)
{
    tally_region *r = open_scratch("race");
    struct race job = {.iters = scaled(200000)};
    assert_int_equal(tally_counter_get(r, "race.n", &job.c), 0);
    pthread_t th[WRITERS + 1];
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, &job), 0);
    assert_int_equal(pthread_create(&th[WRITERS], NULL, resetter, &job), 0);
    for (int i = 0; i <= WRITERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    int64_t per_thread = 0;
    for (long i = 0; i < job.iters; i++)
        per_thread += (i % 3) + 1;
    assert_int_equal(atomic_load(&job.failed), 0);
    assert_true(atomic_load(&job.resets) > 0);
    assert_int_equal(atomic_load(&job.taken) + tally_value(job.c), per_thread * WRITERS);
    tally_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_reset_return_zero_and_count),
        cmocka_unit_test(test_null_handle_is_einval),
        cmocka_unit_test(test_readonly_handle_refuses_writes),
        cmocka_unit_test(test_threads_add_and_reset_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
