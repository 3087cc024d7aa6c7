/*
 * options.h — a plugin's option rows (tally_option) as the host uses
 * them: the libconfuse table built from their definitions, their checks
 * run before the plugin's own, the --list-plugins help printed from them
 * (defaults from the definitions), and where a config error in a plugin's
 * section is, said in the one shape every plugin shares. The mock host of
 * the tests uses this file too, so a plugin's unit tests see exactly the
 * agent's rules and messages.
 */
#ifndef TALLY_AGENT_OPTIONS_H
#define TALLY_AGENT_OPTIONS_H

#include <stdarg.h>
#include <stdio.h>

#include "tally/plugin.h"

/* The libconfuse table of rows (their definitions and a CFG_END), in
 * *out (free it; libconfuse copies what it is given). 0, or -1 when out
 * of memory. */
int options_table(const tally_option *rows, cfg_opt_t **out);

/* Check one section of plugin p: every row's check, then p's check, all
 * of them (one tallyd -t shows every problem). TALLY_HOST_OK or
 * TALLY_HOST_ERR, each problem reported through api. */
int options_check(const tally_plugin *p, tally_host *h, const tally_host_api *api, cfg_t *section);

/* --list-plugins: each option's name, type and default (from its
 * definition), then its help. */
void options_print(const tally_option *rows, FILE *out);

/* "FILE:LINE: in PLUGIN \"TITLE\": MESSAGE" for a problem of section
 * (FILE "config" when libconfuse knows none), malloc'd; NULL when out of
 * memory. */
char *options_error_text(cfg_t *section, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
