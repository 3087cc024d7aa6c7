/*
 * state.c — see state.h.
 */
#include "state.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct state {
    sqlite3 *db;
    char path[4096];
};

/* Migration N brings the schema from version N-1 to N. Append only. */
static const char *const migrations[STATE_SCHEMA_VERSION] = {
    "CREATE TABLE plugin_state (instance TEXT NOT NULL, key TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (instance, key)) WITHOUT ROWID;"
    "CREATE TABLE counter_days (date TEXT NOT NULL, name TEXT NOT NULL,"
    "  value INTEGER NOT NULL, PRIMARY KEY (date, name)) WITHOUT ROWID;",
};

static int exec(state *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "state %s: %s: %s", s->path, sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int check_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_msg(TALLY_LOG_ERR,
                "state_dir '%s' does not exist or is not a directory: create it (mkdir -p) "
                "or point state_dir at a writable directory",
                dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        log_msg(TALLY_LOG_ERR,
                "state_dir '%s' is not writable by uid %d: %s; fix its owner or mode, or point "
                "state_dir elsewhere",
                dir, (int)geteuid(), strerror(errno));
        return -1;
    }
    return 0;
}

/* SQLite creates files with 0644 less the umask, and its -wal and -shm
 * files copy the database's mode: creating the database 0600 first keeps
 * all three private. */
static int create_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_msg(TALLY_LOG_ERR, "state: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = fchmod(fd, 0600);
    close(fd);
    return rc;
}

static int schema_version(state *s, int *version)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int migrate(state *s)
{
    int version;
    if (schema_version(s, &version) != 0) {
        log_msg(TALLY_LOG_ERR, "state %s: not a readable SQLite database: %s; move it away",
                s->path, sqlite3_errmsg(s->db));
        return -1;
    }
    if (version > STATE_SCHEMA_VERSION) {
        log_msg(TALLY_LOG_ERR,
                "state %s: schema version %d is newer than this tallyd knows (%d): run the "
                "tallyd that wrote it",
                s->path, version, STATE_SCHEMA_VERSION);
        return -1;
    }
    for (int v = version; v < STATE_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (exec(s, "BEGIN IMMEDIATE") != 0)
            return -1;
        if (exec(s, migrations[v]) != 0 || exec(s, bump) != 0) {
            exec(s, "ROLLBACK");
            return -1;
        }
        if (exec(s, "COMMIT") != 0)
            return -1;
        log_msg(TALLY_LOG_INFO, "state %s: schema migrated to version %d", s->path, v + 1);
    }
    return 0;
}

int state_open(const char *state_dir, state **out)
{
    *out = NULL;
    if (check_dir(state_dir) != 0)
        return -1;
    state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    snprintf(s->path, sizeof(s->path), "%s/tally.db", state_dir);
    if (create_private(s->path) != 0 ||
        sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "state: cannot open %s: %s", s->path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        state_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* A 1 MiB page cache keeps the agent inside its RSS budget however
     * large the state grows (SQLite's default allows about 2 MiB). */
    if (exec(s, "PRAGMA journal_mode = WAL") != 0 || exec(s, "PRAGMA synchronous = FULL") != 0 ||
        exec(s, "PRAGMA cache_size = -1024") != 0 || migrate(s) != 0) {
        state_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void state_close(state *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s);
}

int state_begin(state *s)
{
    return exec(s, "BEGIN IMMEDIATE");
}

int state_commit(state *s)
{
    return exec(s, "COMMIT");
}

void state_rollback(state *s)
{
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK");
}

int state_savepoint(state *s)
{
    return exec(s, "SAVEPOINT source");
}

int state_release_savepoint(state *s)
{
    return exec(s, "RELEASE source");
}

void state_rollback_savepoint(state *s)
{
    if (exec(s, "ROLLBACK TO source") == 0)
        exec(s, "RELEASE source");
}

static sqlite3_stmt *prepare(state *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        log_msg(TALLY_LOG_ERR, "state %s: %s: %s", s->path, sql, sqlite3_errmsg(s->db));
    return st;
}

static int step_done(state *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        log_msg(TALLY_LOG_ERR, "state %s: %s: %s", s->path, sqlite3_sql(st), sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int state_kv_get(state *s, const char *instance, const char *key, char **value)
{
    sqlite3_stmt *st =
        prepare(s, "SELECT value FROM plugin_state WHERE instance = ?1 AND key = ?2");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) {
        *value = strdup((const char *)sqlite3_column_text(st, 0));
        ret = *value ? 0 : -1;
    } else if (rc != SQLITE_DONE) {
        log_msg(TALLY_LOG_ERR, "state %s: reading %s/%s: %s", s->path, instance, key,
                sqlite3_errmsg(s->db));
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

int state_kv_put(state *s, const char *instance, const char *key, const char *value)
{
    sqlite3_stmt *st = prepare(s, "INSERT INTO plugin_state (instance, key, value) "
                                  "VALUES (?1, ?2, ?3) ON CONFLICT (instance, key) "
                                  "DO UPDATE SET value = excluded.value");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    return step_done(s, st);
}

#define REJECTED_KEY "rejected_rows"

int state_rejected_add(state *s, int64_t n)
{
    sqlite3_stmt *st = prepare(s, "INSERT INTO plugin_state (instance, key, value) "
                                  "VALUES (?2, ?3, ?1) ON CONFLICT "
                                  "(instance, key) DO UPDATE SET value = "
                                  "CAST(CAST(value AS INTEGER) + excluded.value AS TEXT)");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_text(st, 2, STATE_AGENT, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, REJECTED_KEY, -1, SQLITE_STATIC);
    return step_done(s, st);
}

int state_rejected_get(state *s, int64_t *n)
{
    char *v = NULL;
    int rc = state_kv_get(s, STATE_AGENT, REJECTED_KEY, &v);
    *n = rc == 0 ? strtoll(v, NULL, 10) : 0;
    free(v);
    return rc < 0 ? -1 : 0;
}

void *state_db(state *s)
{
    return s->db;
}

int state_counter_day_add(state *s, const char *date, const char *name, int64_t value)
{
    sqlite3_stmt *st = prepare(s, "INSERT INTO counter_days (date, name, value) "
                                  "VALUES (?1, ?2, ?3) ON CONFLICT (date, name) "
                                  "DO UPDATE SET value = value + excluded.value");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, value);
    return step_done(s, st);
}

int state_counter_days(state *s, const char *since, tally_counter_day **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prepare(s, "SELECT date, name, value FROM counter_days "
                                  "WHERE date >= ?1 ORDER BY date, name");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, since ? since : "", -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            tally_counter_day *grown = realloc(*out, cap * sizeof(**out));
            if (grown == NULL)
                break;
            *out = grown;
        }
        tally_counter_day *d = &(*out)[*n];
        snprintf(d->date, sizeof(d->date), "%s", (const char *)sqlite3_column_text(st, 0));
        d->name = strdup((const char *)sqlite3_column_text(st, 1));
        d->value = sqlite3_column_int64(st, 2);
        if (d->name == NULL)
            break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        state_counter_days_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void state_counter_days_free(tally_counter_day *days, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)days[i].name);
    free(days);
}
