/*
 * prometheus_map.c — region counters under the names the config's map
 * rules give them (lib/metricmap), for the prometheus format: each
 * family once, with # HELP and # TYPE (counter for a name ending in
 * _total, else gauge), its series in counter name order, the families in
 * the order of their first rules; counters no rule matches keep
 * tally_region_value{name="..."} unless the map drops them.
 *
 * The config's checks make every series unique, but a map from elsewhere
 * need not have passed them: a series key (family and label values) seen
 * before is left out, the first counter keeping it, so the output never
 * holds a duplicate Prometheus would refuse. The agent logs such counters
 * once per change (agent/snapshot_map.c); rendering has no log.
 *
 * Costs per rendering: two matches per counter (no regex, no allocation),
 * a stable counting sort by family, and a hash table of series keys.
 */
#include "format_priv.h"

#include "metricmap/metricmap.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The samples of one rendering, grouped by family. */
typedef struct mapped {
    const tally_snapshot *s;
    metricmap *mm;
    uint32_t *order; /* counter indexes, by family, then counter order */
    size_t *start;   /* family f's are order[start[f] .. start[f + 1]) */
    uint32_t *unmatched;
    size_t n_unmatched;
    metricmap_keys *keys; /* the series written so far */
} mapped;

static const char *counter_name(const tally_snapshot *s, size_t i)
{
    return s->counters[i].name != NULL ? s->counters[i].name : "";
}

static void escaped_put(void *arg, const char *p, size_t n)
{
    tf_prom_label_value(arg, p, n);
}

static void mapped_free(mapped *m)
{
    metricmap_free(m->mm);
    free(m->order);
    free(m->start);
    free(m->unmatched);
    metricmap_keys_free(m->keys);
}

/* Match every counter and group them: 0, or -1 (out of memory, or rules
 * that do not compile). */
static int mapped_build(mapped *m, const tally_snapshot *s)
{
    memset(m, 0, sizeof(*m));
    m->s = s;
    size_t n = s->n_counters;
    if (n > UINT32_MAX - 1 || metricmap_compile(s->map, &m->mm) != 0)
        return -1;
    size_t nf = metricmap_n_families(m->mm);
    uint32_t *fam = malloc((n + 1) * sizeof(*fam)); /* family + 1 of each; 0 unmatched */
    m->order = malloc((n + 1) * sizeof(*m->order));
    m->unmatched = malloc((n + 1) * sizeof(*m->unmatched));
    m->start = calloc(nf + 2, sizeof(*m->start));
    if (fam == NULL || !m->order || !m->unmatched || !m->start ||
        metricmap_keys_new(m->mm, n, &m->keys) != 0) {
        free(fam);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        metricmap_hit hit;
        fam[i] = metricmap_match(m->mm, counter_name(s, i), &hit) ? (uint32_t)hit.family + 1 : 0;
        if (fam[i] == 0)
            m->unmatched[m->n_unmatched++] = (uint32_t)i;
        else
            m->start[hit.family + 1]++;
    }
    for (size_t f = 0; f < nf; f++)
        m->start[f + 1] += m->start[f];
    size_t *fill = calloc(nf + 1, sizeof(*fill));
    if (fill == NULL) {
        free(fam);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (fam[i] != 0)
            m->order[m->start[fam[i] - 1] + fill[fam[i] - 1]++] = (uint32_t)i;
    free(fill);
    free(fam);
    return 0;
}

static void family_samples(mapped *m, size_t f, tf_buf *b)
{
    const char *name = metricmap_family_name(m->mm, f);
    size_t n_labels = metricmap_family_n_labels(m->mm, f);
    tf_prom_family(b, name, metricmap_family_type(m->mm, f), metricmap_family_help(m->mm, f));
    for (size_t k = m->start[f]; k < m->start[f + 1]; k++) {
        size_t i = m->order[k];
        const char *cname = counter_name(m->s, i);
        metricmap_hit hit;
        if (!metricmap_match(m->mm, cname, &hit) || !metricmap_keys_first(m->keys, cname, &hit))
            continue;
        tf_buf_puts(b, name);
        for (size_t l = 0; l < n_labels; l++) {
            tf_buf_printf(b, "%s%s=\"", l == 0 ? "{" : ",", metricmap_family_label(m->mm, f, l));
            metricmap_label_value(m->mm, cname, &hit, l, escaped_put, b);
            tf_buf_puts(b, "\"");
        }
        tf_buf_printf(b, "%s %" PRId64 "\n", n_labels > 0 ? "}" : "", m->s->counters[i].value);
    }
}

int tf_render_mapped_counters(const tally_snapshot *s, tf_buf *b)
{
    mapped m;
    if (mapped_build(&m, s) != 0) {
        mapped_free(&m);
        tf_buf_fail(b);
        return -1;
    }
    if (!metricmap_drop_unmatched(m.mm))
        tf_prom_region_values(b, s, m.unmatched, m.n_unmatched);
    for (size_t f = 0; f < metricmap_n_families(m.mm); f++)
        if (m.start[f + 1] > m.start[f])
            family_samples(&m, f, b);
    mapped_free(&m);
    return b->failed ? -1 : 0;
}
