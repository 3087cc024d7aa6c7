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
#include "tally/plugin.h"
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

/* rows.c — the rows of a list table (days, user_days, counters,
 * counter_days) one at a time: the snapshot's arrays, or for user_days
 * and counter_days the host's history when o names a host (o may be
 * NULL). open: 0, or -1 (a history read that could not start). next:
 * the next row, or NULL at the end or when a read failed (`failed`).
 * A row is valid until the next call. */
typedef struct tf_rows {
    tf_table_id table;
    const void *arr;
    size_t n, i, stride;
    const tally_host_api *api;
    tally_history *it;
    int ended, failed;
} tf_rows;
struct tally_format_opts;
/* The options the renderers get: the caller's, and the snapshot it handed
 * to tally_format_render or _stream. The renderers read a copy (see
 * format.c), but the host knows a snapshot's history by the pointer
 * export_snapshot was given, so history reads name this one. */
#include "format.h"
typedef struct tf_opts {
    tally_format_opts pub; /* first: renderers get &pub */
    const tally_snapshot *handed;
} tf_opts;
int tf_rows_open(tf_rows *r, const tally_snapshot *s, const struct tally_format_opts *o,
                 tf_table_id t);
const void *tf_rows_next(tf_rows *r);
void tf_rows_close(tf_rows *r);

/* The renderers append to b and return 0, or -1 when the snapshot cannot
 * be written (b is then also marked failed). o as for tf_rows_open. */
int tf_render_json(const tally_snapshot *s, const struct tally_format_opts *o, tf_buf *b);
int tf_render_prometheus(const tally_snapshot *s, tf_buf *b);
/* prometheus.c — pieces the Prometheus renderers share: a family's # HELP
 * (escaped) and # TYPE lines; a label value escaped (and repaired to
 * UTF-8); the family tally_region_value of the counters idx[0..n) of s
 * (idx NULL: the first n), nothing when n is 0. */
void tf_prom_family(tf_buf *b, const char *name, const char *type, const char *help);
void tf_prom_label_value(tf_buf *b, const char *s, size_t n);
void tf_prom_region_values(tf_buf *b, const tally_snapshot *s, const uint32_t *idx, size_t n);
/* prometheus_map.c — the region counters under s->map's rules. */
int tf_render_mapped_counters(const tally_snapshot *s, tf_buf *b);
/* prometheus_agent.c: the agent's own families (nothing for NULL). */
void tf_render_prometheus_agent(const tally_agent_stats *a, tf_buf *b);
/* json_agent.c: the JSON summary's "agent" object, or NULL (out of
 * memory). */
struct json_t *tf_json_agent(const tally_agent_stats *a);
int tf_render_csv(const tally_snapshot *s, const struct tally_format_opts *o, tf_table_id table,
                  tf_buf *b);
int tf_render_influx(const tally_snapshot *s, const struct tally_format_opts *o, tf_buf *b);

#endif
