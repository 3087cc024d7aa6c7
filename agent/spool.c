/*
 * spool.c — see spool.h.
 *
 * spool_instances has one row per instance that ever spooled: its random
 * id and next sequence number, which survive an empty spool so that a
 * payload's key ("<id>-<seq>") is never given twice, even after years, and
 * the all-time counts of what became of its payloads. spool has the
 * payloads themselves. Every call is one short transaction of its own.
 */
#include "spool.h"

#include "agent.h"
#include "log.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The cycle holds the write lock while its sources collect; a push waits
 * for its commit rather than fail. */
#define SPOOL_BUSY_MS 60000

struct spool {
    sqlite3 *db;
    pthread_mutex_t mu; /* one connection, many exporter threads */
    char path[4096];
};

/* Step N takes the spool's tables from version N-1 to N; append only.
 * Step 1 is what the release before schema_versions made, unversioned:
 * IF NOT EXISTS adopts its tables. */
static const char *const spool_steps[] = {
    "CREATE TABLE IF NOT EXISTS spool_instances (instance TEXT PRIMARY KEY,"
    "  uid TEXT NOT NULL, next_seq INTEGER NOT NULL,"
    "  delivered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
    "  overflowed INTEGER NOT NULL DEFAULT 0, overflowed_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS spool (instance TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, meta TEXT NOT NULL, bytes INTEGER NOT NULL,"
    "  payload BLOB NOT NULL, PRIMARY KEY (instance, seq));",
    /* Issue 12: each exporter instance's marks (what it last delivered). */
    "CREATE TABLE export_marks (instance TEXT NOT NULL, name TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (instance, name)) WITHOUT ROWID;",
};
_Static_assert(sizeof(spool_steps) / sizeof(spool_steps[0]) == SPOOL_SCHEMA_VERSION,
               "one step per spool schema version");

static int exec(spool *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "spool %s: %s: %s; check the disk and the file's owner", s->path,
                sql, err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

int spool_open(const char *state_dir, spool **out)
{
    *out = NULL;
    spool *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->path, sizeof(s->path), "%s/tally.db", state_dir);
    /* No O_CREAT: state_open created the file 0600 and set WAL mode,
     * which is a property of the file, not of a connection. */
    if (sqlite3_open_v2(s->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "spool: cannot open %s: %s; check state_dir", s->path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        spool_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, SPOOL_BUSY_MS);
    if (exec(s, "PRAGMA synchronous = FULL") != 0 || exec(s, "PRAGMA cache_size = -256") != 0 ||
        state_migrate(s->db, SPOOL_OWNER, spool_steps, SPOOL_SCHEMA_VERSION) != 0) {
        spool_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void spool_close(spool *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static sqlite3_stmt *prepare(spool *s, const char *sql, const char *instance)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_msg(TALLY_LOG_ERR, "spool %s: %s: %s", s->path, sql, sqlite3_errmsg(s->db));
        return NULL;
    }
    sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
    return st;
}

/* Step a statement that returns no rows, and finalize it. */
static int run(spool *s, sqlite3_stmt *st)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        log_msg(TALLY_LOG_ERR, "spool %s: %s: %s; check the disk", s->path, sqlite3_sql(st),
                sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The first row's first column as an integer (dflt when there is none). */
static int query_int(spool *s, sqlite3_stmt *st, int64_t dflt, int64_t *out)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : dflt;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        log_msg(TALLY_LOG_ERR, "spool %s: %s: %s", s->path, sqlite3_sql(st), sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The instance's row, made with a fresh random id on its first push. */
static int ensure_instance(spool *s, const char *instance)
{
    char uid[STATE_ID_LEN];
    state_random_id(uid);
    sqlite3_stmt *st = prepare(s,
                               "INSERT OR IGNORE INTO spool_instances (instance, uid, next_seq) "
                               "VALUES (?1, ?2, 1)",
                               instance);
    if (st != NULL)
        sqlite3_bind_text(st, 2, uid, -1, SQLITE_TRANSIENT);
    return run(s, st);
}

/* Room for `incoming` more bytes within max_bytes: drop the oldest
 * payloads and count them. *n is how many were dropped. */
static int make_room(spool *s, const char *instance, int64_t incoming, int64_t max_bytes,
                     int64_t *n)
{
    *n = 0;
    int64_t total;
    if (query_int(s, prepare(s, "SELECT SUM(bytes) FROM spool WHERE instance = ?1", instance), 0,
                  &total) != 0)
        return -1;
    int64_t excess = total + incoming - max_bytes, freed = 0, last = 0;
    if (excess <= 0)
        return 0;
    sqlite3_stmt *st =
        prepare(s, "SELECT seq, bytes FROM spool WHERE instance = ?1 ORDER BY seq", instance);
    if (st == NULL)
        return -1;
    while (freed < excess && sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        freed += sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    st = prepare(s, "DELETE FROM spool WHERE instance = ?1 AND seq <= ?2", instance);
    if (st != NULL)
        sqlite3_bind_int64(st, 2, last);
    if (run(s, st) != 0)
        return -1;
    st = prepare(s,
                 "UPDATE spool_instances SET overflowed = overflowed + ?2, "
                 "overflowed_bytes = overflowed_bytes + ?3 WHERE instance = ?1",
                 instance);
    if (st != NULL) {
        sqlite3_bind_int64(st, 2, *n);
        sqlite3_bind_int64(st, 3, freed);
    }
    return run(s, st);
}

/* Inside the push transaction: 0 kept, 1 too large (counted), -1 error. */
static int push_locked(spool *s, const char *instance, const void *data, size_t len,
                       const char *meta, int mode, int64_t max_bytes, int64_t *seq,
                       int64_t *overflowed)
{
    if (ensure_instance(s, instance) != 0)
        return -1;
    if (mode == TALLY_SPOOL_REPLACE &&
        run(s, prepare(s, "DELETE FROM spool WHERE instance = ?1", instance)) != 0)
        return -1;
    if (max_bytes > 0 && (int64_t)len > max_bytes) {
        sqlite3_stmt *st = prepare(s,
                                   "UPDATE spool_instances SET overflowed = overflowed + 1, "
                                   "overflowed_bytes = overflowed_bytes + ?2 WHERE instance = ?1",
                                   instance);
        if (st != NULL)
            sqlite3_bind_int64(st, 2, (int64_t)len);
        *overflowed = 1;
        return run(s, st) == 0 ? 1 : -1;
    }
    if (max_bytes > 0 && make_room(s, instance, (int64_t)len, max_bytes, overflowed) != 0)
        return -1;
    if (query_int(s,
                  prepare(s, "SELECT next_seq FROM spool_instances WHERE instance = ?1", instance),
                  1, seq) != 0 ||
        run(s, prepare(s, "UPDATE spool_instances SET next_seq = next_seq + 1 WHERE instance = ?1",
                       instance)) != 0)
        return -1;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO spool (instance, seq, created, meta, bytes, payload) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               instance);
    if (st != NULL) {
        sqlite3_bind_int64(st, 2, *seq);
        sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
        sqlite3_bind_text(st, 4, meta ? meta : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (int64_t)len);
        sqlite3_bind_blob64(st, 6, len ? data : "", (sqlite3_uint64)len, SQLITE_STATIC);
    }
    return run(s, st);
}

/* Inside a transaction: set the instance's mark. */
static int mark_put_locked(spool *s, const char *instance, const char *name, const char *value)
{
    sqlite3_stmt *st =
        prepare(s,
                "INSERT INTO export_marks (instance, name, value) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (instance, name) DO UPDATE SET value = excluded.value",
                instance);
    if (st != NULL) {
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    }
    return run(s, st);
}

int spool_push_marked(spool *s, const char *instance, const char *who, const void *data, size_t len,
                      const char *meta, int mode, int64_t max_bytes, const char *mark_name,
                      const char *mark_value, int64_t *seq, int64_t *overflowed)
{
    int64_t seq_local = 0, over_local = 0;
    pthread_mutex_lock(&s->mu);
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == 0) {
        rc = push_locked(s, instance, data, len, meta, mode, max_bytes, &seq_local, &over_local);
        /* A payload too large for max_bytes is not kept (and counted):
         * then the mark, which would say it was, is not set either. */
        if (rc == 0 && mark_name != NULL &&
            mark_put_locked(s, instance, mark_name, mark_value) != 0)
            rc = -1;
        if (rc >= 0 && exec(s, "COMMIT") != 0)
            rc = -1;
        if (rc < 0) {
            exec(s, "ROLLBACK");
            over_local = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (seq != NULL)
        *seq = seq_local;
    if (overflowed != NULL)
        *overflowed = over_local;
    if (rc < 0)
        log_msg(TALLY_LOG_ERR, "%s: could not spool a payload of %zu bytes%s in %s (see above)",
                who, len, mark_name != NULL ? " with its mark" : "", s->path);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

int spool_push(spool *s, const char *instance, const char *who, const void *data, size_t len,
               const char *meta, int mode, int64_t max_bytes, int64_t *seq, int64_t *overflowed)
{
    return spool_push_marked(s, instance, who, data, len, meta, mode, max_bytes, NULL, NULL, seq,
                             overflowed);
}

int spool_mark_get(spool *s, const char *instance, const char *name, char **value)
{
    *value = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        prepare(s, "SELECT value FROM export_marks WHERE instance = ?1 AND name = ?2", instance);
    int ret = TALLY_HOST_ERR;
    if (st != NULL) {
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = (*value = strdup((const char *)sqlite3_column_text(st, 0))) != NULL
                      ? TALLY_HOST_OK
                      : TALLY_HOST_ERR;
        else if (rc == SQLITE_DONE)
            ret = TALLY_HOST_ENOENT;
        else
            log_msg(TALLY_LOG_ERR, "spool %s: reading mark '%s' of %s: %s", s->path, name, instance,
                    sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int spool_mark_put(spool *s, const char *instance, const char *who, const char *name,
                   const char *value)
{
    pthread_mutex_lock(&s->mu);
    int rc = mark_put_locked(s, instance, name, value);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        log_msg(TALLY_LOG_ERR, "%s: could not keep mark '%s' in %s (see above)", who, name,
                s->path);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

int spool_peek(spool *s, const char *instance, tally_spool_item *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s,
                               "SELECT s.seq, i.uid, s.created, s.meta, s.payload FROM spool s "
                               "JOIN spool_instances i ON i.instance = s.instance "
                               "WHERE s.instance = ?1 ORDER BY s.seq LIMIT 1",
                               instance);
    int ret = TALLY_HOST_ERR;
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        out->seq = sqlite3_column_int64(st, 0);
        snprintf(out->key, sizeof(out->key), "%s-%" PRId64, sqlite3_column_text(st, 1), out->seq);
        out->created_utc = sqlite3_column_int64(st, 2);
        out->meta = strdup((const char *)sqlite3_column_text(st, 3));
        const void *blob = sqlite3_column_blob(st, 4);
        out->len = (size_t)sqlite3_column_bytes(st, 4);
        out->data = malloc(out->len + 1); /* +1: a NUL, for payloads that are text */
        if (out->meta != NULL && out->data != NULL) {
            if (out->len > 0)
                memcpy(out->data, blob, out->len);
            ((char *)out->data)[out->len] = '\0';
            ret = TALLY_HOST_OK;
        } else {
            free(out->meta);
            free(out->data);
            memset(out, 0, sizeof(*out));
        }
    } else if (rc == SQLITE_DONE) {
        ret = TALLY_HOST_ENOENT;
    } else if (st != NULL) {
        log_msg(TALLY_LOG_ERR, "spool %s: reading the oldest payload of %s: %s", s->path, instance,
                sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int spool_drop(spool *s, const char *instance, int64_t seq, int outcome)
{
    const char *count =
        outcome == TALLY_SPOOL_REJECTED
            ? "UPDATE spool_instances SET rejected = rejected + 1 WHERE instance = ?1"
            : "UPDATE spool_instances SET delivered = delivered + 1 "
              "WHERE instance = ?1";
    pthread_mutex_lock(&s->mu);
    int ret = TALLY_HOST_ERR;
    if (exec(s, "BEGIN IMMEDIATE") == 0) {
        sqlite3_stmt *st =
            prepare(s, "DELETE FROM spool WHERE instance = ?1 AND seq = ?2", instance);
        if (st != NULL)
            sqlite3_bind_int64(st, 2, seq);
        if (run(s, st) == 0) {
            int gone = sqlite3_changes(s->db) == 1;
            if (!gone || run(s, prepare(s, count, instance)) == 0)
                ret = gone ? TALLY_HOST_OK : TALLY_HOST_ENOENT;
        }
        if (ret == TALLY_HOST_ERR || exec(s, "COMMIT") != 0) {
            exec(s, "ROLLBACK");
            ret = TALLY_HOST_ERR;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int spool_stats(spool *s, const char *instance, tally_spool_stats *out)
{
    return spool_instance_stats(s, instance, out, NULL);
}

int spool_instance_stats(spool *s, const char *instance, tally_spool_stats *out, int *spooled)
{
    memset(out, 0, sizeof(*out));
    if (spooled != NULL)
        *spooled = 0;
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = prepare(s,
                               "SELECT (SELECT COUNT(*) FROM spool WHERE instance = ?1), "
                               "(SELECT COALESCE(SUM(bytes), 0) FROM spool WHERE instance = ?1), "
                               "delivered, rejected, overflowed, overflowed_bytes "
                               "FROM (SELECT 1) LEFT JOIN spool_instances ON instance = ?1",
                               instance);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        out->items = sqlite3_column_int64(st, 0);
        out->bytes = sqlite3_column_int64(st, 1);
        out->delivered = sqlite3_column_int64(st, 2);
        out->rejected = sqlite3_column_int64(st, 3);
        out->overflowed = sqlite3_column_int64(st, 4);
        out->overflowed_bytes = sqlite3_column_int64(st, 5);
        /* No row in spool_instances: it has never pushed a payload. */
        if (spooled != NULL)
            *spooled = sqlite3_column_type(st, 2) != SQLITE_NULL;
        rc = 0;
    } else if (st != NULL) {
        log_msg(TALLY_LOG_ERR, "spool %s: counting the payloads of %s: %s", s->path, instance,
                sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* ---- the host API ---- */

static spool *host_spool(tally_host *h)
{
    return h != NULL && h->agent != NULL ? h->agent->spool : NULL;
}

int host_spool_push(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                    int64_t max_bytes, int64_t *seq, int64_t *overflowed)
{
    spool *s = host_spool(h);
    if (s == NULL || (data == NULL && len > 0) ||
        (mode != TALLY_SPOOL_QUEUE && mode != TALLY_SPOOL_REPLACE))
        return TALLY_HOST_EINVAL;
    return spool_push(s, h->instance, h->who, data, len, meta, mode, max_bytes, seq, overflowed);
}

int host_spool_peek(tally_host *h, tally_spool_item *out)
{
    spool *s = host_spool(h);
    if (s == NULL || out == NULL)
        return TALLY_HOST_EINVAL;
    return spool_peek(s, h->instance, out);
}

int host_spool_drop(tally_host *h, int64_t seq, int outcome)
{
    spool *s = host_spool(h);
    if (s == NULL || (outcome != TALLY_SPOOL_DELIVERED && outcome != TALLY_SPOOL_REJECTED))
        return TALLY_HOST_EINVAL;
    return spool_drop(s, h->instance, seq, outcome);
}

int host_spool_stats(tally_host *h, tally_spool_stats *out)
{
    spool *s = host_spool(h);
    if (s == NULL || out == NULL)
        return TALLY_HOST_EINVAL;
    return spool_stats(s, h->instance, out);
}

/* A mark's name and value: short text, as plugin.h promises. */
static int mark_ok(const char *name, const char *value)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= SPOOL_MARK_NAME_MAX &&
           (value == NULL || strlen(value) <= SPOOL_MARK_VALUE_MAX);
}

int host_mark_get(tally_host *h, const char *name, char **value)
{
    spool *s = host_spool(h);
    if (value != NULL)
        *value = NULL;
    if (s == NULL || value == NULL || !mark_ok(name, NULL))
        return TALLY_HOST_EINVAL;
    return spool_mark_get(s, h->instance, name, value);
}

int host_mark_put(tally_host *h, const char *name, const char *value)
{
    spool *s = host_spool(h);
    if (s == NULL || value == NULL || !mark_ok(name, value))
        return TALLY_HOST_EINVAL;
    return spool_mark_put(s, h->instance, h->who, name, value);
}

int host_spool_push_marked(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                           int64_t max_bytes, const char *mark_name, const char *mark_value,
                           int64_t *seq, int64_t *overflowed)
{
    spool *s = host_spool(h);
    if (s == NULL || (data == NULL && len > 0) || mark_value == NULL ||
        !mark_ok(mark_name, mark_value) ||
        (mode != TALLY_SPOOL_QUEUE && mode != TALLY_SPOOL_REPLACE))
        return TALLY_HOST_EINVAL;
    return spool_push_marked(s, h->instance, h->who, data, len, meta, mode, max_bytes, mark_name,
                             mark_value, seq, overflowed);
}
