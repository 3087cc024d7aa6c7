/*
 * migrate.h — versioned schemas in one SQLite database that several owners
 * share (the agent, the exporters' spool, a collector plugin). Each owner
 * brings an ordered list of steps: step N takes its tables from version
 * N-1 to N. The table schema_versions(owner, version) records where each
 * owner is; PRAGMA user_version marks the layout of that bookkeeping, so a
 * release that predates it refuses the database instead of misreading it.
 * Errors come back as a message (what, where, what to do) for the caller
 * to log in its own voice.
 */
#ifndef TALLY_LIB_MIGRATE_H
#define TALLY_LIB_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

/* PRAGMA user_version of a database with schema_versions. The release
 * before it kept the agent's version there (1) and nothing for the other
 * owners. */
#define MIGRATE_LAYOUT 2

enum {
    MIGRATE_OK = 0,
    MIGRATE_ERR = -1,   /* SQLite failed: unreadable, locked, full disk */
    MIGRATE_NEWER = -2, /* written by a newer release: refused, unchanged */
};

/* Bring owner's tables up to version n_steps (steps[0] is step 1), in one
 * transaction (a savepoint if one is already open): all steps or none.
 * *from (may be NULL) is the version found. On error, msg holds why. */
int migrate_run(sqlite3 *db, const char *owner, const char *const *steps, int n_steps, int *from,
                char *msg, size_t cap);

/* Without writing anything: MIGRATE_OK if migrate_run for owner, knowing
 * n_steps steps, would be allowed to run (a missing schema_versions or
 * owner counts as version 0), MIGRATE_NEWER or MIGRATE_ERR with msg. */
int migrate_check(sqlite3 *db, const char *owner, int n_steps, char *msg, size_t cap);

#endif
