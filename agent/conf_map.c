/*
 * conf_map.c — see conf_map.h. The rules' texts are copied out of the
 * libconfuse tree, which goes with its conf, into one block the map owns.
 */
#include "conf_map.h"

#include "log.h"
#include "metricmap/metricmap.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct conf_map {
    _Atomic int refs;
    tally_metric_map pub;
    tally_metric_map_rule *rules;
    char **strings; /* every text the rules point to */
    size_t n_strings;
    metricmap *compiled; /* for conf_map_note_duplicates */
    size_t dropped_logged;
};

void conf_map_options(cfg_opt_t out[CONF_MAP_N_OPTIONS])
{
    static cfg_opt_t rule_opts[] = {
        CFG_STR("name", NULL, CFGF_NODEFAULT),
        CFG_STR_LIST("labels", "{}", CFGF_NONE),
        CFG_STR("help", NULL, CFGF_NODEFAULT),
        CFG_END(),
    };
    cfg_opt_t opts[CONF_MAP_N_OPTIONS] = {
        CFG_SEC("map", rule_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_STR("unmapped", "keep", CFGF_NONE),
    };
    memcpy(out, opts, sizeof(opts));
}

static int validate_unmapped(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
    if (strcmp(v, "keep") != 0 && strcmp(v, "drop") != 0) {
        cfg_error(cfg,
                  "unmapped '%s' is not one of keep (a counter no map rule matches stays "
                  "tally_region_value{name=...}), drop (it is left out)",
                  v);
        return -1;
    }
    return 0;
}

void conf_map_validators(cfg_t *cfg)
{
    cfg_set_validate_func(cfg, "unmapped", validate_unmapped);
}

int conf_map_has_title(cfg_t *cfg, const char *msg)
{
    const char *q = strchr(msg, '\'');
    const char *end = q != NULL ? strrchr(q + 1, '\'') : NULL;
    if (end == NULL || cfg_getopt(cfg, "map") == NULL)
        return 0;
    size_t len = (size_t)(end - q - 1);
    for (unsigned i = 0; i < cfg_size(cfg, "map"); i++) {
        const char *title = cfg_title(cfg_getnsec(cfg, "map", i));
        if (title != NULL && strlen(title) == len && memcmp(title, q + 1, len) == 0)
            return 1;
    }
    return 0;
}

static void map_free(conf_map *m)
{
    if (m == NULL)
        return;
    metricmap_free(m->compiled);
    for (size_t i = 0; i < m->n_strings; i++)
        free(m->strings[i]);
    free(m->strings);
    if (m->rules != NULL)
        for (size_t r = 0; r < m->pub.n_rules; r++)
            free((void *)m->rules[r].labels);
    free(m->rules);
    free(m);
}

/* A copy of s the map owns (NULL stays NULL); -1 out of memory. */
static int own(conf_map *m, const char *s, const char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    m->strings[m->n_strings++] = copy;
    *out = copy;
    return 0;
}

static const char *where(cfg_t *sec, const char *file)
{
    return sec->filename != NULL ? sec->filename : file;
}

/* Rule r from section sec: copied, then checked alone. 0, 1 (refused,
 * logged) or -1 (out of memory). */
static int take_rule(conf_map *m, cfg_t *sec, const char *file, tally_metric_map_rule *r)
{
    size_t n = cfg_size(sec, "labels");
    const char **labels = calloc(n + 1, sizeof(*labels));
    if (labels == NULL)
        return -1;
    r->labels = labels;
    r->n_labels = n;
    int rc = own(m, cfg_title(sec), &r->match) | own(m, cfg_getstr(sec, "name"), &r->name) |
             own(m, cfg_getstr(sec, "help"), &r->help);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = own(m, cfg_getnstr(sec, "labels", i), &labels[i]);
    if (rc != 0)
        return -1;
    char why[1024];
    if (metricmap_check_rule(r, why, sizeof(why)) != 0) {
        log_msg(TALLY_LOG_ERR, "%s:%d: map \"%s\": %s", where(sec, file), sec->line, r->match, why);
        return 1;
    }
    return 0;
}

/* Strings a section may hold: its title, name, help and labels. */
static size_t strings_of(cfg_t *cfg)
{
    size_t total = 0;
    for (unsigned i = 0; i < cfg_size(cfg, "map"); i++)
        total += 3 + cfg_size(cfg_getnsec(cfg, "map", i), "labels");
    return total;
}

int conf_map_load(cfg_t *cfg, const char *file, conf_map **out)
{
    *out = NULL;
    size_t n = cfg_size(cfg, "map");
    int drop = strcmp(cfg_getstr(cfg, "unmapped"), "drop") == 0;
    if (n == 0 && !drop)
        return 0;
    conf_map *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->rules = calloc(n + 1, sizeof(*m->rules))) == NULL ||
        (m->strings = calloc(strings_of(cfg) + 1, sizeof(*m->strings))) == NULL)
        goto oom;
    atomic_init(&m->refs, 1);
    m->pub = (tally_metric_map){m->rules, n, drop};
    unsigned char *ok = calloc(n + 1, 1);
    if (ok == NULL)
        goto oom;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = take_rule(m, cfg_getnsec(cfg, "map", (unsigned)i), file, &m->rules[i]);
        if (rc < 0) {
            free(ok);
            goto oom;
        }
        ok[i] = rc == 0;
        bad |= rc != 0;
    }
    /* Pairs of one name, among the rules that passed alone. */
    for (size_t b = 0; b < n; b++) {
        for (size_t a = 0; ok[b] && a < b; a++) {
            char why[1400];
            if (!ok[a] || metricmap_check_pair(&m->rules[a], &m->rules[b], why, sizeof(why)) == 0)
                continue;
            cfg_t *sa = cfg_getnsec(cfg, "map", (unsigned)a),
                  *sb = cfg_getnsec(cfg, "map", (unsigned)b);
            log_msg(TALLY_LOG_ERR, "%s:%d: map \"%s\": %s (map \"%s\" is at %s:%d)",
                    where(sb, file), sb->line, m->rules[b].match, why, m->rules[a].match,
                    where(sa, file), sa->line);
            bad = 1;
            break;
        }
    }
    free(ok);
    if (bad) {
        map_free(m);
        return -1;
    }
    if (metricmap_compile(&m->pub, &m->compiled) != 0)
        goto oom;
    *out = m;
    return 0;
oom:
    log_msg(TALLY_LOG_ERR, "%s: out of memory reading the map sections; free memory and retry",
            file);
    map_free(m);
    return -1;
}

const tally_metric_map *conf_map_rules(const conf_map *m)
{
    return m != NULL ? &m->pub : NULL;
}

conf_map *conf_map_ref(conf_map *m)
{
    if (m != NULL)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void conf_map_unref(conf_map *m)
{
    if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
        map_free(m);
}

void conf_map_note_duplicates(conf_map *m, const tally_counter_value *v, size_t n)
{
    if (m == NULL || m->pub.n_rules == 0)
        return;
    metricmap_keys *keys;
    if (metricmap_keys_new(m->compiled, n, &keys) != 0)
        return; /* the outputs still leave them out; only the count is lost */
    size_t dropped = 0;
    const char *example = NULL;
    for (size_t i = 0; i < n; i++) {
        metricmap_hit hit;
        if (v[i].name != NULL && metricmap_match(m->compiled, v[i].name, &hit) &&
            !metricmap_keys_first(keys, v[i].name, &hit)) {
            dropped++;
            if (example == NULL)
                example = v[i].name;
        }
    }
    if (dropped != m->dropped_logged && dropped > 0)
        log_msg(TALLY_LOG_WARNING,
                "map: %zu region counter%s (such as \"%s\") give a series an earlier counter "
                "already gives, and %s left out of the Prometheus outputs; this is a bug in "
                "the map checks: please report it with your map sections",
                dropped, dropped == 1 ? "" : "s", example, dropped == 1 ? "is" : "are");
    m->dropped_logged = dropped;
    metricmap_keys_free(keys);
}
