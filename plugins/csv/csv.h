/*
 * csv.h — the csv source's instance: its options (csv_conf.c builds them
 * from a `csv "title" { ... }` section) and what it keeps between cycles
 * (the scanner, and lib/tail's buffers and open file descriptors — never
 * positions, which come from the checkpoint every cycle).
 */
#ifndef TALLY_PLUGIN_CSV_H
#define TALLY_PLUGIN_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv_scan.h"
#include "record/record.h"
#include "tail/tail.h"
#include "tail/tail_options.h"
#include "tally/plugin.h"

/* Records per emit_records call. */
#define CSV_BATCH 1024u

/* Columns a row may have. Wide exports (hundreds of columns, most of them
 * unmapped and ignored) are read; the scanner's own default (512) is for
 * callers that know their width. 65536 fields cost at most 1 MiB of field
 * slices, the size of the longest row, and a header beyond it is reported
 * as file:1 and the file skipped. */
#define CSV_MAX_FIELDS 65536u

typedef struct csv_source {
    tally_host *host;
    const tally_host_api *api;
    tail_conf conf; /* the shared rows; conf.names: the header name per field */
    size_t max_field_bytes;

    /* Kept between cycles. */
    csv_scanner *scanner;
    size_t row_limit;
    rec_conv conv;
    tail_source tail;
    /* The file being read: its column map, and a refusal's reason. */
    rec_colmap map;
    char count_reason[96];
} csv_source;

/* csv_conf.c */
extern const tally_option csv_options[];
/* Build the options of *out from a section the host has checked. */
int csv_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, csv_source **out);
void csv_conf_free(csv_source *s);

#endif
