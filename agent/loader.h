/*
 * loader.h — finding plugins: every regular *.so file directly in
 * plugin_dir that exports a descriptor of this agent's ABI version (or
 * only those a config's sections use, so an agent that exports to a file
 * does not map libcurl and its thirty libraries).
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
    /* A set a reload replaced while an abandoned export thread may still
     * run its code: kept loaded, freed with this one. */
    struct plugin_set *older;
} plugin_set;

/* Which plugin files to load: load[i] = 1 for each of the n file names
 * without ".so" (stems) wanted. 0, or -1 to load every one. */
typedef int (*loader_choose_fn)(const char *const *stems, size_t n, unsigned char *load, void *arg);

/* Scan dir and load the plugins choose picks (every one if choose is
 * NULL); every file is still checked for who may write it. Returns 0
 * (refused plugins are logged and counted, not fatal), or -1 if the
 * directory cannot be read. */
int loader_scan(const char *dir, loader_choose_fn choose, void *arg, plugin_set **out);
const loaded_plugin *loader_find(const plugin_set *set, const char *name);
void loader_free(plugin_set *set);
const char *loader_kind_name(tally_plugin_kind kind);

#endif
