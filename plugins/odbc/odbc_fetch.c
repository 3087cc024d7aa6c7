/*
 * odbc_fetch.c — see odbc.h: the planned columns bound to arrays, one
 * array of rows per SQLFetch (SQL_ATTR_ROW_ARRAY_SIZE, column-wise), so
 * a page of batch_rows rows costs one query and, when the arrays hold it,
 * one fetch: no round trip per row. The arrays are kept for as long as
 * the plan, and the records point into them.
 */
#include "odbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int odbc_stmt_error(odbc_source *s, SQLHANDLE h, SQLSMALLINT type, const char *doing)
{
    odbc_diag d;
    odbc_diag_get(type, h, &d);
    if (odbc_conn_lost(&s->conn, &d)) {
        s->lost = d;
        return ODBC_LOST;
    }
    const char *what = s->table ? s->table : "the query";
    const char *advice =
        strncmp(d.state, "42", 2) == 0 || strcmp(d.state, "HY000") == 0
            ? "check that the table and its columns exist and that the query runs in the "
              "database's own client"
        : strncmp(d.state, "28", 2) == 0 ? "check the user and password of the connection"
        : strcmp(d.state, "HYT00") == 0  ? "the query ran longer than 'timeout'; add an index "
                                           "on (created_at, id) or raise the timeout"
                                         : "see the database's own log for more";
    s->api->log(s->host, TALLY_LOG_ERR, "%s %s failed: %s; %s", doing, what, d.text, advice);
    return ODBC_FAILED;
}

int odbc_bind(odbc_source *s)
{
    size_t row_bytes = sizeof(tally_record) + sizeof(SQLUSMALLINT);
    for (size_t i = 0; i < s->n_cols; i++) {
        const odbc_col *c = &s->cols[i];
        row_bytes += c->width + sizeof(SQLLEN);
        if (c->c_type == SQL_C_GUID || c->c_type == SQL_C_DOUBLE)
            row_bytes += ODBC_TEXT_STRIDE;
    }
    size_t cap = s->batch_rows;
    if (cap > ODBC_BUFFER_BUDGET / row_bytes)
        cap = ODBC_BUFFER_BUDGET / row_bytes;
    if (cap == 0)
        cap = 1;
    s->rows_cap = cap;
    s->row_status = calloc(cap, sizeof(*s->row_status));
    s->recs = calloc(cap, sizeof(*s->recs));
    if (s->row_status == NULL || s->recs == NULL)
        return -1;
    for (size_t i = 0; i < s->n_cols; i++) {
        odbc_col *c = &s->cols[i];
        c->buf = malloc(cap * c->width);
        c->ind = malloc(cap * sizeof(SQLLEN));
        if (c->buf == NULL || c->ind == NULL)
            return -1;
        if (c->c_type == SQL_C_GUID || c->c_type == SQL_C_DOUBLE) {
            c->text = malloc(cap * ODBC_TEXT_STRIDE);
            if (c->text == NULL)
                return -1;
        }
    }
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, s->conn.dbc, &s->stmt))) {
        s->stmt = NULL;
        return odbc_stmt_error(s, s->conn.dbc, SQL_HANDLE_DBC, "preparing to read") == ODBC_LOST
                   ? ODBC_LOST
                   : -1;
    }
    SQLHSTMT st = s->stmt;
    SQLSetStmtAttr(st, SQL_ATTR_ROW_BIND_TYPE, (SQLPOINTER)SQL_BIND_BY_COLUMN, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)(uintptr_t)cap, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_STATUS_PTR, s->row_status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROWS_FETCHED_PTR, &s->fetched, 0);
    if (s->timeout_s > 0)
        SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT, (SQLPOINTER)(uintptr_t)s->timeout_s, 0);
    for (size_t i = 0; i < s->n_cols; i++) {
        odbc_col *c = &s->cols[i];
        if (!SQL_SUCCEEDED(
                SQLBindCol(st, (SQLUSMALLINT)(i + 1), c->c_type, c->buf, (SQLLEN)c->width, c->ind)))
            return odbc_stmt_error(s, st, SQL_HANDLE_STMT, "binding the columns of") == ODBC_LOST
                       ? ODBC_LOST
                       : -1;
    }
    return 0;
}

int odbc_run(odbc_source *s, const char *sql, odbc_rows_fn fn, void *arg)
{
    SQLHSTMT st = s->stmt;
    SQLRETURN rc = SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
        int e = odbc_stmt_error(s, st, SQL_HANDLE_STMT, "querying");
        SQLFreeStmt(st, SQL_CLOSE);
        return e;
    }
    int result = ODBC_OK;
    for (;;) {
        s->fetched = 0;
        rc = SQLFetch(st);
        if (rc == SQL_NO_DATA)
            break;
        if (!SQL_SUCCEEDED(rc)) {
            result = odbc_stmt_error(s, st, SQL_HANDLE_STMT, "fetching the rows of");
            break;
        }
        if (s->fetched == 0)
            continue;
        if ((result = fn(s, arg)) != 0)
            break;
    }
    SQLFreeStmt(st, SQL_CLOSE);
    return result;
}
