/*
 * guard.c — reading a region that shrinks under the reader.
 *
 * A region is a file, and whoever may write it may also truncate it (any
 * local user can create /dev/shm/NAME before the application does). The
 * pages past the new end then vanish from every mapping, and the next
 * access to one raises SIGBUS, which kills the process. Checking the
 * file's size first cannot prevent it: the file can shrink between the
 * check and the access. So a reader that must survive (the tally tool,
 * tallyd) runs its accesses under a guard: a SIGBUS handler, installed
 * once for the process, that jumps back to the guard when the faulting
 * address lies in the guarded region's mapping, and the guarded call
 * returns TALLY_ESHRUNK. SIGBUS is synchronous: it lands on the very load
 * or store of region memory, inside libtally or a tally_add, never inside
 * malloc or stdio, so leaving that code by a jump is safe; the caller
 * then closes the region. Any other SIGBUS goes to the handler that was
 * there before, or kills the process as it would have.
 *
 * The guard is opt-in (tally_guard_install), since a library must not
 * take a signal from an application that did not ask it to.
 */
#include "layout.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

struct guard_frame {
    sigjmp_buf env;
    const uint8_t *base;
    size_t size;
    struct guard_frame *outer;
};

/* initial-exec: the handler must not make the dynamic loader allocate a
 * thread's TLS block (libtally can be inside a dlopened plugin). */
static __thread struct guard_frame *frames __attribute__((tls_model("initial-exec")));

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned installs;
static struct sigaction previous;
static _Atomic int guarding;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    const uint8_t *addr = si->si_addr;
    for (struct guard_frame *f = frames; f != NULL; f = f->outer)
        if (addr >= f->base && addr < f->base + f->size) {
            frames = f->outer;
            siglongjmp(f->env, 1);
        }
    /* Not a guarded region's: what would have happened without us. */
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != NULL) {
        previous.sa_sigaction(sig, si, uc);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        /* Returning retries the access, which faults again and, with the
         * default action back, ends the process with the signal. */
        signal(SIGBUS, SIG_DFL);
    }
}

int tally_guard_install(void)
{
    int rc = 0;
    pthread_mutex_lock(&install_lock);
    if (installs == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &previous) != 0)
            rc = -errno;
    }
    if (rc == 0) {
        installs++;
        atomic_store(&guarding, 1);
    }
    pthread_mutex_unlock(&install_lock);
    return rc;
}

void tally_guard_remove(void)
{
    pthread_mutex_lock(&install_lock);
    if (installs > 0 && --installs == 0) {
        atomic_store(&guarding, 0);
        sigaction(SIGBUS, &previous, NULL);
    }
    pthread_mutex_unlock(&install_lock);
}

int tally_guard_run(const void *base, size_t size, int (*fn)(void *arg), void *arg)
{
    if (!atomic_load(&guarding))
        return fn(arg);
    struct guard_frame f;
    f.base = base;
    f.size = size;
    f.outer = frames;
    /* Saving the mask: the jump leaves a handler, with SIGBUS blocked
     * unless SA_NODEFER; the restored mask is the caller's. */
    if (sigsetjmp(f.env, 1) != 0)
        return TALLY_ESHRUNK;
    frames = &f;
    int rc = fn(arg);
    frames = f.outer;
    return rc;
}

int tally_guarded(tally_region *r, int (*fn)(void *arg), void *arg)
{
    if (r == NULL || fn == NULL)
        return TALLY_EINVAL;
    return tally_guard_run(r->base, r->size, fn, arg);
}
