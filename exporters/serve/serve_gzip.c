/*
 * serve_gzip.c — /metrics gzip'd at the cost of a memcpy.
 *
 * A view's text is the same for every scrape of its snapshot, but each
 * response ends with its own line (tally_snapshot_age_seconds). So the
 * text is deflated once, up to a sync flush, which leaves the stream
 * byte aligned with no final block yet (RFC 1951); a response then adds
 * its tail as one stored block (no compression: a few dozen bytes),
 * marked final, and the gzip trailer (RFC 1952): the CRC-32 of text and
 * tail, combined without reading the text again, and the length. One
 * gzip member, as every client reads it.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* RFC 1952: magic, deflate, no flags, no time, no extra flags, Unix. */
static const unsigned char gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

int serve_gz_make(const char *text, size_t len, serve_gz *out)
{
    memset(out, 0, sizeof(*out));
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* Raw deflate (negative window bits): the header is ours. Level 1:
     * made once per snapshot, but on the cycle's heels. */
    if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = sizeof(gzip_header) + deflateBound(&z, (uLong)len) + 16;
    out->head = malloc(cap);
    int rc = out->head != NULL ? Z_OK : Z_MEM_ERROR;
    if (rc == Z_OK) {
        memcpy(out->head, gzip_header, sizeof(gzip_header));
        z.next_in = (Bytef *)text;
        z.avail_in = (uInt)len;
        z.next_out = out->head + sizeof(gzip_header);
        z.avail_out = (uInt)(cap - sizeof(gzip_header));
        rc = deflate(&z, Z_SYNC_FLUSH);
        if (rc == Z_OK && z.avail_in != 0)
            rc = Z_BUF_ERROR;
    }
    if (rc == Z_OK) {
        out->head_len = cap - z.avail_out;
        out->crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)len);
        out->text_len = len;
    }
    deflateEnd(&z);
    if (rc != Z_OK) {
        free(out->head);
        memset(out, 0, sizeof(*out));
        out->failed = 1;
        return -1;
    }
    return 0;
}

void serve_gz_free(serve_gz *gz)
{
    free(gz->head);
    memset(gz, 0, sizeof(*gz));
}

static void put_le32(unsigned char *p, unsigned long v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

size_t serve_gz_tail(const serve_gz *gz, const char *tail, size_t tail_len, unsigned char *out)
{
    if (tail_len > 0xffff)
        tail_len = 0xffff; /* a stored block holds at most this; tails are a line or two */
    out[0] = 1;            /* BFINAL, BTYPE 00: stored */
    out[1] = (unsigned char)(tail_len & 0xff);
    out[2] = (unsigned char)(tail_len >> 8);
    out[3] = (unsigned char)(~tail_len & 0xff);
    out[4] = (unsigned char)((~tail_len >> 8) & 0xff);
    memcpy(out + 5, tail, tail_len);
    unsigned long crc =
        crc32_combine(gz->crc, crc32(crc32(0L, Z_NULL, 0), (const Bytef *)tail, (uInt)tail_len),
                      (z_off_t)tail_len);
    put_le32(out + 5 + tail_len, crc);
    put_le32(out + 9 + tail_len, (unsigned long)((gz->text_len + tail_len) & 0xffffffffUL));
    return SERVE_GZ_TAIL_EXTRA + tail_len;
}
