/*
 * tool_fail.c — the tool's one way to report a libtally error (tool.h),
 * shared by the commands (tally.c) and the watch loop (watch.c).
 */
#include "tool.h"

#include <stdarg.h>
#include <stdio.h>

int tool_fail(int rc, const char *what_fmt, ...)
{
    va_list ap;
    va_start(ap, what_fmt);
    fputs("tally: ", stderr);
    vfprintf(stderr, what_fmt, ap);
    fprintf(stderr, ": %s\n", tally_strerror(rc));
    va_end(ap);
    return rc == TALLY_ENOCOUNTER ? TOOL_NOCOUNTER : TOOL_FAIL;
}
