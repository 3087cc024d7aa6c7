/*
 * sql.h — the sql exporter's instance and the parts it is made of:
 * sql_conf.c builds it from a `sql "name" { ... }` section, sql_dialect.c
 * holds everything that differs between PostgreSQL and SQLite (column
 * types, how an instant is written, the upsert), sql_write.c creates the
 * tables and upserts a snapshot's rows in one transaction, sql_mark.c
 * keeps the mark of what the target holds, sql_seen.c remembers the days
 * and summary committed, and sql.c is the plugin that ties them together.
 *
 * The exporter runs on its own thread and talks to the database over its
 * own ODBC connection, opened at the first export and kept; never the
 * agent's state database. An export costs what changed, never what the
 * state keeps:
 *   - user-days: the target holds a mark per instance (<prefix>tally_export:
 *     the state_id and the seq it holds every user-day up to), written in
 *     the same transaction as the rows, so rows and mark commit together
 *     or not at all. A snapshot whose changed_after is the mark brings
 *     exactly the rows to write; after a restart, a failure or skipped
 *     snapshots the rows changed after the mark are paged from the state's
 *     history; a target marked by no state or another one gets them all.
 *   - days and summary (at most keep_days rows and one): a hash of each
 *     row's values is kept per key after every commit, and rows that hash
 *     the same are left out.
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

/* The tables, in the order they are written: the three of statistics,
 * then the marks. */
typedef enum sql_table_id {
    SQL_DAILY,
    SQL_USER_DAILY,
    SQL_SUMMARY,
    SQL_MARKS,
    SQL_N_TABLES
} sql_table_id;

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

/* The remembered value hashes of days and summary rows: key hash ->
 * value hash, per table. */
typedef struct sql_seen {
    uint64_t *keys, *values; /* 0 marks an empty slot */
    size_t cap, n;
} sql_seen;

/* A change waiting for the commit. */
typedef struct sql_change {
    sql_table_id table;
    uint64_t key, value;
} sql_change;

/* A mark: the target holds every user-day of state state_id as of seq
 * (snapshot.h's seq); present false: no mark, nothing is known. */
typedef struct sql_mark {
    bool present;
    char state_id[sizeof(((tally_snapshot *)0)->state_id)];
    int64_t seq;
} sql_mark;

/* Where an export's user-days come from (sql_mark_plan). */
typedef enum sql_source {
    SQL_FROM_NOTHING,  /* the target holds this snapshot already */
    SQL_FROM_SNAPSHOT, /* the snapshot's arrays: the mark is its changed_after */
    SQL_FROM_HISTORY,  /* the state's history, the rows changed after a seq (0: all) */
} sql_source;

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
    /* What the target holds: `stored` is its row in the marks table, read
     * after each (re)connection and set at each commit that wrote it;
     * `held` is what this instance knows the target holds, which runs
     * ahead of `stored` over exports that had nothing to write (rows
     * changed between the two: none, so the stored mark stays true). */
    bool mark_loaded;
    sql_mark stored, held;
    sql_seen seen[SQL_N_TABLES]; /* days and summary only */
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
 * and the mark in one transaction. ODBC_OK, ODBC_LOST (reconnect next
 * time) or ODBC_FAILED, logged. */
int sql_tables_ensure(sql_ctx *c);
int sql_write_snapshot(sql_ctx *c, const tally_snapshot *snap);
/* Upsert n rows (stride bytes apart) into table t, in the transaction
 * under way, all of them. */
int sql_upsert_rows(sql_ctx *c, sql_table_id t, const void *rows, size_t n, size_t stride);
/* End the transaction under way (commit or roll back). */
int sql_end_transaction(sql_ctx *c, bool commit);
/* s[0..n) as a quoted SQL string literal, made valid UTF-8. */
void sql_put_quoted(tf_buf *b, const char *s, size_t n);

/* sql_mark.c: the marks table, <prefix>tally_export. A row of it holds
 * the columns sql_mark_table names, the first of them its key. load reads
 * this instance's row (in a transaction of its own) into stored and held;
 * put upserts the snapshot's mark in the transaction under way; plan says
 * where the user-days of snap come from, and *after is the seq history
 * reads from. */
#define SQL_MARKS_TABLE "tally_export" /* after the prefix */
typedef struct sql_mark_row {
    const char *instance, *state_id;
    int64_t seq, updated_at;
} sql_mark_row;
extern const tf_table sql_mark_table;
int sql_mark_load(sql_ctx *c);
int sql_mark_put(sql_ctx *c, const tally_snapshot *snap);
sql_source sql_mark_plan(const sql_mark *held, const tally_snapshot *snap, int64_t *after);
/* Whether the stored mark must be written even with no user-day to
 * write: it names another state, or a seq this state has not reached
 * (a state restored from an older copy), which a restart must not trust. */
bool sql_mark_misleads(const sql_mark *stored, const tally_snapshot *snap);
/* snap's mark, as committed. */
void sql_mark_of(const tally_snapshot *snap, sql_mark *out);

/* sql_seen.c: the days and summary committed, by hash. seen_begin
 * starts a transaction's notes; seen_changed says whether row (key,
 * value) differs from what table t holds and notes it; seen_commit keeps
 * what was noted (the commit worked); seen_reset forgets everything (a
 * new connection writes them all again). */
void sql_seen_begin(sql_ctx *c);
int sql_seen_changed(sql_ctx *c, sql_table_id t, uint64_t key, uint64_t value, bool *changed);
void sql_seen_commit(sql_ctx *c);
void sql_seen_reset(sql_ctx *c);
void sql_seen_free(sql_ctx *c);

#endif
