/*
 * ownfile.c — see ownfile.h.
 */
#include "ownfile/ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ownfile_kind(unsigned mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symlink";
    return S_ISREG(mode) ? "a regular file" : "not a regular file";
}

/* Close fd (if open) and return code; why already holds the message. */
static int refuse(int fd, int code, int *out)
{
    if (fd >= 0)
        close(fd);
    *out = -1;
    return code;
}

/* errno's text in why: OWNFILE_ERRNO with errno kept. */
static int failed(int fd, char *why, size_t cap)
{
    int err = errno;
    snprintf(why, cap, "%s", strerror(err));
    if (fd >= 0)
        close(fd);
    errno = err;
    return OWNFILE_ERRNO;
}

int ownfile_open(const char *path, int flags, unsigned mode, int *out, char *why, size_t cap)
{
    *out = -1;
    /* O_TRUNC waits for the checks: truncating a file that is then
     * refused would already have destroyed it. O_NONBLOCK: opening a FIFO
     * must not wait for its other end. */
    int trunc = flags & O_TRUNC;
    int fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                  (mode_t)mode);
    if (fd < 0) {
        int err = errno;
        struct stat st;
        if ((err == ELOOP || err == EMLINK) && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
            snprintf(why, cap,
                     "a symlink; tally writes no file through a symlink: remove it, or give a "
                     "path that is not one");
            return refuse(-1, OWNFILE_SYMLINK, out);
        }
        if (err == ENXIO && lstat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
            snprintf(why, cap, "a FIFO; tally writes only regular files: move it away");
            return refuse(-1, OWNFILE_NOT_REG, out);
        }
        errno = err;
        return failed(-1, why, cap);
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        return failed(fd, why, cap);
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s; tally writes only regular files: move it away",
                 ownfile_kind(st.st_mode));
        return refuse(fd, OWNFILE_NOT_REG, out);
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, cap,
                 "owned by uid %d, not by uid %d that tally runs as; tally writes only its own "
                 "files: remove it, or chown it to uid %d",
                 (int)st.st_uid, (int)geteuid(), (int)geteuid());
        return refuse(fd, OWNFILE_FOREIGN, out);
    }
    int fl = fcntl(fd, F_GETFL);
    if ((fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) || (trunc && ftruncate(fd, 0) != 0))
        return failed(fd, why, cap);
    *out = fd;
    return OWNFILE_OK;
}
