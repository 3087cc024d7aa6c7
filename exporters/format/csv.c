/*
 * csv.c — one table of a snapshot as CSV (RFC 4180): a header row with the
 * JSON keys of that table, CRLF after every row, a field quoted only when it
 * holds a comma, a double quote, CR or LF, and quotes inside doubled.
 *
 * Values are written as in JSON: instants as ISO 8601 UTC, integers in
 * full, reals as the shortest text that reads back as the same double.
 * Numbers never follow LC_NUMERIC (format.c renders in the C locale), so a
 * German desktop does not turn 0.5 into "0,5" and split the column.
 */
#include "format.h"
#include "format_priv.h"

#include <inttypes.h>
#include <string.h>

static int needs_quotes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            return 1;
    return 0;
}

/* A text field, quoted when needed and repaired to UTF-8. */
static void text_field(tf_buf *b, const char *s, size_t n)
{
    if (!needs_quotes(s, n)) {
        tf_buf_add_utf8(b, s, n);
        return;
    }
    tf_buf_puts(b, "\"");
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            /* Up to and including the quote, then the quote once more. */
            tf_buf_add_utf8(b, s + start, i + 1 - start);
            tf_buf_puts(b, "\"");
            start = i + 1;
        }
    }
    tf_buf_add_utf8(b, s + start, n - start);
    tf_buf_puts(b, "\"");
}

static void value_field(tf_buf *b, const void *row, const tf_field *f)
{
    char text[TF_NUM_LEN > TF_INSTANT_LEN ? TF_NUM_LEN : TF_INSTANT_LEN];
    size_t n;
    const char *s;
    switch (f->kind) {
    case TF_INT:
        tf_buf_printf(b, "%" PRId64, tf_field_int(row, f));
        return;
    case TF_REAL:
        tf_double(tf_field_real(row, f), text);
        tf_buf_puts(b, text);
        return;
    case TF_INSTANT:
        if (tf_instant(tf_field_int(row, f), text) != 0) {
            tf_buf_fail(b);
            return;
        }
        tf_buf_puts(b, text);
        return;
    case TF_DATE:
    case TF_STR:
        s = tf_field_text(row, f, &n);
        text_field(b, s, n);
        return;
    }
}

static void header_row(tf_buf *b, const tf_table *t)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        if (i > 0)
            tf_buf_puts(b, ",");
        tf_buf_puts(b, t->fields[i].name);
    }
    tf_buf_puts(b, "\r\n");
}

/* One row of t as a CSV line. */
static void row_line(tf_buf *b, const tf_table *t, const void *row)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        if (i > 0)
            tf_buf_puts(b, ",");
        value_field(b, row, &t->fields[i]);
    }
    tf_buf_puts(b, "\r\n");
}

int tf_render_csv(const tally_snapshot *s, const tally_format_opts *o, tf_table_id id, tf_buf *b)
{
    if ((unsigned)id >= TF_N_TABLES) {
        tf_buf_fail(b);
        return -1;
    }
    const tf_table *t = &tf_tables[id];
    header_row(b, t);
    if (id == TF_SUMMARY || id == TF_TODAY || id == TF_COMBINED) {
        /* One row, read from the snapshot itself (see fields.c). */
        row_line(b, t, s);
        return b->failed ? -1 : 0;
    }
    tf_rows rows;
    if (tf_rows_open(&rows, s, o, id) != 0) {
        tf_buf_fail(b);
        return -1;
    }
    const void *row;
    while (!b->failed && (row = tf_rows_next(&rows)) != NULL)
        row_line(b, t, row);
    if (rows.failed)
        tf_buf_fail(b);
    tf_rows_close(&rows);
    return b->failed ? -1 : 0;
}
