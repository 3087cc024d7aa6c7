/*
 * file_mark.c — what an instance last wrote, kept in the host's mark
 * "written" once its files are in place:
 *
 *     <state_id>:<seq>:<digest>                the single document
 *     <state_id>:<seq>:<digest>:<oldest_kept>  the split layout
 *
 * seq is the snapshot's cycle: every user-day and daily counter total
 * changed after it is what the files lack. digest is a fingerprint of
 * what else decides the files' contents: where they go and in which
 * format and, for the single document, the snapshot's small part (now,
 * the days, the totals, the live counters; not generated_at, the wall
 * clock). oldest_kept
 * says which old day files the split layout has already removed.
 *
 * A mark of another state (a new state_dir), or one that cannot be read,
 * is no mark: everything is written again.
 */
#include "file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_fields.h"
#include "hash/hash.h"

#define MARK_NAME "written"

static const char *const layout_names[] = {
    [FILE_LAYOUT_SINGLE] = "single",
    [FILE_LAYOUT_SPLIT] = "split",
};

const char *file_layout_name(file_layout l)
{
    return layout_names[l];
}

int file_layout_from_name(const char *name, file_layout *out)
{
    for (size_t i = 0; i < sizeof(layout_names) / sizeof(layout_names[0]); i++) {
        if (name != NULL && strcmp(name, layout_names[i]) == 0) {
            *out = (file_layout)i;
            return 0;
        }
    }
    return TALLY_HOST_ERR;
}

/* A string with its length first, so "ab"+"c" and "a"+"bc" differ. */
static uint64_t hash_text(uint64_t h, const char *s, size_t n)
{
    uint64_t len = n;
    h = hash_fnv1a(h, &len, sizeof(len));
    return hash_fnv1a(h, s, n);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return s != NULL ? hash_text(h, s, strlen(s)) : hash_text(h, "\0null", 5);
}

/* One row of a format table, field by field (never the struct's bytes,
 * whose padding nobody promised to clear). */
static uint64_t hash_row(uint64_t h, const void *row, tf_table_id t)
{
    const tf_table *tab = &tf_tables[t];
    for (size_t i = 0; i < tab->n_fields; i++) {
        const tf_field *f = &tab->fields[i];
        if (f->kind == TF_INT || f->kind == TF_INSTANT) {
            int64_t v = tf_field_int(row, f);
            h = hash_fnv1a(h, &v, sizeof(v));
        } else if (f->kind == TF_REAL) {
            double v = tf_field_real(row, f);
            h = hash_fnv1a(h, &v, sizeof(v));
        } else {
            size_t n;
            const char *s = tf_field_text(row, f, &n);
            h = hash_text(h, s, n);
        }
    }
    return h;
}

static uint64_t days_digest(uint64_t h, const tally_snapshot *snap)
{
    uint64_t n = snap->n_days;
    h = hash_fnv1a(h, &n, sizeof(n));
    for (size_t i = 0; i < snap->n_days; i++)
        h = hash_row(h, &snap->days[i], TF_DAYS);
    return h;
}

uint64_t file_digest(const file_ctx *ctx, const char *path, const tally_snapshot *snap)
{
    uint64_t h = HASH_FNV1A_SEED;
    h = hash_str(h, path);
    h = hash_str(h, tally_format_name(ctx->format));
    h = hash_str(h, ctx->csv_table);
    h = hash_str(h, file_layout_name(ctx->layout));
    if (snap == NULL)
        return h;
    h = hash_str(h, snap->timezone);
    /* now is in the document: a cycle at a later instant rewrites it, so
     * the file always says how current it is. Only generated_at (the wall
     * clock) is left out: a cycle at the same --now over nothing new
     * keeps the file. */
    h = hash_fnv1a(h, &snap->now_utc, sizeof(snap->now_utc));
    h = hash_fnv1a(h, &snap->now_nsec, sizeof(snap->now_nsec));
    /* A year of days is most of what a quiet cycle would hash: only a
     * text that shows them takes them in. */
    if (tally_format_lists_days(ctx->format, ctx->csv_table))
        h = days_digest(h, snap);
    h = hash_row(h, snap, TF_SUMMARY);
    h = hash_row(h, snap, TF_TODAY);
    h = hash_row(h, snap, TF_COMBINED);
    uint64_t n = snap->n_counters;
    h = hash_fnv1a(h, &n, sizeof(n));
    for (size_t i = 0; i < snap->n_counters; i++)
        h = hash_row(h, &snap->counters[i], TF_COUNTERS);
    h = hash_fnv1a(h, &snap->rejected_rows, sizeof(snap->rejected_rows));
    return hash_text(h, snap->oldest_kept, strnlen(snap->oldest_kept, TALLY_DATE_LEN));
}

uint64_t file_days_digest(const tally_snapshot *snap)
{
    return days_digest(HASH_FNV1A_SEED, snap);
}

/* "<32 hex>:<seq>:<16 hex>[:<YYYY-MM-DD>]" into *m; 0 or -1. */
static int parse(const char *text, file_mark *m)
{
    const char *p = text;
    size_t id_len = strcspn(p, ":");
    if (id_len >= sizeof(m->state_id) || p[id_len] != ':')
        return -1;
    memcpy(m->state_id, p, id_len);
    m->state_id[id_len] = '\0';
    p += id_len + 1;
    char *end;
    long long seq = strtoll(p, &end, 10);
    if (end == p || *end != ':' || seq < 0)
        return -1;
    m->seq = seq;
    p = end + 1;
    unsigned long long digest = strtoull(p, &end, 16);
    if (end - p != 16)
        return -1;
    m->digest = digest;
    if (*end == '\0')
        return 0;
    if (*end != ':' || strlen(end + 1) >= sizeof(m->oldest_kept))
        return -1;
    memcpy(m->oldest_kept, end + 1, strlen(end + 1) + 1);
    return 0;
}

void file_mark_get(const file_ctx *ctx, file_mark *m)
{
    memset(m, 0, sizeof(*m));
    char *text = NULL;
    int rc = ctx->api->mark_get(ctx->host, MARK_NAME, &text);
    if (rc == TALLY_HOST_OK && parse(text, m) == 0)
        m->found = 1;
    else if (rc == TALLY_HOST_OK)
        ctx->api->log(ctx->host, TALLY_LOG_WARNING,
                      "the mark of what was last written (\"%s\") cannot be read; everything "
                      "is written again",
                      text);
    else if (rc != TALLY_HOST_ENOENT)
        ctx->api->log(ctx->host, TALLY_LOG_WARNING,
                      "cannot read the mark of what was last written; everything is written "
                      "again");
    if (!m->found)
        memset(m, 0, sizeof(*m));
    free(text);
}

int file_mark_put(const file_ctx *ctx, const tally_snapshot *snap, uint64_t digest,
                  const char *oldest_kept, const char *where)
{
    char text[128];
    int n =
        snprintf(text, sizeof(text), "%s:%" PRId64 ":%016" PRIx64 "%s%s", snap->state_id, snap->seq,
                 digest, oldest_kept != NULL ? ":" : "", oldest_kept != NULL ? oldest_kept : "");
    if (n > 0 && (size_t)n < sizeof(text) &&
        ctx->api->mark_put(ctx->host, MARK_NAME, text) == TALLY_HOST_OK)
        return 0;
    if (where == NULL)
        return TALLY_HOST_ERR;
    ctx->api->log(ctx->host, TALLY_LOG_ERR,
                  "wrote %s, but cannot record what it holds in the state database; the next "
                  "export writes it again",
                  where);
    return TALLY_HOST_ERR;
}

int file_mark_matches(const file_mark *m, const tally_snapshot *snap, uint64_t digest)
{
    /* A snapshot without a state (a test's) matches nothing. */
    return m->found && snap->state_id[0] != '\0' &&
           strncmp(m->state_id, snap->state_id, sizeof(snap->state_id)) == 0 &&
           m->digest == digest && m->seq <= snap->seq;
}
