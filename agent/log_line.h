/*
 * log_line.h — one log line in the shape the config asks for (text,
 * logfmt or JSON), written to a stream without its newline: the log
 * (log.c) decides where it goes, with which prefix, and whether it
 * carries its own time.
 */
#ifndef TALLY_AGENT_LOG_LINE_H
#define TALLY_AGENT_LOG_LINE_H

#include <stdio.h>

#include "log.h"

typedef struct log_entry {
    const char *level; /* "error", "warning", "info", "debug" */
    /* Both NULL for the agent itself; instance NULL for a host that has
     * only a name (plugin then holds it). */
    const char *plugin, *instance;
    const char *text;
    /* The line's time as RFC 3339 UTC, or NULL where the sink stamps
     * lines itself (syslog, the journal). */
    const char *stamp;
} log_entry;

/* e as one line (no newline) on out:
 *   text:   [STAMP tallyd LEVEL: ]plugin "instance": TEXT
 *   logfmt: [ts=STAMP ]level=LEVEL msg="TEXT" [plugin=P instance=I]
 *   json:   {["ts":STAMP,]"level":LEVEL,"msg":TEXT[,"plugin":P,"instance":I]}
 * Without a stamp the text line is the message alone (syslog's and the
 * journal's own fields say the rest). 0, or -1 if out of memory. */
int log_line_write(FILE *out, log_format format, const log_entry *e);

#endif
