/*
 * metricmap_meet.c — whether two label templates can give one value: the
 * intersection of two tiny regular languages.
 *
 * A template is literal bytes and $N, where $N is what a '*' matched: one
 * or more bytes, none a '.'. Each becomes a row of tokens: a literal byte,
 * or "a byte other than '.'", optionally repeated (so $N is that byte
 * once, then repeated). Two templates meet when one string walks both
 * rows to their ends. Every step moves forward in one row or both (a
 * repeated token that reads a byte while the other row's repeated token
 * does too stays put, which adds nothing), so the pairs of positions
 * (i, j) are visited in one pass in order, like an edit-distance table.
 */
#include "metricmap_priv.h"

#include <stdlib.h>

typedef struct tok {
    int any;  /* any byte but '.'; else the byte c */
    int loop; /* may repeat, or be skipped */
    unsigned char c;
} tok;

static size_t tokens(const mm_piece *p, size_t n, tok *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].star >= 0) {
            out[k++] = (tok){1, 0, 0};
            out[k++] = (tok){1, 1, 0};
        } else {
            for (size_t j = 0; j < p[i].len; j++)
                out[k++] = (tok){0, 0, (unsigned char)p[i].s[j]};
        }
    }
    return k;
}

static int one_byte_both(tok a, tok b)
{
    if (a.any && b.any)
        return 1;
    if (a.any)
        return b.c != '.';
    if (b.any)
        return a.c != '.';
    return a.c == b.c;
}

int mm_templates_meet(const mm_piece *a, size_t na, const mm_piece *b, size_t nb)
{
    /* A piece is at least one byte of the template, and $N is 2 bytes
     * for 2 tokens, so tokens never outnumber the template's bytes. */
    tok ta[MM_MAX_PIECES + 1], tb[MM_MAX_PIECES + 1];
    size_t la = tokens(a, na, ta), lb = tokens(b, nb, tb);
    size_t w = lb + 1;
    unsigned char *seen = calloc((la + 1) * w, 1);
    if (seen == NULL)
        return 1; /* cannot tell: say they meet, which refuses, never wrongly accepts */
    seen[0] = 1;
    for (size_t i = 0; i <= la; i++) {
        for (size_t j = 0; j <= lb; j++) {
            if (!seen[i * w + j])
                continue;
            if (i < la && ta[i].loop)
                seen[(i + 1) * w + j] = 1;
            if (j < lb && tb[j].loop)
                seen[i * w + j + 1] = 1;
            if (i < la && j < lb && one_byte_both(ta[i], tb[j]) && !(ta[i].loop && tb[j].loop))
                seen[(i + !ta[i].loop) * w + j + !tb[j].loop] = 1;
        }
    }
    int meet = seen[la * w + lb];
    free(seen);
    return meet;
}
