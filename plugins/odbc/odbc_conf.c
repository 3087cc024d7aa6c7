/*
 * odbc_conf.c — the odbc source's options: the libconfuse table, the
 * checks libconfuse cannot make (streams, table or query, column renames
 * against the stream's fields, limits, the connection string's ${NAME}
 * references), and building and freeing an odbc_source's options.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), so messages
 * say "FILE:LINE: in odbc "TITLE":" and name the option.
 */
#include "odbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One option a line. */
/* clang-format off */
cfg_opt_t odbc_options[] = {
    CFG_STR("connection", NULL, CFGF_NONE),
    CFG_STR("password_file", NULL, CFGF_NONE),
    CFG_STR("stream", NULL, CFGF_NONE),
    CFG_STR("table", NULL, CFGF_NONE),
    CFG_STR("query", NULL, CFGF_NONE),
    CFG_STR_LIST("columns", "{}", CFGF_NONE),
    CFG_INT("batch_rows", 10000, CFGF_NONE),
    CFG_INT("max_field_bytes", 256, CFGF_NONE),
    CFG_STR("naive_timezone", "UTC", CFGF_NONE),
    CFG_INT("timeout", 30, CFGF_NONE),
    CFG_INT("retry_for", 60, CFGF_NONE),
    CFG_END(),
};
/* clang-format on */

const char *const odbc_option_help[] = {
    "the ODBC connection string (required), e.g. \"DSN=usage\" or "
    "\"DRIVER=PostgreSQL Unicode;Server=db;Database=app;UID=tally\"; ${NAME} is replaced by "
    "the environment variable NAME; passwords are never logged",
    "a file holding the password (one line), added to the connection as PWD",
    "what the rows are (required): usage, candidates, users or api_keys",
    "the table to read (default: usage, request_candidates, users or api_keys, after the "
    "stream); written into the SQL as it is, so schema.table works",
    "instead of table, a full SELECT for other schemas; its result must have the stream's "
    "columns (renamed with columns)",
    "column names that differ from the field names, as \"field=column\", e.g. "
    "{\"created_at=ts\", \"user_id=uid\"}",
    "rows per page and per fetch (default 10000); each page is one query",
    "longest text value in bytes (default 256); longer ids, models or providers set the row "
    "aside, a longer error_message is cut",
    "the zone of timestamps without one (TIMESTAMP WITHOUT TIME ZONE, text without an "
    "offset): UTC (default), a fixed offset such as \"+08:00\", or business",
    "seconds to wait for the login and for each query (default 30; 0: the driver's)",
    "seconds a cycle keeps reconnecting after the connection was lost (default 60), with "
    "exponential backoff and jitter; then the cycle fails and the next one starts over",
    NULL,
};

#define STREAM_NAMES "usage, candidates, users, api_keys"

/* A problem a shared check (lib/odbc, lib/record) found. */
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

const char *odbc_default_table(tally_stream stream)
{
    switch (stream) {
    case TALLY_STREAM_CANDIDATES:
        return "request_candidates";
    case TALLY_STREAM_USERS:
        return "users";
    case TALLY_STREAM_API_KEYS:
        return "api_keys";
    default:
        return "usage";
    }
}

int odbc_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    /* Every problem is reported, not just the first. */
    int bad = 0;
    report_to to = {h, api, section};
    if (odbc_conn_check(section, "DSN=usage", report_columns, &to) > 0)
        bad = 1;
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
    const char *table = cfg_getstr(section, "table"), *query = cfg_getstr(section, "query");
    if (table != NULL && query != NULL) {
        api->config_error(h, section,
                          "options 'table' and 'query' are both set; keep one: table reads a table "
                          "whole, query runs your SELECT");
        bad = 1;
    }
    if (table != NULL && table[0] == '\0') {
        api->config_error(h, section, "option 'table' is empty; name a table or remove the option");
        bad = 1;
    }
    if (query != NULL && strspn(query, " \t\r\n") == strlen(query)) {
        api->config_error(h, section,
                          "option 'query' is empty; write a SELECT or remove the option");
        bad = 1;
    }
    if (rec_columns_check(section, stream_ok ? &stream : NULL, "column", report_columns, &to) > 0)
        bad = 1;
    long br = cfg_getint(section, "batch_rows");
    if (br < 1 || br > 1000000) {
        api->config_error(h, section, "option 'batch_rows' = %ld is out of range: use 1..1000000",
                          br);
        bad = 1;
    }
    long mfb = cfg_getint(section, "max_field_bytes");
    if (mfb < 16 || mfb > 65536) {
        api->config_error(h, section,
                          "option 'max_field_bytes' = %ld is out of range: use 16..65536", mfb);
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
    long rf = cfg_getint(section, "retry_for");
    if (rf < 0 || rf > 3600) {
        api->config_error(h, section,
                          "option 'retry_for' = %ld is out of range: use 0..3600 seconds", rf);
        bad = 1;
    }
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

int odbc_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, odbc_source **out)
{
    if (odbc_conf_check(h, api, section) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    odbc_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TALLY_HOST_ERR;
    s->host = h;
    s->api = api;
    const char *title = cfg_title(section);
    s->title = strdup(title ? title : "odbc");
    s->conn_tmpl = strdup(cfg_getstr(section, "connection"));
    s->conn_shown = odbc_conn_shown(cfg_getstr(section, "connection"));
    rec_stream_from_name(cfg_getstr(section, "stream"), &s->stream);
    const char *pf = cfg_getstr(section, "password_file");
    const char *table = cfg_getstr(section, "table"), *query = cfg_getstr(section, "query");
    int ok = s->title != NULL && s->conn_tmpl != NULL && s->conn_shown != NULL;
    if (ok && pf != NULL)
        ok = (s->password_file = strdup(pf)) != NULL;
    if (ok && query != NULL)
        ok = (s->query = strdup(query)) != NULL;
    else if (ok)
        ok = (s->table = strdup(table ? table : odbc_default_table(s->stream))) != NULL;
    for (unsigned i = 0; ok && i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i), *eq = strchr(entry, '=');
        rec_field_id f;
        rec_field_lookup(entry, (size_t)(eq - entry), &f);
        ok = (s->names[f] = strdup(eq + 1)) != NULL;
    }
    s->batch_rows = (size_t)cfg_getint(section, "batch_rows");
    s->max_field_bytes = (size_t)cfg_getint(section, "max_field_bytes");
    s->timeout_s = cfg_getint(section, "timeout");
    s->retry_for = (double)cfg_getint(section, "retry_for");
    rec_naive_parse(cfg_getstr(section, "naive_timezone"), &s->naive, &s->naive_offset_s);
    if (!ok) {
        odbc_conf_free(s);
        return TALLY_HOST_ERR;
    }
    *out = s;
    return TALLY_HOST_OK;
}

void odbc_conf_free(odbc_source *s)
{
    if (s == NULL)
        return;
    free(s->title);
    free(s->conn_tmpl);
    free(s->conn_shown);
    free(s->password_file);
    free(s->table);
    free(s->query);
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        free(s->names[f]);
    free(s);
}
