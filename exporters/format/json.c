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

static json_t *json_instant(int64_t utc)
{
    char text[TF_INSTANT_LEN];
    if (tf_instant(utc, text) != 0)
        return NULL;
    return json_string(text);
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

/* A list table as an array of row objects. */
static json_t *row_array(const void *rows, size_t n, size_t stride, tf_table_id t)
{
    json_t *a = json_array();
    int bad = a == NULL;
    for (size_t i = 0; i < n && !bad; i++)
        bad = json_array_append_new(a, row_object((const char *)rows + i * stride, t));
    if (bad) {
        json_decref(a);
        return NULL;
    }
    return a;
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

static json_t *snapshot_object(const tally_snapshot *s)
{
    json_t *o = json_object();
    int bad = o == NULL;
    const char *tz = s->timezone != NULL ? s->timezone : "";
    bad = bad || json_object_set_new(o, "timezone", json_text(tz, strlen(tz)));
    bad = bad || json_object_set_new(o, "now", json_instant(s->now_utc));
    bad = bad || json_object_set_new(o, "generated_at", json_instant(s->generated_utc));
    bad = bad ||
          json_object_set_new(o, "days", row_array(s->days, s->n_days, sizeof(*s->days), TF_DAYS));
    bad = bad || json_object_set_new(
                     o, "user_days",
                     row_array(s->user_days, s->n_user_days, sizeof(*s->user_days), TF_USER_DAYS));
    bad = bad || json_object_set_new(o, "summary", row_object(s, TF_SUMMARY));
    bad = bad || json_object_set_new(o, "today", row_object(s, TF_TODAY));
    bad = bad || json_object_set_new(o, "combined", row_object(s, TF_COMBINED));
    bad = bad || json_object_set_new(o, "counters", counters_object(s));
    bad = bad || json_object_set_new(o, "counter_days",
                                     row_array(s->counter_days, s->n_counter_days,
                                               sizeof(*s->counter_days), TF_COUNTER_DAYS));
    bad = bad || json_object_set_new(o, "rejected_rows", json_integer(s->rejected_rows));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int dump_to_buf(const char *text, size_t n, void *arg)
{
    tf_buf *b = arg;
    tf_buf_add(b, text, n);
    return b->failed ? -1 : 0;
}

int tf_render_json(const tally_snapshot *s, tf_buf *b)
{
    json_t *root = snapshot_object(s);
    if (root == NULL) {
        tf_buf_fail(b);
        return -1;
    }
    int rc = json_dump_callback(root, dump_to_buf, b, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    tf_buf_puts(b, "\n");
    if (rc != 0 || b->failed) {
        tf_buf_fail(b);
        return -1;
    }
    return 0;
}
