/*
 * bench_procs.c — two processes adding at once: on one hot tally counter,
 * on two different tally counters, and the raw-atomic references on one
 * shared word and on two words apart (what cache-line contention costs
 * without striping).
 *
 * Each round forks two children. Both report ready on one pipe and then
 * block reading a second pipe; closing its write end wakes them together,
 * so their loops overlap. Each child times its own loop; the figure is the
 * slower child's wall-clock ns per add.
 */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct pair_target {
    tally_counter *c[2];    /* tally handles, or NULL ... */
    _Atomic uint64_t *p[2]; /* ... raw words */
};

/* Written by each child into a page shared with the parent. */
struct child_result {
    uint64_t t0, t1;     /* wall clock around the loop */
    uint64_t cpu0, cpu1; /* the child's CPU time around the loop */
};

/* A run where a child got less than this share of a CPU during its loop
 * measured the scheduler (both children taking turns on one core, or a
 * neighbour's process running), not the cache; so did one where the loops
 * overlapped for less than this share of the slower one. It is run again. */
#define PAIR_MIN_CONCURRENCY 0.90
#define PAIR_TRIES 5

enum pair_kind { PAIR_HOT, PAIR_DISTINCT, PAIR_RAW_ONE, PAIR_RAW_APART, PAIR_KINDS };

static const char *const pair_names[PAIR_KINDS] = {"one hot counter", "two counters",
                                                   "raw, one word", "raw, words apart"};

/* How the two-process runs went, per kind, for the note under the table. */
static struct pair_stat {
    int runs;           /* figures taken */
    int retries;        /* runs repeated as not simultaneous enough */
    int unclean;        /* figures kept below PAIR_MIN_CONCURRENCY after PAIR_TRIES */
    double overlap_sum; /* fraction of the slower loop both were running */
} pair_stats[PAIR_KINDS];

static uint64_t target_value(const struct pair_target *t, int i)
{
    if (t->c[i] != NULL)
        return (uint64_t)tally_value(t->c[i]);
    return atomic_load(t->p[i]);
}

static int same_target(const struct pair_target *t)
{
    return t->c[0] != NULL ? t->c[0] == t->c[1] : t->p[0] == t->p[1];
}

static _Noreturn void child_main(const struct pair_target *t, int i, uint64_t n, int ready_fd,
                                 int gate_fd, struct child_result *res, pid_t parent)
{
    /* Never outlive an interrupted parent, spinning on a core. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    char b = 'r';
    if (write(ready_fd, &b, 1) != 1)
        _exit(2);
    if (read(gate_fd, &b, 1) != 0) /* EOF: the parent opened the gate */
        _exit(2);
    res->cpu0 = bench_cpu_ns();
    res->t0 = bench_now_ns();
    if (t->c[i] != NULL)
        bench_loop_handle(t->c[i], n);
    else
        bench_loop_raw(t->p[i], n);
    res->t1 = bench_now_ns();
    res->cpu1 = bench_cpu_ns();
    _exit(0);
}

/* Wait for both children to block on the gate, then open it. */
static int open_gate(int ready_fd, int gate_fd)
{
    char b[2];
    size_t got = 0;
    while (got < 2) {
        ssize_t k = read(ready_fd, b + got, 2 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(gate_fd);
    return got == 2 ? 0 : BENCH_ECHILD;
}

static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : BENCH_ECHILD;
}

static int fork_pair(const struct pair_target *t, uint64_t n, struct child_result *res)
{
    int ready[2], gate[2];
    if (pipe(ready) != 0)
        return -errno;
    if (pipe(gate) != 0) {
        int rc = -errno;
        close(ready[0]);
        close(ready[1]);
        return rc;
    }
    fflush(NULL); /* children must not flush the parent's buffers */
    pid_t parent = getpid(), pids[2] = {-1, -1};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(ready[0]);
            close(gate[1]);
            child_main(t, i, n, ready[1], gate[0], &res[i], parent);
        }
        if (pids[i] < 0)
            rc = -errno;
    }
    close(ready[1]);
    close(gate[0]);
    /* After a failed fork the first child is released too, to be reaped. */
    if (rc == 0)
        rc = open_gate(ready[0], gate[1]);
    else
        close(gate[1]);
    close(ready[0]);
    for (int i = 0; i < 2; i++) {
        int wrc = pids[i] > 0 ? reap(pids[i]) : 0;
        if (rc == 0)
            rc = wrc;
    }
    return rc;
}

static double share_of(const struct child_result *r)
{
    return r->t1 > r->t0 ? (double)(r->cpu1 - r->cpu0) / (double)(r->t1 - r->t0) : 0;
}

static double overlap_of(const struct child_result *res)
{
    uint64_t start = res[0].t0 > res[1].t0 ? res[0].t0 : res[1].t0;
    uint64_t end = res[0].t1 < res[1].t1 ? res[0].t1 : res[1].t1;
    uint64_t d0 = res[0].t1 - res[0].t0, d1 = res[1].t1 - res[1].t0;
    uint64_t slow = d0 > d1 ? d0 : d1;
    return end > start && slow > 0 ? (double)(end - start) / (double)slow : 0;
}

/* How truly simultaneous a run was: the least of both CPU shares and the
 * overlap, 1 at best. */
static double concurrency_of(const struct child_result *res)
{
    double a = share_of(&res[0]), b = share_of(&res[1]), o = overlap_of(res);
    double m = a < b ? a : b;
    return m < o ? m : o;
}

/* One run of both children; checks that every add of both landed. */
static int run_once(const struct pair_target *t, uint64_t n, struct child_result *res)
{
    uint64_t before[2] = {target_value(t, 0), target_value(t, 1)};
    memset(res, 0, 2 * sizeof(*res));
    int rc = fork_pair(t, n, res);
    if (rc != 0)
        return rc;
    uint64_t got = target_value(t, 0) - before[0];
    if (same_target(t) ? got != 2 * n : got != n || target_value(t, 1) - before[1] != n)
        return BENCH_ECOUNT;
    return 0;
}

/* Runs until both children ran side by side on CPUs of their own, or PAIR_TRIES times,
 * keeping the run closest to that. The figure is the slower child's wall
 * time per add: while both run, that is what each add costs. */
static int run_pair(struct bench_env *e, enum pair_kind kind, const struct pair_target *t,
                    double *out)
{
    uint64_t n = e->cfg.proc_adds;
    struct child_result *res =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return -errno;
    struct child_result kept[2];
    double kept_conc = -1;
    int rc = 0;
    for (int try = 0; rc == 0 && try < PAIR_TRIES && kept_conc < PAIR_MIN_CONCURRENCY; try++) {
        pair_stats[kind].retries += try > 0;
        rc = run_once(t, n, res);
        if (rc == 0 && concurrency_of(res) > kept_conc) {
            kept_conc = concurrency_of(res);
            memcpy(kept, res, sizeof(kept));
        }
    }
    munmap(res, 4096);
    if (rc != 0)
        return rc;
    uint64_t d0 = kept[0].t1 - kept[0].t0, d1 = kept[1].t1 - kept[1].t0;
    *out = (double)(d0 > d1 ? d0 : d1) / (double)n;
    pair_stats[kind].runs++;
    pair_stats[kind].unclean += kept_conc < PAIR_MIN_CONCURRENCY;
    pair_stats[kind].overlap_sum += overlap_of(kept);
    return 0;
}

int bench_pair_hot(struct bench_env *e, double *out)
{
    struct pair_target t = {.c = {e->hot1, e->hot1}};
    return run_pair(e, PAIR_HOT, &t, out);
}

int bench_pair_distinct(struct bench_env *e, double *out)
{
    struct pair_target t = {.c = {e->dist[0], e->dist[1]}};
    return run_pair(e, PAIR_DISTINCT, &t, out);
}

int bench_pair_raw_one(struct bench_env *e, double *out)
{
    struct pair_target t = {.p = {&e->raw[RAW_SHARED], &e->raw[RAW_SHARED]}};
    return run_pair(e, PAIR_RAW_ONE, &t, out);
}

int bench_pair_raw_apart(struct bench_env *e, double *out)
{
    struct pair_target t = {.p = {&e->raw[RAW_APART_A], &e->raw[RAW_APART_B]}};
    return run_pair(e, PAIR_RAW_APART, &t, out);
}

/* 1 when a majority of the hot and distinct figures came from runs where
 * the two processes truly ran side by side, so their medians did too. */
int bench_pair_reliable(void)
{
    for (int k = PAIR_HOT; k <= PAIR_DISTINCT; k++) {
        if (2 * pair_stats[k].unclean >= pair_stats[k].runs)
            return 0;
    }
    return 1;
}

void bench_pair_report(FILE *f)
{
    fprintf(f,
            "\ntwo-process runs: a run counts when both children had >= %.0f%% of a CPU and "
            "their loops overlapped >= %.0f%%;\nelse it is repeated, up to %d tries, keeping the "
            "closest:\n",
            100 * PAIR_MIN_CONCURRENCY, 100 * PAIR_MIN_CONCURRENCY, PAIR_TRIES);
    for (int k = 0; k < PAIR_KINDS; k++) {
        const struct pair_stat *p = &pair_stats[k];
        if (p->runs == 0)
            continue;
        fprintf(f,
                "  %-18s %d figures (%d from a run below that), %d runs repeated, overlap %.0f%%\n",
                pair_names[k], p->runs, p->unclean, p->retries, 100.0 * p->overlap_sum / p->runs);
    }
}
