/*
 * names.c — what a counter name may be, and the hash that places it.
 *
 * A name is 1..64 bytes of well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF) without control characters (C0, DEL,
 * C1). The hash is part of the region layout: changing it needs a new
 * TALLY_LAYOUT_VERSION, since every process must place a name alike.
 */
#include "layout.h"

#include <string.h>

/* Length of the UTF-8 sequence at s (n bytes left), 0 if it is not valid
 * or encodes a control character. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return (c < 0x20 || c == 0x7f) ? 0 : 1;
    if (c >= 0xc2 && c <= 0xdf) {
        if (n < 2 || (s[1] & 0xc0) != 0x80)
            return 0;
        /* U+0080..U+009F are the C1 controls. */
        return (c == 0xc2 && s[1] < 0xa0) ? 0 : 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

int tally_name_check(const char *name, size_t *len_out)
{
    if (name == NULL)
        return TALLY_ENAME;
    size_t len = strnlen(name, TALLY_NAME_MAX + 1);
    if (len == 0 || len > TALLY_NAME_MAX)
        return TALLY_ENAME;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_char(s + i, len - i);
        if (k == 0)
            return TALLY_ENAME;
        i += k;
    }
    *len_out = len;
    return 0;
}

int tally_name_valid(const char *name)
{
    size_t len;
    return tally_name_check(name, &len);
}

uint64_t tally_name_hash(const char *name, size_t len)
{
    uint64_t words[RECORD_WORDS] = {0};
    if (len > TALLY_SLOT_SIZE)
        len = TALLY_SLOT_SIZE;
    memcpy(words, name, len);
    return tally_words_hash(words, len);
}
