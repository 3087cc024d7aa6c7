/*
 * options.c — see options.h.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>

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
