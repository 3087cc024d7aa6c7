/*
 * test_shm_memory.c — what attaching to a region costs this process: in
 * proportion to the counters it uses, not to the region's capacity. A
 * maximum-capacity region once cost 128 MiB of handles on every attach,
 * and `tally list` reached 656 MB.
 */
#include "layout.h"
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* Peak resident set so far, in KiB (Linux reports ru_maxrss in KiB). */
static long peak_rss_kib(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* In a child: its peak starts at what it shares with the parent now, so
 * the creator's own cost (the parent's) does not hide the attach's. */
static int attach_and_use(void *arg, int index)
{
    const char *path = arg;
    long before = peak_rss_kib();
    tally_open_opts nocreate = {.flags = TALLY_OPEN_NOCREATE};
    tally_region *r = NULL;
    if (tally_open(&r, path, &nocreate) != 0)
        return 10;
    const char *names[] = {"a", "b", "c.d", "e.f.g"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        tally_counter *c = NULL;
        if (tally_counter_get(r, names[i], &c) != 0)
            return 11;
        tally_add(c, 2);
        if (tally_value(c) != (i == 0 ? 3 : 2))
            return 12;
    }
    if (tally_add_name(r, "h", 4) != 0)
        return 13;
    long grown = peak_rss_kib() - before;
    tally_close(r);
    /* Handles for every slot of this region are 128 MiB; a few counters
     * need a few pages of the region and one chunk of handles. */
    if (grown >= 16 * 1024) {
        fprintf(stderr,
                "attaching to a maximum-capacity region and using 5 counters raised the peak "
                "RSS by %ld KiB\n",
                grown);
        return 1;
    }
    return 0;
}

static void test_attach_max_capacity(void **state)
{
    static char path[256];
    tu_path(path, sizeof(path), "max");
    tally_open_opts o = {.capacity = TALLY_MAX_CAPACITY};
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &o), 0);
    assert_int_equal(tally_add_name(r, "a", 1), 0);
    tally_close(r);
    pid_t child = tu_fork(attach_and_use, path, 0);
    assert_int_equal(tu_wait_all(&child, 1), 0);
}

/* A handle stays where it was handed out, in any chunk. */
static void test_handles_stable(void **state)
{
    char path[256];
    tally_open_opts o = {.capacity = 8 * HANDLE_CHUNK};
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "stable"), &o), 0);
    tally_counter *first[64], *again;
    char name[32];
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "n.%d", i);
        assert_int_equal(tally_counter_get(r, name, &first[i]), 0);
        tally_add(first[i], i);
    }
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "n.%d", i);
        assert_int_equal(tally_counter_find(r, name, &again), 0);
        assert_ptr_equal(again, first[i]);
        assert_int_equal(tally_value(again), i);
    }
    tally_close(r);
}

struct racer {
    tally_region *r;
    tally_counter *got[32];
};

static void *race_handles(void *arg)
{
    struct racer *x = arg;
    char name[32];
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "race.%d", i);
        if (tally_counter_get(x->r, name, &x->got[i]) != 0)
            x->got[i] = NULL;
        else
            tally_add(x->got[i], 1);
    }
    return NULL;
}

/* Threads that ask for handles of one new chunk at once all get the same
 * handles: one chunk is published, the others' are freed. */
static void test_handles_raced(void **state)
{
    char path[256];
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "race"), NULL), 0);
    struct racer x[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        x[i].r = r;
        assert_int_equal(pthread_create(&t[i], NULL, race_handles, &x[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int k = 0; k < 32; k++) {
        assert_non_null(x[0].got[k]);
        for (int i = 1; i < 4; i++)
            assert_ptr_equal(x[i].got[k], x[0].got[k]);
        assert_int_equal(tally_value(x[0].got[k]), 4);
    }
    tally_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_max_capacity),
        cmocka_unit_test(test_handles_stable),
        cmocka_unit_test(test_handles_raced),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
