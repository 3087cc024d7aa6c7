/*
 * record_schema.c — the streams' fields (record.h): their names and types,
 * which stream has and requires which, the `columns` option, and where
 * each field's value goes in a tally_record.
 */
#include "record/record.h"

#include <stdio.h>
#include <string.h>

enum { T_STR, T_TIME, T_INT, T_FIXED, T_BOOL };

static const struct {
    const char *name;
    int type;
} fields[REC_FIELD_COUNT] = {
    [REC_F_ID] = {"id", T_STR},
    [REC_F_REQUEST_ID] = {"request_id", T_STR},
    [REC_F_CREATED_AT] = {"created_at", T_TIME},
    [REC_F_USER_ID] = {"user_id", T_STR},
    [REC_F_API_KEY_ID] = {"api_key_id", T_STR},
    [REC_F_PROVIDER] = {"provider", T_STR},
    [REC_F_MODEL] = {"model", T_STR},
    [REC_F_STATUS_CODE] = {"status_code", T_INT},
    [REC_F_ERROR_MESSAGE] = {"error_message", T_STR},
    [REC_F_INPUT_TOKENS] = {"input_tokens", T_INT},
    [REC_F_OUTPUT_TOKENS] = {"output_tokens", T_INT},
    [REC_F_CACHE_CREATION_INPUT_TOKENS] = {"cache_creation_input_tokens", T_INT},
    [REC_F_CACHE_READ_INPUT_TOKENS] = {"cache_read_input_tokens", T_INT},
    [REC_F_INPUT_COST_USD] = {"input_cost_usd", T_FIXED},
    [REC_F_OUTPUT_COST_USD] = {"output_cost_usd", T_FIXED},
    [REC_F_CACHE_CREATION_COST_USD] = {"cache_creation_cost_usd", T_FIXED},
    [REC_F_CACHE_READ_COST_USD] = {"cache_read_cost_usd", T_FIXED},
    [REC_F_TOTAL_COST_USD] = {"total_cost_usd", T_FIXED},
    [REC_F_ACTUAL_TOTAL_COST_USD] = {"actual_total_cost_usd", T_FIXED},
    [REC_F_RESPONSE_TIME_MS] = {"response_time_ms", T_FIXED},
    [REC_F_STATUS] = {"status", T_STR},
    [REC_F_IS_ACTIVE] = {"is_active", T_BOOL},
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
     BIT(REC_F_ID) | BIT(REC_F_REQUEST_ID) | BIT(REC_F_CREATED_AT) | BIT(REC_F_USER_ID) |
         BIT(REC_F_API_KEY_ID) | BIT(REC_F_PROVIDER) | BIT(REC_F_MODEL) | BIT(REC_F_STATUS_CODE) |
         BIT(REC_F_ERROR_MESSAGE) | BIT(REC_F_INPUT_TOKENS) | BIT(REC_F_OUTPUT_TOKENS) |
         BIT(REC_F_CACHE_CREATION_INPUT_TOKENS) | BIT(REC_F_CACHE_READ_INPUT_TOKENS) |
         BIT(REC_F_INPUT_COST_USD) | BIT(REC_F_OUTPUT_COST_USD) |
         BIT(REC_F_CACHE_CREATION_COST_USD) | BIT(REC_F_CACHE_READ_COST_USD) |
         BIT(REC_F_TOTAL_COST_USD) | BIT(REC_F_ACTUAL_TOTAL_COST_USD) | BIT(REC_F_RESPONSE_TIME_MS),
     BIT(REC_F_CREATED_AT),
     "id, request_id, created_at, user_id, api_key_id, provider, model, status_code, "
     "error_message, input_tokens, output_tokens, cache_creation_input_tokens, "
     "cache_read_input_tokens, input_cost_usd, output_cost_usd, cache_creation_cost_usd, "
     "cache_read_cost_usd, total_cost_usd, actual_total_cost_usd, response_time_ms"},
    {"candidates", TALLY_STREAM_CANDIDATES,
     BIT(REC_F_ID) | BIT(REC_F_REQUEST_ID) | BIT(REC_F_STATUS) | BIT(REC_F_CREATED_AT),
     BIT(REC_F_REQUEST_ID) | BIT(REC_F_STATUS) | BIT(REC_F_CREATED_AT),
     "id, request_id, status, created_at"},
    {"users", TALLY_STREAM_USERS, BIT(REC_F_ID) | BIT(REC_F_IS_ACTIVE),
     BIT(REC_F_ID) | BIT(REC_F_IS_ACTIVE), "id, is_active"},
    {"api_keys", TALLY_STREAM_API_KEYS, BIT(REC_F_ID) | BIT(REC_F_USER_ID) | BIT(REC_F_IS_ACTIVE),
     BIT(REC_F_ID) | BIT(REC_F_IS_ACTIVE), "id, user_id, is_active"},
};

#define N_STREAMS (sizeof(streams) / sizeof(streams[0]))

int rec_stream_from_name(const char *name, tally_stream *out)
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

const char *rec_stream_name(tally_stream stream)
{
    return streams[stream_index(stream)].name;
}

const char *rec_field_name(rec_field_id f)
{
    return f < REC_FIELD_COUNT ? fields[f].name : "?";
}

bool rec_stream_has(tally_stream stream, rec_field_id f)
{
    return f < REC_FIELD_COUNT && (streams[stream_index(stream)].has & BIT(f)) != 0;
}

bool rec_stream_requires(tally_stream stream, rec_field_id f)
{
    return f < REC_FIELD_COUNT && (streams[stream_index(stream)].requires & BIT(f)) != 0;
}

int rec_field_lookup(const char *name, size_t n, rec_field_id *out)
{
    for (int f = 0; f < REC_FIELD_COUNT; f++)
        if (strlen(fields[f].name) == n && memcmp(fields[f].name, name, n) == 0) {
            *out = (rec_field_id)f;
            return 0;
        }
    return -1;
}

const char *rec_stream_field_list(tally_stream stream)
{
    return streams[stream_index(stream)].list;
}

int rec_columns_check(tally_host *h, const tally_host_api *api, cfg_t *section,
                      const tally_stream *stream, const char *name)
{
    bool renamed[REC_FIELD_COUNT] = {false};
    int problems = 0;
    for (unsigned i = 0; i < cfg_size(section, "columns"); i++) {
        const char *entry = cfg_getnstr(section, "columns", i), *eq = strchr(entry, '=');
        rec_field_id f;
        char msg[512];
        msg[0] = '\0';
        if (eq == NULL || eq == entry || eq[1] == '\0')
            snprintf(msg, sizeof(msg),
                     "option 'columns' entry \"%s\" is not \"field=%s\"; write e.g. "
                     "\"created_at=ts\" to read created_at from the %s ts",
                     entry, name, name);
        else if (rec_field_lookup(entry, (size_t)(eq - entry), &f) != 0 ||
                 (stream != NULL && !rec_stream_has(*stream, f)))
            snprintf(msg, sizeof(msg),
                     "option 'columns' entry \"%s\": %.*s is not a field of %s%s; its fields "
                     "are %s",
                     entry, (int)(eq - entry), entry, stream ? "stream " : "any stream",
                     stream ? rec_stream_name(*stream) : "",
                     stream ? rec_stream_field_list(*stream) : "listed in tallyd.conf(5)");
        else if (renamed[f])
            snprintf(msg, sizeof(msg),
                     "option 'columns' renames %s twice (\"%s\"); keep one entry per field",
                     rec_field_name(f), entry);
        else
            renamed[f] = true;
        if (msg[0] != '\0') {
            api->config_error(h, section, "%s", msg);
            problems++;
        }
    }
    return problems;
}

static tally_str *str_slot(tally_record *r, rec_field_id f)
{
    switch (r->stream) {
    case TALLY_STREAM_USAGE: {
        tally_usage *u = &r->u.usage;
        switch (f) {
        case REC_F_ID:
            return &u->id;
        case REC_F_REQUEST_ID:
            return &u->request_id;
        case REC_F_USER_ID:
            return &u->user_id;
        case REC_F_API_KEY_ID:
            return &u->api_key_id;
        case REC_F_PROVIDER:
            return &u->provider;
        case REC_F_MODEL:
            return &u->model;
        case REC_F_ERROR_MESSAGE:
            return &u->error_message;
        default:
            return NULL;
        }
    }
    case TALLY_STREAM_CANDIDATES:
        return f == REC_F_ID           ? &r->u.candidate.id
               : f == REC_F_REQUEST_ID ? &r->u.candidate.request_id
               : f == REC_F_STATUS     ? &r->u.candidate.status
                                       : NULL;
    default:
        return f == REC_F_ID ? &r->u.item.id : f == REC_F_USER_ID ? &r->u.item.user_id : NULL;
    }
}

static int64_t *int_slot(tally_usage *u, rec_field_id f)
{
    switch (f) {
    case REC_F_STATUS_CODE:
        return &u->status_code;
    case REC_F_INPUT_TOKENS:
        return &u->input_tokens;
    case REC_F_OUTPUT_TOKENS:
        return &u->output_tokens;
    case REC_F_CACHE_CREATION_INPUT_TOKENS:
        return &u->cache_creation_input_tokens;
    case REC_F_CACHE_READ_INPUT_TOKENS:
        return &u->cache_read_input_tokens;
    default:
        return NULL;
    }
}

static tally_fixed *fixed_slot(tally_usage *u, rec_field_id f)
{
    switch (f) {
    case REC_F_INPUT_COST_USD:
        return &u->input_cost_usd;
    case REC_F_OUTPUT_COST_USD:
        return &u->output_cost_usd;
    case REC_F_CACHE_CREATION_COST_USD:
        return &u->cache_creation_cost_usd;
    case REC_F_CACHE_READ_COST_USD:
        return &u->cache_read_cost_usd;
    case REC_F_TOTAL_COST_USD:
        return &u->total_cost_usd;
    case REC_F_ACTUAL_TOTAL_COST_USD:
        return &u->actual_total_cost_usd;
    case REC_F_RESPONSE_TIME_MS:
        return &u->response_time_ms;
    default:
        return NULL;
    }
}

/* Where field f's value goes in a record of the stream, and its kind;
 * found once per file by asking the slot functions about a blank record. */
void rec_field_layout(tally_stream stream, rec_field_id f, uint16_t *off, uint8_t *kind)
{
    tally_record r;
    memset(&r, 0, sizeof(r));
    r.stream = stream;
    const char *base = (const char *)&r, *at = NULL;
    switch (fields[f].type) {
    case T_STR:
        *kind = REC_K_STR;
        at = (const char *)str_slot(&r, f);
        break;
    case T_TIME:
        *kind = REC_K_TIME;
        at = stream == TALLY_STREAM_USAGE ? (const char *)&r.u.usage.created_ns
                                          : (const char *)&r.u.candidate.created_ns;
        break;
    case T_INT:
        *kind = f == REC_F_STATUS_CODE ? REC_K_STATUS : REC_K_INT;
        at = (const char *)int_slot(&r.u.usage, f);
        break;
    case T_FIXED:
        *kind = f == REC_F_RESPONSE_TIME_MS ? REC_K_RT : REC_K_FIXED;
        at = (const char *)fixed_slot(&r.u.usage, f);
        break;
    default:
        *kind = REC_K_BOOL;
        at = (const char *)&r.u.item.is_active;
        break;
    }
    *off = (uint16_t)(at - base);
}
