/*
 * fields.c — the columns of every table of a snapshot, named and ordered as
 * DESIGN.md's JSON summary names and orders them.
 *
 * The JSON renderer takes its keys and the CSV renderer its header rows
 * from these tables, so a column added or renamed here shows up the same
 * way in both. Each column says where its value lives (offsetof) and what
 * kind it is; the one-row tables (summary, today, combined) are read from
 * the tally_snapshot itself, which lets "combined" take its four inventory
 * columns from summary.inventory as the snapshot contract says.
 */
#include "format_priv.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* One line per initialiser; clang-format would break them apart. */
/* clang-format off */
#define F(type, kind, member) {#member, kind, offsetof(type, member)}
#define FN(name, type, kind, member) {name, kind, offsetof(type, member)}
/* clang-format on */

static const tf_field day_fields[] = {
    F(tally_day_stats, TF_DATE, date),
    F(tally_day_stats, TF_INSTANT, day_start_utc),
    F(tally_day_stats, TF_INT, total_requests),
    F(tally_day_stats, TF_INT, success_requests),
    F(tally_day_stats, TF_INT, error_requests),
    F(tally_day_stats, TF_INT, input_tokens),
    F(tally_day_stats, TF_INT, output_tokens),
    F(tally_day_stats, TF_INT, cache_creation_tokens),
    F(tally_day_stats, TF_INT, cache_read_tokens),
    F(tally_day_stats, TF_REAL, total_cost),
    F(tally_day_stats, TF_REAL, actual_total_cost),
    F(tally_day_stats, TF_REAL, input_cost),
    F(tally_day_stats, TF_REAL, output_cost),
    F(tally_day_stats, TF_REAL, cache_creation_cost),
    F(tally_day_stats, TF_REAL, cache_read_cost),
    F(tally_day_stats, TF_REAL, avg_response_time_ms),
    F(tally_day_stats, TF_INT, fallback_count),
    F(tally_day_stats, TF_INT, unique_models),
    F(tally_day_stats, TF_INT, unique_providers),
};

static const tf_field user_day_fields[] = {
    F(tally_user_day_stats, TF_DATE, date),
    F(tally_user_day_stats, TF_INSTANT, day_start_utc),
    F(tally_user_day_stats, TF_STR, user_id),
    F(tally_user_day_stats, TF_INT, total_requests),
    F(tally_user_day_stats, TF_INT, success_requests),
    F(tally_user_day_stats, TF_INT, error_requests),
    F(tally_user_day_stats, TF_INT, input_tokens),
    F(tally_user_day_stats, TF_INT, output_tokens),
    F(tally_user_day_stats, TF_INT, cache_creation_tokens),
    F(tally_user_day_stats, TF_INT, cache_read_tokens),
    F(tally_user_day_stats, TF_REAL, total_cost),
};

/* The inventory columns, shared by summary and combined. */
#define INVENTORY_FIELDS                                                                           \
    FN("total_users", tally_snapshot, TF_INT, summary.inventory.total_users),                      \
        FN("active_users", tally_snapshot, TF_INT, summary.inventory.active_users),                \
        FN("total_api_keys", tally_snapshot, TF_INT, summary.inventory.total_api_keys),            \
        FN("active_api_keys", tally_snapshot, TF_INT, summary.inventory.active_api_keys)

static const tf_field summary_fields[] = {
    FN("cutoff_date", tally_snapshot, TF_INSTANT, summary.cutoff_utc),
    FN("all_time_requests", tally_snapshot, TF_INT, summary.all_time_requests),
    FN("all_time_success_requests", tally_snapshot, TF_INT, summary.all_time_success_requests),
    FN("all_time_error_requests", tally_snapshot, TF_INT, summary.all_time_error_requests),
    FN("all_time_input_tokens", tally_snapshot, TF_INT, summary.all_time_input_tokens),
    FN("all_time_output_tokens", tally_snapshot, TF_INT, summary.all_time_output_tokens),
    FN("all_time_cache_creation_tokens", tally_snapshot, TF_INT,
       summary.all_time_cache_creation_tokens),
    FN("all_time_cache_read_tokens", tally_snapshot, TF_INT, summary.all_time_cache_read_tokens),
    FN("all_time_cost", tally_snapshot, TF_REAL, summary.all_time_cost),
    FN("all_time_actual_cost", tally_snapshot, TF_REAL, summary.all_time_actual_cost),
    INVENTORY_FIELDS,
};

/* The keys of "today", read from member `t` (today or combined). */
#define TOTALS_FIELDS(t)                                                                           \
    FN("total_requests", tally_snapshot, TF_INT, t.total_requests),                                \
        FN("success_requests", tally_snapshot, TF_INT, t.success_requests),                        \
        FN("error_requests", tally_snapshot, TF_INT, t.error_requests),                            \
        FN("input_tokens", tally_snapshot, TF_INT, t.input_tokens),                                \
        FN("output_tokens", tally_snapshot, TF_INT, t.output_tokens),                              \
        FN("cache_creation_tokens", tally_snapshot, TF_INT, t.cache_creation_tokens),              \
        FN("cache_read_tokens", tally_snapshot, TF_INT, t.cache_read_tokens),                      \
        FN("total_cost", tally_snapshot, TF_REAL, t.total_cost),                                   \
        FN("actual_total_cost", tally_snapshot, TF_REAL, t.actual_total_cost)

static const tf_field today_fields[] = {TOTALS_FIELDS(today)};

static const tf_field combined_fields[] = {TOTALS_FIELDS(combined), INVENTORY_FIELDS};

static const tf_field counter_fields[] = {
    F(tally_counter_value, TF_STR, name),
    F(tally_counter_value, TF_INT, value),
};

static const tf_field counter_day_fields[] = {
    F(tally_counter_day, TF_DATE, date),
    F(tally_counter_day, TF_STR, name),
    F(tally_counter_day, TF_INT, value),
};

const tf_table tf_tables[TF_N_TABLES] = {
    [TF_DAYS] = {"days", day_fields, COUNT(day_fields)},
    [TF_USER_DAYS] = {"user_days", user_day_fields, COUNT(user_day_fields)},
    [TF_SUMMARY] = {"summary", summary_fields, COUNT(summary_fields)},
    [TF_TODAY] = {"today", today_fields, COUNT(today_fields)},
    [TF_COMBINED] = {"combined", combined_fields, COUNT(combined_fields)},
    [TF_COUNTERS] = {"counters", counter_fields, COUNT(counter_fields)},
    [TF_COUNTER_DAYS] = {"counter_days", counter_day_fields, COUNT(counter_day_fields)},
};

int64_t tf_field_int(const void *row, const tf_field *f)
{
    return *(const int64_t *)((const char *)row + f->offset);
}

double tf_field_real(const void *row, const tf_field *f)
{
    return *(const double *)((const char *)row + f->offset);
}

size_t tf_date_len(const char date[TALLY_DATE_LEN])
{
    /* A producer that fills all eleven bytes must not make us read past. */
    return strnlen(date, TALLY_DATE_LEN);
}

const char *tf_field_text(const void *row, const tf_field *f, size_t *len)
{
    const char *at = (const char *)row + f->offset;
    if (f->kind == TF_DATE) {
        *len = tf_date_len(at);
        return at;
    }
    const char *s = *(const char *const *)at;
    if (s == NULL)
        s = "";
    *len = strlen(s);
    return s;
}
