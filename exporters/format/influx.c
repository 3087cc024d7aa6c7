/*
 * influx.c — a snapshot in the InfluxDB line protocol (one point per
 * line: `measurement[,tag=value] field=value[,...] timestamp`), for
 * InfluxDB's /api/v2/write (precision ns, the default), Telegraf's
 * influx parser and anything else that speaks it.
 *
 * Points and their times:
 *   tally_day        one per closed business day, at the day's start;
 *   tally_user_day   one per user and day, tagged user_id, at the day's start;
 *   tally_counter_day one per daily counter total, tagged name, at 00:00 UTC
 *                    of its date (the entry carries a date, not an instant);
 *   tally_summary, tally_today, tally_combined   at the snapshot's now;
 *   tally_counter    one per live region counter, tagged name, at now.
 * A point written again at the same time replaces the old one, so sending
 * every day on every cycle keeps one point per day, corrected when a late
 * record changes it. Field names are the JSON keys (fields.c); integers
 * carry the `i` suffix, instants are ISO 8601 strings as in JSON, and a
 * real that is not finite is left out (the protocol cannot spell it).
 *
 * Escaping follows the protocol: in tag values a comma, an equals sign, a
 * space and a backslash get a backslash; in string fields a double quote
 * and a backslash do. Line feeds and carriage returns cannot be written
 * in either and become U+FFFD, like bytes that are not UTF-8.
 */
#include "format.h"
#include "format_priv.h"

#include "civil/civil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S INT64_C(1000000000)

/* s[0..n) with the characters `special` backslash-escaped, line breaks
 * and invalid UTF-8 replaced. */
static void escaped(tf_buf *b, const char *s, size_t n, const char *special)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = tf_utf8_seq(u + i, n - i);
        if (k == 0 || s[i] == '\n' || s[i] == '\r') {
            tf_buf_puts(b, TF_UTF8_REPLACEMENT);
            i++;
            continue;
        }
        if (k == 1 && strchr(special, s[i]) != NULL)
            tf_buf_puts(b, "\\");
        tf_buf_add(b, s + i, k);
        i += k;
    }
}

static void string_field(tf_buf *b, const char *s, size_t n)
{
    tf_buf_puts(b, "\"");
    escaped(b, s, n, "\"\\");
    tf_buf_puts(b, "\"");
}

/* One field `name=value`, preceded by a comma unless it is the first;
 * returns whether it wrote one. */
static int field(tf_buf *b, const void *row, const tf_field *f, int first)
{
    char text[TF_NUM_LEN > TF_INSTANT_LEN ? TF_NUM_LEN : TF_INSTANT_LEN];
    size_t n;
    const char *s;
    if (f->kind == TF_REAL && !isfinite(tf_field_real(row, f)))
        return 0;
    tf_buf_printf(b, "%s%s=", first ? "" : ",", f->name);
    switch (f->kind) {
    case TF_INT:
        tf_buf_printf(b, "%" PRId64 "i", tf_field_int(row, f));
        break;
    case TF_REAL:
        tf_double(tf_field_real(row, f), text);
        tf_buf_puts(b, text); /* "3" without a suffix reads as a float */
        break;
    case TF_INSTANT:
        if (tf_instant(tf_field_int(row, f), text) != 0)
            tf_buf_fail(b);
        else
            string_field(b, text, strlen(text));
        break;
    case TF_DATE:
    case TF_STR:
        s = tf_field_text(row, f, &n);
        string_field(b, s, n);
        break;
    }
    return 1;
}

/* A point's timestamp in nanoseconds; fails the buffer past year 2262. */
static void timestamp(tf_buf *b, int64_t utc)
{
    if (utc > INT64_MAX / NS_PER_S || utc < INT64_MIN / NS_PER_S) {
        tf_buf_fail(b);
        return;
    }
    tf_buf_printf(b, " %" PRId64 "\n", utc * NS_PER_S);
}

/* A point from one row of table t, up to its timestamp, which it
 * returns. tag names the field that becomes the tag (NULL for none; left
 * out when empty), ts_field the instant field that becomes the timestamp
 * (NULL: utc). Neither is written as a field. */
static int64_t point_fields(tf_buf *b, const char *measurement, tf_table_id t, const void *row,
                            const char *tag, const char *ts_field, int64_t utc)
{
    const tf_table *tab = &tf_tables[t];
    tf_buf_puts(b, measurement);
    for (size_t i = 0; i < tab->n_fields; i++) {
        const tf_field *f = &tab->fields[i];
        size_t n;
        const char *s;
        if (tag != NULL && strcmp(f->name, tag) == 0 && (s = tf_field_text(row, f, &n), n > 0)) {
            tf_buf_printf(b, ",%s=", tag);
            escaped(b, s, n, ", =\\");
        }
        if (ts_field != NULL && strcmp(f->name, ts_field) == 0)
            utc = tf_field_int(row, f);
    }
    int first = 1;
    for (size_t i = 0; i < tab->n_fields; i++) {
        const tf_field *f = &tab->fields[i];
        if ((tag != NULL && strcmp(f->name, tag) == 0) ||
            (ts_field != NULL && strcmp(f->name, ts_field) == 0))
            continue;
        tf_buf_puts(b, first ? " " : "");
        if (field(b, row, f, first))
            first = 0;
    }
    return utc;
}

static void point(tf_buf *b, const char *measurement, tf_table_id t, const void *row,
                  const char *tag, const char *ts_field, int64_t utc)
{
    timestamp(b, point_fields(b, measurement, t, row, tag, ts_field, utc));
}

/* 00:00 UTC of a YYYY-MM-DD date, in seconds; -1 if it is not one. */
static int date_utc(const char date[TALLY_DATE_LEN], int64_t *out)
{
    civil_date d;
    if (civil_parse_date(date, tf_date_len(date), &d) != 0)
        return -1;
    *out = civil_days_from_date(d) * 86400;
    return 0;
}

/* The points of a list table, one row at a time (see rows.c). */
static int list_points(tf_buf *b, const tally_snapshot *s, const tally_format_opts *o,
                       tf_table_id t)
{
    tf_rows rows;
    if (tf_rows_open(&rows, s, o, t) != 0) {
        tf_buf_fail(b);
        return -1;
    }
    const void *row;
    while (!b->failed && (row = tf_rows_next(&rows)) != NULL) {
        if (t == TF_DAYS) {
            point(b, "tally_day", TF_DAYS, row, NULL, "day_start_utc", 0);
        } else if (t == TF_USER_DAYS) {
            point(b, "tally_user_day", TF_USER_DAYS, row, "user_id", "day_start_utc", 0);
        } else {
            int64_t utc;
            if (date_utc(((const tally_counter_day *)row)->date, &utc) != 0)
                tf_buf_fail(b);
            else
                point(b, "tally_counter_day", TF_COUNTER_DAYS, row, "name", NULL, utc);
        }
    }
    if (rows.failed)
        tf_buf_fail(b);
    tf_rows_close(&rows);
    return b->failed ? -1 : 0;
}

int tf_render_influx(const tally_snapshot *s, const tally_format_opts *o, tf_buf *b)
{
    if (list_points(b, s, o, TF_DAYS) != 0 || list_points(b, s, o, TF_USER_DAYS) != 0 ||
        list_points(b, s, o, TF_COUNTER_DAYS) != 0)
        return -1;
    /* rejected_rows is no table's column (JSON has it at the top level);
     * it goes with the all-time figures. */
    int64_t now = point_fields(b, "tally_summary", TF_SUMMARY, s, NULL, NULL, s->now_utc);
    tf_buf_printf(b, ",rejected_rows=%" PRId64 "i", s->rejected_rows);
    timestamp(b, now);
    point(b, "tally_today", TF_TODAY, s, NULL, NULL, s->now_utc);
    point(b, "tally_combined", TF_COMBINED, s, NULL, NULL, s->now_utc);
    for (size_t i = 0; i < s->n_counters; i++)
        point(b, "tally_counter", TF_COUNTERS, &s->counters[i], "name", NULL, s->now_utc);
    return b->failed ? -1 : 0;
}
