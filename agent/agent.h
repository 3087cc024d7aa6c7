/*
 * agent.h — the running agent: its config, plugins, state store, plugin
 * instances, and what the current cycle has gathered. One per process;
 * the cycle runs on the main thread, exporters on their own threads.
 */
#ifndef TALLY_AGENT_AGENT_H
#define TALLY_AGENT_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "state.h"
#include "tally/plugin.h"

struct exportq;
struct spool;
struct selfstats;
struct self_inst;

struct tally_host {
    const loaded_plugin *plugin;
    struct agent *agent; /* NULL while only checking a config */
    cfg_t *section;
    void *ctx; /* the plugin's, from init */
    int started;
    int abandoned;      /* hung in export at shutdown: never touched again */
    char instance[512]; /* "plugin.title": the state key space */
    char who[600];      /* `plugin "title"`: how logs name it */
    /* Exporter threads call into the collector (history) while the main
     * thread may stop it (shutdown, reload): they hold life for reading
     * around each call and find `stopped` set once stop may have run. */
    pthread_rwlock_t life;
    int stopped;
    /* What this instance did in the cycle under way (or the last one),
     * for its report (cycle_report.h) and, once the cycle commits, its
     * figures in the agent's own metrics (self, selfstats.h; NULL while
     * only checking a config); zeroed as each cycle begins. */
    struct {
        int64_t records, rejected, counters;
        int failed;
    } cycle;
    struct self_inst *self;
};

typedef struct agent {
    conf *conf;
    plugin_set *plugins;
    state *state;
    struct tally_host *hosts; /* one per conf instance, same order */
    size_t n_hosts;
    struct exportq *exports;
    /* The collector that records go to (one at most), or NULL. */
    struct tally_host *collector;
    /* tallyd --recompute: while set, only records created in
     * [recompute_from, recompute_to) reach the collector. */
    int recomputing;
    int64_t recompute_from, recompute_to;
    /* The seq of the cycle (or recompute) under way, 0 between them: what
     * cycle_seq returns and what the rows a cycle changes are stamped
     * with. */
    int64_t cycle_seq;
    struct spool *spool; /* exporters' spools: a connection of their own */
    /* Plugin steps that failed (a collect, a rollover, an export, a
     * commit), counted since start, from the export threads too: --once
     * exits 1 if any did. */
    atomic_uint failures;
    /* How the last cycle ended, for its report (cycle_report.h). */
    struct {
        int ran, ok;
        int64_t seq; /* 0 when it committed nothing */
        int64_t at_utc;
        double seconds;
    } last_cycle;
    /* Steps of the cycle under way that failed: it counts as failed. */
    unsigned cycle_step_failures;
    /* The agent's figures about itself, for its whole run (reloads too). */
    struct selfstats *self;
    /* The cycle in progress: live counters emitted by sources. */
    tally_counter_value *counters;
    size_t n_counters, cap_counters;
    /* When the main loop last began a cycle, and its interval then: read
     * by exporter threads (host loop_alive). */
    _Atomic int64_t loop_began_utc, loop_interval;
} agent;

#endif
