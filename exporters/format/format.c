/*
 * format.c — the public face of exporters/format: format names, content
 * types, csv table names, and tally_format_render, which picks a renderer.
 *
 * Rendering runs in the C locale. printf, strtod and jansson follow
 * LC_NUMERIC, and the agent or an application may have called setlocale;
 * a summary must read "0.5" everywhere. setlocale would change the whole
 * process under other threads, so the calling thread alone switches with
 * uselocale for the length of one rendering and then switches back.
 */
#include "format.h"
#include "format_priv.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {
    [TALLY_FORMAT_JSON] = "json",
    [TALLY_FORMAT_PROMETHEUS] = "prometheus",
    [TALLY_FORMAT_CSV] = "csv",
    [TALLY_FORMAT_INFLUX] = "influx",
};

static const char *const content_types[] = {
    [TALLY_FORMAT_JSON] = "application/json",
    /* The text exposition format 0.0.4, as Prometheus and the Pushgateway
     * expect it. */
    [TALLY_FORMAT_PROMETHEUS] = "text/plain; version=0.0.4; charset=utf-8",
    /* RFC 4180 registers header=present for files that start with one. */
    [TALLY_FORMAT_CSV] = "text/csv; charset=utf-8; header=present",
    /* What InfluxDB's /api/v2/write documents for line protocol. */
    [TALLY_FORMAT_INFLUX] = "text/plain; charset=utf-8",
};

#define N_FORMATS (sizeof(format_names) / sizeof(format_names[0]))

static int format_known(tally_format f)
{
    return (unsigned)f < N_FORMATS;
}

int tally_format_from_name(const char *name, tally_format *out)
{
    if (name == NULL || out == NULL)
        return -1;
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (tally_format)i;
            return 0;
        }
    }
    return -1;
}

const char *tally_format_name(tally_format f)
{
    return format_known(f) ? format_names[f] : NULL;
}

const char *tally_format_content_type(tally_format f)
{
    return format_known(f) ? content_types[f] : NULL;
}

int tf_table_from_name(const char *name, tf_table_id *out)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < TF_N_TABLES; i++) {
        if (strcmp(name, tf_tables[i].name) == 0) {
            *out = (tf_table_id)i;
            return 0;
        }
    }
    return -1;
}

int tally_format_csv_table_valid(const char *table)
{
    tf_table_id id;
    return tf_table_from_name(table, &id);
}

int tally_format_lists_days(tally_format f, const char *csv_table)
{
    tf_table_id table = TF_DAYS;
    if (f == TALLY_FORMAT_CSV && csv_table != NULL && tf_table_from_name(csv_table, &table) != 0)
        return 0;
    return f == TALLY_FORMAT_JSON || f == TALLY_FORMAT_INFLUX ||
           (f == TALLY_FORMAT_CSV && table == TF_DAYS);
}

static int render(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                  tf_table_id table, tf_buf *b)
{
    switch (f) {
    case TALLY_FORMAT_JSON:
        return tf_render_json(s, o, b);
    case TALLY_FORMAT_PROMETHEUS:
        return tf_render_prometheus(s, b);
    case TALLY_FORMAT_CSV:
        return tf_render_csv(s, o, table, b);
    case TALLY_FORMAT_INFLUX:
        return tf_render_influx(s, o, b);
    }
    return -1;
}

/* A name as the formats write it: each byte that is not UTF-8 becomes
 * U+FFFD (utf8.c). malloc'd, or NULL. */
static char *repaired(const char *name)
{
    tf_buf b;
    tf_buf_init(&b);
    tf_buf_add_utf8(&b, name, strlen(name));
    tf_buf_add(&b, "", 1);
    if (b.failed) {
        tf_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* Whether name, once repaired, is the name of another counter in v[0..n)
 * (sorted by name) or of one repaired before it (seen[0..n_seen)). */
static int collides(const char *name, const tally_counter_value *v, size_t n, char **seen,
                    size_t n_seen)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].name, name);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < n_seen; i++)
        if (strcmp(seen[i], name) == 0)
            return 1;
    return 0;
}

/* s without the live counters whose names, repaired to UTF-8, would be
 * another's: two series (or JSON keys) of one name. Only names that are
 * not UTF-8 are repaired, and libtally's readers never pass one on, so
 * this is rare; a valid name keeps its series. *view is s itself when
 * nothing collides; *kept is the caller's to free. -1: out of memory. */
static int shown_counters(const tally_snapshot *s, tally_snapshot *view, tally_counter_value **kept)
{
    *view = *s;
    *kept = NULL;
    size_t n_bad = 0;
    for (size_t i = 0; i < s->n_counters; i++)
        n_bad += s->counters[i].name != NULL &&
                 !tf_utf8_valid(s->counters[i].name, strlen(s->counters[i].name));
    if (n_bad == 0)
        return 0;
    char **seen = calloc(n_bad, sizeof(*seen));
    *kept = malloc(s->n_counters * sizeof(**kept));
    int rc = seen != NULL && *kept != NULL ? 0 : -1;
    size_t n_seen = 0;
    view->n_counters = 0;
    for (size_t i = 0; rc == 0 && i < s->n_counters; i++) {
        const char *name = s->counters[i].name;
        if (name != NULL && !tf_utf8_valid(name, strlen(name))) {
            char *text = repaired(name);
            if (text == NULL) {
                rc = -1;
                break;
            }
            if (collides(text, s->counters, s->n_counters, seen, n_seen)) {
                free(text);
                continue;
            }
            seen[n_seen++] = text;
        }
        (*kept)[view->n_counters++] = s->counters[i];
    }
    for (size_t i = 0; i < n_seen; i++)
        free(seen[i]);
    free(seen);
    view->counters = *kept;
    return rc;
}

/* Render into b (a memory buffer or a sink) in the C locale: 0 or -1. */
static int render_into(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                       tf_buf *b)
{
    if (s == NULL || !format_known(f))
        return -1;
    /* No options, or no table named: the days table. */
    tf_table_id table = TF_DAYS;
    if (f == TALLY_FORMAT_CSV && o != NULL && o->csv_table != NULL &&
        tf_table_from_name(o->csv_table, &table) != 0)
        return -1;

    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c == (locale_t)0)
        return -1;
    locale_t old = uselocale(c);

    tf_opts all = {.handed = s};
    if (o != NULL)
        all.pub = *o;
    tally_snapshot view;
    tally_counter_value *kept;
    int rc = shown_counters(s, &view, &kept);
    if (rc == 0)
        rc = render(f, &view, &all.pub, table, b);
    free(kept);

    uselocale(old);
    freelocale(c);
    return rc == 0 && !b->failed ? 0 : -1;
}

int tally_format_render(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                        char **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return -1;
    *out = NULL;
    *len = 0;
    tf_buf b;
    tf_buf_init(&b);
    if (render_into(f, s, o, &b) != 0) {
        tf_buf_free(&b);
        return -1;
    }
    return tf_buf_finish(&b, out, len);
}

int tally_format_stream(tally_format f, const tally_snapshot *s, const tally_format_opts *o,
                        tally_format_sink sink, void *arg)
{
    if (sink == NULL)
        return -1;
    tf_buf b;
    tf_buf_init_sink(&b, sink, arg);
    int rc = render_into(f, s, o, &b);
    if (rc == 0)
        rc = tf_buf_flush(&b);
    tf_buf_free(&b);
    return rc;
}
