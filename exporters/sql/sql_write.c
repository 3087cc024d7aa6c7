/*
 * sql_write.c — see sql.h: the tables' shape, and a snapshot's rows
 * upserted into them in one transaction.
 *
 * The columns come from exporters/format's field tables (the ones the
 * JSON takes its keys from), so the tables hold every field of DESIGN.md's
 * days, user_days and summary by the same names. Two are renamed: `date`
 * is the day's start in UTC (the original service's key), so the business
 * date is `business_date`; and the summary's one row has the key id = 1.
 *
 * Rows go many to a statement (INSERT ... VALUES (...), (...) ... with
 * the dialect's upsert), written as literals: numbers as text that reads
 * back exactly, strings quoted and made valid UTF-8. Each row's values
 * are hashed; a row whose hash matches what was committed before for its
 * key is left out, and the new hashes count only once the commit worked.
 */
#include "sql.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_STATEMENT 500

/* A column of a table: a format field, or the summary's fixed key. */
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

static void put_quoted(tf_buf *b, const char *s, size_t n)
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
        put_quoted(b, text, strlen(text));
        break;
    default: {
        size_t n;
        const char *s = tf_field_text(row, col->field, &n);
        put_quoted(b, s, n);
        break;
    }
    }
}

/* FNV-1a, 64 bits: enough to tell a changed row from the same one. */
static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3u;
    }
    return h ? h : 1; /* 0 marks an empty slot */
}

#define HASH_SEED 0xcbf29ce484222325u

/* ---- remembered rows ---- */

static uint64_t *seen_slot(sql_seen *s, uint64_t key)
{
    size_t mask = s->cap - 1, i = (size_t)(key * 0x9E3779B97F4A7C15u >> 17) & mask;
    while (s->keys[i] != 0 && s->keys[i] != key)
        i = (i + 1) & mask;
    return &s->keys[i];
}

static uint64_t seen_get(sql_seen *s, uint64_t key)
{
    if (s->cap == 0)
        return 0;
    uint64_t *k = seen_slot(s, key);
    return *k == key ? s->values[k - s->keys] : 0;
}

static int seen_put(sql_seen *s, uint64_t key, uint64_t value)
{
    if (2 * (s->n + 1) > s->cap) {
        sql_seen grown = {.cap = s->cap ? s->cap * 2 : 1024};
        grown.keys = calloc(grown.cap, sizeof(uint64_t));
        grown.values = calloc(grown.cap, sizeof(uint64_t));
        if (grown.keys == NULL || grown.values == NULL) {
            free(grown.keys);
            free(grown.values);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i] != 0) {
                uint64_t *k = seen_slot(&grown, s->keys[i]);
                *k = s->keys[i];
                grown.values[k - grown.keys] = s->values[i];
                grown.n++;
            }
        free(s->keys);
        free(s->values);
        *s = grown;
    }
    uint64_t *k = seen_slot(s, key);
    if (*k == 0)
        s->n++;
    *k = key;
    s->values[k - s->keys] = value;
    return 0;
}

void sql_seen_reset(sql_ctx *c)
{
    for (int t = 0; t < SQL_N_TABLES; t++) {
        free(c->seen[t].keys);
        free(c->seen[t].values);
        memset(&c->seen[t], 0, sizeof(c->seen[t]));
    }
}

void sql_seen_free(sql_ctx *c)
{
    sql_seen_reset(c);
    free(c->changes);
    c->changes = NULL;
    c->n_changes = c->cap_changes = 0;
}

static int change_add(sql_ctx *c, sql_table_id t, uint64_t key, uint64_t value)
{
    if (c->n_changes == c->cap_changes) {
        size_t cap = c->cap_changes ? c->cap_changes * 2 : 256;
        sql_change *grown = realloc(c->changes, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        c->changes = grown;
        c->cap_changes = cap;
    }
    c->changes[c->n_changes++] = (sql_change){t, key, value};
    return 0;
}

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

static void put_head(const sql_ctx *c, tf_buf *b, sql_table_id t, const sql_shape *s)
{
    tf_buf_printf(b, "INSERT INTO %s (", c->table[t]);
    for (size_t i = 0; i < s->n_cols; i++)
        tf_buf_printf(b, "%s\"%s\"", i ? ", " : "", s->cols[i].name);
    tf_buf_puts(b, ") VALUES ");
}

static int flush_rows(sql_ctx *c, tf_buf *b, sql_table_id t, const sql_shape *s)
{
    const char *keys[4], *cols[32];
    for (size_t i = 0; i < s->n_keys; i++)
        keys[i] = s->cols[i].name;
    for (size_t i = s->n_keys; i < s->n_cols; i++)
        cols[i - s->n_keys] = s->cols[i].name;
    sql_dialect_upsert(c->dialect, b, c->table[t], keys, s->n_keys, cols, s->n_cols - s->n_keys);
    char *text = NULL;
    size_t len;
    if (tf_buf_finish(b, &text, &len) != 0) {
        c->api->log(c->host, TALLY_LOG_ERR, "writing %s failed: out of memory", c->table[t]);
        return ODBC_FAILED;
    }
    int rc = run(c, text, "upserting rows into", c->table[t]);
    free(text);
    return rc;
}

/* The rows of one table that differ from what was committed. */
static int write_table(sql_ctx *c, sql_table_id t, const void *rows, size_t n, size_t stride)
{
    sql_shape s;
    shape_of(t, &s);
    tf_buf stmt, row;
    tf_buf_init(&stmt);
    tf_buf_init(&row);
    size_t in_stmt = 0;
    int rc = ODBC_OK;
    for (size_t r = 0; r < n && rc == ODBC_OK; r++) {
        const void *at = (const char *)rows + r * stride;
        row.len = 0;
        size_t key_end = 0;
        for (size_t i = 0; i < s.n_cols; i++) {
            tf_buf_puts(&row, i ? ", " : "(");
            put_value(c, &row, &s.cols[i], at);
            if (i + 1 == s.n_keys)
                key_end = row.len;
        }
        tf_buf_puts(&row, ")");
        if (row.failed) {
            c->api->log(c->host, TALLY_LOG_ERR, "writing %s failed: out of memory", c->table[t]);
            rc = ODBC_FAILED;
            break;
        }
        uint64_t key = hash_bytes(HASH_SEED, row.p, key_end);
        uint64_t value = hash_bytes(HASH_SEED, row.p + key_end, row.len - key_end);
        if (seen_get(&c->seen[t], key) == value)
            continue;
        if (change_add(c, t, key, value) != 0) {
            rc = ODBC_FAILED;
            break;
        }
        if (in_stmt == 0)
            put_head(c, &stmt, t, &s);
        else
            tf_buf_puts(&stmt, ", ");
        tf_buf_add(&stmt, row.p, row.len);
        if (++in_stmt == ROWS_PER_STATEMENT) {
            rc = flush_rows(c, &stmt, t, &s);
            in_stmt = 0;
        }
    }
    if (rc == ODBC_OK && in_stmt > 0)
        rc = flush_rows(c, &stmt, t, &s);
    tf_buf_free(&stmt);
    tf_buf_free(&row);
    return rc;
}

static int end_transaction(sql_ctx *c, bool commit)
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
                              s.cols[i].field == NULL
                                  ? c->dialect->t_int
                                  : sql_dialect_type(c->dialect, s.cols[i].kind));
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
            rc = end_transaction(c, true);
        if (rc != ODBC_OK) {
            end_transaction(c, false);
            return rc;
        }
    }
    c->tables_ready = true;
    return ODBC_OK;
}

int sql_write_snapshot(sql_ctx *c, const tally_snapshot *snap)
{
    c->n_changes = 0;
    int rc = write_table(c, SQL_DAILY, snap->days, snap->n_days, sizeof(*snap->days));
    if (rc == ODBC_OK)
        rc = write_table(c, SQL_USER_DAILY, snap->user_days, snap->n_user_days,
                         sizeof(*snap->user_days));
    if (rc == ODBC_OK)
        rc = write_table(c, SQL_SUMMARY, snap, 1, sizeof(*snap));
    if (rc == ODBC_OK && c->n_changes > 0)
        rc = end_transaction(c, true);
    if (rc != ODBC_OK) {
        end_transaction(c, false);
        return rc;
    }
    /* Committed: these rows are what the database holds now. */
    for (size_t i = 0; i < c->n_changes; i++)
        if (seen_put(&c->seen[c->changes[i].table], c->changes[i].key, c->changes[i].value) != 0) {
            /* Forgetting only costs rewriting them next time. */
            sql_seen_reset(c);
            break;
        }
    c->n_changes = 0;
    return ODBC_OK;
}
