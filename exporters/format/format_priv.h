/*
 * format_priv.h — what the renderers of exporters/format share beyond
 * format_fields.h: UTF-8 checks, business dates, csv_table names and the
 * renderers themselves. Not installed; only format's own files and its
 * tests include it.
 *
 * Everything here runs in the C locale (see format.c).
 */
#ifndef TALLY_FORMAT_PRIV_H
#define TALLY_FORMAT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "format_fields.h"
#include "tally/snapshot.h"

/* utf8.c — the length (1 to 4) of the valid UTF-8 sequence at the start of
 * s[0..n), or 0 when it does not start with one (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
size_t tf_utf8_seq(const unsigned char *s, size_t n);
/* 1 if all of s[0..n) is valid UTF-8, else 0. */
int tf_utf8_valid(const char *s, size_t n);
/* The length of a business date, which need not be NUL terminated. */
size_t tf_date_len(const char date[TALLY_DATE_LEN]);

/* format.c — a csv_table name to its table: 0, or -1 for an unknown name. */
int tf_table_from_name(const char *name, tf_table_id *out);

/* The renderers append to b and return 0, or -1 when the snapshot cannot
 * be written (b is then also marked failed). */
int tf_render_json(const tally_snapshot *s, tf_buf *b);
int tf_render_prometheus(const tally_snapshot *s, tf_buf *b);
int tf_render_csv(const tally_snapshot *s, tf_table_id table, tf_buf *b);
int tf_render_influx(const tally_snapshot *s, tf_buf *b);

#endif
