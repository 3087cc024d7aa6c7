/*
 * loader.h — finding plugins: every regular *.so file directly in
 * plugin_dir that exports a descriptor of this agent's ABI version.
 * Symlinks, missing descriptors, ABI or layout mismatches, missing
 * callbacks and duplicate names are refused with an error naming the
 * file; nothing outside the directory is ever loaded. A plugin dir or
 * plugin owned by a user other than root or the agent's, or writable by
 * group or others, is refused before dlopen, so none of its code runs.
 */
#ifndef TALLY_AGENT_LOADER_H
#define TALLY_AGENT_LOADER_H

#include <stddef.h>

#include "tally/plugin.h"

typedef struct loaded_plugin {
    /* The agent's copy of the plugin's descriptor (members beyond the
     * plugin's struct_size zero); its strings and options point into the
     * plugin, loaded until loader_free. */
    tally_plugin desc;
    void *handle;    /* dlopen */
    cfg_opt_t *opts; /* libconfuse's table, built from desc->options */
    char path[4096 + 256];
} loaded_plugin;

typedef struct plugin_set {
    loaded_plugin *v;
    size_t n;
    char dir[4096]; /* the real path scanned */
    int refused;    /* plugins refused, each logged */
} plugin_set;

/* Scan dir. Returns 0 (refused plugins are logged and counted, not fatal),
 * or -1 if the directory cannot be read. */
int loader_scan(const char *dir, plugin_set **out);
const loaded_plugin *loader_find(const plugin_set *set, const char *name);
void loader_free(plugin_set *set);
const char *loader_kind_name(tally_plugin_kind kind);

#endif
