/*
 * daily_agg.c — folding records into the pending aggregates. This is the
 * per-row path of every ingest: a row finds its business day through a
 * one-entry cache (rows mostly arrive in time order), then three hash
 * lookups (user-day, model, provider), and no allocation once the maps
 * have grown.
 */
#include "daily.h"

#include <stdlib.h>
#include <string.h>

/* Pending maps beyond these are flushed into the cycle's transaction
 * early, so a huge first read does not hold every request id in memory. */
#define DAILY_MAX_PENDING_KEYS 262144
#define DAILY_MAX_PENDING_DAYS 4096

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The pending slot of the business day that contains created_ns. */
static int day_slot(daily_collector *d, int64_t created_ns, size_t *slot)
{
    int64_t sec = floor_div(created_ns, 1000000000);
    if (d->last_day < d->n_days) {
        const tally_day *c = &d->days[d->last_day].day;
        if (sec >= c->start_utc && sec < c->end_utc) {
            *slot = d->last_day;
            return 0;
        }
    }
    for (size_t i = 0; i < d->n_days; i++) {
        const tally_day *c = &d->days[i].day;
        if (sec >= c->start_utc && sec < c->end_utc) {
            *slot = d->last_day = i;
            return 0;
        }
    }
    tally_day day;
    if (d->api->day_of(d->host, sec, &day) != TALLY_HOST_OK) {
        d->api->log(d->host, TALLY_LOG_ERR,
                    "a record's created_at (%lld s since the epoch) lies outside the years "
                    "1900..9999; fix the source's time_format or the data",
                    (long long)sec);
        return -1;
    }
    if (d->n_days == d->cap_days) {
        size_t cap = d->cap_days ? d->cap_days * 2 : 64;
        daily_pending_day *grown = realloc(d->days, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        d->days = grown;
        d->cap_days = cap;
    }
    memset(&d->days[d->n_days], 0, sizeof(d->days[0]));
    d->days[d->n_days].day = day;
    *slot = d->last_day = d->n_days++;
    return 0;
}

static int grow_key(daily_collector *d, size_t need)
{
    size_t cap = d->key_cap ? d->key_cap : 256;
    while (cap < need)
        cap *= 2;
    unsigned char *k = realloc(d->key, cap);
    if (k == NULL)
        return -1;
    d->key = k;
    d->key_cap = cap;
    return 0;
}

/* [slot][kind][bytes] in the scratch key buffer. */
static int make_key(daily_collector *d, uint32_t slot, int kind, tally_str s, size_t *len)
{
    size_t need = 5 + (size_t)s.len;
    if (need > d->key_cap && grow_key(d, need) != 0)
        return -1;
    memcpy(d->key, &slot, 4);
    d->key[4] = (unsigned char)kind;
    memcpy(d->key + 5, s.ptr, s.len);
    *len = need;
    return 0;
}

/* One lookup per row for both distinct sets: the key holds the (model,
 * provider) pair, which has few distinct values; flush splits it. Layout:
 * [slot u32]['v'][model length u32][provider length u32][model][provider],
 * a length of UINT32_MAX being NULL. */
static int put_values(daily_collector *d, uint32_t slot, tally_str model, tally_str provider)
{
    if (model.ptr == NULL && provider.ptr == NULL)
        return 0;
    uint32_t lens[2] = {model.ptr ? model.len : UINT32_MAX,
                        provider.ptr ? provider.len : UINT32_MAX};
    size_t need = 13 + (size_t)(model.ptr ? model.len : 0) + (provider.ptr ? provider.len : 0);
    if (need > d->key_cap && grow_key(d, need) != 0)
        return -1;
    memcpy(d->key, &slot, 4);
    d->key[4] = 'v';
    memcpy(d->key + 5, lens, 8);
    size_t at = 13;
    if (model.ptr != NULL) {
        memcpy(d->key + at, model.ptr, model.len);
        at += model.len;
    }
    if (provider.ptr != NULL) {
        memcpy(d->key + at, provider.ptr, provider.len);
        at += provider.len;
    }
    void *unused;
    return daily_map_upsert(&d->values, d->key, at, daily_hash(d->key, at), &unused);
}

static int fold_usage(daily_collector *d, const tally_usage *u)
{
    size_t slot;
    if (day_slot(d, u->created_ns, &slot) != 0)
        return -1;
    const char *date = d->days[slot].day.date;
    const bool error =
        (u->has_status_code && u->status_code >= 400) || u->error_message.ptr != NULL;
    const daily_sums row = {
        .total = 1,
        .error = error,
        .tokens = {u->input_tokens, u->output_tokens, u->cache_creation_input_tokens,
                   u->cache_read_input_tokens},
        .cost = {u->total_cost_usd, u->actual_total_cost_usd, u->input_cost_usd, u->output_cost_usd,
                 u->cache_creation_cost_usd, u->cache_read_cost_usd},
        .rt_sum = u->has_response_time ? u->response_time_ms : 0,
        .rt_count = u->has_response_time,
    };
    daily_sums_add(d, &d->days[slot].sums, &row, "day", date);
    if (put_values(d, (uint32_t)slot, u->model, u->provider) != 0)
        return -1;
    if (u->user_id.ptr == NULL)
        return 0; /* rows without a user belong to no user */
    size_t len;
    daily_user_sums *us;
    if (make_key(d, (uint32_t)slot, 'u', u->user_id, &len) != 0 ||
        daily_map_upsert(&d->user_days, d->key, len, daily_hash(d->key, len), (void **)&us) != 0)
        return -1;
    const daily_user_sums user_row = {
        .total = 1,
        .error = error,
        .tokens = {row.tokens[0], row.tokens[1], row.tokens[2], row.tokens[3]},
        .cost = u->total_cost_usd,
    };
    daily_user_sums_add(d, us, &user_row, date);
    return 0;
}

static bool str_is(tally_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.ptr != NULL && s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* Only success and failed candidates count toward a fallback; they are
 * counted per (day, request), so candidates on both sides of midnight
 * are two groups. */
static int fold_candidate(daily_collector *d, const tally_candidate *c)
{
    if (c->request_id.ptr == NULL || !(str_is(c->status, "success") || str_is(c->status, "failed")))
        return 0;
    size_t slot, len;
    int64_t *count;
    if (day_slot(d, c->created_ns, &slot) != 0 ||
        make_key(d, (uint32_t)slot, 'c', c->request_id, &len) != 0 ||
        daily_map_upsert(&d->candidates, d->key, len, daily_hash(d->key, len), (void **)&count) !=
            0)
        return -1;
    (*count)++;
    return 0;
}

static daily_inventory *inventory_of(daily_collector *d, const char *source, tally_stream stream)
{
    for (size_t i = 0; i < d->n_inv; i++)
        if (d->inv[i].stream == stream && strcmp(d->inv[i].source, source) == 0)
            return &d->inv[i];
    daily_inventory *grown = realloc(d->inv, (d->n_inv + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    d->inv = grown;
    daily_inventory *v = &d->inv[d->n_inv];
    memset(v, 0, sizeof(*v));
    v->source = strdup(source);
    if (v->source == NULL)
        return NULL;
    v->stream = stream;
    daily_map_init(&v->items, sizeof(daily_item));
    d->n_inv++;
    return v;
}

static int fold_item(daily_collector *d, const char *source, tally_stream stream,
                     const tally_inventory_item *it)
{
    if (it->id.ptr == NULL)
        return 0;
    daily_inventory *v = inventory_of(d, source, stream);
    daily_item *item;
    if (v == NULL || daily_map_upsert(&v->items, it->id.ptr, it->id.len,
                                      daily_hash(it->id.ptr, it->id.len), (void **)&item) != 0)
        return -1;
    item->is_active = it->is_active;
    return 0;
}

int daily_agg_fold(daily_collector *d, const char *source, const tally_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const tally_record *r = &recs[i];
        int rc = 0;
        switch (r->stream) {
        case TALLY_STREAM_USAGE:
            rc = fold_usage(d, &r->u.usage);
            break;
        case TALLY_STREAM_CANDIDATES:
            rc = fold_candidate(d, &r->u.candidate);
            break;
        case TALLY_STREAM_USERS:
        case TALLY_STREAM_API_KEYS:
            rc = fold_item(d, source, r->stream, &r->u.item);
            break;
        default:
            break;
        }
        if (rc != 0) {
            d->api->log(d->host, TALLY_LOG_ERR,
                        "could not fold a record from %s (out of memory or a bad instant); the "
                        "source's batch is dropped and read again next cycle",
                        source);
            return TALLY_HOST_ERR;
        }
    }
    return TALLY_HOST_OK;
}

int daily_inventory_phase(void *ctx, const char *source, tally_stream stream, int phase)
{
    daily_collector *d = ctx;
    daily_inventory *v = inventory_of(d, source, stream);
    if (v == NULL)
        return TALLY_HOST_ERR;
    if (phase == TALLY_INVENTORY_BEGIN) {
        daily_map_clear(&v->items);
        v->open = true;
        v->replace = false;
    } else if (phase == TALLY_INVENTORY_END && v->open) {
        v->open = false;
        v->replace = true;
    }
    return TALLY_HOST_OK;
}

bool daily_pending_large(const daily_collector *d)
{
    return d->n_days > DAILY_MAX_PENDING_DAYS ||
           daily_map_count(&d->user_days) > DAILY_MAX_PENDING_KEYS ||
           daily_map_count(&d->values) > DAILY_MAX_PENDING_KEYS ||
           daily_map_count(&d->candidates) > DAILY_MAX_PENDING_KEYS;
}

void daily_pending_clear_records(daily_collector *d)
{
    d->n_days = 0;
    d->last_day = 0;
    daily_map_clear(&d->user_days);
    daily_map_clear(&d->values);
    daily_map_clear(&d->candidates);
}

void daily_pending_clear(daily_collector *d)
{
    daily_pending_clear_records(d);
    for (size_t i = 0; i < d->n_inv; i++) {
        daily_map_clear(&d->inv[i].items);
        d->inv[i].open = d->inv[i].replace = false;
    }
}

void daily_pending_free(daily_collector *d)
{
    free(d->days);
    daily_map_free(&d->user_days);
    daily_map_free(&d->values);
    daily_map_free(&d->candidates);
    daily_map_free(&d->saturated);
    for (size_t i = 0; i < d->n_inv; i++) {
        free(d->inv[i].source);
        daily_map_free(&d->inv[i].items);
    }
    free(d->inv);
    free(d->key);
}
