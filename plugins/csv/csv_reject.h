/*
 * csv_reject.h — the reject file: every row the csv source sets aside,
 * as one CSV line `source_file,line,reason,row` (row: the raw bytes,
 * quoted), so nobody has to guess what was dropped and why. Warnings in
 * the log are limited per cycle, with a count at the end of the cycle.
 */
#ifndef TALLY_CSV_REJECT_H
#define TALLY_CSV_REJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/plugin.h"

/* Warnings logged per cycle, one per rejected row; the rest are counted. */
#define CSV_REJECT_LOG_MAX 10

typedef struct csv_reject {
    char *path;
    bool default_dir; /* path is in <state_dir>/rejects/, created on demand */
    int fd;           /* -1 outside a cycle's first reject .. its end */
    bool write_failed;
    int64_t count; /* rows set aside this cycle */
    char *line;    /* the line being written, reused */
    size_t cap;
} csv_reject;

/* path: the reject file; default_dir: create its directory (0700). */
int csv_reject_init(csv_reject *r, const char *path, bool default_dir);
void csv_reject_free(csv_reject *r);

/* Set aside one row of `file`, which starts on line `line`. A row that
 * cannot be written is still counted; the failure is logged once a cycle.
 * 0, or -1 when out of memory. */
int csv_reject_add(csv_reject *r, tally_host *h, const tally_host_api *api, const char *file,
                   uint64_t line, const char *reason, const char *raw, size_t raw_len);

/* The end of a cycle: close the file, log how many rows went beyond the
 * logged ones, and hand over the count (api->count_rejected) unless
 * `report` is false. 0, or TALLY_HOST_ERR when the count was not taken. */
int csv_reject_end_cycle(csv_reject *r, tally_host *h, const tally_host_api *api, bool report);

#endif
