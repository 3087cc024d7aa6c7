/*
 * http.c — the http exporter plugin: `http "name" { url = ... }` pushes
 * every snapshot it receives to a URL, rendered by exporters/format (json,
 * prometheus for a Pushgateway, influx for InfluxDB). json and influx
 * list, of the user-days and daily counter totals, only what changed
 * since the payload before (http_changes.c). export only renders and
 * spools; the delivery thread (http_worker.c) sends, so the agent's
 * exporter thread is never held up by the network.
 */
#include "http.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int http_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **out)
{
    /* Reference-counted and thread-safe in the libcurl Debian 12 ships. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        api->log(h, TALLY_LOG_ERR, "cannot initialise libcurl; check the libcurl install");
        return TALLY_HOST_ERR;
    }
    http_ctx *c = NULL;
    if (http_conf_create(h, api, section, &c) != 0) {
        curl_global_cleanup();
        return TALLY_HOST_ERR;
    }
    /* A token that cannot be read now is a setup mistake: say so at start
     * rather than at the first delivery. */
    if ((c->token_file != NULL || c->token_env != NULL) &&
        api->read_secret(h, c->token_file, c->token_env, &c->token) != TALLY_HOST_OK) {
        api->log(h, TALLY_LOG_ERR,
                 "cannot read the bearer token (see above); fix bearer_token_file or "
                 "bearer_token_env");
        http_conf_free(c);
        curl_global_cleanup();
        return TALLY_HOST_ERR;
    }
    if (http_worker_start(c) != 0) {
        api->log(h, TALLY_LOG_ERR,
                 "cannot start the delivery thread for %s (out of memory or threads)",
                 c->url_shown);
        free(c->token);
        http_conf_free(c);
        curl_global_cleanup();
        return TALLY_HOST_ERR;
    }
    *out = c;
    return 0;
}

static void report_overflow(http_ctx *c, int64_t dropped, size_t len, int kept)
{
    tally_spool_stats st;
    if (c->api->spool_stats(c->host, &st) != TALLY_HOST_OK)
        memset(&st, 0, sizeof(st));
    if (!kept) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "a snapshot of %zu bytes is larger than spool_max_bytes = %" PRId64
                    " and was dropped (%" PRId64 " dropped so far); raise spool_max_bytes",
                    len, c->spool_max_bytes, st.overflowed);
        return;
    }
    c->api->log(c->host, TALLY_LOG_WARNING,
                "the spool is full (spool_max_bytes = %" PRId64 "): dropped the %" PRId64
                " oldest undelivered payload(s) (%" PRId64 " dropped so far, %" PRId64
                " bytes); %s has not taken them: check it, or raise spool_max_bytes",
                c->spool_max_bytes, dropped, st.overflowed, st.overflowed_bytes, c->url_shown);
}

static int render(http_ctx *c, const tally_snapshot *snap, const tally_format_opts *o, char **text,
                  size_t *len)
{
    if (tally_format_render(c->format, snap, o, text, len) == 0)
        return 0;
    c->api->log(c->host, TALLY_LOG_ERR,
                "cannot render the snapshot of seq %" PRId64 " as %s (out of memory, a history "
                "read that failed, or an instant out of range); nothing was spooled, and the "
                "next cycle's payload covers what this one would have",
                snap->seq, tally_format_name(c->format));
    return TALLY_HOST_ERR;
}

/* Prometheus: the snapshot as it is (it lists no history). */
static int export_plain(http_ctx *c, const tally_snapshot *snap)
{
    char *text = NULL;
    size_t len = 0;
    if (render(c, snap, NULL, &text, &len) != 0)
        return TALLY_HOST_ERR;
    int64_t dropped = 0;
    int rc = c->api->spool_push(c->host, text, len, tally_format_name(c->format), c->spool_mode,
                                c->spool_max_bytes, NULL, &dropped);
    free(text);
    if (dropped > 0)
        report_overflow(c, dropped, len, rc == TALLY_HOST_OK);
    return rc == TALLY_HOST_OK ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* Whether pushing len more bytes will push older payloads out of the
 * spool (http_changes.c: never wrongly "no"). */
static int will_overflow(http_ctx *c, size_t len)
{
    tally_spool_stats st;
    if (c->api->spool_stats(c->host, &st) != TALLY_HOST_OK)
        return 1;
    return st.items > 0 && st.bytes + (int64_t)len > c->spool_max_bytes;
}

/* json and influx: the rows changed since the last payload spooled (or
 * all), spooled with the mark that says so (http_changes.c). Called with
 * mark_mu held. */
static int export_changes(http_ctx *c, const tally_snapshot *snap)
{
    int64_t after = 0;
    if (http_changes_since(c, snap, &after) != 0)
        return TALLY_HOST_ERR;
    /* The snapshot's arrays are exactly the rows changed after its
     * changed_after; any other start is read from the history. */
    tally_format_opts o = {0};
    if (after != snap->changed_after) {
        o.host = c->host;
        o.api = c->api;
        o.changed_after = after;
    }
    char *text = NULL;
    size_t len = 0;
    if (render(c, snap, &o, &text, &len) != 0)
        return TALLY_HOST_ERR;
    char meta[128], mark[64];
    http_meta_write(c->format, snap, after, meta, sizeof(meta));
    /* Pushing older payloads out loses their rows: the payload after
     * this one lists everything again. */
    int overflow = !c->history_all && will_overflow(c, len);
    if (overflow)
        snprintf(mark, sizeof(mark), "%s", HTTP_MARK_RESYNC);
    else
        http_changes_mark(snap, mark, sizeof(mark));
    int64_t dropped = 0;
    int rc = c->api->spool_push_marked(c->host, text, len, meta, c->spool_mode, c->spool_max_bytes,
                                       HTTP_MARK, mark, NULL, &dropped);
    free(text);
    if (dropped > 0)
        report_overflow(c, dropped, len, rc == TALLY_HOST_OK);
    if (rc != TALLY_HOST_OK) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "the payload of seq %" PRId64 " (%zu bytes) was not spooled, nor its mark "
                    "(see above); the next cycle's payload covers its changes",
                    snap->seq, len);
        return TALLY_HOST_ERR;
    }
    /* Predicted, but the delivery thread made room meanwhile: a resync
     * that was not needed, and costs one larger payload. */
    if (overflow)
        c->api->log(c->host, dropped > 0 ? TALLY_LOG_WARNING : TALLY_LOG_DEBUG,
                    "%" PRId64 " payload(s) pushed out of the full spool took their changes "
                    "with them: the next payload lists every listed user-day and daily counter "
                    "total again",
                    dropped);
    return TALLY_HOST_OK;
}

static int http_export_snapshot(void *vctx, const tally_snapshot *snap)
{
    http_ctx *c = vctx;
    int rc;
    if (c->lists_history) {
        pthread_mutex_lock(&c->mark_mu);
        rc = export_changes(c, snap);
        pthread_mutex_unlock(&c->mark_mu);
    } else {
        rc = export_plain(c, snap);
    }
    /* Even when this one was not kept, older ones may wait. */
    http_worker_wake(c);
    return rc;
}

static void http_stop(void *vctx)
{
    http_ctx *c = vctx;
    http_worker_stop(c);
    http_conf_free(c);
    curl_global_cleanup();
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "http",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "push each snapshot over HTTP(S) as json, prometheus (Pushgateway) or influx; " "spooled until delivered",
    .options = http_options,
    .check = http_conf_check,
    .init = http_init,
    .stop = http_stop,
    .exporter = {
        .export_snapshot = http_export_snapshot,
    });
/* clang-format on */
