/*
 * cycle.c — see cycle.h.
 */
#include "cycle.h"

#include "civil/civil.h"
#include "clock.h"
#include "cycle_report.h"
#include "exportq.h"
#include "host.h"
#include "log.h"
#include "notify.h"
#include "selfstats.h"
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LAST_DAY_KEY "last_day"

/* Tests kill the agent at a chosen point with TALLYD_FAULT=<point>, to
 * prove a crash there loses and doubles nothing. */
static void fault_point(const char *point)
{
    const char *f = getenv("TALLYD_FAULT");
    if (f != NULL && strcmp(f, point) == 0)
        _exit(99);
}

/* A plugin's step failed: for --once's status, the cycle's result, and
 * a source's errors_total. */
static void step_failed(agent *a, struct tally_host *h)
{
    a->failures++;
    a->cycle_step_failures++;
    h->cycle.failed = 1;
    if (h->self != NULL && h->plugin->desc.kind == TALLY_PLUGIN_SOURCE)
        selfstats_source_add(h->self, 0, 0, 1);
}

static int wants(const struct tally_host *h, int rollover)
{
    const tally_plugin *d = &h->plugin->desc;
    if (rollover)
        return d->rollover != NULL && d->kind != TALLY_PLUGIN_EXPORTER;
    return d->source.collect != NULL && d->kind == TALLY_PLUGIN_SOURCE;
}

/* Each ended day, oldest first, to every source and collector. */
static int roll_days(agent *a, const tally_day *today)
{
    char *last = NULL;
    int rc = state_kv_get(a->state, STATE_AGENT, LAST_DAY_KEY, &last);
    if (rc < 0)
        return -1;
    tally_day d;
    if (rc == 0 && strcmp(last, today->date) < 0 && clock_day_by_date(last, &d) == 0) {
        while (strcmp(d.date, today->date) < 0) {
            log_msg(TALLY_LOG_INFO, "business day %s ended", d.date);
            for (size_t i = 0; i < a->n_hosts; i++) {
                struct tally_host *h = &a->hosts[i];
                if (wants(h, 1) && h->plugin->desc.rollover(h->ctx, &d) != TALLY_HOST_OK) {
                    log_msg(TALLY_LOG_ERR, "%s: rollover of %s failed (see above)", h->who, d.date);
                    step_failed(a, h);
                }
            }
            /* The day's totals are listed from now on: changed by this
             * cycle, for exporters that write only what changed. */
            if (state_counter_days_close(a->state, d.date, a->cycle_seq) != 0) {
                free(last);
                return -1;
            }
            if (clock_day_of(d.end_utc, &d) != 0)
                break;
        }
    }
    free(last);
    return state_kv_put(a->state, STATE_AGENT, LAST_DAY_KEY, today->date);
}

/* The cycle's transaction and its seq, which commits with it. */
static int cycle_begin_txn(agent *a)
{
    if (state_begin(a->state) != 0)
        return -1;
    if (state_seq_next(a->state, &a->cycle_seq) != 0) {
        state_rollback(a->state);
        a->cycle_seq = 0;
        return -1;
    }
    return 0;
}

/* A cycle's end, committed or not: its seq is no longer under way. */
static void cycle_rollback(agent *a)
{
    state_rollback(a->state);
    a->cycle_seq = 0;
}

/* Each source's and collector's cycle_begin, in a savepoint of its own:
 * one that fails takes back only its own writes, and the cycle goes on. */
static void begin_all(agent *a, const tally_day *today)
{
    for (size_t i = 0; i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        const tally_plugin *d = &h->plugin->desc;
        if (d->cycle_begin == NULL || d->kind == TALLY_PLUGIN_EXPORTER)
            continue;
        if (state_savepoint(a->state) != 0)
            return;
        if (d->cycle_begin(h->ctx, today) != TALLY_HOST_OK) {
            log_msg(TALLY_LOG_ERR, "%s: cycle_begin failed (see above); the next cycle tries again",
                    h->who);
            step_failed(a, h);
            state_rollback_savepoint(a->state);
        } else {
            state_release_savepoint(a->state);
        }
    }
}

/* The collector writes what a source handed over into the source's
 * savepoint, or forgets it with the savepoint. */
static int collector_flush(agent *a)
{
    struct tally_host *c = a->collector;
    if (c == NULL || c->plugin->desc.collector.flush == NULL)
        return 0;
    return c->plugin->desc.collector.flush(c->ctx) == TALLY_HOST_OK ? 0 : -1;
}

static void collector_discard(agent *a)
{
    struct tally_host *c = a->collector;
    if (c != NULL && c->plugin->desc.collector.discard != NULL)
        c->plugin->desc.collector.discard(c->ctx);
}

static void collect_all(agent *a)
{
    for (size_t i = 0; i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        if (!wants(h, 0))
            continue;
        size_t counters_before = a->n_counters;
        /* A savepoint per source: one that fails takes back only its own
         * writes (and the collector's for it), and the others still
         * commit. */
        if (state_savepoint(a->state) != 0)
            return;
        if (h->plugin->desc.source.collect(h->ctx) != TALLY_HOST_OK || collector_flush(a) != 0) {
            log_msg(TALLY_LOG_ERR,
                    "%s: collect failed (see above); its data waits for the next cycle", h->who);
            step_failed(a, h);
            /* What it handed over is taken back with its savepoint. */
            h->cycle.records = h->cycle.rejected = 0;
            collector_discard(a);
            state_rollback_savepoint(a->state);
            while (a->n_counters > counters_before)
                free((char *)a->counters[--a->n_counters].name);
        } else {
            state_release_savepoint(a->state);
        }
        /* A cycle with many sources to read still proves it moves. */
        notify_watchdog();
    }
}

/* All or nothing: a source that fails would leave its part of the
 * forgotten days empty. */
static int recompute_all(agent *a, int64_t from, int64_t to)
{
    struct tally_host *c = a->collector;
    if (c->plugin->desc.collector.recompute_begin(c->ctx, from, to) != TALLY_HOST_OK)
        return -1;
    a->recomputing = 1;
    a->recompute_from = from;
    a->recompute_to = to;
    int rc = 0;
    for (size_t i = 0; i < a->n_hosts && rc == 0; i++) {
        struct tally_host *h = &a->hosts[i];
        if (h->plugin->desc.kind != TALLY_PLUGIN_SOURCE || h->plugin->desc.source.recompute == NULL)
            continue;
        if (h->plugin->desc.source.recompute(h->ctx, from, to) != TALLY_HOST_OK ||
            collector_flush(a) != 0) {
            log_msg(TALLY_LOG_ERR, "%s: recompute failed (see above); nothing was changed", h->who);
            rc = -1;
        }
    }
    a->recomputing = 0;
    if (rc != 0)
        collector_discard(a);
    return rc;
}

int cycle_recompute(agent *a, int64_t from, int64_t to)
{
    if (a->collector == NULL || a->collector->plugin->desc.collector.recompute_begin == NULL) {
        log_msg(TALLY_LOG_ERR, "--recompute: no collector is configured; add a daily section");
        return -1;
    }
    tally_day today;
    if (clock_day_of(clock_now(), &today) != 0 || cycle_begin_txn(a) != 0)
        return -1;
    if (roll_days(a, &today) != 0 || recompute_all(a, from, to) != 0) {
        cycle_rollback(a);
        return -1;
    }
    fault_point("recompute-before-commit");
    if (state_commit(a->state) != 0) {
        log_msg(TALLY_LOG_ERR, "--recompute: could not commit; nothing was changed");
        cycle_rollback(a);
        return -1;
    }
    a->cycle_seq = 0;
    return 0;
}

static int cycle_steps(agent *a, int64_t *seq, double started);

/* The cycle's end in the agent's figures: what the sources handed over
 * counts once it is committed. ok: it committed and no step failed. */
static void cycle_account(agent *a, int committed, double started)
{
    if (a->self == NULL)
        return;
    for (size_t i = 0; committed && i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        if (h->self != NULL && h->plugin->desc.kind == TALLY_PLUGIN_SOURCE)
            selfstats_source_add(h->self, h->cycle.records, h->cycle.rejected, 0);
    }
    selfstats_cycle(a->self, committed && a->cycle_step_failures == 0,
                    civil_mono_seconds() - started, (int64_t)time(NULL));
}

int cycle_run(agent *a)
{
    int64_t started_ns = civil_mono_ns(), at = clock_now(), seq = 0;
    double started = civil_mono_seconds();
    atomic_store(&a->loop_interval, a->conf != NULL ? (int64_t)a->conf->interval : 0);
    atomic_store(&a->loop_began_utc, (int64_t)time(NULL));
    a->cycle_step_failures = 0;
    cycle_report_begin(a);
    int rc = cycle_steps(a, &seq, started);
    if (rc != 0) {
        a->failures++;
        cycle_account(a, 0, started);
    }
    cycle_report_end(a, rc, seq, at, (double)(civil_mono_ns() - started_ns) / 1e9);
    return rc;
}

/* The cycle: roll the days, begin, collect, commit, snapshot, hand to export. */
static int cycle_steps(agent *a, int64_t *committed_seq, double started)
{
    int32_t now_nsec;
    int64_t now = clock_now_frac(&now_nsec);
    tally_day today;
    if (clock_day_of(now, &today) != 0) {
        log_msg(TALLY_LOG_ERR, "cycle: the clock is out of range; check --now");
        return -1;
    }
    host_cycle_reset(a);
    if (cycle_begin_txn(a) != 0)
        return -1;
    if (roll_days(a, &today) != 0) {
        cycle_rollback(a);
        return -1;
    }
    begin_all(a, &today);
    collect_all(a);
    fault_point("before-commit");
    if (state_commit(a->state) != 0) {
        log_msg(TALLY_LOG_ERR, "cycle: could not commit; nothing of this cycle was kept, the "
                               "next one collects it again");
        cycle_rollback(a);
        host_cycle_reset(a);
        return -1;
    }
    int64_t seq = a->cycle_seq;
    a->cycle_seq = 0;
    *committed_seq = seq;
    fault_point("after-commit");
    /* Before the snapshot, which shows this cycle among the agent's
     * figures. */
    cycle_account(a, 1, started);
    snap_ref *s = snap_build(a, seq, now, now_nsec);
    if (s == NULL) {
        log_msg(TALLY_LOG_ERR, "cycle: could not build the snapshot; exporters keep the last one");
        return 0;
    }
    if (a->exports != NULL)
        exportq_publish(a->exports, s);
    snap_ref_put(s);
    return 0;
}
