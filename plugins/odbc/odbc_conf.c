/*
 * odbc_conf.c — the odbc source's options, one row each (stream, columns
 * and naive_timezone are lib/record's, shared with every record source),
 * the checks of the section as a whole (the connection string's ${NAME}
 * references through lib/odbc, table or query), and building and freeing
 * an odbc_source's options from a checked section.
 *
 * libconfuse 3.3 keeps one line per section (where it ends), so messages
 * say "FILE:LINE: in odbc "TITLE":" and name the option.
 */
#include "odbc.h"

#include "record/record_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_range(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name,
                       long lo, long hi, const char *unit)
{
    long v = cfg_getint(section, name);
    if (v < lo || v > hi) {
        api->config_error(h, section, "option '%s' = %ld is out of range: use %ld..%ld%s", name, v,
                          lo, hi, unit);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static int check_batch_rows(tally_host *h, const tally_host_api *api, cfg_t *section,
                            const char *name)
{
    return check_range(h, api, section, name, 1, 1000000, "");
}

static int check_max_field_bytes(tally_host *h, const tally_host_api *api, cfg_t *section,
                                 const char *name)
{
    return check_range(h, api, section, name, 16, 65536, "");
}

static int check_retry_for(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name)
{
    return check_range(h, api, section, name, 0, 3600, " seconds");
}

/* connection, password_file and timeout are checked together by lib/odbc
 * (odbc_conf_check); stream, columns and naive_timezone are every record
 * source's (lib/record). */
const tally_option odbc_options[] = {
    {CFG_STR("connection", NULL, CFGF_NONE),
     "the ODBC connection string (required), e.g. \"DSN=usage\" or "
     "\"DRIVER=PostgreSQL Unicode;Server=db;Database=app;UID=tally\"; ${NAME} is replaced by "
     "the environment variable NAME; passwords are never logged",
     NULL},
    {CFG_STR("password_file", NULL, CFGF_NONE),
     "a file holding the password (one line), added to the connection as PWD", NULL},
    REC_OPTION_STREAM,
    {CFG_STR("table", NULL, CFGF_NONE),
     "the table to read (when neither table nor query is set: usage, request_candidates, users "
     "or api_keys, after the stream); written into the SQL as it is, so schema.table works",
     NULL},
    {CFG_STR("query", NULL, CFGF_NONE),
     "instead of table, a full SELECT for other schemas; its result must have the stream's "
     "columns (renamed with columns)",
     NULL},
    REC_OPTION_COLUMNS(column),
    {CFG_INT("batch_rows", 10000, CFGF_NONE), "rows per page and per fetch; each page is one query",
     check_batch_rows},
    {CFG_INT("max_field_bytes", 256, CFGF_NONE),
     "longest text value in bytes; longer ids, models or providers set the row aside, a longer "
     "error_message is cut",
     check_max_field_bytes},
    REC_OPTION_NAIVE_TIMEZONE,
    REC_OPTION_ALLOW_NEGATIVE,
    {CFG_INT("timeout", 30, CFGF_NONE),
     "seconds to wait for the login and for each query (0: the driver's)", NULL},
    {CFG_INT("retry_for", 60, CFGF_NONE),
     "seconds a cycle keeps reconnecting after the connection was lost, with exponential "
     "backoff and jitter; then the cycle fails and the next one starts over",
     check_retry_for},
    TALLY_OPTION_END,
};

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
    if (odbc_conn_check(h, api, section, "DSN=usage") > 0)
        bad = 1;
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
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

int odbc_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, odbc_source **out)
{
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
    s->allow_negative = cfg_getbool(section, "allow_negative");
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
