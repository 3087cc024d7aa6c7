/*
 * csv_conf.c — the csv source's options, one row each (most of them
 * lib/record's and lib/tail's, shared with every file source), and
 * building and freeing a csv_source's options from a checked section.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), not one per
 * option, so messages (the host's config_error) say "FILE:LINE: in csv
 * "TITLE":" and name the option.
 */
#include "csv.h"

#include "record/record_options.h"
#include "tail/tail_options.h"

#include <stdlib.h>

#define MAX_FIELD_BYTES_LIMIT (16L * 1024 * 1024)

static int check_max_field_bytes(tally_host *h, const tally_host_api *api, cfg_t *section,
                                 const char *name)
{
    long v = cfg_getint(section, name);
    if (v < 1 || v > MAX_FIELD_BYTES_LIMIT) {
        api->config_error(h, section, "option '%s' = %ld is out of range: use 1..%ld", name, v,
                          MAX_FIELD_BYTES_LIMIT);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

/* What every file source has comes from lib/ as it is. */
const tally_option csv_options[] = {
    TAIL_OPTION_PATH("/var/log/gateway/usage*.csv"),
    REC_OPTION_STREAM,
    REC_OPTION_COLUMNS(header),
    REC_OPTION_TIME_FORMAT,
    REC_OPTION_NAIVE_TIMEZONE,
    REC_OPTION_ALLOW_NEGATIVE,
    {CFG_INT("max_field_bytes", 65536, CFGF_NONE),
     "longest field in bytes; longer rows are set aside", check_max_field_bytes},
    TAIL_OPTION_REJECT_FILE("csv"),
    TAIL_OPTION_REJECT_MAX_BYTES,
    TALLY_OPTION_END,
};

int csv_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, csv_source **out)
{
    csv_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    if (tail_conf_build(section, "csv", &s->conf) != 0) {
        free(s);
        return TALLY_HOST_ERR;
    }
    s->max_field_bytes = (size_t)cfg_getint(section, "max_field_bytes");
    *out = s;
    return TALLY_HOST_OK;
}

void csv_conf_free(csv_source *s)
{
    if (s == NULL)
        return;
    tail_conf_free(&s->conf);
    free(s);
}
