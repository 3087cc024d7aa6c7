/*
 * file_conf.c — the file exporter's options: the libconfuse table, the
 * checks libconfuse cannot make (names of formats, tables and layouts,
 * an octal mode, a required path, split only for json), and building and
 * freeing a file_ctx.
 * Messages say where through the host's config_error.
 */
#include "file.h"
#include "perm/perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* `table` has no default in the table itself: a value given with a format
 * other than csv is a mistake worth reporting, and only NULL tells us that
 * nobody set it. csv falls back to "days". */
const tally_option file_options[] = {
    {CFG_STR("path", NULL, CFGF_NONE),
     "file to write (required); a strftime template expanded with the business zone's local "
     "time of the snapshot, e.g. \"/var/lib/tally/summary-%Y-%m-%d.json\"; its directory must "
     "exist. With layout = \"split\", the directory to write in (made 0750 if missing)",
     NULL},
    {CFG_STR("format", "json", CFGF_NONE), "json, prometheus, csv or influx", NULL},
    {CFG_STR("table", NULL, CFGF_NONE),
     "csv only: days (when not set), user_days, summary, today, combined, counters or counter_days",
     NULL},
    {CFG_STR("mode", "0644", CFGF_NONE),
     "file mode as octal digits, \"0000\" to \"0777\", whatever the umask", NULL},
    {CFG_STR("layout", "single", CFGF_NONE),
     "single: one document, written whole when anything but its times changed (every listed "
     "row each time); split (json only): path is a directory of current.json, written every "
     "cycle, and days/YYYY-MM-DD.json per closed day, written when that day changed",
     NULL},
    TALLY_OPTION_END,
};

#define DEFAULT_CSV_TABLE "days"
#define FORMAT_NAMES "json, prometheus, csv, influx"
#define TABLE_NAMES "days, user_days, summary, today, combined, counters, counter_days"
#define LAYOUT_NAMES "single, split"

/* Setuid, setgid and sticky bits make no sense on a summary file. */
#define FILE_MODE_MAX 0777

static int check_path(tally_host *h, const tally_host_api *api, cfg_t *section, int split)
{
    const char *path = cfg_getstr(section, "path");
    if (path == NULL) {
        api->config_error(h, section,
                          "option 'path' is required; set path = \"/var/lib/tally/summary.json\" "
                          "(a strftime template such as \"summary-%%Y-%%m-%%d.json\" works too)");
        return TALLY_HOST_ERR;
    }
    if (path[0] == '\0') {
        api->config_error(h, section, "option 'path' is empty; set it to the file to write");
        return TALLY_HOST_ERR;
    }
    if (!split && path[strlen(path) - 1] == '/') {
        api->config_error(
            h, section,
            "option 'path' = \"%s\" names a directory; add the file name to write in it", path);
        return TALLY_HOST_ERR;
    }
    /* Expanding it once now catches a template that yields nothing or too
     * much, before the first export would. A fixed instant in UTC keeps
     * check independent of the clock and zone, which may not be set yet. */
    const time_t probe = 1798761599; /* 2026-12-31T23:59:59Z: two-digit fields */
    struct tm tm;
    char *expanded = NULL;
    if (gmtime_r(&probe, &tm) == NULL || file_path_format(path, &tm, &expanded) != 0) {
        api->config_error(h, section,
                          "option 'path' = \"%s\" expands to an empty name or one longer than "
                          "PATH_MAX; shorten the template",
                          path);
        return TALLY_HOST_ERR;
    }
    free(expanded);
    return 0;
}

static int check_format(tally_host *h, const tally_host_api *api, cfg_t *section,
                        tally_format *format)
{
    const char *name = cfg_getstr(section, "format");
    if (name == NULL || tally_format_from_name(name, format) != 0) {
        api->config_error(h, section,
                          "option 'format' = \"%s\" is unknown; use one of " FORMAT_NAMES,
                          name ? name : "");
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_table(tally_host *h, const tally_host_api *api, cfg_t *section,
                       const tally_format *format)
{
    const char *table = cfg_getstr(section, "table");
    if (table == NULL)
        return 0;
    if (format != NULL && *format != TALLY_FORMAT_CSV) {
        api->config_error(
            h, section,
            "option 'table' only applies to format = \"csv\" (format is \"%s\"); remove "
            "table or set format = \"csv\"",
            tally_format_name(*format));
        return TALLY_HOST_ERR;
    }
    if (tally_format_csv_table_valid(table) != 0) {
        api->config_error(h, section,
                          "option 'table' = \"%s\" is not a csv table; use one of " TABLE_NAMES,
                          table);
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_mode(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    const char *text = cfg_getstr(section, "mode");
    mode_t mode;
    if (perm_mode_parse(text, FILE_MODE_MAX, &mode) != 0) {
        api->config_error(
            h, section,
            "option 'mode' = \"%s\" is not a file mode; give octal digits from \"0000\" "
            "to \"0777\", e.g. mode = \"0644\"",
            text ? text : "");
        return TALLY_HOST_ERR;
    }
    return 0;
}

/* layout: a known name, and split only with json (its files are JSON
 * documents cut by member). */
static int check_layout(tally_host *h, const tally_host_api *api, cfg_t *section,
                        const tally_format *format, file_layout *layout)
{
    const char *name = cfg_getstr(section, "layout");
    if (file_layout_from_name(name, layout) != 0) {
        api->config_error(h, section,
                          "option 'layout' = \"%s\" is unknown; use one of " LAYOUT_NAMES,
                          name ? name : "");
        return TALLY_HOST_ERR;
    }
    if (*layout == FILE_LAYOUT_SPLIT && format != NULL && *format != TALLY_FORMAT_JSON) {
        api->config_error(h, section,
                          "option 'layout' = \"split\" writes JSON files only (format is "
                          "\"%s\"); set format = \"json\" or layout = \"single\"",
                          tally_format_name(*format));
        return TALLY_HOST_ERR;
    }
    return 0;
}

int file_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    /* Every problem is reported, not just the first, so one `tallyd -t`
     * shows all there is to fix. */
    int rc = 0;
    tally_format format;
    int format_ok = check_format(h, api, section, &format) == 0;
    if (!format_ok)
        rc = TALLY_HOST_ERR;
    /* With an unknown format, a table is still checked against csv's. */
    if (check_table(h, api, section, format_ok ? &format : NULL) != 0)
        rc = TALLY_HOST_ERR;
    if (check_mode(h, api, section) != 0)
        rc = TALLY_HOST_ERR;
    file_layout layout = FILE_LAYOUT_SINGLE;
    if (check_layout(h, api, section, format_ok ? &format : NULL, &layout) != 0)
        rc = TALLY_HOST_ERR;
    if (check_path(h, api, section, layout == FILE_LAYOUT_SPLIT) != 0)
        rc = TALLY_HOST_ERR;
    return rc;
}

int file_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, file_ctx **out)
{
    /* init may meet a section nobody checked (a caller that skips check);
     * building from bad values would fail later and less clearly. */
    if (file_conf_check(h, api, section) != 0)
        return TALLY_HOST_ERR;
    file_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        goto oom;
    ctx->host = h;
    ctx->api = api;
    tally_format_from_name(cfg_getstr(section, "format"), &ctx->format);
    perm_mode_parse(cfg_getstr(section, "mode"), FILE_MODE_MAX, &ctx->mode);
    file_layout_from_name(cfg_getstr(section, "layout"), &ctx->layout);
    const char *title = cfg_title(section);
    ctx->instance = strdup(title ? title : "");
    ctx->path_template = strdup(cfg_getstr(section, "path"));
    if (ctx->instance == NULL || ctx->path_template == NULL)
        goto oom;
    if (ctx->format == TALLY_FORMAT_CSV) {
        const char *table = cfg_getstr(section, "table");
        ctx->csv_table = strdup(table ? table : DEFAULT_CSV_TABLE);
        if (ctx->csv_table == NULL)
            goto oom;
    }
    *out = ctx;
    return 0;
oom:
    api->log(h, TALLY_LOG_ERR, "out of memory building the file exporter; free memory and restart");
    file_conf_free(ctx);
    return TALLY_HOST_ERR;
}

void file_conf_free(file_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->instance);
    free(ctx->path_template);
    free(ctx->csv_table);
    free(ctx);
}
