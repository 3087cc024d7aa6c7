/*
 * shm_testutil.c — see shm_testutil.h.
 */
#include "shm_testutil.h"

#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char scratch[256];

const char *tu_scratch(void)
{
    if (scratch[0] == '\0') {
        snprintf(scratch, sizeof(scratch), "/dev/shm/tally-test-XXXXXX");
        if (mkdtemp(scratch) == NULL) {
            perror("mkdtemp /dev/shm/tally-test-XXXXXX");
            abort();
        }
    }
    return scratch;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void tu_scratch_remove(void)
{
    if (scratch[0] != '\0')
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    scratch[0] = '\0';
}

int tu_teardown(void **state)
{
    tu_scratch_remove();
    return 0;
}

const char *tu_path(char *buf, size_t cap, const char *leaf)
{
    snprintf(buf, cap, "%s/%s", tu_scratch(), leaf);
    return buf;
}

void *tu_shared(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap shared test memory");
        abort();
    }
    return p;
}

void tu_shared_free(void *p, size_t bytes)
{
    munmap(p, bytes);
}

void tu_gate_wait(struct tu_gate *g)
{
    atomic_fetch_add(&g->waiting, 1);
    while (!atomic_load(&g->open))
        sched_yield();
}

void tu_gate_open_when(struct tu_gate *g, int waiting)
{
    while (atomic_load(&g->waiting) < waiting)
        sched_yield();
    atomic_store(&g->open, 1);
}

pid_t tu_fork(int (*fn)(void *arg, int index), void *arg, int index)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0)
        _exit(fn(arg, index));
    return pid;
}

int tu_wait_all(const pid_t *pids, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed (status 0x%x)\n", (int)pids[i], status);
            failed++;
        }
    }
    return failed;
}
