/*
 * conf.h — tallyd.conf: the global options, `include`, and one titled
 * multi-section per loaded plugin, built into one libconfuse option table
 * and parsed once. Every error names the file and line; an unknown option
 * or plugin lists the valid ones; each plugin checks its own sections.
 * A bad file yields no conf at all, so a reload can keep the old one.
 */
#ifndef TALLY_AGENT_CONF_H
#define TALLY_AGENT_CONF_H

#include <confuse.h>
#include <stddef.h>

#include "loader.h"

typedef struct conf_instance {
    const loaded_plugin *plugin;
    const char *title; /* owned by the conf's cfg */
    cfg_t *section;
} conf_instance;

typedef struct conf {
    cfg_t *cfg;
    char file[4096];
    const char *timezone, *state_dir, *plugin_dir, *log_target;
    /* Where state_dir comes from, to start messages about it: "file:line: ",
     * or "file: state_dir is not set, so the default applies: ". */
    char state_dir_at[4200];
    long interval;
    int log_level;
    conf_instance *inst;
    size_t n_inst;
    struct conf_map *map; /* the map sections (conf_map.h); NULL: none */
} conf;

/* The plugin_dir a config file sets at its top level, found before the
 * real parse (plugins must be loaded to build the option table). 1 with
 * buf and *line set if found, 0 if not, -1 if the file cannot be read,
 * -2 (logged) if it is not safe to parse (see conf_text.h). */
int conf_prescan_plugin_dir(const char *file, char *buf, size_t cap, int *line);

/* Which plugin files (names without ".so") the sections of file and its
 * includes use: used[i] is 1 for each stems[i] that names a section. 0
 * on success; -1 if the file does not parse without the plugins' own
 * option tables (a section of a name that no file has, say): the caller
 * then loads every plugin. Reports nothing: conf_load does. */
int conf_used_plugins(const char *file, const char *const *stems, size_t n, unsigned char *used);

/* Parse and check file against the plugins; plugin_dir is the directory
 * they were loaded from (the file must not name another). Each plugin
 * checks its sections; at most one collector. 0 or -1, with every problem
 * logged. */
int conf_load(const char *file, const plugin_set *plugins, const char *plugin_dir, conf **out);
void conf_free(conf *c);

/* Print the plugins, their kinds and options with defaults and help. */
void conf_list_plugins(const plugin_set *plugins, FILE *out);

#endif
