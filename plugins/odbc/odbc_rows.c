/*
 * odbc_rows.c — see odbc.h: fetched rows to records. Each value is read
 * as its column was bound (odbc_query.c chose that from its type): text
 * through the csv source's parsers, so a value means the same from a
 * database as from a CSV file; integers, doubles, timestamps, UUIDs and
 * booleans from the driver's native structs. Strings point into the
 * bound arrays, valid until the next fetch: the records are emitted
 * before it.
 *
 * Text is read as the CSV source reads a field: an empty string is NULL,
 * a decimal is exact, a timestamp without a zone is in naive_timezone. A
 * double becomes the shortest decimal that reads back as the same double,
 * which is how PostgreSQL prints it and a CSV export would hold it.
 */
#include "odbc.h"

#include "civil/civil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A timestamp struct as wall-clock nanoseconds: 0, or -1 when a member
 * is out of range or the instant does not fit int64 nanoseconds. */
static int wall_ns(const SQL_TIMESTAMP_STRUCT *t, int64_t *out)
{
    const civil_date d = {t->year, t->month, t->day};
    if (!civil_date_valid(d) || t->hour > 23 || t->minute > 59 || t->second > 59 ||
        t->fraction > 999999999u)
        return -1;
    int64_t days = civil_days_from_date(d);
    int64_t secs = days * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
    int64_t ns;
    if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
        __builtin_add_overflow(ns, (int64_t)t->fraction, out))
        return -1;
    return 0;
}

void odbc_guid_text(const SQLGUID *g, char out[ODBC_TEXT_STRIDE])
{
    snprintf(out, ODBC_TEXT_STRIDE, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0], g->Data4[1],
             g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

/* The shortest of 15, 16 and 17 significant digits that reads back as
 * v (the caller runs in the C locale). */
static size_t double_text(double v, char *out)
{
    /* Whole numbers (most response times) need no printf. */
    if (v == (double)(int64_t)v && v > -9.0e15 && v < 9.0e15) {
        int64_t x = (int64_t)v;
        char tmp[24];
        size_t k = 0, n = 0;
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        do {
            tmp[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (x < 0)
            out[n++] = '-';
        while (k > 0)
            out[n++] = tmp[--k];
        out[n] = '\0';
        return n;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, ODBC_TEXT_STRIDE, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

/* A value of row i, for reading and for messages. */
typedef struct value {
    bool null;
    const char *p; /* text (SQL_C_CHAR), or NULL */
    size_t len;
    bool cut; /* longer than the buffer: p holds its start */
} value;

static value text_of(const odbc_col *c, size_t i)
{
    value v = {0};
    SQLLEN ind = c->ind[i];
    if (ind == SQL_NULL_DATA) {
        v.null = true;
        return v;
    }
    v.p = (const char *)c->buf + i * c->width;
    if (ind == SQL_NO_TOTAL || (size_t)ind >= c->width) {
        v.len = c->width - 1;
        v.cut = true;
    } else {
        v.len = (size_t)ind;
    }
    return v;
}

/* The start of a value, for a message: text as it is, anything else as
 * the driver's type says. */
static void show_value(const odbc_col *c, size_t i, char *out, size_t n)
{
    value v = c->c_type == SQL_C_CHAR ? text_of(c, i) : (value){.null = c->ind[i] == SQL_NULL_DATA};
    if (v.null)
        snprintf(out, n, "NULL");
    else if (c->c_type == SQL_C_CHAR)
        snprintf(out, n, "\"%.*s%s\"", (int)(v.len < 40 ? v.len : 40), v.p,
                 v.len > 40 || v.cut ? "..." : "");
    else if (c->c_type == SQL_C_SBIGINT)
        snprintf(out, n, "%lld", (long long)((const int64_t *)c->buf)[i]);
    else if (c->c_type == SQL_C_DOUBLE)
        snprintf(out, n, "%.17g", ((const double *)c->buf)[i]);
    else
        snprintf(out, n, "a value");
}

/* Row i is set aside: described in the log for the first few of a cycle
 * (where it is: its created_at and id), counted always. */
static void reject(odbc_source *s, size_t i, const odbc_col *c, const char *what)
{
    s->rejected++;
    if (s->rejects_shown >= ODBC_REJECTS_SHOWN)
        return;
    s->rejects_shown++;
    char where[160] = "";
    if (s->created_col >= 0) {
        char created[64], id[64];
        show_value(&s->cols[s->created_col], i, created, sizeof(created));
        show_value(&s->cols[s->id_col], i, id, sizeof(id));
        snprintf(where, sizeof(where), " (created_at %s, id %s)", created, id);
    }
    if (c == NULL) {
        s->api->log(s->host, TALLY_LOG_WARNING,
                    "a row%s is set aside: the driver could not convert one of its values; it "
                    "is counted in rejected_rows",
                    where);
        return;
    }
    char shown[64];
    show_value(c, i, shown, sizeof(shown));
    s->api->log(s->host, TALLY_LOG_WARNING,
                "a row%s is set aside: column %s (%s) is %s, which is not %s; it is counted in "
                "rejected_rows",
                where, c->name, rec_field_name(c->field), shown, what);
}

static const char *kind_what(uint8_t kind)
{
    switch (kind) {
    case REC_K_TIME:
        return "an ISO 8601 time (2026-11-22T03:00:00Z)";
    case REC_K_INT:
    case REC_K_STATUS:
        return "a whole number that fits 64 bits";
    case REC_K_FIXED:
    case REC_K_RT:
        return "a decimal number";
    case REC_K_BOOL:
        return "true or false";
    default:
        return "text of at most max_field_bytes";
    }
}

/* One value of row i into record r: 0, or 1 when the row is refused
 * (*what says why). */
static int read_value(odbc_source *s, odbc_col *c, size_t i, tally_record *r, const char **what)
{
    void *slot = (char *)r + c->off;
    const bool null = c->ind[i] == SQL_NULL_DATA;
    *what = kind_what(c->kind);
    /* Everything that is not text first becomes what text would give. */
    value v = {.null = null};
    if (c->c_type == SQL_C_CHAR) {
        v = text_of(c, i);
        if (!v.null && v.len == 0)
            v.null = true; /* "" is NULL, as an empty CSV field is */
    } else if (!null && c->c_type == SQL_C_GUID) {
        char *t = c->text + i * ODBC_TEXT_STRIDE;
        odbc_guid_text((const SQLGUID *)c->buf + i, t);
        v.p = t;
        v.len = 36;
    } else if (!null && c->c_type == SQL_C_DOUBLE) {
        double d = ((const double *)c->buf)[i];
        if (!isfinite(d))
            return 1;
        char *t = c->text + i * ODBC_TEXT_STRIDE;
        v.p = t;
        v.len = double_text(d, t);
    }
    switch (c->kind) {
    case REC_K_STR: {
        tally_str *str = slot;
        if (v.null) {
            str->ptr = NULL;
            str->len = 0;
            return 0;
        }
        /* An error message only has to be there; the others must be whole. */
        if (v.cut && c->field != REC_F_ERROR_MESSAGE)
            return 1;
        str->ptr = v.p;
        str->len = (uint32_t)v.len;
        return 0;
    }
    case REC_K_TIME: {
        int64_t ns, wall;
        if (v.null) {
            *what = "a time: every row needs the time it was created";
            return 1;
        }
        if (c->c_type == SQL_C_TYPE_TIMESTAMP) {
            if (wall_ns((const SQL_TIMESTAMP_STRUCT *)c->buf + i, &wall) != 0)
                return 1;
            if (c->zoned)
                ns = wall;
            else if (rec_conv_naive(&s->conv, wall, &ns) != 0)
                return 1;
        } else if (v.cut || rec_conv_instant(&s->conv, v.p, v.len, &ns) != 0) {
            return 1;
        }
        *(int64_t *)slot = ns;
        return 0;
    }
    case REC_K_INT:
    case REC_K_STATUS: {
        int64_t x = 0;
        if (!v.null) {
            if (c->c_type == SQL_C_SBIGINT)
                x = ((const int64_t *)c->buf)[i];
            else if (v.cut || rec_parse_int64(v.p, v.len, &x) != 0)
                return 1;
        }
        if (rec_sign_refused(&s->conv, c->kind, x < 0)) {
            *what = REC_NOT_NEGATIVE;
            return 1;
        }
        *(int64_t *)slot = x;
        if (c->kind == REC_K_STATUS)
            r->u.usage.has_status_code = !v.null;
        return 0;
    }
    case REC_K_FIXED:
    case REC_K_RT: {
        tally_fixed x = 0;
        if (!v.null) {
            if (c->c_type == SQL_C_SBIGINT)
                x = (tally_fixed)((const int64_t *)c->buf)[i] * TALLY_FIXED_ONE;
            else if (v.cut || rec_parse_fixed(v.p, v.len, &x) != 0)
                return 1;
        }
        if (rec_sign_refused(&s->conv, c->kind, x < 0)) {
            *what = REC_NOT_NEGATIVE;
            return 1;
        }
        *(tally_fixed *)slot = x;
        if (c->kind == REC_K_RT)
            r->u.usage.has_response_time = !v.null;
        return 0;
    }
    default: {
        bool b;
        if (v.null)
            return 1;
        if (c->c_type == SQL_C_BIT)
            b = ((const unsigned char *)c->buf)[i] != 0;
        else if (c->c_type == SQL_C_SBIGINT)
            b = ((const int64_t *)c->buf)[i] != 0;
        else if (v.cut || rec_parse_bool(v.p, v.len, &b) != 0)
            return 1;
        *(bool *)slot = b;
        return 0;
    }
    }
}

int odbc_rows_convert(odbc_source *s, size_t *n_good)
{
    /* Doubles are written with printf: in the C locale, whatever
     * LC_NUMERIC the process has. */
    locale_t old = s->c_locale ? uselocale(s->c_locale) : (locale_t)0;
    const bool inventory = s->created_col < 0;
    size_t k = 0;
    for (size_t i = 0; i < s->fetched; i++) {
        SQLUSMALLINT st = s->row_status[i];
        if (st == SQL_ROW_NOROW || st == SQL_ROW_DELETED)
            continue;
        if (st == SQL_ROW_ERROR) {
            reject(s, i, NULL, NULL);
            continue;
        }
        tally_record *r = &s->recs[k];
        memset(r, 0, sizeof(*r));
        r->stream = s->stream;
        int refused = 0;
        for (size_t ci = 0; ci < s->n_cols && !refused; ci++) {
            const char *what;
            if (read_value(s, &s->cols[ci], i, r, &what) != 0) {
                reject(s, i, &s->cols[ci], what);
                refused = 1;
            }
        }
        if (refused)
            continue;
        /* An inventory item without an id cannot be told from any other. */
        if (inventory && r->u.item.id.ptr == NULL) {
            for (size_t ci = 0; ci < s->n_cols; ci++)
                if (s->cols[ci].field == REC_F_ID)
                    reject(s, i, &s->cols[ci], "an id: every item of an inventory needs one");
            continue;
        }
        k++;
    }
    if (old)
        uselocale(old);
    *n_good = k;
    return 0;
}
