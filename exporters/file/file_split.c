/*
 * file_split.c — layout = "split" (json): what a cycle writes follows
 * what changed, not what the state keeps.
 *
 *     <path>/current.json          the document without its lists
 *                                  (days, user_days, counter_days):
 *                                  small, written every cycle
 *     <path>/days.json             {"days": [...]}, every listed day,
 *                                  written when one of them changed (a
 *                                  day closing, a late row): a fingerprint
 *                                  of the days is kept in the mark "days"
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
static const char *const all_lists[] = {"days", "user_days", "counter_days", NULL};
static const char *const days_list[] = {"days", NULL};

/* Which file write_part writes. */
typedef enum part { PART_DAY, PART_CURRENT, PART_DAYS } part;

/* One JSON file: a day's (the two long lists of date's rows alone,
 * [date, next)), current.json (the document without its lists) or
 * days.json (the days list alone). */
static int write_part(const file_ctx *ctx, const tally_snapshot *snap, int dir_fd, const char *path,
                      const char *leaf, unsigned flags, part which, const char *date,
                      const char *next)
{
    file_history history;
    file_history_init(&history, ctx, snap, date != NULL ? date : "", next != NULL ? next : "");
    tally_snapshot view = *snap;
    file_render r = {
        .format = TALLY_FORMAT_JSON,
        .snap = &view,
        .members = which == PART_DAY       ? long_lists
                   : which == PART_CURRENT ? all_lists
                                           : days_list,
        .keep = which != PART_CURRENT,
        .date = date,
    };
    if (which == PART_CURRENT) {
        /* Rendered only to be dropped. */
        view.days = NULL;
        view.n_days = 0;
    }
    if (which == PART_DAY) {
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

    return write_part(ctx, snap, days_fd, path, leaf, FILE_NO_SYMLINK | FILE_NO_DIRSYNC, PART_DAY,
                      date, next);
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

/* current.json: the document without its lists. */
static int write_current(const file_ctx *ctx, const tally_snapshot *snap, int dir_fd,
                         const char *dir_path)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/current.json", dir_path) >= (int)sizeof(path))
        return TALLY_HOST_ERR;
    return write_part(ctx, snap, dir_fd, path, "current.json", FILE_NO_SYMLINK, PART_CURRENT, NULL,
                      NULL);
}

/* days.json, when the days' fingerprint is not the one its mark "days"
 * holds (or the file is gone): every day listed is small, yet rendering
 * a year of them as JSON costs more than the rest of a quiet cycle, and
 * they change about once a day. The mark goes after the file. */
static int write_days_list(const file_ctx *ctx, const tally_snapshot *snap, int dir_fd,
                           const char *dir_path)
{
    char path[PATH_MAX], want[64], *had = NULL;
    if (snprintf(path, sizeof(path), "%s/days.json", dir_path) >= (int)sizeof(path))
        return TALLY_HOST_ERR;
    snprintf(want, sizeof(want), "%s:%016llx", snap->state_id,
             (unsigned long long)file_days_digest(snap));
    int same = ctx->api->mark_get(ctx->host, "days", &had) == TALLY_HOST_OK &&
               strcmp(had, want) == 0 && faccessat(dir_fd, "days.json", F_OK, 0) == 0;
    free(had);
    if (same)
        return 0;
    if (write_part(ctx, snap, dir_fd, path, "days.json", FILE_NO_SYMLINK, PART_DAYS, NULL, NULL) !=
        0)
        return TALLY_HOST_ERR;
    if (ctx->api->mark_put(ctx->host, "days", want) != TALLY_HOST_OK) {
        ctx->api->log(ctx->host, TALLY_LOG_WARNING,
                      "could not record that %s is written; it is written again next cycle", path);
    }
    return 0;
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
        (sweep && file_dir_sweep(ctx, dir_fd, dir_path, "days.json", NULL) != 0) ||
        ((prune || sweep) &&
         file_dir_sweep(ctx, days_fd, days_path, NULL, prune ? snap->oldest_kept : NULL) != 0))
        goto out;
    if (write_days_list(ctx, snap, dir_fd, dir_path) != 0 ||
        write_current(ctx, snap, dir_fd, dir_path) != 0)
        goto out;
    rc = file_mark_put(ctx, snap, digest, snap->oldest_kept, dir_path);
out:
    if (days_fd >= 0)
        close(days_fd);
    if (dir_fd >= 0)
        close(dir_fd);
    return rc;
}
