/*
 * log.h — tallyd's log: to stderr (default) or syslog, filtered by level,
 * as text (the default), logfmt or JSON lines. Every line says who speaks
 * (the agent, or a plugin and its instance), what failed, where, and what
 * to do. Secrets never reach it.
 *
 * When stderr is the journal (systemd sets JOURNAL_STREAM to its
 * device:inode), each line starts with its sd-daemon priority ("<3>") so
 * journald files it at that priority, and carries no time of its own:
 * journald stamps every line, as syslog does.
 */
#ifndef TALLY_AGENT_LOG_H
#define TALLY_AGENT_LOG_H

#include <stdarg.h>

#include "tally/plugin.h" /* TALLY_LOG_* levels */

typedef enum { LOG_FORMAT_TEXT, LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON } log_format;

/* level: "error", "warning", "info", "debug"; format: "text", "logfmt",
 * "json". 0, or -1 (out untouched) for another name. */
int log_parse_level(const char *name, int *level);
int log_parse_format(const char *name, log_format *format);
/* "stderr" or "syslog"; 0, or -1 for another. Also looks again whether
 * stderr is the journal. */
int log_set_target(const char *target);
void log_set_level(int level);
void log_set_format(log_format format);
int log_level(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A plugin's line: plugin and instance are fields of their own in logfmt
 * and JSON, `plugin "instance": ` before the text otherwise (`plugin: `
 * without an instance). */
void log_vmsg(int level, const char *plugin, const char *instance, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
