/*
 * section.h — what every exporter's config checks share: reporting a
 * problem of a section with where it is. libconfuse 3.3 keeps no line per
 * option, only one per section (the line of its closing brace), so a
 * message says "FILE:LINE: in PLUGIN "TITLE":" and then names the option.
 */
#ifndef TALLY_EXPORTER_SECTION_H
#define TALLY_EXPORTER_SECTION_H

#include "tally/plugin.h"

/* Log one problem of `section` at error level, prefixed with where. */
void section_error(tally_host *h, const tally_host_api *api, cfg_t *section, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
