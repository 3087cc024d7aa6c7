/*
 * utf8.c — checking and repairing UTF-8.
 *
 * JSON strings must be UTF-8 (jansson refuses anything else), Prometheus
 * label values must be, and every Content-Type here says utf-8. User ids
 * come from CSV files and databases, which can hold any bytes; refusing the
 * whole export over one odd byte would lose everything else, so each byte
 * that is not part of a valid sequence becomes U+FFFD, the same way in all
 * three formats. The rules are RFC 3629's, as strict as jansson's.
 */
#include "format_priv.h"

size_t tf_utf8_seq(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0; /* a continuation byte, 0xc0/0xc1 (overlong), or past 0xf4 */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int tf_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = tf_utf8_seq(u + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

void tf_buf_add_utf8(tf_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;
    while (i < n) {
        size_t k = tf_utf8_seq(u + i, n - i);
        if (k > 0) {
            i += k;
            continue;
        }
        tf_buf_add(b, s + start, i - start);
        tf_buf_puts(b, TF_UTF8_REPLACEMENT);
        start = ++i;
    }
    tf_buf_add(b, s + start, n - start);
}
