/*
 * record.h — the usage records that sources hand to collectors (DESIGN.md,
 * "Records and the business-day statistics"): one struct per stream, with
 * NULL kept apart from zero. Strings are byte slices into the source's
 * buffer, valid only during the call that receives them: a collector that
 * keeps one copies it. Costs and response times are exact decimals in
 * fixed point, so sums do not depend on the order rows arrive in.
 */
#ifndef TALLY_RECORD_H
#define TALLY_RECORD_H

#include <stdbool.h>
#include <stdint.h>

typedef enum tally_stream {
    TALLY_STREAM_USAGE = 1,
    TALLY_STREAM_CANDIDATES = 2,
    TALLY_STREAM_USERS = 3,
    TALLY_STREAM_API_KEYS = 4,
} tally_stream;

/* A string field; ptr == NULL is NULL (an empty CSV field and "" too). */
typedef struct tally_str {
    const char *ptr;
    uint32_t len;
} tally_str;

/* A decimal number in units of 1e-18 (TALLY_FIXED_ONE), signed: 18
 * fractional digits exactly, and about ±1.7e20 whole units. */
typedef __int128 tally_fixed;
#define TALLY_FIXED_DIGITS 18
#define TALLY_FIXED_ONE ((tally_fixed)1000000000000000000LL)

/* Instants: UTC nanoseconds since the epoch (1678..2262). */
typedef struct tally_usage {
    int64_t created_ns;
    tally_str id, request_id, user_id, api_key_id, provider, model, error_message;
    bool has_status_code, has_response_time;
    int64_t status_code;
    /* Token counts; NULL is 0. */
    int64_t input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens;
    /* Costs in USD; NULL is 0. */
    tally_fixed input_cost_usd, output_cost_usd, cache_creation_cost_usd, cache_read_cost_usd,
        total_cost_usd, actual_total_cost_usd;
    tally_fixed response_time_ms; /* when has_response_time */
} tally_usage;

typedef struct tally_candidate {
    int64_t created_ns;
    tally_str id, request_id, status;
} tally_candidate;

/* users (user_id unused) and api_keys. */
typedef struct tally_inventory_item {
    tally_str id, user_id;
    bool is_active;
} tally_inventory_item;

typedef struct tally_record {
    tally_stream stream;
    union {
        tally_usage usage;
        tally_candidate candidate;
        tally_inventory_item item; /* users, api_keys */
    } u;
} tally_record;

#endif
