/*
 * odbc_query.c — see odbc.h: the columns of the result mapped to the
 * stream's fields and checked against what each field can be read from;
 * the SQL of the keyset pages; the watermark in the state and from a row.
 *
 * The pages compare and sort in the database, on the database's own
 * values: the watermark keeps created_at and id as the database wrote
 * them (text as it is stored, a timestamp as its literal), so the next
 * page starts exactly after the last row whatever the column types, the
 * collation or the mix of formats in a text column.
 */
#include "odbc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- types ---- */

static bool is_char(SQLSMALLINT t)
{
    return t == SQL_CHAR || t == SQL_VARCHAR || t == SQL_LONGVARCHAR || t == SQL_WCHAR ||
           t == SQL_WVARCHAR || t == SQL_WLONGVARCHAR;
}

static bool is_int(SQLSMALLINT t)
{
    return t == SQL_TINYINT || t == SQL_SMALLINT || t == SQL_INTEGER || t == SQL_BIGINT;
}

static bool is_decimal(SQLSMALLINT t)
{
    return t == SQL_NUMERIC || t == SQL_DECIMAL;
}

static bool is_float(SQLSMALLINT t)
{
    return t == SQL_REAL || t == SQL_FLOAT || t == SQL_DOUBLE;
}

static bool is_timestamp(SQLSMALLINT t)
{
    return t == SQL_TYPE_TIMESTAMP || t == SQL_TIMESTAMP;
}

static const char *type_name(SQLSMALLINT t)
{
    switch (t) {
    case SQL_CHAR:
    case SQL_VARCHAR:
    case SQL_LONGVARCHAR:
    case SQL_WCHAR:
    case SQL_WVARCHAR:
    case SQL_WLONGVARCHAR:
        return "text";
    case SQL_TINYINT:
    case SQL_SMALLINT:
    case SQL_INTEGER:
    case SQL_BIGINT:
        return "an integer";
    case SQL_NUMERIC:
    case SQL_DECIMAL:
        return "a decimal";
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE:
        return "a floating-point number";
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP:
        return "a timestamp";
    case SQL_TYPE_DATE:
    case SQL_DATE:
        return "a date (no time of day)";
    case SQL_TYPE_TIME:
    case SQL_TIME:
        return "a time of day (no date)";
    case SQL_BIT:
        return "a boolean";
    case SQL_GUID:
        return "a UUID";
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY:
        return "binary";
    default:
        return "of a type tally does not know";
    }
}

/*
 * How a column is bound, by the field's kind and the column's type; -1
 * with *want (what the field can be read from) when it cannot be. SQLite
 * keeps every value as it was stored and its driver turns text it cannot
 * convert into NULL without a word, so there every column is read as
 * text and parsed here, where a bad value sets the row aside.
 */
static int choose_binding(odbc_source *s, odbc_col *c, SQLULEN size, const char **want)
{
    const SQLSMALLINT t = c->sql_type;
    const bool text_only = s->conn.dbms == ODBC_DBMS_SQLITE;
    const size_t mfb = s->max_field_bytes;
    size_t text_width = 0;
    c->c_type = SQL_C_CHAR;
    switch (c->kind) {
    case REC_K_TIME:
        *want = "a timestamp, or text in ISO 8601";
        if (is_timestamp(t) && !text_only)
            c->c_type = SQL_C_TYPE_TIMESTAMP;
        else if (!is_char(t) && !is_timestamp(t))
            return -1;
        text_width = 64;
        break;
    case REC_K_STR:
        *want = "text, an integer, a decimal or a UUID";
        /* psqlODBC reads a uuid with sscanf and writes it back in upper
         * case: selected as text it costs a copy, and keeps its case. */
        if (t == SQL_GUID && s->conn.dbms == ODBC_DBMS_POSTGRESQL)
            c->text_cast = true;
        else if (t == SQL_GUID && !text_only)
            c->c_type = SQL_C_GUID;
        else if (!is_char(t) && !is_int(t) && !is_decimal(t) && t != SQL_GUID)
            return -1;
        text_width = size > 0 && size < mfb ? (size_t)size : mfb;
        break;
    case REC_K_INT:
    case REC_K_STATUS:
    case REC_K_FIXED:
    case REC_K_RT:
        *want = "a number, or text holding one";
        if (!is_int(t) && !is_decimal(t) && !is_float(t) && !is_char(t))
            return -1;
        if (!text_only && is_int(t))
            c->c_type = SQL_C_SBIGINT;
        else if (!text_only && is_float(t))
            c->c_type = SQL_C_DOUBLE;
        text_width = 128;
        break;
    default:
        *want = "a boolean, an integer, or text (true/false)";
        if (t == SQL_BIT && !text_only)
            c->c_type = SQL_C_BIT;
        else if (is_int(t) && !text_only)
            c->c_type = SQL_C_SBIGINT;
        else if (!is_char(t) && !is_int(t) && t != SQL_BIT)
            return -1;
        text_width = 16;
        break;
    }
    switch (c->c_type) {
    case SQL_C_TYPE_TIMESTAMP:
        c->width = sizeof(SQL_TIMESTAMP_STRUCT);
        break;
    case SQL_C_GUID:
        c->width = sizeof(SQLGUID);
        break;
    case SQL_C_SBIGINT:
    case SQL_C_DOUBLE:
        c->width = 8;
        break;
    case SQL_C_BIT:
        c->width = 1;
        break;
    default:
        c->width = text_width + 1; /* and the NUL the driver writes */
        break;
    }
    return 0;
}

/* ---- the plan ---- */

static const char *source_text(const odbc_source *s)
{
    return s->table ? s->table : "the query";
}

/* Append an identifier in double quotes (a '"' in it doubled), as
 * PostgreSQL and SQLite (and standard SQL) quote them. */
static void put_ident(FILE *f, const char *name)
{
    fputs("tally_q.", f);
    fputc('"', f);
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* What the pages select from: the table as written, or the query as a
 * derived table (without a trailing ';'), named tally_q either way: the
 * pages name columns as tally_q."col", so ORDER BY and WHERE mean the
 * source's columns even where the select list casts one. */
static void put_source(FILE *f, const odbc_source *s)
{
    if (s->table != NULL) {
        fputs(s->table, f);
        fputs(" AS tally_q", f);
        return;
    }
    size_t n = strlen(s->query);
    while (n > 0 && (s->query[n - 1] == ';' || s->query[n - 1] == ' ' || s->query[n - 1] == '\n' ||
                     s->query[n - 1] == '\t' || s->query[n - 1] == '\r'))
        n--;
    fputs("(", f);
    fwrite(s->query, 1, n, f);
    fputs(") AS tally_q", f);
}

static bool incremental(const odbc_source *s)
{
    return s->stream == TALLY_STREAM_USAGE || s->stream == TALLY_STREAM_CANDIDATES;
}

void odbc_plan_free(odbc_source *s)
{
    if (s->stmt != NULL)
        SQLFreeHandle(SQL_HANDLE_STMT, s->stmt);
    s->stmt = NULL;
    for (size_t i = 0; i < s->n_cols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].buf);
        free(s->cols[i].ind);
        free(s->cols[i].text);
    }
    memset(s->cols, 0, sizeof(s->cols));
    s->n_cols = 0;
    free(s->row_status);
    free(s->recs);
    s->row_status = NULL;
    s->recs = NULL;
    s->planned = false;
}

/* The result's columns: names, types, sizes, and whether a timestamp
 * carries a zone (psqlODBC names timestamptz so; both arrive as
 * SQL_TYPE_TIMESTAMP). */
typedef struct described {
    char name[256];
    SQLSMALLINT type;
    SQLULEN size;
    bool zoned;
} described;

static int describe(odbc_source *s, described **out, SQLSMALLINT *n_out)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (f == NULL)
        return ODBC_FAILED;
    fputs("SELECT * FROM ", f);
    put_source(f, s);
    fputs(" WHERE 1 = 0", f);
    if (fclose(f) != 0) {
        free(sql);
        return ODBC_FAILED;
    }
    SQLHSTMT st;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, s->conn.dbc, &st))) {
        free(sql);
        return odbc_stmt_error(s, s->conn.dbc, SQL_HANDLE_DBC, "preparing to read the columns");
    }
    if (s->timeout_s > 0)
        SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT, (SQLPOINTER)(uintptr_t)s->timeout_s, 0);
    SQLRETURN rc = SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    free(sql);
    SQLSMALLINT n = 0;
    if (!SQL_SUCCEEDED(rc) || !SQL_SUCCEEDED(SQLNumResultCols(st, &n))) {
        int e = odbc_stmt_error(s, st, SQL_HANDLE_STMT, "reading the columns of");
        SQLFreeHandle(SQL_HANDLE_STMT, st);
        return e;
    }
    described *d = calloc(n > 0 ? (size_t)n : 1, sizeof(*d));
    if (d == NULL) {
        SQLFreeHandle(SQL_HANDLE_STMT, st);
        return ODBC_FAILED;
    }
    for (SQLSMALLINT i = 0; i < n; i++) {
        SQLSMALLINT name_len, digits, nullable;
        SQLDescribeCol(st, (SQLUSMALLINT)(i + 1), (SQLCHAR *)d[i].name, sizeof(d[i].name),
                       &name_len, &d[i].type, &d[i].size, &digits, &nullable);
        char tname[64] = "";
        SQLSMALLINT tlen = 0;
        SQLColAttribute(st, (SQLUSMALLINT)(i + 1), SQL_DESC_TYPE_NAME, tname, sizeof(tname), &tlen,
                        NULL);
        d[i].zoned =
            strstr(tname, "timestamptz") != NULL || strstr(tname, "with time zone") != NULL;
    }
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    *out = d;
    *n_out = n;
    return ODBC_OK;
}

/* The column named want: the same spelling first, else the same letters
 * in another case (PostgreSQL folds unquoted names to lower case). */
static int find_column(const described *d, SQLSMALLINT n, const char *want)
{
    for (SQLSMALLINT i = 0; i < n; i++)
        if (strcmp(d[i].name, want) == 0)
            return i;
    for (SQLSMALLINT i = 0; i < n; i++)
        if (strcasecmp(d[i].name, want) == 0)
            return i;
    return -1;
}

static char *column_list(const described *d, SQLSMALLINT n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    for (SQLSMALLINT i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? ", " : "", d[i].name);
    if (n == 0)
        fputs("none", f);
    fclose(f);
    return text;
}

int odbc_plan(odbc_source *s)
{
    odbc_plan_free(s);
    described *d = NULL;
    SQLSMALLINT n = 0;
    int rc = describe(s, &d, &n);
    if (rc != ODBC_OK)
        return rc;
    s->created_col = s->id_col = -1;
    for (int f = 0; f < REC_FIELD_COUNT && rc == ODBC_OK; f++) {
        if (!rec_stream_has(s->stream, (rec_field_id)f))
            continue;
        const char *want = s->names[f] ? s->names[f] : rec_field_name((rec_field_id)f);
        bool keyed = incremental(s) && (f == REC_F_CREATED_AT || f == REC_F_ID);
        int at = find_column(d, n, want);
        if (at < 0) {
            if (!rec_stream_requires(s->stream, (rec_field_id)f) && !keyed)
                continue; /* an optional field: NULL in every row */
            char *have = column_list(d, n);
            s->api->log(
                s->host, TALLY_LOG_ERR,
                "%s has no column %s for the field %s of stream %s%s; its columns are: "
                "%s. Add the column, or name the one to use with columns = "
                "{\"%s=<column>\"}",
                source_text(s), want, rec_field_name((rec_field_id)f), rec_stream_name(s->stream),
                keyed ? " (it orders the rows: every page starts after the last "
                        "(created_at, id) read)"
                      : "",
                have ? have : "(out of memory listing them)", rec_field_name((rec_field_id)f));
            free(have);
            rc = ODBC_FAILED;
            break;
        }
        odbc_col *c = &s->cols[s->n_cols];
        c->field = (rec_field_id)f;
        c->sql_type = d[at].type;
        c->zoned = d[at].zoned;
        c->integer = is_int(d[at].type);
        rec_field_layout(s->stream, (rec_field_id)f, &c->off, &c->kind);
        const char *can = NULL;
        if ((c->name = strdup(d[at].name)) == NULL) {
            rc = ODBC_FAILED;
            break;
        }
        s->n_cols++;
        if (choose_binding(s, c, d[at].size, &can) != 0) {
            s->api->log(s->host, TALLY_LOG_ERR,
                        "column %s of %s is %s (SQL type %d); the field %s is read from %s: "
                        "fix the column's type, or cast it in a query (query = \"SELECT ..., "
                        "CAST(%s AS ...) AS %s FROM ...\")",
                        d[at].name, source_text(s), type_name(d[at].type), (int)d[at].type,
                        rec_field_name((rec_field_id)f), can, d[at].name,
                        rec_field_name((rec_field_id)f));
            rc = ODBC_FAILED;
            break;
        }
        if (f == REC_F_CREATED_AT)
            s->created_col = (int)(s->n_cols - 1);
        if (f == REC_F_ID)
            s->id_col = (int)(s->n_cols - 1);
    }
    free(d);
    if (rc != ODBC_OK) {
        odbc_plan_free(s);
        return rc;
    }
    if (!incremental(s))
        s->created_col = s->id_col = -1;
    s->planned = true;
    return ODBC_OK;
}

/* ---- the SQL of a page ---- */

static void put_literal(FILE *f, const char *text, bool numeric)
{
    if (numeric) {
        fputs(text, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputc('\'', f);
        fputc(*p, f);
    }
    fputc('\'', f);
}

static void put_key_compare(FILE *f, const odbc_source *s, const char *op, const odbc_key *k)
{
    fputs(" AND (", f);
    put_ident(f, s->cols[s->created_col].name);
    fputs(", ", f);
    put_ident(f, s->cols[s->id_col].name);
    fprintf(f, ") %s (", op);
    put_literal(f, k->created, false);
    fputs(", ", f);
    put_literal(f, k->id, k->id_numeric);
    fputs(")", f);
}

char *odbc_page_sql(const odbc_source *s, const odbc_key *after, const odbc_key *upto)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (f == NULL)
        return NULL;
    fputs("SELECT ", f);
    for (size_t i = 0; i < s->n_cols; i++) {
        if (i > 0)
            fputs(", ", f);
        put_ident(f, s->cols[i].name);
        if (s->cols[i].text_cast)
            fputs("::text", f);
    }
    fputs(" FROM ", f);
    put_source(f, s);
    if (s->created_col >= 0) {
        const char *created = s->cols[s->created_col].name, *id = s->cols[s->id_col].name;
        /* A row without a created_at or an id has no place in the order. */
        fputs(" WHERE ", f);
        put_ident(f, created);
        fputs(" IS NOT NULL AND ", f);
        put_ident(f, id);
        fputs(" IS NOT NULL", f);
        if (after != NULL && after->set)
            put_key_compare(f, s, ">", after);
        if (upto != NULL && upto->set)
            put_key_compare(f, s, "<=", upto);
        fputs(" ORDER BY ", f);
        put_ident(f, created);
        fputs(", ", f);
        put_ident(f, id);
        fprintf(f, " LIMIT %zu", s->batch_rows);
    }
    if (fclose(f) != 0) {
        free(sql);
        return NULL;
    }
    return sql;
}

/* ---- the watermark ---- */

void odbc_key_free(odbc_key *key)
{
    free(key->created);
    free(key->id);
    memset(key, 0, sizeof(*key));
}

int odbc_key_load(odbc_source *s, odbc_key *key)
{
    memset(key, 0, sizeof(*key));
    char *text = NULL;
    int rc = s->api->state_get(s->host, ODBC_STATE_KEY, &text);
    if (rc == TALLY_HOST_ENOENT)
        return 0;
    if (rc != TALLY_HOST_OK) {
        s->api->log(s->host, TALLY_LOG_ERR, "reading the watermark from the state failed");
        return -1;
    }
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    free(text);
    const char *created = NULL, *id = NULL;
    int numeric = 0;
    if (j == NULL || json_unpack(j, "{s:s, s:s, s:b}", "created_at", &created, "id", &id,
                                 "id_numeric", &numeric) != 0) {
        json_decref(j);
        s->api->log(s->host, TALLY_LOG_ERR,
                    "the watermark (state key '%s') cannot be read; nothing is read, so nothing "
                    "is counted twice: restore the state, or remove the key to read the table "
                    "from its first row",
                    ODBC_STATE_KEY);
        return -1;
    }
    key->created = strdup(created);
    key->id = strdup(id);
    key->id_numeric = numeric != 0;
    key->set = true;
    json_decref(j);
    if (key->created == NULL || key->id == NULL) {
        odbc_key_free(key);
        return -1;
    }
    return 0;
}

int odbc_key_store(odbc_source *s, const odbc_key *key)
{
    if (!key->set)
        return 0;
    json_t *j = json_pack("{s:s, s:s, s:b}", "created_at", key->created, "id", key->id,
                          "id_numeric", key->id_numeric);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int rc = text != NULL && s->api->state_put(s->host, ODBC_STATE_KEY, text) == TALLY_HOST_OK;
    free(text);
    if (!rc)
        s->api->log(s->host, TALLY_LOG_ERR, "writing the watermark to the state failed");
    return rc ? 0 : -1;
}

static bool integer_text(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* A fetched value as the text of a literal: a timestamp as PostgreSQL
 * and SQLite read one, a UUID in lower case, text as it came. NULL with
 * *why when it cannot be. */
static char *literal_of(const odbc_source *s, const odbc_col *c, size_t i, const char **why)
{
    const SQLLEN ind = c->ind[i];
    if (ind == SQL_NULL_DATA) {
        *why = "it is NULL";
        return NULL;
    }
    char tmp[64];
    switch (c->c_type) {
    case SQL_C_TYPE_TIMESTAMP: {
        const SQL_TIMESTAMP_STRUCT *t = (const SQL_TIMESTAMP_STRUCT *)c->buf + i;
        int n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u %02u:%02u:%02u", (int)t->year,
                         (unsigned)t->month, (unsigned)t->day, (unsigned)t->hour,
                         (unsigned)t->minute, (unsigned)t->second);
        if (t->fraction != 0 && n > 0) {
            /* Nanoseconds, trailing zeros dropped: "…:42.123456". */
            char frac[16];
            snprintf(frac, sizeof(frac), "%09u", (unsigned)t->fraction);
            size_t fl = 9;
            while (fl > 1 && frac[fl - 1] == '0')
                fl--;
            snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%.*s", (int)fl, frac);
        }
        return strdup(tmp);
    }
    case SQL_C_GUID:
        odbc_guid_text((const SQLGUID *)c->buf + i, tmp);
        return strdup(tmp);
    default: {
        const char *p = (const char *)c->buf + i * c->width;
        if ((size_t)ind >= c->width || ind == SQL_NO_TOTAL) {
            *why = "it is longer than max_field_bytes";
            return NULL;
        }
        return strndup(p, (size_t)ind);
    }
    }
}

int odbc_key_from_row(odbc_source *s, size_t i, odbc_key *key)
{
    const odbc_col *cc = &s->cols[s->created_col], *ic = &s->cols[s->id_col];
    const char *why = NULL;
    char *created = literal_of(s, cc, i, &why);
    const odbc_col *bad = cc;
    char *id = created ? literal_of(s, ic, i, &why) : NULL;
    if (created != NULL)
        bad = ic;
    if (created == NULL || id == NULL) {
        if (why == NULL)
            why = "out of memory";
        s->api->log(s->host, TALLY_LOG_ERR,
                    "column %s of the last row of a page of %s cannot be kept as the position "
                    "to go on from: %s; raise max_field_bytes",
                    bad->name, source_text(s), why);
        free(created);
        free(id);
        return -1;
    }
    odbc_key_free(key);
    key->created = created;
    key->id = id;
    key->id_numeric = ic->integer && integer_text(id);
    key->set = true;
    return 0;
}
