/*
 * options.h — a plugin's options as the host sees them: where a config
 * error in a plugin's section is, said in the one shape every plugin
 * shares. The mock host of the tests uses this file too, so a plugin's
 * unit tests see exactly the agent's messages.
 */
#ifndef TALLY_AGENT_OPTIONS_H
#define TALLY_AGENT_OPTIONS_H

#include <stdarg.h>

#include "tally/plugin.h"

/* "FILE:LINE: in PLUGIN \"TITLE\": MESSAGE" for a problem of section
 * (FILE "config" when libconfuse knows none), malloc'd; NULL when out of
 * memory. */
char *options_error_text(cfg_t *section, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
