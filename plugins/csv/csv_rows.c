/*
 * csv_rows.c — see csv_rows.h: the streams' fields, header -> column map,
 * row -> record, and batches.
 *
 * This is the per-row path, so it allocates nothing: a row's mapped
 * columns are visited in one pass over a small table (each column's kind
 * and place in the record found when the header was read), values are
 * parsed in place, and only fields the scanner unescaped are copied (into
 * the batch's arena).
 */
#include "csv_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_STR, T_TIME, T_INT, T_FIXED, T_BOOL };

static const struct {
    const char *name;
    int type;
} fields[CSV_FIELD_COUNT] = {
    [CSV_F_ID] = {"id", T_STR},
    [CSV_F_REQUEST_ID] = {"request_id", T_STR},
    [CSV_F_CREATED_AT] = {"created_at", T_TIME},
    [CSV_F_USER_ID] = {"user_id", T_STR},
    [CSV_F_API_KEY_ID] = {"api_key_id", T_STR},
    [CSV_F_PROVIDER] = {"provider", T_STR},
    [CSV_F_MODEL] = {"model", T_STR},
    [CSV_F_STATUS_CODE] = {"status_code", T_INT},
    [CSV_F_ERROR_MESSAGE] = {"error_message", T_STR},
    [CSV_F_INPUT_TOKENS] = {"input_tokens", T_INT},
    [CSV_F_OUTPUT_TOKENS] = {"output_tokens", T_INT},
    [CSV_F_CACHE_CREATION_INPUT_TOKENS] = {"cache_creation_input_tokens", T_INT},
    [CSV_F_CACHE_READ_INPUT_TOKENS] = {"cache_read_input_tokens", T_INT},
    [CSV_F_INPUT_COST_USD] = {"input_cost_usd", T_FIXED},
    [CSV_F_OUTPUT_COST_USD] = {"output_cost_usd", T_FIXED},
    [CSV_F_CACHE_CREATION_COST_USD] = {"cache_creation_cost_usd", T_FIXED},
    [CSV_F_CACHE_READ_COST_USD] = {"cache_read_cost_usd", T_FIXED},
    [CSV_F_TOTAL_COST_USD] = {"total_cost_usd", T_FIXED},
    [CSV_F_ACTUAL_TOTAL_COST_USD] = {"actual_total_cost_usd", T_FIXED},
    [CSV_F_RESPONSE_TIME_MS] = {"response_time_ms", T_FIXED},
    [CSV_F_STATUS] = {"status", T_STR},
    [CSV_F_IS_ACTIVE] = {"is_active", T_BOOL},
};

#define BIT(f) (1u << (f))

/* Per stream: its fields, and the ones a file must have a column for. */
static const struct {
    const char *name;
    tally_stream stream;
    uint32_t has, requires;
    const char *list;
} streams[] = {
    {"usage", TALLY_STREAM_USAGE,
     BIT(CSV_F_ID) | BIT(CSV_F_REQUEST_ID) | BIT(CSV_F_CREATED_AT) | BIT(CSV_F_USER_ID) |
         BIT(CSV_F_API_KEY_ID) | BIT(CSV_F_PROVIDER) | BIT(CSV_F_MODEL) | BIT(CSV_F_STATUS_CODE) |
         BIT(CSV_F_ERROR_MESSAGE) | BIT(CSV_F_INPUT_TOKENS) | BIT(CSV_F_OUTPUT_TOKENS) |
         BIT(CSV_F_CACHE_CREATION_INPUT_TOKENS) | BIT(CSV_F_CACHE_READ_INPUT_TOKENS) |
         BIT(CSV_F_INPUT_COST_USD) | BIT(CSV_F_OUTPUT_COST_USD) |
         BIT(CSV_F_CACHE_CREATION_COST_USD) | BIT(CSV_F_CACHE_READ_COST_USD) |
         BIT(CSV_F_TOTAL_COST_USD) | BIT(CSV_F_ACTUAL_TOTAL_COST_USD) | BIT(CSV_F_RESPONSE_TIME_MS),
     BIT(CSV_F_CREATED_AT),
     "id, request_id, created_at, user_id, api_key_id, provider, model, status_code, "
     "error_message, input_tokens, output_tokens, cache_creation_input_tokens, "
     "cache_read_input_tokens, input_cost_usd, output_cost_usd, cache_creation_cost_usd, "
     "cache_read_cost_usd, total_cost_usd, actual_total_cost_usd, response_time_ms"},
    {"candidates", TALLY_STREAM_CANDIDATES,
     BIT(CSV_F_ID) | BIT(CSV_F_REQUEST_ID) | BIT(CSV_F_STATUS) | BIT(CSV_F_CREATED_AT),
     BIT(CSV_F_REQUEST_ID) | BIT(CSV_F_STATUS) | BIT(CSV_F_CREATED_AT),
     "id, request_id, status, created_at"},
    {"users", TALLY_STREAM_USERS, BIT(CSV_F_ID) | BIT(CSV_F_IS_ACTIVE),
     BIT(CSV_F_ID) | BIT(CSV_F_IS_ACTIVE), "id, is_active"},
    {"api_keys", TALLY_STREAM_API_KEYS, BIT(CSV_F_ID) | BIT(CSV_F_USER_ID) | BIT(CSV_F_IS_ACTIVE),
     BIT(CSV_F_ID) | BIT(CSV_F_IS_ACTIVE), "id, user_id, is_active"},
};

#define N_STREAMS (sizeof(streams) / sizeof(streams[0]))

int csv_stream_from_name(const char *name, tally_stream *out)
{
    for (size_t i = 0; name != NULL && i < N_STREAMS; i++)
        if (strcmp(name, streams[i].name) == 0) {
            *out = streams[i].stream;
            return 0;
        }
    return -1;
}

static size_t stream_index(tally_stream stream)
{
    for (size_t i = 0; i < N_STREAMS; i++)
        if (streams[i].stream == stream)
            return i;
    return 0;
}

const char *csv_stream_name(tally_stream stream)
{
    return streams[stream_index(stream)].name;
}

const char *csv_field_name(csv_field_id f)
{
    return f < CSV_FIELD_COUNT ? fields[f].name : "?";
}

bool csv_stream_has(tally_stream stream, csv_field_id f)
{
    return f < CSV_FIELD_COUNT && (streams[stream_index(stream)].has & BIT(f)) != 0;
}

bool csv_stream_requires(tally_stream stream, csv_field_id f)
{
    return f < CSV_FIELD_COUNT && (streams[stream_index(stream)].requires & BIT(f)) != 0;
}

int csv_field_lookup(const char *name, size_t n, csv_field_id *out)
{
    for (int f = 0; f < CSV_FIELD_COUNT; f++)
        if (strlen(fields[f].name) == n && memcmp(fields[f].name, name, n) == 0) {
            *out = (csv_field_id)f;
            return 0;
        }
    return -1;
}

const char *csv_stream_field_list(tally_stream stream)
{
    return streams[stream_index(stream)].list;
}

int csv_columns_check(cfg_t *section, const tally_stream *stream, const char *name,
                      void (*report)(void *arg, const char *message), void *arg)
{
    bool renamed[CSV_FIELD_COUNT] = {false};
    int problems = 0;
    for (unsigned i = 0; i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i), *eq = strchr(entry, '=');
        csv_field_id f;
        char msg[512];
        msg[0] = '\0';
        if (eq == NULL || eq == entry || eq[1] == '\0')
            snprintf(msg, sizeof(msg),
                     "option 'columns' entry \"%s\" is not \"field=%s\"; write e.g. "
                     "\"created_at=ts\" to read created_at from the %s ts",
                     entry, name, name);
        else if (csv_field_lookup(entry, (size_t)(eq - entry), &f) != 0 ||
                 (stream != NULL && !csv_stream_has(*stream, f)))
            snprintf(msg, sizeof(msg),
                     "option 'columns' entry \"%s\": %.*s is not a field of %s%s; its fields "
                     "are %s",
                     entry, (int)(eq - entry), entry, stream ? "stream " : "any stream",
                     stream ? csv_stream_name(*stream) : "",
                     stream ? csv_stream_field_list(*stream) : "listed in tallyd.conf(5)");
        else if (renamed[f])
            snprintf(msg, sizeof(msg),
                     "option 'columns' renames %s twice (\"%s\"); keep one entry per field",
                     csv_field_name(f), entry);
        else
            renamed[f] = true;
        if (msg[0] != '\0') {
            report(arg, msg);
            problems++;
        }
    }
    return problems;
}

/* ---- the column map ---- */

int csv_colmap_build(tally_stream stream, const char *const names[CSV_FIELD_COUNT],
                     const csv_row *header, csv_colmap *m, csv_field_id *missing)
{
    bool seen[CSV_FIELD_COUNT] = {false};
    memset(m, 0, sizeof(*m));
    m->n_cols = header->n_fields;
    for (size_t col = 0; col < header->n_fields; col++) {
        const csv_field *h = &header->fields[col];
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
        for (int f = 0; f < CSV_FIELD_COUNT; f++) {
            if (seen[f] || !csv_stream_has(stream, (csv_field_id)f))
                continue;
            const char *want = names[f] ? names[f] : fields[f].name;
            if (strlen(want) == n && memcmp(want, p, n) == 0) {
                seen[f] = true;
                m->mapped[m->n_mapped].col = (uint32_t)col;
                m->mapped[m->n_mapped].field = (csv_field_id)f;
                csv_field_layout(stream, (csv_field_id)f, &m->mapped[m->n_mapped].off,
                                 &m->mapped[m->n_mapped].kind);
                m->n_mapped++;
            }
        }
    }
    for (int f = 0; f < CSV_FIELD_COUNT; f++)
        if (csv_stream_requires(stream, (csv_field_id)f) && !seen[f]) {
            *missing = (csv_field_id)f;
            return -1;
        }
    /* A usage file with every column writes every member of the record,
     * empty fields as zeros, so its rows need not clear the record first. */
    m->complete = stream == TALLY_STREAM_USAGE;
    for (int f = 0; f < CSV_FIELD_COUNT; f++)
        if (csv_stream_has(stream, (csv_field_id)f) && !seen[f])
            m->complete = false;
    return 0;
}

/* ---- instants ---- */

int csv_conf_parse_offset(const char *t, int32_t *out)
{
    /* Exactly ±hh, ±hhmm or ±hh:mm, as ISO 8601 writes offsets. */
    size_t n = t != NULL ? strlen(t) : 0;
    if ((n != 3 && n != 5 && n != 6) || (t[0] != '+' && t[0] != '-') || (n == 6 && t[3] != ':'))
        return -1;
    const char *digits[4] = {t + 1, t + 2, t + (n == 6 ? 4 : 3), t + (n == 6 ? 5 : 4)};
    size_t nd = n == 3 ? 2 : 4;
    int d[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < nd; i++) {
        if (*digits[i] < '0' || *digits[i] > '9')
            return -1;
        d[i] = *digits[i] - '0';
    }
    int hours = d[0] * 10 + d[1], minutes = d[2] * 10 + d[3];
    /* Real zones stay within -12:00..+14:00; ISO 8601 allows up to 23:59. */
    if (hours > 23 || minutes > 59)
        return -1;
    *out = (t[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
    return 0;
}

int csv_naive_parse(const char *text, csv_naive_kind *kind, int32_t *offset_s)
{
    if (text == NULL)
        return -1;
    *offset_s = 0;
    if (strcmp(text, "UTC") == 0)
        *kind = CSV_NAIVE_UTC;
    else if (strcmp(text, "business") == 0)
        *kind = CSV_NAIVE_BUSINESS;
    else if (csv_conf_parse_offset(text, offset_s) == 0)
        *kind = CSV_NAIVE_OFFSET;
    else
        return -1;
    return 0;
}

void csv_conv_reset(csv_conv *c)
{
    memset(c->hours, 0, sizeof(c->hours));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Local wall-clock seconds in the business zone -> UTC seconds. */
static int business_to_utc(csv_conv *c, int64_t local, int64_t *utc)
{
    int64_t hour = floor_div(local, 3600);
    size_t slot = (size_t)(hour & (CSV_HOUR_CACHE - 1));
    if (!c->hours[slot].valid || c->hours[slot].hour != hour) {
        int64_t u0, u1;
        if (c->api->local_to_utc(c->host, hour * 3600, &u0) != TALLY_HOST_OK ||
            c->api->local_to_utc(c->host, hour * 3600 + 3600, &u1) != TALLY_HOST_OK)
            return -1;
        c->hours[slot].hour = hour;
        c->hours[slot].offset_s = u0 - hour * 3600;
        /* Exactly an hour apart: no transition inside it (zones only move
         * back and forth by at least 15 minutes, never twice an hour). */
        c->hours[slot].uniform = u1 - u0 == 3600;
        c->hours[slot].valid = true;
    }
    if (c->hours[slot].uniform) {
        *utc = local + c->hours[slot].offset_s;
        return 0;
    }
    return c->api->local_to_utc(c->host, local, utc) == TALLY_HOST_OK ? 0 : -1;
}

int csv_conv_naive(csv_conv *c, int64_t wall_ns, int64_t *ns)
{
    const int64_t G = 1000000000;
    if (c->naive == CSV_NAIVE_UTC) {
        *ns = wall_ns;
        return 0;
    }
    if (c->naive == CSV_NAIVE_OFFSET) {
        int64_t shift = (int64_t)c->naive_offset_s * G;
        return __builtin_sub_overflow(wall_ns, shift, ns) ? -1 : 0;
    }
    int64_t local = floor_div(wall_ns, G), frac = wall_ns - local * G, utc;
    if (business_to_utc(c, local, &utc) != 0)
        return -1;
    int64_t whole;
    if (__builtin_mul_overflow(utc, G, &whole) || __builtin_add_overflow(whole, frac, ns))
        return -1;
    return 0;
}

int csv_conv_instant(csv_conv *c, const char *p, size_t n, int64_t *ns)
{
    bool naive = false;
    int64_t t;
    if (csv_parse_time(p, n, c->time_format, &t, &naive) != 0)
        return -1;
    if (!naive) {
        *ns = t;
        return 0;
    }
    return csv_conv_naive(c, t, ns);
}

/* ---- batches ---- */

int csv_batch_init(csv_batch *b, size_t cap, size_t arena_cap, tally_host *host,
                   const tally_host_api *api)
{
    memset(b, 0, sizeof(*b));
    b->recs = calloc(cap, sizeof(*b->recs));
    b->arena = malloc(arena_cap);
    if (b->recs == NULL || b->arena == NULL) {
        csv_batch_free(b);
        return -1;
    }
    b->cap = cap;
    b->arena_cap = arena_cap;
    b->host = host;
    b->api = api;
    return 0;
}

void csv_batch_free(csv_batch *b)
{
    free(b->recs);
    free(b->arena);
    b->recs = NULL;
    b->arena = NULL;
}

int csv_batch_flush(csv_batch *b)
{
    if (b->n == 0)
        return 0;
    int rc = b->api->emit_records(b->host, b->recs, b->n);
    b->emitted += b->n;
    b->n = 0;
    b->used = 0;
    return rc == TALLY_HOST_OK ? 0 : TALLY_HOST_ERR;
}

void csv_batch_commit(csv_batch *b)
{
    b->n++;
}

/* ---- rows ---- */

/* The reason a row is refused, naming the column (1-based, as
 * spreadsheets count) and quoting the start of the value. */
static int refuse(csv_conv *c, uint32_t col, csv_field_id f, const csv_field *v, const char *what)
{
    if (v == NULL || v->len == 0) {
        snprintf(c->reason, sizeof(c->reason), "column %u (%s) is empty: %s", col + 1,
                 fields[f].name, what);
        return 1;
    }
    /* Cut at a character boundary: the scanner checked the row is UTF-8. */
    size_t n = v->len < 40 ? v->len : 40;
    while (n > 0 && n < v->len && ((unsigned char)v->ptr[n] & 0xC0) == 0x80)
        n--;
    snprintf(c->reason, sizeof(c->reason), "column %u (%s): \"%.*s%s\" is not %s", col + 1,
             fields[f].name, (int)n, v->ptr, n < v->len ? "..." : "", what);
    return 1;
}

/* Where in a record a field's value goes. */
static tally_str *str_slot(tally_record *r, csv_field_id f)
{
    switch (r->stream) {
    case TALLY_STREAM_USAGE: {
        tally_usage *u = &r->u.usage;
        switch (f) {
        case CSV_F_ID:
            return &u->id;
        case CSV_F_REQUEST_ID:
            return &u->request_id;
        case CSV_F_USER_ID:
            return &u->user_id;
        case CSV_F_API_KEY_ID:
            return &u->api_key_id;
        case CSV_F_PROVIDER:
            return &u->provider;
        case CSV_F_MODEL:
            return &u->model;
        case CSV_F_ERROR_MESSAGE:
            return &u->error_message;
        default:
            return NULL;
        }
    }
    case TALLY_STREAM_CANDIDATES:
        return f == CSV_F_ID           ? &r->u.candidate.id
               : f == CSV_F_REQUEST_ID ? &r->u.candidate.request_id
               : f == CSV_F_STATUS     ? &r->u.candidate.status
                                       : NULL;
    default:
        return f == CSV_F_ID ? &r->u.item.id : f == CSV_F_USER_ID ? &r->u.item.user_id : NULL;
    }
}

static int64_t *int_slot(tally_usage *u, csv_field_id f)
{
    switch (f) {
    case CSV_F_STATUS_CODE:
        return &u->status_code;
    case CSV_F_INPUT_TOKENS:
        return &u->input_tokens;
    case CSV_F_OUTPUT_TOKENS:
        return &u->output_tokens;
    case CSV_F_CACHE_CREATION_INPUT_TOKENS:
        return &u->cache_creation_input_tokens;
    case CSV_F_CACHE_READ_INPUT_TOKENS:
        return &u->cache_read_input_tokens;
    default:
        return NULL;
    }
}

static tally_fixed *fixed_slot(tally_usage *u, csv_field_id f)
{
    switch (f) {
    case CSV_F_INPUT_COST_USD:
        return &u->input_cost_usd;
    case CSV_F_OUTPUT_COST_USD:
        return &u->output_cost_usd;
    case CSV_F_CACHE_CREATION_COST_USD:
        return &u->cache_creation_cost_usd;
    case CSV_F_CACHE_READ_COST_USD:
        return &u->cache_read_cost_usd;
    case CSV_F_TOTAL_COST_USD:
        return &u->total_cost_usd;
    case CSV_F_ACTUAL_TOTAL_COST_USD:
        return &u->actual_total_cost_usd;
    case CSV_F_RESPONSE_TIME_MS:
        return &u->response_time_ms;
    default:
        return NULL;
    }
}

/* Where field f's value goes in a record of the stream, and its kind;
 * found once per file by asking the slot functions about a blank record. */
void csv_field_layout(tally_stream stream, csv_field_id f, uint16_t *off, uint8_t *kind)
{
    tally_record r;
    memset(&r, 0, sizeof(r));
    r.stream = stream;
    const char *base = (const char *)&r, *at = NULL;
    switch (fields[f].type) {
    case T_STR:
        *kind = CSV_K_STR;
        at = (const char *)str_slot(&r, f);
        break;
    case T_TIME:
        *kind = CSV_K_TIME;
        at = stream == TALLY_STREAM_USAGE ? (const char *)&r.u.usage.created_ns
                                          : (const char *)&r.u.candidate.created_ns;
        break;
    case T_INT:
        *kind = f == CSV_F_STATUS_CODE ? CSV_K_STATUS : CSV_K_INT;
        at = (const char *)int_slot(&r.u.usage, f);
        break;
    case T_FIXED:
        *kind = f == CSV_F_RESPONSE_TIME_MS ? CSV_K_RT : CSV_K_FIXED;
        at = (const char *)fixed_slot(&r.u.usage, f);
        break;
    default:
        *kind = CSV_K_BOOL;
        at = (const char *)&r.u.item.is_active;
        break;
    }
    *off = (uint16_t)(at - base);
}

static const char *time_what(const csv_conv *c)
{
    return c->time_format == CSV_TIME_ISO8601   ? "an ISO 8601 time (2026-11-22T03:00:00Z)"
           : c->time_format == CSV_TIME_EPOCH_S ? "seconds since the epoch"
                                                : "milliseconds since the epoch";
}

/*
 * One pass over the mapped columns, each with its kind and its place in
 * the record worked out when the header was read, so a field costs one
 * switch and an inline parse. Fields the scanner unescaped are copied to
 * the arena as they come; in the rare case the arena cannot take them the
 * batch is flushed and the row converted again from the start, which
 * then fits, as the arena holds a whole row.
 */
int csv_conv_row(csv_conv *c, const csv_colmap *m, const csv_row *row, const char *lo,
                 const char *hi, csv_batch *b, tally_record **out)
{
    if (b->n == b->cap && csv_batch_flush(b) != 0)
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
        const csv_field *v = &row->fields[col];
        const char *p = v->ptr;
        const uint32_t len = v->len;
        void *slot = rb + m->mapped[i].off;
        switch (m->mapped[i].kind) {
        case CSV_K_STR: {
            tally_str *str = slot;
            if (len == 0) {
                str->ptr = NULL; /* NULL, as "" is */
                str->len = 0;
                break;
            }
            if (!(p >= lo && p + len <= hi)) {
                if (b->arena_cap - arena_at < len) {
                    /* With the arena already empty a flush frees nothing:
                     * arena_cap is below a row, which csv_batch_init's
                     * caller promised never happens. */
                    if (b->used == 0 || csv_batch_flush(b) != 0)
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
        case CSV_K_TIME: {
            int64_t ns;
            if (len == 0)
                return refuse(c, col, m->mapped[i].field, v,
                              "every row needs the time it was created");
            if (csv_conv_instant(c, p, len, &ns) != 0)
                return refuse(c, col, m->mapped[i].field, v, time_what(c));
            *(int64_t *)slot = ns;
            break;
        }
        case CSV_K_INT:
        case CSV_K_STATUS: {
            int64_t x = 0; /* NULL: 0, and no status code */
            if (len > 0 && csv_parse_int64(p, len, &x) != 0)
                return refuse(c, col, m->mapped[i].field, v, "a whole number that fits 64 bits");
            *(int64_t *)slot = x;
            if (m->mapped[i].kind == CSV_K_STATUS)
                r->u.usage.has_status_code = len > 0;
            break;
        }
        case CSV_K_FIXED:
        case CSV_K_RT: {
            tally_fixed x = 0;
            if (len > 0 && csv_parse_fixed(p, len, &x) != 0)
                return refuse(c, col, m->mapped[i].field, v,
                              "a decimal number (digits, '.' as the point)");
            /* A plain store: through memcpy the compiler wrote the value
             * to the stack in halves and read it back whole, a stall. */
            *(tally_fixed *)slot = x;
            if (m->mapped[i].kind == CSV_K_RT)
                r->u.usage.has_response_time = len > 0;
            break;
        }
        default:
            if (len == 0 || csv_parse_bool(p, len, (bool *)slot) != 0)
                return refuse(c, col, m->mapped[i].field, v, "true or false");
            break;
        }
    }
    /* Required columns are in the map, so only a NULL can be missing:
     * refused above for instants and booleans; an inventory item without
     * an id cannot be told apart from any other, so it is refused too. */
    if ((c->stream == TALLY_STREAM_USERS || c->stream == TALLY_STREAM_API_KEYS) &&
        r->u.item.id.ptr == NULL) {
        for (size_t i = 0; i < m->n_mapped; i++)
            if (m->mapped[i].field == CSV_F_ID)
                return refuse(c, m->mapped[i].col, CSV_F_ID, NULL,
                              "every item of an inventory needs an id");
    }
    b->used = arena_at;
    *out = r;
    return 0;
}
