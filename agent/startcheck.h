/*
 * startcheck.h — what tallyd would refuse at start that can be known
 * without starting: a state_dir that is missing, not a directory or not
 * writable, a state database that a newer release wrote, a pidfile that
 * cannot be written. `tallyd -t`, every start and every reload (before it
 * stops the running config) call this one check; it creates and changes
 * nothing. What the config alone says (options, plugins' checks, a second
 * collector) conf_load checks.
 */
#ifndef TALLY_AGENT_STARTCHECK_H
#define TALLY_AGENT_STARTCHECK_H

#include "conf.h"

/* 0, or -1 with every problem logged (file:line where the config says). */
int startcheck_run(const conf *c, const char *pidfile);

#endif
