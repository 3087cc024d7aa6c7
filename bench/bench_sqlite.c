/*
 * bench_sqlite.c — the peer tally replaces: a usage table with a row per
 * counter that every request updates. Set up as a careful web back end
 * would: WAL, synchronous=NORMAL, the UPDATE prepared once, each update
 * its own autocommit transaction, the file on a real disk.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

static const char *const db_files[] = {"usage.db", "usage.db-wal", "usage.db-shm",
                                       "usage.db-journal"};

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "shm_bench: sqlite: %s: %s\n", what,
            db != NULL ? sqlite3_errmsg(db) : "out of memory");
    return BENCH_ESQL;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    fprintf(stderr, "shm_bench: sqlite: %s: %s\n", sql, msg != NULL ? msg : "?");
    sqlite3_free(msg);
    return BENCH_ESQL;
}

/* journal_mode answers with the mode it actually set: insist on WAL. */
static int set_wal(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, "PRAGMA journal_mode");
    int ok = sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!ok) {
        fprintf(stderr, "shm_bench: sqlite: journal_mode=WAL refused\n");
        return BENCH_ESQL;
    }
    return exec(db, "PRAGMA synchronous=NORMAL");
}

static int fill(struct bench_env *e)
{
    int rc = exec(e->db, "CREATE TABLE usage_metrics(key TEXT PRIMARY KEY, value INTEGER)");
    if (rc == 0)
        rc = exec(e->db, "BEGIN");
    sqlite3_stmt *ins = NULL;
    if (rc == 0 && sqlite3_prepare_v2(e->db, "INSERT INTO usage_metrics VALUES (?, 0)", -1, &ins,
                                      NULL) != SQLITE_OK)
        rc = sql_fail(e->db, "prepare INSERT");
    for (uint32_t i = 0; rc == 0 && i < e->cfg.names; i++) {
        sqlite3_bind_text(ins, 1, e->names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = sql_fail(e->db, "INSERT");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    if (rc == 0)
        rc = exec(e->db, "COMMIT");
    return rc;
}

int bench_sqlite_init(struct bench_env *e)
{
    for (size_t i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++) {
        char path[BENCH_PATH_MAX];
        int rc = bench_join(path, sizeof(path), e->disk_dir, db_files[i]);
        if (rc == 0)
            rc = bench_track(path);
        if (rc != 0)
            return rc;
    }
    int rc = bench_join(e->db_path, sizeof(e->db_path), e->disk_dir, db_files[0]);
    if (rc != 0)
        return rc;
    if (sqlite3_open_v2(e->db_path, &e->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        return sql_fail(e->db, e->db_path);
    rc = set_wal(e->db);
    if (rc == 0)
        rc = fill(e);
    if (rc == 0 &&
        sqlite3_prepare_v2(e->db, "UPDATE usage_metrics SET value = value + ? WHERE key = ?", -1,
                           &e->update, NULL) != SQLITE_OK)
        rc = sql_fail(e->db, "prepare UPDATE");
    return rc;
}

void bench_sqlite_fini(struct bench_env *e)
{
    sqlite3_finalize(e->update);
    sqlite3_close(e->db);
    e->update = NULL;
    e->db = NULL;
}

/* µs per update, over keys in the same shuffled order as the by-name adds,
 * resuming where the previous round stopped. */
int bench_sqlite_update(struct bench_env *e, double *out)
{
    sqlite3_stmt *st = e->update;
    uint32_t n = e->cfg.sql_updates;
    int rc = 0;
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, 1);
        sqlite3_bind_text(st, 2, e->shuffled[e->sql_next], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sql_fail(e->db, "UPDATE");
        else if (sqlite3_changes(e->db) != 1)
            rc = BENCH_ECOUNT;
        sqlite3_reset(st);
        if (++e->sql_next == e->cfg.names)
            e->sql_next = 0;
    }
    uint64_t t1 = bench_now_ns();
    if (rc == 0)
        *out = (double)(t1 - t0) / n / 1000.0;
    return rc;
}
