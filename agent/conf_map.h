/*
 * conf_map.h — tallyd.conf's `map` sections and `unmapped` (tallyd.conf(5)):
 * their options for the root table, their checks (each refusal with the
 * file and line of its section, so `tallyd -t` finds them), and the rules
 * as the snapshot's tally_metric_map. The map is reference counted: the
 * conf holds one reference, each snapshot another, so a snapshot that an
 * exporter still renders keeps the rules it was made with after a HUP
 * swaps the conf.
 */
#ifndef TALLY_AGENT_CONF_MAP_H
#define TALLY_AGENT_CONF_MAP_H

#include <confuse.h>
#include <stddef.h>

#include "tally/snapshot.h"

typedef struct conf_map conf_map;

/* The root table's options for the map: CONF_MAP_N_OPTIONS of them,
 * written to out. */
#define CONF_MAP_N_OPTIONS 2
void conf_map_options(cfg_opt_t out[CONF_MAP_N_OPTIONS]);
/* The validators of those options, on the root cfg. */
void conf_map_validators(cfg_t *cfg);

/* 1 if libconfuse's message names (in '...') the title of a map section
 * of cfg, so a duplicate title is a glob given twice. */
int conf_map_has_title(cfg_t *cfg, const char *msg);

/* Check cfg's map sections (file names the main file, for messages) and
 * build the map: 0 with *out (NULL when there are no rules and unmapped
 * is keep: every counter keeps its form), or -1 with every problem
 * logged. */
int conf_map_load(cfg_t *cfg, const char *file, conf_map **out);

/* What a snapshot carries: NULL for a NULL map. */
const tally_metric_map *conf_map_rules(const conf_map *m);
/* Another reference (m may be NULL); m itself. */
conf_map *conf_map_ref(conf_map *m);
void conf_map_unref(conf_map *m);

/* Every output keeps the first counter of a series and leaves the rest
 * out (exporters/format); this logs how many it leaves out of v[0..n)
 * (sorted by name), once each time the number changes. Only a map the
 * checks missed something in can give any. Main thread only. */
void conf_map_note_duplicates(conf_map *m, const tally_counter_value *v, size_t n);

#endif
