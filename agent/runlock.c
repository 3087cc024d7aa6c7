/*
 * runlock.c — see runlock.h.
 */
#include "runlock.h"

#include "log.h"
#include "ownfile/ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct runlock {
    int state_fd, pid_fd;
    char state_path[4096 + 32];
    char pidfile[4096];
};

/* The pid another process wrote into fd, or 0 if none can be read. */
static long holder_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

/* path opened and flock'd: 0 with *fd, or -1 logged. what names the file
 * for messages ("state_dir lock", "pidfile"), fix says what to do when
 * another process holds it. */
static int lock_file(const char *path, const char *what, const char *fix, int *fd)
{
    char why[512];
    if (ownfile_open(path, O_RDWR | O_CREAT, 0644, fd, why, sizeof(why)) != OWNFILE_OK) {
        log_msg(TALLY_LOG_ERR, "%s %s cannot be used: %s", what, path, why);
        return -1;
    }
    int err = 0;
    struct stat a, b;
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        err = errno;
    /* Locked, but the file may have been removed from path meanwhile by
     * the agent that held it: then this lock guards nothing. */
    else if (lstat(path, &a) != 0 || fstat(*fd, &b) != 0 || a.st_ino != b.st_ino ||
             a.st_dev != b.st_dev)
        err = ESTALE;
    if (err == 0)
        return 0;
    long pid = holder_pid(*fd);
    close(*fd);
    *fd = -1;
    if (err == EWOULDBLOCK)
        log_msg(TALLY_LOG_ERR, "%s %s is held by another tallyd (pid %ld): %s", what, path, pid,
                fix);
    else if (err == ESTALE)
        log_msg(TALLY_LOG_ERR, "%s %s was removed while being locked: start again", what, path);
    else
        log_msg(TALLY_LOG_ERR, "%s %s cannot be locked: %s", what, path, strerror(err));
    return -1;
}

static int lock_state_dir(const char *state_dir, int *fd, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", state_dir, RUNLOCK_FILE);
    return lock_file(path, "state_dir lock",
                     "one agent runs per state_dir; stop that one "
                     "first (kill -TERM it), or give this one another state_dir",
                     fd);
}

int runlock_take(const char *state_dir, const char *pidfile, runlock **out)
{
    *out = NULL;
    runlock *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -1;
    l->pid_fd = -1;
    if (lock_state_dir(state_dir, &l->state_fd, l->state_path, sizeof(l->state_path)) != 0) {
        free(l);
        return -1;
    }
    if (pidfile != NULL) {
        snprintf(l->pidfile, sizeof(l->pidfile), "%s", pidfile);
        if (lock_file(pidfile, "pidfile", "give this one another -p, or stop that one first",
                      &l->pid_fd) != 0) {
            close(l->state_fd);
            free(l);
            return -1;
        }
    }
    /* The pid now, so a second agent can name this one at once; again
     * after daemonizing. */
    if (runlock_write_pid(l) != 0) {
        runlock_release(l);
        return -1;
    }
    *out = l;
    return 0;
}

int runlock_move(runlock *l, const char *state_dir)
{
    char path[sizeof(l->state_path)];
    int fd;
    snprintf(path, sizeof(path), "%s/%s", state_dir, RUNLOCK_FILE);
    struct stat a, b;
    /* The same directory under another name: already ours. */
    if (stat(path, &a) == 0 && fstat(l->state_fd, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return 0;
    if (lock_state_dir(state_dir, &fd, path, sizeof(path)) != 0)
        return -1;
    close(l->state_fd);
    l->state_fd = fd;
    snprintf(l->state_path, sizeof(l->state_path), "%s", path);
    return runlock_write_pid(l);
}

static int write_pid(int fd, const char *path)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        log_msg(TALLY_LOG_ERR, "cannot write the pid to %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int runlock_write_pid(runlock *l)
{
    if (write_pid(l->state_fd, l->state_path) != 0)
        return -1;
    return l->pid_fd >= 0 ? write_pid(l->pid_fd, l->pidfile) : 0;
}

void runlock_release(runlock *l)
{
    if (l == NULL)
        return;
    struct stat a, b;
    /* Only the file still ours: not one that replaced it at that path. */
    if (l->pid_fd >= 0 && lstat(l->pidfile, &a) == 0 && fstat(l->pid_fd, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        unlink(l->pidfile);
    if (l->pid_fd >= 0)
        close(l->pid_fd);
    /* The state lock file stays (see runlock.h); emptied, it names no pid. */
    if (ftruncate(l->state_fd, 0) != 0)
        log_msg(TALLY_LOG_DEBUG, "cannot empty %s: %s", l->state_path, strerror(errno));
    close(l->state_fd);
    free(l);
}
