/*
 * format.h — a snapshot rendered as JSON (DESIGN.md's shape), Prometheus
 * text exposition format 0.0.4, CSV (RFC 4180) or the InfluxDB line
 * protocol (and Prometheus text as OpenMetrics). Each format is written
 * once here and used by every exporter (file, http, ...).
 */
#ifndef TALLY_FORMAT_H
#define TALLY_FORMAT_H

#include <stddef.h>

#include "tally/plugin.h"
#include "tally/snapshot.h"

typedef enum tally_format {
    TALLY_FORMAT_JSON,
    TALLY_FORMAT_PROMETHEUS,
    TALLY_FORMAT_CSV,
    TALLY_FORMAT_INFLUX,
} tally_format;

typedef struct tally_format_opts {
    /* csv: which table: "days" (default), "user_days", "summary", "today",
     * "combined", "counters", "counter_days". */
    const char *csv_table;
    /* Where the two long lists (user_days, counter_days) come from. host
     * NULL: the snapshot's own arrays, as they are (what changed). Else
     * the host's history of the snapshot, read a page at a time while the
     * output is written: every listed row when changed_after is 0, the
     * rows changed after it otherwise (an exporter's mark). Only during
     * export_snapshot, with that snapshot. */
    tally_host *host;
    const tally_host_api *api;
    int64_t changed_after;
} tally_format_opts;

/* Where streamed output goes: write len bytes (at most about 64 KiB a
 * call); 0, or -1 to stop the rendering. */
typedef int (*tally_format_sink)(void *arg, const char *data, size_t len);

/* "json", "prometheus", "csv", "influx" -> format; -1 for any other name. */
int tally_format_from_name(const char *name, tally_format *out);
const char *tally_format_name(tally_format f);
/* The HTTP Content-Type of a format. */
const char *tally_format_content_type(tally_format f);
/* 0 if table names a csv table, else -1. */
int tally_format_csv_table_valid(const char *table);
/* 1 if f's text (with csv_table, for CSV; NULL: the days table) shows
 * the snapshot's days, else 0: what a fingerprint of the text must take
 * in. */
int tally_format_lists_days(tally_format f, const char *csv_table);

/* Render s; *out is malloc'd and NUL terminated, *len its length without
 * the NUL. Returns 0, or -1 (out of memory, bad options, or a history
 * read that failed, logged by the host). o may be NULL. */
int tally_format_render(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                        char **out, size_t *len);
/* The same text handed to sink piece by piece as it is made, so memory
 * stays bounded however long the lists are (with history, a page of rows
 * and a piece of text at a time). Returns 0, or -1 (as render, or the
 * sink said stop). */
int tally_format_stream(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                        tally_format_sink sink, void *arg);

/* OpenMetrics 1.0.0 (openmetrics.c): the Prometheus text prom[0..len)
 * that tally_format_render wrote, rewritten for a scraper that asks for
 * OpenMetrics (counters' families named without _total, # EOF at the
 * end). *out is malloc'd and NUL terminated; it ends with
 * TALLY_OPENMETRICS_EOF, which a caller that appends families of its
 * own removes first and writes after them. 0, or -1 (out of memory). */
#define TALLY_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define TALLY_OPENMETRICS_EOF "# EOF\n"
int tally_format_openmetrics(const char *prom, size_t len, char **out, size_t *out_len);

#endif
