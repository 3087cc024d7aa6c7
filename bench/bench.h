/*
 * bench.h — shared pieces of shm_bench, the libtally benchmark.
 *
 * shm_bench runs every measurement once per round and the rounds one after
 * another, so machine noise (a shared host, frequency changes) lands on all
 * figures alike; each figure is then the median of its rounds.
 */
#ifndef TALLY_BENCH_H
#define TALLY_BENCH_H

#include "tally.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_PATH_MAX 512
#define BENCH_MAX_ROUNDS 99

/* Words of bench_env.raw. Each sits on its own 128-byte pair of cache lines,
 * so the adjacent-line prefetcher does not couple them either. */
#define RAW_FLOOR 0    /* one process alone */
#define RAW_SHARED 16  /* both processes on one word */
#define RAW_APART_A 32 /* each process on its own word */
#define RAW_APART_B 48

/* Error codes of the bench itself, below libtally's and any -errno. */
#define BENCH_ECOUNT (-2001) /* a loop's adds did not all land */
#define BENCH_ESQL (-2002)   /* SQLite failed; the message went to stderr */
#define BENCH_ECHILD (-2003) /* a measuring child process failed */

/* Sizes of one run; --quick shrinks them so a smoke test takes a second. */
struct bench_cfg {
    int rounds;
    int quick;
    int samples;             /* print each round's figures too */
    uint64_t adds;           /* floor and handle loops */
    uint64_t name_adds;      /* by-name loops */
    uint32_t names;          /* counters registered for by-name, register, foreach */
    uint32_t capacity;       /* capacity of the regions holding those names */
    uint64_t proc_adds;      /* adds per process in the two-process cases */
    uint32_t foreach_passes; /* foreach passes per round */
    uint32_t sql_updates;    /* SQLite updates per round */
};

/* Everything the measurements share, built once before the first round. */
struct bench_env {
    struct bench_cfg cfg;
    char shm_dir[BENCH_PATH_MAX];  /* regions: a private directory in /dev/shm */
    char disk_dir[BENCH_PATH_MAX]; /* the SQLite database: a private directory on disk */
    int disk_is_tmpfs;             /* 1 if disk_dir turned out to be tmpfs after all */

    char *name_buf;        /* the names' bytes, one fixed-size record each */
    const char **names;    /* pointers into name_buf, in registration order */
    const char **shuffled; /* the same pointers in an arbitrary (fixed) request order */
    _Atomic uint64_t *raw; /* a MAP_SHARED page for the raw-atomic references */

    tally_region *named;    /* holds the `names` counters */
    int64_t named_expect;   /* sum every by-name add so far put into `named` */
    tally_region *hot;      /* small region for the handle and two-process cases */
    tally_counter *single;  /* the single-process handle counter */
    tally_counter *hot1;    /* the counter both processes bump in "hot" */
    tally_counter *dist[2]; /* one counter per process in "distinct" */
    int register_seq;       /* numbers the fresh per-round registration regions */

    sqlite3 *db;
    sqlite3_stmt *update;
    uint32_t sql_next; /* next key to update: rounds resume the cycle */
    char db_path[BENCH_PATH_MAX];
};

/* A measurement: runs once, stores its figure (in its table unit) in *out. */
typedef int (*bench_fn)(struct bench_env *e, double *out);

/* bench_env.c */
uint64_t bench_now_ns(void);
uint64_t bench_cpu_ns(void);
const char *bench_strerror(int rc);
int bench_env_init(struct bench_env *e);
void bench_env_fini(struct bench_env *e);
int bench_track(const char *path);
void bench_untrack(const char *path);
void bench_cleanup_install(void);
int bench_join(char *out, size_t cap, const char *dir, const char *leaf);
int bench_region_path(const struct bench_env *e, const char *leaf, char *out, size_t cap);

/* bench_loops.c — hot loops kept in their own unit so they are never
 * inlined into, or reordered with, the timing code around them. */
void bench_loop_raw(_Atomic uint64_t *p, uint64_t n);
void bench_loop_handle(tally_counter *c, uint64_t n);
int bench_loop_name_cycle(tally_region *r, const char *const *names, uint32_t count, uint64_t n);
int bench_loop_name_one(tally_region *r, const char *name, uint64_t n);

/* bench_single.c — one process */
int bench_floor(struct bench_env *e, double *out);
int bench_handle(struct bench_env *e, double *out);
int bench_name_cycle(struct bench_env *e, double *out);
int bench_name_shuffled(struct bench_env *e, double *out);
int bench_name_one(struct bench_env *e, double *out);
int bench_register(struct bench_env *e, double *out);
int bench_foreach(struct bench_env *e, double *out);

/* bench_procs.c — two processes */
int bench_pair_hot(struct bench_env *e, double *out);
int bench_pair_distinct(struct bench_env *e, double *out);
int bench_pair_raw_one(struct bench_env *e, double *out);
int bench_pair_raw_apart(struct bench_env *e, double *out);
int bench_pair_reliable(void);
void bench_pair_report(FILE *f);

/* bench_sqlite.c — the peer */
int bench_sqlite_init(struct bench_env *e);
void bench_sqlite_fini(struct bench_env *e);
int bench_sqlite_update(struct bench_env *e, double *out);

/* bench_report.c — the table */
struct bench_case {
    const char *label;
    const char *unit;
    double unit_ns; /* nanoseconds in one unit, to compare figures across units */
    bench_fn fn;
    int ref;        /* case the ratio column divides by, or -1 */
    double target;  /* else a constant it divides by (in this unit), or 0: no ratio */
    const char *vs; /* what the ratio is against */
};

struct bench_target {
    const char *label;
    int num, den; /* cases; den < 0: num's own figure against limit */
    double limit;
    int at_least; /* 1: figure must be >= limit, 0: <= limit */
    const char *unit;
    int pair; /* 1: from the two-process runs, which a busy machine spoils */
};

struct bench_stat {
    double median, min, max;
};

void bench_stats(const double *samples, int n, struct bench_stat *out);
void bench_print_header(FILE *f, const struct bench_env *e);
void bench_print_table(FILE *f, const struct bench_case *cases, const struct bench_stat *st,
                       int ncases);
void bench_print_targets(FILE *f, const struct bench_case *cases, const struct bench_stat *st,
                         const struct bench_target *targets, int ntargets, int quick);

#endif
