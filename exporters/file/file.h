/*
 * file.h — the file exporter's instance and the parts it is made of:
 * file_conf.c builds it from a `file "name" { ... }` section, file_path.c
 * expands the path template in the business zone, file_single.c and
 * file_split.c are the two layouts, which write only what changed since
 * the instance's mark (file_mark.c, file_changes.c), file_render.c
 * streams exporters/format's text into a file (reading the history
 * through file_history.c), file_members.c cuts it to the split layout's
 * files, file_dir.c keeps the
 * split layout's directories, file_write.c replaces each file atomically,
 * and file.c is the plugin that ties them together.
 */
#ifndef TALLY_EXPORTER_FILE_H
#define TALLY_EXPORTER_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "format.h"
#include "format_fields.h"
#include "tally/plugin.h"

typedef enum file_layout {
    FILE_LAYOUT_SINGLE, /* one document, rewritten whole when anything in it changed */
    FILE_LAYOUT_SPLIT,  /* json only: current.json and a file per closed day */
} file_layout;

typedef struct file_ctx {
    tally_host *host;
    const tally_host_api *api;
    char *instance;      /* the section's title, for messages */
    char *path_template; /* a strftime template, expanded per snapshot */
    tally_format format;
    char *csv_table; /* csv only; NULL for the other formats */
    mode_t mode;     /* applied with fchmod, so the umask does not matter */
    file_layout layout;
    int swept; /* an export succeeded: no temporary file of a crash is left */
} file_ctx;

/* file_conf.c: the option rows. */
extern const tally_option file_options[];

/* Validate a section: each problem is logged naming the option, the
 * instance and the config line. 0 or TALLY_HOST_ERR; no side effects. */
int file_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
/* Build *out from a section (checked again here). 0 or TALLY_HOST_ERR. */
int file_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, file_ctx **out);
void file_conf_free(file_ctx *ctx);

/* file_path.c: the template expanded with the business zone's local time
 * of utc, in *out (malloc'd). 0, or TALLY_HOST_ERR when the instant has no
 * local time or the result is empty or longer than PATH_MAX; not logged. */
int file_path_expand(tally_host *h, const tally_host_api *api, const char *tmpl, int64_t utc,
                     char **out);
/* The template expanded with a given broken-down time; same results. */
int file_path_format(const char *tmpl, const struct tm *tm, char **out);

/* file_single.c, file_split.c: write snap in that layout at path (the
 * expanded template); with sweep (an instance's first export), first
 * remove the temporary files a crash may have left there. 0, or
 * TALLY_HOST_ERR (logged; what was not written is written by a later
 * export). */
int file_single_export(const file_ctx *ctx, const tally_snapshot *snap, const char *path,
                       int sweep);
int file_split_export(const file_ctx *ctx, const tally_snapshot *snap, const char *path, int sweep);

/* file_mark.c: what the instance last wrote (see there). */
typedef struct file_mark {
    int found; /* a mark was there and could be read; else all is zero */
    char state_id[33];
    int64_t seq;
    uint64_t digest;
    char oldest_kept[TALLY_DATE_LEN]; /* split; "" for the single document */
} file_mark;
const char *file_layout_name(file_layout l);
/* "single" or "split": 0, or TALLY_HOST_ERR for another name. */
int file_layout_from_name(const char *name, file_layout *out);
/* The fingerprint of where and how the instance writes (path, format,
 * csv table, layout) and, unless snap is NULL, of snap's small part. */
uint64_t file_digest(const file_ctx *ctx, const char *path, const tally_snapshot *snap);
/* The fingerprint of snap's days list alone (the split layout's days.json). */
uint64_t file_days_digest(const tally_snapshot *snap);
/* The mark, or found = 0 (none, or one that cannot be read: warned). */
void file_mark_get(const file_ctx *ctx, file_mark *m);
/* Record snap as written, with oldest_kept unless NULL; where names the
 * output in the message when that fails. 0 or TALLY_HOST_ERR (logged,
 * unless where is NULL). */
int file_mark_put(const file_ctx *ctx, const tally_snapshot *snap, uint64_t digest,
                  const char *oldest_kept, const char *where);
/* Whether m is of snap's state, at or before its seq, with this digest. */
int file_mark_matches(const file_mark *m, const tally_snapshot *snap, uint64_t digest);

/* file_changes.c: which long lists the instance's format lists. */
void file_lists(const file_ctx *ctx, int *user_days, int *counter_days);
/* Whether a row of a list the format lists changed after seq `after`
 * (at most snap's seq). 0, or TALLY_HOST_ERR (logged). */
int file_lists_changed(const file_ctx *ctx, const tally_snapshot *snap, int64_t after,
                       int *changed);
/* The dates (sorted, each once) with a user-day or daily counter total
 * changed after mark's seq; every date with one when mark is NULL. Each
 * has rows in snap's state (a changed row is there), unless it is older
 * than the oldest listed (gone since it changed). 0, or
 * TALLY_HOST_ERR (*d empty; a history read failed, logged by the host, or
 * out of memory). */
typedef struct file_dates {
    char (*v)[TALLY_DATE_LEN];
    size_t n, cap;
} file_dates;
int file_dates_changed(const file_ctx *ctx, const tally_snapshot *snap, const file_mark *mark,
                       file_dates *d);
void file_dates_free(file_dates *d);
/* The date after date: 0, or TALLY_HOST_ERR when date is no date. */
int file_date_next(const char *date, char next[TALLY_DATE_LEN]);

/* file_members.c: a tally_format_sink that passes on some of the JSON
 * document's top-level members: those in names (keep 1) or all but those
 * (keep 0), with a first member "date" when date is not NULL. */
typedef struct file_members {
    const char *const *names; /* NULL-terminated */
    int keep;
    const char *date;
    tf_buf out;       /* what is passed on, a piece at a time */
    tf_buf line;      /* a line cut between two pieces */
    int keeping;      /* whether the current member is kept */
    int after_member; /* a kept member ended; its separator is not written yet */
} file_members;
void file_members_init(file_members *m, const char *const *names, int keep, const char *date,
                       tally_format_sink out, void *out_arg);
int file_members_sink(void *arg, const char *data, size_t len);
void file_members_free(file_members *m);

/* file_history.c: an API table like the host's for exporters/format,
 * whose history reads are always of snap (export_snapshot's own, while
 * format reads a copy) and, when from_date or to_date is not "", only of
 * [from_date, to_date). Hand format file_history_host(r) as host and
 * &r->api as api; valid while r is. */
typedef struct file_history {
    tally_host_api api;
    const tally_host_api *host_api;
    tally_host *host;
    const tally_snapshot *snap;
    char from_date[TALLY_DATE_LEN], to_date[TALLY_DATE_LEN];
} file_history;
void file_history_init(file_history *r, const file_ctx *ctx, const tally_snapshot *snap,
                       const char *from_date, const char *to_date);
tally_host *file_history_host(file_history *r);

/* file_render.c: a fill (below) that streams snap in format, optionally
 * through file_members (members not NULL: keep and date as there). */
typedef struct file_render {
    tally_format format;
    const tally_snapshot *snap;
    tally_format_opts opts;
    const char *const *members;
    int keep;
    const char *date;
} file_render;
int file_render_fill(void *arg, int fd);

/* file_dir.c: open (making it 0750 if missing) the directory name in
 * parent (a dirfd or AT_FDCWD), refusing a symlink or anything but a
 * directory; path names it in messages. 0 with *out open, or
 * TALLY_HOST_ERR (logged). */
int file_dir_open(const file_ctx *ctx, int parent, const char *name, const char *path, int *out);
/* Remove from dir_fd the temporary files a crash left (file_write.c's
 * names) of leaf, or of day files when leaf is NULL, and the day files
 * (YYYY-MM-DD.json) dated before oldest (NULL or "": none). dir_path
 * names it in messages. 0, or TALLY_HOST_ERR (logged). */
int file_dir_sweep(const file_ctx *ctx, int dir_fd, const char *dir_path, const char *leaf,
                   const char *oldest);

/* file_write.c: replacing a file atomically.
 *
 * A fill writes a file's new contents to fd and returns FILE_FILL_OK,
 * FILE_FILL_IO (a write failed; errno says why) or FILE_FILL_RENDER (the
 * contents could not be made: out of memory or a history read, which the
 * host logged). */
enum { FILE_FILL_OK = 0, FILE_FILL_IO = -1, FILE_FILL_RENDER = -2 };
typedef int (*file_fill_fn)(void *arg, int fd);
/* file_write_at's flags: refuse a symlink where the file goes; leave the
 * directory's fsync to the caller (one for many files). */
enum { FILE_NO_SYMLINK = 1u, FILE_NO_DIRSYNC = 2u };
/* Replace leaf in the directory dir_fd with what fill writes, so that a
 * reader sees the old file or the new one, never a part; the new file gets
 * ctx->mode. path names it in messages. 0, or TALLY_HOST_ERR (logged; the
 * old file is untouched unless only the directory's fsync failed). */
int file_write_at(const file_ctx *ctx, int dir_fd, const char *path, const char *leaf,
                  unsigned flags, file_fill_fn fill, void *arg);
/* The same for a path, in its directory (which may be a symlink). */
int file_write_path(const file_ctx *ctx, const char *path, file_fill_fn fill, void *arg);
/* Remove the temporary files of path that a crash left beside it. 0, or
 * TALLY_HOST_ERR (logged). */
int file_sweep_path(const file_ctx *ctx, const char *path);
/* Whether name is a temporary file's ("<base>.tmp.XXXXXX"), and its base's length. */
int file_temp_name(const char *name, size_t *base_len);
/* Remove leaf from dir_fd; 0 also when it is not there, or TALLY_HOST_ERR (logged). */
int file_remove_at(const file_ctx *ctx, int dir_fd, const char *path, const char *leaf);
/* fsync a directory after renames or removals in it: 0 or TALLY_HOST_ERR (logged). */
int file_sync_dir(const file_ctx *ctx, int dir_fd, const char *path);
/* write(2) all of p[0..n): 0, or TALLY_HOST_ERR with errno. */
int file_write_all(int fd, const char *p, size_t n);
/* "cannot write PATH: STEP: <errno text>; <advice>; nothing was changed ..." */
void file_report(const file_ctx *ctx, const char *path, const char *step, int err);
/* What leaf in dir_fd is ("a symlink", ...; see ownfile_kind), or NULL. */
const char *file_kind_at(int dir_fd, const char *leaf);

#endif
