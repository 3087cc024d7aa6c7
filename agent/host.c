/*
 * host.c — see host.h. The API functions run on the main thread during a
 * cycle (state, emit, cycle_seq) or on any thread (log, clock, secrets,
 * spool, marks, history, metric).
 */
#include "host.h"

#include "clock.h"
#include "history.h"
#include "log.h"
#include "options.h"
#include "selfstats.h"
#include "snapshot.h"
#include "spool.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void h_log(tally_host *h, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (h->plugin != NULL)
        log_vmsg(level, h->plugin->desc.name, h->section != NULL ? cfg_title(h->section) : NULL,
                 fmt, ap);
    else /* a bare host (a unit test's): its name is all there is */
        log_vmsg(level, h->who, NULL, fmt, ap);
    va_end(ap);
}

/* The message names the plugin and instance itself, so it goes out
 * without the usual "plugin \"title\": " prefix: the title once. */
static void h_config_error(tally_host *h, cfg_t *section, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = options_error_text(section, fmt, ap);
    va_end(ap);
    if (text == NULL) {
        log_msg(TALLY_LOG_ERR, "%s: an option is invalid (out of memory describing it)", h->who);
        return;
    }
    log_msg(TALLY_LOG_ERR, "%s", text);
    free(text);
}

static int64_t h_now(tally_host *h)
{
    return clock_now();
}

static const char *h_timezone(tally_host *h)
{
    return clock_zone();
}

static int h_day_of(tally_host *h, int64_t utc, tally_day *out)
{
    return clock_day_of(utc, out) == 0 ? TALLY_HOST_OK : TALLY_HOST_EINVAL;
}

static int h_local_time(tally_host *h, int64_t utc, struct tm *out)
{
    return clock_local_time(utc, out) == 0 ? TALLY_HOST_OK : TALLY_HOST_EINVAL;
}

static int h_state_get(tally_host *h, const char *key, char **value)
{
    if (h->agent == NULL || key == NULL || value == NULL)
        return TALLY_HOST_EINVAL;
    int rc = state_kv_get(h->agent->state, h->instance, key, value);
    return rc == 0 ? TALLY_HOST_OK : rc == 1 ? TALLY_HOST_ENOENT : TALLY_HOST_ERR;
}

static int h_state_put(tally_host *h, const char *key, const char *value)
{
    if (h->agent == NULL || key == NULL || value == NULL)
        return TALLY_HOST_EINVAL;
    return state_kv_put(h->agent->state, h->instance, key, value) == 0 ? TALLY_HOST_OK
                                                                       : TALLY_HOST_ERR;
}

static int h_emit_counter(tally_host *h, const char *name, int64_t value)
{
    agent *a = h->agent;
    if (a == NULL || name == NULL)
        return TALLY_HOST_EINVAL;
    if (a->n_counters == a->cap_counters) {
        size_t cap = a->cap_counters ? a->cap_counters * 2 : 64;
        tally_counter_value *grown = realloc(a->counters, cap * sizeof(*grown));
        if (grown == NULL)
            return TALLY_HOST_ERR;
        a->counters = grown;
        a->cap_counters = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return TALLY_HOST_ERR;
    a->counters[a->n_counters++] = (tally_counter_value){copy, value};
    h->cycle.counters++;
    return TALLY_HOST_OK;
}

static int h_emit_counter_day(tally_host *h, const char *date, const char *name, int64_t value)
{
    tally_day d;
    /* Only inside a cycle, whose seq the row carries. */
    if (h->agent == NULL || h->agent->cycle_seq <= 0 || name == NULL || date == NULL ||
        clock_day_by_date(date, &d) != 0)
        return TALLY_HOST_EINVAL;
    return state_counter_day_add(h->agent->state, date, name, value, h->agent->cycle_seq) == 0
               ? TALLY_HOST_OK
               : TALLY_HOST_ERR;
}

static int64_t h_cycle_seq(tally_host *h)
{
    return h != NULL && h->agent != NULL ? h->agent->cycle_seq : 0;
}

static int read_file_secret(tally_host *h, const char *file, char **out)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        h_log(h, TALLY_LOG_ERR, "cannot read secret file %s: %s", file, strerror(errno));
        return TALLY_HOST_ERR;
    }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int truncated = !feof(f);
    fclose(f);
    if (truncated) {
        h_log(h, TALLY_LOG_ERR, "secret file %s is larger than %zu bytes", file, sizeof(buf) - 1);
        return TALLY_HOST_ERR;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    *out = strdup(buf);
    /* The secret is not left in a stack buffer for a core dump. */
    explicit_bzero(buf, sizeof(buf));
    return *out ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int h_read_secret(tally_host *h, const char *file, const char *env, char **out)
{
    if (out == NULL)
        return TALLY_HOST_EINVAL;
    *out = NULL;
    if (file != NULL && file[0] != '\0')
        return read_file_secret(h, file, out);
    if (env != NULL && env[0] != '\0') {
        const char *v = getenv(env);
        if (v == NULL) {
            h_log(h, TALLY_LOG_ERR, "environment variable %s is not set", env);
            return TALLY_HOST_ERR;
        }
        *out = strdup(v);
        return *out ? TALLY_HOST_OK : TALLY_HOST_ERR;
    }
    return TALLY_HOST_EINVAL;
}

static const char *h_state_dir(tally_host *h)
{
    return h->agent ? h->agent->conf->state_dir : NULL;
}

static int h_local_to_utc(tally_host *h, int64_t local, int64_t *utc)
{
    return clock_local_to_utc(local, utc) == 0 ? TALLY_HOST_OK : TALLY_HOST_EINVAL;
}

static int64_t record_created_ns(const tally_record *r)
{
    if (r->stream == TALLY_STREAM_USAGE)
        return r->u.usage.created_ns;
    if (r->stream == TALLY_STREAM_CANDIDATES)
        return r->u.candidate.created_ns;
    return INT64_MIN; /* inventories have no instant: never recomputed */
}

static int in_range(const agent *a, const tally_record *r)
{
    int64_t ns = record_created_ns(r);
    if (ns == INT64_MIN)
        return 0;
    int64_t sec = ns / 1000000000 - (ns % 1000000000 < 0);
    return sec >= a->recompute_from && sec < a->recompute_to;
}

/* While recomputing, each run of records inside the range goes on, the
 * rest is dropped: those days were not forgotten. */
static int consume_in_range(agent *a, struct tally_host *c, const char *source,
                            const tally_record *recs, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !in_range(a, &recs[i]))
            i++;
        size_t run = i;
        while (i < n && in_range(a, &recs[i]))
            i++;
        if (i > run &&
            c->plugin->desc.collector.consume(c->ctx, source, recs + run, i - run) != TALLY_HOST_OK)
            return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static int h_emit_records(tally_host *h, const tally_record *recs, size_t n)
{
    agent *a = h->agent;
    if (a == NULL || (recs == NULL && n > 0))
        return TALLY_HOST_EINVAL;
    struct tally_host *c = a->collector;
    if (a->recomputing)
        return c == NULL ? TALLY_HOST_OK : consume_in_range(a, c, h->instance, recs, n);
    /* Handed over, whether a collector takes them or not. */
    h->cycle.records += (int64_t)n;
    if (c == NULL || n == 0)
        return TALLY_HOST_OK; /* no collector configured: records have nowhere to go */
    return c->plugin->desc.collector.consume(c->ctx, h->instance, recs, n);
}

static int inventory_phase(tally_host *h, tally_stream stream, int phase)
{
    agent *a = h->agent;
    if (a == NULL || (stream != TALLY_STREAM_USERS && stream != TALLY_STREAM_API_KEYS))
        return TALLY_HOST_EINVAL;
    struct tally_host *c = a->collector;
    if (c == NULL || a->recomputing)
        return TALLY_HOST_OK;
    return c->plugin->desc.collector.inventory(c->ctx, h->instance, stream, phase);
}

static int h_inventory_begin(tally_host *h, tally_stream stream)
{
    return inventory_phase(h, stream, TALLY_INVENTORY_BEGIN);
}

static int h_inventory_end(tally_host *h, tally_stream stream)
{
    return inventory_phase(h, stream, TALLY_INVENTORY_END);
}

static int h_count_rejected(tally_host *h, int64_t n)
{
    agent *a = h->agent;
    if (a == NULL || n < 0)
        return TALLY_HOST_EINVAL;
    if (n == 0 || a->recomputing)
        return TALLY_HOST_OK;
    h->cycle.rejected += n;
    return state_rejected_add(a->state, n) == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static void *h_state_db(tally_host *h)
{
    return h->agent && h->agent->state ? state_db(h->agent->state) : NULL;
}

static int h_metric(tally_host *h, const char *name, tally_metric_kind kind, double value,
                    const char *help)
{
    if (h == NULL || h->self == NULL)
        return TALLY_HOST_EINVAL; /* only checking a config: nothing to report to */
    const char *why = NULL;
    if (selfstats_metric(h->self, name, kind, value, help, &why) == 0)
        return TALLY_HOST_OK;
    log_msg(TALLY_LOG_WARNING, "%s: the metric \"%s\" %s; it is left out (fix the plugin)", h->who,
            name != NULL ? name : "(null)", why);
    return TALLY_HOST_EINVAL;
}

static int h_snapshot_hold(tally_host *h, const tally_snapshot *snap)
{
    if (h == NULL || snap == NULL)
        return TALLY_HOST_EINVAL;
    if (snap_hold(snap) != 0) {
        log_msg(TALLY_LOG_ERR,
                "%s: snapshot_hold: the snapshot of cycle %lld of state %.32s is not one tallyd "
                "handed over, or it is gone (hold it during export_snapshot)",
                h->who, (long long)snap->seq, snap->state_id);
        return TALLY_HOST_EINVAL;
    }
    return TALLY_HOST_OK;
}

static void h_snapshot_release(tally_host *h, const tally_snapshot *snap)
{
    if (h == NULL || snap == NULL)
        return;
    if (snap_release(snap) != 0)
        log_msg(TALLY_LOG_WARNING,
                "%s: snapshot_release: the snapshot of cycle %lld is not held (released twice, "
                "or never held); nothing was released",
                h->who, (long long)snap->seq);
}

static int h_loop_alive(tally_host *h, int64_t *began_utc, int64_t *interval)
{
    if (h == NULL || h->agent == NULL || began_utc == NULL || interval == NULL)
        return TALLY_HOST_EINVAL;
    *began_utc = atomic_load(&h->agent->loop_began_utc);
    *interval = atomic_load(&h->agent->loop_interval);
    return TALLY_HOST_OK;
}

const tally_host_api host_api = {
    .struct_size = sizeof(tally_host_api),
    .log = h_log,
    .now = h_now,
    .timezone = h_timezone,
    .day_of = h_day_of,
    .local_time = h_local_time,
    .state_get = h_state_get,
    .state_put = h_state_put,
    .emit_counter = h_emit_counter,
    .emit_counter_day = h_emit_counter_day,
    .read_secret = h_read_secret,
    .state_dir = h_state_dir,
    .emit_records = h_emit_records,
    .inventory_begin = h_inventory_begin,
    .inventory_end = h_inventory_end,
    .count_rejected = h_count_rejected,
    .local_to_utc = h_local_to_utc,
    .state_db = h_state_db,
    .spool_push = host_spool_push,
    .spool_peek = host_spool_peek,
    .spool_drop = host_spool_drop,
    .spool_stats = host_spool_stats,
    .config_error = h_config_error,
    .cycle_seq = h_cycle_seq,
    .history_open = history_open,
    .history_next = history_next,
    .history_close = history_close,
    .mark_get = host_mark_get,
    .mark_put = host_mark_put,
    .spool_push_marked = host_spool_push_marked,
    .metric = h_metric,
    .snapshot_hold = h_snapshot_hold,
    .snapshot_release = h_snapshot_release,
    .loop_alive = h_loop_alive,
};
_Static_assert(sizeof(tally_host_api) >= TALLY_HOST_API_V4_SIZE,
               "the host table holds every callback of ABI 4");

static void host_name(struct tally_host *h, const loaded_plugin *lp, const char *title)
{
    h->plugin = lp;
    snprintf(h->instance, sizeof(h->instance), "%s.%s", lp->desc.name, title);
    snprintf(h->who, sizeof(h->who), "%s \"%s\"", lp->desc.name, title);
}

int host_check(const loaded_plugin *lp, const char *title, cfg_t *section)
{
    struct tally_host h = {0};
    host_name(&h, lp, title);
    h.section = section;
    return options_check(&lp->desc, &h, &host_api, section) == TALLY_HOST_OK ? 0 : -1;
}

int host_start_all(agent *a)
{
    a->hosts = calloc(a->conf->n_inst ? a->conf->n_inst : 1, sizeof(*a->hosts));
    if (a->hosts == NULL)
        return -1;
    a->n_hosts = a->conf->n_inst;
    for (size_t i = 0; i < a->n_hosts; i++)
        pthread_rwlock_init(&a->hosts[i].life, NULL);
    if (a->self != NULL)
        selfstats_begin_attach(a->self);
    for (size_t i = 0; i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        const conf_instance *ci = &a->conf->inst[i];
        host_name(h, ci->plugin, ci->title);
        h->agent = a;
        h->section = ci->section;
        /* Before init, which may report figures already. */
        if (a->self != NULL && selfstats_attach(a->self, ci->plugin->desc.name, ci->title,
                                                ci->plugin->desc.kind, &h->self) != 0) {
            log_msg(TALLY_LOG_ERR, "%s: out of memory for its figures; tallyd cannot run", h->who);
            host_stop_all(a);
            return -1;
        }
        if (ci->plugin->desc.init(h, &host_api, ci->section, &h->ctx) != TALLY_HOST_OK) {
            log_msg(TALLY_LOG_ERR, "%s: could not start (see above); tallyd cannot run", h->who);
            host_stop_all(a);
            return -1;
        }
        h->started = 1;
        /* conf_load refused a second collector. */
        if (ci->plugin->desc.kind == TALLY_PLUGIN_COLLECTOR)
            a->collector = h;
    }
    if (a->self != NULL)
        selfstats_end_attach(a->self);
    return 0;
}

void host_stop_all(agent *a)
{
    int abandoned = 0;
    for (size_t i = a->n_hosts; i-- > 0;) {
        struct tally_host *h = &a->hosts[i];
        abandoned |= h->abandoned;
        /* An abandoned exporter may still read history through the
         * collector: once this is set, it never calls into it again. */
        pthread_rwlock_wrlock(&h->life);
        h->stopped = 1;
        pthread_rwlock_unlock(&h->life);
        if (h->started && !h->abandoned)
            h->plugin->desc.stop(h->ctx);
        h->started = 0;
    }
    /* An abandoned export thread still reads its host: keep them all. */
    if (!abandoned) {
        for (size_t i = 0; i < a->n_hosts; i++)
            pthread_rwlock_destroy(&a->hosts[i].life);
        free(a->hosts);
    }
    a->hosts = NULL;
    a->n_hosts = 0;
    a->collector = NULL;
}

void host_cycle_reset(agent *a)
{
    for (size_t i = 0; i < a->n_hosts; i++)
        a->hosts[i].cycle.records = a->hosts[i].cycle.rejected = 0;
    for (size_t i = 0; i < a->n_counters; i++)
        free((char *)a->counters[i].name);
    a->n_counters = 0;
}
