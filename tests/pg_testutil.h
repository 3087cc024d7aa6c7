/*
 * pg_testutil.h — what the cmocka tests that talk to a real PostgreSQL
 * share: the server tests/pg_test.sh started (its directory in
 * TALLY_TEST_PG_DIR, the script in TALLY_TEST_PG_SCRIPT; without them
 * the PostgreSQL cases skip themselves), its connection string, and
 * running SQL on it as the superuser. Compiled into the tests that name
 * it in SOURCES (tests/odbc_source.cmake), which define
 * TALLY_PG_ODBC_DRIVER.
 */
#ifndef TALLY_TESTS_PG_TESTUTIL_H
#define TALLY_TESTS_PG_TESTUTIL_H

#include <stdint.h>

/* The server's directory, or NULL when no server is there to test on. */
const char *pg_test_dir(void);
/* pg_test.sh WHAT DIR: "restart", "crash", "stop"; fails the test if it
 * fails. */
void pg_test_cmd(const char *what);
/* Run SQL (any number of statements, any quoting: it goes through a
 * file) as the superuser; fails the test on an error. */
void pg_test_sql(const char *sql);
/* The one integer SQL's one row and column holds. */
int64_t pg_test_int(const char *sql);
/* The ODBC connection string of the server, with ";PWD=<pwd>" when pwd
 * is not NULL (in a static buffer). */
const char *pg_test_conn(const char *pwd);

#endif
