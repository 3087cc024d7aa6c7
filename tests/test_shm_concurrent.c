/*
 * test_shm_concurrent.c — real processes, each with threads, sharing one
 * region: every add counted exactly once, every name registered once
 * however many register it at the same instant, reset while writers run
 * losing nothing, and exactly one creator when many open a missing region.
 * Sizes shrink under TSan (TALLY_TEST_SCALE) but the assertions do not.
 */
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROCS 3
#define THREADS 4
#define NAMES 2000

static long scaled(long n)
{
    const char *s = getenv("TALLY_TEST_SCALE");
    long div = s ? atol(s) : 1;
    return div > 1 ? n / div : n;
}

struct exact_job {
    char path[256];
    long iters;
    struct tu_gate gate;
};

struct exact_thread {
    struct exact_job *job;
    tally_region *r;
    int proc, thread;
    int failed;
};

static void *exact_worker(void *arg)
{
    struct exact_thread *t = arg;
    char name[64];
    tally_counter *hot = NULL, *own = NULL, *c = NULL;
    snprintf(name, sizeof(name), "own.p%d.t%d", t->proc, t->thread);
    if (tally_counter_get(t->r, "hot", &hot) != 0 || tally_counter_get(t->r, name, &own) != 0) {
        t->failed = 1;
        return NULL;
    }
    /* Every thread of every process registers the same names, half of them
     * in the same order (to collide) and half in its own order. */
    int stride = (t->proc * THREADS + t->thread) % 2 ? 7 : 1;
    for (int i = 0; i < NAMES; i++) {
        snprintf(name, sizeof(name), "name.%04d", (i * stride) % NAMES);
        if (tally_counter_get(t->r, name, &c) != 0) {
            t->failed = 1;
            return NULL;
        }
        tally_add(c, 1);
    }
    for (long i = 0; i < t->job->iters; i++) {
        tally_add(hot, 1);
        tally_add(own, 3);
        if (i % 16 == 0 && tally_add_name(t->r, "byname", 2) != 0) {
            t->failed = 1;
            return NULL;
        }
    }
    return NULL;
}

static int exact_child(void *arg, int proc)
{
    struct exact_job *job = arg;
    tally_region *r = NULL;
    tally_open_opts o = {.capacity = 4096};
    if (tally_open(&r, job->path, &o) != 0)
        return 10;
    pthread_t th[THREADS];
    struct exact_thread ts[THREADS];
    tu_gate_wait(&job->gate);
    for (int i = 0; i < THREADS; i++) {
        ts[i] = (struct exact_thread){.job = job, .r = r, .proc = proc, .thread = i};
        pthread_create(&th[i], NULL, exact_worker, &ts[i]);
    }
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failed |= ts[i].failed;
    }
    tally_close(r);
    return failed ? 11 : 0;
}

struct census {
    int names[NAMES];
    int others;
    int64_t name_values_wrong;
};

static int take_census(const char *name, int64_t value, void *arg)
{
    struct census *c = arg;
    int idx;
    if (sscanf(name, "name.%d", &idx) == 1 && idx >= 0 && idx < NAMES) {
        c->names[idx]++;
        if (value != PROCS * THREADS)
            c->name_values_wrong++;
    } else {
        c->others++;
    }
    return 0;
}

static void test_every_add_counted_every_name_once(void **state)
{
    struct exact_job *job = tu_shared(sizeof(*job));
    tu_path(job->path, sizeof(job->path), "exact");
    job->iters = scaled(200000);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++)
        pids[p] = tu_fork(exact_child, job, p);
    tu_gate_open_when(&job->gate, PROCS);
    assert_int_equal(tu_wait_all(pids, PROCS), 0);

    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, job->path, NULL), 0);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_find(r, "hot", &c), 0);
    assert_int_equal(tally_value(c), (int64_t)PROCS * THREADS * job->iters);
    char name[64];
    for (int p = 0; p < PROCS; p++)
        for (int t = 0; t < THREADS; t++) {
            snprintf(name, sizeof(name), "own.p%d.t%d", p, t);
            assert_int_equal(tally_counter_find(r, name, &c), 0);
            assert_int_equal(tally_value(c), 3 * job->iters);
        }
    assert_int_equal(tally_counter_find(r, "byname", &c), 0);
    assert_int_equal(tally_value(c), (int64_t)PROCS * THREADS * ((job->iters + 15) / 16) * 2);

    struct census *cen = calloc(1, sizeof(*cen));
    assert_int_equal(tally_foreach(r, NULL, take_census, cen), 0);
    for (int i = 0; i < NAMES; i++)
        assert_int_equal(cen->names[i], 1);
    assert_int_equal(cen->name_values_wrong, 0);
    assert_int_equal(cen->others, PROCS * THREADS + 2);
    tally_info info;
    tally_info_get(r, &info);
    assert_int_equal(info.used, NAMES + PROCS * THREADS + 2);
    assert_int_equal(info.overflow, 0);
    free(cen);
    tally_close(r);
    tu_shared_free(job, sizeof(*job));
}

/* Read-and-zero: writers add while a resetter takes; taken + left = added. */
struct rz_job {
    char path[256];
    long iters;
    struct tu_gate gate;
    _Atomic int writers_done;
    _Atomic int64_t taken;
    _Atomic long resets;
};

#define RZ_WRITERS 2

static void *rz_thread(void *arg)
{
    struct rz_job *job = arg;
    tally_region *r = NULL;
    tally_counter *c = NULL;
    if (tally_open(&r, job->path, NULL) != 0 || tally_counter_get(r, "rz", &c) != 0)
        abort();
    for (long i = 0; i < job->iters; i++) {
        /* Halfway, wait for the resetter's first reset: on a loaded
         * machine it might otherwise only get a core after the writers
         * finished, and the race this test is about would not happen. */
        if (i == job->iters / 2)
            while (atomic_load(&job->resets) == 0)
                sched_yield();
        tally_add(c, (i % 5) + 1);
    }
    tally_close(r);
    return NULL;
}

static int rz_writer(void *arg, int index)
{
    struct rz_job *job = arg;
    pthread_t th[2];
    tu_gate_wait(&job->gate);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, rz_thread, job);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    atomic_fetch_add(&job->writers_done, 1);
    return 0;
}

static int rz_resetter(void *arg, int index)
{
    struct rz_job *job = arg;
    tally_region *r = NULL;
    tally_counter *c = NULL;
    if (tally_open(&r, job->path, NULL) != 0 || tally_counter_get(r, "rz", &c) != 0)
        return 20;
    tu_gate_wait(&job->gate);
    while (atomic_load(&job->writers_done) < RZ_WRITERS) {
        atomic_fetch_add(&job->taken, tally_reset(c));
        atomic_fetch_add(&job->resets, 1);
    }
    tally_close(r);
    return 0;
}

static void test_reset_while_writing_loses_nothing(void **state)
{
    struct rz_job *job = tu_shared(sizeof(*job));
    tu_path(job->path, sizeof(job->path), "reset-race");
    job->iters = scaled(300000);
    pid_t pids[RZ_WRITERS + 1];
    for (int i = 0; i < RZ_WRITERS; i++)
        pids[i] = tu_fork(rz_writer, job, i);
    pids[RZ_WRITERS] = tu_fork(rz_resetter, job, 0);
    tu_gate_open_when(&job->gate, RZ_WRITERS + 1);
    assert_int_equal(tu_wait_all(pids, RZ_WRITERS + 1), 0);

    /* Each thread adds 1,2,3,4,5,1,2,... */
    int64_t per_thread = 0;
    for (long i = 0; i < job->iters; i++)
        per_thread += (i % 5) + 1;
    tally_region *r = NULL;
    tally_counter *c = NULL;
    assert_int_equal(tally_open(&r, job->path, NULL), 0);
    assert_int_equal(tally_counter_find(r, "rz", &c), 0);
    int64_t left = tally_value(c);
    assert_int_equal(atomic_load(&job->taken) + left, per_thread * 2 * RZ_WRITERS);
    assert_true(atomic_load(&job->resets) > 0);
    tally_close(r);
    tu_shared_free(job, sizeof(*job));
}

/* Race-free creation: many processes open one missing region at once. */
#define OPENERS 16

struct create_job {
    char name[256];
    struct tu_gate gate;
    int created[OPENERS];
    ino_t inode[OPENERS];
};

static int opener(void *arg, int index)
{
    struct create_job *job = arg;
    tu_gate_wait(&job->gate);
    tally_region *r = NULL;
    if (tally_open(&r, job->name, NULL) != 0)
        return 30;
    tally_info info;
    tally_info_get(r, &info);
    struct stat st;
    if (stat(info.path, &st) != 0)
        return 31;
    job->created[index] = info.created;
    job->inode[index] = st.st_ino;
    int rc = tally_add_name(r, "opened", 1);
    tally_close(r);
    return rc == 0 ? 0 : 32;
}

static void create_race(const char *name)
{
    struct create_job *job = tu_shared(sizeof(*job));
    snprintf(job->name, sizeof(job->name), "%s", name);
    pid_t pids[OPENERS];
    for (int i = 0; i < OPENERS; i++)
        pids[i] = tu_fork(opener, job, i);
    tu_gate_open_when(&job->gate, OPENERS);
    assert_int_equal(tu_wait_all(pids, OPENERS), 0);
    int creators = 0;
    for (int i = 0; i < OPENERS; i++) {
        creators += job->created[i];
        assert_int_equal(job->inode[i], job->inode[0]);
    }
    assert_int_equal(creators, 1);
    tally_region *r = NULL;
    tally_counter *c = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_NOCREATE};
    assert_int_equal(tally_open(&r, name, &o), 0);
    assert_int_equal(tally_counter_find(r, "opened", &c), 0);
    assert_int_equal(tally_value(c), OPENERS);
    tally_close(r);
    tu_shared_free(job, sizeof(*job));
}

static void test_one_creator_among_many(void **state)
{
    char path[256], leaf[64], shm_name[64];
    for (int round = 0; round < 10; round++) {
        snprintf(leaf, sizeof(leaf), "create-%d", round);
        create_race(tu_path(path, sizeof(path), leaf));
        snprintf(shm_name, sizeof(shm_name), "tally-test-create-%d-%d", (int)getpid(), round);
        create_race(shm_name);
        snprintf(path, sizeof(path), "/dev/shm/%s", shm_name);
        unlink(path);
    }
    /* Nothing half made is left behind by the losers. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c tmp", tu_scratch());
    FILE *p = popen(cmd, "r");
    int leftovers = -1;
    assert_int_equal(fscanf(p, "%d", &leftovers), 1);
    pclose(p);
    assert_int_equal(leftovers, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_add_counted_every_name_once),
        cmocka_unit_test(test_reset_while_writing_loses_nothing),
        cmocka_unit_test(test_one_creator_among_many),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
