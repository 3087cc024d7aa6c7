/*
 * snapshot.h — what every exporter receives after a cycle: the statistics
 * (every listed day, the summary, today, combined), the live counters of
 * the region(s), and what changed in the two long lists, the users' days
 * and the daily counter totals. Read-only for exporters, valid only during
 * the export call. Instants are UTC seconds since the epoch; dates are
 * business dates (YYYY-MM-DD) in the configured time zone. Where no daily
 * collector runs, the statistics are empty lists and zeros, so the shape
 * never changes.
 *
 * What a snapshot holds costs what it holds, never what the state holds:
 * the days (one row per business day kept, at most keep_days), a few
 * totals, one value per live counter, and of the user-days and daily
 * counter totals only the rows changed since the snapshot before. The
 * rest of those two lists stays in the state; an exporter that lists
 * them pages through them with the host's history callbacks (plugin.h),
 * which read the state exactly as this snapshot's cycle committed it.
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

/* The agent's own figures (issue 14), as of the snapshot's cycle. */
typedef enum tally_metric_kind {
    TALLY_METRIC_COUNTER = 1, /* a total that only grows (resets with the agent) */
    TALLY_METRIC_GAUGE = 2,   /* a level: lag, backlog, capacity */
} tally_metric_kind;

typedef struct tally_metric {
    const char *name; /* [a-z][a-z0-9_]*, counters end in _total: "records_total" */
    const char *help; /* one line, for # HELP */
    tally_metric_kind kind;
    double value;
} tally_metric;

/* One plugin instance's figures: those the agent keeps for every
 * instance of its kind (a source's records_total, rejected_rows_total,
 * errors_total; an exporter's exports_ok_total, exports_failed_total and,
 * if it spools, spool_items, spool_bytes, spool_delivered_total,
 * spool_rejected_total, spool_overflowed_total), then those the plugin
 * reported with the host's metric callback (plugin.h), sorted by name. */
typedef struct tally_instance_stats {
    const char *plugin;   /* its section name: "csv" */
    const char *instance; /* its section title: "usage" */
    int kind;             /* tally_plugin_kind (plugin.h): 1 source, 2 collector, 3 exporter */
    const tally_metric *metrics;
    size_t n_metrics;
} tally_instance_stats;

typedef struct tally_agent_stats {
    const char *version;        /* tallyd's version */
    uint32_t plugin_abi;        /* TALLY_PLUGIN_ABI_VERSION */
    int64_t start_utc;          /* wall clock at start, UNIX seconds */
    int64_t cycles_ok, cycles_failed; /* since start */
    double last_cycle_seconds;  /* wall time of the cycle this snapshot is from */
    int64_t last_success_utc;   /* wall clock when a cycle last committed; 0 never */
    int64_t interval;           /* seconds between cycles */
    const tally_instance_stats *instances; /* in config order */
    size_t n_instances;
} tally_agent_stats;

/* Region counter names to Prometheus names and labels (issue 14), from the
 * config's map sections, in config order; the first rule that matches a
 * counter wins. Every Prometheus output applies the same rules
 * (exporters/format; lib/metricmap matches). */
typedef struct tally_metric_map_rule {
    const char *match;       /* a dotted glob: '*' is one part without '.', e.g. "llm.*.tokens" */
    const char *name;        /* the metric name, e.g. "llm_tokens_total" */
    const char *const *labels; /* "model=$1": $N is the N-th '*' of match */
    size_t n_labels;
    const char *help;          /* the family's # HELP line; NULL: a default naming match */
} tally_metric_map_rule;

typedef struct tally_metric_map {
    const tally_metric_map_rule *rules;
    size_t n_rules;
    int drop_unmatched; /* 1: a counter no rule matches is left out; 0: tally_region_value{name=...} */
} tally_metric_map;

typedef struct tally_snapshot {
    const char *timezone;        /* IANA name */
    int64_t now_utc;             /* the business clock (honours --now) */
    int64_t generated_utc;       /* the wall clock when the snapshot was made */
    const tally_day_stats *days; /* every listed day, sorted by date */
    size_t n_days;
    /* Changed only (see seq below), sorted by date, then user_id. */
    const tally_user_day_stats *user_days;
    size_t n_user_days;
    tally_summary summary;
    tally_totals today;
    tally_totals combined;               /* with summary.inventory, its four inventory counts */
    const tally_counter_value *counters; /* sorted by name, each name once */
    size_t n_counters;
    /* Changed only (see seq below), sorted by date, then name. */
    const tally_counter_day *counter_days;
    size_t n_counter_days;
    int64_t rejected_rows; /* input rows set aside, all sources */
    /* now_utc's fraction of a second, 0..999999999: 0 on the real clock,
     * the instant's own under --now (last, so the fields before it keep
     * their places). */
    int32_t now_nsec;

    /* What changed. Each committed cycle has a sequence number, 1, 2, 3,
     * ... in the state; every user-day and daily counter total carries the
     * seq of the cycle that last changed what a list shows of it (its sums,
     * or its entering the lists when its business day closed). seq is
     * this snapshot's cycle; user_days and counter_days hold exactly the
     * rows with changed_after < their seq <= seq, and changed_after is the
     * cycle before (seq - 1) — or seq itself, with the two arrays empty,
     * when more changed than a snapshot carries (a first cycle over a year
     * of logs, a --recompute: plugin.h, TALLY_STATS_MAX_CHANGED). An exporter that keeps its own
     * mark (the seq it last delivered, with state_id) uses the arrays when its mark is
     * changed_after, and otherwise reads the rows changed after its mark,
     * or all of them, with the history callbacks. */
    int64_t seq, changed_after;
    /* The state database's identity (32 hex digits, random when it was
     * made): a mark is a seq of this state only. A state made anew (a new
     * state_dir) starts counting again with another state_id. */
    char state_id[33];
    /* The oldest business date listed (days, user-days, daily counter
     * totals); older rows have left the state (keep_days), and an output
     * that lists everything drops them too. */
    char oldest_kept[TALLY_DATE_LEN];

    /* ---- appended in ABI 4 (issue 14): the agent on itself, and the
     * names region counters take in Prometheus outputs ---- */
    const struct tally_agent_stats *agent; /* never NULL from tallyd */
    const struct tally_metric_map *map;    /* NULL: no rules, every counter keeps its form */
} tally_snapshot;

#endif
