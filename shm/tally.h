/*
 * tally.h — named 64-bit counters in a shared-memory region (libtally).
 *
 * Applications open a region, get a handle per counter once, and bump it with
 * tally_add(): one relaxed atomic add on a per-CPU cell, no call, no lock.
 * Readers (tally_value, tally_foreach, tally_reset) sum the cells. Every
 * function that can fail returns 0 or a negative code; tally_strerror()
 * explains it. System errors are -errno.
 */
#ifndef TALLY_H
#define TALLY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__GLIBC__) && defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define TALLY_HAVE_RSEQ 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TALLY_NAME_MAX 64 /* bytes of UTF-8 in a counter name */
#define TALLY_DEFAULT_CAPACITY 4096
#define TALLY_MAX_CAPACITY (1u << 22)

/* Error codes. They sit far below any -errno so the two never collide. */
enum {
    TALLY_EFULL = -1001,      /* region has no free counter slot */
    TALLY_ENAME = -1002,      /* counter name invalid */
    TALLY_EEMPTY = -1003,     /* region file is empty */
    TALLY_ETRUNC = -1004,     /* region file shorter than a header */
    TALLY_EMAGIC = -1005,     /* not a tally region */
    TALLY_EVERSION = -1006,   /* layout version this library does not know */
    TALLY_ECORRUPT = -1007,   /* header fields inconsistent */
    TALLY_ESIZE = -1008,      /* file shorter than its header claims */
    TALLY_ENOCOUNTER = -1009, /* no counter of that name */
    TALLY_EINVAL = -1010,     /* bad argument (NULL, bad region name, options) */
    TALLY_ENOREGION = -1011,  /* region missing and TALLY_OPEN_NOCREATE given */
    TALLY_EREPLACED = -1012,  /* the path no longer names the region mapped */
};

/* tally_open_opts.flags */
#define TALLY_OPEN_NOCREATE 0x1u /* attach only; a missing region is an error */

typedef struct tally_region tally_region;

/* A counter handle: process-local, valid until tally_close() of its region.
 * Its fields are private; they are here only so tally_add() can be inline. */
typedef struct tally_counter {
    _Atomic int64_t *cell0; /* this counter's cell for CPU 0 */
    uint32_t cpu_mask;      /* stripes - 1 */
    uint32_t stripe_shift;  /* log2 of the byte distance between stripes */
} tally_counter;

typedef struct tally_open_opts {
    uint32_t capacity; /* counters; used only when creating; 0 = default (4096) */
    mode_t mode;       /* file mode when creating; 0 = 0660 */
    uint32_t flags;    /* TALLY_OPEN_* */
} tally_open_opts;

typedef struct tally_info {
    uint32_t capacity; /* counter slots */
    uint32_t used;     /* counters registered */
    uint32_t stripes;  /* per-CPU cells per counter */
    uint32_t version;  /* layout version */
    uint64_t overflow; /* registrations refused because the region was full */
    uint64_t size;     /* bytes mapped */
    int created;       /* 1 if this tally_open created the region */
    char path[256];    /* file backing the region */
} tally_info;

/* Which region this is: a reader that keeps values across its own restarts
 * (the tally agent does) compares identities to tell a region recreated at
 * the same path (after a reboot, or a removal) from the one it read before:
 * the new one's counters started again from zero. */
typedef struct tally_identity {
    uint64_t id;         /* random, never 0, the same in every process */
    int64_t created_utc; /* creation time, UNIX seconds; 0 = unknown (the
                          * region predates identities) */
} tally_identity;

int tally_open(tally_region **out, const char *name, const tally_open_opts *opts);
void tally_close(tally_region *r);
int tally_counter_get(tally_region *r, const char *name, tally_counter **out);
int tally_counter_find(tally_region *r, const char *name, tally_counter **out);
int64_t tally_value(const tally_counter *c);
int64_t tally_reset(tally_counter *c);
int tally_add_name(tally_region *r, const char *name, int64_t n);
int tally_foreach(tally_region *r, const char *prefix,
                  int (*fn)(const char *name, int64_t value, void *arg), void *arg);
int tally_info_get(tally_region *r, tally_info *out);
int tally_identity_get(tally_region *r, tally_identity *out);
/* 0 while r's path still names the region r maps; TALLY_EREPLACED once it
 * was removed or replaced (r still maps the old one: close it and open
 * again); another negative code if the path cannot be checked. One stat. */
int tally_check_path(tally_region *r);
int tally_name_valid(const char *name);
const char *tally_strerror(int err);

/* The CPU this thread runs on, read from the rseq area the kernel keeps
 * current (glibc >= 2.35 registers it). Without rseq every thread uses
 * stripe 0: still exact, only more contended. */
static inline uint32_t tally__cpu(void)
{
#ifdef TALLY_HAVE_RSEQ
    const struct rseq *rs =
        (const struct rseq *)((const char *)__builtin_thread_pointer() + __rseq_offset);
    return *(const volatile uint32_t *)&rs->cpu_id_start;
#else
    return 0;
#endif
}

/* Add n to a counter: one relaxed atomic add on this CPU's cell. Cores never
 * share a cell's cache line, so hot counters do not bounce between cores. */
static inline void tally_add(tally_counter *c, int64_t n)
{
    _Atomic int64_t *cell =
        (_Atomic int64_t *)((char *)c->cell0 +
                            ((size_t)(tally__cpu() & c->cpu_mask) << c->stripe_shift));
    atomic_fetch_add_explicit(cell, n, memory_order_relaxed);
}

#ifdef __cplusplus
}
#endif
#endif
