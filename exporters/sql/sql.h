/*
 * sql.h — the sql exporter's instance and the parts it is made of:
 * sql_conf.c builds it from a `sql "name" { ... }` section, sql_dialect.c
 * holds everything that differs between PostgreSQL and SQLite (column
 * types, how an instant is written, the upsert), sql_write.c creates the
 * tables and upserts a snapshot's rows in one transaction, and sql.c is
 * the plugin that ties them together.
 *
 * The exporter runs on its own thread and talks to the database over its
 * own ODBC connection, opened at the first export and kept; never the
 * agent's state database. Rows the database already holds with the same
 * values are not written again (a hash of each row's values is kept per
 * key after every commit), so an export costs the rows that changed:
 * today's, a closed day a late record changed, and the summary.
 */
#ifndef TALLY_EXPORTER_SQL_H
#define TALLY_EXPORTER_SQL_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format_fields.h"
#include "odbc/odbc_conn.h"
#include "tally/plugin.h"

/* The three tables, in the order they are written. */
typedef enum sql_table_id { SQL_DAILY, SQL_USER_DAILY, SQL_SUMMARY, SQL_N_TABLES } sql_table_id;

/* sql_dialect.c: what differs between the databases. */
typedef struct sql_dialect {
    const char *name;
    const char *t_int, *t_real, *t_text, *t_instant, *t_date;
    /* An instant (UTC seconds) as a literal's text, unquoted. */
    int (*instant)(int64_t utc, char out[TF_INSTANT_LEN]);
} sql_dialect;

/* The dialect of a database, or NULL when tally does not write to it. */
const sql_dialect *sql_dialect_of(odbc_dbms dbms);
/* The SQL type of a column of kind k. */
const char *sql_dialect_type(const sql_dialect *d, tf_kind k);
/* After "INSERT INTO t (cols) VALUES (...), ...": the clause that makes it
 * an upsert on `keys`, updating the other columns only when a value
 * differs (so writing the same rows again changes nothing at all). */
void sql_dialect_upsert(const sql_dialect *d, tf_buf *b, const char *table, const char *const *keys,
                        size_t n_keys, const char *const *cols, size_t n_cols);

/* The remembered value hashes: key hash -> value hash, per table. */
typedef struct sql_seen {
    uint64_t *keys, *values; /* 0 marks an empty slot */
    size_t cap, n;
} sql_seen;

/* A change waiting for the commit. */
typedef struct sql_change {
    sql_table_id table;
    uint64_t key, value;
} sql_change;

typedef struct sql_ctx {
    tally_host *host;
    const tally_host_api *api;
    char *title;

    /* Options (sql_conf.c). */
    char *conn_tmpl, *conn_shown, *password_file;
    char *prefix;
    bool create_tables;
    long timeout_s;
    char *table[SQL_N_TABLES]; /* prefixed names */

    /* The exporter thread's own. */
    odbc_conn conn;
    const sql_dialect *dialect;
    bool tables_ready;
    sql_seen seen[SQL_N_TABLES];
    sql_change *changes;
    size_t n_changes, cap_changes;
    locale_t c_locale;
} sql_ctx;

/* sql_conf.c */
extern const tally_option sql_options[];
int sql_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
int sql_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, sql_ctx **out);
void sql_conf_free(sql_ctx *c);

/* sql_write.c: create (or check) the tables, and write a snapshot's rows
 * in one transaction. ODBC_OK, ODBC_LOST (reconnect next time) or
 * ODBC_FAILED, logged. */
int sql_tables_ensure(sql_ctx *c);
int sql_write_snapshot(sql_ctx *c, const tally_snapshot *snap);
/* Forget the remembered rows (a new connection writes them all again). */
void sql_seen_reset(sql_ctx *c);
void sql_seen_free(sql_ctx *c);

#endif
