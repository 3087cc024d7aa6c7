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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    {CFG_INT("max_field_bytes", 65536, CFGF_NONE),
     "longest field in bytes; longer rows are set aside", check_max_field_bytes},
    TAIL_OPTION_REJECT_FILE("csv"),
    TALLY_OPTION_END,
};

int csv_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, csv_source **out)
{
    csv_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    const char *title = cfg_title(section);
    s->title = strdup(title ? title : "csv");
    s->pattern = strdup(cfg_getstr(section, "path"));
    rec_stream_from_name(cfg_getstr(section, "stream"), &s->stream);
    int ok = s->title != NULL && s->pattern != NULL;
    for (unsigned i = 0; ok && i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i), *eq = strchr(entry, '=');
        rec_field_id f;
        rec_field_lookup(entry, (size_t)(eq - entry), &f);
        ok = (s->names[f] = strdup(eq + 1)) != NULL;
    }
    rec_time_format_from_name(cfg_getstr(section, "time_format"), &s->time_format);
    rec_naive_parse(cfg_getstr(section, "naive_timezone"), &s->naive, &s->naive_offset_s);
    s->max_field_bytes = (size_t)cfg_getint(section, "max_field_bytes");
    const char *rf = cfg_getstr(section, "reject_file");
    if (ok && rf != NULL)
        ok = (s->reject_path = strdup(rf)) != NULL;
    if (!ok) {
        csv_conf_free(s);
        return TALLY_HOST_ERR;
    }
    *out = s;
    return TALLY_HOST_OK;
}

void csv_conf_free(csv_source *s)
{
    if (s == NULL)
        return;
    free(s->title);
    free(s->pattern);
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        free(s->names[f]);
    free(s->reject_path);
    free(s);
}
