/*
 * plugin.h — the ABI between tallyd and its plugins (sources, collectors,
 * exporters). A plugin is a shared object in plugin_dir that exports one
 * symbol, TALLY_PLUGIN_SYMBOL, a const tally_plugin declared with
 * TALLY_PLUGIN_DEFINE(...). Build one against the installed SDK (these
 * headers, `pkg-config --cflags tally-plugin`, or CMake's
 * find_package(tally-plugin) and tally_add_plugin); see README.
 *
 * A plugin talks to the agent only through the tally_host_api table it is
 * given at init; it never calls into the agent's symbols and never touches
 * another plugin. Every callback returns 0 on success or a negative code
 * (TALLY_HOST_*); failures are logged by the plugin with api->log, naming
 * what failed, where, and what to do; config problems with
 * api->config_error.
 *
 * The ABI rules (version 4):
 * - abi_version must equal TALLY_PLUGIN_ABI_VERSION; a change that breaks
 *   what is here raises it.
 * - Both tables say how large they are (struct_size). New members are
 *   only ever appended, so a plugin built against an older plugin.h of
 *   the same ABI version still loads: the agent treats every callback
 *   beyond the plugin's struct_size as absent. A plugin tests for a host
 *   callback appended later with TALLY_API_HAS(api, member).
 * - The tables carry other libraries' layouts: libconfuse's cfg_opt_t
 *   (the option rows) and cfg_t (sections), and the compiler's __int128
 *   (tally_record's fixed-point values). TALLY_PLUGIN_DEFINE records the
 *   libconfuse version and the sizes a plugin was built with
 *   (tally_plugin_build); the agent refuses a plugin whose record differs
 *   from its own, naming both, instead of misreading its memory.
 * - The agent refuses a plugin that lacks a callback it would call: init
 *   and stop for all; collect for a source; consume, inventory, flush,
 *   discard, recompute_begin, stats, free_stats and the three history
 *   callbacks for a collector; export_snapshot for an exporter.
 * - Version 4 (issue 12, cycles that cost what changed): a snapshot's
 *   user_days and counter_days hold what changed (snapshot.h), a
 *   collector's stats take the seq they start after and serve history
 *   pages, and exporters get history, marks and a marked spool push.
 * - Memory crosses the line only for the length of a call: what a plugin
 *   hands over (records, a collector's stats) is copied by the agent
 *   before the call returns or is given back (free_stats); what the agent
 *   hands over (a snapshot, a section) is valid during the call, except
 *   sections, valid until stop.
 */
#ifndef TALLY_PLUGIN_H
#define TALLY_PLUGIN_H

#include <confuse.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "record.h"
#include "tally/sdk.h"
#include "snapshot.h"

#define TALLY_PLUGIN_ABI_VERSION 4u
#define TALLY_PLUGIN_SYMBOL "tally_plugin_descriptor"

/* The contract at shutdown and reload: exporters get this long, in
 * milliseconds, to finish the export under way and return from
 * export_snapshot. One still inside it afterwards is abandoned (never
 * stopped, its plugin kept loaded), and what it had not delivered waits
 * in its spool. An exporter that bounds its own work by a deadline should
 * use this one. */
#define TALLY_EXPORT_GRACE_MS 10000

typedef enum tally_plugin_kind {
    TALLY_PLUGIN_SOURCE = 1,
    TALLY_PLUGIN_COLLECTOR = 2,
    TALLY_PLUGIN_EXPORTER = 3,
} tally_plugin_kind;

enum {
    TALLY_HOST_OK = 0,
    TALLY_HOST_ERR = -1,    /* failed; the plugin logged why */
    TALLY_HOST_ENOENT = -2, /* no such state key */
    TALLY_HOST_EINVAL = -3, /* bad argument */
};

/* Log levels, as syslog numbers them. */
enum { TALLY_LOG_ERR = 3, TALLY_LOG_WARNING = 4, TALLY_LOG_INFO = 6, TALLY_LOG_DEBUG = 7 };

/* A business day: [start_utc, end_utc) in the configured time zone. DST
 * makes some days 23, 23.5, 24.5 or 25 hours long. */
typedef struct tally_day {
    char date[TALLY_DATE_LEN];
    int64_t start_utc, end_utc;
} tally_day;

typedef struct tally_host tally_host; /* one per plugin instance */

/* One payload of an exporter's spool (see spool_push below). */
typedef struct tally_spool_item {
    int64_t seq;         /* 1, 2, 3, ... per instance; never reused */
    char key[64];        /* "<instance id>-<seq>": the same for this payload across retries and
                          * restarts, and unique across instances and hosts (the instance id is
                          * random, made when the instance first spools) */
    int64_t created_utc; /* wall clock when it was pushed */
    char *meta;          /* the exporter's text stored with it (malloc'd; free it) */
    void *data;          /* the payload (malloc'd; free it) */
    size_t len;
} tally_spool_item;

/* What an exporter's spool holds now, and what became of payloads so far. */
typedef struct tally_spool_stats {
    int64_t items, bytes;                 /* waiting now */
    int64_t delivered;                    /* dropped with TALLY_SPOOL_DELIVERED, all time */
    int64_t rejected;                     /* dropped with TALLY_SPOOL_REJECTED, all time */
    int64_t overflowed, overflowed_bytes; /* pushed out by a full spool, all time */
} tally_spool_stats;

/* spool_drop: what became of the payload. */
enum { TALLY_SPOOL_DELIVERED = 0, TALLY_SPOOL_REJECTED = 1 };
/* spool_push: keep older payloads (a queue), or replace them all (only
 * the newest matters). */
enum { TALLY_SPOOL_QUEUE = 0, TALLY_SPOOL_REPLACE = 1 };

/* History: the long lists read from the state a page at a time, as a
 * snapshot's cycle committed them (see history_open below). */
typedef enum tally_history_table {
    TALLY_HISTORY_USER_DAYS = 1,    /* tally_user_day_stats, by date then user_id */
    TALLY_HISTORY_COUNTER_DAYS = 2, /* tally_counter_day, by date then name */
} tally_history_table;

typedef struct tally_history_query {
    size_t struct_size; /* sizeof(tally_history_query) of the caller's build */
    tally_history_table table;
    /* Only rows changed after this seq (snapshot.h); 0: every row. */
    int64_t changed_after;
    /* The dates read, [from_date, to_date): "" for from_date is the
     * oldest listed (the snapshot's oldest_kept), "" for to_date is the
     * snapshot's today (the closed days, which is all that is listed).
     * Dates outside the listed ones are never read. */
    char from_date[TALLY_DATE_LEN];
    char to_date[TALLY_DATE_LEN];
    /* One user_id or counter name only; NULL: every one. */
    const char *key;
    /* Rows per page; 0: 1,000. A page's memory is the host's. */
    size_t page_rows;
} tally_history_query;

/* One page: the rows of the query's table (the other array is empty),
 * valid until the next history_next or history_close. A page with no row
 * is the end. */
typedef struct tally_history_page {
    const tally_user_day_stats *user_days;
    size_t n_user_days;
    const tally_counter_day *counter_days;
    size_t n_counter_days;
} tally_history_page;

typedef struct tally_history tally_history; /* an open read, the host's */

typedef struct tally_host_api {
    /* sizeof(tally_host_api) of the agent's build: callbacks at or beyond
     * it are not there (see TALLY_API_HAS). */
    size_t struct_size;

    /* log: a message about this instance; the agent prefixes the plugin and
     * instance name. Never pass secrets. */
    void (*log)(tally_host *h, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* The business clock: now (UTC seconds; --now sets it), the zone's IANA
     * name, and the business day that contains an instant. */
    int64_t (*now)(tally_host *h);
    const char *(*timezone)(tally_host *h);
    int (*day_of)(tally_host *h, int64_t utc, tally_day *out);
    /* An instant as local time in the business zone (for strftime). */
    int (*local_time)(tally_host *h, int64_t utc, struct tm *out);

    /* State: string values under keys private to this instance, kept in the
     * agent's SQLite store. Writes made during collect or rollover commit in
     * the cycle's one transaction, together with everything the cycle
     * produced, or not at all. state_get returns a malloc'd copy (free it)
     * or TALLY_HOST_ENOENT. */
    int (*state_get)(tally_host *h, const char *key, char **value);
    int (*state_put)(tally_host *h, const char *key, const char *value);

    /* Sources, during collect: a counter's live value for this cycle's
     * snapshot; and a counter's total for a closed business day, stored in
     * the cycle's transaction (a later call for the same date and name adds
     * to it). */
    int (*emit_counter)(tally_host *h, const char *name, int64_t value);
    int (*emit_counter_day)(tally_host *h, const char *date, const char *name, int64_t value);

    /* A secret named in the config: the contents of file (trailing newline
     * removed) if file is set, else the environment variable env. The
     * caller frees *out; the agent never logs it. */
    int (*read_secret)(tally_host *h, const char *file, const char *env, char **out);

    /* The agent's state directory (for files a plugin keeps, e.g. rejects). */
    const char *(*state_dir)(tally_host *h);

    /* Sources, during collect or recompute: records for the collectors,
     * any number per call. Strings are read during the call only. */
    int (*emit_records)(tally_host *h, const tally_record *recs, size_t n);
    /* Sources: the users or api_keys inventory is re-sent whole: begin,
     * emit every item, end. The items replace what this source sent
     * before; a source that fails before end changes nothing. */
    int (*inventory_begin)(tally_host *h, tally_stream stream);
    int (*inventory_end)(tally_host *h, tally_stream stream);
    /* Sources: n input rows were set aside (rejected); counted in the
     * cycle's transaction and shown as rejected_rows. */
    int (*count_rejected)(tally_host *h, int64_t n);

    /* A wall-clock time in the business zone, as seconds since
     * 1970-01-01T00:00 local, to UTC seconds. A time the zone repeats
     * (DST ends) is its first occurrence; one it skips (DST starts) is
     * moved forward by the gap. */
    int (*local_to_utc)(tally_host *h, int64_t local_seconds, int64_t *utc);

    /* Collectors: the agent's SQLite database (a sqlite3 *), for tables the
     * plugin creates and names with its plugin name as prefix. Use it only
     * from init, rollover, consume, flush, recompute_begin and stats (main
     * thread); writes outside init land in the cycle's transaction. */
    void *(*state_db)(tally_host *h);

    /* Exporters: the spool, a queue of payloads private to this instance
     * in the agent's state database, so that what could not be delivered
     * yet survives a restart. Callable from any thread (exporters' own
     * included), at any time after init; each call is its own durable
     * transaction, apart from the cycle's.
     *
     * spool_push: append a payload (copied) with a short text `meta`;
     * mode TALLY_SPOOL_REPLACE first removes every older payload. Then,
     * while the spool would hold more than max_bytes (0: no limit), the
     * oldest payloads are dropped and counted as overflowed; *overflowed (may be NULL) says
     * how many this call dropped. A payload larger than max_bytes alone is
     * not kept: it counts as overflowed and TALLY_HOST_ERR is returned.
     * *seq (may be NULL) is the new payload's seq. */
    int (*spool_push)(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                      int64_t max_bytes, int64_t *seq, int64_t *overflowed);
    /* spool_peek: the oldest payload, or TALLY_HOST_ENOENT when the spool
     * is empty. The caller frees out->data and out->meta. */
    int (*spool_peek)(tally_host *h, tally_spool_item *out);
    /* spool_drop: remove payload seq, counting it as outcome
     * (TALLY_SPOOL_DELIVERED or TALLY_SPOOL_REJECTED); TALLY_HOST_ENOENT
     * if it is no longer there (a push replaced or overflowed it). */
    int (*spool_drop)(tally_host *h, int64_t seq, int outcome);
    int (*spool_stats)(tally_host *h, tally_spool_stats *out);

    /* config_error: a problem with an option of this instance's section,
     * from check (or init), logged at error level as
     * "FILE:LINE: in PLUGIN \"TITLE\": MESSAGE" — the one shape every
     * config error has. FILE is "config" when libconfuse knows none;
     * LINE is the section's (libconfuse 3.3 keeps one line per section,
     * where it ends, not one per option), so name the option in fmt. */
    void (*config_error)(tally_host *h, cfg_t *section, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* ---- ABI 4 ---- */

    /* The seq (snapshot.h) of the cycle under way, for sources and
     * collectors during cycle_begin, rollover, collect, consume, flush
     * and recompute_begin: what a collector stamps on the rows it
     * changes. Committed with the cycle, so a cycle that rolls back
     * leaves no trace of its number. */
    int64_t (*cycle_seq)(tally_host *h);

    /* Exporters, during export_snapshot, on their own thread: page through
     * the user-days or the daily counter totals as they were when snap's
     * cycle committed, however many cycles have committed since (the host
     * holds a read of that state for as long as the snapshot lives).
     * history_open starts a read of q (copied); history_next gives the next
     * page (no rows: the end); history_close ends it (NULL is fine). Any
     * number of reads may be open at once, from any exporter thread.
     * Returns TALLY_HOST_OK, TALLY_HOST_EINVAL (a query that is not
     * valid), or TALLY_HOST_ERR (logged). */
    int (*history_open)(tally_host *h, const tally_snapshot *snap, const tally_history_query *q,
                        tally_history **out);
    int (*history_next)(tally_history *it, tally_history_page *page);
    void (*history_close)(tally_history *it);

    /* Exporters, any thread, at any time after init: short named values
     * private to this instance (what it last delivered: a snapshot's
     * state_id and seq, say), each call its own durable transaction in
     * the agent's state database. mark_get returns a malloc'd copy (free
     * it) or TALLY_HOST_ENOENT. */
    int (*mark_get)(tally_host *h, const char *name, char **value);
    int (*mark_put)(tally_host *h, const char *name, const char *value);
    /* spool_push with mark_put(mark_name, mark_value) in the same
     * transaction: the payload is in the spool if and only if the mark
     * says so, whatever stops the agent between the two. */
    int (*spool_push_marked)(tally_host *h, const void *data, size_t len, const char *meta,
                             int mode, int64_t max_bytes, const char *mark_name,
                             const char *mark_value, int64_t *seq, int64_t *overflowed);

    /* ---- appended in ABI 4 (issue 14); test with TALLY_API_HAS ---- */

    /* Sources and exporters, any thread: set a figure of this instance for
     * the agent's own metrics (snapshot.h, tally_instance_stats), shown
     * from the next snapshot on: bytes_read_total and lag_bytes for a file
     * source, watermark_age_seconds for a database, region_capacity,
     * region_used and region_overflow_total for a region. name is
     * [a-z][a-z0-9_]* (a counter's ends in _total); the latest value set
     * under a name is the one shown; help is one line (copied). Never
     * the agent's own names (records_total, ...: those it keeps itself).
     * TALLY_HOST_EINVAL for a bad name or kind. */
    int (*metric)(tally_host *h, const char *name, tally_metric_kind kind, double value,
                  const char *help);

    /* Exporters that answer between cycles (serve): keep snap, and the
     * read of the state its history pages through, alive after
     * export_snapshot returns, until snapshot_release. Any thread. A kept
     * snapshot pins its state read: keep the newest only. */
    int (*snapshot_hold)(tally_host *h, const tally_snapshot *snap);
    void (*snapshot_release)(tally_host *h, const tally_snapshot *snap);

    /* Any thread: when the agent's main loop last began a cycle (wall
     * clock, UNIX seconds; 0 before the first) and the interval it keeps
     * between cycles. A loop stuck inside a cycle (a source that hangs)
     * stops moving the first: what a liveness check (serve's /healthz)
     * looks at. */
    int (*loop_alive)(tally_host *h, int64_t *began_utc, int64_t *interval);

    /* Append new callbacks here, never between. */
} tally_host_api;

/* Whether the host has callback `member` (one appended after the plugin's
 * own plugin.h is absent from an older agent). Every callback of ABI 4
 * up to spool_push_marked is always there. */
#define TALLY_API_HAS(api, member)                                                                 \
    ((api)->struct_size >= offsetof(tally_host_api, member) + sizeof((api)->member) &&             \
     (api)->member != NULL)

/* Statistics a collector produces for the snapshot (see snapshot.h). */
typedef struct tally_stats {
    tally_day_stats *days; /* every listed day */
    size_t n_days;
    /* Only those changed after stats' changed_after (snapshot.h). */
    tally_user_day_stats *user_days;
    size_t n_user_days;
    tally_summary summary;
    tally_totals today, combined;
    /* The oldest business date the collector keeps listing (today less
     * its keep_days): the snapshot's counter_days start there too. "" (a
     * collector that does not say): TALLY_KEEP_DAYS_DEFAULT days. */
    char oldest_kept[TALLY_DATE_LEN];
    /* 1: more user-days changed than a snapshot carries
     * (TALLY_STATS_MAX_CHANGED); user_days is then empty, and the
     * snapshot says so (snapshot.h: changed_after = seq), so exporters
     * read the changes from history, a page at a time. Memory stays
     * bounded after a first cycle over a year of logs or a recompute. */
    int more_changed;
} tally_stats;

/* The most changed user-days a collector lists in its stats. */
#define TALLY_STATS_MAX_CHANGED 10000

/* How many closed days are listed where nothing says otherwise: the daily
 * collector's default keep_days, and the snapshot's counter_days without
 * a collector. */
#define TALLY_KEEP_DAYS_DEFAULT 400

enum { TALLY_INVENTORY_BEGIN = 1, TALLY_INVENTORY_END = 2 };

/* One option of a plugin, in one row: what libconfuse parses (def, built
 * with the usual CFG_* macros: name, type, default), what --list-plugins
 * says about it (help; the default is printed from def, so the help text
 * never repeats it), and a check of its value (may be NULL). A plugin's
 * rows end with TALLY_OPTION_END.
 *
 * check: called for each instance when the config is parsed (tallyd -t
 * too), before the plugin's whole-section check, with the option's name;
 * reports each problem with api->config_error and returns TALLY_HOST_OK
 * or TALLY_HOST_ERR. Like the plugin's check it must have no side
 * effects. A check shared by several plugins (lib/) lives once, with its
 * row. */
typedef int (*tally_option_check)(tally_host *h, const tally_host_api *api, cfg_t *section,
                                  const char *name);

typedef struct tally_option {
    cfg_opt_t def;
    const char *help;
    tally_option_check check;
} tally_option;

#define TALLY_OPTION_END                                                                           \
    {                                                                                              \
        CFG_END(), NULL, NULL                                                                      \
    }

/* Kind-specific callbacks, one sub-struct per kind. Separate members, not
 * a union: a descriptor whose kind is wrong then has its callbacks in the
 * wrong place (refused by the loader as missing), never read as another
 * kind's callbacks of another type. Each sub-struct is fixed for ABI 4;
 * new callbacks are appended to tally_plugin itself. */
typedef struct tally_plugin_source {
    /* collect: hand over everything new since the last committed
     * checkpoint, and put the new checkpoint with state_put. Runs in the
     * cycle's transaction on the agent's main thread: it must not block
     * for long, and must not keep data it emitted in case of a rollback.
     * Required. */
    int (*collect)(void *ctx);
    /* recompute: emit again every record already consumed (up to the
     * committed checkpoints, which stay as they are). The agent passes on
     * those created in [from_utc, to_utc) after the collectors forgot
     * those days (tallyd --recompute). May be NULL. */
    int (*recompute)(void *ctx, int64_t from_utc, int64_t to_utc);
} tally_plugin_source;

typedef struct tally_plugin_collector {
    /* consume: records a source emitted (source is its instance name);
     * inventory: TALLY_INVENTORY_BEGIN/END around a whole inventory. Both
     * keep what they get pending until flush, which writes it into the
     * cycle's transaction after the source's collect succeeded; discard
     * forgets it after the source failed. */
    int (*consume)(void *ctx, const char *source, const tally_record *recs, size_t n);
    int (*inventory)(void *ctx, const char *source, tally_stream stream, int phase);
    int (*flush)(void *ctx);
    void (*discard)(void *ctx);
    /* recompute_begin: forget the days that start in [from_utc, to_utc),
     * before the sources emit them again. */
    int (*recompute_begin)(void *ctx, int64_t from_utc, int64_t to_utc);
    /* stats: the statistics as of the committed state, for the business
     * clock's now, in memory the plugin allocates as it likes: every
     * listed day and the totals, and of the user-days only those whose
     * seq is above changed_after (0: all of them). The agent copies what
     * it needs at once and then calls free_stats with the same *out, on
     * the main thread, also after stats failed. Its cost must follow the
     * days listed and the rows changed, not the user-days kept. */
    int (*stats)(void *ctx, int64_t now_utc, int64_t changed_after, tally_stats *out);
    void (*free_stats)(void *ctx, tally_stats *st);
    /* The host's history_open/next/close for TALLY_HISTORY_USER_DAYS:
     * read through db (a sqlite3 * the host opened on the state and holds
     * a read transaction on), never the collector's own connection. Called
     * on exporter threads, several reads at once: use nothing of ctx that
     * init did not fix. The host has filled q's dates in (from_date and
     * to_date are set and within the listed days) and checked its table.
     * A page is the collector's until its next history_next or
     * history_close. */
    int (*history_open)(void *ctx, void *db, const tally_history_query *q, void **it);
    int (*history_next)(void *it, tally_history_page *page);
    void (*history_close)(void *it);
} tally_plugin_collector;

typedef struct tally_plugin_exporter {
    /* export_snapshot: deliver one snapshot. Runs on the exporter's own
     * thread, so a slow exporter delays nobody else; a newer snapshot that
     * arrives meanwhile replaces an undelivered older one. The snapshot is
     * the agent's, valid only during the call. */
    int (*export_snapshot)(void *ctx, const tally_snapshot *snap);
} tally_plugin_exporter;

/* What a plugin was built with, for the layouts it shares with the agent
 * (see the ABI rules above). TALLY_PLUGIN_DEFINE fills it. */
typedef struct tally_plugin_build {
    const char *confuse_version; /* TALLY_SDK_CONFUSE_VERSION */
    uint32_t cfg_opt_size;       /* sizeof(cfg_opt_t) */
    uint32_t cfg_size;           /* sizeof(cfg_t) */
    uint32_t record_size;        /* sizeof(tally_record): __int128's layout */
    uint32_t stats_size;         /* sizeof(tally_stats) */
} tally_plugin_build;

#define TALLY_PLUGIN_BUILD_INFO                                                                    \
    {                                                                                              \
        TALLY_SDK_CONFUSE_VERSION, (uint32_t)sizeof(cfg_opt_t), (uint32_t)sizeof(cfg_t),           \
            (uint32_t)sizeof(tally_record), (uint32_t)sizeof(tally_stats)                          \
    }

typedef struct tally_plugin {
    uint32_t abi_version; /* TALLY_PLUGIN_ABI_VERSION */
    size_t struct_size;   /* sizeof(tally_plugin) of the plugin's build */
    tally_plugin_build build;

    const char *name; /* the config section name, e.g. "shm" */
    tally_plugin_kind kind;
    const char *summary; /* one line for --list-plugins */

    /* The plugin's options, one row each, ending with TALLY_OPTION_END.
     * The agent builds one titled multi-section per plugin from their
     * definitions; libconfuse rejects unknown options and wrong types
     * with file and line. */
    const tally_option *options;

    /* check: called for each instance when the config is parsed (also by
     * tallyd -t), after the options' own checks, before anything runs.
     * Validates what concerns the section as a whole (options that
     * exclude or need each other); reports each problem with
     * api->config_error naming the option. Must have no side effects;
     * the clock and state are not available yet. May be NULL. */
    int (*check)(tally_host *h, const tally_host_api *api, cfg_t *section);

    /* init: build the instance from its checked section; set *ctx. Called
     * once at start and again after a successful reload (HUP), after stop
     * of the old instance. May open files, regions, connections.
     * Required. */
    int (*init)(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx);

    /* rollover: sources and collectors; the business day `ended` has just
     * ended (local midnight passed, DST-correct). Called once per ended day
     * in date order, in the cycle's transaction, before that cycle's
     * collect, also for days that ended while the agent was down. May be
     * NULL. */
    int (*rollover)(void *ctx, const tally_day *ended);

    /* stop: release everything; called once, after the last export.
     * Required. */
    void (*stop)(void *ctx);

    /* The callbacks of the plugin's kind; the others stay empty. */
    tally_plugin_source source;
    tally_plugin_collector collector;
    tally_plugin_exporter exporter;

    /* cycle_begin: sources and collectors; once per cycle, in the cycle's
     * transaction and a savepoint of its own, after the rollovers and
     * before collect; today is the business day the cycle's statistics
     * are built for. For bounded housekeeping that a cycle continues
     * where the last one stopped (the daily collector prunes a batch of
     * old rows here). A failure takes back only its own writes. May be
     * NULL. */
    int (*cycle_begin)(void *ctx, const tally_day *today);

    /* Append new members here, never between. */
} tally_plugin;

/* The size of an ABI 4 descriptor and host table: the least the agent
 * and a plugin accept. */
#define TALLY_PLUGIN_V4_SIZE                                                                       \
    (offsetof(tally_plugin, cycle_begin) + sizeof(((tally_plugin *)0)->cycle_begin))
#define TALLY_HOST_API_V4_SIZE                                                                     \
    (offsetof(tally_host_api, spool_push_marked) + sizeof(((tally_host_api *)0)->spool_push_marked))

/* Declare a plugin's descriptor, with the ABI version, the size and the
 * build record filled in:
 *     TALLY_PLUGIN_DEFINE(.name = "hello", .kind = TALLY_PLUGIN_SOURCE,
 *                         .options = hello_options, .init = hello_init,
 *                         .stop = hello_stop,
 *                         .source = {.collect = hello_collect});        */
#define TALLY_PLUGIN_DEFINE(...)                                                                   \
    __attribute__((visibility("default")))                                                         \
    const tally_plugin tally_plugin_descriptor = {.abi_version = TALLY_PLUGIN_ABI_VERSION,         \
                                                  .struct_size = sizeof(tally_plugin),             \
                                                  .build = TALLY_PLUGIN_BUILD_INFO,                \
                                                  __VA_ARGS__}

#endif
