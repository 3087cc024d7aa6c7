/*
 * test_host_secret.c — secrets named in a config reach a plugin from a
 * file or an environment variable, exactly, and never reach the log.
 */
#include "host.h"
#include "log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "s3cr3t-token-never-logged"

static struct tally_host *host(void)
{
    static struct tally_host h;
    snprintf(h.who, sizeof(h.who), "test \"secret\"");
    return &h;
}

/* The log goes to stderr: send it to a file the test can read. */
static char *with_log_captured(int (*fn)(char **out), char **secret_out, int *rc)
{
    char path[] = "/tmp/tally-secret-log-XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    *rc = fn(secret_out);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fopen(path, "r");
    static char text[8192];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    close(fd);
    unlink(path);
    return text;
}

static char secret_file[64];

static int from_file(char **out)
{
    return host_api.read_secret(host(), secret_file, "UNUSED_ENV", out);
}

static int from_env(char **out)
{
    return host_api.read_secret(host(), NULL, "TALLY_TEST_SECRET", out);
}

static int from_missing(char **out)
{
    return host_api.read_secret(host(), "/nonexistent/secret", NULL, out);
}

static void test_secret_from_file(void **unused)
{
    snprintf(secret_file, sizeof(secret_file), "/tmp/tally-secret-XXXXXX");
    int fd = mkstemp(secret_file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SECRET "\n", strlen(SECRET) + 1), (ssize_t)strlen(SECRET) + 1);
    close(fd);
    char *s = NULL;
    int rc;
    log_set_level(TALLY_LOG_DEBUG);
    char *log = with_log_captured(from_file, &s, &rc);
    assert_int_equal(rc, TALLY_HOST_OK);
    assert_string_equal(s, SECRET); /* the trailing newline is not part of it */
    assert_null(strstr(log, SECRET));
    free(s);
    unlink(secret_file);
}

static void test_secret_from_env(void **unused)
{
    setenv("TALLY_TEST_SECRET", SECRET, 1);
    char *s = NULL;
    int rc;
    char *log = with_log_captured(from_env, &s, &rc);
    assert_int_equal(rc, TALLY_HOST_OK);
    assert_string_equal(s, SECRET);
    assert_null(strstr(log, SECRET));
    free(s);
    unsetenv("TALLY_TEST_SECRET");
    log = with_log_captured(from_env, &s, &rc);
    assert_int_equal(rc, TALLY_HOST_ERR);
    assert_null(s);
    assert_non_null(strstr(log, "TALLY_TEST_SECRET is not set"));
}

static void test_secret_missing_file(void **unused)
{
    char *s = NULL;
    int rc;
    char *log = with_log_captured(from_missing, &s, &rc);
    assert_int_equal(rc, TALLY_HOST_ERR);
    assert_null(s);
    assert_non_null(strstr(log, "/nonexistent/secret"));
    assert_int_equal(host_api.read_secret(host(), NULL, NULL, &s), TALLY_HOST_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_from_file),
        cmocka_unit_test(test_secret_from_env),
        cmocka_unit_test(test_secret_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
