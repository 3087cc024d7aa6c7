/*
 * jsonl.c — the jsonl source: reads JSON-lines files of one stream
 * (usage, candidates, users or api_keys), one JSON object per line, and
 * hands them to the collectors as records.
 *
 * Following the files (globs, rotation, .gz, the checkpoint, rejects) is
 * lib/tail's, turning values into records lib/record's, reading a line's
 * object jsonl_line.c's. What is here is the format lib/tail reads with:
 * where a line ends, and what to do with one over the limit.
 */
#include "jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The next line at buf[0..len): a line ends at its LF; the last line of a
 * file that will not grow (renamed away, an inventory) also at the end.
 * Without either it waits for more bytes, unless it is already longer
 * than a line may be: then it is set aside at once and the rest of it
 * discarded as it arrives (s->discarding, and lib/tail's skip_line after
 * a restart), so an endless line never fills the buffer.
 */
static int fmt_row(void *ctx, tail_job *j, const char *buf, size_t len, bool last, size_t *used,
                   size_t *lines, const char **reason)
{
    jsonl_source *s = ctx;
    const char *lf = memchr(buf, '\n', len);
    (void)j;
    *lines = lf != NULL;
    if (s->discarding) {
        *used = lf ? (size_t)(lf - buf) + 1 : len;
        s->discarding = lf == NULL;
        return TAIL_NEED_MORE;
    }
    size_t n;
    if (lf != NULL) {
        n = (size_t)(lf - buf);
        *used = n + 1;
    } else if (last) {
        n = len;
        *used = len;
    } else if (len > s->max_line_bytes + 1) {
        /* No LF where one would end a line within the limit (after its
         * max_line_bytes and a CR). */
        snprintf(s->long_reason, sizeof(s->long_reason),
                 "the line is longer than max_line_bytes (%zu)", s->max_line_bytes);
        *reason = s->long_reason;
        *used = len;
        s->discarding = true;
        return TAIL_BAD_LONG;
    } else {
        *used = 0;
        return TAIL_NEED_MORE;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n > s->max_line_bytes) {
        snprintf(s->long_reason, sizeof(s->long_reason),
                 "the line is %zu bytes long, more than max_line_bytes (%zu)", n,
                 s->max_line_bytes);
        *reason = s->long_reason;
        return TAIL_BAD;
    }
    rec_value row[REC_FIELD_COUNT];
    int rc = jsonl_line_parse(s->parser, buf, n, row, reason);
    if (rc == JSONL_BLANK)
        return TAIL_SKIP;
    if (rc != JSONL_ROW)
        return TAIL_BAD;
    const char *lo, *hi;
    tail_block_bounds(&s->tail, &lo, &hi);
    tally_record *r;
    int cr = rec_conv_row(&s->conv, &s->map, row, lo, hi, tail_batch(&s->tail), &r);
    if (cr < 0)
        return -1;
    if (cr > 0) {
        *reason = s->conv.reason;
        return TAIL_BAD;
    }
    return TAIL_ROW;
}

static int fmt_reset(void *ctx)
{
    jsonl_source *s = ctx;
    s->discarding = false;
    return 0;
}

/* No header: lib/tail starts each file where its checkpoint stopped. */
static const tail_format jsonl_format = {.row = fmt_row, .start = NULL, .reset = fmt_reset};

/* ---- the plugin ---- */

static int jsonl_collect(void *ctx)
{
    jsonl_source *s = ctx;
    rec_conv_reset(&s->conv);
    return tail_collect(&s->tail);
}

static int jsonl_recompute(void *ctx, int64_t from_utc, int64_t to_utc)
{
    jsonl_source *s = ctx;
    rec_conv_reset(&s->conv);
    return tail_recompute(&s->tail, from_utc, to_utc);
}

static void jsonl_stop(void *ctx)
{
    jsonl_source *s = ctx;
    if (s == NULL)
        return;
    jsonl_line_free(s->parser);
    tail_free(&s->tail);
    jsonl_conf_free(s);
}

static int jsonl_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    jsonl_source *s;
    if (jsonl_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    /* A row is the longest line with its CR LF. */
    size_t row_limit = s->max_line_bytes + 2;
    tail_options o;
    tail_conf_apply(&s->conf, h, api, row_limit, JSONL_BATCH, &s->conv, &o);
    rec_colmap_fields(s->conf.stream, &s->map);
    s->tail.reject.fd = -1;
    if (jsonl_line_new(s->conf.stream, (const char *const *)s->conf.names, row_limit, &s->parser) !=
        0) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        jsonl_stop(s);
        return TALLY_HOST_ERR;
    }
    if (tail_init(&s->tail, h, api, &o, &jsonl_format, s) != 0) {
        jsonl_stop(s);
        return TALLY_HOST_ERR;
    }
    *ctx = s;
    return TALLY_HOST_OK;
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "jsonl",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "usage, candidates, users or api_keys from JSON-lines files (one object per line, "
               "columns' dotted keys reach into nested objects; glob, rotation, .gz)",
    .options = jsonl_options,
    .init = jsonl_init,
    .stop = jsonl_stop,
    .source = {
        .collect = jsonl_collect,
        .recompute = jsonl_recompute,
    });
/* clang-format on */
