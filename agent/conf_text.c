/*
 * conf_text.c — see conf_text.h.
 */
#include "conf_text.h"

#include "ownfile/ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A regular file, opened without waiting on a FIFO's writer: fd, or a
 * CONF_TEXT_* code with why. */
static int open_regular(const char *file, char *why, size_t cap)
{
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return CONF_TEXT_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, cap,
                 "%s is %s; a config file must be a regular file (or a symlink to one): give "
                 "the path of the file itself",
                 file, ownfile_kind(st.st_mode));
        close(fd);
        return CONF_TEXT_REFUSED;
    }
    if (st.st_size > CONF_MAX_BYTES) {
        snprintf(why, cap,
                 "%s holds %lld bytes, more than the %d a config file may hold: is it the "
                 "right file? split a large config with include()",
                 file, (long long)st.st_size, CONF_MAX_BYTES);
        close(fd);
        return CONF_TEXT_REFUSED;
    }
    return fd;
}

/* The first line of text longer than CONF_MAX_LINE (its number), or 0. */
static int long_line(const char *text, size_t len, size_t *line_len)
{
    int line = 1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        if (n > CONF_MAX_LINE) {
            *line_len = n;
            return line;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
        line++;
    }
    return 0;
}

int conf_text_read(const char *file, char **text, size_t *len, char *why, size_t cap)
{
    *text = NULL;
    int fd = open_regular(file, why, cap);
    if (fd < 0)
        return fd;
    /* One byte more than allowed: a file that grew since fstat shows. */
    char *buf = malloc(CONF_MAX_BYTES + 2);
    size_t used = 0;
    ssize_t got = 1;
    while (buf != NULL && used <= CONF_MAX_BYTES && got > 0) {
        got = read(fd, buf + used, CONF_MAX_BYTES + 1 - used);
        if (got < 0 && errno == EINTR)
            got = 1;
        else if (got > 0)
            used += (size_t)got;
    }
    int err = buf == NULL ? ENOMEM : got < 0 ? errno : 0;
    close(fd);
    if (err != 0) {
        snprintf(why, cap, "%s", strerror(err));
        free(buf);
        return CONF_TEXT_UNREADABLE;
    }
    if (used > CONF_MAX_BYTES) {
        snprintf(why, cap, "%s grew past the %d bytes a config file may hold while read", file,
                 CONF_MAX_BYTES);
        free(buf);
        return CONF_TEXT_REFUSED;
    }
    buf[used] = '\0';
    size_t n;
    int line = long_line(buf, used, &n);
    if (line > 0) {
        snprintf(why, cap,
                 "%s:%d: a line of %zu bytes, more than the %d a config line may hold: "
                 "shorten it or split it over lines",
                 file, line, n, CONF_MAX_LINE);
        free(buf);
        return CONF_TEXT_REFUSED;
    }
    *text = buf;
    *len = used;
    return 0;
}
