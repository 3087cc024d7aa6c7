/*
 * tail_read.c — see tail.h, reading content. Plain files are read with pread at
 * explicit offsets, so the file offset an fd shares with its dup (zlib
 * owns one) never matters, and readahead is asked for with
 * POSIX_FADV_SEQUENTIAL. zlib gets a dup of the fd because gzclose closes
 * what it was given, and the caller keeps its fd open across cycles.
 */
#include "tail/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* zlib's own input buffer; its 8 KiB default makes many small reads. */
#define GZ_BUFFER (256u * 1024u)

bool tail_input_is_gz(int fd, const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        return true;
    unsigned char magic[2];
    return pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

static int gz_start(int fd, gzFile *out, const char **why)
{
    int copy = dup(fd);
    if (copy < 0) {
        *why = "cannot duplicate the file descriptor for zlib";
        return -1;
    }
    /* zlib reads from the current offset, which the dup shares. */
    if (lseek(copy, 0, SEEK_SET) != 0) {
        close(copy);
        *why = "cannot seek to the start of the file";
        return -1;
    }
    gzFile gz = gzdopen(copy, "rb");
    if (gz == NULL) {
        close(copy);
        *why = "zlib cannot open the file (out of memory)";
        return -1;
    }
    gzbuffer(gz, GZ_BUFFER);
    *out = gz;
    return 0;
}

int tail_input_open(tail_input *in, int fd, bool gz, uint64_t limit, const char **why)
{
    memset(in, 0, sizeof(*in));
    in->fd = fd;
    in->limit = limit;
    if (gz)
        return gz_start(fd, &in->gz, why);
    /* Advice only: a failure changes nothing but speed. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

/* zlib's verdict once gzread returns 0: the end of a whole stream, a
 * stream that stops short (still being written), or damage. */
static int gz_end(tail_input *in, const char **why)
{
    int err = Z_OK;
    const char *msg = gzerror(in->gz, &err);
    in->at_end = true;
    if (err == Z_OK) {
        in->complete = true;
        return 0;
    }
    if (err == Z_BUF_ERROR) {
        in->complete = false; /* truncated: wait for the rest */
        return 0;
    }
    *why = msg != NULL ? msg : "corrupt gzip data";
    return -1;
}

int tail_input_read(tail_input *in, char *dst, size_t room, size_t *got, const char **why)
{
    *got = 0;
    if (in->at_end || room == 0)
        return 0;
    if (in->gz != NULL) {
        unsigned n = room > (size_t)INT_MAX ? (unsigned)INT_MAX : (unsigned)room;
        int r = gzread(in->gz, dst, n);
        if (r < 0) {
            int err;
            const char *msg = gzerror(in->gz, &err);
            *why = msg != NULL ? msg : "corrupt gzip data";
            return -1;
        }
        if (r == 0)
            return gz_end(in, why);
        in->pos += (uint64_t)r;
        *got = (size_t)r;
        return 0;
    }
    if (in->pos >= in->limit) {
        in->at_end = in->complete = true;
        return 0;
    }
    if (room > in->limit - in->pos)
        room = (size_t)(in->limit - in->pos);
    for (;;) {
        ssize_t r = pread(in->fd, dst, room, (off_t)in->pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = strerror(errno);
            return -1;
        }
        if (r == 0) /* shorter than it was: the caller sees the end */
            in->at_end = in->complete = true;
        in->pos += (uint64_t)r;
        *got = (size_t)r;
        return 0;
    }
}

int tail_input_skip(tail_input *in, uint64_t to, char *scratch, size_t cap, const char **why)
{
    if (in->gz == NULL) {
        if (to > in->limit)
            return 1;
        in->pos = to;
        return 0;
    }
    while (in->pos < to) {
        size_t want = to - in->pos < cap ? (size_t)(to - in->pos) : cap, got;
        if (tail_input_read(in, scratch, want, &got, why) != 0)
            return -1;
        if (got == 0)
            return 1;
    }
    return 0;
}

void tail_input_close(tail_input *in)
{
    if (in->gz != NULL)
        gzclose_r(in->gz);
    in->gz = NULL;
}

int tail_input_prefix(int fd, bool gz, char *dst, size_t cap, size_t *got, bool *complete,
                     const char **why)
{
    tail_input in;
    if (tail_input_open(&in, fd, gz, UINT64_MAX, why) != 0)
        return -1;
    size_t have = 0;
    int rc = 0;
    /* One byte more than asked tells whether the content ends here. */
    char extra;
    while (have < cap) {
        size_t n;
        if ((rc = tail_input_read(&in, dst + have, cap - have, &n, why)) != 0 || n == 0)
            break;
        have += n;
    }
    bool ended = in.at_end;
    if (rc == 0 && !ended) {
        size_t n;
        rc = tail_input_read(&in, &extra, 1, &n, why);
        ended = rc == 0 && n == 0;
    }
    *complete = ended && (gz ? in.complete : true);
    tail_input_close(&in);
    *got = have;
    return rc;
}

int tail_block_init(tail_block *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->buf = malloc(cap);
    if (b->buf == NULL)
        return -1;
    b->cap = cap;
    return 0;
}

void tail_block_free(tail_block *b)
{
    free(b->buf);
    b->buf = NULL;
}

void tail_block_reset(tail_block *b, uint64_t offset)
{
    b->head = b->tail = 0;
    b->base = offset;
}

int tail_block_fill(tail_block *b, tail_input *in, size_t want, size_t *got, const char **why)
{
    if (b->head > 0) {
        memmove(b->buf, b->buf + b->head, b->tail - b->head);
        b->base += b->head;
        b->tail -= b->head;
        b->head = 0;
    }
    size_t room = b->cap - b->tail;
    if (want > room)
        want = room;
    if (tail_input_read(in, b->buf + b->tail, want, got, why) != 0)
        return -1;
    b->tail += *got;
    b->filled += *got;
    return 0;
}
