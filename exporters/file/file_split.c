/*
 * file_split.c — layout = "split" (json): what a cycle writes follows
 * what changed, not what the state keeps.
 *
 *     <path>/current.json          the document without its two long
 *                                  lists: small, written every cycle
 *     <path>/days/YYYY-MM-DD.json  {"date", "user_days", "counter_days"}
 *                                  of one closed business day, written
 *                                  when a row of that day changed
 *
 * The days that changed since the mark come from the snapshot's arrays or
 * the state's history (file_changes.c); each is written again whole from
 * the history of its one date. Day files older than the oldest listed
 * are removed once that moves, and the temporary files a crash left at
 * an instance's first export. The mark goes last, after every file is in
 * place: a crash between files and mark writes the same files again next
 * time, to the same contents.
 */
#include "file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil/civil.h"

static const char *const long_lists[] = {"user_days", "counter_days", NULL};

/* One JSON file: the two lists of date's rows alone, [date, next); or
 * (date NULL) the document without them. */
static int write_part(const file_ctx *ctx, const tally_snapshot *snap, int dir_fd, const char *path,
                      const char *leaf, unsigned flags, const char *date, const char *next)
{
    file_history history;
    file_history_init(&history, ctx, snap, date != NULL ? date : "", next != NULL ? next : "");
    tally_snapshot view = *snap;
    file_render r = {
        .format = TALLY_FORMAT_JSON,
        .snap = &view,
        .members = long_lists,
        .keep = date != NULL,
        .date = date,
    };
    if (date != NULL) {
        /* Nothing else is kept: rendering it would be wasted. */
        view.days = NULL;
        view.n_days = 0;
        view.counters = NULL;
        view.n_counters = 0;
        r.opts.host = file_history_host(&history);
        r.opts.api = &history.api;
    } else {
        /* No host: the lists are the (emptied) arrays, and their members go. */
        view.user_days = NULL;
        view.n_user_days = 0;
        view.counter_days = NULL;
        view.n_counter_days = 0;
    }
    return file_write_at(ctx, dir_fd, path, leaf, flags, file_render_fill, &r);
}

/* days/<date>.json written anew from the history of that date, or
 * removed when the date is no longer listed. */
static int write_day(const file_ctx *ctx, const tally_snapshot *snap, int days_fd,
                     const char *days_path, const char *date)
{
    civil_date parsed;
    char next[TALLY_DATE_LEN], leaf[TALLY_DATE_LEN + 5], path[PATH_MAX];
    if (civil_parse_date(date, strnlen(date, TALLY_DATE_LEN), &parsed) != 0 ||
        file_date_next(date, next) != 0) {
        ctx->api->log(ctx->host, TALLY_LOG_WARNING,
                      "a changed row carries the date \"%.10s\", which is no date; its day "
                      "file is not written",
                      date);
        return 0;
    }
    snprintf(leaf, sizeof(leaf), "%.10s.json", date);
    /* file_split_export made sure a day file's path fits. */
    if (snprintf(path, sizeof(path), "%s/%s", days_path, leaf) >= (int)sizeof(path))
        return TALLY_HOST_ERR;
    /* A day before the oldest listed has left the state: its file goes.
     * Any other changed day has rows (file_dates_changed). */
    if (strncmp(date, snap->oldest_kept, TALLY_DATE_LEN) < 0)
        return file_remove_at(ctx, days_fd, path, leaf);

    return write_part(ctx, snap, days_fd, path, leaf, FILE_NO_SYMLINK | FILE_NO_DIRSYNC, date,
                      next);
}

/* Every day file that changed since the mark (NULL: no mark, every day). */
static int write_days(const file_ctx *ctx, const tally_snapshot *snap, const file_mark *mark,
                      int days_fd, const char *days_path)
{
    file_dates dates;
    if (file_dates_changed(ctx, snap, mark, &dates) != 0) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot tell which days changed since the last export to %s (a history "
                      "read failed, or out of memory); nothing was written and the next "
                      "export tries again",
                      days_path);
        return TALLY_HOST_ERR;
    }
    int rc = 0;
    for (size_t i = 0; i < dates.n && rc == 0; i++)
        rc = write_day(ctx, snap, days_fd, days_path, dates.v[i]);
    if (rc == 0 && dates.n > 0)
        rc = file_sync_dir(ctx, days_fd, days_path);
    file_dates_free(&dates);
    return rc;
}

/* current.json: the document without its two long lists. */
static int write_current(const file_ctx *ctx, const tally_snapshot *snap, int dir_fd,
                         const char *dir_path)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/current.json", dir_path) >= (int)sizeof(path))
        return TALLY_HOST_ERR;
    return write_part(ctx, snap, dir_fd, path, "current.json", FILE_NO_SYMLINK, NULL, NULL);
}

int file_split_export(const file_ctx *ctx, const tally_snapshot *snap, const char *path, int sweep)
{
    /* "out/" and "out" are one directory; without the slash, O_NOFOLLOW
     * sees a symlink named out instead of following it. */
    char dir_path[PATH_MAX], days_path[PATH_MAX];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n + sizeof("/days/YYYY-MM-DD.json") > sizeof(dir_path)) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "option 'path' = \"%s\" is too long for its day files; shorten it", path);
        return TALLY_HOST_ERR;
    }
    snprintf(dir_path, sizeof(dir_path), "%.*s", (int)n, path);
    snprintf(days_path, sizeof(days_path), "%.*s/days", (int)n, path);
    int dir_fd = -1, days_fd = -1, rc = TALLY_HOST_ERR;
    if (file_dir_open(ctx, AT_FDCWD, dir_path, dir_path, &dir_fd) != 0 ||
        file_dir_open(ctx, dir_fd, "days", days_path, &days_fd) != 0)
        goto out;

    uint64_t digest = file_digest(ctx, dir_path, NULL);
    file_mark mark;
    file_mark_get(ctx, &mark);
    int valid = file_mark_matches(&mark, snap, digest);
    if (write_days(ctx, snap, valid ? &mark : NULL, days_fd, days_path) != 0)
        goto out;
    /* Old days go when the oldest listed moved; a crash's temporary
     * files at an instance's first export. */
    int prune = !valid || strcmp(mark.oldest_kept, snap->oldest_kept) != 0;
    if ((sweep && file_dir_sweep(ctx, dir_fd, dir_path, "current.json", NULL) != 0) ||
        ((prune || sweep) &&
         file_dir_sweep(ctx, days_fd, days_path, NULL, prune ? snap->oldest_kept : NULL) != 0))
        goto out;
    if (write_current(ctx, snap, dir_fd, dir_path) != 0)
        goto out;
    rc = file_mark_put(ctx, snap, digest, snap->oldest_kept, dir_path);
out:
    if (days_fd >= 0)
        close(days_fd);
    if (dir_fd >= 0)
        close(dir_fd);
    return rc;
}
