/*
 * conf.c — see conf.h. Owns the option tables and the validators; the
 * libconfuse error function turns every message into "file:line: ...".
 */
#include "conf.h"

#include "clock.h"
#include "conf_map.h"
#include "conf_text.h"
#include "host.h"
#include "log.h"
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TALLY_PLUGIN_DIR
#define TALLY_PLUGIN_DIR "/usr/local/lib/tally"
#endif

#define MAX_INTERVAL 86400

static int errors_seen;
/* The directory the plugins were loaded from, for validate_plugin_dir. */
static const char *loaded_plugin_dir;
/* The conf being loaded, for validate_path to note where state_dir is. */
static conf *loading;

static int same_dir(const char *a, const char *b);

/* The valid option names of cfg's section, for "no such option" errors. */
static void valid_options(cfg_t *cfg, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (cfg_opt_t *o = cfg->opts; o != NULL && o->name != NULL; o++) {
        int n = snprintf(buf + used, cap - used, "%s%s%s", used ? ", " : "", o->name,
                         o->type == CFGT_SEC && strcmp(o->name, "map") == 0 ? " \"GLOB\""
                         : o->type == CFGT_SEC                              ? " (plugin)"
                         : o->type == CFGT_FUNC                             ? "(FILE)"
                                                                            : "");
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

static void conf_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    char msg[1024], hint[2048] = "";
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (strncmp(msg, "no such option", 14) == 0) {
        char names[1800];
        valid_options(cfg, names, sizeof(names));
        snprintf(hint, sizeof(hint), "; valid %s: %s",
                 strcmp(cfg->name, "root") == 0 ? "options and plugins" : "options here", names);
    } else if (strncmp(msg, "found duplicate title", 21) == 0) {
        snprintf(hint, sizeof(hint), "; %s",
                 conf_map_has_title(cfg, msg)
                     ? "a map rule's glob is given twice, and the second would never match: "
                       "remove one"
                     : "two instances of one plugin need two titles: rename one of them");
    } else if (strncmp(msg, "missing title for section", 25) == 0) {
        const char *q = strchr(msg, '\'');
        int len = q != NULL ? (int)strcspn(q + 1, "'") : 0;
        snprintf(hint, sizeof(hint), "; name the instance: %.*s \"title\" { ... }", len,
                 q != NULL ? q + 1 : "");
    } else if (strcmp(msg, "premature end of file") == 0) {
        snprintf(hint, sizeof(hint), "; the last option or section is unfinished");
    }
    errors_seen++;
    if (cfg->filename != NULL && cfg->line > 0)
        log_msg(TALLY_LOG_ERR, "%s:%d: %s%s", cfg->filename, cfg->line, msg, hint);
    else
        log_msg(TALLY_LOG_ERR, "%s: %s%s", cfg->filename ? cfg->filename : "config", msg, hint);
}

static int validate_timezone(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *tz = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (clock_zone_exists(tz) != 0) {
        cfg_error(cfg,
                  "timezone '%s' is not in the system tz database (/usr/share/zoneinfo): use "
                  "an IANA name like Asia/Shanghai or America/New_York",
                  tz);
        return -1;
    }
    return 0;
}

static int validate_interval(cfg_t *cfg, cfg_opt_t *opt)
{
    long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);
    if (v < 1 || v > MAX_INTERVAL) {
        cfg_error(cfg, "interval %ld is out of range: use 1..%d seconds", v, MAX_INTERVAL);
        return -1;
    }
    return 0;
}

/* log_level and log_format: one of the names log.h knows. */
static int validate_log_name(cfg_t *cfg, cfg_opt_t *opt)
{
    int level;
    log_format format;
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    int is_level = strcmp(opt->name, "log_level") == 0;
    if ((is_level ? log_parse_level(v, &level) : log_parse_format(v, &format)) == 0)
        return 0;
    cfg_error(cfg, "%s '%s' is not one of %s", opt->name, v,
              is_level ? "error, warning, info, debug" : "text, logfmt, json");
    return -1;
}

static int validate_log(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0) {
        cfg_error(cfg, "log '%s' is not one of stderr, syslog", v);
        return -1;
    }
    return 0;
}

static int validate_path(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (v == NULL || v[0] == '\0') {
        cfg_error(cfg, "%s must not be empty: give a directory", opt->name);
        return -1;
    }
    if (loading != NULL && strcmp(opt->name, "state_dir") == 0)
        snprintf(loading->state_dir_at, sizeof(loading->state_dir_at),
                 "%s:%d: ", cfg->filename ? cfg->filename : loading->file, cfg->line);
    return 0;
}

/*
 * Why the agent reads the file before libconfuse does. libconfuse 3.3
 * (a) takes the end of a file inside a section for its closing brace, and
 * the end of a file inside a / * comment for a clean end, so a truncated
 * file (an editor's half-written save, picked up by a HUP) would load with
 * sections missing; (b) counts a # or // comment as three lines and a
 * / * * / one as two, so every line number after a comment is wrong; and
 * (c) fails on a comment inside a list. So each file (the main one and
 * every include) is read here first: a scan that follows libconfuse's
 * lexer (comments, "..." and '...' strings with backslash escapes, ${VAR})
 * reports what is left open at the end, blanks the comments (newlines
 * kept, so lines stay true), and notes the value of one global option
 * set outside any section: plugin_dir (plugins must be loaded before the
 * real parse) or log_format (the lines logged before it follow it too).
 * libconfuse then parses the blanked text under the file's own name.
 */
struct scan {
    const char *file;
    int report;      /* log what is left open */
    const char *key; /* the global option looked for, or NULL */
    char *value;     /* its value found, if cap > 0 */
    size_t cap;
    int found, line; /* found: 1 if key was set; line: where */
};

static int is_word_char(const char *t, size_t i, size_t n)
{
    if (strchr(" #\"'\t\n\r={}()+,*", t[i]) != NULL)
        return 0;
    return !(t[i] == '/' && i + 1 < n && (t[i + 1] == '/' || t[i + 1] == '*'));
}

static void scan_open(struct scan *sc, int line, const char *what)
{
    if (sc->report)
        log_msg(TALLY_LOG_ERR, "%s:%d: %s", sc->file, line, what);
}

/* key's value: words at depth 0 go through pd (0 nothing, 1 after key,
 * 2 after its `=`). */
static void scan_value(struct scan *sc, int *pd, const char *v, size_t len, int line)
{
    if (*pd == 2 && sc->cap > 0 && len < sc->cap) {
        memcpy(sc->value, v, len);
        sc->value[len] = '\0';
        sc->found = 1;
        sc->line = line;
    }
    *pd = 0;
}

/* Comment bytes [from, to) become spaces; newlines stay. */
static void blank(char *t, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++)
        if (t[k] != '\n')
            t[k] = ' ';
}

/* 0 when nothing is left open (logged otherwise, if sc->report), 1 if
 * something is. Blanks the comments of t. */
static int scan_text(struct scan *sc, char *t, size_t n)
{
    int line = 1, depth = 0, brace_line = 0, pd = 0;
    size_t i = 0;
    while (i < n) {
        char c = t[i];
        if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
            line += c == '\n';
            i++;
        } else if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
            size_t from = i;
            while (i < n && t[i] != '\n')
                i++;
            blank(t, from, i);
        } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
            int start = line;
            size_t from = i;
            for (i += 2; i < n && !(t[i] == '*' && i + 1 < n && t[i + 1] == '/'); i++)
                line += t[i] == '\n';
            if (i >= n) {
                scan_open(sc, start, "this /* comment is never closed: add */ where it ends");
                return 1;
            }
            i += 2;
            blank(t, from, i);
        } else if (c == '"' || c == '\'') {
            int start = line;
            size_t from = ++i;
            for (; i < n && t[i] != c; i++) {
                if (t[i] == '\\' && i + 1 < n)
                    i++;
                line += t[i] == '\n';
            }
            if (i >= n) {
                scan_open(sc, start,
                          c == '"' ? "this \" string is never closed: add the closing \""
                                   : "this ' string is never closed: add the closing '");
                return 1;
            }
            scan_value(sc, &pd, t + from, i - from, start);
            i++;
        } else if (c == '$' && i + 1 < n && t[i + 1] == '{') {
            while (i < n && t[i] != '}')
                line += t[i++] == '\n';
            i++;
            pd = 0;
        } else if (c == '{' || c == '}') {
            if (c == '{' && depth++ == 0)
                brace_line = line;
            else if (c == '}' && depth > 0)
                depth--;
            i++;
            pd = 0;
        } else if (c == '=') {
            pd = pd == 1 ? 2 : 0;
            i++;
        } else if (is_word_char(t, i, n)) {
            size_t from = i;
            while (i < n && is_word_char(t, i, n))
                i++;
            if (depth == 0 && sc->key != NULL && i - from == strlen(sc->key) &&
                memcmp(t + from, sc->key, i - from) == 0)
                pd = 1;
            else
                scan_value(sc, &pd, t + from, i - from, line);
        } else {
            i++;
            pd = 0;
        }
    }
    if (depth > 0) {
        scan_open(sc, brace_line,
                  "this '{' is never closed before the end of the file: add the matching '}'");
        return 1;
    }
    return 0;
}

/* report: whether a refused file is logged (once, by the first caller). */
static int prescan(const char *file, const char *key, char *buf, size_t cap, int *line, int report)
{
    struct scan sc = {.file = file, .key = key, .value = buf, .cap = cap};
    size_t len;
    char *text;
    char why[1024];
    /* A file that cannot be read conf_load reports; one refused fails
     * here, before a plugin dir it may not even name is tried. */
    int rc = conf_text_read(file, &text, &len, why, sizeof(why));
    if (rc == CONF_TEXT_REFUSED && report)
        log_msg(TALLY_LOG_ERR, "config %s", why);
    if (rc != CONF_TEXT_OK)
        return rc == CONF_TEXT_REFUSED ? -2 : -1;
    scan_text(&sc, text, len);
    free(text);
    if (line != NULL)
        *line = sc.line;
    return sc.found;
}

int conf_prescan_plugin_dir(const char *file, char *buf, size_t cap, int *line)
{
    return prescan(file, "plugin_dir", buf, cap, line, 1);
}

int conf_prescan_log_format(const char *file, log_format *format)
{
    char name[16];
    if (prescan(file, "log_format", name, sizeof(name), NULL, 0) != 1)
        return -1;
    return log_parse_format(name, format);
}

/* text (len bytes, from file): scanned, then parsed into cfg from the
 * blanked text under file's name (cfg_parse_fp names what it parses after
 * cfg->filename). A CFG_* code. */
static int quiet; /* conf_used_plugins' parse: nothing is reported */

static int parse_text(cfg_t *cfg, const char *file, char *text, size_t len)
{
    struct scan sc = {.file = file, .report = !quiet};
    if (scan_text(&sc, text, len) != 0)
        return CFG_PARSE_ERROR;
    if (len == 0)
        return CFG_SUCCESS; /* fmemopen refuses an empty buffer */
    FILE *fp = fmemopen(text, len, "r");
    if (fp == NULL)
        return CFG_FILE_ERROR;
    int rc = cfg_parse_fp(cfg, fp);
    fclose(fp);
    return rc;
}

/* A CFG_* code; a file that cannot be read is logged here. */
static int parse_file(cfg_t *cfg, const char *file)
{
    size_t len;
    char *text;
    char why[1024];
    int rc = conf_text_read(file, &text, &len, why, sizeof(why));
    if (rc == CONF_TEXT_UNREADABLE && !quiet)
        log_msg(TALLY_LOG_ERR, "config %s: cannot read: %s; give an existing file with -c", file,
                why);
    else if (rc != CONF_TEXT_OK && !quiet)
        log_msg(TALLY_LOG_ERR, "config %s", why);
    if (rc != CONF_TEXT_OK)
        return CFG_FILE_ERROR;
    free(cfg->filename);
    cfg->filename = strdup(file);
    rc = cfg->filename != NULL ? parse_text(cfg, file, text, len) : CFG_FILE_ERROR;
    free(text);
    return rc;
}

/*
 * include(FILE), done here rather than by libconfuse 3.3, whose include
 * leaves its include stack (and the file open) behind when the included
 * file has an error: after ten such failed reloads every include fails
 * with "includes nested too deeply", and each one leaks a descriptor.
 * Here the included file is read, scanned and blanked like the main one
 * and parsed into the same cfg by a nested cfg_parse_fp (the lexer keeps
 * a stack of buffers, so the outer file resumes where it was), with the
 * name and line of the including file put back afterwards. A relative
 * path is taken from the current directory, as libconfuse does.
 */
#define MAX_INCLUDE_DEPTH 8
static int include_depth;

static int conf_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
    if (argc != 1) {
        cfg_error(cfg, "include takes one file name, e.g. include(\"/etc/tally/exporters.conf\")");
        return 1;
    }
    if (include_depth >= MAX_INCLUDE_DEPTH) {
        cfg_error(cfg,
                  "include(\"%s\"): includes nested more than %d deep; does a file include "
                  "itself?",
                  argv[0], MAX_INCLUDE_DEPTH);
        return 1;
    }
    char *path = cfg_tilde_expand(argv[0]);
    size_t len;
    char *text = NULL;
    char why[1024];
    int rc = CONF_TEXT_UNREADABLE;
    snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
    if (path != NULL)
        rc = conf_text_read(path, &text, &len, why, sizeof(why));
    if (rc == CONF_TEXT_UNREADABLE)
        cfg_error(cfg, "include(\"%s\"): cannot read %s: %s", argv[0], path ? path : argv[0], why);
    else if (rc != CONF_TEXT_OK)
        cfg_error(cfg, "include(\"%s\"): %s", argv[0], why);
    if (rc != CONF_TEXT_OK) {
        free(path);
        return 1;
    }
    char *outer_file = cfg->filename;
    int outer_line = cfg->line;
    cfg->filename = path;
    include_depth++;
    rc = parse_text(cfg, path, text, len);
    include_depth--;
    cfg->filename = outer_file;
    cfg->line = outer_line;
    free(text);
    free(path);
    return rc == CFG_SUCCESS ? 0 : 1;
}

static void no_errors(cfg_t *cfg, const char *fmt, va_list ap)
{
    (void)cfg;
    (void)fmt;
    (void)ap;
}

/* A table in which every plugin file is a section that takes any option,
 * and any other name is an option: enough for libconfuse to find the
 * sections without the plugins' own tables. A section of a name that is
 * no plugin file does not parse, and neither does a nested section:
 * then every plugin is loaded and the real parse says what is wrong. */
int conf_used_plugins(const char *file, const char *const *stems, size_t n, unsigned char *used)
{
    cfg_opt_t any[] = {CFG_STR("__unknown", NULL, CFGF_NONE), CFG_END()};
    cfg_opt_t *opts = calloc(n + 4, sizeof(*opts));
    if (opts == NULL)
        return -1;
    cfg_opt_t unknown = CFG_STR("__unknown", NULL, CFGF_NONE);
    cfg_opt_t include = CFG_FUNC("include", conf_include);
    /* map sections are the agent's, not a plugin's (conf_map.h). */
    cfg_opt_t map = CFG_SEC("map", any, CFGF_MULTI | CFGF_TITLE | CFGF_IGNORE_UNKNOWN);
    cfg_opt_t end = CFG_END();
    size_t k = 0;
    opts[k++] = unknown;
    opts[k++] = include;
    opts[k++] = map;
    for (size_t i = 0; i < n; i++) {
        used[i] = 0;
        if (strcmp(stems[i], "include") == 0 || strcmp(stems[i], "__unknown") == 0 ||
            strcmp(stems[i], "map") == 0)
            continue;
        cfg_opt_t sec = CFG_SEC(stems[i], any, CFGF_MULTI | CFGF_TITLE | CFGF_IGNORE_UNKNOWN);
        opts[k++] = sec;
    }
    opts[k] = end;
    cfg_t *cfg = cfg_init(opts, CFGF_IGNORE_UNKNOWN);
    free(opts);
    if (cfg == NULL)
        return -1;
    cfg_set_error_function(cfg, no_errors);
    quiet = 1;
    int rc = parse_file(cfg, file);
    quiet = 0;
    for (size_t i = 0; rc == CFG_SUCCESS && i < n; i++)
        used[i] = cfg_getopt(cfg, stems[i]) != NULL && cfg_size(cfg, stems[i]) > 0;
    cfg_free(cfg);
    return rc == CFG_SUCCESS ? 0 : -1;
}

/* Checked where it is set, so the message has the file and line; a file
 * without plugin_dir takes the directory the plugins came from. */
static int validate_plugin_dir(cfg_t *cfg, cfg_opt_t *opt)
{
    if (validate_path(cfg, opt) != 0)
        return -1;
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (loaded_plugin_dir != NULL && !same_dir(v, loaded_plugin_dir)) {
        cfg_error(cfg,
                  "plugin_dir '%s' differs from the directory the plugins were loaded from "
                  "('%s'): set plugin_dir in the main config file (an included file is read "
                  "after the plugins are loaded), or make it agree with --plugin-dir",
                  v, loaded_plugin_dir);
        return -1;
    }
    return 0;
}

/* The root table: globals, include, one section per plugin, then the
 * map sections and unmapped (conf_map.h). */
static cfg_opt_t *root_options(const plugin_set *plugins)
{
    cfg_opt_t globals[] = {
        CFG_STR("timezone", "Asia/Shanghai", CFGF_NONE),
        CFG_STR("state_dir", "/var/lib/tally", CFGF_NONE),
        CFG_INT("interval", 60, CFGF_NONE),
        CFG_STR("plugin_dir", TALLY_PLUGIN_DIR, CFGF_NONE),
        CFG_STR("log_level", "info", CFGF_NONE),
        CFG_STR("log", "stderr", CFGF_NONE),
        CFG_STR("log_format", "text", CFGF_NONE),
        CFG_FUNC("include", conf_include),
    };
    size_t ng = sizeof(globals) / sizeof(globals[0]);
    cfg_opt_t *opts = calloc(ng + plugins->n + CONF_MAP_N_OPTIONS + 1, sizeof(*opts));
    if (opts == NULL)
        return NULL;
    memcpy(opts, globals, sizeof(globals));
    for (size_t i = 0; i < plugins->n; i++) {
        cfg_opt_t sec = CFG_SEC(plugins->v[i].desc.name, plugins->v[i].opts,
                                CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
        opts[ng + i] = sec;
    }
    conf_map_options(opts + ng + plugins->n);
    cfg_opt_t end = CFG_END();
    opts[ng + plugins->n + CONF_MAP_N_OPTIONS] = end;
    return opts;
}

static void set_validators(cfg_t *cfg)
{
    cfg_set_validate_func(cfg, "timezone", validate_timezone);
    cfg_set_validate_func(cfg, "interval", validate_interval);
    cfg_set_validate_func(cfg, "log_level", validate_log_name);
    cfg_set_validate_func(cfg, "log", validate_log);
    cfg_set_validate_func(cfg, "log_format", validate_log_name);
    cfg_set_validate_func(cfg, "state_dir", validate_path);
    cfg_set_validate_func(cfg, "plugin_dir", validate_plugin_dir);
    conf_map_validators(cfg);
}

/* Records go to one collector: a second one is refused where it is. */
static int one_collector(const conf *c)
{
    const conf_instance *first = NULL;
    int bad = 0;
    for (size_t i = 0; i < c->n_inst; i++) {
        const conf_instance *ci = &c->inst[i];
        if (ci->plugin->desc.kind != TALLY_PLUGIN_COLLECTOR)
            continue;
        if (first == NULL) {
            first = ci;
            continue;
        }
        log_msg(TALLY_LOG_ERR,
                "%s:%d: %s \"%s\": a second collector; records go to one collector, so keep "
                "one (%s \"%s\" at %s:%d) and remove the other section",
                ci->section->filename ? ci->section->filename : c->file, ci->section->line,
                ci->plugin->desc.name, ci->title, first->plugin->desc.name, first->title,
                first->section->filename ? first->section->filename : c->file,
                first->section->line);
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* Collect the plugin instances and let each plugin check its sections. */
static int collect_instances(conf *c, const plugin_set *plugins)
{
    int bad = 0;
    for (size_t p = 0; p < plugins->n; p++) {
        const loaded_plugin *lp = &plugins->v[p];
        unsigned n = cfg_size(c->cfg, lp->desc.name);
        for (unsigned i = 0; i < n; i++) {
            cfg_t *sec = cfg_getnsec(c->cfg, lp->desc.name, i);
            conf_instance *grown = realloc(c->inst, (c->n_inst + 1) * sizeof(*grown));
            if (grown == NULL)
                return -1;
            c->inst = grown;
            c->inst[c->n_inst++] = (conf_instance){lp, cfg_title(sec), sec};
            if (host_check(lp, cfg_title(sec), sec) != 0)
                bad = 1;
        }
    }
    if (one_collector(c) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

static int same_dir(const char *a, const char *b)
{
    char ra[4096], rb[4096];
    if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
        return strcmp(a, b) == 0;
    return strcmp(ra, rb) == 0;
}

int conf_load(const char *file, const plugin_set *plugins, const char *plugin_dir, conf **out)
{
    *out = NULL;
    conf *c = calloc(1, sizeof(*c));
    cfg_opt_t *opts = root_options(plugins);
    if (c == NULL || opts == NULL) {
        free(c);
        free(opts);
        return -1;
    }
    snprintf(c->file, sizeof(c->file), "%s", file);
    /* libconfuse copies the table, so ours can go right away. */
    c->cfg = cfg_init(opts, CFGF_NONE);
    free(opts);
    if (c->cfg == NULL) {
        free(c);
        return -1;
    }
    cfg_set_error_function(c->cfg, conf_error);
    set_validators(c->cfg);
    errors_seen = 0;
    loaded_plugin_dir = plugin_dir;
    loading = c;
    int rc = parse_file(c->cfg, file);
    loaded_plugin_dir = NULL;
    loading = NULL;
    if (rc != CFG_SUCCESS || errors_seen > 0) {
        conf_free(c);
        return -1;
    }
    c->timezone = cfg_getstr(c->cfg, "timezone");
    c->state_dir = cfg_getstr(c->cfg, "state_dir");
    if (c->state_dir_at[0] == '\0')
        snprintf(c->state_dir_at, sizeof(c->state_dir_at),
                 "%s: state_dir is not set, so the default applies: ", file);
    c->plugin_dir = plugin_dir; /* checked against the file's by validate_plugin_dir */
    c->log_target = cfg_getstr(c->cfg, "log");
    c->interval = cfg_getint(c->cfg, "interval");
    log_parse_level(cfg_getstr(c->cfg, "log_level"), &c->log_level);
    log_parse_format(cfg_getstr(c->cfg, "log_format"), &c->log_format);
    if (conf_map_load(c->cfg, file, &c->map) != 0 || collect_instances(c, plugins) != 0) {
        conf_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void conf_free(conf *c)
{
    if (c == NULL)
        return;
    cfg_free(c->cfg);
    conf_map_unref(c->map);
    free(c->inst);
    free(c);
}

void conf_list_plugins(const plugin_set *plugins, FILE *out)
{
    fprintf(out, "plugin dir: %s\n", plugins->dir);
    for (size_t i = 0; i < plugins->n; i++) {
        const tally_plugin *d = &plugins->v[i].desc;
        fprintf(out, "\n%s (%s)%s%s\n", d->name, loader_kind_name(d->kind), d->summary ? ": " : "",
                d->summary ? d->summary : "");
        options_print(d->options, out);
    }
}
