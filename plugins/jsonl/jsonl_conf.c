/*
 * jsonl_conf.c — the jsonl source's options, one row each (all but
 * max_line_bytes lib/record's and lib/tail's, shared with every file
 * source), and building and freeing a jsonl_source's options from a
 * checked section.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), not one per
 * option, so messages (the host's config_error) say "FILE:LINE: in jsonl
 * "TITLE":" and name the option.
 */
#include "jsonl.h"

#include "record/record_options.h"

#include <stdlib.h>

#define MAX_LINE_BYTES_DEFAULT (1024 * 1024)
#define MAX_LINE_BYTES_LIMIT (64L * 1024 * 1024)

/* Fewer than 2 bytes cannot hold an object ("{}"). */
static int check_max_line_bytes(tally_host *h, const tally_host_api *api, cfg_t *section,
                                const char *name)
{
    long v = cfg_getint(section, name);
    if (v < 2 || v > MAX_LINE_BYTES_LIMIT) {
        api->config_error(h, section, "option '%s' = %ld is out of range: use 2..%ld", name, v,
                          MAX_LINE_BYTES_LIMIT);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

/* What every file source has comes from lib/ as it is. Rejected lines are
 * written as CSV rows (lib/tail's reject file), hence the ".csv". */
const tally_option jsonl_options[] = {
    TAIL_OPTION_PATH("/var/log/gateway/requests*.jsonl"),
    REC_OPTION_STREAM,
    REC_OPTION_COLUMNS(key),
    REC_OPTION_TIME_FORMAT,
    REC_OPTION_NAIVE_TIMEZONE,
    REC_OPTION_ALLOW_NEGATIVE,
    {CFG_INT("max_line_bytes", MAX_LINE_BYTES_DEFAULT, CFGF_NONE),
     "longest line in bytes, its line end not counted; longer lines are set aside",
     check_max_line_bytes},
    TAIL_OPTION_REJECT_FILE("csv"),
    TAIL_OPTION_REJECT_MAX_BYTES,
    TALLY_OPTION_END,
};

int jsonl_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, jsonl_source **out)
{
    jsonl_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    if (tail_conf_build(section, "jsonl", &s->conf) != 0) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        free(s);
        return TALLY_HOST_ERR;
    }
    s->max_line_bytes = (size_t)cfg_getint(section, "max_line_bytes");
    *out = s;
    return TALLY_HOST_OK;
}

void jsonl_conf_free(jsonl_source *s)
{
    if (s == NULL)
        return;
    tail_conf_free(&s->conf);
    free(s);
}
