/*
 * pg_testutil.c — see pg_testutil.h. psql reads the SQL from a file, so
 * that no shell sees its quotes or dollar signs.
 */
#include "pg_testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef TALLY_PG_ODBC_DRIVER
#error "build with -DTALLY_PG_ODBC_DRIVER=<path of psqlodbcw.so>"
#endif

const char *pg_test_dir(void)
{
    return getenv("TALLY_TEST_PG_SCRIPT") != NULL ? getenv("TALLY_TEST_PG_DIR") : NULL;
}

void pg_test_cmd(const char *what)
{
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof(cmd), "bash '%s' %s '%s' >/dev/null", getenv("TALLY_TEST_PG_SCRIPT"), what,
             pg_test_dir());
    assert_int_equal(system(cmd), 0);
}

/* psql with ARGS on a file holding sql: its stdout, opened for reading. */
static FILE *psql_file(const char *sql, const char *args, char path[PATH_MAX])
{
    snprintf(path, PATH_MAX, "%s/test-XXXXXX.sql", pg_test_dir());
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "SET client_min_messages TO warning;\n%s;\n", sql);
    assert_int_equal(fclose(f), 0);
    char cmd[PATH_MAX * 4];
    snprintf(cmd, sizeof(cmd), "bash '%s' psql '%s' %s -f '%s'", getenv("TALLY_TEST_PG_SCRIPT"),
             pg_test_dir(), args, path);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    return out;
}

void pg_test_sql(const char *sql)
{
    char path[PATH_MAX], line[1024];
    FILE *out = psql_file(sql, "", path);
    while (fgets(line, sizeof(line), out) != NULL)
        fputs(line, stderr);
    int rc = pclose(out);
    unlink(path);
    if (rc != 0)
        fail_msg("psql failed on: %s", sql);
}

int64_t pg_test_int(const char *sql)
{
    char path[PATH_MAX], line[128] = "";
    FILE *out = psql_file(sql, "-At", path);
    char *got = fgets(line, sizeof(line), out);
    int rc = pclose(out);
    unlink(path);
    long long v = 0;
    if (rc != 0 || got == NULL || sscanf(line, "%lld", &v) != 1)
        fail_msg("psql gave no number (\"%s\") for: %s", line, sql);
    return v;
}

const char *pg_test_conn(const char *pwd)
{
    static char buf[PATH_MAX + 256];
    char port_file[PATH_MAX];
    snprintf(port_file, sizeof(port_file), "%s/port", pg_test_dir());
    FILE *f = fopen(port_file, "r");
    assert_non_null(f);
    int port = 0;
    assert_int_equal(fscanf(f, "%d", &port), 1);
    fclose(f);
    snprintf(buf, sizeof(buf), "DRIVER=%s;Server=127.0.0.1;Port=%d;Database=postgres;UID=tally%s%s",
             TALLY_PG_ODBC_DRIVER, port, pwd ? ";PWD=" : "", pwd ? pwd : "");
    return buf;
}
