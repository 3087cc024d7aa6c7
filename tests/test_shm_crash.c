/*
 * test_shm_crash.c — a process SIGKILLed at any instruction, registration
 * included, leaves the region usable for everyone: hundreds of children
 * register names and add, each killed at a random moment; afterwards a
 * fresh process finds or registers every name any of them touched (the one
 * in flight at the kill too), registers new names, and every count that a
 * child saw completed is there (at most the one in flight more).
 */
#include "layout.h"
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL 100000

/* What children tell the parent, through memory that survives their kill. */
struct crash_log {
    char path[256];
    _Atomic int started;
    _Atomic int inflight;        /* name index being registered or added to */
    _Atomic int cursor;          /* next never-registered name */
    _Atomic int64_t acked[POOL]; /* adds whose tally_add had returned */
    unsigned char touched[POOL];
    int kills_in_flight[POOL]; /* rounds killed while this name was in flight */
};

/* 500 rounds; fewer where TALLY_TEST_SCALE says the build is slow (TSan). */
static int rounds(void)
{
    const char *s = getenv("TALLY_CRASH_ROUNDS");
    const char *scale = getenv("TALLY_TEST_SCALE");
    int n = s ? atoi(s) : 500;
    int div = scale ? atoi(scale) : 1;
    return div > 1 ? (n / div > 100 ? n / div : 100) : n;
}

/* 61 bytes: past the 56 that share a line with the slot's tag, so the
 * registrant writes the last word on another page after it claimed the
 * slot, and a kill often lands between claiming and publishing. */
static void name_of(char *buf, size_t cap, int idx)
{
    snprintf(buf, cap, "crash.%05d.registered.by.a.child.that.dies.while.registering", idx);
}

static int crash_child(void *arg, int round)
{
    struct crash_log *log = arg;
    tally_region *r = NULL;
    tally_open_opts o = {.capacity = 2 * POOL};
    if (tally_open(&r, log->path, &o) != 0)
        return 40;
    unsigned seed = (unsigned)round * 2654435761u;
    char name[TALLY_NAME_MAX + 1];
    atomic_store(&log->started, 1);
    for (long op = 0;; op++) {
        /* Mostly names no one has registered, so kills land in
         * registrations; every fourth an old one, to add to it again. */
        int idx =
            op % 4 == 3 ? (int)(rand_r(&seed) % POOL) : atomic_fetch_add(&log->cursor, 1) % POOL;
        name_of(name, sizeof(name), idx);
        log->touched[idx] = 1;
        atomic_store(&log->inflight, idx);
        tally_counter *c = NULL;
        if (tally_counter_get(r, name, &c) != 0)
            return 41;
        tally_add(c, 1);
        atomic_fetch_add(&log->acked[idx], 1);
        atomic_store(&log->inflight, -1);
    }
}

static void kill_at_random(struct crash_log *log, int round)
{
    atomic_store(&log->started, 0);
    atomic_store(&log->inflight, -1);
    pid_t pid = tu_fork(crash_child, log, round);
    while (!atomic_load(&log->started)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("crash child exited early, status 0x%x", status);
    }
    struct timespec ts = {0, (long)(rand() % 400) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    int idx = atomic_load(&log->inflight);
    if (idx >= 0)
        log->kills_in_flight[idx]++;
}

struct verify_arg {
    struct crash_log *log;
    int64_t seen[POOL];
};

static int count_seen(const char *name, int64_t value, void *arg)
{
    struct verify_arg *v = arg;
    int idx;
    if (sscanf(name, "crash.%d.", &idx) == 1 && idx >= 0 && idx < POOL)
        v->seen[idx]++;
    return 0;
}

/* Runs in a fresh process, bounded by an alarm: a hang is a failure. */
static int verify_child(void *arg, int unused)
{
    struct crash_log *log = arg;
    alarm(60);
    tally_region *r = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_NOCREATE};
    if (tally_open(&r, log->path, &o) != 0)
        return 50;
    char name[TALLY_NAME_MAX + 1];
    for (int idx = 0; idx < POOL; idx++) {
        if (!log->touched[idx])
            continue;
        name_of(name, sizeof(name), idx);
        tally_counter *c = NULL;
        if (tally_counter_get(r, name, &c) != 0) {
            fprintf(stderr, "cannot find or register %s\n", name);
            return 51;
        }
        int64_t v = tally_value(c), acked = atomic_load(&log->acked[idx]);
        if (v < acked || v > acked + log->kills_in_flight[idx]) {
            fprintf(stderr, "%s: value %lld, acked %lld, killed in flight %d\n", name, (long long)v,
                    (long long)acked, log->kills_in_flight[idx]);
            return 52;
        }
    }
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "after.crashes.%d", i);
        if (tally_add_name(r, name, 1) != 0)
            return 53;
    }
    struct verify_arg *v = calloc(1, sizeof(*v));
    tally_foreach(r, "crash.", count_seen, v);
    for (int idx = 0; idx < POOL; idx++)
        if (v->seen[idx] > 1 || (log->touched[idx] && v->seen[idx] != 1)) {
            fprintf(stderr, "crash.%05d listed %lld times\n", idx, (long long)v->seen[idx]);
            return 54;
        }
    free(v);
    tally_close(r);
    return 0;
}

/* Claims a killed child left for the next registrant of its name. */
static int unfinished_claims(const char *path)
{
    tally_region *r = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_NOCREATE};
    assert_int_equal(tally_open(&r, path, &o), 0);
    int n = 0;
    for (uint32_t i = 0; i <= r->table_mask; i++)
        n += (atomic_load(tally_slot_tag(r, i)) & TAG_CLAIMED) != 0;
    tally_close(r);
    return n;
}

static void test_sigkill_at_random_moments(void **state)
{
    struct crash_log *log = tu_shared(sizeof(*log));
    tu_path(log->path, sizeof(log->path), "crash");
    srand(4242);
    int n = rounds(), round = 0, in_flight = 0, unfinished = 0;
    /* The kills must hit the registration window, or this proves nothing;
     * a loaded machine shifts where they land, so go on, bounded, until one
     * has. */
    while (round < n || (unfinished == 0 && round < 4 * n)) {
        for (int k = 0; k < 100; k++)
            kill_at_random(log, round++);
        unfinished = unfinished_claims(log->path);
    }
    for (int i = 0; i < POOL; i++)
        in_flight += log->kills_in_flight[i];
    print_message("%d kills, %d with a name in flight, %d left a claim unfinished\n", round,
                  in_flight, unfinished);
    assert_true(in_flight > 0);
    /* Where kills land depends on the machine's load: on a busy 2-core VM
     * a run may leave no claim unfinished at all. That costs this run its
     * coverage of the finishing path, not its verdict: every value and
     * name is still checked below, and test_shm_api finishes a half-made
     * claim deterministically. */
    if (unfinished == 0)
        print_message("no kill landed between claim and publish this run\n");
    pid_t pid = tu_fork(verify_child, log, 0);
    assert_int_equal(tu_wait_all(&pid, 1), 0);
    tu_shared_free(log, sizeof(*log));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
