/*
 * record_row.c — see record.h: header -> column map, and row -> record.
 *
 * This is the per-row path, so it allocates nothing: a row's mapped
 * columns are visited in one pass over a small table (each column's kind
 * and place in the record found when the column map was built), values
 * are parsed in place, and only values outside the source's buffer are
 * copied (into the batch's arena).
 */
#include "record/record.h"

#include <stdio.h>
#include <string.h>

/* ---- the column map ---- */

/* A usage map with every field writes every member of the record, NULL
 * values as zeros, so its rows need not clear the record first. */
static void set_complete(tally_stream stream, rec_colmap *m, const bool seen[REC_FIELD_COUNT])
{
    m->complete = stream == TALLY_STREAM_USAGE;
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        if (rec_stream_has(stream, (rec_field_id)f) && !seen[f])
            m->complete = false;
}

static void map(tally_stream stream, rec_colmap *m, size_t col, rec_field_id f)
{
    m->mapped[m->n_mapped].col = (uint32_t)col;
    m->mapped[m->n_mapped].field = f;
    rec_field_layout(stream, f, &m->mapped[m->n_mapped].off, &m->mapped[m->n_mapped].kind);
    m->n_mapped++;
}

int rec_colmap_build(tally_stream stream, const char *const names[REC_FIELD_COUNT],
                     const rec_value *header, size_t n_cols, rec_colmap *m, rec_field_id *missing)
{
    bool seen[REC_FIELD_COUNT] = {false};
    memset(m, 0, sizeof(*m));
    m->n_cols = n_cols;
    for (size_t col = 0; col < n_cols; col++) {
        const rec_value *h = &header[col];
        const char *p = h->ptr;
        size_t n = h->len;
        /* Spreadsheets save UTF-8 with a byte order mark before the first
         * name; it is not part of the name. Nor are spaces around it
         * ("id, created_at"). */
        if (col == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            n -= 3;
        }
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        /* One column may feed several fields (columns = {"id=request_id"}
         * with request_id read as well). */
        for (int f = 0; f < REC_FIELD_COUNT; f++) {
            if (seen[f] || !rec_stream_has(stream, (rec_field_id)f))
                continue;
            const char *want = names[f] ? names[f] : rec_field_name((rec_field_id)f);
            if (strlen(want) == n && memcmp(want, p, n) == 0) {
                seen[f] = true;
                map(stream, m, col, (rec_field_id)f);
            }
        }
    }
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        if (rec_stream_requires(stream, (rec_field_id)f) && !seen[f]) {
            *missing = (rec_field_id)f;
            return -1;
        }
    set_complete(stream, m, seen);
    return 0;
}

void rec_colmap_fields(tally_stream stream, rec_colmap *m)
{
    bool seen[REC_FIELD_COUNT] = {false};
    memset(m, 0, sizeof(*m));
    m->n_cols = REC_FIELD_COUNT;
    m->by_field = true;
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        if (rec_stream_has(stream, (rec_field_id)f)) {
            seen[f] = true;
            map(stream, m, (size_t)f, (rec_field_id)f);
        }
    set_complete(stream, m, seen);
}

/* ---- rows ---- */

/* The reason a row is refused, naming the column (1-based, as
 * spreadsheets count) or, for a map by field, only the field, and quoting
 * the start of the value. */
static int refuse(rec_conv *c, const rec_colmap *m, uint32_t col, rec_field_id f,
                  const rec_value *v, const char *what)
{
    char where[64];
    if (m->by_field)
        snprintf(where, sizeof(where), "%s", rec_field_name(f));
    else
        snprintf(where, sizeof(where), "column %u (%s)", col + 1, rec_field_name(f));
    if (v == NULL || v->len == 0) {
        snprintf(c->reason, sizeof(c->reason), "%s is empty: %s", where, what);
        return 1;
    }
    /* Cut at a character boundary: sources hand over UTF-8. */
    size_t n = v->len < 40 ? v->len : 40;
    while (n > 0 && n < v->len && ((unsigned char)v->ptr[n] & 0xC0) == 0x80)
        n--;
    snprintf(c->reason, sizeof(c->reason), "%s: \"%.*s%s\" is not %s", where, (int)n, v->ptr,
             n < v->len ? "..." : "", what);
    return 1;
}

/* Where in a record a field's value goes. */
static const char *time_what(const rec_conv *c)
{
    return c->time_format == REC_TIME_ISO8601   ? "an ISO 8601 time (2026-11-22T03:00:00Z)"
           : c->time_format == REC_TIME_EPOCH_S ? "seconds since the epoch"
                                                : "milliseconds since the epoch";
}

/*
 * One pass over the mapped columns, each with its kind and its place in
 * the record worked out when the header was read, so a field costs one
 * switch and an inline parse. Values the source unescaped are copied to
 * the arena as they come; in the rare case the arena cannot take them the
 * batch is flushed and the row converted again from the start, which
 * then fits, as the arena holds a whole row.
 */
int rec_conv_row(rec_conv *c, const rec_colmap *m, const rec_value *row, const char *lo,
                 const char *hi, rec_batch *b, tally_record **out)
{
    if (b->n == b->cap && rec_batch_flush(b) != 0)
        return -1;
again:;
    size_t arena_at = b->used;
    tally_record *r = &b->recs[b->n];
    char *rb = (char *)r;
    if (!m->complete)
        memset(r, 0, sizeof(*r));
    r->stream = c->stream;
    const size_t n_mapped = m->n_mapped;
    for (size_t i = 0; i < n_mapped; i++) {
        const uint32_t col = m->mapped[i].col;
        const rec_value *v = &row[col];
        const char *p = v->ptr;
        const uint32_t len = v->len;
        void *slot = rb + m->mapped[i].off;
        switch (m->mapped[i].kind) {
        case REC_K_STR: {
            tally_str *str = slot;
            if (len == 0) {
                str->ptr = NULL; /* NULL, as "" is */
                str->len = 0;
                break;
            }
            if (!(p >= lo && p + len <= hi)) {
                if (b->arena_cap - arena_at < len) {
                    /* With the arena already empty a flush frees nothing:
                     * arena_cap is below a row, which rec_batch_init's
                     * caller promised never happens. */
                    if (b->used == 0 || rec_batch_flush(b) != 0)
                        return -1;
                    goto again;
                }
                char *dst = b->arena + arena_at;
                memcpy(dst, p, len);
                arena_at += len;
                p = dst;
            }
            str->ptr = p;
            str->len = len;
            break;
        }
        case REC_K_TIME: {
            int64_t ns;
            if (len == 0)
                return refuse(c, m, col, m->mapped[i].field, v,
                              "every row needs the time it was created");
            if (rec_conv_instant(c, p, len, &ns) != 0)
                return refuse(c, m, col, m->mapped[i].field, v, time_what(c));
            *(int64_t *)slot = ns;
            break;
        }
        case REC_K_INT:
        case REC_K_STATUS: {
            int64_t x = 0; /* NULL: 0, and no status code */
            if (len > 0 && rec_parse_int64(p, len, &x) != 0)
                return refuse(c, m, col, m->mapped[i].field, v, "a whole number that fits 64 bits");
            if (rec_sign_refused(c, m->mapped[i].kind, x < 0))
                return refuse(c, m, col, m->mapped[i].field, v, REC_NOT_NEGATIVE);
            *(int64_t *)slot = x;
            if (m->mapped[i].kind == REC_K_STATUS)
                r->u.usage.has_status_code = len > 0;
            break;
        }
        case REC_K_FIXED:
        case REC_K_RT: {
            tally_fixed x = 0;
            if (len > 0 && rec_parse_fixed(p, len, &x) != 0)
                return refuse(c, m, col, m->mapped[i].field, v,
                              "a decimal number (digits, '.' as the point)");
            if (rec_sign_refused(c, m->mapped[i].kind, x < 0))
                return refuse(c, m, col, m->mapped[i].field, v, REC_NOT_NEGATIVE);
            /* A plain store: through memcpy the compiler wrote the value
             * to the stack in halves and read it back whole, a stall. */
            *(tally_fixed *)slot = x;
            if (m->mapped[i].kind == REC_K_RT)
                r->u.usage.has_response_time = len > 0;
            break;
        }
        default:
            if (len == 0 || rec_parse_bool(p, len, (bool *)slot) != 0)
                return refuse(c, m, col, m->mapped[i].field, v, "true or false");
            break;
        }
    }
    /* Required columns are in the map, so only a NULL can be missing:
     * refused above for instants and booleans; an inventory item without
     * an id cannot be told apart from any other, so it is refused too. */
    if ((c->stream == TALLY_STREAM_USERS || c->stream == TALLY_STREAM_API_KEYS) &&
        r->u.item.id.ptr == NULL) {
        for (size_t i = 0; i < m->n_mapped; i++)
            if (m->mapped[i].field == REC_F_ID)
                return refuse(c, m, m->mapped[i].col, REC_F_ID, NULL,
                              "every item of an inventory needs an id");
    }
    b->used = arena_at;
    *out = r;
    return 0;
}

