/*
 * mock_host.h — a stand-in for tallyd's side of the plugin ABI, so a
 * plugin's .so can be unit-tested without the daemon (as collectd's tests
 * use a mock plugin host). It loads a built plugin with dlopen, parses a
 * config section for it with libconfuse from a string, and gives it a
 * tally_host_api that records what the plugin does: log lines, state
 * writes, emitted counters, emitted records (deep copies), inventory
 * calls, rejected-row counts and the figures it reports (metric). The
 * business clock is set by the test.
 *
 * Differences from the agent, all deliberate: state writes commit at once
 * (there is no cycle transaction: a test rolls one back by putting the
 * old value again), the time zone is applied process-wide with TZ +
 * tzset (local_to_utc included), state_db is NULL unless the test hands
 * one over (the daily collector's tests do), and the spool lives in
 * memory (for as long as the host, so stopping and starting a plugin on
 * one host is a restart). Logging and the spool may be used from a
 * plugin's own threads, as the agent allows; everything else is for one
 * thread.
 */
#ifndef TALLY_TESTS_MOCK_HOST_H
#define TALLY_TESTS_MOCK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/plugin.h"

/* One host is one plugin instance. now starts at 2026-11-22T03:00:00Z and
 * the zone at UTC. */
tally_host *mock_host_new(void);
void mock_host_free(tally_host *h);
/* The API table to hand to check and init. */
const tally_host_api *mock_host_api(void);

/* The business clock. set_timezone takes an IANA name (it must exist under
 * /usr/share/zoneinfo) and sets TZ for the whole process: 0 or -1. */
void mock_host_set_now(tally_host *h, int64_t utc);
int mock_host_set_timezone(tally_host *h, const char *zone);
void mock_host_set_state_dir(tally_host *h, const char *dir);
/* What state_db returns (a sqlite3 *, opened and closed by the test). */
void mock_host_set_state_db(tally_host *h, void *db);

/* Log lines, oldest first, without any prefix. find returns the first line
 * that contains needle (NULL if none). Set TALLY_TEST_VERBOSE=1 to also
 * echo them to stderr. */
size_t mock_host_log_count(const tally_host *h);
const char *mock_host_log_text(const tally_host *h, size_t i);
int mock_host_log_level(const tally_host *h, size_t i);
const char *mock_host_log_find(const tally_host *h, const char *needle);
void mock_host_log_clear(tally_host *h);

/* The state store: the value under key, or NULL; put seeds it. */
const char *mock_host_state(const tally_host *h, const char *key);
int mock_host_state_put(tally_host *h, const char *key, const char *value);

/* Counters emitted, in call order: date is "" for emit_counter. */
typedef struct mock_host_emit {
    char date[TALLY_DATE_LEN];
    char *name;
    int64_t value;
} mock_host_emit;
size_t mock_host_emit_count(const tally_host *h);
const mock_host_emit *mock_host_emit_at(const tally_host *h, size_t i);
/* The live value last emitted for name: 0, or -1 if none was. */
int mock_host_counter(const tally_host *h, const char *name, int64_t *value);
/* The sum of emit_counter_day calls for (date, name): 0, or -1 if none. */
int mock_host_counter_day(const tally_host *h, const char *date, const char *name, int64_t *value);

/* Records emitted with emit_records, in call order, as deep copies: their
 * strings stay valid after the call (and after the plugin is gone) until
 * clear or free. keep_records(false) only counts them (big inputs);
 * records_total counts all, kept or not, since the last clear. */
size_t mock_host_record_count(const tally_host *h);
const tally_record *mock_host_record_at(const tally_host *h, size_t i);
uint64_t mock_host_records_total(const tally_host *h);
size_t mock_host_emit_calls(const tally_host *h);
void mock_host_keep_records(tally_host *h, bool keep);
/* Call fn at the start of every emit_records call (call is 1 for the
 * first since the host was made), before the records are taken: a test
 * acts there while the plugin is in the middle of a collect (restarts
 * the server it reads from, say). NULL removes it. */
typedef void (*mock_host_emit_hook)(tally_host *h, size_t call, void *arg);
void mock_host_on_emit(tally_host *h, mock_host_emit_hook fn, void *arg);
/* Forget the records and the inventory calls (not the rejected count). */
void mock_host_records_clear(tally_host *h);

/* inventory_begin/end calls in order: phase is TALLY_INVENTORY_BEGIN or
 * TALLY_INVENTORY_END, at_record the records_total before the call. */
typedef struct mock_host_inventory_call {
    tally_stream stream;
    int phase;
    uint64_t at_record;
} mock_host_inventory_call;
size_t mock_host_inventory_count(const tally_host *h);
const mock_host_inventory_call *mock_host_inventory_at(const tally_host *h, size_t i);

/* The sum of count_rejected calls, and resetting it. */
int64_t mock_host_rejected(const tally_host *h);
void mock_host_rejected_clear(tally_host *h);
/* The spool (spool_* of the host API): as many payloads as it holds now. */
size_t mock_host_spool_items(tally_host *h);

/* ABI 4. cycle_seq returns what set_cycle_seq set (1 at first). History
 * is served from the test's rows (sorted as the agent sorts them; kept by
 * the test while exports run), each with its seq, filtered as the agent
 * filters: seq above changed_after, dates in [from_date, to_date) with
 * "" meaning the snapshot's oldest_kept and its today, and key.
 * fail_history_after(n): history_next fails from page n+1 on (-1:
 * never); history_open_count: reads not closed yet. Marks live in memory
 * for as long as the host; fail_marks makes mark_put and
 * spool_push_marked fail (the spool then stays as it was). */
void mock_host_set_cycle_seq(tally_host *h, int64_t seq);
void mock_host_set_history(tally_host *h, const tally_user_day_stats *user_days,
                           const int64_t *user_day_seqs, size_t n_user_days,
                           const tally_counter_day *counter_days, const int64_t *counter_day_seqs,
                           size_t n_counter_days);
void mock_host_fail_history_after(tally_host *h, int pages);
/* set_snapshot: history_open refuses (EINVAL, logged) any snapshot but
 * snap, as the agent refuses all but export_snapshot's own pointer (NULL,
 * the default: any). */
void mock_host_set_snapshot(tally_host *h, const tally_snapshot *snap);
int mock_host_history_open_count(const tally_host *h);
const char *mock_host_mark(tally_host *h, const char *name);
void mock_host_fail_marks(tally_host *h, bool fail);

/* Figures reported with metric, checked by the agent's rules
 * (lib/selfmetric: a refused one is logged and not kept); the latest
 * value per name. metric: 0 with *out (its strings are the host's), or
 * -1 if name was never reported. Any thread. */
typedef struct mock_host_figure {
    char *name, *help;
    tally_metric_kind kind;
    double value;
    unsigned calls; /* how many times it was set */
} mock_host_figure;
int mock_host_metric(tally_host *h, const char *name, mock_host_figure *out);
size_t mock_host_metric_count(tally_host *h);

/* dlopen "<dir>/<name>.so" and return its descriptor, refusing another
 * ABI version; *handle is for mock_host_unload. NULL (and a message on
 * stderr) on failure. */
const tally_plugin *mock_host_load(const char *dir, const char *name, void **handle);
void mock_host_unload(void *handle);

/* Parse `<plugin name> "<title>" { <body> }` with the plugin's option
 * table, as the agent does, and return the section (free it with
 * mock_host_section_free). The section starts on line first_line of the
 * buffer "[buf]" (section() uses line 1); with a one-line body, that is
 * also section->line. NULL on a parse error: mock_host_parse_error() has
 * libconfuse's message. */
cfg_t *mock_host_section(const tally_plugin *p, const char *title, const char *body);
cfg_t *mock_host_section_at(const tally_plugin *p, const char *title, const char *body,
                            int first_line);
const char *mock_host_parse_error(void);
void mock_host_section_free(cfg_t *section);

/* Check a section as the agent does: every option row's check, then the
 * plugin's check. TALLY_HOST_OK or TALLY_HOST_ERR (problems logged). */
int mock_host_check(const tally_plugin *p, tally_host *h, cfg_t *section);

/* One plugin instance on a host, started as the agent starts it. */
typedef struct mock_host_instance {
    const tally_plugin *plugin;
    tally_host *h;
    cfg_t *section;
    void *ctx;
} mock_host_instance;

/* Parse `<plugin> "<title>" { <body> }`, check and init it on h. 0, or -1
 * with nothing left to free and the reason (the parse error, or the step
 * that failed and the host's last log line) in mock_host_parse_error(). */
int mock_host_start(mock_host_instance *in, const tally_plugin *p, tally_host *h, const char *title,
                    const char *body);
/* Stop the plugin (if it runs) and free its section. The host stays, with
 * its state and spool, so starting again on it is a restart. */
void mock_host_stop(mock_host_instance *in);

#endif
