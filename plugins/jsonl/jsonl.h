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
#include "tally/plugin.h"

/* Records per emit_records call. */
#define JSONL_BATCH 1024u

typedef struct jsonl_source {
    tally_host *host;
    const tally_host_api *api;
    char *title;   /* the section's title, for messages and the reject file */
    char *pattern; /* the glob */
    tally_stream stream;
    char *keys[REC_FIELD_COUNT]; /* the key per field; NULL: the field's own name */
    rec_time_format time_format;
    rec_naive_kind naive;
    int32_t naive_offset_s;
    size_t max_line_bytes; /* the longest line, its line end not counted */
    char *reject_path;     /* NULL in the options: <state_dir>/rejects/<title>.csv */

    /* Kept between cycles. */
    jsonl_line *parser;
    bool discarding; /* inside an over-long line: skipping to its end */
    rec_conv conv;
    rec_colmap map; /* by field: a row is indexed by rec_field_id */
    tail_source tail;
    char long_reason[96];
} jsonl_source;

/* jsonl_conf.c: the option table and its help, the checks, and building
 * and freeing an instance's options. */
extern cfg_opt_t jsonl_options[];
extern const char *const jsonl_option_help[];
/* Check a section; each problem is logged with the config file and line.
 * 0 or TALLY_HOST_ERR; no side effects. */
int jsonl_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
/* Build the options of *out from a section (checked again). */
int jsonl_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section,
                     jsonl_source **out);
void jsonl_conf_free(jsonl_source *s);

#endif
