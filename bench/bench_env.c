/*
 * bench_env.c — the clock, the private directories, the regions and names
 * the measurements share, and removing every file the run made, even when
 * the run is interrupted.
 */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC_NUMBER 0x01021994 /* linux/magic.h TMPFS_MAGIC */
#define NAME_RECORD 32                /* bytes per name in name_buf */
#define TRACK_MAX 16

/* Files and directories to remove at exit. A signal handler reads these,
 * so they are plain arrays, never allocated or freed. */
static char tracked[TRACK_MAX][BENCH_PATH_MAX];
static volatile sig_atomic_t tracked_used[TRACK_MAX];
static char dirs[2][BENCH_PATH_MAX];
static pid_t owner; /* only the parent cleans up, never a forked child */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of this thread, kernel time (page faults) included. A loop that
 * never blocks costs exactly this; wall time would add whatever other
 * processes on this shared machine ran on our core meanwhile. */
uint64_t bench_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

const char *bench_strerror(int rc)
{
    switch (rc) {
    case BENCH_ECOUNT:
        return "counts lost: a timed loop's adds did not all land";
    case BENCH_ESQL:
        return "SQLite failed (see the message above)";
    case BENCH_ECHILD:
        return "a measuring child process failed";
    }
    return tally_strerror(rc);
}

int bench_track(const char *path)
{
    for (int i = 0; i < TRACK_MAX; i++) {
        if (!tracked_used[i]) {
            snprintf(tracked[i], sizeof(tracked[i]), "%s", path);
            tracked_used[i] = 1;
            return 0;
        }
    }
    return -ENOSPC;
}

void bench_untrack(const char *path)
{
    for (int i = 0; i < TRACK_MAX; i++) {
        if (tracked_used[i] && strcmp(tracked[i], path) == 0) {
            unlink(tracked[i]);
            tracked_used[i] = 0;
        }
    }
}

/* Only async-signal-safe calls: this also runs from the signal handler. */
static void remove_all(void)
{
    if (getpid() != owner)
        return;
    for (int i = 0; i < TRACK_MAX; i++) {
        if (tracked_used[i]) {
            unlink(tracked[i]);
            tracked_used[i] = 0;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (dirs[i][0] != '\0')
            rmdir(dirs[i]);
    }
}

static void on_signal(int sig)
{
    remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void bench_cleanup_install(void)
{
    owner = getpid();
    atexit(remove_all);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

int bench_join(char *out, size_t cap, const char *dir, const char *leaf)
{
    int n = snprintf(out, cap, "%s/%s", dir, leaf);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

int bench_region_path(const struct bench_env *e, const char *leaf, char *out, size_t cap)
{
    return bench_join(out, cap, e->shm_dir, leaf);
}

static int make_dir(const char *base, char *out, int slot)
{
    int n = snprintf(out, BENCH_PATH_MAX, "%s/tally-bench.XXXXXX", base);
    if (n < 0 || n >= BENCH_PATH_MAX)
        return -ENAMETOOLONG;
    if (mkdtemp(out) == NULL)
        return -errno;
    snprintf(dirs[slot], sizeof(dirs[slot]), "%s", out);
    return 0;
}

/* The database must sit on a disk, as it would in production: TMPDIR if
 * set, else /var/tmp, which stays on disk where /tmp is a tmpfs. */
static int make_dirs(struct bench_env *e)
{
    int rc = make_dir("/dev/shm", e->shm_dir, 0);
    if (rc != 0)
        return rc;
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/var/tmp";
    rc = make_dir(base, e->disk_dir, 1);
    if (rc != 0)
        return rc;
    struct statfs sf;
    if (statfs(e->disk_dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC_NUMBER)
        e->disk_is_tmpfs = 1;
    return 0;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Names like a web back end's: 25 bytes, so hashing does real work. The
 * shuffled order stands for requests, which do not arrive in registration
 * order; its seed is fixed, so every run sees the same order. */
static int make_names(struct bench_env *e)
{
    uint32_t n = e->cfg.names;
    e->name_buf = malloc((size_t)n * NAME_RECORD);
    e->names = malloc((size_t)n * sizeof(*e->names));
    e->shuffled = malloc((size_t)n * sizeof(*e->shuffled));
    if (e->name_buf == NULL || e->names == NULL || e->shuffled == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        char *rec = e->name_buf + (size_t)i * NAME_RECORD;
        snprintf(rec, NAME_RECORD, "http.requests.route_%05u", i);
        e->names[i] = rec;
        e->shuffled[i] = rec;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(xorshift(&seed) % (i + 1));
        const char *t = e->shuffled[i];
        e->shuffled[i] = e->shuffled[j];
        e->shuffled[j] = t;
    }
    return 0;
}

static int open_region(struct bench_env *e, const char *leaf, uint32_t capacity, tally_region **out)
{
    char path[BENCH_PATH_MAX];
    int rc = bench_region_path(e, leaf, path, sizeof(path));
    if (rc != 0)
        return rc;
    rc = bench_track(path);
    if (rc != 0)
        return rc;
    tally_open_opts o = {.capacity = capacity};
    return tally_open(out, path, &o);
}

static int make_regions(struct bench_env *e)
{
    int rc = open_region(e, "named", e->cfg.capacity, &e->named);
    for (uint32_t i = 0; rc == 0 && i < e->cfg.names; i++) {
        tally_counter *c;
        rc = tally_counter_get(e->named, e->names[i], &c);
    }
    if (rc == 0)
        rc = open_region(e, "hot", 0, &e->hot);
    if (rc == 0)
        rc = tally_counter_get(e->hot, "bench.single", &e->single);
    if (rc == 0)
        rc = tally_counter_get(e->hot, "bench.hot", &e->hot1);
    /* Adjacent ids: without striping their cells would share a cache line. */
    if (rc == 0)
        rc = tally_counter_get(e->hot, "bench.distinct.0", &e->dist[0]);
    if (rc == 0)
        rc = tally_counter_get(e->hot, "bench.distinct.1", &e->dist[1]);
    return rc;
}

int bench_env_init(struct bench_env *e)
{
    int rc = make_dirs(e);
    if (rc == 0)
        rc = make_names(e);
    if (rc == 0) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            rc = -errno;
        else
            e->raw = p;
    }
    if (rc == 0)
        rc = make_regions(e);
    if (rc == 0)
        rc = bench_sqlite_init(e);
    return rc;
}

void bench_env_fini(struct bench_env *e)
{
    bench_sqlite_fini(e);
    tally_close(e->named);
    tally_close(e->hot);
    if (e->raw != NULL)
        munmap((void *)e->raw, 4096);
    free(e->names);
    free(e->shuffled);
    free(e->name_buf);
    remove_all();
}
