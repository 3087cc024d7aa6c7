/*
 * odbc.h — the odbc source's instance and the parts it is made of:
 * odbc_conf.c builds the options from an `odbc "title" { ... }` section,
 * odbc_conn.c connects (shared with the sql exporter), odbc_query.c maps
 * the result's columns to fields and writes the keyset queries and the
 * watermark, odbc_fetch.c binds column-wise arrays and fetches pages,
 * odbc_rows.c turns fetched rows into records, and odbc.c is the plugin:
 * collect, retries, inventories, recompute.
 *
 * usage and candidates are read in keyset order, (created_at, id): each
 * page is `... WHERE (created_at, id) > (last key) ORDER BY created_at, id
 * LIMIT batch_rows`, so no row is read twice or skipped, however many
 * share a timestamp, and the key after the last row handed over (the
 * watermark) is the checkpoint, committed with the cycle's aggregates.
 * users and api_keys are read whole every cycle.
 */
#ifndef TALLY_PLUGIN_ODBC_H
#define TALLY_PLUGIN_ODBC_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odbc/odbc_conn.h"
#include "record/record.h"
#include "tally/plugin.h"

/* The state key of the watermark. */
#define ODBC_STATE_KEY "keyset"
/* Rejected rows described in the log per cycle; the rest are counted. */
#define ODBC_REJECTS_SHOWN 5
/* A page's bound arrays stay below this many bytes (batch_rows shrinks). */
#define ODBC_BUFFER_BUDGET (64u * 1024u * 1024u)

/* Bytes per row of a column's text (a UUID or a double written out). */
#define ODBC_TEXT_STRIDE 40

/* One column of the result, bound to an array of rows_cap values. */
typedef struct odbc_col {
    rec_field_id field;
    char *name;           /* as the database spells it */
    SQLSMALLINT sql_type; /* what the driver says it is */
    bool zoned;           /* a timestamp with time zone: arrives as UTC */
    bool integer;         /* an integer type (ids: literals unquoted) */
    bool text_cast;       /* selected as col::text (PostgreSQL's uuid) */
    SQLSMALLINT c_type;   /* how it is bound: SQL_C_CHAR, _SBIGINT, ... */
    size_t width;         /* bytes per value in buf */
    uint16_t off;         /* where the value goes in a tally_record */
    uint8_t kind;         /* CSV_K_*: how it is read */
    void *buf;
    SQLLEN *ind;
    char *text; /* SQL_C_GUID and SQL_C_DOUBLE: their values as text, per row */
} odbc_col;

/* The keyset position: the created_at and id of the last row handed
 * over, as SQL literals' contents (unquoted), or none yet. */
typedef struct odbc_key {
    bool set;
    char *created;
    char *id;
    bool id_numeric; /* written without quotes */
} odbc_key;

typedef struct odbc_source {
    tally_host *host;
    const tally_host_api *api;
    char *title;

    /* Options (odbc_conf.c). */
    char *conn_tmpl;  /* as configured: ${NAME} unexpanded */
    char *conn_shown; /* for messages: passwords masked */
    char *password_file;
    tally_stream stream;
    char *table; /* NULL when query is set */
    char *query;
    char *names[REC_FIELD_COUNT]; /* column name per field; NULL: the field's own */
    size_t batch_rows;
    size_t max_field_bytes;
    long timeout_s;
    double retry_for; /* seconds a cycle keeps reconnecting */
    rec_naive_kind naive;
    int32_t naive_offset_s;
    bool allow_negative;

    /* The connection and what was learnt from it. */
    odbc_conn conn;
    bool planned; /* cols describe this connection's result */
    odbc_col cols[REC_FIELD_COUNT];
    size_t n_cols;
    int created_col, id_col; /* indexes into cols, -1 for inventories */
    SQLHSTMT stmt;           /* the page statement, its columns bound */
    size_t rows_cap;         /* rows per fetch */
    SQLULEN fetched;
    SQLUSMALLINT *row_status;
    tally_record *recs;
    locale_t c_locale; /* doubles as text, whatever LC_NUMERIC says */

    /* Between cycles. */
    rec_conv conv;
    odbc_diag lost;    /* why the connection was lost, for the retry message */
    int rejects_shown; /* this cycle */
    int64_t rejected;  /* this cycle, not yet counted */
    uint64_t rows_read; /* rows fetched since init, for the agent's figures */
} odbc_source;

/* odbc_conf.c */
extern const tally_option odbc_options[];
/* What the options' rows cannot check alone: the connection (lib/odbc),
 * table against query. */
int odbc_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
int odbc_conf_build(tally_host *h, const tally_host_api *api, cfg_t *section, odbc_source **out);
void odbc_conf_free(odbc_source *s);
/* The table a stream reads when neither table nor query is set. */
const char *odbc_default_table(tally_stream stream);

/* odbc_query.c: describe the result and map its columns to fields
 * (s->cols); ODBC_OK, ODBC_LOST, or ODBC_FAILED after logging which
 * column is missing or has a type tally cannot read. */
int odbc_plan(odbc_source *s);
void odbc_plan_free(odbc_source *s);
/* The SQL of one page after `after` (if set), up to and including
 * `upto` (if set), or of a whole inventory (malloc'd; NULL when out of
 * memory). */
char *odbc_page_sql(const odbc_source *s, const odbc_key *after, const odbc_key *upto);
/* The watermark in the state: 0 (key->set false when there is none), or
 * -1 after logging why it cannot be read. */
int odbc_key_load(odbc_source *s, odbc_key *key);
int odbc_key_store(odbc_source *s, const odbc_key *key);
/* key := the key of fetched row i: 0, or -1 after logging why. */
int odbc_key_from_row(odbc_source *s, size_t i, odbc_key *key);
void odbc_key_free(odbc_key *key);

/* odbc_fetch.c: bind the planned columns to arrays (ODBC_OK, ODBC_LOST,
 * or ODBC_FAILED: out of memory, or logged); run sql and fetch its rows, calling fn on each array
 * of fetched rows (s->fetched of them). fn returns 0 to go on, or a negative code that stops the
 * fetch and is returned. */
int odbc_bind(odbc_source *s);
typedef int (*odbc_rows_fn)(odbc_source *s, void *arg);
int odbc_run(odbc_source *s, const char *sql, odbc_rows_fn fn, void *arg);
/* A database error on the page statement, logged with what was being
 * done: ODBC_LOST or ODBC_FAILED. */
int odbc_stmt_error(odbc_source *s, SQLHANDLE h, SQLSMALLINT type, const char *doing);

/* odbc_rows.c: the fetched rows as records in s->recs; *n of them are
 * good (the others were rejected, logged and counted in s->rejected).
 * -1 when the rows cannot be converted at all. */
int odbc_rows_convert(odbc_source *s, size_t *n);
/* A UUID as PostgreSQL writes it (36 characters, lower case, NUL). */
void odbc_guid_text(const SQLGUID *g, char out[ODBC_TEXT_STRIDE]);

#endif
