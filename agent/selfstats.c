/*
 * selfstats.c — see selfstats.h.
 *
 * An instance's figures sit in fixed arrays (no allocation under the
 * lock, and a plugin that reports a name a cycle cannot grow memory past
 * SELFMETRIC_PER_INSTANCE_MAX names). Entries are a list that only
 * grows: one per (plugin, title) the agent ever ran, so a pointer an
 * exporter thread holds stays good across reloads.
 */
#include "selfstats.h"

#include "agent.h"
#include "selfmetric/selfmetric.h"
#include "spool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct self_figure {
    char name[SELFMETRIC_NAME_MAX + 1];
    char help[SELFMETRIC_HELP_MAX + 1];
    tally_metric_kind kind;
    double value;
} self_figure;

struct self_inst {
    selfstats *owner;
    struct self_inst *next;
    char *plugin, *title;
    int kind;
    int attached, was_attached;         /* in the config started last, and the one before */
    int64_t records, rejected, errors;  /* a source's */
    int64_t exports_ok, exports_failed; /* an exporter's */
    self_figure fig[SELFMETRIC_PER_INSTANCE_MAX]; /* the plugin's, by name */
    size_t n_fig;
};

struct selfstats {
    pthread_mutex_t mu;
    char *version;
    int64_t start_utc;
    int64_t cycles_ok, cycles_failed, last_success_utc;
    double last_cycle_seconds;
    self_inst *insts;
};

int selfstats_new(const char *version, int64_t start_utc, selfstats **out)
{
    selfstats *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->version = strdup(version)) == NULL) {
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->start_utc = start_utc;
    *out = s;
    return 0;
}

void selfstats_free(selfstats *s)
{
    if (s == NULL)
        return;
    for (self_inst *e = s->insts, *next; e != NULL; e = next) {
        next = e->next;
        free(e->plugin);
        free(e->title);
        free(e);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->version);
    free(s);
}

static void zero(self_inst *e)
{
    e->records = e->rejected = e->errors = 0;
    e->exports_ok = e->exports_failed = 0;
    e->n_fig = 0;
}

void selfstats_begin_attach(selfstats *s)
{
    pthread_mutex_lock(&s->mu);
    for (self_inst *e = s->insts; e != NULL; e = e->next) {
        e->was_attached = e->attached;
        e->attached = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

int selfstats_attach(selfstats *s, const char *plugin, const char *title, int kind, self_inst **out)
{
    pthread_mutex_lock(&s->mu);
    self_inst *e = s->insts;
    while (e != NULL && (strcmp(e->plugin, plugin) != 0 || strcmp(e->title, title) != 0))
        e = e->next;
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        e->owner = s;
        e->plugin = strdup(plugin);
        e->title = strdup(title);
        if (e->plugin == NULL || e->title == NULL) {
            free(e->plugin);
            free(e->title);
            free(e);
            e = NULL;
        } else {
            e->next = s->insts;
            s->insts = e;
        }
    }
    if (e != NULL) {
        /* Back after a config without it: it starts again (an abandoned
         * export thread may have reported to it meanwhile). */
        if (!e->was_attached)
            zero(e);
        e->kind = kind;
        e->attached = 1;
    }
    pthread_mutex_unlock(&s->mu);
    *out = e;
    return e != NULL ? 0 : -1;
}

void selfstats_end_attach(selfstats *s)
{
    pthread_mutex_lock(&s->mu);
    for (self_inst *e = s->insts; e != NULL; e = e->next)
        if (!e->attached)
            zero(e);
    pthread_mutex_unlock(&s->mu);
}

void selfstats_source_add(self_inst *e, int64_t records, int64_t rejected, int64_t errors)
{
    pthread_mutex_lock(&e->owner->mu);
    e->records += records;
    e->rejected += rejected;
    e->errors += errors;
    pthread_mutex_unlock(&e->owner->mu);
}

void selfstats_export(self_inst *e, int ok)
{
    pthread_mutex_lock(&e->owner->mu);
    if (ok)
        e->exports_ok++;
    else
        e->exports_failed++;
    pthread_mutex_unlock(&e->owner->mu);
}

/* Where name is in e's figures, or where it would go (kept sorted). */
static size_t figure_at(const self_inst *e, const char *name, int *found)
{
    size_t i = 0;
    while (i < e->n_fig && strcmp(e->fig[i].name, name) < 0)
        i++;
    *found = i < e->n_fig && strcmp(e->fig[i].name, name) == 0;
    return i;
}

/* A help text on one line: a line end would end the # HELP line. */
static void one_line(char *dst, const char *help)
{
    snprintf(dst, SELFMETRIC_HELP_MAX + 1, "%s", help != NULL ? help : "");
    for (char *p = dst; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int selfstats_metric(self_inst *e, const char *name, tally_metric_kind kind, double value,
                     const char *help, const char **why)
{
    if (selfmetric_check(name, kind, value, why) != 0)
        return -1;
    pthread_mutex_lock(&e->owner->mu);
    int found;
    size_t i = figure_at(e, name, &found);
    int rc = 0;
    if (found && e->fig[i].kind != kind) {
        *why = "was reported before as the other kind (counter or gauge)";
        rc = -1;
    } else if (!found && e->n_fig == SELFMETRIC_PER_INSTANCE_MAX) {
        *why = "is one name too many (an instance reports at most 32)";
        rc = -1;
    } else {
        if (!found) {
            memmove(&e->fig[i + 1], &e->fig[i], (e->n_fig - i) * sizeof(e->fig[0]));
            e->n_fig++;
            snprintf(e->fig[i].name, sizeof(e->fig[i].name), "%s", name);
            e->fig[i].kind = kind;
        }
        one_line(e->fig[i].help, help);
        e->fig[i].value = value;
    }
    pthread_mutex_unlock(&e->owner->mu);
    return rc;
}
_Static_assert(SELFMETRIC_PER_INSTANCE_MAX == 32, "the message for one name too many says 32");

void selfstats_cycle(selfstats *s, int ok, double seconds, int64_t end_utc)
{
    pthread_mutex_lock(&s->mu);
    if (ok) {
        s->cycles_ok++;
        s->last_success_utc = end_utc;
    } else {
        s->cycles_failed++;
    }
    s->last_cycle_seconds = seconds;
    pthread_mutex_unlock(&s->mu);
}

/* ---- the copy for a snapshot ---- */

/* The figures the agent keeps, as one table per kind. */
typedef struct kept {
    const char *name, *help;
    tally_metric_kind kind;
} kept;

static const kept source_kept[] = {
    {SELFMETRIC_RECORDS, "Records the source handed over in committed cycles.",
     TALLY_METRIC_COUNTER},
    {SELFMETRIC_REJECTED, "Input rows the source set aside as malformed, in committed cycles.",
     TALLY_METRIC_COUNTER},
    {SELFMETRIC_ERRORS, "Steps of the source that failed (collect, rollover, cycle_begin).",
     TALLY_METRIC_COUNTER},
};
static const kept exporter_kept[] = {
    {SELFMETRIC_EXPORTS_OK, "Snapshots the exporter delivered.", TALLY_METRIC_COUNTER},
    {SELFMETRIC_EXPORTS_FAILED, "Snapshots the exporter failed to deliver.", TALLY_METRIC_COUNTER},
};
static const kept spool_kept[] = {
    {SELFMETRIC_SPOOL_ITEMS, "Payloads waiting in the exporter's spool.", TALLY_METRIC_GAUGE},
    {SELFMETRIC_SPOOL_BYTES, "Bytes of the payloads waiting in the exporter's spool.",
     TALLY_METRIC_GAUGE},
    {SELFMETRIC_SPOOL_DELIVERED, "Spooled payloads delivered, all time (kept in the state).",
     TALLY_METRIC_COUNTER},
    {SELFMETRIC_SPOOL_REJECTED,
     "Spooled payloads the destination refused for good, all time (kept in the state).",
     TALLY_METRIC_COUNTER},
    {SELFMETRIC_SPOOL_OVERFLOWED,
     "Spooled payloads pushed out by a full spool, all time (kept in the state).",
     TALLY_METRIC_COUNTER},
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Every string of the copy is its own, freed in selfstats_copy_free. */
static int put(tally_metric *m, const char *name, const char *help, tally_metric_kind kind,
               double value)
{
    m->name = strdup(name);
    m->help = strdup(help);
    m->kind = kind;
    m->value = value;
    return m->name != NULL && m->help != NULL ? 0 : -1;
}

static int copy_kept(tally_metric *m, const kept *k, size_t n, const double *values)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= put(&m[i], k[i].name, k[i].help, k[i].kind, values[i]);
    return bad ? -1 : 0;
}

/* One instance, under the lock; sp NULL: it has not spooled. */
static int copy_instance(const self_inst *e, const tally_spool_stats *sp, tally_instance_stats *out)
{
    size_t n = e->n_fig;
    if (e->kind == TALLY_PLUGIN_SOURCE)
        n += N_OF(source_kept);
    if (e->kind == TALLY_PLUGIN_EXPORTER)
        n += N_OF(exporter_kept) + (sp != NULL ? N_OF(spool_kept) : 0);
    tally_metric *m = calloc(n ? n : 1, sizeof(*m));
    out->metrics = m;
    out->n_metrics = n;
    out->kind = e->kind;
    out->plugin = strdup(e->plugin);
    out->instance = strdup(e->title);
    if (m == NULL || out->plugin == NULL || out->instance == NULL) {
        out->n_metrics = 0;
        return -1;
    }
    int bad = 0;
    if (e->kind == TALLY_PLUGIN_SOURCE) {
        double v[] = {(double)e->records, (double)e->rejected, (double)e->errors};
        bad |= copy_kept(m, source_kept, N_OF(source_kept), v);
        m += N_OF(source_kept);
    }
    if (e->kind == TALLY_PLUGIN_EXPORTER) {
        double v[] = {(double)e->exports_ok, (double)e->exports_failed};
        bad |= copy_kept(m, exporter_kept, N_OF(exporter_kept), v);
        m += N_OF(exporter_kept);
        if (sp != NULL) {
            double sv[] = {(double)sp->items, (double)sp->bytes, (double)sp->delivered,
                           (double)sp->rejected, (double)sp->overflowed};
            bad |= copy_kept(m, spool_kept, N_OF(spool_kept), sv);
            m += N_OF(spool_kept);
        }
    }
    for (size_t i = 0; i < e->n_fig; i++)
        bad |= put(&m[i], e->fig[i].name, e->fig[i].help, e->fig[i].kind, e->fig[i].value);
    return bad ? -1 : 0;
}

/* Each exporter's spool figures, read before the lock is taken (the
 * spool has a lock of its own, and a query takes a while). */
static void read_spools(agent *a, tally_spool_stats *st, int *spooled)
{
    for (size_t i = 0; i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        spooled[i] = 0;
        if (h->plugin->desc.kind == TALLY_PLUGIN_EXPORTER && a->spool != NULL &&
            spool_instance_stats(a->spool, h->instance, &st[i], &spooled[i]) != TALLY_HOST_OK)
            spooled[i] = 0;
    }
}

tally_agent_stats *selfstats_copy(agent *a)
{
    selfstats *s = a->self;
    size_t n = a->n_hosts;
    tally_agent_stats *st = calloc(1, sizeof(*st));
    tally_instance_stats *inst = calloc(n ? n : 1, sizeof(*inst));
    tally_spool_stats *spools = calloc(n ? n : 1, sizeof(*spools));
    int *spooled = calloc(n ? n : 1, sizeof(*spooled));
    if (st == NULL || inst == NULL || spools == NULL || spooled == NULL) {
        free(st);
        free(inst);
        free(spools);
        free(spooled);
        return NULL;
    }
    read_spools(a, spools, spooled);
    st->instances = inst;
    int bad = 0;
    pthread_mutex_lock(&s->mu);
    st->version = strdup(s->version);
    st->plugin_abi = TALLY_PLUGIN_ABI_VERSION;
    st->start_utc = s->start_utc;
    st->cycles_ok = s->cycles_ok;
    st->cycles_failed = s->cycles_failed;
    st->last_cycle_seconds = s->last_cycle_seconds;
    st->last_success_utc = s->last_success_utc;
    st->interval = a->conf->interval;
    for (size_t i = 0; i < n; i++) {
        const self_inst *e = a->hosts[i].self;
        if (e == NULL)
            continue;
        bad |= copy_instance(e, spooled[i] ? &spools[i] : NULL, &inst[st->n_instances++]);
    }
    pthread_mutex_unlock(&s->mu);
    free(spools);
    free(spooled);
    if (bad || st->version == NULL) {
        selfstats_copy_free(st);
        return NULL;
    }
    return st;
}

void selfstats_copy_free(tally_agent_stats *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_instances; i++) {
        const tally_instance_stats *in = &st->instances[i];
        for (size_t k = 0; k < in->n_metrics; k++) {
            free((char *)in->metrics[k].name);
            free((char *)in->metrics[k].help);
        }
        free((tally_metric *)in->metrics);
        free((char *)in->plugin);
        free((char *)in->instance);
    }
    free((tally_instance_stats *)st->instances);
    free((char *)st->version);
    free(st);
}
