/*
 * csv_conf.c — the csv source's options: the libconfuse table, the checks
 * libconfuse cannot make (stream names, column renames against that
 * stream's fields, time formats and zones, limits), and building and
 * freeing a csv_source's options.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), not one per
 * option, so messages (the host's config_error) say "FILE:LINE: in csv
 * "TITLE":" and name the option.
 */
#include "csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELD_BYTES_LIMIT (16L * 1024 * 1024)

cfg_opt_t csv_options[] = {
    CFG_STR("path", NULL, CFGF_NONE),
    CFG_STR("stream", NULL, CFGF_NONE),
    CFG_STR_LIST("columns", "{}", CFGF_NONE),
    CFG_STR("time_format", "iso8601", CFGF_NONE),
    CFG_STR("naive_timezone", "UTC", CFGF_NONE),
    CFG_INT("max_field_bytes", 65536, CFGF_NONE),
    CFG_STR("reject_file", NULL, CFGF_NONE),
    CFG_END(),
};

const char *const csv_option_help[] = {
    "files to read (required): a glob(3) pattern such as \"/var/log/gateway/usage*.csv\"; "
    "matching files are read oldest first, new ones picked up every cycle, rotated and "
    ".gz files followed",
    "what the rows are (required): usage, candidates, users or api_keys",
    "header names that differ from the field names, as \"field=header\", e.g. "
    "{\"created_at=ts\", \"user_id=uid\"}",
    "how created_at is written: iso8601 (default), epoch_s or epoch_ms",
    "the zone of ISO 8601 times written without one: UTC (default), a fixed offset such as "
    "\"+08:00\", or business (the agent's timezone)",
    "longest field in bytes (default 65536); longer rows are set aside",
    "where rows that cannot be read are set aside, as CSV (default "
    "<state_dir>/rejects/<title>.csv)",
    NULL,
};

#define STREAM_NAMES "usage, candidates, users, api_keys"

/* A problem the shared `columns` check found. */
typedef struct report_to {
    tally_host *h;
    const tally_host_api *api;
    cfg_t *section;
} report_to;

static void report_columns(void *arg, const char *message)
{
    report_to *r = arg;
    r->api->config_error(r->h, r->section, "%s", message);
}

int csv_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    /* Every problem is reported, not just the first, so one `tallyd -t`
     * shows all there is to fix. */
    int bad = 0;
    const char *path = cfg_getstr(section, "path");
    if (path == NULL || path[0] == '\0') {
        api->config_error(h, section,
                          "option 'path' is required; set it to the files to read, e.g. path = "
                          "\"/var/log/gateway/usage*.csv\"");
        bad = 1;
    }
    const char *sname = cfg_getstr(section, "stream");
    tally_stream stream;
    bool stream_ok = rec_stream_from_name(sname, &stream) == 0;
    if (sname == NULL) {
        api->config_error(h, section,
                          "option 'stream' is required; set it to one of " STREAM_NAMES);
        bad = 1;
    } else if (!stream_ok) {
        api->config_error(h, section,
                          "option 'stream' = \"%s\" is unknown; use one of " STREAM_NAMES, sname);
        bad = 1;
    }
    report_to to = {h, api, section};
    if (rec_columns_check(section, stream_ok ? &stream : NULL, "header", report_columns, &to) > 0)
        bad = 1;
    const char *tf = cfg_getstr(section, "time_format");
    if (tf == NULL ||
        (strcmp(tf, "iso8601") != 0 && strcmp(tf, "epoch_s") != 0 && strcmp(tf, "epoch_ms") != 0)) {
        api->config_error(
            h, section,
            "option 'time_format' = \"%s\" is unknown; use iso8601, epoch_s or epoch_ms",
            tf ? tf : "");
        bad = 1;
    }
    const char *nz = cfg_getstr(section, "naive_timezone");
    rec_naive_kind nk;
    int32_t off;
    if (rec_naive_parse(nz, &nk, &off) != 0) {
        api->config_error(
            h, section,
            "option 'naive_timezone' = \"%s\" is unknown; use UTC, business (the agent's "
            "timezone) or a fixed offset such as \"+08:00\"",
            nz ? nz : "");
        bad = 1;
    }
    long mfb = cfg_getint(section, "max_field_bytes");
    if (mfb < 1 || mfb > MAX_FIELD_BYTES_LIMIT) {
        api->config_error(h, section, "option 'max_field_bytes' = %ld is out of range: use 1..%ld",
                          mfb, MAX_FIELD_BYTES_LIMIT);
        bad = 1;
    }
    const char *rf = cfg_getstr(section, "reject_file");
    if (rf != NULL && (rf[0] != '/' || rf[strlen(rf) - 1] == '/')) {
        api->config_error(h, section,
                          "option 'reject_file' = \"%s\" must be an absolute path to a file, e.g. "
                          "\"/var/lib/tally/rejects/usage.csv\"",
                          rf);
        bad = 1;
    }
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

int csv_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, csv_source **out)
{
    if (csv_conf_check(h, api, section) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
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
    const char *tf = cfg_getstr(section, "time_format");
    s->time_format = strcmp(tf, "epoch_s") == 0    ? REC_TIME_EPOCH_S
                     : strcmp(tf, "epoch_ms") == 0 ? REC_TIME_EPOCH_MS
                                                   : REC_TIME_ISO8601;
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
