/*
 * format_fields.h — the snapshot's tables as rows of typed fields (the
 * columns JSON takes its keys from and CSV its headers), and writing
 * their values as text the way every format writes them: for an exporter
 * that lays the tables out itself, as the sql exporter does. Part of
 * exporters/format's interface, beside format.h.
 *
 * Everything here runs in the C locale: tally_format_render switches the
 * calling thread to it for the whole rendering (see format.c); another
 * caller switches itself.
 */
#ifndef TALLY_FORMAT_FIELDS_H
#define TALLY_FORMAT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

/* buf.c — output text that grows as it is written. A failed allocation
 * sets `failed` and every later write does nothing, so a renderer writes
 * straight through and checks once, in tf_buf_finish. A buffer with a
 * sink hands its text on whenever TF_BUF_PIECE bytes are there, so it
 * never holds more than a piece and one write; a sink that fails sets
 * `failed` too. What was handed on is gone from p: nothing may read back
 * what it wrote earlier. */
typedef int (*tf_sink)(void *arg, const char *data, size_t len);
typedef struct tf_buf {
    char *p;
    size_t len, cap;
    int failed;
    tf_sink sink;
    void *sink_arg;
} tf_buf;

#define TF_BUF_PIECE (64 * 1024)

void tf_buf_init(tf_buf *b);
void tf_buf_init_sink(tf_buf *b, tf_sink sink, void *arg);
/* Hand what is buffered to the sink now (the end of a rendering): 0, or
 * -1 when the buffer failed. */
int tf_buf_flush(tf_buf *b);
void tf_buf_add(tf_buf *b, const char *s, size_t n);
void tf_buf_puts(tf_buf *b, const char *s);
void tf_buf_printf(tf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Mark the output unusable (a value that cannot be written). */
void tf_buf_fail(tf_buf *b);
/* Hand the text over (NUL terminated) and reset b: 0, or -1 when any write
 * failed, in which case the text is freed and *out is NULL. */
int tf_buf_finish(tf_buf *b, char **out, size_t *len);
void tf_buf_free(tf_buf *b);

/* numbers.c — a double as the shortest text that reads back as the same
 * double; integral values below 1e17 without an exponent ("1000000", not
 * "1e+06"); NaN, +Inf and -Inf spelled as Prometheus spells them. */
#define TF_NUM_LEN 32
void tf_double(double v, char out[TF_NUM_LEN]);
/* An instant (UTC seconds) as ISO 8601 UTC, "2026-11-22T03:00:00Z".
 * Returns 0, or -1 outside the years 0000..9999 (lib/civil). */
#define TF_INSTANT_LEN 32
int tf_instant(int64_t utc, char out[TF_INSTANT_LEN]);
/* The same with a fraction of the second, when nsec is not 0. */
int tf_instant_frac(int64_t utc, int32_t nsec, char out[TF_INSTANT_LEN]);

/* Append s[0..n) to b with every byte that is not part of a valid sequence
 * replaced by U+FFFD: all three formats promise UTF-8. */
void tf_buf_add_utf8(tf_buf *b, const char *s, size_t n);
/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define TF_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* fields.c — the columns of every table, in DESIGN.md's order. JSON takes
 * its keys and CSV its headers from here, so the two cannot drift apart.
 * A field is read at `offset` from the start of a row: a tally_day_stats,
 * tally_user_day_stats, tally_counter_value or tally_counter_day for the
 * list tables; the tally_snapshot itself for the one-row tables. */
typedef enum tf_kind {
    TF_INT,     /* int64_t */
    TF_REAL,    /* double */
    TF_INSTANT, /* int64_t UTC seconds, written as ISO 8601 */
    TF_DATE,    /* char[TALLY_DATE_LEN] */
    TF_STR,     /* const char * (NULL reads as "") */
} tf_kind;

typedef struct tf_field {
    const char *name;
    tf_kind kind;
    size_t offset;
} tf_field;

typedef enum tf_table_id {
    TF_DAYS,
    TF_USER_DAYS,
    TF_SUMMARY,
    TF_TODAY,
    TF_COMBINED,
    TF_COUNTERS,
    TF_COUNTER_DAYS,
    TF_N_TABLES
} tf_table_id;

typedef struct tf_table {
    const char *name; /* the JSON key and the csv_table option */
    const tf_field *fields;
    size_t n_fields;
} tf_table;

extern const tf_table tf_tables[TF_N_TABLES];

int64_t tf_field_int(const void *row, const tf_field *f);
double tf_field_real(const void *row, const tf_field *f);
/* The text of a TF_DATE or TF_STR field and its length. */
const char *tf_field_text(const void *row, const tf_field *f, size_t *len);

#endif
