/*
 * loader.c — see loader.h.
 */
#include "loader.h"

#include "log.h"
#include "options.h"
#include "selfmetric/selfmetric.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *loader_kind_name(tally_plugin_kind kind)
{
    return selfmetric_kind_word(kind);
}

static int ends_with_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* A section name libconfuse and users can type: [a-z][a-z0-9_]*. */
static int plugin_name_ok(const char *name)
{
    if (name == NULL || name[0] < 'a' || name[0] > 'z')
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

/* The version first (it is the first member in every ABI), then the
 * size, then the layouts the descriptor shares with this agent. */
static int abi_ok(const char *path, const tally_plugin *d)
{
    if (d->abi_version != TALLY_PLUGIN_ABI_VERSION) {
        log_msg(TALLY_LOG_ERR,
                "plugin %s: ABI version %u, but this tallyd speaks ABI version %u: rebuild the "
                "plugin against this tallyd's plugin.h; not loaded",
                path, d->abi_version, TALLY_PLUGIN_ABI_VERSION);
        return 0;
    }
    if (d->struct_size < TALLY_PLUGIN_V4_SIZE) {
        log_msg(TALLY_LOG_ERR,
                "plugin %s: descriptor of %zu bytes, less than ABI %u's %zu: declare it with "
                "TALLY_PLUGIN_DEFINE(...) and rebuild the plugin; not loaded",
                path, d->struct_size, TALLY_PLUGIN_ABI_VERSION, (size_t)TALLY_PLUGIN_V4_SIZE);
        return 0;
    }
    const tally_plugin_build want = TALLY_PLUGIN_BUILD_INFO, *b = &d->build;
    const char *cv = b->confuse_version != NULL ? b->confuse_version : "(none)";
    if (strcmp(cv, want.confuse_version) != 0 || b->cfg_opt_size != want.cfg_opt_size ||
        b->cfg_size != want.cfg_size || b->record_size != want.record_size ||
        b->stats_size != want.stats_size) {
        log_msg(TALLY_LOG_ERR,
                "plugin %s: built with libconfuse %s (cfg_opt_t %u bytes, cfg_t %u), "
                "tally_record %u bytes and tally_stats %u, but this tallyd with libconfuse %s "
                "(%u, %u), %u and %u: the layouts they share differ; rebuild the plugin "
                "against this tallyd's SDK and libconfuse; not loaded",
                path, cv, b->cfg_opt_size, b->cfg_size, b->record_size, b->stats_size,
                want.confuse_version, want.cfg_opt_size, want.cfg_size, want.record_size,
                want.stats_size);
        return 0;
    }
    return 1;
}

/* A callback the agent would call without asking: refused here, with
 * what the agent uses it for, rather than a crash on first use. */
static int has(const char *path, const tally_plugin *d, const void *fn, const char *member,
               const char *use)
{
    if (fn != NULL)
        return 1;
    log_msg(TALLY_LOG_ERR,
            "plugin %s: %s '%s' has no %s callback, which tallyd calls %s; set it in the "
            "plugin's TALLY_PLUGIN_DEFINE(...) and rebuild the plugin; not loaded",
            path, loader_kind_name(d->kind), d->name, member, use);
    return 0;
}

static int callbacks_ok(const char *path, const tally_plugin *d)
{
    const tally_plugin_collector *c = &d->collector;
    int ok = has(path, d, (const void *)d->init, "init", "to start every instance") &
             has(path, d, (const void *)d->stop, "stop", "to stop every instance");
    switch (d->kind) {
    case TALLY_PLUGIN_SOURCE:
        ok &= has(path, d, (const void *)d->source.collect, "source.collect", "every cycle");
        break;
    case TALLY_PLUGIN_COLLECTOR:
        ok &=
            has(path, d, (const void *)c->consume, "collector.consume",
                "for every batch of records") &
            has(path, d, (const void *)c->inventory, "collector.inventory",
                "around every inventory a source sends") &
            has(path, d, (const void *)c->flush, "collector.flush", "after every source") &
            has(path, d, (const void *)c->discard, "collector.discard", "after a source failed") &
            has(path, d, (const void *)c->recompute_begin, "collector.recompute_begin",
                "for --recompute") &
            has(path, d, (const void *)c->stats, "collector.stats", "for every snapshot") &
            has(path, d, (const void *)c->free_stats, "collector.free_stats", "after every stats") &
            has(path, d, (const void *)c->history_open, "collector.history_open",
                "when an exporter reads the user-days") &
            has(path, d, (const void *)c->history_next, "collector.history_next",
                "for every page of user-days") &
            has(path, d, (const void *)c->history_close, "collector.history_close",
                "after every read of the user-days");
        break;
    case TALLY_PLUGIN_EXPORTER:
        ok &= has(path, d, (const void *)d->exporter.export_snapshot, "exporter.export_snapshot",
                  "for every snapshot");
        break;
    }
    return ok;
}

/* d is the agent's copy of the descriptor. */
static int descriptor_ok(const char *path, const tally_plugin *d, const plugin_set *set)
{
    if (!plugin_name_ok(d->name) || loader_kind_name(d->kind) == NULL || d->options == NULL) {
        log_msg(TALLY_LOG_ERR,
                "plugin %s: descriptor incomplete (name [a-z][a-z0-9_]*, a kind and options "
                "are required); not loaded",
                path);
        return 0;
    }
    if (!callbacks_ok(path, d))
        return 0;
    if (loader_find(set, d->name) != NULL) {
        log_msg(TALLY_LOG_ERR, "plugin %s: name '%s' already taken by %s; not loaded", path,
                d->name, loader_find(set, d->name)->path);
        return 0;
    }
    return 1;
}

/* The agent's own copy of the descriptor: what lies beyond the plugin's
 * struct_size (members appended after it was built) stays zero, absent. */
static void copy_descriptor(const tally_plugin *d, tally_plugin *copy)
{
    memset(copy, 0, sizeof(*copy));
    memcpy(copy, d, d->struct_size < sizeof(*copy) ? d->struct_size : sizeof(*copy));
}

/* Code from a file that another user may write runs as this agent, and
 * dlopen runs a library's constructors before tallyd can look at its
 * descriptor: so who may write the plugin dir and each plugin is checked
 * before anything is loaded. Owner root or this agent's user, no write
 * bit for group or others. what: "plugin_dir" or "plugin"; 1 if safe. */
static int writers_ok(const char *what, const char *path, const struct stat *st)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        log_msg(TALLY_LOG_ERR,
                "%s %s is owned by uid %d, neither root nor uid %d that tallyd runs as, and "
                "its code would run as this agent: chown root %s (or remove it)%s",
                what, path, (int)st->st_uid, (int)geteuid(), path,
                S_ISDIR(st->st_mode) ? "" : "; not loaded");
        return 0;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        log_msg(TALLY_LOG_ERR,
                "%s %s is writable by %s (mode %04o), who could make this agent run their "
                "code: chmod go-w %s%s",
                what, path, st->st_mode & S_IWOTH ? "anyone" : "its group",
                (unsigned)(st->st_mode & 07777), path, S_ISDIR(st->st_mode) ? "" : "; not loaded");
        return 0;
    }
    return 1;
}

/* The checks that need no dlopen: not a symlink, a regular file, safe
 * writers. 1 if path may be loaded; refusals are logged and counted. */
static int file_ok(plugin_set *set, const char *path)
{
    struct stat st;
    /* lstat: a symlink could lead anywhere, so it is never followed. */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char to[4096];
        ssize_t n = readlink(path, to, sizeof(to) - 1);
        to[n > 0 ? n : 0] = '\0';
        log_msg(TALLY_LOG_ERR,
                "plugin %s: a symlink (to %s); symlinks are refused, plugins load only from "
                "the plugin dir itself: copy the plugin there instead; not loaded",
                path, n > 0 ? to : "?");
        set->refused++;
        return 0;
    }
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        log_msg(TALLY_LOG_ERR, "plugin %s: not a regular file; not loaded", path);
        set->refused++;
        return 0;
    }
    if (!writers_ok("plugin", path, &st)) {
        set->refused++;
        return 0;
    }
    return 1;
}

static void load_one(plugin_set *set, const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        log_msg(TALLY_LOG_ERR, "plugin %s: cannot load: %s; not loaded", path, dlerror());
        set->refused++;
        return;
    }
    const tally_plugin *sym = dlsym(h, TALLY_PLUGIN_SYMBOL);
    tally_plugin copy, *d = &copy;
    if (sym == NULL) {
        log_msg(TALLY_LOG_ERR,
                "plugin %s: no symbol %s: not a tally plugin (remove it from the plugin dir); "
                "not loaded",
                path, TALLY_PLUGIN_SYMBOL);
    } else if (abi_ok(path, sym) && (copy_descriptor(sym, &copy), descriptor_ok(path, d, set))) {
        loaded_plugin *grown = realloc(set->v, (set->n + 1) * sizeof(*grown));
        cfg_opt_t *opts = NULL;
        if (grown != NULL)
            set->v = grown;
        if (grown != NULL && options_table(d->options, &opts) == 0) {
            set->v[set->n].desc = copy;
            set->v[set->n].opts = opts;
            set->v[set->n].handle = h;
            snprintf(set->v[set->n].path, sizeof(set->v[set->n].path), "%s", path);
            set->n++;
            log_msg(TALLY_LOG_DEBUG, "plugin %s: loaded '%s' (%s)", path, d->name,
                    loader_kind_name(d->kind));
            return;
        }
    }
    dlclose(h);
    set->refused++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int loader_scan(const char *dir, loader_choose_fn choose, void *arg, plugin_set **out)
{
    *out = NULL;
    plugin_set *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return -1;
    DIR *d = NULL;
    struct stat st;
    if (realpath(dir, set->dir) == NULL || (d = opendir(set->dir)) == NULL) {
        log_msg(TALLY_LOG_ERR,
                "plugin_dir '%s' cannot be read: %s; set plugin_dir to the directory holding "
                "the plugins (*.so)",
                dir, strerror(errno));
        free(set);
        return -1;
    }
    /* The directory as opened; whoever may write it may put a plugin in. */
    if (fstat(dirfd(d), &st) != 0 || !writers_ok("plugin_dir", set->dir, &st)) {
        closedir(d);
        free(set);
        return -1;
    }
    /* Sorted, so loading (and any duplicate-name refusal) is repeatable. */
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with_so(e->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        if (grown == NULL)
            break;
        names = grown;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    /* The chooser sees the names without ".so"; without one, or if it
     * cannot tell, every plugin loads. */
    unsigned char *load = calloc(n ? n : 1, 1);
    char **stems = calloc(n ? n : 1, sizeof(*stems));
    int all = choose == NULL || load == NULL || stems == NULL;
    for (size_t i = 0; !all && i < n; i++)
        if ((stems[i] = strndup(names[i], strlen(names[i]) - 3)) == NULL)
            all = 1;
    if (!all && choose((const char *const *)stems, n, load, arg) != 0)
        all = 1;
    for (size_t i = 0; i < n; i++) {
        char path[sizeof(set->dir) + 256];
        snprintf(path, sizeof(path), "%s/%s", set->dir, names[i]);
        /* Every file is checked, loaded or not: one that anyone may
         * replace is worth saying even while no section uses it. */
        if (file_ok(set, path) && (all || load[i]))
            load_one(set, path);
        free(names[i]);
        if (stems != NULL)
            free(stems[i]);
    }
    free(names);
    free(stems);
    free(load);
    *out = set;
    return 0;
}

const loaded_plugin *loader_find(const plugin_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].desc.name, name) == 0)
            return &set->v[i];
    return NULL;
}

void loader_free(plugin_set *set)
{
    if (set == NULL)
        return;
    loader_free(set->older);
    for (size_t i = 0; i < set->n; i++) {
        free(set->v[i].opts);
        dlclose(set->v[i].handle);
    }
    free(set->v);
    free(set);
}
