/*
 * state.c — see state.h.
 */
#include "state.h"

#include "log.h"
#include "migrate/migrate.h"
#include "ownfile/ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct state {
    sqlite3 *db;
    char path[4096];
    char id[STATE_ID_LEN];
};

/* The agent's tables, one step per schema version (step N: N-1 to N).
 * Append only. Step 1 is the release before schema_versions (its
 * user_version 1), so IF NOT EXISTS adopts the tables it made. */
static const char *const agent_steps[STATE_SCHEMA_VERSION] = {
    "CREATE TABLE IF NOT EXISTS plugin_state (instance TEXT NOT NULL, key TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (instance, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counter_days (date TEXT NOT NULL, name TEXT NOT NULL,"
    "  value INTEGER NOT NULL, PRIMARY KEY (date, name)) WITHOUT ROWID;",
    /* Issue 12: cycles that cost what changed. state_cycle has one row:
     * the state's id and the last committed cycle's seq; each daily
     * counter total carries the seq of the cycle that last changed it
     * (0 for those a release before this one wrote: a state's first
     * cycle, changed_after 0, and whoever lists everything read them). */
    "CREATE TABLE state_cycle (one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  state_id TEXT NOT NULL, seq INTEGER NOT NULL);"
    "ALTER TABLE counter_days ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX counter_days_by_seq ON counter_days (seq);",
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

int state_check_dir(const char *dir, const char *where)
{
    struct stat st;
    if (where == NULL)
        where = "";
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_msg(TALLY_LOG_ERR,
                "%sstate_dir '%s' does not exist or is not a directory: create it (mkdir -p) "
                "or point state_dir at a writable directory",
                where, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        log_msg(TALLY_LOG_ERR,
                "%sstate_dir '%s' is not writable by uid %d: %s; fix its owner or mode, or point "
                "state_dir elsewhere",
                where, dir, (int)geteuid(), strerror(errno));
        return -1;
    }
    return 0;
}

/* path as a file: URI, every byte but unreserved ones and '/' escaped. */
static int uri_of(const char *path, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if (n + 4 >= cap)
            return -1;
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~", *p) != NULL)
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, cap - n, "%%%02X", *p);
    }
    buf[n] = '\0';
    return 0;
}

int state_peek(const char *state_dir, const char *where, sqlite3 **db)
{
    char path[4096], wal[4200], uri[3 * 4200];
    struct stat st;
    *db = NULL;
    where = where ? where : "";
    snprintf(path, sizeof(path), "%s/tally.db", state_dir);
    /* lstat: SQLite would follow a symlink, and state_open would chmod
     * whatever it leads to. */
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* made at start */
        log_msg(TALLY_LOG_ERR, "%sstate %s cannot be used: %s; fix the owner or mode of %s", where,
                path, strerror(errno), state_dir);
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        log_msg(TALLY_LOG_ERR,
                "%sstate %s is a symlink; tally opens no state database through one: remove "
                "the link (move the database itself into state_dir if it is the real one)",
                where, path);
        return -1;
    }
    if (access(path, R_OK | W_OK) != 0) {
        log_msg(TALLY_LOG_ERR,
                "%sstate %s cannot be read and written by uid %d: %s; fix its owner or mode", where,
                path, (int)geteuid(), strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        log_msg(TALLY_LOG_ERR, "%sstate %s is not a regular file; move it away", where, path);
        return -1;
    }
    /* Without a -wal file the database file holds everything, and
     * immutable keeps SQLite from making -wal and -shm files; with one (a
     * running tallyd) a read-only connection reads both, as is. */
    snprintf(wal, sizeof(wal), "%s-wal", path);
    int has_wal = access(wal, F_OK) == 0;
    if (uri_of(path, uri, sizeof(uri) - 32) != 0)
        return -1;
    strcat(uri, has_wal ? "?mode=ro" : "?mode=ro&immutable=1");
    if (sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "%sstate %s cannot be opened: %s; move it away", where, path,
                *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

int state_check_owner(sqlite3 *db, const char *owner, int version)
{
    char msg[1024];
    if (migrate_check(db, owner, version, msg, sizeof(msg)) != MIGRATE_OK) {
        log_msg(TALLY_LOG_ERR, "%s", msg);
        return -1;
    }
    return 0;
}

/* SQLite creates files with 0644 less the umask, and its -wal and -shm
 * files copy the database's mode: creating the database 0600 first keeps
 * all three private. */
static int create_private(const char *path)
{
    char why[512];
    int fd;
    if (ownfile_open(path, O_RDWR | O_CREAT, 0600, &fd, why, sizeof(why)) != OWNFILE_OK) {
        log_msg(TALLY_LOG_ERR, "state %s cannot be used: %s", path, why);
        return -1;
    }
    int rc = fchmod(fd, 0600);
    close(fd);
    return rc;
}

int state_migrate(sqlite3 *db, const char *owner, const char *const *steps, int version)
{
    char msg[1024];
    int from = 0;
    if (migrate_run(db, owner, steps, version, &from, msg, sizeof(msg)) != MIGRATE_OK) {
        log_msg(TALLY_LOG_ERR, "%s", msg);
        return -1;
    }
    if (from < version)
        log_msg(TALLY_LOG_INFO, "state %s: the tables of '%s' migrated from version %d to %d",
                sqlite3_db_filename(db, "main"), owner, from, version);
    return 0;
}

void state_random_id(char out[STATE_ID_LEN])
{
    unsigned char raw[(STATE_ID_LEN - 1) / 2];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* No entropy yet (early boot): still unique enough on one host,
         * time, clock and address. */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t a = (uint64_t)t.tv_sec ^ ((uint64_t)(uintptr_t)out << 20);
        uint64_t b = (uint64_t)t.tv_nsec ^ (uint64_t)getpid() << 32;
        memcpy(raw, &a, sizeof(a));
        memcpy(raw + sizeof(a), &b, sizeof(b));
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static sqlite3_stmt *prepare(state *s, const char *sql);
static int step_done(state *s, sqlite3_stmt *st);

/* The state's id, made once: a state made anew (another state_dir, or the
 * file moved away) counts its cycles under another id, so an exporter's
 * mark of the old one is never taken for this one's. */
static int load_identity(state *s)
{
    char fresh[STATE_ID_LEN];
    state_random_id(fresh);
    sqlite3_stmt *st = prepare(s, "INSERT INTO state_cycle (one, state_id, seq) VALUES (1, ?1, 0) "
                                  "ON CONFLICT (one) DO NOTHING");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, fresh, -1, SQLITE_STATIC);
    if (step_done(s, st) != 0 ||
        (st = prepare(s, "SELECT state_id FROM state_cycle WHERE one = 1")) == NULL)
        return -1;
    int rc = sqlite3_step(st);
    const unsigned char *id = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (id == NULL || strlen((const char *)id) != STATE_ID_LEN - 1 ||
        strspn((const char *)id, "0123456789abcdef") != STATE_ID_LEN - 1) {
        log_msg(TALLY_LOG_ERR,
                "state %s: its id in state_cycle is missing or not 32 hex digits; move the "
                "database away to start afresh",
                s->path);
        sqlite3_finalize(st);
        return -1;
    }
    memcpy(s->id, id, STATE_ID_LEN);
    sqlite3_finalize(st);
    return 0;
}

int state_open(const char *state_dir, state **out)
{
    *out = NULL;
    if (state_check_dir(state_dir, NULL) != 0)
        return -1;
    state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    snprintf(s->path, sizeof(s->path), "%s/tally.db", state_dir);
    if (create_private(s->path) != 0 ||
        sqlite3_open_v2(s->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "state: cannot open %s: %s", s->path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        state_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* A 1 MiB page cache keeps the agent inside its RSS budget however
     * large the state grows (SQLite's default allows about 2 MiB). */
    if (exec(s, "PRAGMA journal_mode = WAL") != 0 || exec(s, "PRAGMA synchronous = FULL") != 0 ||
        exec(s, "PRAGMA cache_size = -1024") != 0 ||
        state_migrate(s->db, STATE_OWNER, agent_steps, STATE_SCHEMA_VERSION) != 0 ||
        load_identity(s) != 0) {
        state_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

const char *state_path(const state *s)
{
    return s->path;
}

const char *state_id(const state *s)
{
    return s->id;
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

/* The first row's first column of st (finalized) as an integer. */
static int query_int(state *s, sqlite3_stmt *st, int64_t *out)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        log_msg(TALLY_LOG_ERR, "state %s: %s: %s", s->path, sqlite3_sql(st),
                rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int state_seq_next(state *s, int64_t *seq)
{
    if (step_done(s, prepare(s, "UPDATE state_cycle SET seq = seq + 1 WHERE one = 1")) != 0)
        return -1;
    return state_seq_committed(s, seq);
}

int state_seq_committed(state *s, int64_t *seq)
{
    return query_int(s, prepare(s, "SELECT seq FROM state_cycle WHERE one = 1"), seq);
}

int state_counter_day_add(state *s, const char *date, const char *name, int64_t value, int64_t seq)
{
    sqlite3_stmt *st =
        prepare(s, "INSERT INTO counter_days (date, name, value, seq) "
                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (date, name) "
                   "DO UPDATE SET value = value + excluded.value, seq = excluded.seq");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, value);
    sqlite3_bind_int64(st, 4, seq);
    return step_done(s, st);
}

int state_counter_days_close(state *s, const char *date, int64_t seq)
{
    sqlite3_stmt *st = prepare(s, "UPDATE counter_days SET seq = ?2 WHERE date = ?1 AND seq <> ?2");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    return step_done(s, st);
}
