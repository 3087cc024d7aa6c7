/*
 * metricmap.h — region counter names to Prometheus series: the checks the
 * config runs on each `map` rule (tallyd.conf(5)), and the compiled rules
 * every Prometheus output matches counters with. A rule is a dotted glob
 * ('*' is one whole part, never empty, never holding a '.'), a metric name
 * and label templates ("model=$1", $N the N-th '*'); the first rule that
 * matches a counter wins.
 *
 * Matching costs a walk over the name and the globs' literal parts, no
 * regex and no allocation, so a scrape of 10,000 counters stays cheap.
 * The checks make every rule one-to-one (two counters never give one
 * series), which the renderer relies on but does not trust (it keeps the
 * first series of a key). Messages in `why` say what is wrong and what to
 * do, without the file and line, which the caller adds.
 */
#ifndef TALLY_LIB_METRICMAP_H
#define TALLY_LIB_METRICMAP_H

#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

#define METRICMAP_MAX_STARS 16  /* '*' parts in one glob */
#define METRICMAP_MAX_LABELS 16 /* labels of one rule */
#define METRICMAP_MAX_TEXT 256  /* bytes of a glob, a name or a label */
/* The agent's own families begin so (tally_region_value, tally_agent_...). */
#define METRICMAP_RESERVED_PREFIX "tally_"

/* ---- checks: 0, or -1 with why (NUL terminated, cut to cap) ---- */

/* A glob: dotted parts, each '*' or literal text; *stars its '*' count. */
int metricmap_check_glob(const char *glob, size_t *stars, char *why, size_t cap);
/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, not in the reserved prefix. */
int metricmap_check_name(const char *name, char *why, size_t cap);
/* One "label=template" of a rule whose glob has `stars` '*'. */
int metricmap_check_label(const char *label, size_t stars, char *why, size_t cap);
/* A whole rule: the above, no label twice, and one-to-one: each '*' is
 * in some label, and a label using two $N has a '.' between them (a part
 * holds none, so the value splits back into its parts one way only). */
int metricmap_check_rule(const tally_metric_map_rule *r, char *why, size_t cap);
/* Rule b, later in the config than a (both pass check_rule): 0 when their
 * names differ, or when they share one with the same help (or one
 * without), the same label names, and a label whose two templates can
 * never give the same value (so their series never meet). */
int metricmap_check_pair(const tally_metric_map_rule *a, const tally_metric_map_rule *b, char *why,
                         size_t cap);

/* ---- compiled rules ---- */

typedef struct metricmap metricmap;

/* What matched a name: the rule, its family, and where each '*' is. */
typedef struct metricmap_hit {
    size_t rule, family;
    uint32_t off[METRICMAP_MAX_STARS], len[METRICMAP_MAX_STARS];
} metricmap_hit;

/* Compile m (rules that metricmap_check_rule passes): 0, or -1 (out of
 * memory, or a rule that check refuses). *out points into m's strings,
 * which must outlive it; free it with metricmap_free. */
int metricmap_compile(const tally_metric_map *m, metricmap **out);
void metricmap_free(metricmap *mm);
int metricmap_drop_unmatched(const metricmap *mm);

/* 1 with *hit when a rule matches name, else 0. */
int metricmap_match(const metricmap *mm, const char *name, metricmap_hit *hit);

/* Families: the rules' distinct names, in the order of each name's first
 * rule. TYPE is "counter" for a name ending in _total, else "gauge". */
size_t metricmap_n_families(const metricmap *mm);
const char *metricmap_family_name(const metricmap *mm, size_t f);
const char *metricmap_family_help(const metricmap *mm, size_t f);
const char *metricmap_family_type(const metricmap *mm, size_t f);
/* A family's label names, in its first rule's order (every rule of a
 * family has the same ones; values come in this order too). */
size_t metricmap_family_n_labels(const metricmap *mm, size_t f);
const char *metricmap_family_label(const metricmap *mm, size_t f, size_t i);

/* The value of the family's i-th label for the counter `name` that hit
 * matched, handed to put in pieces (literal text and parts of name). */
typedef void (*metricmap_put)(void *arg, const char *s, size_t n);
void metricmap_label_value(const metricmap *mm, const char *name, const metricmap_hit *hit,
                           size_t i, metricmap_put put, void *arg);

/* The series given so far, to keep the first counter of each: a map the
 * config's checks passed never gives two, but outputs do not count on it.
 * keys_new: room for n counters (0, or -1 out of memory). keys_first: 1
 * if name, which hit matched, is the first of its series (now noted), 0
 * if one before it gave the same; calls beyond n must not happen. The
 * names must stay valid while keys lives. */
typedef struct metricmap_keys metricmap_keys;
int metricmap_keys_new(const metricmap *mm, size_t n, metricmap_keys **out);
int metricmap_keys_first(metricmap_keys *k, const char *name, const metricmap_hit *hit);
void metricmap_keys_free(metricmap_keys *k);

#endif
