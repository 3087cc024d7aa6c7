/*
 * tail_reject.c — see tail.h, the reject file. The file is opened with O_APPEND at a
 * cycle's first reject and closed at its end, so it may be rotated or
 * removed between cycles. A new file starts with a header line and gets
 * mode 0600 (rows may hold user data); its default directory 0700. A
 * symlink, FIFO or another user's file at the path is refused (ownfile).
 *
 * The file is not part of the cycle's transaction: if a cycle is rolled
 * back, its rows are read again and their rejects appear twice in the
 * file, while the count (api->count_rejected) stays exact.
 */
#include "tail/tail.h"

#include "ownfile/ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REJECT_HEADER "source_file,line,reason,row\n"

int tail_reject_init(tail_reject *r, const char *path, bool default_dir)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->default_dir = default_dir;
    r->path = strdup(path);
    return r->path != NULL ? 0 : -1;
}

void tail_reject_free(tail_reject *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->path);
    free(r->line);
    r->path = r->line = NULL;
}

static int make_parent(const char *path)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return -1;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            rc = -1;
    }
    free(dir);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0 with r->fd, or -1 with why (cap bytes) saying what went wrong. */
static int open_file(tail_reject *r, char *why, size_t cap)
{
    if (r->default_dir && make_parent(r->path) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return -1;
    }
    /* ownfile: rows are never appended through a planted symlink, nor to
     * a FIFO, nor to a file of another user. */
    int fd;
    if (ownfile_open(r->path, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, why, cap) != OWNFILE_OK)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        /* Whatever the umask: rejected rows may carry user data. */
        if (fchmod(fd, 0600) != 0 || write_all(fd, REJECT_HEADER, strlen(REJECT_HEADER)) != 0) {
            snprintf(why, cap, "%s", strerror(errno));
            close(fd);
            return -1;
        }
    }
    r->fd = fd;
    return 0;
}

/* Room for n more bytes in the line buffer. */
static int reserve(tail_reject *r, size_t used, size_t n)
{
    if (used + n <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < used + n)
        cap *= 2;
    char *p = realloc(r->line, cap);
    if (p == NULL)
        return -1;
    r->line = p;
    r->cap = cap;
    return 0;
}

/* Append p[0..n) as a quoted CSV field: quotes doubled; commas, CRs and
 * LFs are safe inside the quotes; other bytes are kept as they are. */
static int put_quoted(tail_reject *r, size_t *used, const char *p, size_t n)
{
    size_t quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += p[i] == '"';
    if (reserve(r, *used, n + quotes + 3) != 0)
        return -1;
    char *d = r->line + *used;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            *d++ = '"';
        *d++ = p[i];
    }
    *d++ = '"';
    *used = (size_t)(d - r->line);
    return 0;
}

static void log_write_failed(const tail_reject *r, tally_host *h, const tally_host_api *api,
                             const char *why)
{
    api->log(h, TALLY_LOG_ERR,
             "cannot write rejected rows to %s: %s; they are counted but not kept this "
             "cycle: check the directory exists and is writable, or set reject_file",
             r->path, why);
}

/* The open file's size, which the limit applies to. */
static int measure(tail_reject *r)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return -1;
    r->size = (uint64_t)st.st_size;
    return 0;
}

int tail_reject_add(tail_reject *r, tally_host *h, const tally_host_api *api, const char *file,
                   uint64_t line, const char *reason, const char *raw, size_t raw_len)
{
    r->count++;
    if (r->count <= TAIL_REJECT_LOG_MAX)
        api->log(h, TALLY_LOG_WARNING, "%s:%" PRIu64 ": row set aside in %s: %s", file, line,
                 r->path, reason);
    /* The row's own line end is not part of it: the reject line adds one. */
    if (raw_len > 0 && raw[raw_len - 1] == '\n')
        raw_len--;
    if (raw_len > 0 && raw[raw_len - 1] == '\r')
        raw_len--;
    size_t used = 0;
    char num[24];
    int k = snprintf(num, sizeof(num), ",%" PRIu64 ",", line);
    if (put_quoted(r, &used, file, strlen(file)) != 0 || reserve(r, used, (size_t)k) != 0)
        return -1;
    memcpy(r->line + used, num, (size_t)k);
    used += (size_t)k;
    if (put_quoted(r, &used, reason, strlen(reason)) != 0 || reserve(r, used, 1) != 0)
        return -1;
    r->line[used++] = ',';
    if (put_quoted(r, &used, raw, raw_len) != 0 || reserve(r, used, 1) != 0)
        return -1;
    r->line[used++] = '\n';
    if (r->write_failed)
        return 0;
    if (r->full || (r->fd < 0 && r->max_bytes == 0)) {
        r->unwritten++;
        return 0;
    }
    char why[512] = "";
    if (r->fd < 0) {
        if (open_file(r, why, sizeof(why)) != 0)
            r->write_failed = true;
        else if (measure(r) != 0) {
            snprintf(why, sizeof(why), "cannot stat it: %s", strerror(errno));
            r->write_failed = true;
        }
        if (r->write_failed) {
            log_write_failed(r, h, api, why);
            return 0;
        }
    }
    /* A hostile .gz of bad rows would otherwise fill the disk: past the
     * limit rows are only counted, until the file is moved or removed. */
    if (r->size + used > r->max_bytes) {
        r->full = true;
        r->unwritten++;
        return 0;
    }
    r->size += used;
    if (write_all(r->fd, r->line, used) != 0) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
        r->write_failed = true;
        log_write_failed(r, h, api, why);
    }
    return 0;
}

int tail_reject_end_cycle(tail_reject *r, tally_host *h, const tally_host_api *api, bool report)
{
    int rc = 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->count > TAIL_REJECT_LOG_MAX)
        api->log(h, TALLY_LOG_WARNING,
                 "%" PRId64 " rows set aside this cycle in all, only the first %d logged; "
                 "all are in %s",
                 r->count, TAIL_REJECT_LOG_MAX, r->path);
    if (r->unwritten > 0)
        api->log(h, TALLY_LOG_WARNING,
                 "%" PRId64 " rows set aside this cycle were counted but not written to %s: "
                 "it reached reject_max_bytes (%" PRIu64 " bytes); move or remove the file "
                 "(it is reopened every cycle) or raise reject_max_bytes",
                 r->unwritten, r->path, r->max_bytes);
    if (report && r->count > 0 && api->count_rejected(h, r->count) != TALLY_HOST_OK)
        rc = TALLY_HOST_ERR;
    r->count = 0;
    r->unwritten = 0;
    r->full = false;
    r->write_failed = false;
    return rc;
}
