/*
 * daily.c — the daily collector plugin: its descriptor and the callbacks
 * that tie the pending aggregates (daily_agg.c) to the tables
 * (daily_store.c) and the statistics (daily_stats.c).
 */
#include "daily.h"

#include <stdlib.h>
#include <string.h>

static int daily_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    daily_collector *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return TALLY_HOST_ERR;
    d->host = h;
    d->api = api;
    d->keep_days = (int)cfg_getint(section, "keep_days");
    d->db = api->state_db(h);
    daily_map_init(&d->user_days, sizeof(daily_user_sums));
    daily_map_init(&d->values, 0);
    daily_map_init(&d->candidates, sizeof(int64_t));
    daily_map_init(&d->saturated, 0);
    if (d->db == NULL) {
        api->log(h, TALLY_LOG_ERR,
                 "the agent gave no state database; the daily collector needs "
                 "tallyd's state_dir");
        free(d);
        return TALLY_HOST_ERR;
    }
    if (daily_store_open(d) != 0) {
        daily_store_close(d);
        free(d);
        return TALLY_HOST_ERR;
    }
    *ctx = d;
    return TALLY_HOST_OK;
}

static void daily_stop(void *ctx)
{
    daily_collector *d = ctx;
    daily_store_close(d);
    daily_pending_free(d);
    free(d);
}

/* Write what is pending into the cycle's transaction, then forget it.
 * Inventories still open stay pending (daily_store_flush keeps them). */
static int flush_pending(daily_collector *d)
{
    if (daily_store_flush(d) != 0)
        return -1;
    daily_pending_clear_records(d);
    return 0;
}

static int daily_consume(void *ctx, const char *source, const tally_record *recs, size_t n)
{
    daily_collector *d = ctx;
    if (daily_agg_fold(d, source, recs, n) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    /* Bound memory: write what is pending into the open transaction. */
    if (daily_pending_large(d) && flush_pending(d) != 0)
        return TALLY_HOST_ERR;
    return TALLY_HOST_OK;
}

static int daily_flush(void *ctx)
{
    return flush_pending(ctx) == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static void daily_discard(void *ctx)
{
    daily_pending_clear(ctx);
}

/* One batch of the rows older than keep_days while today is `today`. What
 * is left is recomputed next cycle (rows older than the oldest kept date,
 * found on the tables' date keys), so nothing about the backlog needs to
 * be remembered, and a rolled-back cycle leaves it whole. */
static int prune_batch(daily_collector *d, const char *today)
{
    char before[TALLY_DATE_LEN];
    bool more;
    if (daily_oldest_kept(d, today, before) != 0 || daily_store_prune(d, before, &more) != 0)
        return TALLY_HOST_ERR;
    if (more)
        d->api->log(d->host, TALLY_LOG_INFO,
                    "pruned a batch of %d rows per table of the days before %s (keep_days = "
                    "%d); more remain, the next cycles go on",
                    DAILY_PRUNE_BATCH, before, d->keep_days);
    return TALLY_HOST_OK;
}

/* Once a day ends, its users' rows enter the lists (stamped with the
 * cycle's seq, so exporters see them as changed), and the days that fall
 * out of keep_days drop their
 * per-user and per-value rows: one batch in a cycle, however many days
 * ended (the agent was down), the rest in the next cycles. */
static int daily_rollover(void *ctx, const tally_day *ended)
{
    daily_collector *d = ctx;
    int64_t n;
    char today[TALLY_DATE_LEN];
    if (daily_store_stamp_day(d, ended->date) != 0)
        return TALLY_HOST_ERR;
    if (d->pruned_at_rollover)
        return TALLY_HOST_OK;
    if (daily_date_number(ended->date, &n) != 0)
        return TALLY_HOST_ERR;
    daily_date_string(n + 1, today);
    d->pruned_at_rollover = true;
    return prune_batch(d, today);
}

/* Every cycle goes on with the backlog, unless a rollover of this cycle
 * did already (a --recompute rolls days over without a cycle_begin: the
 * next cycle then skips one batch, which only delays the backlog). */
static int daily_cycle_begin(void *ctx, const tally_day *today)
{
    daily_collector *d = ctx;
    if (d->pruned_at_rollover) {
        d->pruned_at_rollover = false;
        return TALLY_HOST_OK;
    }
    return prune_batch(d, today->date);
}

static int daily_recompute_begin(void *ctx, int64_t from_utc, int64_t to_utc)
{
    daily_collector *d = ctx;
    tally_day first, last;
    if (to_utc <= from_utc || d->api->day_of(d->host, from_utc, &first) != TALLY_HOST_OK ||
        d->api->day_of(d->host, to_utc - 1, &last) != TALLY_HOST_OK)
        return TALLY_HOST_EINVAL;
    daily_pending_clear(d);
    d->api->log(d->host, TALLY_LOG_INFO, "recomputing the business days %s to %s", first.date,
                last.date);
    return daily_store_forget(d, first.date, last.date) == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "daily",
    .kind = TALLY_PLUGIN_COLLECTOR,
    .summary = "business-day statistics of usage records: days, users' days, summary, today",
    .options = daily_options,
    .init = daily_init,
    .rollover = daily_rollover,
    .stop = daily_stop,
    .cycle_begin = daily_cycle_begin,
    .collector = {
        .consume = daily_consume,
        .inventory = daily_inventory_phase,
        .flush = daily_flush,
        .discard = daily_discard,
        .recompute_begin = daily_recompute_begin,
        .stats = daily_stats,
        .free_stats = daily_free_stats,
        .history_open = daily_history_open,
        .history_next = daily_history_next,
        .history_close = daily_history_close,
    });
/* clang-format on */
