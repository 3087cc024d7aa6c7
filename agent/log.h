/*
 * log.h — tallyd's log: to stderr (default) or syslog, filtered by level.
 * Every line says who speaks (the agent, or "plugin instance" for a
 * plugin), what failed, where, and what to do. Secrets never reach it.
 */
#ifndef TALLY_AGENT_LOG_H
#define TALLY_AGENT_LOG_H

#include <stdarg.h>

#include "tally/plugin.h" /* TALLY_LOG_* levels */

/* "stderr" or "syslog"; level: "error", "warning", "info", "debug". */
int log_parse_level(const char *name, int *level);
int log_set_target(const char *target);
void log_set_level(int level);
int log_level(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *who, const char *fmt, va_list ap);

#endif
