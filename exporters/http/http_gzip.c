/*
 * http_gzip.c — a request body as one gzip member (RFC 1952), for
 * `compress = "gzip"` and its Content-Encoding: gzip. zlib writes the gzip
 * header and trailer itself when windowBits is 15 + 16.
 */
#include "http.h"

#include <stdlib.h>
#include <zlib.h>

int http_gzip(const void *data, size_t len, void **out, size_t *out_len)
{
    z_stream z = {0};
    *out = NULL;
    *out_len = 0;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    /* deflateBound covers the zlib wrapper; the gzip one is 12 bytes more. */
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *buf = malloc(cap);
    if (buf == NULL || len > UINT32_MAX || cap > UINT32_MAX) {
        free(buf);
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}
