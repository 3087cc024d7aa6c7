/*
 * file_write.c — replacing a file so that no reader ever sees part of it.
 *
 * The new contents go to a temporary file in the target's own directory
 * (rename is atomic only within one file system), named "<target>.tmp.XXXXXX"
 * so globs like *.prom (node_exporter's textfile collector) skip it. The
 * file is written in full, given its mode, fsynced, and renamed over the
 * target; then the directory is fsynced so the rename itself survives a
 * power loss. Any failure before the rename removes the temporary file and
 * leaves the old target exactly as it was; nothing is remembered, so the
 * next export simply tries again.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp.XXXXXX"

/* What the operator can do about errno `err` when writing path. */
static void advice(const char *path, int err, char *out, size_t cap)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR: {
        char *copy = strdup(path);
        snprintf(out, cap, "create the directory %s or change option 'path'",
                 copy ? dirname(copy) : "it is in");
        free(copy);
        return;
    }
    case EACCES:
    case EPERM:
        snprintf(out, cap,
                 "let tallyd's user (uid %ld) write to the directory or change option "
                 "'path'",
                 (long)geteuid());
        return;
    case EROFS:
        snprintf(out, cap, "remount the file system read-write or change option 'path'");
        return;
    case ENOSPC:
    case EDQUOT:
        snprintf(out, cap, "free space on that file system");
        return;
    case ENAMETOOLONG:
        snprintf(out, cap, "shorten option 'path'");
        return;
    default:
        snprintf(out, cap, "check the directory and its file system");
        return;
    }
}

static void report(const file_ctx *ctx, const char *path, const char *step, int err)
{
    char buf[128], what_to_do[PATH_MAX + 128];
    /* strerror_r, not strerror: exports run on their own threads. */
    const char *text = strerror_r(err, buf, sizeof(buf));
    advice(path, err, what_to_do, sizeof(what_to_do));
    ctx->api->log(ctx->host, TALLY_LOG_ERR,
                  "cannot write %s: %s: %s; %s; nothing was changed and the next export tries "
                  "again",
                  path, step, text, what_to_do);
}

/* write(2) until all is written: it may write less than asked (signals,
 * quotas, pipes) and may be interrupted before writing anything. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > SSIZE_MAX ? SSIZE_MAX : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return TALLY_HOST_ERR;
        }
        if (w == 0) { /* cannot happen for a regular file; never spin */
            errno = EIO;
            return TALLY_HOST_ERR;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write, chmod, fsync and close the temporary file. On failure *step says
 * which and errno why; fd is closed either way. */
static int fill_temp(int fd, mode_t mode, const char *data, size_t len, const char **step)
{
    int rc = TALLY_HOST_ERR;
    if (write_all(fd, data, len) != 0)
        *step = "writing the temporary file";
    /* mkstemp made it 0600; fchmod is not filtered by the umask. */
    else if (fchmod(fd, mode) != 0)
        *step = "setting the temporary file's mode";
    /* Without this, a crash after the rename could leave an empty target. */
    else if (fsync(fd) != 0)
        *step = "syncing the temporary file";
    else
        rc = 0;
    int saved = errno;
    /* Some file systems (NFS) report write errors only at close. Linux
     * releases the descriptor even when close fails, so never retry it. */
    if (close(fd) != 0 && rc == 0 && errno != EINTR) {
        *step = "closing the temporary file";
        return TALLY_HOST_ERR;
    }
    errno = saved;
    return rc;
}

/* fsync the directory holding path, so the rename is on disk. */
static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return TALLY_HOST_ERR;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return TALLY_HOST_ERR;
    int rc = fsync(fd) == 0 ? 0 : TALLY_HOST_ERR;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int file_write_atomic(const file_ctx *ctx, const char *path, const char *data, size_t len)
{
    size_t n = strlen(path) + sizeof(TMP_SUFFIX);
    char *tmp = malloc(n);
    if (tmp == NULL) {
        report(ctx, path, "allocating the temporary name", ENOMEM);
        return TALLY_HOST_ERR;
    }
    snprintf(tmp, n, "%s" TMP_SUFFIX, path);
    /* O_CLOEXEC: another thread of the agent may fork a child meanwhile. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        report(ctx, path, "creating a temporary file beside it", errno);
        free(tmp);
        return TALLY_HOST_ERR;
    }
    const char *step = NULL;
    int rc = fill_temp(fd, ctx->mode, data, len, &step);
    if (rc == 0 && rename(tmp, path) != 0) {
        step = "renaming the temporary file over it";
        rc = TALLY_HOST_ERR;
    }
    if (rc != 0) {
        int err = errno;
        unlink(tmp);
        report(ctx, path, step, err);
        free(tmp);
        return TALLY_HOST_ERR;
    }
    free(tmp);
    if (sync_dir(path) != 0) {
        int err = errno;
        char buf[128], what_to_do[PATH_MAX + 128];
        const char *text = strerror_r(err, buf, sizeof(buf));
        advice(path, err, what_to_do, sizeof(what_to_do));
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "wrote %s, but syncing its directory failed: %s; the new file is in place "
                      "but may not survive a power loss; %s",
                      path, text, what_to_do);
        return TALLY_HOST_ERR;
    }
    return 0;
}
