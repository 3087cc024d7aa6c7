/*
 * file.h — the file exporter's instance and the parts it is made of:
 * file_conf.c builds it from a `file "name" { ... }` section, file_path.c
 * expands the path template in the business zone, file_write.c replaces
 * the target atomically, and file.c is the plugin that ties them together.
 */
#ifndef TALLY_EXPORTER_FILE_H
#define TALLY_EXPORTER_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "tally/plugin.h"
#include "format.h"

typedef struct file_ctx {
    tally_host *host;
    const tally_host_api *api;
    char *instance;      /* the section's title, for messages */
    char *path_template; /* a strftime template, expanded per snapshot */
    tally_format format;
    char *csv_table; /* csv only; NULL for the other formats */
    mode_t mode;     /* applied with fchmod, so the umask does not matter */
} file_ctx;

/* file_conf.c: the option table and its descriptions, in the same order. */
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

/* file_write.c: replace `path` with data[0..len) so that a reader sees the
 * old file or the new one, never a part; the new file gets ctx->mode.
 * 0, or TALLY_HOST_ERR (logged; the old file is untouched). */
int file_write_atomic(const file_ctx *ctx, const char *path, const char *data, size_t len);

#endif
