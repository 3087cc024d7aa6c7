/*
 * openmetrics.c — the Prometheus text (prometheus.c) rewritten as
 * OpenMetrics 1.0.0, for a scraper whose Accept header asks for it.
 *
 * The two formats differ only in a few places for what tally writes,
 * so the one renderer stays the source of every family (the agent's,
 * the mapped region counters, any added later) and this file rewrites
 * its lines:
 * - a counter's family is named without _total, its samples keep it
 *   ("# TYPE tally_requests counter" over "tally_requests_total{..} 3");
 *   a counter whose name lacks _total gets it on its samples;
 * - # HELP escapes the double quote too (backslash and line feed are
 *   escaped alike in both);
 * - the exposition ends with "# EOF".
 * Sample lines, label escaping and numbers are the same in both.
 */
#include "format_priv.h"

#include <string.h>

#define SUFFIX_TOTAL "_total"

typedef struct om_line {
    const char *p;
    size_t n; /* without its line feed */
} om_line;

/* The line at *pos of text[0..len), moving *pos past it: 1, or 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, om_line *out)
{
    if (*pos >= len)
        return 0;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    out->p = start;
    out->n = nl != NULL ? (size_t)(nl - start) : len - *pos;
    *pos += out->n + (nl != NULL);
    return 1;
}

static int has_prefix(const om_line *l, const char *prefix)
{
    size_t k = strlen(prefix);
    return l->n >= k && memcmp(l->p, prefix, k) == 0;
}

/* The metric name at the start of s[0..n): up to a space or '{'. */
static size_t name_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ' ' && s[i] != '{')
        i++;
    return i;
}

static int ends_total(const char *name, size_t n)
{
    size_t k = sizeof(SUFFIX_TOTAL) - 1;
    return n >= k && memcmp(name + n - k, SUFFIX_TOTAL, k) == 0;
}

/* One family as it is being rewritten. */
typedef struct om_family {
    char name[256]; /* the 0.0.4 name */
    size_t n;
    int counter;   /* its TYPE is counter */
    int add_total; /* a counter named without _total: its samples get it */
} om_family;

/* The family named name[0..n) whose "# TYPE" line is type (NULL: none
 * seen; an untyped family). */
static void family_of(const om_line *type, const char *name, size_t n, om_family *f)
{
    memset(f, 0, sizeof(*f));
    if (n >= sizeof(f->name))
        n = sizeof(f->name) - 1;
    memcpy(f->name, name, n);
    f->n = n;
    static const char word[] = " counter";
    size_t head = 7 + n; /* "# TYPE " and the name */
    f->counter = type != NULL && type->n == head + sizeof(word) - 1 &&
                 memcmp(type->p + 7, name, n) == 0 &&
                 memcmp(type->p + head, word, sizeof(word) - 1) == 0;
    f->add_total = f->counter && !ends_total(name, n);
}

/* A family's name in OpenMetrics: a counter's without _total. */
static void family_name(tf_buf *b, const om_family *f)
{
    size_t n = f->counter && !f->add_total ? f->n - (sizeof(SUFFIX_TOTAL) - 1) : f->n;
    tf_buf_add(b, f->name, n);
}

/* "# HELP name text" or "# TYPE name type", renamed; HELP's text with
 * its double quotes escaped. */
static void meta_line(tf_buf *b, const om_line *l, const char *kind, const om_family *f)
{
    tf_buf_puts(b, kind);
    family_name(b, f);
    const char *rest = l->p + strlen(kind) + f->n;
    const char *end = l->p + l->n;
    for (const char *c = rest; c < end; c++) {
        if (*c == '"' && kind[2] == 'H')
            tf_buf_puts(b, "\\\"");
        else
            tf_buf_add(b, c, 1);
    }
    tf_buf_puts(b, "\n");
}

static void sample_line(tf_buf *b, const om_line *l, const om_family *f)
{
    size_t n = name_len(l->p, l->n);
    tf_buf_add(b, l->p, n);
    if (f->add_total && n == f->n && memcmp(l->p, f->name, n) == 0)
        tf_buf_puts(b, SUFFIX_TOTAL);
    tf_buf_add(b, l->p + n, l->n - n);
    tf_buf_puts(b, "\n");
}

int tally_format_openmetrics(const char *prom, size_t len, char **out, size_t *out_len)
{
    if (out == NULL || out_len == NULL || (prom == NULL && len > 0))
        return -1;
    tf_buf b;
    tf_buf_init(&b);
    om_family f;
    memset(&f, 0, sizeof(f));
    size_t pos = 0;
    om_line l;
    while (next_line(prom, len, &pos, &l)) {
        if (has_prefix(&l, "# HELP ")) {
            /* prometheus.c writes HELP, then TYPE: the type is the next line's. */
            size_t n = name_len(l.p + 7, l.n - 7), after = pos;
            om_line type;
            int typed = next_line(prom, len, &after, &type) && has_prefix(&type, "# TYPE ");
            family_of(typed ? &type : NULL, l.p + 7, n, &f);
            meta_line(&b, &l, "# HELP ", &f);
        } else if (has_prefix(&l, "# TYPE ")) {
            size_t n = name_len(l.p + 7, l.n - 7);
            if (n != f.n || memcmp(l.p + 7, f.name, n) != 0)
                family_of(&l, l.p + 7, n, &f); /* a TYPE without a HELP before it */
            meta_line(&b, &l, "# TYPE ", &f);
        } else if (l.n > 0 && l.p[0] != '#') {
            sample_line(&b, &l, &f);
        }
    }
    tf_buf_puts(&b, TALLY_OPENMETRICS_EOF);
    return tf_buf_finish(&b, out, out_len);
}
