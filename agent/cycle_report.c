/*
 * cycle_report.c — see cycle_report.h.
 */
#include "cycle_report.h"

#include "civil/civil.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cycle_report_begin(agent *a)
{
    for (size_t i = 0; i < a->n_hosts; i++)
        memset(&a->hosts[i].cycle, 0, sizeof(a->hosts[i].cycle));
}

static int is_source(const struct tally_host *h)
{
    return h->plugin->desc.kind == TALLY_PLUGIN_SOURCE;
}

/* The cycle's totals: what failed sources handed over was taken back. */
static void totals(const agent *a, int64_t *records, int64_t *rejected, int *failed)
{
    *records = *rejected = 0;
    *failed = 0;
    for (size_t i = 0; i < a->n_hosts; i++) {
        const struct tally_host *h = &a->hosts[i];
        *failed |= h->cycle.failed;
        if (!is_source(h) || h->cycle.failed)
            continue;
        *records += h->cycle.records;
        *rejected += h->cycle.rejected;
    }
}

/* Appends to buf[*used..cap), keeping it a string when full. */
static void put(char *buf, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = (size_t)n < cap - *used ? *used + (size_t)n : cap;
}

static void log_line(const agent *a)
{
    int64_t records, rejected;
    int failed;
    totals(a, &records, &rejected, &failed);
    char line[2048];
    size_t used = 0;
    if (a->last_cycle.seq > 0)
        put(line, sizeof(line), &used, "cycle %" PRId64, a->last_cycle.seq);
    else
        put(line, sizeof(line), &used, "cycle (nothing committed)");
    put(line, sizeof(line), &used, " %s in %.3f s: %" PRId64 " records, %" PRId64 " rejected rows",
        a->last_cycle.ok ? "ok" : "failed", a->last_cycle.seconds, records, rejected);
    const char *sep = "; ";
    for (size_t i = 0; i < a->n_hosts; i++) {
        const struct tally_host *h = &a->hosts[i];
        if (!is_source(h) && !h->cycle.failed)
            continue;
        put(line, sizeof(line), &used, "%s%s ", sep, h->who);
        sep = ", ";
        if (h->cycle.failed)
            put(line, sizeof(line), &used, "failed");
        else
            put(line, sizeof(line), &used, "%" PRId64 " records, %" PRId64 " rejected",
                h->cycle.records, h->cycle.rejected);
        if (!h->cycle.failed && h->cycle.counters > 0)
            put(line, sizeof(line), &used, ", %" PRId64 " counters", h->cycle.counters);
    }
    log_msg(TALLY_LOG_DEBUG, "%s", line);
}

void cycle_report_end(agent *a, int rc, int64_t seq, int64_t at_utc, double seconds)
{
    int64_t records, rejected;
    int failed;
    totals(a, &records, &rejected, &failed);
    a->last_cycle.ran = 1;
    a->last_cycle.ok = rc == 0 && !failed;
    a->last_cycle.seq = rc == 0 ? seq : 0;
    a->last_cycle.at_utc = at_utc;
    a->last_cycle.seconds = seconds;
    if (log_level() >= TALLY_LOG_DEBUG)
        log_line(a);
}

int cycle_report_status(const agent *a, char *buf, size_t cap)
{
    if (!a->last_cycle.ran) {
        snprintf(buf, cap, "starting: no cycle has run yet");
        return -1;
    }
    int64_t records, rejected;
    int failed;
    totals(a, &records, &rejected, &failed);
    char at[CIVIL_UTC_LEN];
    if (civil_format_utc(a->last_cycle.at_utc, at) != 0)
        snprintf(at, sizeof(at), "?");
    snprintf(buf, cap,
             "last cycle %s at %s in %.3f s: %" PRId64 " records, %" PRId64 " rejected rows%s",
             a->last_cycle.ok ? "ok" : "failed", at, a->last_cycle.seconds, records, rejected,
             a->last_cycle.ok ? "" : " (see the log)");
    return 0;
}
