/*
 * file_write.c — replacing a file so that no reader ever sees part of it.
 *
 * The new contents go to a temporary file in the target's own directory
 * (rename is atomic only within one file system), named
 * "<target>.tmp.XXXXXX" so globs like *.prom (node_exporter's textfile
 * collector) or the day files' *.json skip it. The file is written in full (by the
 * caller's fill, which streams it), given its mode, fsynced, and renamed
 * over the target; then the directory is fsynced so the rename itself
 * survives a power loss. Any failure before the rename removes the
 * temporary file and leaves the old target exactly as it was.
 *
 * Everything is relative to an open directory (openat, renameat): once the
 * split layout has opened its directory without following a symlink, no
 * later step can be sent elsewhere by one planted in the path meanwhile.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ownfile/ownfile.h"

#define TMP_SUFFIX ".tmp."
#define TMP_RANDOM 6
#define TMP_TRIES 100

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
    case EFBIG:
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

/* Log "<what>: <errno text>; <advice><tail>". */
static void log_errno(const file_ctx *ctx, const char *path, int err, const char *what,
                      const char *tail)
{
    char buf[128], what_to_do[PATH_MAX + 128];
    /* strerror_r, not strerror: exports run on their own threads. */
    const char *text = strerror_r(err, buf, sizeof(buf));
    advice(path, err, what_to_do, sizeof(what_to_do));
    ctx->api->log(ctx->host, TALLY_LOG_ERR, "%s: %s; %s%s", what, text, what_to_do, tail);
}

void file_report(const file_ctx *ctx, const char *path, const char *step, int err)
{
    char what[PATH_MAX + 128];
    snprintf(what, sizeof(what), "cannot write %s: %s", path, step);
    log_errno(ctx, path, err, what, "; nothing was changed and the next export tries again");
}

int file_write_all(int fd, const char *p, size_t n)
{
    /* write(2) may write less than asked (signals, quotas) and may be
     * interrupted before writing anything. */
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

/* Fill, chmod, fsync and close the temporary file. On failure *step says
 * which and errno why (0 when the contents could not be made); fd is
 * closed either way. */
static int fill_temp(int fd, mode_t mode, file_fill_fn fill, void *arg, const char **step)
{
    int rc = TALLY_HOST_ERR;
    int filled = fill(arg, fd);
    if (filled == FILE_FILL_RENDER) {
        *step = "making its contents";
        errno = 0;
    } else if (filled != FILE_FILL_OK)
        *step = "writing the temporary file";
    /* The temporary file was made 0600; fchmod is not filtered by the umask. */
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

int file_temp_name(const char *name, size_t *base_len)
{
    size_t n = strlen(name), tail = sizeof(TMP_SUFFIX) - 1 + TMP_RANDOM;
    if (n <= tail || memcmp(name + n - tail, TMP_SUFFIX, sizeof(TMP_SUFFIX) - 1) != 0)
        return 0;
    *base_len = n - tail;
    return 1;
}

/* A new temporary file beside leaf, 0600, never through a symlink: its fd,
 * its name in tmp (cap bytes), or -1 with errno. */
static int make_temp(int dirfd, const char *leaf, char *tmp, size_t cap)
{
    static atomic_uint_fast64_t counter;
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < TMP_TRIES; attempt++) {
        /* Unpredictable enough to make a clash rare; O_EXCL makes one harmless. */
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^
                     (atomic_fetch_add(&counter, 1) * UINT64_C(0x9E3779B97F4A7C15));
        char rnd[TMP_RANDOM + 1];
        for (int i = 0; i < TMP_RANDOM; i++, x /= sizeof(digits) - 1)
            rnd[i] = digits[x % (sizeof(digits) - 1)];
        rnd[TMP_RANDOM] = '\0';
        if (snprintf(tmp, cap, "%s" TMP_SUFFIX "%s", leaf, rnd) >= (int)cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        /* O_CLOEXEC: another thread of the agent may fork a child meanwhile. */
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* A symlink where leaf goes: refused, so that nobody mistakes a link for
 * the file tally keeps (and renaming over it would drop the link). */
static int refuse_symlink(const file_ctx *ctx, int dirfd, const char *path, const char *leaf)
{
    struct stat st;
    if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
        return 0;
    ctx->api->log(ctx->host, TALLY_LOG_ERR,
                  "cannot write %s: it is a symlink; tally writes no file through a symlink: "
                  "remove it (or change option 'path'); nothing was changed",
                  path);
    return TALLY_HOST_ERR;
}

int file_sync_dir(const file_ctx *ctx, int dirfd, const char *path)
{
    if (fsync(dirfd) == 0)
        return 0;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof(what), "wrote %s, but syncing its directory failed", path);
    log_errno(ctx, path, errno, what,
              "; the new file is in place but may not survive a power loss");
    return TALLY_HOST_ERR;
}

int file_write_at(const file_ctx *ctx, int dirfd, const char *path, const char *leaf,
                  unsigned flags, file_fill_fn fill, void *arg)
{
    if ((flags & FILE_NO_SYMLINK) && refuse_symlink(ctx, dirfd, path, leaf) != 0)
        return TALLY_HOST_ERR;
    char tmp[NAME_MAX + 1];
    int fd = make_temp(dirfd, leaf, tmp, sizeof(tmp));
    if (fd < 0) {
        file_report(ctx, path, "creating a temporary file beside it", errno);
        return TALLY_HOST_ERR;
    }
    const char *step = NULL;
    int rc = fill_temp(fd, ctx->mode, fill, arg, &step);
    if (rc == 0 && renameat(dirfd, tmp, dirfd, leaf) != 0) {
        step = "renaming the temporary file over it";
        rc = TALLY_HOST_ERR;
    }
    if (rc != 0) {
        int err = errno;
        unlinkat(dirfd, tmp, 0);
        if (err != 0)
            file_report(ctx, path, step, err);
        else
            ctx->api->log(ctx->host, TALLY_LOG_ERR,
                          "cannot write %s: rendering it as %s failed (out of memory, or a "
                          "read of the state's history that failed: see the message before); "
                          "nothing was changed and the next export tries again",
                          path, tally_format_name(ctx->format));
        return TALLY_HOST_ERR;
    }
    if (flags & FILE_NO_DIRSYNC)
        return 0;
    return file_sync_dir(ctx, dirfd, path);
}

/* The directory of path, opened, and path's last component (malloc'd):
 * 0, or TALLY_HOST_ERR (logged). The directory may be a symlink
 * (/var/lib/tally -> /data/tally, say): it is the operator's, and only
 * the file itself is replaced. */
static int open_parent(const file_ctx *ctx, const char *path, int *dirfd, char **leaf)
{
    char *dir_copy = strdup(path), *leaf_copy = strdup(path);
    *dirfd = -1;
    *leaf = NULL;
    if (dir_copy == NULL || leaf_copy == NULL) {
        free(dir_copy);
        free(leaf_copy);
        file_report(ctx, path, "allocating its name", ENOMEM);
        return TALLY_HOST_ERR;
    }
    *dirfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    free(dir_copy);
    if (*dirfd < 0) {
        free(leaf_copy);
        file_report(ctx, path, "opening its directory", err);
        return TALLY_HOST_ERR;
    }
    /* basename may return a pointer into leaf_copy: keep its own copy. */
    *leaf = strdup(basename(leaf_copy));
    free(leaf_copy);
    if (*leaf == NULL) {
        close(*dirfd);
        *dirfd = -1;
        file_report(ctx, path, "allocating its name", ENOMEM);
        return TALLY_HOST_ERR;
    }
    return 0;
}

int file_write_path(const file_ctx *ctx, const char *path, file_fill_fn fill, void *arg)
{
    int dirfd;
    char *leaf;
    if (open_parent(ctx, path, &dirfd, &leaf) != 0)
        return TALLY_HOST_ERR;
    int rc = file_write_at(ctx, dirfd, path, leaf, 0, fill, arg);
    close(dirfd);
    free(leaf);
    return rc;
}

int file_sweep_path(const file_ctx *ctx, const char *path)
{
    int dirfd;
    char *leaf;
    if (open_parent(ctx, path, &dirfd, &leaf) != 0)
        return TALLY_HOST_ERR;
    int rc = file_dir_sweep(ctx, dirfd, path, leaf, NULL);
    close(dirfd);
    free(leaf);
    return rc;
}

int file_remove_at(const file_ctx *ctx, int dirfd, const char *path, const char *leaf)
{
    if (unlinkat(dirfd, leaf, 0) == 0 || errno == ENOENT)
        return 0;
    int err = errno;
    char buf[128];
    ctx->api->log(ctx->host, TALLY_LOG_ERR,
                  "cannot remove %s: %s; check the directory's permissions; the next export "
                  "tries again",
                  path, strerror_r(err, buf, sizeof(buf)));
    return TALLY_HOST_ERR;
}

const char *file_kind_at(int dirfd, const char *leaf)
{
    struct stat st;
    if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return NULL;
    return ownfile_kind(st.st_mode);
}
