/*
 * shm_testutil.h — helpers the libtally tests share: a private scratch
 * directory for regions, a start gate that many processes wait on, and
 * forking children whose failure is their exit status (cmocka asserts
 * belong to the parent only).
 */
#ifndef TALLY_SHM_TESTUTIL_H
#define TALLY_SHM_TESTUTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* A fresh directory under /dev/shm, removed with everything in it by
 * tu_scratch_remove(). Returns its path. */
const char *tu_scratch(void);
void tu_scratch_remove(void);
/* A cmocka group teardown that removes the scratch directory. */
int tu_teardown(void **state);
/* "<scratch>/<leaf>" in buf. */
const char *tu_path(char *buf, size_t cap, const char *leaf);

/* Shared memory visible to forked children, zero filled. */
void *tu_shared(size_t bytes);
void tu_shared_free(void *p, size_t bytes);

/* Children wait at the gate until the parent opens it, so they start their
 * work at the same instant. */
struct tu_gate {
    _Atomic int waiting;
    _Atomic int open;
};
void tu_gate_wait(struct tu_gate *g);
void tu_gate_open_when(struct tu_gate *g, int waiting);

/* Fork a child running fn(arg, index); its return value is its exit code. */
pid_t tu_fork(int (*fn)(void *arg, int index), void *arg, int index);
/* Wait for n children; returns how many did not exit 0. */
int tu_wait_all(const pid_t *pids, int n);

#endif
