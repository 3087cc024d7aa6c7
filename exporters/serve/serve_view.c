/*
 * serve_view.c — the snapshot the server answers from (serve.h): made at
 * export_snapshot, swapped in under a lock, dropped with its last
 * request. /metrics is rendered once per view in both formats; its gzip
 * and /api/v1/summary are made by the first request that wants them.
 */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An instance's metric by name, or NULL. */
static const tally_metric *metric_of(const tally_instance_stats *in, const char *name)
{
    for (size_t i = 0; i < in->n_metrics; i++)
        if (in->metrics[i].name != NULL && strcmp(in->metrics[i].name, name) == 0)
            return &in->metrics[i];
    return NULL;
}

static const tally_instance_stats *instance_in(const tally_agent_stats *a,
                                               const tally_instance_stats *like)
{
    for (size_t i = 0; a != NULL && i < a->n_instances; i++)
        if (strcmp(a->instances[i].plugin, like->plugin) == 0 &&
            strcmp(a->instances[i].instance, like->instance) == 0)
            return &a->instances[i];
    return NULL;
}

/* Why the snapshot's cycle was no success, for /readyz: a source whose
 * errors_total grew since the snapshot before (a failed collect does
 * not fail the cycle: the other sources' work commits). */
static void failing_reason(const tally_snapshot *snap, const tally_snapshot *before, char *out,
                           size_t cap)
{
    out[0] = '\0';
    const tally_agent_stats *a = snap->agent;
    const tally_agent_stats *b = before != NULL ? before->agent : NULL;
    for (size_t i = 0; a != NULL && i < a->n_instances; i++) {
        const tally_instance_stats *in = &a->instances[i];
        const tally_metric *now = in->kind == TALLY_PLUGIN_SOURCE ? metric_of(in, "errors_total")
                                                                  : NULL;
        if (now == NULL)
            continue;
        const tally_instance_stats *was = instance_in(b, in);
        const tally_metric *then = was != NULL ? metric_of(was, "errors_total") : NULL;
        if (now->value > (then != NULL ? then->value : 0)) {
            snprintf(out, cap, "source %s \"%s\" failed in the last cycle (see the agent's log)",
                     in->plugin, in->instance);
            return;
        }
    }
}

static int render_metrics(serve_view *v)
{
    if (tally_format_render(TALLY_FORMAT_PROMETHEUS, v->snap, NULL, &v->prom, &v->prom_len) != 0)
        return -1;
    if (tally_format_openmetrics(v->prom, v->prom_len, &v->om, &v->om_len) != 0)
        return -1;
    /* The age family goes before the end, per response. */
    v->om_len -= strlen(TALLY_OPENMETRICS_EOF);
    v->om[v->om_len] = '\0';
    return 0;
}

int serve_view_make(serve_ctx *ctx, const tally_snapshot *snap, const serve_view *before,
                    serve_view **out)
{
    *out = NULL;
    serve_view *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return -1;
    atomic_init(&v->refs, 1);
    v->ctx = ctx;
    v->snap = snap;
    pthread_mutex_init(&v->mu, NULL);
    if (ctx->api->snapshot_hold(ctx->host, snap) != TALLY_HOST_OK) {
        serve_view_put(v);
        return -1;
    }
    v->held = 1;
    if (render_metrics(v) != 0) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot render /metrics for the snapshot of cycle %lld (out of memory?); "
                      "the server keeps answering from the one before",
                      (long long)snap->seq);
        serve_view_put(v);
        return -1;
    }
    failing_reason(snap, before != NULL ? before->snap : NULL, v->failing, sizeof(v->failing));
    *out = v;
    return 0;
}

serve_view *serve_view_get(serve_ctx *ctx)
{
    pthread_mutex_lock(&ctx->swap_mu);
    serve_view *v = ctx->current;
    if (v != NULL)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&ctx->swap_mu);
    return v;
}

void serve_view_put(serve_view *v)
{
    if (v == NULL || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    if (v->held)
        v->ctx->api->snapshot_release(v->ctx->host, v->snap);
    free(v->prom);
    free(v->om);
    serve_gz_free(&v->prom_gz);
    serve_gz_free(&v->om_gz);
    free(v->summary);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

void serve_view_swap(serve_ctx *ctx, serve_view *v)
{
    pthread_mutex_lock(&ctx->swap_mu);
    serve_view *old = ctx->current;
    ctx->current = v;
    pthread_mutex_unlock(&ctx->swap_mu);
    serve_view_put(old);
}

int serve_view_gzip(serve_view *v, int openmetrics, const serve_gz **out)
{
    serve_gz *gz = openmetrics ? &v->om_gz : &v->prom_gz;
    int *made = openmetrics ? &v->om_gz_made : &v->prom_gz_made;
    pthread_mutex_lock(&v->mu);
    if (!*made) {
        *made = 1;
        if (serve_gz_make(openmetrics ? v->om : v->prom, openmetrics ? v->om_len : v->prom_len,
                          gz) != 0)
            v->ctx->api->log(v->ctx->host, TALLY_LOG_ERR,
                             "cannot gzip /metrics (out of memory?); this snapshot is served "
                             "uncompressed");
    }
    pthread_mutex_unlock(&v->mu);
    *out = gz;
    return gz->failed ? -1 : 0;
}

int serve_view_summary(serve_view *v, const char **text, size_t *len)
{
    pthread_mutex_lock(&v->mu);
    int rc = 0;
    if (v->summary == NULL) {
        /* changed_after 0: every listed row, as the file exporter's json. */
        tally_format_opts o = {.host = v->ctx->host, .api = v->ctx->api, .changed_after = 0};
        rc = tally_format_render(TALLY_FORMAT_JSON, v->snap, &o, &v->summary, &v->summary_len);
    }
    *text = v->summary;
    *len = v->summary_len;
    pthread_mutex_unlock(&v->mu);
    return rc;
}
