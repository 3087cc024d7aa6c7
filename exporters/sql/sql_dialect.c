/*
 * sql_dialect.c — see sql.h: the one place that knows how PostgreSQL and
 * SQLite differ for the sql exporter.
 *
 *   types     PostgreSQL: BIGINT, DOUBLE PRECISION, TEXT, TIMESTAMP WITH
 *             TIME ZONE, DATE. SQLite: INTEGER, REAL, TEXT, and instants
 *             and dates as ISO 8601 text, which its date functions read.
 *   instants  PostgreSQL: '2026-11-19 16:00:00+00' (an explicit zone, so
 *             the session's TimeZone does not matter); SQLite:
 *             '2026-11-19T16:00:00Z', as the JSON writes them.
 *   upsert    INSERT ... ON CONFLICT (keys) DO UPDATE SET c = excluded.c
 *             WHERE (row) <> (excluded row): both spell it the same
 *             (SQLite since 3.24); the WHERE keeps an unchanged row
 *             untouched (no new row version in PostgreSQL, no write in
 *             SQLite). The values are never NULL, so <> is enough.
 */
#include "sql.h"

#include <stdio.h>
#include <time.h>

static int pg_instant(int64_t utc, char out[TF_INSTANT_LEN])
{
    time_t t = (time_t)utc;
    struct tm tm;
    if ((int64_t)t != utc || gmtime_r(&t, &tm) == NULL)
        return -1;
    return strftime(out, TF_INSTANT_LEN, "%Y-%m-%d %H:%M:%S+00", &tm) > 0 ? 0 : -1;
}

static const sql_dialect postgresql = {
    .name = "PostgreSQL",
    .t_int = "BIGINT",
    .t_real = "DOUBLE PRECISION",
    .t_text = "TEXT",
    .t_instant = "TIMESTAMP WITH TIME ZONE",
    .t_date = "DATE",
    .instant = pg_instant,
};

static const sql_dialect sqlite = {
    .name = "SQLite",
    .t_int = "INTEGER",
    .t_real = "REAL",
    .t_text = "TEXT",
    .t_instant = "TEXT",
    .t_date = "TEXT",
    .instant = tf_instant,
};

const sql_dialect *sql_dialect_of(odbc_dbms dbms)
{
    return dbms == ODBC_DBMS_POSTGRESQL ? &postgresql : dbms == ODBC_DBMS_SQLITE ? &sqlite : NULL;
}

const char *sql_dialect_type(const sql_dialect *d, tf_kind k)
{
    switch (k) {
    case TF_INT:
        return d->t_int;
    case TF_REAL:
        return d->t_real;
    case TF_INSTANT:
        return d->t_instant;
    case TF_DATE:
        return d->t_date;
    default:
        return d->t_text;
    }
}

void sql_dialect_upsert(const sql_dialect *d, tf_buf *b, const char *table, const char *const *keys,
                        size_t n_keys, const char *const *cols, size_t n_cols)
{
    (void)d;
    tf_buf_puts(b, " ON CONFLICT (");
    for (size_t i = 0; i < n_keys; i++)
        tf_buf_printf(b, "%s\"%s\"", i ? ", " : "", keys[i]);
    tf_buf_puts(b, ") DO UPDATE SET ");
    for (size_t i = 0; i < n_cols; i++)
        tf_buf_printf(b, "%s\"%s\" = excluded.\"%s\"", i ? ", " : "", cols[i], cols[i]);
    tf_buf_puts(b, " WHERE (");
    for (size_t i = 0; i < n_cols; i++)
        tf_buf_printf(b, "%s%s.\"%s\"", i ? ", " : "", table, cols[i]);
    tf_buf_puts(b, ") <> (");
    for (size_t i = 0; i < n_cols; i++)
        tf_buf_printf(b, "%sexcluded.\"%s\"", i ? ", " : "", cols[i]);
    tf_buf_puts(b, ")");
}
