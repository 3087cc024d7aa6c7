/*
 * metricmap_match.c — rules compiled once per map (globs into parts,
 * labels into pieces, names into families) and matched per counter by a
 * walk over the name: its parts are counted once, and only rules with as
 * many parts compare their literal parts to it.
 */
#include "metricmap_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule_c {
    size_t first_part, n_parts; /* in mm->parts */
    size_t family;
    /* The template of the family's i-th label: pieces[tmpl_first[i] ..
     * + tmpl_n[i]) of mm->pieces. */
    size_t tmpl_first[METRICMAP_MAX_LABELS], tmpl_n[METRICMAP_MAX_LABELS];
} rule_c;

typedef struct family_c {
    const char *name, *help;
    char *own_help; /* the default, when no rule gave one */
    size_t n_labels;
    char *labels[METRICMAP_MAX_LABELS];
} family_c;

struct metricmap {
    const tally_metric_map *map;
    rule_c *rules;
    family_c *families;
    size_t n_families;
    mm_piece *parts, *pieces;
    size_t n_parts, n_pieces;
    int drop_unmatched;
};

void metricmap_free(metricmap *mm)
{
    if (mm == NULL)
        return;
    for (size_t f = 0; f < mm->n_families; f++) {
        free(mm->families[f].own_help);
        for (size_t i = 0; i < mm->families[f].n_labels; i++)
            free(mm->families[f].labels[i]);
    }
    free(mm->families);
    free(mm->rules);
    free(mm->parts);
    free(mm->pieces);
    free(mm);
}

/* The family named r->name, made if it is the first rule of that name. */
static int family_of(metricmap *mm, const tally_metric_map_rule *r, size_t *out)
{
    for (size_t f = 0; f < mm->n_families; f++) {
        if (strcmp(mm->families[f].name, r->name) == 0) {
            if (mm->families[f].help == NULL)
                mm->families[f].help = r->help;
            *out = f;
            return 0;
        }
    }
    family_c *fc = &mm->families[mm->n_families];
    *fc = (family_c){.name = r->name, .help = r->help, .n_labels = r->n_labels};
    mm->n_families++;
    for (size_t i = 0; i < r->n_labels; i++) {
        size_t len = strcspn(r->labels[i], "=");
        fc->labels[i] = strndup(r->labels[i], len);
        if (fc->labels[i] == NULL)
            return -1;
    }
    *out = mm->n_families - 1;
    return 0;
}

/* The family's label index of the rule's label "name=...". */
static size_t family_label(const family_c *fc, const char *label)
{
    size_t len = strcspn(label, "="), i = 0;
    while (i < fc->n_labels &&
           !(strlen(fc->labels[i]) == len && memcmp(fc->labels[i], label, len) == 0))
        i++;
    return i;
}

static int compile_rule(metricmap *mm, const tally_metric_map_rule *r, rule_c *rc)
{
    char why[512];
    size_t stars, n, name_len;
    if (metricmap_check_rule(r, why, sizeof(why)) != 0 || family_of(mm, r, &rc->family) != 0)
        return -1;
    rc->first_part = mm->n_parts;
    if (mm_split_glob(r->match, mm->parts + mm->n_parts, &n, &stars, why, sizeof(why)) != 0)
        return -1;
    rc->n_parts = n;
    mm->n_parts += n;
    const family_c *fc = &mm->families[rc->family];
    if (fc->n_labels != r->n_labels)
        return -1; /* check_pair refuses this; compile does not trust it */
    for (size_t i = 0; i < r->n_labels; i++) {
        size_t k = family_label(fc, r->labels[i]);
        if (k == fc->n_labels)
            return -1;
        rc->tmpl_first[k] = mm->n_pieces;
        if (mm_split_label(r->labels[i], stars, &name_len, mm->pieces + mm->n_pieces, &n, why,
                           sizeof(why)) != 0)
            return -1;
        rc->tmpl_n[k] = n;
        mm->n_pieces += n;
    }
    return 0;
}

static int default_helps(metricmap *mm)
{
    for (size_t f = 0; f < mm->n_families; f++) {
        family_c *fc = &mm->families[f];
        if (fc->help != NULL)
            continue;
        const char *glob = "";
        for (size_t r = 0; r < mm->map->n_rules; r++)
            if (mm->rules[r].family == f) {
                glob = mm->map->rules[r].match;
                break;
            }
        size_t cap = strlen(glob) + 80;
        fc->own_help = malloc(cap);
        if (fc->own_help == NULL)
            return -1;
        snprintf(fc->own_help, cap, "Live value of the libtally counters %s (tallyd.conf map).",
                 glob);
        fc->help = fc->own_help;
    }
    return 0;
}

int metricmap_compile(const tally_metric_map *m, metricmap **out)
{
    *out = NULL;
    metricmap *mm = calloc(1, sizeof(*mm));
    if (mm == NULL)
        return -1;
    mm->map = m;
    mm->drop_unmatched = m->drop_unmatched;
    size_t n = m->n_rules;
    /* Each glob or label splits into at most one piece a byte and one
     * more; sized for the texts themselves. */
    size_t parts = 0, pieces = 0;
    for (size_t r = 0; r < n; r++) {
        parts += m->rules[r].match != NULL ? strlen(m->rules[r].match) + 1 : 0;
        for (size_t i = 0; i < m->rules[r].n_labels; i++)
            pieces += m->rules[r].labels[i] != NULL ? strlen(m->rules[r].labels[i]) + 1 : 0;
    }
    mm->rules = calloc(n + 1, sizeof(*mm->rules));
    mm->families = calloc(n + 1, sizeof(*mm->families));
    mm->parts = calloc(parts + 1, sizeof(*mm->parts));
    mm->pieces = calloc(pieces + 1, sizeof(*mm->pieces));
    int rc = mm->rules && mm->families && mm->parts && mm->pieces ? 0 : -1;
    for (size_t r = 0; rc == 0 && r < n; r++)
        rc = compile_rule(mm, &m->rules[r], &mm->rules[r]);
    if (rc == 0)
        rc = default_helps(mm);
    if (rc != 0) {
        metricmap_free(mm);
        return -1;
    }
    *out = mm;
    return 0;
}

int metricmap_drop_unmatched(const metricmap *mm)
{
    return mm->drop_unmatched;
}

/* Whether the rule's parts match name (of n_parts parts); fills hit. */
static int walk(const metricmap *mm, const rule_c *rc, const char *name, metricmap_hit *hit)
{
    const char *p = name;
    for (size_t k = 0; k < rc->n_parts; k++) {
        const mm_piece *part = &mm->parts[rc->first_part + k];
        size_t len = strcspn(p, ".");
        if (part->star >= 0) {
            if (len == 0)
                return 0;
            hit->off[part->star] = (uint32_t)(p - name);
            hit->len[part->star] = (uint32_t)len;
        } else if (len != part->len || memcmp(p, part->s, len) != 0) {
            return 0;
        }
        p += len + (p[len] == '.');
    }
    return 1;
}

int metricmap_match(const metricmap *mm, const char *name, metricmap_hit *hit)
{
    size_t parts = 1;
    for (const char *p = name; *p != '\0'; p++)
        parts += *p == '.';
    for (size_t r = 0; r < mm->map->n_rules; r++) {
        const rule_c *rc = &mm->rules[r];
        if (rc->n_parts == parts && walk(mm, rc, name, hit)) {
            hit->rule = r;
            hit->family = rc->family;
            return 1;
        }
    }
    return 0;
}

size_t metricmap_n_families(const metricmap *mm)
{
    return mm->n_families;
}

const char *metricmap_family_name(const metricmap *mm, size_t f)
{
    return mm->families[f].name;
}

const char *metricmap_family_help(const metricmap *mm, size_t f)
{
    return mm->families[f].help;
}

const char *metricmap_family_type(const metricmap *mm, size_t f)
{
    const char *name = mm->families[f].name;
    size_t len = strlen(name);
    return len >= 6 && strcmp(name + len - 6, "_total") == 0 ? "counter" : "gauge";
}

size_t metricmap_family_n_labels(const metricmap *mm, size_t f)
{
    return mm->families[f].n_labels;
}

const char *metricmap_family_label(const metricmap *mm, size_t f, size_t i)
{
    return mm->families[f].labels[i];
}

void metricmap_label_value(const metricmap *mm, const char *name, const metricmap_hit *hit,
                           size_t i, metricmap_put put, void *arg)
{
    const rule_c *rc = &mm->rules[hit->rule];
    for (size_t k = 0; k < rc->tmpl_n[i]; k++) {
        const mm_piece *p = &mm->pieces[rc->tmpl_first[i] + k];
        if (p->star >= 0)
            put(arg, name + hit->off[p->star], hit->len[p->star]);
        else
            put(arg, p->s, p->len);
    }
}
