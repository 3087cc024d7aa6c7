/*
 * tail_options.c — see tail_options.h.
 */
#include "tail/tail_options.h"

#include "record/record_options.h"

#include <stdlib.h>
#include <string.h>

int tail_option_path(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *v = cfg_getstr(section, name);
    if (v == NULL || v[0] == '\0') {
        api->config_error(h, section,
                          "option '%s' is required; set it to the files to read, a glob(3) "
                          "pattern such as %s = \"/var/log/gateway/usage*\"",
                          name, name);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

int tail_option_reject_file(tally_host *h, const tally_host_api *api, cfg_t *section,
                            const char *name)
{
    const char *v = cfg_getstr(section, name);
    if (v != NULL && (v[0] != '/' || v[strlen(v) - 1] == '/')) {
        api->config_error(h, section,
                          "option '%s' = \"%s\" must be an absolute path to a file, e.g. "
                          "\"/var/lib/tally/rejects/usage.csv\"",
                          name, v);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

int tail_option_reject_max_bytes(tally_host *h, const tally_host_api *api, cfg_t *section,
                                 const char *name)
{
    long v = cfg_getint(section, name);
    if (v < 0) {
        api->config_error(h, section,
                          "option '%s' = %ld must be 0 (keep no rejected rows) or more bytes, "
                          "e.g. %d (64 MiB, the default)",
                          name, v, TAIL_REJECT_MAX_BYTES_DEFAULT);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

int tail_conf_build(cfg_t *section, const char *untitled, tail_conf *out)
{
    *out = (tail_conf){0};
    const char *title = cfg_title(section);
    out->title = strdup(title ? title : untitled);
    out->pattern = strdup(cfg_getstr(section, "path"));
    bool ok = out->title != NULL && out->pattern != NULL;
    rec_stream_from_name(cfg_getstr(section, "stream"), &out->stream);
    for (unsigned i = 0; ok && i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i), *eq = strchr(entry, '=');
        rec_field_id f;
        rec_field_lookup(entry, (size_t)(eq - entry), &f);
        ok = (out->names[f] = strdup(eq + 1)) != NULL;
    }
    rec_time_format_from_name(cfg_getstr(section, "time_format"), &out->time_format);
    rec_naive_parse(cfg_getstr(section, "naive_timezone"), &out->naive, &out->naive_offset_s);
    out->allow_negative = cfg_getbool(section, "allow_negative");
    out->reject_max_bytes = (uint64_t)cfg_getint(section, "reject_max_bytes");
    const char *rf = cfg_getstr(section, "reject_file");
    if (ok && rf != NULL)
        ok = (out->reject_path = strdup(rf)) != NULL;
    if (!ok) {
        tail_conf_free(out);
        return -1;
    }
    for (char *p = out->title; *p; p++)
        if (*p == '/')
            *p = '_';
    return 0;
}

void tail_conf_free(tail_conf *c)
{
    free(c->title);
    free(c->pattern);
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        free(c->names[f]);
    free(c->reject_path);
    *c = (tail_conf){0};
}

void tail_conf_apply(const tail_conf *c, tally_host *h, const tally_host_api *api, size_t row_limit,
                     size_t batch, rec_conv *conv, tail_options *o)
{
    *conv = (rec_conv){
        .stream = c->stream,
        .time_format = c->time_format,
        .naive = c->naive,
        .naive_offset_s = c->naive_offset_s,
        .allow_negative = c->allow_negative,
        .host = h,
        .api = api,
    };
    *o = (tail_options){
        .title = c->title,
        .pattern = c->pattern,
        .stream = c->stream,
        .reject_path = c->reject_path,
        .reject_max_bytes = c->reject_max_bytes,
        .row_limit = row_limit,
        .batch = batch,
    };
}
