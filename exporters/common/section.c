/*
 * section.c — see section.h.
 */
#include "section.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void section_error(tally_host *h, const tally_host_api *api, cfg_t *section, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    const char *file = section->filename ? section->filename : "config";
    const char *title = cfg_title(section) ? cfg_title(section) : "";
    api->log(h, TALLY_LOG_ERR, "%s:%d: in %s \"%s\": %s", file, section->line, cfg_name(section),
             title, text ? text : "invalid option (out of memory describing it)");
    free(text);
}
