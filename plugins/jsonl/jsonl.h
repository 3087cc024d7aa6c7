/*
 * jsonl.h — the jsonl source's instance: its options (jsonl_conf.c builds
 * them from a `jsonl "title" { ... }` section) and what it keeps between
 * cycles (the line parser, and lib/tail's buffers and open file
 * descriptors — never positions, which come from the checkpoint every
 * cycle).
 */
#ifndef TALLY_PLUGIN_JSONL_H
#define TALLY_PLUGIN_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonl_line.h"
#include "record/record.h"
#include "tail/tail.h"
#include "tail/tail_options.h"
#include "tally/plugin.h"

/* Records per emit_records call. */
#define JSONL_BATCH 1024u

typedef struct jsonl_source {
    tally_host *host;
    const tally_host_api *api;
    tail_conf conf;        /* the shared rows; conf.names: the key per field */
    size_t max_line_bytes; /* the longest line, its line end not counted */

    /* Kept between cycles. */
    jsonl_line *parser;
    bool discarding; /* inside an over-long line: skipping to its end */
    rec_conv conv;
    rec_colmap map; /* by field: a row is indexed by rec_field_id */
    tail_source tail;
    char long_reason[96];
} jsonl_source;

/* jsonl_conf.c */
extern const tally_option jsonl_options[];
/* Build the options of *out from a section the host has checked. */
int jsonl_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, jsonl_source **out);
void jsonl_conf_free(jsonl_source *s);

#endif
