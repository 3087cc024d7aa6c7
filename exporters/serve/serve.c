/*
 * serve.c — the serve exporter plugin (serve.h): init starts the server,
 * export_snapshot swaps in each new snapshot's view, stop ends the server
 * and then lets the last view go.
 */
#include "serve.h"

#include <stdlib.h>

static int serve_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **out)
{
    if (!TALLY_API_HAS(api, snapshot_hold) || !TALLY_API_HAS(api, snapshot_release)) {
        api->log(h, TALLY_LOG_ERR,
                 "this tallyd cannot keep a snapshot between cycles (snapshot_hold); the serve "
                 "exporter needs a tallyd of issue 14 or later");
        return TALLY_HOST_ERR;
    }
    serve_ctx *ctx = NULL;
    if (serve_conf_create(h, api, section, &ctx) != 0)
        return TALLY_HOST_ERR;
    if (serve_http_bind(ctx) != 0) {
        serve_conf_free(ctx);
        return TALLY_HOST_ERR;
    }
    *out = ctx;
    return TALLY_HOST_OK;
}

static int serve_export_snapshot(void *vctx, const tally_snapshot *snap)
{
    serve_ctx *ctx = vctx;
    /* Exports of one instance run one at a time, on its thread: the view
     * answering now is the one before, read here for /readyz's compare. */
    serve_view *before = serve_view_get(ctx);
    serve_view *v = NULL;
    int rc = serve_view_make(ctx, snap, before, &v);
    serve_view_put(before);
    if (rc != 0)
        return TALLY_HOST_ERR;
    serve_view_swap(ctx, v);
    if (ctx->daemon == NULL && serve_http_start(ctx) != 0)
        return TALLY_HOST_ERR; /* the next snapshot tries again */
    return TALLY_HOST_OK;
}

static void serve_stop(void *vctx)
{
    serve_ctx *ctx = vctx;
    serve_http_stop(ctx);
    serve_view_swap(ctx, NULL);
    serve_conf_free(ctx);
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "serve",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "answer HTTP: /metrics for Prometheus, a JSON API, /healthz and /readyz",
    .options = serve_options,
    .check = serve_conf_check,
    .init = serve_init,
    .stop = serve_stop,
    .exporter = {
        .export_snapshot = serve_export_snapshot,
    });
/* clang-format on */
