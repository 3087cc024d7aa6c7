/*
 * file_render.c — a rendering streamed into a temporary file (the fill of
 * file_write.c): exporters/format hands its text on in pieces, optionally
 * through a filter of JSON members (file_members.c), and each piece is
 * written at once, so memory stays at a piece and a page of history
 * however long the lists.
 */
#include "file.h"

#include <errno.h>

struct fd_sink {
    int fd;
    int err; /* errno of the write that failed, or 0 */
};

static int fd_sink_write(void *arg, const char *data, size_t len)
{
    struct fd_sink *s = arg;
    if (file_write_all(s->fd, data, len) == 0)
        return 0;
    s->err = errno != 0 ? errno : EIO;
    return -1;
}

int file_render_fill(void *arg, int fd)
{
    const file_render *r = arg;
    struct fd_sink out = {fd, 0};
    file_members members;
    tally_format_sink sink = fd_sink_write;
    void *sink_arg = &out;
    if (r->members != NULL) {
        file_members_init(&members, r->members, r->keep, r->date, fd_sink_write, &out);
        sink = file_members_sink;
        sink_arg = &members;
    }
    int rc = tally_format_stream(r->format, r->snap, &r->opts, sink, sink_arg);
    if (r->members != NULL)
        file_members_free(&members);
    if (out.err != 0) {
        errno = out.err;
        return FILE_FILL_IO;
    }
    return rc == 0 ? FILE_FILL_OK : FILE_FILL_RENDER;
}
