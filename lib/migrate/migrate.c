/*
 * migrate.c — see migrate.h.
 */
#include "migrate.h"

#include <stdarg.h>
#include <stdio.h>

#define WHAT_TO_DO_NEWER                                                                          \
    "a newer tally release wrote it; run that release (or a newer one) on this state_dir, or "   \
    "move the database away to start afresh"

static const char *db_path(sqlite3 *db)
{
    const char *p = sqlite3_db_filename(db, "main");
    return p != NULL && p[0] != '\0' ? p : "(in memory)";
}

__attribute__((format(printf, 3, 4))) static int say(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap > 0)
        vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return MIGRATE_ERR;
}

static int sql_failed(sqlite3 *db, const char *what, const char *owner, char *msg, size_t cap)
{
    return say(msg, cap, "state database %s: %s for '%s' failed: %s; check the disk and the "
               "file's owner and mode",
               db_path(db), what, owner, sqlite3_errmsg(db));
}

/* One integer from sql (with owner bound to ?1 if the statement has it):
 * *found 0 when no row came back. */
static int query_int(sqlite3 *db, const char *sql, const char *owner, int *out, int *found)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return MIGRATE_ERR;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    *out = *found ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? MIGRATE_OK : MIGRATE_ERR;
}

/* The bookkeeping's layout (user_version), refused when newer. */
static int read_layout(sqlite3 *db, int *layout, char *msg, size_t cap)
{
    int found;
    if (query_int(db, "PRAGMA user_version", NULL, layout, &found) != MIGRATE_OK)
        return say(msg, cap,
                   "state database %s: not a readable SQLite database (%s); move it away so "
                   "tallyd can start a new one",
                   db_path(db), sqlite3_errmsg(db));
    if (*layout > MIGRATE_LAYOUT) {
        say(msg, cap,
            "state database %s: its layout version %d is newer than this release knows (%d): "
            WHAT_TO_DO_NEWER,
            db_path(db), *layout, MIGRATE_LAYOUT);
        return MIGRATE_NEWER;
    }
    return MIGRATE_OK;
}

/* owner's version: 0 without schema_versions or without its row. */
static int read_version(sqlite3 *db, const char *owner, int *version, char *msg, size_t cap)
{
    int table, found;
    if (query_int(db,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                  "name = 'schema_versions'",
                  NULL, &table, &found) != MIGRATE_OK ||
        (table > 0 && query_int(db, "SELECT version FROM schema_versions WHERE owner = ?1", owner,
                                version, &found) != MIGRATE_OK))
        return sql_failed(db, "reading the schema version", owner, msg, cap);
    if (table == 0 || !found)
        *version = 0;
    return MIGRATE_OK;
}

static int refuse_newer(sqlite3 *db, const char *owner, int version, int known, char *msg,
                        size_t cap)
{
    say(msg, cap,
        "state database %s: the tables of '%s' are at schema version %d, newer than this "
        "release knows (%d): " WHAT_TO_DO_NEWER,
        db_path(db), owner, version, known);
    return MIGRATE_NEWER;
}

int migrate_check(sqlite3 *db, const char *owner, int n_steps, char *msg, size_t cap)
{
    int layout, version, rc;
    if ((rc = read_layout(db, &layout, msg, cap)) != MIGRATE_OK ||
        (rc = read_version(db, owner, &version, msg, cap)) != MIGRATE_OK)
        return rc;
    return version > n_steps ? refuse_newer(db, owner, version, n_steps, msg, cap) : MIGRATE_OK;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? MIGRATE_OK : MIGRATE_ERR;
}

static int put_version(sqlite3 *db, const char *owner, int version)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_versions (owner, version) VALUES (?1, ?2) "
                           "ON CONFLICT (owner) DO UPDATE SET version = excluded.version",
                           -1, &st, NULL) != SQLITE_OK)
        return MIGRATE_ERR;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? MIGRATE_OK : MIGRATE_ERR;
}

/* Inside the open transaction: the bookkeeping, then owner's steps. */
static int apply(sqlite3 *db, const char *owner, const char *const *steps, int n_steps, int *from,
                 char *msg, size_t cap)
{
    int layout, version, rc;
    if ((rc = read_layout(db, &layout, msg, cap)) != MIGRATE_OK)
        return rc;
    if (exec(db, "CREATE TABLE IF NOT EXISTS schema_versions (owner TEXT PRIMARY KEY,"
                 " version INTEGER NOT NULL) WITHOUT ROWID") != MIGRATE_OK)
        return sql_failed(db, "creating schema_versions", owner, msg, cap);
    if (layout != MIGRATE_LAYOUT) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", MIGRATE_LAYOUT);
        if (exec(db, bump) != MIGRATE_OK)
            return sql_failed(db, "marking the layout", owner, msg, cap);
    }
    if ((rc = read_version(db, owner, &version, msg, cap)) != MIGRATE_OK)
        return rc;
    if (from != NULL)
        *from = version;
    if (version > n_steps)
        return refuse_newer(db, owner, version, n_steps, msg, cap);
    for (int v = version; v < n_steps; v++) {
        if (exec(db, steps[v]) != MIGRATE_OK) {
            char what[64];
            snprintf(what, sizeof(what), "migration step %d", v + 1);
            return sql_failed(db, what, owner, msg, cap);
        }
    }
    if (version < n_steps && put_version(db, owner, n_steps) != MIGRATE_OK)
        return sql_failed(db, "recording the schema version", owner, msg, cap);
    return MIGRATE_OK;
}

int migrate_run(sqlite3 *db, const char *owner, const char *const *steps, int n_steps, int *from,
                char *msg, size_t cap)
{
    /* IMMEDIATE takes the write lock first, so two processes opening one
     * new database cannot both decide to run step 1. */
    int outer = sqlite3_get_autocommit(db);
    if (exec(db, outer ? "BEGIN IMMEDIATE" : "SAVEPOINT migrate") != MIGRATE_OK)
        return sql_failed(db, "starting the migration", owner, msg, cap);
    int rc = apply(db, owner, steps, n_steps, from, msg, cap);
    if (rc == MIGRATE_OK && exec(db, outer ? "COMMIT" : "RELEASE migrate") == MIGRATE_OK)
        return MIGRATE_OK;
    if (rc == MIGRATE_OK)
        rc = sql_failed(db, "committing the migration", owner, msg, cap);
    if (outer)
        exec(db, "ROLLBACK");
    else if (exec(db, "ROLLBACK TO migrate") == MIGRATE_OK)
        exec(db, "RELEASE migrate");
    return rc;
}
