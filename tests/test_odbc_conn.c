/*
 * test_odbc_conn.c — the connection string shown in messages: every key
 * that names a secret has its value masked, whatever the driver calls it
 * and in whatever case; other keys, and ${NAME} references, are shown.
 */
#include "odbc/odbc_conn.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void expect_shown(const char *tmpl, const char *want)
{
    char *shown = odbc_conn_shown(tmpl);
    assert_non_null(shown);
    assert_string_equal(shown, want);
    free(shown);
}

static void test_classic_keys(void **state)
{
    expect_shown("DSN=x;UID=u;PWD=hunter2", "DSN=x;UID=u;PWD=***");
    expect_shown("DSN=x;password={a;b}}c};UID=u", "DSN=x;password=***;UID=u");
}

static void test_every_secret_key(void **state)
{
    expect_shown("DSN=x;PASSWD=s1;UID=u", "DSN=x;PASSWD=***;UID=u");
    expect_shown("Driver=pg;sslpassword=s2;Server=h", "Driver=pg;sslpassword=***;Server=h");
    expect_shown("Password=s3", "Password=***");
    expect_shown("pAsSwOrD = s4 ;Port=5432", "pAsSwOrD =***;Port=5432");
    expect_shown("ClientSecret=s5;AccessToken=s6;SSLPWD=s7",
                 "ClientSecret=***;AccessToken=***;SSLPWD=***");
    expect_shown("Auth_Token={s;8};Secret=${S9}", "Auth_Token=***;Secret=***");
}

static void test_other_keys_shown(void **state)
{
    expect_shown("DSN=${DSN};UID=${USER};Server=db;Port=5432;Database=usage",
                 "DSN=${DSN};UID=${USER};Server=db;Port=5432;Database=usage");
    expect_shown("sslmode=require;sslkey=/etc/k.pem", "sslmode=require;sslkey=/etc/k.pem");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_keys),
        cmocka_unit_test(test_every_secret_key),
        cmocka_unit_test(test_other_keys_shown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
