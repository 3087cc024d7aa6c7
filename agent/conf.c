/*
 * conf.c — see conf.h. Owns the option tables and the validators; the
 * libconfuse error function turns every message into "file:line: ...".
 */
#include "conf.h"

#include "clock.h"
#include "host.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TALLY_PLUGIN_DIR
#define TALLY_PLUGIN_DIR "/usr/local/lib/tally"
#endif

#define MAX_INTERVAL 86400

static int errors_seen;

/* The valid option names of cfg's section, for "no such option" errors. */
static void valid_options(cfg_t *cfg, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (cfg_opt_t *o = cfg->opts; o != NULL && o->name != NULL; o++) {
        if (o->type == CFGT_FUNC)
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s%s", used ? ", " : "", o->name,
                         o->type == CFGT_SEC ? " (plugin)" : "");
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

static int validate_log_level(cfg_t *cfg, cfg_opt_t *opt)
{
    int level;
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (log_parse_level(v, &level) != 0) {
        cfg_error(cfg, "log_level '%s' is not one of error, warning, info, debug", v);
        return -1;
    }
    return 0;
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
    return 0;
}

/* The root table: globals, include, then one section per plugin. */
static cfg_opt_t *root_options(const plugin_set *plugins)
{
    cfg_opt_t globals[] = {
        CFG_STR("timezone", "Asia/Shanghai", CFGF_NONE),
        CFG_STR("state_dir", "/var/lib/tally", CFGF_NONE),
        CFG_INT("interval", 60, CFGF_NONE),
        CFG_STR("plugin_dir", TALLY_PLUGIN_DIR, CFGF_NONE),
        CFG_STR("log_level", "info", CFGF_NONE),
        CFG_STR("log", "stderr", CFGF_NONE),
        CFG_FUNC("include", cfg_include),
    };
    size_t ng = sizeof(globals) / sizeof(globals[0]);
    cfg_opt_t *opts = calloc(ng + plugins->n + 1, sizeof(*opts));
    if (opts == NULL)
        return NULL;
    memcpy(opts, globals, sizeof(globals));
    for (size_t i = 0; i < plugins->n; i++) {
        cfg_opt_t sec = CFG_SEC(plugins->v[i].desc->name, plugins->v[i].desc->options,
                                CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
        opts[ng + i] = sec;
    }
    cfg_opt_t end = CFG_END();
    opts[ng + plugins->n] = end;
    return opts;
}

static void set_validators(cfg_t *cfg)
{
    cfg_set_validate_func(cfg, "timezone", validate_timezone);
    cfg_set_validate_func(cfg, "interval", validate_interval);
    cfg_set_validate_func(cfg, "log_level", validate_log_level);
    cfg_set_validate_func(cfg, "log", validate_log);
    cfg_set_validate_func(cfg, "state_dir", validate_path);
    cfg_set_validate_func(cfg, "plugin_dir", validate_path);
}

/* Collect the plugin instances and let each plugin check its sections. */
static int collect_instances(conf *c, const plugin_set *plugins)
{
    int bad = 0;
    for (size_t p = 0; p < plugins->n; p++) {
        const loaded_plugin *lp = &plugins->v[p];
        unsigned n = cfg_size(c->cfg, lp->desc->name);
        for (unsigned i = 0; i < n; i++) {
            cfg_t *sec = cfg_getnsec(c->cfg, lp->desc->name, i);
            conf_instance *grown = realloc(c->inst, (c->n_inst + 1) * sizeof(*grown));
            if (grown == NULL)
                return -1;
            c->inst = grown;
            c->inst[c->n_inst++] = (conf_instance){lp, cfg_title(sec), sec};
            if (lp->desc->check != NULL && host_check(lp, cfg_title(sec), sec) != 0)
                bad = 1;
        }
    }
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
    int rc = cfg_parse(c->cfg, file);
    if (rc == CFG_FILE_ERROR)
        log_msg(TALLY_LOG_ERR, "config %s: cannot read: %s; give an existing file with -c", file,
                strerror(errno));
    if (rc != CFG_SUCCESS || errors_seen > 0) {
        conf_free(c);
        return -1;
    }
    c->timezone = cfg_getstr(c->cfg, "timezone");
    c->state_dir = cfg_getstr(c->cfg, "state_dir");
    c->plugin_dir = cfg_getstr(c->cfg, "plugin_dir");
    c->log_target = cfg_getstr(c->cfg, "log");
    c->interval = cfg_getint(c->cfg, "interval");
    log_parse_level(cfg_getstr(c->cfg, "log_level"), &c->log_level);
    int bad = 0;
    if (!same_dir(c->plugin_dir, plugin_dir)) {
        log_msg(TALLY_LOG_ERR,
                "%s: plugin_dir '%s' differs from the plugin dir the plugins were loaded from "
                "('%s'): set plugin_dir in the main config file (not in an included one), or "
                "pass --plugin-dir",
                file, c->plugin_dir, plugin_dir);
        bad = 1;
    }
    if (collect_instances(c, plugins) != 0 || bad) {
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
    free(c->inst);
    free(c);
}

/* A small scanner for `plugin_dir = "..."` outside any section: comments
 * (#, //, / * * /) and quoted strings are skipped, braces counted. */
int conf_prescan_plugin_dir(const char *file, char *buf, size_t cap)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    char line[8192];
    int depth = 0, found = 0, in_block = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        for (char *p = line; *p && !found; p++) {
            if (in_block) {
                if (p[0] == '*' && p[1] == '/')
                    in_block = 0, p++;
                continue;
            }
            if (*p == '#' || (p[0] == '/' && p[1] == '/'))
                break;
            if (p[0] == '/' && p[1] == '*') {
                in_block = 1;
                p++;
            } else if (*p == '"') {
                while (*++p && *p != '"')
                    if (*p == '\\' && p[1])
                        p++;
                if (!*p)
                    break;
            } else if (*p == '{') {
                depth++;
            } else if (*p == '}') {
                depth--;
            } else if (depth == 0 && strncmp(p, "plugin_dir", 10) == 0 &&
                       (p == line || !isalnum((unsigned char)p[-1])) &&
                       !isalnum((unsigned char)p[10]) && p[10] != '_') {
                char *q = p + 10;
                while (*q == ' ' || *q == '\t' || *q == '=')
                    q++;
                if (*q == '"' && strchr(q + 1, '"') != NULL) {
                    size_t n = (size_t)(strchr(q + 1, '"') - (q + 1));
                    if (n < cap) {
                        memcpy(buf, q + 1, n);
                        buf[n] = '\0';
                        found = 1;
                    }
                }
            }
        }
    }
    fclose(f);
    return found;
}

static void print_default(FILE *out, const cfg_opt_t *o)
{
    switch (o->type) {
    case CFGT_INT:
        fprintf(out, " (integer, default %ld)", o->def.number);
        break;
    case CFGT_FLOAT:
        fprintf(out, " (number, default %g)", o->def.fpnumber);
        break;
    case CFGT_BOOL:
        fprintf(out, " (boolean, default %s)", o->def.boolean ? "true" : "false");
        break;
    case CFGT_STR:
        if (o->flags & CFGF_LIST)
            fprintf(out, " (list of strings%s%s)", o->def.parsed ? ", default " : "",
                    o->def.parsed ? o->def.parsed : "");
        else if (o->def.string != NULL)
            fprintf(out, " (string, default \"%s\")", o->def.string);
        else
            fprintf(out, " (string)");
        break;
    default:
        break;
    }
}

void conf_list_plugins(const plugin_set *plugins, FILE *out)
{
    fprintf(out, "plugin dir: %s\n", plugins->dir);
    for (size_t i = 0; i < plugins->n; i++) {
        const tally_plugin *d = plugins->v[i].desc;
        fprintf(out, "\n%s (%s)%s%s\n", d->name, loader_kind_name(d->kind), d->summary ? ": " : "",
                d->summary ? d->summary : "");
        for (size_t k = 0; d->options[k].name != NULL; k++) {
            fprintf(out, "  %s", d->options[k].name);
            print_default(out, &d->options[k]);
            if (d->option_help != NULL && d->option_help[k] != NULL)
                fprintf(out, "\n      %s", d->option_help[k]);
            fputc('\n', out);
        }
    }
}
