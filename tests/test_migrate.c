/*
 * test_migrate.c — lib/migrate: each owner's steps run in order from the
 * version recorded to the last, all or none; owners do not see each
 * other's versions; a newer version or layout is refused and left as it
 * is; the check writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "migrate/migrate.h"

static const char *const steps[] = {
    "CREATE TABLE a_one (x INTEGER)",
    "ALTER TABLE a_one ADD COLUMN y INTEGER DEFAULT 7",
    "CREATE TABLE a_three (z TEXT)",
};

static int query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static int version(sqlite3 *db, const char *owner)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT version FROM schema_versions WHERE owner = '%s'", owner);
    return query(db, sql);
}

static sqlite3 *open_mem(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    return db;
}

static void steps_in_order_then_only_new_ones(void **unused)
{
    sqlite3 *db = open_mem();
    char msg[512];
    int from = -1;
    assert_int_equal(migrate_run(db, "a", steps, 2, &from, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(from, 0);
    assert_int_equal(version(db, "a"), 2);
    assert_int_equal(query(db, "PRAGMA user_version"), MIGRATE_LAYOUT);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO a_one (x) VALUES (1)", NULL, NULL, NULL),
                     SQLITE_OK);
    /* A later release adds step 3: only it runs, the row stays. */
    assert_int_equal(migrate_run(db, "a", steps, 3, &from, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(from, 2);
    assert_int_equal(version(db, "a"), 3);
    assert_int_equal(query(db, "SELECT x + y FROM a_one"), 8);
    assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'a_three'"), 1);
    /* Again: nothing to do. */
    assert_int_equal(migrate_run(db, "a", steps, 3, &from, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(from, 3);
    sqlite3_close(db);
}

static void owners_are_apart(void **unused)
{
    static const char *const other[] = {"CREATE TABLE b_one (x INTEGER)"};
    sqlite3 *db = open_mem();
    char msg[512];
    assert_int_equal(migrate_run(db, "a", steps, 3, NULL, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(migrate_run(db, "b", other, 1, NULL, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(version(db, "a"), 3);
    assert_int_equal(version(db, "b"), 1);
    sqlite3_close(db);
}

static void a_failing_step_leaves_nothing(void **unused)
{
    static const char *const broken[] = {"CREATE TABLE c_one (x INTEGER)", "CREATE TABLE c_one (x)"};
    sqlite3 *db = open_mem();
    char msg[512] = "";
    assert_int_equal(migrate_run(db, "c", broken, 2, NULL, msg, sizeof(msg)), MIGRATE_ERR);
    assert_non_null(strstr(msg, "migration step 2 for 'c' failed: table c_one already exists"));
    assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'c_one'"), 0);
    assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_versions'"),
                     0);
    assert_int_equal(sqlite3_get_autocommit(db), 1);
    sqlite3_close(db);
}

static void newer_is_refused_and_kept(void **unused)
{
    sqlite3 *db = open_mem();
    char msg[512] = "";
    assert_int_equal(migrate_run(db, "a", steps, 3, NULL, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(migrate_check(db, "a", 2, msg, sizeof(msg)), MIGRATE_NEWER);
    assert_non_null(strstr(msg, "the tables of 'a' are at schema version 3, newer than this "
                                "release knows (2)"));
    assert_int_equal(migrate_run(db, "a", steps, 2, NULL, msg, sizeof(msg)), MIGRATE_NEWER);
    assert_int_equal(version(db, "a"), 3);
    assert_int_equal(migrate_check(db, "a", 3, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(migrate_check(db, "nobody", 0, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(migrate_run(db, "a", steps, 3, NULL, msg, sizeof(msg)), MIGRATE_NEWER);
    assert_non_null(strstr(msg, "its layout version 3 is newer than this release knows (2)"));
    assert_int_equal(query(db, "PRAGMA user_version"), 3);
    sqlite3_close(db);
}

static void check_writes_nothing(void **unused)
{
    sqlite3 *db = open_mem();
    char msg[512];
    assert_int_equal(migrate_check(db, "a", 3, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master"), 0);
    assert_int_equal(query(db, "PRAGMA user_version"), 0);
    sqlite3_close(db);
}

/* Inside a caller's transaction the steps take a savepoint; a failure
 * rolls back only them. */
static void inside_a_transaction(void **unused)
{
    static const char *const broken[] = {"CREATE TABLE d_one (x)", "SELECT * FROM missing"};
    sqlite3 *db = open_mem();
    char msg[512];
    assert_int_equal(sqlite3_exec(db, "BEGIN; CREATE TABLE mine (x)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(migrate_run(db, "d", broken, 2, NULL, msg, sizeof(msg)), MIGRATE_ERR);
    assert_int_equal(sqlite3_get_autocommit(db), 0);
    assert_int_equal(migrate_run(db, "a", steps, 1, NULL, msg, sizeof(msg)), MIGRATE_OK);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('mine', "
                               "'a_one', 'd_one')"),
                     2);
    assert_int_equal(version(db, "a"), 1);
    assert_int_equal(version(db, "d"), -1);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_in_order_then_only_new_ones),
        cmocka_unit_test(owners_are_apart),
        cmocka_unit_test(a_failing_step_leaves_nothing),
        cmocka_unit_test(newer_is_refused_and_kept),
        cmocka_unit_test(check_writes_nothing),
        cmocka_unit_test(inside_a_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
