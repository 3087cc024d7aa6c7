/*
 * options.c — see options.h.
 */
#include "options.h"

#include <stdlib.h>
#include <string.h>

static size_t count_rows(const tally_option *rows)
{
    size_t n = 0;
    while (rows != NULL && rows[n].def.name != NULL)
        n++;
    return n;
}

int options_table(const tally_option *rows, cfg_opt_t **out)
{
    size_t n = count_rows(rows);
    cfg_opt_t *opts = calloc(n + 1, sizeof(*opts));
    if (opts == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        opts[i] = rows[i].def;
    cfg_opt_t end = CFG_END();
    opts[n] = end;
    *out = opts;
    return 0;
}

int options_check(const tally_plugin *p, tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int bad = 0;
    for (const tally_option *o = p->options; o != NULL && o->def.name != NULL; o++)
        if (o->check != NULL && o->check(h, api, section, o->def.name) != TALLY_HOST_OK)
            bad = 1;
    if (p->check != NULL && p->check(h, api, section) != TALLY_HOST_OK)
        bad = 1;
    return bad ? TALLY_HOST_ERR : TALLY_HOST_OK;
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

void options_print(const tally_option *rows, FILE *out)
{
    for (const tally_option *o = rows; o != NULL && o->def.name != NULL; o++) {
        fprintf(out, "  %s", o->def.name);
        print_default(out, &o->def);
        if (o->help != NULL)
            fprintf(out, "\n      %s", o->help);
        fputc('\n', out);
    }
}

char *options_error_text(cfg_t *section, const char *fmt, va_list ap)
{
    char *msg = NULL, *text = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return NULL;
    const char *file = section != NULL && section->filename != NULL ? section->filename : "config";
    const char *title = section != NULL && cfg_title(section) != NULL ? cfg_title(section) : "";
    const char *plugin = section != NULL && cfg_name(section) != NULL ? cfg_name(section) : "?";
    if (asprintf(&text, "%s:%d: in %s \"%s\": %s", file, section != NULL ? section->line : 0,
                 plugin, title, msg) < 0)
        text = NULL;
    free(msg);
    return text;
}
