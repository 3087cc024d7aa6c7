/*
 * metricmap_check.c — the config's checks of map rules (metricmap.h): each
 * rule alone, then each pair that shares a metric name.
 *
 * Why these rules keep every series unique. Within a rule, the glob's
 * literal parts are fixed, so a counter is known by its '*' parts; each
 * '*' must appear in some label, and a label holding two of them must
 * have a '.' between them (a part has none, so the value splits back one
 * way only). Across two rules of one name, some label's two templates
 * must never give one value (checked by mm_templates_meet), so the
 * series of the one can never be those of the other. The second test is
 * stricter than it must be (a rule that only ever sees counters an
 * earlier rule has taken is refused too), but it is easy to state and
 * never wrong.
 */
#include "metricmap_priv.h"

#include <stdio.h>
#include <string.h>

int metricmap_check_glob(const char *glob, size_t *stars, char *why, size_t cap)
{
    mm_piece parts[MM_MAX_PIECES];
    size_t n;
    return mm_split_glob(glob, parts, &n, stars, why, cap);
}

static int name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

int metricmap_check_name(const char *name, char *why, size_t cap)
{
    if (name == NULL || name[0] == '\0') {
        snprintf(why, cap, "the rule has no name: add name = \"llm_tokens_total\" or the like");
        return -1;
    }
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++) {
        if (!name_char(name[i], i == 0) || len > METRICMAP_MAX_TEXT) {
            snprintf(why, cap,
                     "name \"%.*s\" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, "
                     "at most %d bytes): use e.g. \"llm_tokens_total\"",
                     METRICMAP_MAX_TEXT, name, METRICMAP_MAX_TEXT);
            return -1;
        }
    }
    size_t rl = strlen(METRICMAP_RESERVED_PREFIX);
    if (strncmp(name, METRICMAP_RESERVED_PREFIX, rl) == 0) {
        snprintf(why, cap,
                 "name \"%s\" starts with %s, which the agent's own families use: choose "
                 "another prefix (your application's name)",
                 name, METRICMAP_RESERVED_PREFIX);
        return -1;
    }
    return 0;
}

int metricmap_check_label(const char *label, size_t stars, char *why, size_t cap)
{
    mm_piece pieces[MM_MAX_PIECES];
    size_t n, name_len;
    return mm_split_label(label, stars, &name_len, pieces, &n, why, cap);
}

/* Which '*' the template pieces[0..n) gives back whole: set in `known`.
 * None if two $N are not parted by a '.' (the value would not split one
 * way only). */
static void stars_known(const mm_piece *pieces, size_t n, unsigned char *known)
{
    int last_star = 0, dot_since = 1;
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].star < 0) {
            dot_since |= memchr(pieces[i].s, '.', pieces[i].len) != NULL;
        } else {
            if (last_star && !dot_since)
                return;
            last_star = 1;
            dot_since = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (pieces[i].star >= 0)
            known[pieces[i].star] = 1;
}

static int same_label_name(const char *a, const char *b)
{
    size_t la = strcspn(a, "="), lb = strcspn(b, "=");
    return la == lb && memcmp(a, b, la) == 0;
}

int metricmap_check_rule(const tally_metric_map_rule *r, char *why, size_t cap)
{
    size_t stars;
    if (metricmap_check_glob(r->match, &stars, why, cap) != 0 ||
        metricmap_check_name(r->name, why, cap) != 0)
        return -1;
    if (r->n_labels > METRICMAP_MAX_LABELS) {
        snprintf(why, cap, "the rule has %zu labels; at most %d", r->n_labels,
                 METRICMAP_MAX_LABELS);
        return -1;
    }
    unsigned char known[METRICMAP_MAX_STARS] = {0};
    for (size_t i = 0; i < r->n_labels; i++) {
        mm_piece pieces[MM_MAX_PIECES];
        size_t n, name_len;
        if (mm_split_label(r->labels[i], stars, &name_len, pieces, &n, why, cap) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (same_label_name(r->labels[i], r->labels[j])) {
                snprintf(why, cap, "label \"%.*s\" is given twice: keep one", (int)name_len,
                         r->labels[i]);
                return -1;
            }
        }
        stars_known(pieces, n, known);
    }
    for (size_t k = 0; k < stars; k++) {
        if (!known[k]) {
            snprintf(why, cap,
                     "'*' number %zu of the glob is in no label (or only beside another $N "
                     "with no '.' between them), so two counters could give one series: use "
                     "$%zu in a label of its own, e.g. \"part%zu=$%zu\"",
                     k + 1, k + 1, k + 1, k + 1);
            return -1;
        }
    }
    return 0;
}

/* The index in b's labels of a's label i by name, or b->n_labels. */
static size_t label_index(const tally_metric_map_rule *a, size_t i, const tally_metric_map_rule *b)
{
    size_t j = 0;
    while (j < b->n_labels && !same_label_name(a->labels[i], b->labels[j]))
        j++;
    return j;
}

static void label_names(const tally_metric_map_rule *r, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->n_labels && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%.*s", i ? ", " : "",
                         (int)strcspn(r->labels[i], "="), r->labels[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (r->n_labels == 0)
        snprintf(out, cap, "none");
}

/* 1 if some label's templates in a and b never give one value. */
static int some_label_apart(const tally_metric_map_rule *a, const tally_metric_map_rule *b)
{
    size_t sa, sb;
    char why[8];
    if (metricmap_check_glob(a->match, &sa, why, sizeof(why)) != 0 ||
        metricmap_check_glob(b->match, &sb, why, sizeof(why)) != 0)
        return 0;
    for (size_t i = 0; i < a->n_labels; i++) {
        mm_piece pa[MM_MAX_PIECES], pb[MM_MAX_PIECES];
        size_t na, nb, la, lb;
        size_t j = label_index(a, i, b);
        if (j == b->n_labels ||
            mm_split_label(a->labels[i], sa, &la, pa, &na, why, sizeof(why)) != 0 ||
            mm_split_label(b->labels[j], sb, &lb, pb, &nb, why, sizeof(why)) != 0)
            continue;
        if (!mm_templates_meet(pa, na, pb, nb))
            return 1;
    }
    return 0;
}

int metricmap_check_pair(const tally_metric_map_rule *a, const tally_metric_map_rule *b, char *why,
                         size_t cap)
{
    if (strcmp(a->name, b->name) != 0)
        return 0;
    if (a->help != NULL && b->help != NULL && strcmp(a->help, b->help) != 0) {
        snprintf(why, cap,
                 "name \"%s\" has another help here than in map \"%s\": one metric has one "
                 "help; give the same text, or leave it out in one of them",
                 b->name, a->match);
        return -1;
    }
    int same = a->n_labels == b->n_labels;
    for (size_t i = 0; same && i < a->n_labels; i++)
        same = label_index(a, i, b) < b->n_labels;
    if (!same) {
        char la[600], lb[600];
        label_names(a, la, sizeof(la));
        label_names(b, lb, sizeof(lb));
        snprintf(why, cap,
                 "name \"%s\" has the labels (%s) here but (%s) in map \"%s\": Prometheus "
                 "needs one set of label names per metric; use the same names, or another "
                 "metric name",
                 b->name, lb, la, a->match);
        return -1;
    }
    if (!some_label_apart(a, b)) {
        snprintf(why, cap,
                 "name \"%s\" is also given by map \"%s\", and no label here can tell their "
                 "series apart (some counter of each could give the same labels): add a label "
                 "with a different fixed value to each, e.g. \"kind=...\", or use another "
                 "metric name",
                 b->name, a->match);
        return -1;
    }
    return 0;
}
