/*
 * tool.h — what the files of the `tally` command line tool share (private
 * to tools/): exit statuses, error reporting, sorted snapshots of a
 * region's counters, and the watch loop.
 */
#ifndef TALLY_TOOL_H
#define TALLY_TOOL_H

#include "tally.h"

#include <stddef.h>
#include <stdint.h>

/* Exit statuses: a contract with scripts, documented in tally(1). */
enum {
    TOOL_OK = 0,
    TOOL_NOCOUNTER = 1, /* get or reset of a name the region does not hold */
    TOOL_FAIL = 2,      /* usage, region, counter name or output error */
};

/* Print "tally: <what>: <tally_strerror(rc)>" to stderr and return the exit
 * status rc calls for. */
int tool_fail(int rc, const char *what_fmt, ...) __attribute__((format(printf, 2, 3)));

/* One counter as read at one moment. */
struct tool_counter {
    char name[TALLY_NAME_MAX + 1];
    int64_t value;
};

/* The counters under a prefix, sorted bytewise by name. */
struct snapshot {
    struct tool_counter *v;
    size_t n, cap;
    uint32_t skipped; /* records not shown: libtally did not write them */
};

/* Refill s (reusing its memory) from r; returns 0 or a libtally code. */
int snapshot_take(struct snapshot *s, tally_region *r, const char *prefix);
void snapshot_free(struct snapshot *s);
/* Say on stderr, once per call, that s skipped records, if it did. */
void snapshot_warn_skipped(const struct snapshot *s, const char *region_name);
/* The counter called name in s, or NULL. */
const struct tool_counter *snapshot_find(const struct snapshot *s, const char *name);

struct watch_opts {
    tally_region *region;
    const char *region_name; /* as the user gave it, for messages */
    const char *prefix;      /* NULL: every counter */
    double interval;         /* seconds between refreshes */
    long long count;         /* refreshes before returning; 0: until SIGINT/SIGTERM */
};

/* Show the counters and their rates until count refreshes or a signal;
 * returns an exit status. */
int watch_run(const struct watch_opts *w);

#endif
