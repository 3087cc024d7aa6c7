/*
 * test_csv_scan.c — the RFC 4180 row scanner (plugins/csv/csv_scan.c):
 * CRLF, quoted commas, newlines and doubled quotes, empty fields and
 * lines, a last line without LF, every reason a row is refused and the row
 * after it, the over-long row discarded across calls, the limits, and rows
 * split at every byte and in random pieces, which must scan as in one go.
 *
 * Most cases compare a transcript — one line per call result, written by
 * hand from csv_scan.h — so a case reads as input and expected output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_scan.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Transcripts ---------------------------------------------------------- */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void put_bytes(text *t, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n')
            put(t, "\\n");
        else if (c == '\r')
            put(t, "\\r");
        else if (c == '\\' || c == '[' || c == ']')
            put(t, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            put(t, "\\x%02x", c);
        else
            put(t, "%c", c);
    }
}

/* Records one call's result. Discards are summed until the next other
 * result, because how many calls a discard takes depends on the pieces. */
typedef struct transcript {
    text t;
    size_t skip_used, skip_lines;
} transcript;

static void flush_skip(transcript *tr)
{
    if (tr->skip_used > 0 || tr->skip_lines > 0)
        put(&tr->t, "skip %zu/%zu\n", tr->skip_used, tr->skip_lines);
    tr->skip_used = tr->skip_lines = 0;
}

static void record(transcript *tr, int rc, const csv_row *row, size_t used, const char *reason)
{
    if (rc == CSV_NEED_MORE) {
        tr->skip_used += used;
        tr->skip_lines += row->lines;
        return;
    }
    flush_skip(tr);
    if (rc == CSV_BAD) {
        put(&tr->t, "bad %zu/%zu: %s\n", used, row->lines, reason);
        return;
    }
    put(&tr->t, "row %zu/%zu:", used, row->lines);
    for (size_t i = 0; i < row->n_fields; i++) {
        put(&tr->t, " [");
        put_bytes(&tr->t, row->fields[i].ptr, row->fields[i].len);
        put(&tr->t, "]");
    }
    put(&tr->t, "\n");
}

/* Checks what holds for every call, then records it. */
static void checked_record(transcript *tr, int rc, const csv_row *row, size_t used,
                           const char *reason, size_t len)
{
    assert_true(used <= len);
    assert_true(rc == CSV_ROW || rc == CSV_BAD || rc == CSV_NEED_MORE);
    if (rc != CSV_NEED_MORE)
        assert_true(used > 0);
    if (rc == CSV_BAD)
        assert_non_null(reason);
    if (rc != CSV_ROW)
        assert_int_equal(row->n_fields, 0);
    record(tr, rc, row, used, reason);
}

/* Scans all of in[0..n) at once: rows while the file may grow, then the
 * rest as the end of a file. */
static char *scan_whole(const char *in, size_t n, const csv_limits *lim)
{
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(lim, &s), 0);
    transcript tr = {0};
    put(&tr.t, "%s", "");
    size_t off = 0;
    bool last = false;
    for (;;) {
        csv_row row;
        size_t used;
        const char *reason;
        int rc = last ? csv_scan_last_row(s, in + off, n - off, &row, &used, &reason)
                      : csv_scan_row(s, in + off, n - off, &row, &used, &reason);
        checked_record(&tr, rc, &row, used, reason, n - off);
        off += used;
        if (rc == CSV_NEED_MORE && used == 0) {
            if (last)
                break;
            last = true;
        }
    }
    assert_int_equal(off, n);
    flush_skip(&tr);
    csv_scanner_free(s);
    return tr.t.s;
}

/* Scans in[0..n) as a reader that gets it in pieces: sizes[] in turn (0
 * ends the list and repeats it), or one byte at a time when sizes is NULL.
 * The buffer holds only the unconsumed bytes, as a reader's would. */
static char *scan_pieces(const char *in, size_t n, const csv_limits *lim, const size_t *sizes)
{
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(lim, &s), 0);
    transcript tr = {0};
    put(&tr.t, "%s", "");
    char *buf = malloc(n + 1);
    size_t have = 0, fed = 0, k = 0;
    bool last = false;
    for (;;) {
        csv_row row;
        size_t used;
        const char *reason;
        /* A copy of exactly the bytes held, so ASan sees any read past them. */
        char *view = malloc(have ? have : 1);
        memcpy(view, buf, have);
        int rc = last ? csv_scan_last_row(s, view, have, &row, &used, &reason)
                      : csv_scan_row(s, view, have, &row, &used, &reason);
        checked_record(&tr, rc, &row, used, reason, have);
        free(view);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (rc == CSV_NEED_MORE && used == 0) {
            if (fed == n) {
                if (last)
                    break;
                last = true;
                continue;
            }
            size_t piece = 1;
            if (sizes != NULL) {
                if (sizes[k] == 0)
                    k = 0;
                piece = sizes[k++];
            }
            if (piece > n - fed)
                piece = n - fed;
            memcpy(buf + have, in + fed, piece);
            have += piece;
            fed += piece;
        }
    }
    assert_int_equal(have, 0);
    flush_skip(&tr);
    free(buf);
    csv_scanner_free(s);
    return tr.t.s;
}

/* Scans in (n bytes, or strlen when n is 0) at once, byte by byte and in
 * odd pieces; all three must give `want`. */
static void expect_n(const char *in, size_t n, const csv_limits *lim, const char *want)
{
    if (n == 0)
        n = strlen(in);
    static const size_t odd[] = {3, 1, 7, 2, 16, 5, 31, 0};
    char *whole = scan_whole(in, n, lim);
    assert_string_equal(whole, want);
    char *bytes = scan_pieces(in, n, lim, NULL);
    assert_string_equal(bytes, want);
    char *pieces = scan_pieces(in, n, lim, odd);
    assert_string_equal(pieces, want);
    free(whole);
    free(bytes);
    free(pieces);
}

static void expect(const char *in, const char *want)
{
    expect_n(in, 0, NULL, want);
}

/* ---- Rows and fields ------------------------------------------------------ */

static void test_plain_rows(void **state)
{
    expect("a,b,c\n1,2,3\n", "row 6/1: [a] [b] [c]\nrow 6/1: [1] [2] [3]\n");
    expect("one\n", "row 4/1: [one]\n");
    expect("", "");
}

static void test_crlf(void **state)
{
    expect("a,b\r\nc,d\r\n", "row 5/1: [a] [b]\nrow 5/1: [c] [d]\n");
    /* Only the CR right before the LF goes; a CR elsewhere is data. */
    expect("a\rb,c\r\r\n", "row 8/1: [a\\rb] [c\\r]\n");
    expect("a,\r\n", "row 4/1: [a] []\n");
}

static void test_empty_fields_and_lines(void **state)
{
    expect(",,\n", "row 3/1: [] [] []\n");
    expect("\n\r\n", "row 1/1: []\nrow 2/1: []\n");
    expect("\"\",x,\"\"\n", "row 8/1: [] [x] []\n");
}

static void test_quoted_fields(void **state)
{
    expect("\"a,b\",c\n", "row 8/1: [a,b] [c]\n");
    expect("\"line1\nline2\",x\n", "row 16/2: [line1\\nline2] [x]\n");
    expect("\"a\"\"b\",\"\"\"\"\n", "row 12/1: [a\"b] [\"]\n");
    expect("\"cr\r\nlf\"\r\n", "row 10/2: [cr\\r\\nlf]\n");
    expect("x,\"\n\n\n\"\n", "row 8/4: [x] [\\n\\n\\n]\n");
    expect("\"q\"\r\n\"r\",\"s\"\n", "row 5/1: [q]\nrow 8/1: [r] [s]\n");
}

/* Plain and simply quoted fields point into the buffer; a field with a
 * doubled quote is unescaped elsewhere, and stays intact while the rest of
 * the row is scanned. */
static void test_field_pointers(void **state)
{
    const char in[] = "ab,\"c,d\",\"e\"\"f\",\"g\"\"\"\n";
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(NULL, &s), 0);
    csv_row row;
    size_t used;
    const char *reason;
    assert_int_equal(csv_scan_row(s, in, strlen(in), &row, &used, &reason), CSV_ROW);
    assert_int_equal(used, strlen(in));
    assert_int_equal(row.n_fields, 4);
    assert_ptr_equal(row.fields[0].ptr, in);
    assert_ptr_equal(row.fields[1].ptr, in + 4);
    assert_int_equal(row.fields[1].len, 3);
    assert_true(row.fields[2].ptr < in || row.fields[2].ptr >= in + sizeof(in));
    assert_memory_equal(row.fields[2].ptr, "e\"f", 3);
    assert_int_equal(row.fields[2].len, 3);
    assert_memory_equal(row.fields[3].ptr, "g\"", 2);
    assert_int_equal(row.fields[3].len, 2);
    csv_scanner_free(s);
}

/* Characters that end or open fields at every offset of the 16-byte
 * blocks the scanner looks at. */
static void test_block_boundaries(void **state)
{
    for (size_t k = 0; k < 40; k++) {
        char in[128], want[256];
        memset(in, 'x', k);
        snprintf(in + k, sizeof(in) - k, ",\"q,\"\"\",y\n");
        snprintf(want, sizeof(want), "row %zu/1: [%.*s] [q,\"] [y]\n", k + 10, (int)k, in);
        expect(in, want);

        memset(in, 'x', k);
        snprintf(in + k, sizeof(in) - k, "\r\n");
        snprintf(want, sizeof(want), "row %zu/1: [%.*s]\n", k + 2, (int)k, in);
        expect(in, want);
    }
}

static void test_many_fields(void **state)
{
    /* More than the scanner's first field array, fewer than the limit. */
    char in[2048];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "%s%d", i ? "," : "", i % 10);
    in[n++] = '\n';
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(NULL, &s), 0);
    csv_row row;
    size_t used;
    const char *reason;
    assert_int_equal(csv_scan_row(s, in, n, &row, &used, &reason), CSV_ROW);
    assert_int_equal(row.n_fields, 500);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(row.fields[i].len, 1);
        assert_int_equal(row.fields[i].ptr[0], '0' + i % 10);
    }
    csv_scanner_free(s);
}

/* ---- The last line -------------------------------------------------------- */

static void test_last_line_without_lf(void **state)
{
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(NULL, &s), 0);
    csv_row row;
    size_t used = 99;
    const char *reason;
    const char *in = "a,b\nc,\"d\"";
    assert_int_equal(csv_scan_row(s, in, strlen(in), &row, &used, &reason), CSV_ROW);
    assert_int_equal(used, 4);
    /* It may still grow: wait. */
    assert_int_equal(csv_scan_row(s, in + 4, 5, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(row.lines, 0);
    /* It will not: it is a row. */
    assert_int_equal(csv_scan_last_row(s, in + 4, 5, &row, &used, &reason), CSV_ROW);
    assert_int_equal(used, 5);
    assert_int_equal(row.lines, 0);
    assert_int_equal(row.n_fields, 2);
    assert_memory_equal(row.fields[1].ptr, "d", 1);
    assert_int_equal(csv_scan_last_row(s, in + 9, 0, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 0);
    csv_scanner_free(s);

    expect("a,b", "row 3/0: [a] [b]\n");
    expect("a,b\r", "row 4/0: [a] [b]\n");
    expect("\"a\"\r", "row 4/0: [a]\n");
    expect("x\n\"a\"\"\"", "row 2/1: [x]\nrow 5/0: [a\"]\n");
    expect("\"a\nb", "bad 4/1: a quoted field not closed at the end of the file\n");
    expect("\"a\"\"", "bad 4/0: a quoted field not closed at the end of the file\n");
}

/* ---- Bad rows --------------------------------------------------------------- */

static void test_quote_faults(void **state)
{
    expect("a,b\"c,d\nok\n", "bad 8/1: a quote inside an unquoted field\nrow 3/1: [ok]\n");
    /* The quoting is broken, so the row ends at the next LF. */
    expect("a\"b,\"x\ny\"\nok\n",
           "bad 7/1: a quote inside an unquoted field\nbad 3/1: a quote inside an unquoted "
           "field\nrow 3/1: [ok]\n");
    expect("\"a\"b,c\nok\n", "bad 7/1: a character other than a comma or a line end after a "
                             "closing quote\nrow 3/1: [ok]\n");
    expect("\"a\" ,c\nok\n", "bad 7/1: a character other than a comma or a line end after a "
                             "closing quote\nrow 3/1: [ok]\n");
    expect("\"a\"\rb\nok\n", "bad 6/1: a character other than a comma or a line end after a "
                             "closing quote\nrow 3/1: [ok]\n");
    expect(" \"a\"\nok\n", "bad 5/1: a quote inside an unquoted field\nrow 3/1: [ok]\n");
}

static void test_nul(void **state)
{
    expect_n("a\0b,c\nok\n", 9, NULL, "bad 6/1: a NUL byte\nrow 3/1: [ok]\n");
    expect_n("\"a\0\n\",c\nok\n", 11, NULL, "bad 8/2: a NUL byte\nrow 3/1: [ok]\n");
    expect_n("\0", 1, NULL, "bad 1/0: a NUL byte\n");
}

static void test_utf8(void **state)
{
    /* Valid: 2, 3 and 4 bytes, the edges of the ranges. */
    expect("\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x98\x80\n",
           "row 12/1: [\\xc3\\xa9] [\\xe2\\x82\\xac] [\\xf0\\x9f\\x98\\x80]\n");
    expect("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\n",
           "row 21/1: "
           "[\\xc2\\x80\\xdf\\xbf\\xe0\\xa0\\x80\\xed\\x9f\\xbf\\xee\\x80\\x80\\xef\\xbf\\xbf"
           "\\xf4\\x8f\\xbf\\xbf]\n");
    expect("\"\xe6\xa8\xa1\xe5\x9e\x8b\",x\n", "row 11/1: [\\xe6\\xa8\\xa1\\xe5\\x9e\\x8b] [x]\n");

    static const char *const bad[] = {
        "\x80",             /* a lone continuation byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong 3 bytes */
        "\xf0\x8f\xbf\xbf", /* overlong 4 bytes */
        "\xed\xa0\x80",     /* a surrogate */
        "\xed\xbf\xbf",     /* a surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* no such lead byte */
        "\xff",
        "\xe2\x82", /* cut short before the comma */
        "\xc3",
        "\xe2\x28\xa1", /* a bad continuation */
        "\xf0\x9f\x98", /* cut short */
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        char in[64], want[128];
        /* In a plain field, in a quoted one, and after 20 ASCII bytes. */
        int n = snprintf(in, sizeof(in), "%s,x\nok\n", bad[i]);
        snprintf(want, sizeof(want), "bad %d/1: invalid UTF-8\nrow 3/1: [ok]\n", n - 3);
        expect(in, want);
        n = snprintf(in, sizeof(in), "\"%s\"\nok\n", bad[i]);
        snprintf(want, sizeof(want), "bad %d/1: invalid UTF-8\nrow 3/1: [ok]\n", n - 3);
        expect(in, want);
        n = snprintf(in, sizeof(in), "abcdefghijklmnopqrst%s\nok\n", bad[i]);
        snprintf(want, sizeof(want), "bad %d/1: invalid UTF-8\nrow 3/1: [ok]\n", n - 3);
        expect(in, want);
    }
    /* A UTF-8 fault is named only when the row has no other. */
    expect("\xff,a\"b\nok\n", "bad 6/1: a quote inside an unquoted field\nrow 3/1: [ok]\n");
}

static void test_limits(void **state)
{
    csv_limits lim = {.max_fields = 3, .max_field_bytes = 4, .max_row_bytes = 16};
    expect_n("a,b,c\n", 0, &lim, "row 6/1: [a] [b] [c]\n");
    expect_n("a,b,c,d\nok\n", 0, &lim,
             "bad 8/1: more fields than the field count limit\nrow 3/1: [ok]\n");
    expect_n("abcd,\"wxyz\"\n", 0, &lim, "row 12/1: [abcd] [wxyz]\n");
    expect_n("abcde\nok\n", 0, &lim,
             "bad 6/1: a field longer than the field size limit\nrow 3/1: [ok]\n");
    expect_n("\"abcde\"\nok\n", 0, &lim,
             "bad 8/1: a field longer than the field size limit\nrow 3/1: [ok]\n");
    /* The limit counts the field as unescaped: 4 bytes from 6. */
    expect_n("\"a\"\"\"\"b\"\nok\n", 0, &lim, "row 9/1: [a\"\"b]\nrow 3/1: [ok]\n");
    /* The first fault in byte order names the row. */
    expect_n("abcde,a\"\nok\n", 0, &lim,
             "bad 9/1: a field longer than the field size limit\nrow 3/1: [ok]\n");
    /* Exactly max_row_bytes with its LF is a row. */
    expect_n("abcd,abcd,abcd,\n", 0, &lim, "bad 16/1: more fields than the field count limit\n");
    expect_n("abcd,abcd,abcd\r\n", 0, &lim, "row 16/1: [abcd] [abcd] [abcd]\n");
    expect_n("abc,abcd,\"a\nb\"\r\n", 0, &lim, "row 16/2: [abc] [abcd] [a\\nb]\n");

    lim = (csv_limits){0};
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(&lim, &s), 0);
    assert_int_equal(csv_scanner_row_limit(s), 1024 * 1024);
    csv_scanner_free(s);
    assert_int_equal(csv_scanner_new(NULL, &s), 0);
    assert_int_equal(csv_scanner_row_limit(s), 1024 * 1024);
    csv_scanner_free(s);
}

/* The default limits: 512 fields and 64 KiB a field. */
static void test_default_limits(void **state)
{
    size_t n = 70 * 1024;
    char *in = malloc(n);
    size_t k = 0;
    for (int i = 0; i < 513; i++) {
        in[k++] = 'x';
        in[k++] = i == 512 ? '\n' : ',';
    }
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(NULL, &s), 0);
    csv_row row;
    size_t used;
    const char *reason;
    assert_int_equal(csv_scan_row(s, in, k, &row, &used, &reason), CSV_BAD);
    assert_string_equal(reason, "more fields than the field count limit");
    assert_int_equal(csv_scan_row(s, in + 2, k - 2, &row, &used, &reason), CSV_ROW);
    assert_int_equal(row.n_fields, 512);

    memset(in, 'y', 64 * 1024);
    in[64 * 1024] = '\n';
    assert_int_equal(csv_scan_row(s, in, 64 * 1024 + 1, &row, &used, &reason), CSV_ROW);
    assert_int_equal(row.fields[0].len, 64 * 1024);
    in[64 * 1024] = 'y';
    in[64 * 1024 + 1] = '\n';
    assert_int_equal(csv_scan_row(s, in, 64 * 1024 + 2, &row, &used, &reason), CSV_BAD);
    assert_string_equal(reason, "a field longer than the field size limit");
    assert_int_equal(used, 64 * 1024 + 2);
    csv_scanner_free(s);
    free(in);
}

/* ---- Over-long rows ------------------------------------------------------- */

static void test_overlong_row_across_calls(void **state)
{
    csv_limits lim = {.max_row_bytes = 8};
    csv_scanner *s;
    assert_int_equal(csv_scanner_new(&lim, &s), 0);
    csv_row row;
    size_t used;
    const char *reason;

    /* No end yet, but the row may still fit (the last of a file, without
     * LF, may take all 8 bytes): wait. */
    assert_int_equal(csv_scan_row(s, "abcdefg", 7, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(csv_scan_row(s, "abcdefgh", 8, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 0);
    /* Past the limit without an end: refused at once, the head consumed. */
    assert_false(csv_scanner_discarding(s));
    assert_int_equal(csv_scan_row(s, "abcdefghi", 9, &row, &used, &reason), CSV_BAD);
    assert_int_equal(used, 8);
    assert_int_equal(row.lines, 0);
    assert_string_equal(reason, "a row longer than the row size limit");
    assert_true(csv_scanner_discarding(s));
    /* The rest goes, over as many calls as it takes, quotes ignored. */
    assert_int_equal(csv_scan_row(s, "i\"j", 3, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(row.lines, 0);
    assert_int_equal(csv_scan_row(s, "", 0, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(csv_scan_row(s, "kl\nok\n", 6, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(row.lines, 1);
    /* Then rows again. */
    assert_false(csv_scanner_discarding(s));
    assert_int_equal(csv_scan_row(s, "ok\n", 3, &row, &used, &reason), CSV_ROW);
    assert_int_equal(used, 3);
    assert_int_equal(row.n_fields, 1);

    /* At the end of a file the discard ends with the file. */
    assert_int_equal(csv_scan_row(s, "123456789", 9, &row, &used, &reason), CSV_BAD);
    assert_int_equal(used, 8);
    assert_int_equal(csv_scan_last_row(s, "9", 1, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 1);
    assert_int_equal(csv_scan_last_row(s, "a\n", 2, &row, &used, &reason), CSV_ROW);

    /* A reader resuming inside an over-long row sets the scanner to
     * discard, and it does, LF included. */
    csv_scanner_discard_rest(s);
    assert_true(csv_scanner_discarding(s));
    assert_int_equal(csv_scan_row(s, "\"x\ny\n", 5, &row, &used, &reason), CSV_NEED_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(row.lines, 1);
    assert_false(csv_scanner_discarding(s));
    csv_scanner_free(s);

    /* A quoted field with newlines that runs past the limit: its LFs are
     * counted in the head. */
    expect_n("\"a\nb\nc\nd\"\nok\n", 0, &lim,
             "bad 8/3: a row longer than the row size limit\nskip 2/1\nrow 3/1: [ok]\n");
    /* A complete row past the limit is refused whole: the head, then the
     * rest discarded through its LF. */
    expect_n("abcdefgh\nok\n", 0, &lim,
             "bad 8/0: a row longer than the row size limit\nskip 1/1\nrow 3/1: [ok]\n");
    expect_n("abcdefghijklmnopqrstuvwxyz\nok\n", 0, &lim,
             "bad 8/0: a row longer than the row size limit\nskip 19/1\nrow 3/1: [ok]\n");
    expect_n("abcdef\r\n", 0, &lim, "row 8/1: [abcdef]\n");
    expect_n("abcdefgh", 0, &lim, "row 8/0: [abcdefgh]\n");
    expect_n("abcdefghi", 0, &lim, "bad 8/0: a row longer than the row size limit\nskip 1/0\n");
    /* After a quote fault the row still ends within the limit. */
    expect_n("a\"\"\"\"\"\nok\n", 0, &lim,
             "bad 7/1: a quote inside an unquoted field\nrow 3/1: [ok]\n");
}

/* ---- Pieces against one go ------------------------------------------------ */

static const char *const corpus[] = {
    "id,created_at,model,cost\n1,2026-11-22T03:00:00Z,gpt-4o,0.001\n",
    "\"a,b\",\"c\"\"d\",\"e\nf\"\r\nx,,\"\"\r\n\n",
    "a\"b,c\n\"a\"x\nok\n\"open\nstill\n",
    "\xe6\xa8\xa1\xe5\x9e\x8b,\xff\n\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
    "\xa9\xc3\n",
    "0123456789012345678901234567890123456789\nshort\n\"012345678901234567890123\"\n",
    "\"\"\"\"\"\"\"\",\"\",\"\"\"\"\n\r\n\r\r\n",
    "x,\"y\"\r\r\nz\n",
    "last,row,without,lf",
};

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static void test_pieces_match_one_go(void **state)
{
    const csv_limits lims[] = {
        {0},
        {.max_fields = 3, .max_field_bytes = 6, .max_row_bytes = 24},
        {.max_row_bytes = 5},
        {.max_row_bytes = 1},
    };
    unsigned seed = 2026;
    for (size_t l = 0; l < COUNT(lims); l++) {
        for (size_t c = 0; c < COUNT(corpus); c++) {
            size_t n = strlen(corpus[c]);
            char *whole = scan_whole(corpus[c], n, &lims[l]);
            char *bytes = scan_pieces(corpus[c], n, &lims[l], NULL);
            assert_string_equal(bytes, whole);
            free(bytes);
            for (int r = 0; r < 20; r++) {
                size_t sizes[9];
                for (size_t i = 0; i < 8; i++)
                    sizes[i] = 1 + rnd(&seed) % 40;
                sizes[8] = 0;
                char *pieces = scan_pieces(corpus[c], n, &lims[l], sizes);
                assert_string_equal(pieces, whole);
                free(pieces);
            }
            free(whole);
        }
    }
}

/* A long file of rows as the usage stream writes them, in random pieces. */
static void test_usage_rows_in_pieces(void **state)
{
    size_t cap = 1 << 16, n = 0;
    char *in = malloc(cap);
    unsigned seed = 7;
    int rows = 0;
    while (n + 400 < cap) {
        unsigned a = rnd(&seed), b = rnd(&seed);
        n += (size_t)snprintf(
            in + n, cap - n,
            "%04x%04x-1111-4222-8333-%012x,req_%u,2026-11-21T%02u:%02u:%02u.%03uZ,"
            "user-%u,key-%u,openai,%s,%u,%s,%u,%u,0,0,0.00%u,0.0%u,0,0,0.1,0.1,%u\n",
            a, b, a * b, a, a % 24, b % 60, a % 60, b % 1000, a % 50, b % 50,
            a % 3 ? "gpt-4o" : "\"gpt, \"\"quoted\"\"\"", a % 7 ? 200 : 500,
            a % 7 ? "" : "\"upstream\ntimeout\"", a, b, a, b, a % 900);
        rows++;
    }
    char *whole = scan_whole(in, n, NULL);
    size_t count = 0;
    for (const char *p = whole; (p = strstr(p, "row ")) != NULL; p++)
        count++;
    assert_int_equal(count, (size_t)rows);
    assert_null(strstr(whole, "bad "));
    for (int r = 0; r < 10; r++) {
        size_t sizes[] = {1 + rnd(&seed) % 4096, 1 + rnd(&seed) % 300, 1 + rnd(&seed) % 17, 0};
        char *pieces = scan_pieces(in, n, NULL, sizes);
        assert_string_equal(pieces, whole);
        free(pieces);
    }
    free(whole);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_empty_fields_and_lines),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_field_pointers),
        cmocka_unit_test(test_block_boundaries),
        cmocka_unit_test(test_many_fields),
        cmocka_unit_test(test_last_line_without_lf),
        cmocka_unit_test(test_quote_faults),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_overlong_row_across_calls),
        cmocka_unit_test(test_pieces_match_one_go),
        cmocka_unit_test(test_usage_rows_in_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
