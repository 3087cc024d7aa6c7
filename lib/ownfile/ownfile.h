/*
 * ownfile.h — opening a file that tally creates, writes or appends to
 * (the pidfile, the state_dir lock, the state database, a reject file):
 * never through a symlink (O_NOFOLLOW), never a FIFO or device (opened
 * O_NONBLOCK, then fstat), and only a regular file owned by the
 * process's effective user, so a file planted by someone else is neither
 * written nor chmodded. Always O_CLOEXEC, with an explicit mode for a
 * file it creates.
 */
#ifndef TALLY_LIB_OWNFILE_H
#define TALLY_LIB_OWNFILE_H

#include <stddef.h>

enum {
    OWNFILE_OK = 0,
    OWNFILE_ERRNO,   /* open or fstat failed: errno says why */
    OWNFILE_SYMLINK, /* path is a symlink */
    OWNFILE_NOT_REG, /* a directory, FIFO, device or socket */
    OWNFILE_FOREIGN, /* owned by another user */
};

/* Open path with flags (O_WRONLY, O_RDWR, O_APPEND, O_CREAT, O_TRUNC...;
 * O_NOFOLLOW | O_CLOEXEC | O_NOCTTY are added) and mode for a new file.
 * OWNFILE_OK with *fd open (blocking, O_TRUNC applied only after the
 * checks), or another code with *fd = -1 and why (cap bytes) saying what
 * the path is and what to do, e.g. "a symlink; tally writes no file
 * through a symlink: remove it". */
int ownfile_open(const char *path, int flags, unsigned mode, int *fd, char *why, size_t cap);

/* What a st_mode is, for a message: "a directory", "a FIFO", "a device",
 * "a socket", "a symlink", "a regular file". */
const char *ownfile_kind(unsigned mode);

#endif
