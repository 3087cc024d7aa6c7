/*
 * daily_sums.c — adding sums without wrapping (daily.h). Token counts are
 * int64 and costs are stored as whole units in an int64 beside 1e-18
 * parts, so a sum past either saturates at the bound and is reported once
 * per run for each day and field, instead of wrapping to a negative total
 * (two rows of 2^63-1 tokens used to sum to -2).
 */
#include "daily.h"

#include <stdio.h>
#include <string.h>

const char *const daily_token_names[DAILY_N_TOKENS] = {
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"};
const char *const daily_cost_names[DAILY_N_COSTS] = {
    "total_cost_usd",  "actual_total_cost_usd",   "input_cost_usd",
    "output_cost_usd", "cache_creation_cost_usd", "cache_read_cost_usd"};

void daily_saturated(daily_collector *d, const char *scope, const char *date, const char *field)
{
    char key[160];
    int n = snprintf(key, sizeof(key), "%s|%s|%s", scope, date, field);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(key) ? (size_t)n : sizeof(key) - 1;
    size_t before = daily_map_count(&d->saturated);
    void *unused;
    /* Out of memory only repeats the message; the sum saturates anyway. */
    if (daily_map_upsert(&d->saturated, key, len, daily_hash(key, len), &unused) == 0 &&
        daily_map_count(&d->saturated) == before)
        return;
    d->api->log(d->host, TALLY_LOG_ERR,
                "the %s sum %s of %s went beyond what 64 bits hold; it stays at its limit "
                "instead of wrapping: check the source for rows with absurd values (the "
                "rejects) and forget or recompute that day",
                scope, field, date);
}


static bool at_bound(int64_t v)
{
    return v == INT64_MAX || v == INT64_MIN;
}

static bool cost_at_bound(tally_fixed v)
{
    int64_t w, a;
    daily_fixed_split(v, &w, &a);
    return at_bound(w);
}

void daily_sums_report(daily_collector *d, const char *scope, const char *date,
                       const daily_sums *s)
{
    if (at_bound(s->total))
        daily_saturated(d, scope, date, "requests");
    if (at_bound(s->error))
        daily_saturated(d, scope, date, "error requests");
    for (int t = 0; t < DAILY_N_TOKENS; t++)
        if (at_bound(s->tokens[t]))
            daily_saturated(d, scope, date, daily_token_names[t]);
    for (int k = 0; k < DAILY_N_COSTS; k++)
        if (cost_at_bound(s->cost[k]))
            daily_saturated(d, scope, date, daily_cost_names[k]);
    if (cost_at_bound(s->rt_sum))
        daily_saturated(d, scope, date, "response_time_ms");
}
