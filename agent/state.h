/*
 * state.h — tallyd's durable state: one SQLite database (WAL) at
 * state_dir/tally.db, mode 0600. It holds each plugin instance's key/value
 * state (checkpoints) and the daily counter totals; the spool (spool.h)
 * and the collector keep their own tables beside them. Each of these
 * owners migrates its tables by its own versioned steps (lib/migrate).
 * A cycle's writes go in ONE transaction (state_begin .. state_commit),
 * so a crash loses nothing committed and repeats nothing.
 */
#ifndef TALLY_AGENT_STATE_H
#define TALLY_AGENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

/* The agent's tables: owner name in schema_versions, and the version
 * this release brings them to. */
#define STATE_OWNER "agent"
#define STATE_SCHEMA_VERSION 1

typedef struct state state;
struct sqlite3;

/* Without side effects, what state_open would refuse: state_dir missing,
 * not a directory, or not writable by this user. where ("file:line: ", or
 * NULL) starts each message. 0 or -1, logged. */
int state_check_dir(const char *dir, const char *where);
/* The existing state_dir/tally.db opened read-only, creating nothing (not
 * even -wal or -shm files): 0 with *db, or with *db NULL if there is none
 * yet; -1 (logged) if it cannot be read. Close with sqlite3_close. */
int state_peek(const char *state_dir, const char *where, struct sqlite3 **db);
/* Bring owner's tables of db to `version` by its steps (lib/migrate), in
 * one transaction; check, without writing, that this is allowed (db may
 * be state_peek's). 0, or -1 (logged) if a newer release wrote them or
 * SQLite failed. */
int state_migrate(struct sqlite3 *db, const char *owner, const char *const *steps, int version);
int state_check_owner(struct sqlite3 *db, const char *owner, int version);

/* Open (creating if needed) state_dir/tally.db. Logs why on failure:
 * missing or unwritable directory, foreign or newer database. */
int state_open(const char *state_dir, state **out);
void state_close(state *s);

int state_begin(state *s);
int state_commit(state *s);
void state_rollback(state *s);
/* Nested undo points inside a transaction. */
int state_savepoint(state *s);
int state_release_savepoint(state *s);
void state_rollback_savepoint(state *s);

/* Instance-private key/values. get: 0 with a malloc'd *value, 1 if absent,
 * -1 on error. */
int state_kv_get(state *s, const char *instance, const char *key, char **value);
int state_kv_put(state *s, const char *instance, const char *key, const char *value);

/* The agent's own key/values (last day, rejected rows) live beside the
 * plugins' under this instance name, which no plugin instance can have
 * (theirs are "plugin.title"). */
#define STATE_AGENT "tallyd"

/* Input rows set aside by sources, all time: add in the cycle's
 * transaction; get reads the committed total (0 if none). */
int state_rejected_add(state *s, int64_t n);
int state_rejected_get(state *s, int64_t *n);

/* The open database, for collectors' own tables (plugin ABI state_db). */
void *state_db(state *s);

/* Add value to the total of (date, name). */
int state_counter_day_add(state *s, const char *date, const char *name, int64_t value);

/* Daily counter totals from `since` (a date, or NULL for all) on, sorted by
 * date then name; free with state_counter_days_free. */
int state_counter_days(state *s, const char *since, tally_counter_day **out, size_t *n);
void state_counter_days_free(tally_counter_day *days, size_t n);

#endif
