/*
 * file_single.c — layout = "single": the whole snapshot in one file, the
 * long lists read from the state's history a page at a time while the
 * file is written, so memory stays flat however many user-days are kept.
 *
 * Such a file costs every listed row each time it is written, so it is
 * written only when something in it besides generated_at changed
 * since the mark (file_mark.c): the small part's fingerprint, or a row of
 * a long list the format lists (file_changes.c); a cycle that changed
 * nothing of it only moves the mark. Prometheus text lists no
 * history and is small; it is written every cycle, which also keeps its
 * mtime fresh for node_exporter's textfile collector, whose staleness
 * alerts watch it.
 */
#include "file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Whether path is a regular file now (one deleted by hand is written again). */
static int target_there(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether the file already holds what snap would write: 1, 0, or
 * TALLY_HOST_ERR (a history read failed, logged). */
static int up_to_date(const file_ctx *ctx, const tally_snapshot *snap, const char *path,
                      uint64_t digest, const file_mark *mark)
{
    if (ctx->format == TALLY_FORMAT_PROMETHEUS || !file_mark_matches(mark, snap, digest) ||
        !target_there(path))
        return 0;
    int changed;
    if (file_lists_changed(ctx, snap, mark->seq, &changed) != 0)
        return TALLY_HOST_ERR;
    return !changed;
}

int file_single_export(const file_ctx *ctx, const tally_snapshot *snap, const char *path, int sweep)
{
    if (sweep && file_sweep_path(ctx, path) != 0)
        return TALLY_HOST_ERR;
    uint64_t digest = file_digest(ctx, path, snap);
    file_mark mark;
    file_mark_get(ctx, &mark);
    int current = up_to_date(ctx, snap, path, digest, &mark);
    if (current < 0)
        return TALLY_HOST_ERR;
    if (current) {
        /* Moving the mark up to this cycle keeps the next one on the
         * snapshot's arrays instead of a history read. Failing to is no
         * loss: the next cycle asks the history instead. */
        if (mark.seq != snap->seq && file_mark_put(ctx, snap, digest, NULL, NULL) != 0)
            ctx->api->log(ctx->host, TALLY_LOG_WARNING,
                          "%s holds this cycle's snapshot already, but recording that in the "
                          "state database failed; the next export asks the state's history "
                          "what changed",
                          path);
        return 0;
    }
    file_history history;
    file_history_init(&history, ctx, snap, "", "");
    file_render r = {
        .format = ctx->format,
        .snap = snap,
        /* changed_after 0: every listed row, whatever the mark says. */
        .opts = {.csv_table = ctx->csv_table,
                 .host = file_history_host(&history),
                 .api = &history.api},
    };
    if (file_write_path(ctx, path, file_render_fill, &r) != 0)
        return TALLY_HOST_ERR;
    if (ctx->format == TALLY_FORMAT_PROMETHEUS)
        return 0;
    return file_mark_put(ctx, snap, digest, NULL, path);
}
