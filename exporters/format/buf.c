/*
 * buf.c — the text a renderer writes, growing as it goes.
 *
 * Renderers write many small pieces; checking each write would bury what
 * they say under error handling. Instead a failed allocation makes the
 * buffer sticky-failed, later writes are ignored, and the one check is in
 * tf_buf_finish.
 */
#include "format_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tf_buf_init(tf_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
    b->sink = NULL;
    b->sink_arg = NULL;
}

void tf_buf_init_sink(tf_buf *b, tf_sink sink, void *arg)
{
    tf_buf_init(b);
    b->sink = sink;
    b->sink_arg = arg;
}

int tf_buf_flush(tf_buf *b)
{
    if (!b->failed && b->sink != NULL && b->len > 0) {
        if (b->sink(b->sink_arg, b->p, b->len) != 0)
            b->failed = 1;
        b->len = 0;
    }
    return b->failed ? -1 : 0;
}

/* After a write: a full piece goes to the sink. */
static void buf_wrote(tf_buf *b)
{
    if (b->sink != NULL && b->len >= TF_BUF_PIECE)
        tf_buf_flush(b);
}

void tf_buf_fail(tf_buf *b)
{
    b->failed = 1;
}

/* Room for n more bytes and a NUL: 0, or -1 (and failed) when there is none. */
static int buf_reserve(tf_buf *b, size_t n)
{
    if (b->failed)
        return -1;
    if (n >= SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap > 0 ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void tf_buf_add(tf_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    buf_wrote(b);
}

void tf_buf_puts(tf_buf *b, const char *s)
{
    tf_buf_add(b, s, strlen(s));
}

void tf_buf_printf(tf_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        tf_buf_add(b, small, (size_t)n);
        return;
    }
    /* Longer than the stack buffer: print again, straight into b. */
    if (buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    buf_wrote(b);
}

int tf_buf_finish(tf_buf *b, char **out, size_t *len)
{
    /* An empty rendering is still a string. */
    if (buf_reserve(b, 0) != 0) {
        tf_buf_free(b);
        *out = NULL;
        *len = 0;
        return -1;
    }
    b->p[b->len] = '\0';
    *out = b->p;
    *len = b->len;
    tf_buf_init(b);
    return 0;
}

void tf_buf_free(tf_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
