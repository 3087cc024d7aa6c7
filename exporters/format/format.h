/*
 * format.h — a snapshot rendered as JSON (DESIGN.md's shape), Prometheus
 * text exposition format 0.0.4, CSV (RFC 4180) or the InfluxDB line
 * protocol. Each format is written
 * once here and used by every exporter (file, http, ...).
 */
#ifndef TALLY_FORMAT_H
#define TALLY_FORMAT_H

#include <stddef.h>

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
} tally_format_opts;

/* "json", "prometheus", "csv", "influx" -> format; -1 for any other name. */
int tally_format_from_name(const char *name, tally_format *out);
const char *tally_format_name(tally_format f);
/* The HTTP Content-Type of a format. */
const char *tally_format_content_type(tally_format f);
/* 0 if table names a csv table, else -1. */
int tally_format_csv_table_valid(const char *table);

/* Render s; *out is malloc'd and NUL terminated, *len its length without
 * the NUL. Returns 0, or -1 (out of memory, or bad options). */
int tally_format_render(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                        char **out, size_t *len);

#endif
