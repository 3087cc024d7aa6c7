/*
 * file.c — the file exporter plugin: `file "name" { path = ... format = ... }`
 * writes the snapshots it receives to a file (layout "single") or, as
 * JSON, to a directory of a small current file and a file per closed day
 * (layout "split"), rendered by exporters/format and replaced atomically
 * (file_write.c), at a path that may carry the business date
 * (file_path.c). What it writes costs what changed since its mark (the
 * host's record of what it last wrote): a failed export leaves the
 * previous files and the mark, and the next one writes what is missing.
 */
#include "file.h"

#include <stdlib.h>

static int file_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    file_ctx *c = NULL;
    if (file_conf_create(h, api, section, &c) != 0)
        return TALLY_HOST_ERR;
    *ctx = c;
    return 0;
}

static int file_export_snapshot(void *vctx, const tally_snapshot *snap)
{
    file_ctx *ctx = vctx;
    char *path = NULL;
    if (file_path_expand(ctx->host, ctx->api, ctx->path_template, snap->now_utc, &path) != 0) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "option 'path' = \"%s\" expands to an empty name or one longer than "
                      "PATH_MAX at this snapshot's time; shorten the template",
                      ctx->path_template);
        return TALLY_HOST_ERR;
    }
    /* Exports of one instance run one at a time, on its thread. */
    int sweep = !ctx->swept;
    int rc = ctx->layout == FILE_LAYOUT_SPLIT ? file_split_export(ctx, snap, path, sweep)
                                              : file_single_export(ctx, snap, path, sweep);
    if (rc == 0)
        ctx->swept = 1;
    free(path);
    return rc;
}

static void file_stop(void *ctx)
{
    file_conf_free(ctx);
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "file",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "write each snapshot to a file, atomically, as json, prometheus, csv or influx",
    .options = file_options,
    .check = file_conf_check,
    .init = file_init,
    .stop = file_stop,
    .exporter = {
        .export_snapshot = file_export_snapshot,
    });
/* clang-format on */
