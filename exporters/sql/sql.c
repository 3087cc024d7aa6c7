/*
 * sql.c — the sql exporter plugin: `sql "name" { connection = ... }`
 * upserts every snapshot's days, user-days and summary into the tables
 * stats_daily, stats_user_daily and stats_summary of a PostgreSQL or
 * SQLite database, where dashboards made for the original service look,
 * and keeps its mark of what they hold in tally_export.
 *
 * It connects at the first export, on the exporter's own thread, and
 * keeps the connection; after each connection it reads its mark. A
 * snapshot is written in one transaction or not at all; a failed export
 * is logged and the next snapshot tries again, reconnecting first when
 * the connection was lost, and writes what changed since the mark, the
 * failed snapshot's changes included.
 */
#include "sql.h"

#include <stdlib.h>
#include <string.h>

static void disconnect(sql_ctx *c)
{
    odbc_conn_close(&c->conn);
    c->tables_ready = false;
    /* Another connection may reach a database that holds other rows, and
     * a commit cut off on its way holds or not: the mark will say. */
    sql_seen_reset(c);
    c->mark_loaded = false;
}

static int connect_db(sql_ctx *c)
{
    odbc_conn_opts o = {c->conn_tmpl, c->conn_shown, c->password_file, c->timeout_s};
    odbc_diag d;
    int rc = odbc_conn_connect(&c->conn, c->host, c->api, &o, &d);
    if (rc == ODBC_FAILED)
        return rc;
    if (rc != 0) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "connecting with \"%s\" failed: %s; check the connection string, the "
                    "driver, the user and password, and that the server runs; the next export "
                    "tries again",
                    c->conn_shown, d.text);
        return ODBC_FAILED;
    }
    c->dialect = sql_dialect_of(c->conn.dbms);
    if (c->dialect == NULL) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "the database is %s; the sql exporter writes to PostgreSQL and SQLite only",
                    c->conn.dbms_name);
        odbc_conn_close(&c->conn);
        return ODBC_FAILED;
    }
    /* One transaction per snapshot: nothing commits on its own. */
    if (!SQL_SUCCEEDED(SQLSetConnectAttr(c->conn.dbc, SQL_ATTR_AUTOCOMMIT,
                                         (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0))) {
        odbc_diag_get(SQL_HANDLE_DBC, c->conn.dbc, &d);
        c->api->log(c->host, TALLY_LOG_ERR,
                    "the driver cannot run transactions (%s); nothing is written", d.text);
        odbc_conn_close(&c->conn);
        return ODBC_FAILED;
    }
    c->api->log(c->host, TALLY_LOG_INFO, "connected to %s", c->conn.dbms_name);
    return ODBC_OK;
}

static int sql_export_snapshot(void *ctx, const tally_snapshot *snap)
{
    sql_ctx *c = ctx;
    int rc = ODBC_OK;
    if (!c->conn.connected)
        rc = connect_db(c);
    if (rc == ODBC_OK && !c->tables_ready)
        rc = sql_tables_ensure(c);
    if (rc == ODBC_OK && !c->mark_loaded)
        rc = sql_mark_load(c);
    if (rc == ODBC_OK) {
        /* Doubles as text in the C locale, whatever LC_NUMERIC says. */
        locale_t old = uselocale(c->c_locale);
        rc = sql_write_snapshot(c, snap);
        uselocale(old);
    }
    if (rc == ODBC_LOST)
        disconnect(c);
    return rc == ODBC_OK ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int sql_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    sql_ctx *c = NULL;
    if (sql_conf_create(h, api, section, &c) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    *ctx = c;
    return TALLY_HOST_OK;
}

static void sql_stop(void *ctx)
{
    sql_ctx *c = ctx;
    if (c == NULL)
        return;
    odbc_conn_close(&c->conn);
    sql_seen_free(c);
    sql_conf_free(c);
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "sql",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "upsert the days, user-days and summary that changed into stats_daily, " "stats_user_daily and stats_summary (PostgreSQL or SQLite, through unixODBC)",
    .options = sql_options,
    .check = sql_conf_check,
    .init = sql_init,
    .stop = sql_stop,
    .exporter = {
        .export_snapshot = sql_export_snapshot,
    });
/* clang-format on */
