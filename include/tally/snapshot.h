/*
 * snapshot.h — what every exporter receives after a cycle: the statistics
 * of DESIGN.md ("The JSON summary"), the live counters of the region(s) and
 * the daily counter totals. Read-only for exporters, valid only during the
 * export call. Instants are UTC seconds since the epoch; dates are business
 * dates (YYYY-MM-DD) in the configured time zone. Where no daily collector
 * runs, the statistics are empty lists and zeros, so the shape never changes.
 */
#ifndef TALLY_SNAPSHOT_H
#define TALLY_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_DATE_LEN 11 /* "YYYY-MM-DD" and its NUL */

typedef struct tally_day_stats {
    char date[TALLY_DATE_LEN];
    int64_t day_start_utc;
    int64_t total_requests, success_requests, error_requests;
    int64_t input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens;
    double total_cost, actual_total_cost, input_cost, output_cost, cache_creation_cost,
        cache_read_cost;
    double avg_response_time_ms;
    int64_t fallback_count, unique_models, unique_providers;
} tally_day_stats;

typedef struct tally_user_day_stats {
    char date[TALLY_DATE_LEN];
    int64_t day_start_utc;
    const char *user_id;
    int64_t total_requests, success_requests, error_requests;
    int64_t input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens;
    double total_cost;
} tally_user_day_stats;

typedef struct tally_inventory {
    int64_t total_users, active_users, total_api_keys, active_api_keys;
} tally_inventory;

typedef struct tally_summary {
    int64_t cutoff_utc; /* start of today, the first instant not summed */
    int64_t all_time_requests, all_time_success_requests, all_time_error_requests;
    int64_t all_time_input_tokens, all_time_output_tokens, all_time_cache_creation_tokens,
        all_time_cache_read_tokens;
    double all_time_cost, all_time_actual_cost;
    tally_inventory inventory;
} tally_summary;

/* Today so far; also the shape of "combined" (summary + today). */
typedef struct tally_totals {
    int64_t total_requests, success_requests, error_requests;
    int64_t input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens;
    double total_cost, actual_total_cost;
} tally_totals;

typedef struct tally_counter_value {
    const char *name;
    int64_t value;
} tally_counter_value;

typedef struct tally_counter_day {
    char date[TALLY_DATE_LEN];
    const char *name;
    int64_t value;
} tally_counter_day;

typedef struct tally_snapshot {
    const char *timezone;        /* IANA name */
    int64_t now_utc;             /* the business clock (honours --now) */
    int64_t generated_utc;       /* the wall clock when the snapshot was made */
    const tally_day_stats *days; /* sorted by date */
    size_t n_days;
    const tally_user_day_stats *user_days; /* sorted by date, then user_id */
    size_t n_user_days;
    tally_summary summary;
    tally_totals today;
    tally_totals combined;               /* with summary.inventory, its four inventory counts */
    const tally_counter_value *counters; /* sorted by name, each name once */
    size_t n_counters;
    const tally_counter_day *counter_days; /* sorted by date, then name */
    size_t n_counter_days;
    int64_t rejected_rows; /* input rows set aside, all sources */
    /* now_utc's fraction of a second, 0..999999999: 0 on the real clock,
     * the instant's own under --now (last, so the fields before it keep
     * their places). */
    int32_t now_nsec;
} tally_snapshot;

#endif
