/*
 * sql_mark.c — see sql.h: the mark of what a target holds, kept in the
 * target itself, in <prefix>tally_export: one row per sql instance
 * (its title), saying that every user-day of the state state_id, as of
 * that state's cycle seq, is in the tables.
 *
 * Why in the target, and written in the same transaction as the rows:
 * then the rows and the mark commit together or not at all, whatever
 * stops the agent, the connection or the database in between, and a
 * commit whose outcome the client never heard of is settled by reading
 * the mark again after reconnecting. A mark kept anywhere else could say
 * more or less than the target holds.
 *
 * The rule (sql_mark_plan), with S the snapshot's seq and C its
 * changed_after (S - 1):
 *   no mark, another state_id,
 *   or a seq past S (a state restored from an older copy)  -> every row
 *   mark = S                                               -> nothing
 *   mark = C                                               -> the snapshot's arrays
 *   any other mark M                                       -> history after M
 * "every row" is the snapshot's arrays when C is 0 (they hold every row
 * then), else the history from 0.
 */
#include "sql.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const tf_table sql_mark_table = {
    SQL_MARKS_TABLE,
    (const tf_field[]){
        {"instance", TF_STR, offsetof(sql_mark_row, instance)},
        {"state_id", TF_STR, offsetof(sql_mark_row, state_id)},
        {"seq", TF_INT, offsetof(sql_mark_row, seq)},
        {"updated_at", TF_INSTANT, offsetof(sql_mark_row, updated_at)},
    },
    4,
};

void sql_mark_of(const tally_snapshot *snap, sql_mark *out)
{
    memset(out, 0, sizeof(*out));
    out->present = true;
    snprintf(out->state_id, sizeof(out->state_id), "%s", snap->state_id);
    out->seq = snap->seq;
}

static bool names_this_state(const sql_mark *m, const tally_snapshot *snap)
{
    return m->present && strcmp(m->state_id, snap->state_id) == 0 && m->seq <= snap->seq;
}

sql_source sql_mark_plan(const sql_mark *held, const tally_snapshot *snap, int64_t *after)
{
    *after = names_this_state(held, snap) ? held->seq : 0;
    if (names_this_state(held, snap) && held->seq == snap->seq)
        return SQL_FROM_NOTHING;
    return *after == snap->changed_after ? SQL_FROM_SNAPSHOT : SQL_FROM_HISTORY;
}

bool sql_mark_misleads(const sql_mark *stored, const tally_snapshot *snap)
{
    return stored->present && !names_this_state(stored, snap);
}

int sql_mark_put(sql_ctx *c, const tally_snapshot *snap)
{
    sql_mark_row row = {c->title, snap->state_id, snap->seq, (int64_t)time(NULL)};
    return sql_upsert_rows(c, SQL_MARKS, &row, 1, sizeof(row));
}

/* The row's two values from an executed SELECT state_id, seq. */
static int fetch_mark(SQLHSTMT st, sql_mark *m)
{
    SQLRETURN r = SQLFetch(st);
    if (r == SQL_NO_DATA)
        return 0;
    if (!SQL_SUCCEEDED(r))
        return -1;
    char id[80];
    SQLLEN id_len = 0, seq_len = 0;
    SQLBIGINT seq = 0;
    if (!SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, id, sizeof(id), &id_len)) ||
        !SQL_SUCCEEDED(SQLGetData(st, 2, SQL_C_SBIGINT, &seq, sizeof(seq), &seq_len)))
        return -1;
    m->present = true;
    /* A state_id no snapshot has (too long, NULL) stays "another state". */
    if (id_len >= 0 && (size_t)id_len < sizeof(m->state_id))
        memcpy(m->state_id, id, (size_t)id_len + 1);
    else
        snprintf(m->state_id, sizeof(m->state_id), "?");
    m->seq = seq_len == SQL_NULL_DATA ? 0 : (int64_t)seq;
    return 0;
}

int sql_mark_load(sql_ctx *c)
{
    tf_buf b;
    tf_buf_init(&b);
    tf_buf_printf(
        &b, "SELECT \"state_id\", \"seq\" FROM %s WHERE \"instance\" = ", c->table[SQL_MARKS]);
    sql_put_quoted(&b, c->title, strlen(c->title));
    char *text = NULL;
    size_t len;
    if (tf_buf_finish(&b, &text, &len) != 0) {
        c->api->log(c->host, TALLY_LOG_ERR, "reading %s failed: out of memory",
                    c->table[SQL_MARKS]);
        return ODBC_FAILED;
    }
    sql_mark m;
    memset(&m, 0, sizeof(m));
    odbc_diag d;
    SQLHSTMT st = SQL_NULL_HSTMT;
    int rc = ODBC_OK;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, c->conn.dbc, &st))) {
        odbc_diag_get(SQL_HANDLE_DBC, c->conn.dbc, &d);
        st = SQL_NULL_HSTMT;
        rc = ODBC_FAILED;
    } else if (!SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)text, SQL_NTS)) ||
               fetch_mark(st, &m) != 0) {
        odbc_diag_get(SQL_HANDLE_STMT, st, &d);
        rc = ODBC_FAILED;
    }
    if (st != SQL_NULL_HSTMT)
        SQLFreeHandle(SQL_HANDLE_STMT, st);
    free(text);
    if (rc != ODBC_OK) {
        bool lost = odbc_conn_lost(&c->conn, &d);
        c->api->log(c->host, lost ? TALLY_LOG_WARNING : TALLY_LOG_ERR,
                    "reading this instance's mark from %s failed: %s; %s", c->table[SQL_MARKS],
                    d.text,
                    lost ? "the connection is lost: connecting again at the next export"
                         : "nothing is written until it can be read; the next export tries again");
        rc = lost ? ODBC_LOST : ODBC_FAILED;
    }
    /* Only read: end the transaction the SELECT began. */
    int end = sql_end_transaction(c, false);
    if (rc == ODBC_OK && end != ODBC_OK)
        rc = end;
    if (rc != ODBC_OK)
        return rc;
    c->stored = m;
    c->held = m;
    c->mark_loaded = true;
    return ODBC_OK;
}
