/*
 * sql_write.c — see sql.h: the tables' shape, and a snapshot's rows and
 * the mark upserted into them in one transaction.
 *
 * The columns come from exporters/format's field tables (the ones the
 * JSON takes its keys from), so the tables hold every field of DESIGN.md's
 * days, user_days and summary by the same names. Two are renamed: `date`
 * is the day's start in UTC (the original service's key), so the business
 * date is `business_date`; and the summary's one row has the key id = 1.
 * The marks table's columns are sql_mark.c's.
 *
 * Rows go many to a statement (INSERT ... VALUES (...), (...) ... with
 * the dialect's upsert), written as literals: numbers as text that reads
 * back exactly, strings quoted and made valid UTF-8. Days and summary
 * rows whose values hash as what was committed for their key are left
 * out (sql_seen.c); the user-days sent are those the mark says the target
 * lacks (sql_mark_plan), from the snapshot or a page of history at a
 * time, so neither memory nor the statement grows with the history kept.
 */
#include "sql.h"

#include "hash/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_STATEMENT 500

/* A column of a table: a field of its rows, or the summary's fixed key. */
typedef struct sql_col {
    const char *name;
    tf_kind kind;
    const tf_field *field; /* NULL: the constant 1 (the summary's id) */
} sql_col;

typedef struct sql_shape {
    sql_col cols[32];
    size_t n_cols, n_keys; /* the first n_keys columns are the key */
} sql_shape;

static const tf_field *field_named(const tf_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_fields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

static void add_col(sql_shape *s, const char *name, const tf_field *f)
{
    s->cols[s->n_cols].name = name;
    s->cols[s->n_cols].kind = f ? f->kind : TF_INT;
    s->cols[s->n_cols].field = f;
    s->n_cols++;
}

static void shape_of(sql_table_id id, sql_shape *s)
{
    memset(s, 0, sizeof(*s));
    if (id == SQL_MARKS) {
        for (size_t i = 0; i < sql_mark_table.n_fields; i++)
            add_col(s, sql_mark_table.fields[i].name, &sql_mark_table.fields[i]);
        s->n_keys = 1;
        return;
    }
    const tf_table *t = &tf_tables[id == SQL_DAILY        ? TF_DAYS
                                   : id == SQL_USER_DAILY ? TF_USER_DAYS
                                                          : TF_SUMMARY];
    if (id == SQL_SUMMARY) {
        add_col(s, "id", NULL);
        s->n_keys = 1;
    } else {
        if (id == SQL_USER_DAILY)
            add_col(s, "user_id", field_named(t, "user_id"));
        add_col(s, "date", field_named(t, "day_start_utc"));
        s->n_keys = s->n_cols;
        add_col(s, "business_date", field_named(t, "date"));
    }
    for (size_t i = 0; i < t->n_fields; i++) {
        const char *n = t->fields[i].name;
        if (strcmp(n, "date") != 0 && strcmp(n, "day_start_utc") != 0 && strcmp(n, "user_id") != 0)
            add_col(s, n, &t->fields[i]);
    }
}

/* ---- literals ---- */

void sql_put_quoted(tf_buf *b, const char *s, size_t n)
{
    /* Repaired first: PostgreSQL refuses a statement with bad UTF-8. */
    tf_buf valid;
    tf_buf_init(&valid);
    tf_buf_add_utf8(&valid, s, n);
    tf_buf_add(b, "'", 1);
    for (size_t i = 0; i < valid.len && !valid.failed; i++) {
        if (valid.p[i] == '\'')
            tf_buf_add(b, "'", 1);
        tf_buf_add(b, &valid.p[i], 1);
    }
    if (valid.failed)
        tf_buf_fail(b);
    tf_buf_add(b, "'", 1);
    tf_buf_free(&valid);
}

static void put_value(const sql_ctx *c, tf_buf *b, const sql_col *col, const void *row)
{
    char text[TF_NUM_LEN > TF_INSTANT_LEN ? TF_NUM_LEN : TF_INSTANT_LEN];
    if (col->field == NULL) {
        tf_buf_puts(b, "1");
        return;
    }
    switch (col->kind) {
    case TF_INT:
        tf_buf_printf(b, "%lld", (long long)tf_field_int(row, col->field));
        break;
    case TF_REAL: {
        double v = tf_field_real(row, col->field);
        if (!isfinite(v)) {
            tf_buf_puts(b, "NULL");
            break;
        }
        tf_double(v, text);
        tf_buf_puts(b, text);
        break;
    }
    case TF_INSTANT:
        if (c->dialect->instant(tf_field_int(row, col->field), text) != 0) {
            tf_buf_fail(b);
            break;
        }
        sql_put_quoted(b, text, strlen(text));
        break;
    default: {
        size_t n;
        const char *s = tf_field_text(row, col->field, &n);
        sql_put_quoted(b, s, n);
        break;
    }
    }
}

/* FNV-1a (lib/hash): enough to tell a changed row from the same one. */
static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
    h = hash_fnv1a(h, p, n);
    return h ? h : 1; /* 0 marks an empty slot */
}

#define HASH_SEED HASH_FNV1A_SEED

/* ---- statements ---- */

/* Run one statement: ODBC_OK, or ODBC_LOST / ODBC_FAILED after logging
 * what was being written. */
static int run(sql_ctx *c, const char *sql, const char *doing, const char *table)
{
    odbc_diag d;
    if (odbc_exec(&c->conn, sql, &d) == 0)
        return ODBC_OK;
    bool lost = odbc_conn_lost(&c->conn, &d);
    c->api->log(c->host, lost ? TALLY_LOG_WARNING : TALLY_LOG_ERR, "%s %s failed: %s; %s", doing,
                table, d.text,
                lost ? "the connection is lost: connecting again at the next export"
                     : "nothing of this snapshot was written; the next export tries again (check "
                       "the table's columns against tallyd.conf(5), or drop it and let "
                       "create_tables make it)");
    return lost ? ODBC_LOST : ODBC_FAILED;
}

int sql_end_transaction(sql_ctx *c, bool commit)
{
    SQLRETURN r = SQLEndTran(SQL_HANDLE_DBC, c->conn.dbc, commit ? SQL_COMMIT : SQL_ROLLBACK);
    if (SQL_SUCCEEDED(r))
        return ODBC_OK;
    odbc_diag d;
    odbc_diag_get(SQL_HANDLE_DBC, c->conn.dbc, &d);
    bool lost = odbc_conn_lost(&c->conn, &d);
    if (commit)
        c->api->log(c->host, lost ? TALLY_LOG_WARNING : TALLY_LOG_ERR,
                    "committing the snapshot failed: %s; the next export writes it again", d.text);
    return lost ? ODBC_LOST : ODBC_FAILED;
}

/* ---- rows, many to a statement ---- */

/* The upserts of one table under way: rows are added in any number of
 * batches (the snapshot's array, or one page of history after another)
 * and go out ROWS_PER_STATEMENT to a statement. */
typedef struct sql_upsert {
    sql_ctx *c;
    sql_table_id t;
    sql_shape s;
    bool remember; /* leave out rows sql_seen.c knows, note the others */
    tf_buf stmt, row;
    size_t in_stmt;
    size_t sent; /* rows sent so far */
} sql_upsert;

static void upsert_begin(sql_upsert *u, sql_ctx *c, sql_table_id t, bool remember)
{
    memset(u, 0, sizeof(*u));
    u->c = c;
    u->t = t;
    u->remember = remember;
    shape_of(t, &u->s);
    tf_buf_init(&u->stmt);
    tf_buf_init(&u->row);
}

static int upsert_flush(sql_upsert *u)
{
    const sql_shape *s = &u->s;
    const char *keys[4], *cols[32];
    for (size_t i = 0; i < s->n_keys; i++)
        keys[i] = s->cols[i].name;
    for (size_t i = s->n_keys; i < s->n_cols; i++)
        cols[i - s->n_keys] = s->cols[i].name;
    sql_dialect_upsert(u->c->dialect, &u->stmt, u->c->table[u->t], keys, s->n_keys, cols,
                       s->n_cols - s->n_keys);
    u->in_stmt = 0;
    char *text = NULL;
    size_t len;
    if (tf_buf_finish(&u->stmt, &text, &len) != 0) {
        u->c->api->log(u->c->host, TALLY_LOG_ERR, "writing %s failed: out of memory",
                       u->c->table[u->t]);
        return ODBC_FAILED;
    }
    int rc = run(u->c, text, "upserting rows into", u->c->table[u->t]);
    free(text);
    return rc;
}

/* One row as "(v1, v2, ...)" in u->row; *key_end is where the key ends. */
static int upsert_row_text(sql_upsert *u, const void *at, size_t *key_end)
{
    u->row.len = 0;
    for (size_t i = 0; i < u->s.n_cols; i++) {
        tf_buf_puts(&u->row, i ? ", " : "(");
        put_value(u->c, &u->row, &u->s.cols[i], at);
        if (i + 1 == u->s.n_keys)
            *key_end = u->row.len;
    }
    tf_buf_puts(&u->row, ")");
    return u->row.failed ? -1 : 0;
}

static int upsert_add(sql_upsert *u, const void *rows, size_t n, size_t stride)
{
    sql_ctx *c = u->c;
    for (size_t r = 0; r < n; r++) {
        size_t key_end = 0;
        bool changed = true;
        if (upsert_row_text(u, (const char *)rows + r * stride, &key_end) != 0 ||
            (u->remember &&
             sql_seen_changed(c, u->t, hash_bytes(HASH_SEED, u->row.p, key_end),
                              hash_bytes(HASH_SEED, u->row.p + key_end, u->row.len - key_end),
                              &changed) != 0)) {
            c->api->log(c->host, TALLY_LOG_ERR, "writing %s failed: out of memory", c->table[u->t]);
            return ODBC_FAILED;
        }
        if (!changed)
            continue;
        if (u->in_stmt == 0) {
            tf_buf_printf(&u->stmt, "INSERT INTO %s (", c->table[u->t]);
            for (size_t i = 0; i < u->s.n_cols; i++)
                tf_buf_printf(&u->stmt, "%s\"%s\"", i ? ", " : "", u->s.cols[i].name);
            tf_buf_puts(&u->stmt, ") VALUES ");
        } else {
            tf_buf_puts(&u->stmt, ", ");
        }
        tf_buf_add(&u->stmt, u->row.p, u->row.len);
        u->sent++;
        if (++u->in_stmt == ROWS_PER_STATEMENT) {
            int rc = upsert_flush(u);
            if (rc != ODBC_OK)
                return rc;
        }
    }
    return ODBC_OK;
}

/* Send what is left (when rc says so) and free u; returns rc or the
 * last statement's outcome. */
static int upsert_end(sql_upsert *u, int rc)
{
    if (rc == ODBC_OK && u->in_stmt > 0)
        rc = upsert_flush(u);
    tf_buf_free(&u->stmt);
    tf_buf_free(&u->row);
    return rc;
}

int sql_upsert_rows(sql_ctx *c, sql_table_id t, const void *rows, size_t n, size_t stride)
{
    sql_upsert u;
    upsert_begin(&u, c, t, false);
    return upsert_end(&u, upsert_add(&u, rows, n, stride));
}

/* The days or the summary: those that differ from what was committed. */
static int write_remembered(sql_ctx *c, sql_table_id t, const void *rows, size_t n, size_t stride,
                            size_t *sent)
{
    sql_upsert u;
    upsert_begin(&u, c, t, true);
    int rc = upsert_end(&u, upsert_add(&u, rows, n, stride));
    *sent += u.sent;
    return rc;
}

/* ---- user-days ---- */

/* The user-days changed after seq `after` (0: all), as of snap's cycle,
 * from the state's history a page at a time. */
static int add_history(sql_upsert *u, const tally_snapshot *snap, int64_t after)
{
    sql_ctx *c = u->c;
    const tally_host_api *api = c->api;
    tally_history_query q;
    memset(&q, 0, sizeof(q));
    q.struct_size = sizeof(q);
    q.table = TALLY_HISTORY_USER_DAYS;
    q.changed_after = after;
    tally_history *it = NULL;
    bool read = TALLY_API_HAS(api, history_open) &&
                api->history_open(c->host, snap, &q, &it) == TALLY_HOST_OK;
    int rc = ODBC_OK;
    while (read && rc == ODBC_OK) {
        tally_history_page page;
        read = api->history_next(it, &page) == TALLY_HOST_OK;
        if (!read || page.n_user_days == 0)
            break;
        rc = upsert_add(u, page.user_days, page.n_user_days, sizeof(*page.user_days));
    }
    if (it != NULL)
        api->history_close(it);
    if (rc == ODBC_OK && !read) {
        api->log(c->host, TALLY_LOG_ERR,
                 "reading the user-days changed after seq %lld from the state failed (see "
                 "above); nothing of this snapshot was written; the next export tries again",
                 (long long)after);
        rc = ODBC_FAILED;
    }
    return rc;
}

static int write_user_days(sql_ctx *c, const tally_snapshot *snap, size_t *sent)
{
    int64_t after = 0;
    sql_source from = sql_mark_plan(&c->held, snap, &after);
    if (from == SQL_FROM_NOTHING)
        return ODBC_OK;
    /* A catch-up: after a restart, a failed export or skipped snapshots. */
    if (from == SQL_FROM_HISTORY && after > 0)
        c->api->log(c->host, TALLY_LOG_INFO,
                    "%s holds every user-day up to seq %lld: writing those changed since, up to "
                    "seq %lld",
                    c->table[SQL_USER_DAILY], (long long)after, (long long)snap->seq);
    else if (from == SQL_FROM_HISTORY)
        c->api->log(c->host, TALLY_LOG_INFO,
                    "%s holds no user-day of this state (%s): writing every one listed",
                    c->table[SQL_USER_DAILY],
                    !c->held.present                                ? "no mark"
                    : strcmp(c->held.state_id, snap->state_id) != 0 ? "marked by another state"
                                                                    : "marked ahead of it");
    sql_upsert u;
    upsert_begin(&u, c, SQL_USER_DAILY, false);
    int rc = from == SQL_FROM_SNAPSHOT
                 ? upsert_add(&u, snap->user_days, snap->n_user_days, sizeof(*snap->user_days))
                 : add_history(&u, snap, after);
    rc = upsert_end(&u, rc);
    *sent = u.sent;
    return rc;
}

/* ---- the tables ---- */

int sql_tables_ensure(sql_ctx *c)
{
    for (int t = 0; t < SQL_N_TABLES; t++) {
        sql_shape s;
        shape_of((sql_table_id)t, &s);
        tf_buf b;
        tf_buf_init(&b);
        int rc = ODBC_OK;
        if (c->create_tables) {
            tf_buf_printf(&b, "CREATE TABLE IF NOT EXISTS %s (", c->table[t]);
            for (size_t i = 0; i < s.n_cols; i++)
                tf_buf_printf(&b, "\"%s\" %s NOT NULL, ", s.cols[i].name,
                              sql_dialect_type(c->dialect, s.cols[i].kind));
            tf_buf_puts(&b, "PRIMARY KEY (");
            for (size_t i = 0; i < s.n_keys; i++)
                tf_buf_printf(&b, "%s\"%s\"", i ? ", " : "", s.cols[i].name);
            tf_buf_puts(&b, "))");
            char *text = NULL;
            size_t len;
            rc = tf_buf_finish(&b, &text, &len) == 0
                     ? run(c, text, "creating the table", c->table[t])
                     : ODBC_FAILED;
            free(text);
            tf_buf_init(&b);
        }
        /* Made here or by someone else: it must have every column. */
        if (rc == ODBC_OK) {
            tf_buf_puts(&b, "SELECT ");
            for (size_t i = 0; i < s.n_cols; i++)
                tf_buf_printf(&b, "%s\"%s\"", i ? ", " : "", s.cols[i].name);
            tf_buf_printf(&b, " FROM %s WHERE 1 = 0", c->table[t]);
            char *text = NULL;
            size_t len;
            odbc_diag d;
            if (tf_buf_finish(&b, &text, &len) != 0) {
                rc = ODBC_FAILED;
            } else if (odbc_exec(&c->conn, text, &d) != 0) {
                rc = odbc_conn_lost(&c->conn, &d) ? ODBC_LOST : ODBC_FAILED;
                if (rc == ODBC_FAILED)
                    c->api->log(c->host, TALLY_LOG_ERR,
                                "table %s is missing or lacks a column tally writes (%s); %s",
                                c->table[t], d.text,
                                c->create_tables
                                    ? "an older table of that name is in the way: rename it, or "
                                      "set table_prefix"
                                    : "create it as tallyd.conf(5) shows, or set create_tables "
                                      "= true");
            }
            free(text);
        }
        tf_buf_free(&b);
        if (rc == ODBC_OK)
            rc = sql_end_transaction(c, true);
        if (rc != ODBC_OK) {
            sql_end_transaction(c, false);
            return rc;
        }
    }
    c->tables_ready = true;
    return ODBC_OK;
}

/* ---- a snapshot ---- */

int sql_write_snapshot(sql_ctx *c, const tally_snapshot *snap)
{
    size_t sent = 0, user_days = 0;
    sql_seen_begin(c);
    int rc = write_remembered(c, SQL_DAILY, snap->days, snap->n_days, sizeof(*snap->days), &sent);
    if (rc == ODBC_OK)
        rc = write_user_days(c, snap, &user_days);
    if (rc == ODBC_OK)
        rc = write_remembered(c, SQL_SUMMARY, snap, 1, sizeof(*snap), &sent);
    /* The mark goes with the user-days it speaks for. With none to write
     * the stored one stays true (nothing changed since it), unless it
     * names what this state is not. */
    bool put_mark = user_days > 0 || sql_mark_misleads(&c->stored, snap);
    if (rc == ODBC_OK && put_mark)
        rc = sql_mark_put(c, snap);
    if (rc == ODBC_OK && (sent > 0 || put_mark))
        rc = sql_end_transaction(c, true);
    if (rc != ODBC_OK) {
        sql_end_transaction(c, false);
        return rc;
    }
    /* Committed: these rows, and the mark, are what the target holds. */
    sql_seen_commit(c);
    if (put_mark)
        sql_mark_of(snap, &c->stored);
    sql_mark_of(snap, &c->held);
    return ODBC_OK;
}
