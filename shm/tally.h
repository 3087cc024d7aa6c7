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
    TALLY_ESYMLINK = -1013,   /* a region name (in /dev/shm) is a symbolic link */
    TALLY_EDANGLING = -1014,  /* a region path is a symbolic link to nothing */
    TALLY_EISDIR = -1015,     /* a region path names a directory */
    TALLY_ESPECIAL = -1016,   /* a region path names a FIFO, socket or device */
    TALLY_ESHRUNK = -1017,    /* the region's file shrank under its mapping */
    TALLY_EOWNER = -1018,     /* region owned by a user the caller does not trust */
    TALLY_EMODE = -1019,      /* region writable by every user (o+w): anyone could break it */
    TALLY_ERDONLY = -1020,    /* a write to a region attached read-only */
    TALLY_EGROUP = -1021,     /* the region's group could not be set (caller not a member?) */
};

/* tally_open_opts.flags */
#define TALLY_OPEN_NOCREATE 0x1u /* attach only; a missing region is an error */
#define TALLY_OPEN_RDONLY 0x2u   /* attach read-only (implies NOCREATE): values and
                                  * names only; adds, resets and new names fail with
                                  * TALLY_ERDONLY */
#define TALLY_OPEN_GROUP 0x4u    /* create the region in group opts.group */
#define TALLY_OPEN_OWNER 0x8u    /* trust a region owned by opts.owner as well */

typedef struct tally_region tally_region;

/* A counter handle: process-local, valid until tally_close() of its region.
 * Its fields are private; they are here only so tally_add() can be inline. */
typedef struct tally_counter {
    _Atomic int64_t *cell0; /* this counter's cell for CPU 0 */
    uint32_t cpu_mask;      /* stripes - 1 */
    uint32_t stripe_shift;  /* log2 of the byte distance between stripes */
    uint32_t flags;         /* private: TALLY__COUNTER_* (never read by tally_add) */
} tally_counter;

/* Who is trusted: an existing region is attached only if its owner is the
 * caller (effective uid), root, or opts.owner with TALLY_OPEN_OWNER, and
 * only if it is not writable by every user; anyone else who could write it
 * could truncate it under every process that maps it. */
typedef struct tally_open_opts {
    uint32_t capacity; /* counters; used only when creating; 0 = default (4096) */
    mode_t mode;       /* file mode when creating, whatever the umask; 0 = 0660 */
    uint32_t flags;    /* TALLY_OPEN_* */
    gid_t group;       /* with TALLY_OPEN_GROUP: the group a created region gets */
    uid_t owner;       /* with TALLY_OPEN_OWNER: a further trusted owner */
} tally_open_opts;

typedef struct tally_info {
    uint32_t capacity; /* counter slots */
    uint32_t used;     /* counters registered */
    uint32_t stripes;  /* per-CPU cells per counter */
    uint32_t version;  /* layout version */
    uint64_t overflow; /* registrations refused because the region was full */
    uint64_t size;     /* bytes mapped */
    int created;       /* 1 if this tally_open created the region */
    int readonly;      /* 1 if attached with TALLY_OPEN_RDONLY */
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
/* For callers that cannot inline tally_add (ctypes, cgo, Rust, Node):
 * the same add as a call, and a reset that reports errors. Both return 0,
 * or TALLY_ERDONLY for a handle of a region attached read-only. */
int tally_counter_add(tally_counter *c, int64_t n);
int tally_counter_reset(tally_counter *c, int64_t *old);
int tally_add_name(tally_region *r, const char *name, int64_t n);
int tally_foreach(tally_region *r, const char *prefix,
                  int (*fn)(const char *name, int64_t value, void *arg), void *arg);
/* tally_foreach, and in *skipped how many records it did not show because
 * libtally did not write them: a name that is not valid, or a name held
 * twice (something else wrote into the region). tally_foreach skips them
 * too, silently. */
int tally_foreach_checked(tally_region *r, const char *prefix,
                          int (*fn)(const char *name, int64_t value, void *arg), void *arg,
                          uint32_t *skipped);
int tally_info_get(tally_region *r, tally_info *out);
int tally_identity_get(tally_region *r, tally_identity *out);
/* 0 while r's path still names the region r maps; TALLY_EREPLACED once it
 * was removed or replaced (r still maps the old one: close it and open
 * again); another negative code if the path cannot be checked. One stat. */
int tally_check_path(tally_region *r);
int tally_name_valid(const char *name);
/* A region's file can be truncated under its mapping by anyone who may
 * write it; the next access to a page past its new end raises SIGBUS.
 * A reader that must survive that installs libtally's SIGBUS handler
 * (once per process; counted, so each install has its remove) and runs
 * its accesses to r in tally_guarded: fn(arg)'s result, or TALLY_ESHRUNK
 * if an access to r's mapping faulted (close r then; open it again to see
 * what the file holds now). Other SIGBUSes go where they went before.
 * While installed, tally_open guards its own accesses too. */
int tally_guard_install(void);
void tally_guard_remove(void);
int tally_guarded(tally_region *r, int (*fn)(void *arg), void *arg);
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
