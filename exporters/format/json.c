/*
 * json.c — a snapshot as DESIGN.md's JSON summary, built with jansson.
 *
 * Keys come in DESIGN.md's order (jansson keeps insertion order) from the
 * column tables of fields.c. Integers are JSON integers (64-bit, so 2^40
 * token sums stay exact); costs and averages are JSON reals printed with 17
 * significant digits, enough for every double to read back unchanged, at
 * the price of "0.10000000000000001" where a person would write 0.1. A
 * non-finite real, which the collector never produces, becomes null: JSON
 * has no spelling for it. The text is indented by one space per level,
 * readable in a terminal yet not much larger than compact output, and ends
 * with a newline like any text file.
 */
#include "format.h"
#include "format_priv.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* A string as JSON, repaired to UTF-8 when it is not (see utf8.c). */
static json_t *json_text(const char *s, size_t n)
{
    if (tf_utf8_valid(s, n))
        return json_stringn(s, n);
    tf_buf fixed;
    tf_buf_init(&fixed);
    tf_buf_add_utf8(&fixed, s, n);
    json_t *j = fixed.failed ? NULL : json_stringn(fixed.p, fixed.len);
    tf_buf_free(&fixed);
    return j;
}

static json_t *json_instant_frac(int64_t utc, int32_t nsec)
{
    char text[TF_INSTANT_LEN];
    if (tf_instant_frac(utc, nsec, text) != 0)
        return NULL;
    return json_string(text);
}

static json_t *json_instant(int64_t utc)
{
    return json_instant_frac(utc, 0);
}

static json_t *json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *field_value(const void *row, const tf_field *f)
{
    size_t n;
    const char *s;
    switch (f->kind) {
    case TF_INT:
        return json_integer(tf_field_int(row, f));
    case TF_REAL:
        return json_number(tf_field_real(row, f));
    case TF_INSTANT:
        return json_instant(tf_field_int(row, f));
    case TF_DATE:
    case TF_STR:
        s = tf_field_text(row, f, &n);
        return json_text(s, n);
    }
    return NULL;
}

/* One row of a table as an object, its columns in table order. */
static json_t *row_object(const void *row, tf_table_id t)
{
    const tf_table *tab = &tf_tables[t];
    json_t *o = json_object();
    int bad = o == NULL;
    for (size_t i = 0; i < tab->n_fields && !bad; i++)
        bad = json_object_set_new(o, tab->fields[i].name, field_value(row, &tab->fields[i]));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* "counters" is an object, name -> live value, in snapshot order. */
static json_t *counters_object(const tally_snapshot *s)
{
    json_t *o = json_object();
    int bad = o == NULL;
    tf_buf key;
    tf_buf_init(&key);
    for (size_t i = 0; i < s->n_counters && !bad; i++) {
        const char *name = s->counters[i].name != NULL ? s->counters[i].name : "";
        key.len = 0;
        tf_buf_add_utf8(&key, name, strlen(name));
        tf_buf_add(&key, "", 0); /* a NUL even for "" */
        bad = key.failed || json_object_set_new(o, key.p, json_integer(s->counters[i].value)) != 0;
    }
    tf_buf_free(&key);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* jansson builds a whole tree before it writes a byte: for a snapshot with
 * hundreds of thousands of user-days that tree is many times the text. So
 * the top level is written here, one member at a time, and the big lists
 * one row at a time, each dumped by jansson and freed at once; the text is
 * the same as one dump of the whole tree with JSON_INDENT(1). */
#define DUMP_FLAGS (JSON_ENCODE_ANY | JSON_INDENT(1) | JSON_REAL_PRECISION(17))

struct indented {
    tf_buf *b;
    int depth; /* extra spaces after each newline: the value's own depth */
};

static int dump_indented(const char *text, size_t n, void *arg)
{
    struct indented *in = arg;
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\n')
            continue;
        tf_buf_add(in->b, text + from, i + 1 - from);
        for (int k = 0; k < in->depth; k++)
            tf_buf_add(in->b, " ", 1);
        from = i + 1;
    }
    tf_buf_add(in->b, text + from, n - from);
    return in->b->failed ? -1 : 0;
}

/* Dump v (NULL: building it failed) at the given depth, and free it. */
static int put_value(tf_buf *b, json_t *v, int depth)
{
    if (v == NULL)
        return -1;
    struct indented in = {b, depth};
    int rc = json_dump_callback(v, dump_indented, &in, DUMP_FLAGS);
    json_decref(v);
    return rc;
}

static int put_member(tf_buf *b, const char *key, json_t *v, int last)
{
    tf_buf_puts(b, " \"");
    tf_buf_puts(b, key);
    tf_buf_puts(b, "\": ");
    int rc = put_value(b, v, 1);
    tf_buf_puts(b, last ? "\n" : ",\n");
    return rc;
}

/* A list table, one row object at a time. */
static int put_rows(tf_buf *b, const tally_snapshot *s, const tally_format_opts *o, tf_table_id t)
{
    tf_rows rows;
    if (tf_rows_open(&rows, s, o, t) != 0)
        return -1;
    tf_buf_puts(b, " \"");
    tf_buf_puts(b, tf_tables[t].name);
    tf_buf_puts(b, "\": [");
    size_t n = 0;
    int rc = 0;
    const void *row;
    while (rc == 0 && (row = tf_rows_next(&rows)) != NULL) {
        tf_buf_puts(b, n++ ? ",\n  " : "\n  ");
        rc = put_value(b, row_object(row, t), 2);
    }
    if (rows.failed)
        rc = -1;
    tf_rows_close(&rows);
    tf_buf_puts(b, n ? "\n ],\n" : "],\n");
    return rc;
}

int tf_render_json(const tally_snapshot *s, const tally_format_opts *o, tf_buf *b)
{
    const char *tz = s->timezone != NULL ? s->timezone : "";
    tf_buf_puts(b, "{\n");
    int bad = put_member(b, "timezone", json_text(tz, strlen(tz)), 0) != 0;
    bad = bad || put_member(b, "now", json_instant_frac(s->now_utc, s->now_nsec), 0) != 0;
    bad = bad || put_member(b, "generated_at", json_instant(s->generated_utc), 0) != 0;
    bad = bad || put_rows(b, s, o, TF_DAYS) != 0;
    bad = bad || put_rows(b, s, o, TF_USER_DAYS) != 0;
    bad = bad || put_member(b, "summary", row_object(s, TF_SUMMARY), 0) != 0;
    bad = bad || put_member(b, "today", row_object(s, TF_TODAY), 0) != 0;
    bad = bad || put_member(b, "combined", row_object(s, TF_COMBINED), 0) != 0;
    bad = bad || put_member(b, "counters", counters_object(s), 0) != 0;
    bad = bad || put_rows(b, s, o, TF_COUNTER_DAYS) != 0;
    bad = bad ||
          put_member(b, "rejected_rows", json_integer(s->rejected_rows), s->agent == NULL) != 0;
    /* Last, so readers of the members before it see what they always did. */
    if (s->agent != NULL)
        bad = bad || put_member(b, "agent", tf_json_agent(s->agent), 1) != 0;
    tf_buf_puts(b, "}\n");
    if (bad || b->failed) {
        tf_buf_fail(b);
        return -1;
    }
    return 0;
}
