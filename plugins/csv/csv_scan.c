/*
 * csv_scan.c — the RFC 4180 row scanner (csv_scan.h).
 *
 * Speed comes from looking at many bytes at a time. Outside quotes, four
 * SSE2 passes of 16 bytes (or, off x86_64, SWAR words of 8) yield bit
 * masks over 64 bytes: the commas, the other bytes that can end or change
 * a field (quote, LF, NUL), and the bytes >= 0x80. An unquoted field is
 * then a run between two bits, and a comma is handled from its bit alone,
 * so a row of plain fields costs a few block loads plus a short step per
 * comma, and nothing is copied. A CR needs no bit: only one right before
 * an LF means anything, and the LF looks back for it. A quoted field
 * switches to a mask of quote, LF and NUL, 16 bytes at a time, until its
 * closing quote.
 *
 * UTF-8 is checked once per row, after the row's end is known and only if
 * a byte >= 0x80 was seen: after the first such byte the high-bit mask is
 * switched off, so text in other scripts does not stop the field walk at
 * every byte.
 *
 * The scanner never looks beyond min(len, max_row_bytes) bytes (the
 * window), so a row without end costs at most that much before it is
 * refused, and a partial row is simply scanned again once more bytes came.
 */
#include "csv_scan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define BLOCK 16
#define PLAIN_BLOCK 64

static const char R_QUOTE_IN_FIELD[] = "a quote inside an unquoted field";
static const char R_AFTER_QUOTE[] =
    "a character other than a comma or a line end after a closing quote";
static const char R_UNCLOSED[] = "a quoted field not closed at the end of the file";
static const char R_NUL[] = "a NUL byte";
static const char R_UTF8[] = "invalid UTF-8";
static const char R_FIELD_LONG[] = "a field longer than the field size limit";
static const char R_TOO_MANY[] = "more fields than the field count limit";
static const char R_ROW_LONG[] = "a row longer than the row size limit";
static const char R_NOMEM[] = "out of memory";

struct csv_scanner {
    size_t max_fields, max_field_bytes, max_row_bytes;
    csv_field *fields;
    size_t cap;
    char *scratch; /* unescaped quoted fields of the current row */
    size_t scratch_cap, scratch_used;
    bool discarding; /* the rest of an over-long row, through its LF */
};

int csv_scanner_new(const csv_limits *lim, csv_scanner **out)
{
    *out = NULL;
    csv_scanner *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    s->max_fields = lim && lim->max_fields ? lim->max_fields : CSV_DEFAULT_MAX_FIELDS;
    s->max_field_bytes =
        lim && lim->max_field_bytes ? lim->max_field_bytes : CSV_DEFAULT_MAX_FIELD_BYTES;
    s->max_row_bytes = lim && lim->max_row_bytes ? lim->max_row_bytes : CSV_DEFAULT_MAX_ROW_BYTES;
    /* csv_field.len is 32 bits wide. */
    if (s->max_field_bytes > UINT32_MAX)
        s->max_field_bytes = UINT32_MAX;
    s->cap = s->max_fields < 64 ? s->max_fields : 64;
    s->fields = malloc(s->cap * sizeof(*s->fields));
    if (s->fields == NULL) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void csv_scanner_free(csv_scanner *s)
{
    if (s == NULL)
        return;
    free(s->fields);
    free(s->scratch);
    free(s);
}

size_t csv_scanner_row_limit(const csv_scanner *s)
{
    return s->max_row_bytes;
}

bool csv_scanner_discarding(const csv_scanner *s)
{
    return s->discarding;
}

void csv_scanner_discard_rest(csv_scanner *s)
{
    s->discarding = true;
}

/* ---- Byte classes, 16 bytes at a time ----------------------------------- */

#if defined(__SSE2__)

/* Bits for commas in *comma, for " LF NUL in *other and for bytes >= 0x80
 * in *high. */
static inline void classify_plain(const unsigned char *p, uint32_t *comma, uint32_t *other,
                                  uint32_t *high)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    __m128i z = _mm_cmpeq_epi8(v, _mm_setzero_si128());
    *comma = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
    *other = (uint32_t)_mm_movemask_epi8(_mm_or_si128(a, z));
    *high = (uint32_t)_mm_movemask_epi8(v);
}

/* Inside quotes only " LF NUL matter (and high bytes). */
static inline void classify_quoted(const unsigned char *p, uint32_t *special, uint32_t *high)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    __m128i z = _mm_cmpeq_epi8(v, _mm_setzero_si128());
    *special = (uint32_t)_mm_movemask_epi8(_mm_or_si128(a, z));
    *high = (uint32_t)_mm_movemask_epi8(v);
}

#else

#define ONES UINT64_C(0x0101010101010101)
#define LOW7 UINT64_C(0x7f7f7f7f7f7f7f7f)

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* 0x80 in every byte of w equal to c, exactly (no carries between bytes). */
static inline uint64_t eq_bytes(uint64_t w, unsigned c)
{
    uint64_t x = w ^ (ONES * c);
    return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/* The top bit of each byte, gathered into 8 bits (first byte lowest). */
static inline uint32_t gather(uint64_t top)
{
    return (uint32_t)(((top >> 7) * UINT64_C(0x0102040810204080)) >> 56);
}

static inline void classify_plain(const unsigned char *p, uint32_t *comma, uint32_t *other,
                                  uint32_t *high)
{
    uint64_t w0 = load64(p), w1 = load64(p + 8);
    uint64_t s0 = eq_bytes(w0, '"') | eq_bytes(w0, '\n') | eq_bytes(w0, 0);
    uint64_t s1 = eq_bytes(w1, '"') | eq_bytes(w1, '\n') | eq_bytes(w1, 0);
    *comma = gather(eq_bytes(w0, ',')) | gather(eq_bytes(w1, ',')) << 8;
    *other = gather(s0) | gather(s1) << 8;
    *high = gather(w0 & ~LOW7) | gather(w1 & ~LOW7) << 8;
}

static inline void classify_quoted(const unsigned char *p, uint32_t *special, uint32_t *high)
{
    uint64_t w0 = load64(p), w1 = load64(p + 8);
    uint64_t s0 = eq_bytes(w0, '"') | eq_bytes(w0, '\n') | eq_bytes(w0, 0);
    uint64_t s1 = eq_bytes(w1, '"') | eq_bytes(w1, '\n') | eq_bytes(w1, 0);
    *special = gather(s0) | gather(s1) << 8;
    *high = gather(w0 & ~LOW7) | gather(w1 & ~LOW7) << 8;
}

#endif

/* Inside quotes: the classes of p[0..avail) as a mask of interesting
 * bytes; bytes >= 0x80 count only while high_on is all ones. Near the end
 * of the window the bytes are copied to a padded block, so nothing past it
 * is read. */
static inline uint32_t quoted_mask(const unsigned char *p, size_t avail, uint32_t high_on,
                                   uint32_t *high)
{
    uint32_t special;
    if (avail >= BLOCK) {
        classify_quoted(p, &special, high);
        *high &= high_on;
        return special | *high;
    }
    unsigned char tmp[BLOCK];
    memset(tmp, 'a', sizeof(tmp));
    memcpy(tmp, p, avail);
    classify_quoted(tmp, &special, high);
    uint32_t valid = ((uint32_t)1 << avail) - 1;
    *high &= high_on & valid;
    return (special & valid) | *high;
}

/* Outside quotes, 64 bytes at a time, so that a typical row is a handful
 * of blocks: the commas in *commas, and in the result the commas, quotes,
 * LFs, NULs and, while high_on is all ones, bytes >= 0x80 (also in
 * *high). A CR is not looked for: only one right before an LF means
 * anything, and the LF's handler looks back for it. */
static inline uint64_t plain_mask(const unsigned char *p, size_t avail, uint64_t high_on,
                                  uint64_t *commas, uint64_t *high)
{
    unsigned char tmp[PLAIN_BLOCK];
    uint64_t valid = ~UINT64_C(0);
    if (avail < PLAIN_BLOCK) {
        memset(tmp, 'a', sizeof(tmp));
        memcpy(tmp, p, avail);
        p = tmp;
        valid = (UINT64_C(1) << avail) - 1;
    }
    uint64_t c = 0, o = 0, h = 0;
    for (unsigned k = 0; k < PLAIN_BLOCK / BLOCK; k++) {
        uint32_t ck, ok, hk;
        classify_plain(p + BLOCK * k, &ck, &ok, &hk);
        c |= (uint64_t)ck << (BLOCK * k);
        o |= (uint64_t)ok << (BLOCK * k);
        h |= (uint64_t)hk << (BLOCK * k);
    }
    *commas = c & valid;
    *high = h & high_on & valid;
    return ((c | o) & valid) | *high;
}

/* ---- Fields ------------------------------------------------------------- */

static int grow_fields(csv_scanner *s)
{
    size_t cap = s->cap * 2;
    if (cap > s->max_fields)
        cap = s->max_fields;
    csv_field *f = realloc(s->fields, cap * sizeof(*f));
    if (f == NULL)
        return -1;
    s->fields = f;
    s->cap = cap;
    return 0;
}

/* Stores a field unless the row already has a fault; the limits are
 * checked here, where the field ends. */
static inline size_t emit(csv_scanner *s, size_t nf, const char **err, const unsigned char *ptr,
                          size_t len)
{
    if (*err != NULL)
        return nf;
    if (nf >= s->max_fields) {
        *err = R_TOO_MANY;
        return nf;
    }
    if (len > s->max_field_bytes) {
        *err = R_FIELD_LONG;
        return nf;
    }
    if (nf == s->cap && grow_fields(s) != 0) {
        *err = R_NOMEM;
        return nf;
    }
    s->fields[nf].ptr = (const char *)ptr;
    s->fields[nf].len = (uint32_t)len;
    return nf + 1;
}

/* A quoted field with doubled quotes, p[0..n) between its outer quotes,
 * unescaped into scratch. Scratch is sized for the whole window before the
 * row's first such field, because the fields already stored point into it
 * and must not move. */
static size_t emit_unescaped(csv_scanner *s, size_t nf, const char **err, const unsigned char *p,
                             size_t n, size_t window)
{
    if (*err != NULL)
        return nf;
    if (s->scratch_cap < window) {
        char *m = malloc(window);
        if (m == NULL) {
            *err = R_NOMEM;
            return nf;
        }
        free(s->scratch);
        s->scratch = m;
        s->scratch_cap = window;
    }
    char *out = s->scratch + s->scratch_used;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k++] = (char)p[i];
        if (p[i] == '"')
            i++; /* the second of a pair */
    }
    s->scratch_used += k;
    return emit(s, nf, err, (const unsigned char *)out, k);
}

/* ---- Rows --------------------------------------------------------------- */

/* While discarding the rest of an over-long row: through the next LF, or
 * all of buf (and, at the end of a file, the row ends there too). */
static int discard(csv_scanner *s, const char *buf, size_t len, bool last, csv_row *row,
                   size_t *used)
{
    const char *lf = len ? memchr(buf, '\n', len) : NULL;
    if (lf != NULL) {
        *used = (size_t)(lf - buf) + 1;
        row->lines = 1;
        s->discarding = false;
    } else {
        *used = len;
        if (last)
            s->discarding = false;
    }
    return CSV_NEED_MORE;
}

static int scan(csv_scanner *s, const char *buf, size_t len, bool last, csv_row *row, size_t *used,
                const char **reason)
{
    row->fields = s->fields;
    row->n_fields = 0;
    row->lines = 0;
    *used = 0;
    *reason = NULL;
    if (s->discarding)
        return discard(s, buf, len, last, row, used);
    if (len == 0)
        return CSV_NEED_MORE;

    const unsigned char *b = (const unsigned char *)buf;
    const size_t win = len < s->max_row_bytes ? len : s->max_row_bytes;
    /* At the end of a file that fits the window, the end of buf ends the row. */
    const bool eof_ends = last && len <= s->max_row_bytes;
    size_t pos = 0, fstart = 0, nf = 0, lines = 0, end = 0, q;
    bool escaped;
    const unsigned char *lf;
    const char *err = NULL, *fault = NULL;
    uint64_t high_on = UINT64_MAX; /* cleared after the first byte >= 0x80 */
    const size_t max_len = s->max_field_bytes;
    csv_field *fields;
    size_t cap;
    s->scratch_used = 0;

plain:
    /* An unquoted field (or the quote that opens a quoted one) at fstart.
     * A comma is told from the mask alone, and its field stored inline
     * unless a limit, the field array's size or an earlier fault is in
     * the way, which emit() sorts out. */
    fields = s->fields;
    cap = s->cap;
    while (pos < win) {
        uint64_t commas, high;
        uint64_t m = plain_mask(b + pos, win - pos, high_on, &commas, &high);
        while (m != 0) {
            const unsigned bit = (unsigned)__builtin_ctzll(m);
            const size_t p = pos + bit;
            m &= m - 1;
            if ((commas >> bit) & 1) {
                const size_t flen = p - fstart;
                if (nf < cap && flen <= max_len && err == NULL) {
                    fields[nf].ptr = (const char *)b + fstart;
                    fields[nf].len = (uint32_t)flen;
                    nf++;
                } else {
                    nf = emit(s, nf, &err, b + fstart, flen);
                    fields = s->fields;
                    cap = s->cap;
                }
                fstart = p + 1;
                continue;
            }
            const unsigned c = b[p];
            if (c == '\n') {
                size_t flen = p - fstart;
                if (flen > 0 && b[p - 1] == '\r')
                    flen--;
                nf = emit(s, nf, &err, b + fstart, flen);
                end = p;
                lines++;
                goto row_lf;
            } else if (c == '"') {
                if (p != fstart) {
                    fault = R_QUOTE_IN_FIELD;
                    pos = p;
                    goto resync;
                }
                pos = p;
                goto quoted;
            } else if (c == 0) {
                if (err == NULL)
                    err = R_NUL;
            } else if (c >= 0x80) {
                high_on = 0;
                m &= ~high;
            }
        }
        pos += PLAIN_BLOCK;
    }
    if (eof_ends) {
        size_t flen = len - fstart;
        if (flen > 0 && b[len - 1] == '\r')
            flen--;
        nf = emit(s, nf, &err, b + fstart, flen);
        end = len;
        goto row_eof;
    }
    goto out_of_window;

quoted:
    /* b[pos] is the opening quote. */
    q = pos + 1;
    escaped = false;
    for (;;) {
        if (q >= win) {
            if (eof_ends) {
                if (err == NULL)
                    err = R_UNCLOSED;
                end = len;
                goto row_eof;
            }
            goto out_of_window;
        }
        uint32_t high;
        uint32_t m = quoted_mask(b + q, win - q, (uint32_t)high_on, &high);
        if (m == 0) {
            q += BLOCK;
            continue;
        }
        size_t p = q + (size_t)__builtin_ctz(m);
        unsigned c = b[p];
        q = p + 1;
        if (c == '\n') {
            lines++;
            continue;
        }
        if (c == 0) {
            if (err == NULL)
                err = R_NUL;
            continue;
        }
        if (c != '"') {
            high_on = 0;
            continue;
        }
        if (p + 1 >= win) {
            /* A quote at the end: closing, or the first of a pair? */
            if (last && p + 1 == len) {
                if (escaped)
                    nf = emit_unescaped(s, nf, &err, b + pos + 1, p - pos - 1, win);
                else
                    nf = emit(s, nf, &err, b + pos + 1, p - pos - 1);
                end = len;
                goto row_eof;
            }
            goto out_of_window;
        }
        if (b[p + 1] == '"') {
            escaped = true;
            q = p + 2;
            continue;
        }
        if (escaped)
            nf = emit_unescaped(s, nf, &err, b + pos + 1, p - pos - 1, win);
        else
            nf = emit(s, nf, &err, b + pos + 1, p - pos - 1);
        pos = p + 1;
        c = b[pos];
        if (c == ',') {
            pos++;
            fstart = pos;
            goto plain;
        }
        if (c == '\n') {
            end = pos;
            lines++;
            goto row_lf;
        }
        if (c == '\r') {
            if (pos + 1 < win) {
                if (b[pos + 1] == '\n') {
                    end = pos + 1;
                    lines++;
                    goto row_lf;
                }
            } else if (last && pos + 1 == len) {
                end = len;
                goto row_eof;
            } else {
                goto out_of_window;
            }
        }
        fault = R_AFTER_QUOTE;
        goto resync;
    }

resync:
    /* The quoting is broken, so the row ends at the next LF, whatever the
     * quotes around it. */
    if (err == NULL)
        err = fault;
    lf = memchr(b + pos, '\n', win - pos);
    if (lf != NULL) {
        end = (size_t)(lf - b);
        lines++;
        goto row_lf;
    }
    if (eof_ends) {
        end = len;
        goto row_eof;
    }

out_of_window:
    if (len > s->max_row_bytes) {
        /* No row end within the limit, and more bytes than it: refuse the
         * head now, drop the rest. (With exactly max_row_bytes the row may
         * still be the file's last, without LF.) */
        s->discarding = true;
        *used = s->max_row_bytes;
        row->lines = lines;
        *reason = R_ROW_LONG;
        return CSV_BAD;
    }
    return CSV_NEED_MORE;

row_lf:
    *used = end + 1;
    goto row_done;
row_eof:
    *used = len;
row_done:
    row->lines = lines;
    if (err == NULL && high_on == 0 && !rec_utf8_valid(b, end))
        err = R_UTF8;
    if (err != NULL) {
        *reason = err;
        return CSV_BAD;
    }
    row->fields = s->fields;
    row->n_fields = nf;
    return CSV_ROW;
}

int csv_scan_row(csv_scanner *s, const char *buf, size_t len, csv_row *row, size_t *used,
                 const char **reason)
{
    return scan(s, buf, len, false, row, used, reason);
}

int csv_scan_last_row(csv_scanner *s, const char *buf, size_t len, csv_row *row, size_t *used,
                      const char **reason)
{
    return scan(s, buf, len, true, row, used, reason);
}
