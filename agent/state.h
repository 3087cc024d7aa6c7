/*
 * state.h — tallyd's durable state: one SQLite database (WAL) at
 * state_dir/tally.db, mode 0600. It holds each plugin instance's key/value
 * state (checkpoints), the daily counter totals, and the state's identity
 * (a random id) with the seq of the last committed cycle; the spool
 * (spool.h) and the collector keep their own tables beside them. Each of
 * these owners migrates its tables by its own versioned steps
 * (lib/migrate). A cycle's writes go in ONE transaction (state_begin ..
 * state_commit), so a crash loses nothing committed and repeats nothing.
 */
#ifndef TALLY_AGENT_STATE_H
#define TALLY_AGENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "tally/snapshot.h"

/* The agent's tables: owner name in schema_versions, and the version
 * this release brings them to. */
#define STATE_OWNER "agent"
#define STATE_SCHEMA_VERSION 2

/* A state's id: 32 hex digits and the NUL (tally_snapshot.state_id). */
#define STATE_ID_LEN 33

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

/* Open (creating if needed) state_dir/tally.db, giving a new state its
 * random id. Logs why on failure: missing or unwritable directory,
 * foreign or newer database. */
int state_open(const char *state_dir, state **out);
void state_close(state *s);

/* The database file, and the state's id (fixed when it was made). */
const char *state_path(const state *s);
const char *state_id(const state *s);

/* 16 random bytes as 32 lowercase hex digits: ids that must not repeat
 * across states and spools. */
void state_random_id(char out[STATE_ID_LEN]);

/* Each committed cycle's number: next, in the cycle's transaction, takes
 * the last committed seq + 1 (so a cycle rolled back leaves no trace of
 * its number); committed reads the last committed one (0: none yet). */
int state_seq_next(state *s, int64_t *seq);
int state_seq_committed(state *s, int64_t *seq);

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

/* Add value to the total of (date, name), stamping the row with seq, the
 * cycle that changed it (counter_days.h reads by it). */
int state_counter_day_add(state *s, const char *date, const char *name, int64_t value, int64_t seq);
/* The day `date` has closed in cycle seq: its totals enter the listed
 * days now, so they count as changed by that cycle. */
int state_counter_days_close(state *s, const char *date, int64_t seq);

#endif
