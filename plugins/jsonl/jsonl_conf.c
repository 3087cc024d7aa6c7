/*
 * jsonl_conf.c — the jsonl source's options, all in one place: the
 * libconfuse table with the help of each option, the checks libconfuse
 * cannot make (stream names, key renames against that stream's fields,
 * time formats and zones, the line limit, the reject file), and building
 * and freeing an instance's options.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), not one per
 * option, so messages say "FILE:LINE: in jsonl "TITLE":" and name the
 * option.
 */
#include "jsonl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE_BYTES_DEFAULT (1024 * 1024)
#define MAX_LINE_BYTES_LIMIT (64L * 1024 * 1024)
#define STREAMS "usage, candidates, users, api_keys"

cfg_opt_t jsonl_options[] = {
    CFG_STR("path", NULL, CFGF_NONE),
    CFG_STR("stream", NULL, CFGF_NONE),
    CFG_STR_LIST("columns", "{}", CFGF_NONE),
    CFG_STR("time_format", "iso8601", CFGF_NONE),
    CFG_STR("naive_timezone", "UTC", CFGF_NONE),
    CFG_INT("max_line_bytes", MAX_LINE_BYTES_DEFAULT, CFGF_NONE),
    CFG_STR("reject_file", NULL, CFGF_NONE),
    CFG_END(),
};

const char *const jsonl_option_help[] = {
    "files to read (required): a glob(3) pattern such as \"/var/log/gateway/requests*.jsonl\"; "
    "one JSON object per line; matching files are read oldest first, new ones picked up every "
    "cycle, rotated and .gz files followed",
    "what the lines are (required): usage, candidates, users or api_keys",
    "keys that differ from the field names, as \"field=key\"; a dotted key goes into nested "
    "objects, e.g. {\"created_at=ts\", \"input_tokens=usage.prompt_tokens\"}",
    "how created_at is written: iso8601, epoch_s or epoch_ms",
    "the zone of ISO 8601 times written without one: UTC, a fixed offset such as "
    "\"+08:00\", or business (the agent's timezone)",
    "longest line in bytes, its line end not counted; longer lines are set aside",
    "where lines that cannot be read are set aside, as CSV (default "
    "<state_dir>/rejects/<title>.csv)",
    NULL,
};

static void conf_error(tally_host *h, const tally_host_api *api, cfg_t *section, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static void conf_error(tally_host *h, const tally_host_api *api, cfg_t *section, const char *fmt,
                       ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    api->log(h, TALLY_LOG_ERR, "%s:%d: in jsonl \"%s\": %s",
             section->filename ? section->filename : "config", section->line,
             cfg_title(section) ? cfg_title(section) : "",
             text ? text : "invalid option (out of memory describing it)");
    free(text);
}

typedef struct conf_at {
    tally_host *h;
    const tally_host_api *api;
    cfg_t *section;
} conf_at;

/* lib/record's `columns` check reports through this. */
static void columns_problem(void *arg, const char *message)
{
    conf_at *at = arg;
    conf_error(at->h, at->api, at->section, "%s", message);
}

/* path and stream: 0, or the number of problems reported. */
static int check_what(tally_host *h, const tally_host_api *api, cfg_t *section,
                      tally_stream *stream, bool *stream_ok)
{
    int bad = 0;
    const char *path = cfg_getstr(section, "path");
    const char *sname = cfg_getstr(section, "stream");
    if (path == NULL || *path == '\0') {
        conf_error(h, api, section,
                   "option 'path' is required; set it to the files to read, e.g. path = "
                   "\"/var/log/gateway/requests*.jsonl\"");
        bad++;
    }
    *stream_ok = rec_stream_from_name(sname, stream) == 0;
    if (sname == NULL) {
        conf_error(h, api, section, "option 'stream' is required; set it to one of " STREAMS);
        bad++;
    } else if (!*stream_ok) {
        conf_error(h, api, section, "option 'stream' = \"%s\" is unknown; use one of " STREAMS,
                   sname);
        bad++;
    }
    return bad;
}

/* time_format, naive_timezone, max_line_bytes, reject_file. */
static int check_how(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int bad = 0;
    rec_time_format tf;
    rec_naive_kind nk;
    int32_t off;
    const char *tf_text = cfg_getstr(section, "time_format");
    const char *nz = cfg_getstr(section, "naive_timezone");
    long max_line = cfg_getint(section, "max_line_bytes");
    const char *rf = cfg_getstr(section, "reject_file");
    if (rec_time_format_parse(tf_text, &tf) != 0) {
        conf_error(h, api, section,
                   "option 'time_format' = \"%s\" is unknown; use iso8601, epoch_s or epoch_ms",
                   tf_text ? tf_text : "");
        bad++;
    }
    if (rec_naive_parse(nz, &nk, &off) != 0) {
        conf_error(h, api, section,
                   "option 'naive_timezone' = \"%s\" is unknown; use UTC, business (the agent's "
                   "timezone) or a fixed offset such as \"+08:00\"",
                   nz ? nz : "");
        bad++;
    }
    if (max_line < 2 || max_line > MAX_LINE_BYTES_LIMIT) {
        conf_error(h, api, section, "option 'max_line_bytes' = %ld is out of range: use 2..%ld",
                   max_line, MAX_LINE_BYTES_LIMIT);
        bad++;
    }
    if (rf != NULL && (rf[0] != '/' || rf[strlen(rf) - 1] == '/')) {
        conf_error(h, api, section,
                   "option 'reject_file' = \"%s\" must be an absolute path to a file, e.g. "
                   "\"/var/lib/tally/rejects/edge.csv\"",
                   rf);
        bad++;
    }
    return bad;
}

int jsonl_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    /* Every problem is reported, not just the first, so one `tallyd -t`
     * shows all there is to fix. */
    tally_stream stream;
    bool stream_ok;
    conf_at at = {h, api, section};
    int bad = check_what(h, api, section, &stream, &stream_ok);
    bad += rec_columns_check(section, stream_ok ? &stream : NULL, "key", columns_problem, &at);
    bad += check_how(h, api, section);
    return bad > 0 ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

int jsonl_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section,
                     jsonl_source **out)
{
    if (jsonl_conf_check(h, api, section) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    jsonl_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    s->title = strdup(cfg_title(section) ? cfg_title(section) : "jsonl");
    s->pattern = strdup(cfg_getstr(section, "path"));
    bool ok = s->title != NULL && s->pattern != NULL;
    rec_stream_from_name(cfg_getstr(section, "stream"), &s->stream);
    for (unsigned i = 0; ok && i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i);
        const char *eq = strchr(entry, '=');
        rec_field_id f;
        rec_field_lookup(entry, (size_t)(eq - entry), &f);
        ok = (s->keys[f] = strdup(eq + 1)) != NULL;
    }
    rec_time_format_parse(cfg_getstr(section, "time_format"), &s->time_format);
    rec_naive_parse(cfg_getstr(section, "naive_timezone"), &s->naive, &s->naive_offset_s);
    s->max_line_bytes = (size_t)cfg_getint(section, "max_line_bytes");
    const char *rf = cfg_getstr(section, "reject_file");
    if (ok && rf != NULL)
        ok = (s->reject_path = strdup(rf)) != NULL;
    if (!ok) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        jsonl_conf_free(s);
        return TALLY_HOST_ERR;
    }
    *out = s;
    return TALLY_HOST_OK;
}

void jsonl_conf_free(jsonl_source *s)
{
    if (s == NULL)
        return;
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        free(s->keys[f]);
    free(s->title);
    free(s->pattern);
    free(s->reject_path);
    free(s);
}
