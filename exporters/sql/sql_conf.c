/*
 * sql_conf.c — the sql exporter's options: the libconfuse table, the
 * checks libconfuse cannot make, and building and freeing a sql_ctx.
 */
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const tally_option sql_options[] = {
    {CFG_STR("connection", NULL, CFGF_NONE),
     "the ODBC connection string of a PostgreSQL or SQLite database (required), e.g. "
     "\"DRIVER=PostgreSQL Unicode;Server=db;Database=dash;UID=tally\"; in single quotes, "
     "${NAME} is replaced by the environment variable NAME when connecting; passwords are "
     "never logged",
     NULL},
    {CFG_STR("password_file", NULL, CFGF_NONE),
     "a file holding the password (one line), added to the connection as PWD", NULL},
    {CFG_STR("table_prefix", "", CFGF_NONE),
     "put before the table names stats_daily, stats_user_daily, stats_summary and tally_export "
     "(letters, digits and '_'), e.g. \"tally_\"",
     NULL},
    {CFG_BOOL("create_tables", cfg_true, CFGF_NONE),
     "create the tables when they are missing; with false they must exist", NULL},
    {CFG_INT("timeout", 30, CFGF_NONE),
     "seconds to wait for the login and for each statement (0: the driver's)", NULL},
    TALLY_OPTION_END,
};

static const char *const base_names[SQL_N_TABLES] = {
    [SQL_DAILY] = "stats_daily",
    [SQL_USER_DAILY] = "stats_user_daily",
    [SQL_SUMMARY] = "stats_summary",
    [SQL_MARKS] = SQL_MARKS_TABLE,
};

static bool identifier_part(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

int sql_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int bad = 0;
    if (odbc_conn_check(h, api, section, "DSN=dashboards") > 0)
        bad = 1;
    const char *prefix = cfg_getstr(section, "table_prefix");
    if (prefix == NULL || !identifier_part(prefix) || strlen(prefix) > 40 ||
        (prefix[0] >= '0' && prefix[0] <= '9')) {
        api->config_error(h, section,
                          "option 'table_prefix' = \"%s\" may hold only letters, digits and '_' "
                          "(not first), at most 40 of them, e.g. \"tally_\"",
                          prefix ? prefix : "");
        bad = 1;
    }
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

int sql_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, sql_ctx **out)
{
    if (sql_conf_check(h, api, section) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    sql_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TALLY_HOST_ERR;
    c->host = h;
    c->api = api;
    const char *title = cfg_title(section), *pf = cfg_getstr(section, "password_file");
    c->title = strdup(title ? title : "sql");
    c->conn_tmpl = strdup(cfg_getstr(section, "connection"));
    c->conn_shown = odbc_conn_shown(cfg_getstr(section, "connection"));
    c->prefix = strdup(cfg_getstr(section, "table_prefix"));
    c->create_tables = cfg_getbool(section, "create_tables");
    c->timeout_s = cfg_getint(section, "timeout");
    bool ok = c->title && c->conn_tmpl && c->conn_shown && c->prefix;
    if (ok && pf != NULL)
        ok = (c->password_file = strdup(pf)) != NULL;
    for (int t = 0; ok && t < SQL_N_TABLES; t++)
        if (asprintf(&c->table[t], "%s%s", c->prefix, base_names[t]) < 0) {
            c->table[t] = NULL;
            ok = false;
        }
    c->c_locale = ok ? newlocale(LC_ALL_MASK, "C", (locale_t)0) : (locale_t)0;
    if (!ok || c->c_locale == (locale_t)0) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        sql_conf_free(c);
        return TALLY_HOST_ERR;
    }
    *out = c;
    return TALLY_HOST_OK;
}

void sql_conf_free(sql_ctx *c)
{
    if (c == NULL)
        return;
    free(c->title);
    free(c->conn_tmpl);
    free(c->conn_shown);
    free(c->password_file);
    free(c->prefix);
    for (int t = 0; t < SQL_N_TABLES; t++)
        free(c->table[t]);
    if (c->c_locale)
        freelocale(c->c_locale);
    free(c);
}
