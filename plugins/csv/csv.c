/*
 * csv.c — the csv source: reads CSV files of one stream (usage,
 * candidates, users or api_keys) and hands their rows to the collectors
 * as records.
 *
 * Following the files (globs, rotation, .gz, the checkpoint, rejects) is
 * lib/tail's, turning values into records lib/record's. What is CSV's is
 * here: the RFC 4180 scanner's rows, and the header row that says which
 * column holds which field (kept in the checkpoint, so a file renamed or
 * truncated by copytruncate is still read with its header).
 */
#include "csv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The header row is looked for in a read this small first: most headers
 * are short, and a file that has only a header needs nothing more. */
#define HEADER_READ (64u * 1024u)

/* ---- the scanner ---- */

static int scanner_renew(csv_source *s)
{
    csv_limits lim = {
        .max_fields = CSV_MAX_FIELDS,
        .max_field_bytes = s->max_field_bytes,
        .max_row_bytes = s->row_limit,
    };
    csv_scanner_free(s->scanner);
    s->scanner = NULL;
    return csv_scanner_new(&lim, &s->scanner);
}

/* ---- the header ---- */

/* Parse a stored header row into m. 0, or -1 with *missing or *reason. */
static int map_text(csv_source *s, const char *text, rec_colmap *m, rec_field_id *missing,
                    const char **reason)
{
    csv_row row;
    size_t used;
    *reason = NULL;
    int rc = csv_scan_last_row(s->scanner, text, strlen(text), &row, &used, reason);
    if (rc != CSV_ROW) {
        if (*reason == NULL)
            *reason = "it is empty";
        return -1;
    }
    return rec_colmap_build(s->conf.stream, (const char *const *)s->conf.names, row.fields,
                            row.n_fields, m, missing);
}

/* Read the file's first row into the block (from content offset 0):
 * CSV_ROW with *row and *used, CSV_BAD with *reason, CSV_NEED_MORE when
 * it is not complete yet, or -1 with *why (read error). */
static int read_first_row(csv_source *s, tail_job *j, csv_row *row, size_t *used,
                          const char **reason, const char **why)
{
    tail_block *b = &s->tail.block;
    size_t want = HEADER_READ;
    bool last = false;
    for (;;) {
        const char *p = b->buf + b->head;
        size_t len = b->tail - b->head;
        int rc = last ? csv_scan_last_row(s->scanner, p, len, row, used, reason)
                      : csv_scan_row(s->scanner, p, len, row, used, reason);
        if (rc != CSV_NEED_MORE || *used > 0)
            return rc;
        if (last)
            return CSV_NEED_MORE;
        size_t got;
        if (tail_block_fill(b, &j->in, want, &got, why) != 0)
            return -1;
        want = TAIL_READ_BLOCK;
        if (got == 0) {
            if (!(j->in.at_end && j->in.complete && j->final))
                return CSV_NEED_MORE;
            last = true;
        }
    }
}

static void header_missing(csv_source *s, tail_job *j, rec_field_id missing)
{
    const char *name = rec_field_name(missing);
    const char *header = s->conf.names[missing] ? s->conf.names[missing] : name;
    s->api->log(s->host, TALLY_LOG_ERR,
                "%s:1: the header has no column '%s' for the required field %s of stream %s; "
                "the file is skipped until it changes: add the column, or name the one to use "
                "with columns = {\"%s=<its header>\"}",
                j->path, header, name, rec_stream_name(s->conf.stream), name);
}

/* The first row of a file is no header. After copytruncate the writer
 * goes on without one, so the truncated file (and later copies of it)
 * start with data: read them with the header the content had before
 * (the entry's, inherited at the truncation), or else with the header of
 * the files before it — if the first row reads as data with it, so that
 * a header with a typo is still reported. 0 with *m; 1 when no header
 * fits; -1 when out of memory. */
static int headerless(csv_source *s, tail_job *j, const csv_row *first, rec_colmap *m)
{
    tail_entry *en = j->en;
    const char *candidates[2] = {en->header, j->sibling_header};
    if (j->start != 0)
        return 1;
    size_t n_fields = first->n_fields;
    for (int i = 0; i < 2; i++) {
        rec_colmap old;
        rec_field_id missing;
        const char *reason;
        tally_record *r;
        if (candidates[i] == NULL || map_text(s, candidates[i], &old, &missing, &reason) != 0 ||
            old.n_cols != n_fields)
            continue;
        /* map_text used the scanner, whose memory the first row's fields
         * may be in: scan the row again (a final one may lack its LF). */
        csv_row again;
        size_t used, len = s->tail.block.tail - s->tail.block.head;
        const char *p = s->tail.block.buf + s->tail.block.head;
        int rc = csv_scan_row(s->scanner, p, len, &again, &used, &reason);
        if (rc == CSV_NEED_MORE && used == 0)
            rc = csv_scan_last_row(s->scanner, p, len, &again, &used, &reason);
        if (rc != CSV_ROW ||
            rec_conv_row(&s->conv, &old, again.fields, s->tail.block.buf,
                         s->tail.block.buf + s->tail.block.cap, tail_batch(&s->tail), &r) != 0)
            continue;
        if (candidates[i] != en->header) {
            char *copy = strdup(candidates[i]);
            if (copy == NULL)
                return -1;
            free(en->header);
            en->header = copy;
        }
        en->header_in_file = false;
        en->data_start = 0;
        *m = old;
        j->line = 0;
        j->ready = true;
        s->api->log(s->host, TALLY_LOG_INFO,
                    "%s has no header row (left by copytruncate?): reading it with the header "
                    "%s",
                    j->path, i == 0 ? "its content had before" : "of the files before it");
        return 0;
    }
    return 1;
}

/* Make the column map for j and place the block where rows start.
 * 0 (j->ready says whether there is a map); -1 with *why when
 * reading failed. */
static int start_file(csv_source *s, tail_job *j, rec_colmap *m, const char **why)
{
    tail_entry *en = j->en;
    rec_field_id missing;
    const char *reason = NULL;
    j->ready = false;
    tail_block_reset(&s->tail.block, 0);
    /* A file without a header row, or one read before: the stored header. */
    if (en->header != NULL && (!en->header_in_file || j->start > 0)) {
        if (map_text(s, en->header, m, &missing, &reason) != 0) {
            if (reason != NULL)
                s->api->log(s->host, TALLY_LOG_ERR,
                            "%s: the header kept in the checkpoint cannot be read (%s); the "
                            "file is skipped",
                            j->path, reason);
            else
                header_missing(s, j, missing);
            return 0;
        }
        return tail_job_resume(j, why);
    }
    csv_row row;
    size_t used;
    int rc = read_first_row(s, j, &row, &used, &reason, why);
    if (rc < 0)
        return -1;
    if (rc == CSV_NEED_MORE) {
        /* No whole header yet: wait for it, unless the file is done. */
        if (j->final)
            s->api->log(s->host, TALLY_LOG_ERR,
                        "%s: the file is empty or its header row is not complete; it is "
                        "skipped until it changes",
                        j->path);
        return 0;
    }
    if (rc == CSV_BAD) {
        s->api->log(s->host, TALLY_LOG_ERR,
                    "%s:1: the header row cannot be read: %s; the file is skipped until it "
                    "changes",
                    j->path, reason);
        return 0;
    }
    const char *raw = s->tail.block.buf + s->tail.block.head;
    size_t raw_len = used;
    while (raw_len > 0 && (raw[raw_len - 1] == '\n' || raw[raw_len - 1] == '\r'))
        raw_len--;
    if (rec_colmap_build(s->conf.stream, (const char *const *)s->conf.names, row.fields,
                         row.n_fields, m, &missing) != 0) {
        int hrc = headerless(s, j, &row, m);
        if (hrc < 0)
            *why = "out of memory";
        else if (hrc > 0)
            header_missing(s, j, missing);
        return hrc < 0 ? -1 : 0;
    }
    if (raw_len > TAIL_HEADER_MAX) {
        s->api->log(s->host, TALLY_LOG_ERR,
                    "%s:1: the header row is %zu bytes long, more than %u; the file is skipped",
                    j->path, raw_len, TAIL_HEADER_MAX);
        return 0;
    }
    if (j->start == 0) {
        char *copy = strndup(raw, raw_len);
        if (copy == NULL) {
            *why = "out of memory";
            return -1;
        }
        free(en->header);
        en->header = copy;
        en->header_in_file = true;
        en->data_start = (uint32_t)used;
        s->tail.block.head += used;
        j->line = row.lines;
        j->ready = true;
        return 0;
    }
    /* Going on inside a file whose header was not kept. */
    if (en->header == NULL && (en->header = strndup(raw, raw_len)) == NULL) {
        *why = "out of memory";
        return -1;
    }
    rc = tail_seek(j, j->start, why);
    if (rc < 0)
        return -1;
    j->line = en->line;
    j->ready = rc == 0;
    return 0;
}

/* ---- rows: the format lib/tail reads files with ---- */

static bool blank_row(const csv_row *row, size_t used)
{
    return row->n_fields == 1 && row->fields[0].len == 0 && used <= 2;
}

static int fmt_start(void *ctx, tail_job *j, const char **why)
{
    csv_source *s = ctx;
    return start_file(s, j, &s->map, why);
}

static int fmt_row(void *ctx, tail_job *j, const char *p, size_t len, bool last, size_t *used,
                   size_t *lines, const char **reason)
{
    csv_source *s = ctx;
    const rec_colmap *m = &s->map;
    csv_row row = {0};
    int rc = last ? csv_scan_last_row(s->scanner, p, len, &row, used, reason)
                  : csv_scan_row(s->scanner, p, len, &row, used, reason);
    *lines = row.lines;
    if (rc == CSV_NEED_MORE)
        return TAIL_NEED_MORE;
    if (rc == CSV_BAD)
        return csv_scanner_discarding(s->scanner) ? TAIL_BAD_LONG : TAIL_BAD;
    if (blank_row(&row, *used))
        return TAIL_SKIP;
    if (row.n_fields != m->n_cols) {
        snprintf(s->count_reason, sizeof(s->count_reason), "the row has %zu fields, the header %zu",
                 row.n_fields, m->n_cols);
        *reason = s->count_reason;
        return TAIL_BAD;
    }
    const char *lo, *hi;
    tail_block_bounds(&s->tail, &lo, &hi);
    tally_record *r;
    int cr = rec_conv_row(&s->conv, m, row.fields, lo, hi, tail_batch(&s->tail), &r);
    if (cr < 0)
        return -1;
    if (cr > 0) {
        *reason = s->conv.reason;
        return TAIL_BAD;
    }
    (void)j;
    return TAIL_ROW;
}

static int fmt_reset(void *ctx)
{
    return scanner_renew(ctx);
}

static const tail_format csv_format = {.row = fmt_row, .start = fmt_start, .reset = fmt_reset};

/* ---- the plugin ---- */

static int csv_collect(void *ctx)
{
    csv_source *s = ctx;
    rec_conv_reset(&s->conv);
    return tail_collect(&s->tail);
}

static int csv_recompute(void *ctx, int64_t from_utc, int64_t to_utc)
{
    csv_source *s = ctx;
    rec_conv_reset(&s->conv);
    return tail_recompute(&s->tail, from_utc, to_utc);
}

static void csv_stop(void *ctx)
{
    csv_source *s = ctx;
    if (s == NULL)
        return;
    csv_scanner_free(s->scanner);
    tail_free(&s->tail);
    csv_conf_free(s);
}

static int csv_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    csv_source *s;
    if (csv_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    s->row_limit = CSV_DEFAULT_MAX_ROW_BYTES;
    if (s->row_limit < 2 * s->max_field_bytes)
        s->row_limit = 2 * s->max_field_bytes;
    s->tail.reject.fd = -1;
    if (scanner_renew(s) != 0) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        csv_stop(s);
        return TALLY_HOST_ERR;
    }
    /* The scanner says how long a row may be; the buffer must hold one
     * plus a block, and over-long rows are recognised by that length. */
    s->row_limit = csv_scanner_row_limit(s->scanner);
    tail_options o;
    tail_conf_apply(&s->conf, h, api, s->row_limit, CSV_BATCH, &s->conv, &o);
    if (tail_init(&s->tail, h, api, &o, &csv_format, s) != 0) {
        csv_stop(s);
        return TALLY_HOST_ERR;
    }
    *ctx = s;
    return TALLY_HOST_OK;
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "csv",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "usage, candidates, users or api_keys rows from CSV files (glob, rotation, .gz)",
    .options = csv_options,
    .init = csv_init,
    .stop = csv_stop,
    .source = {
        .collect = csv_collect,
        .recompute = csv_recompute,
    });
/* clang-format on */
