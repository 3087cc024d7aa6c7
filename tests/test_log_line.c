/*
 * test_log_line.c — one log line in each format, exactly: text as it
 * always was, logfmt's quoting and escapes (a reader must find where each
 * value ends), JSON's fields, and a message that is not UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "log_line.h"

/* e in format, as a string (static). */
static const char *line(log_format format, const log_entry *e)
{
    static char *text;
    size_t len;
    free(text);
    text = NULL;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(log_line_write(mem, format, e), 0);
    assert_int_equal(fclose(mem), 0);
    return text;
}

static const log_entry agent_line = {"info", NULL, NULL, "stopped", "2026-11-22T03:00:00Z"};
static const log_entry plugin_line = {
    "warning", "csv", "my usage", "no file matches /a b/\"q\"*.csv", "2026-11-22T03:00:00.123Z"};

static void test_text(void **unused)
{
    assert_string_equal(line(LOG_FORMAT_TEXT, &agent_line),
                        "2026-11-22T03:00:00Z tallyd info: stopped");
    assert_string_equal(line(LOG_FORMAT_TEXT, &plugin_line),
                        "2026-11-22T03:00:00.123Z tallyd warning: csv \"my usage\": no file "
                        "matches /a b/\"q\"*.csv");
    /* Without a stamp (syslog, the journal): the message alone. */
    log_entry e = plugin_line;
    e.stamp = NULL;
    assert_string_equal(line(LOG_FORMAT_TEXT, &e),
                        "csv \"my usage\": no file matches /a b/\"q\"*.csv");
    /* A host with only a name. */
    e = (log_entry){"error", "test \"secret\"", NULL, "gone", NULL};
    assert_string_equal(line(LOG_FORMAT_TEXT, &e), "test \"secret\": gone");
}

static void test_logfmt(void **unused)
{
    assert_string_equal(line(LOG_FORMAT_LOGFMT, &agent_line),
                        "ts=2026-11-22T03:00:00Z level=info msg=\"stopped\"");
    assert_string_equal(line(LOG_FORMAT_LOGFMT, &plugin_line),
                        "ts=2026-11-22T03:00:00.123Z level=warning "
                        "msg=\"no file matches /a b/\\\"q\\\"*.csv\" plugin=csv "
                        "instance=\"my usage\"");
    /* Every byte a reader could mistake is escaped; UTF-8 passes. */
    log_entry e = {"error", "odbc", "a=b",
                   "1\n2\t3\r4\\5\x01"
                   "6\x7f"
                   "7 \xc3\xa9",
                   NULL};
    assert_string_equal(line(LOG_FORMAT_LOGFMT, &e),
                        "level=error msg=\"1\\n2\\t3\\r4\\\\5\\u00016\\u007f7 \xc3\xa9\" "
                        "plugin=odbc instance=\"a=b\"");
    /* An empty value is quoted, so the next key is not taken for it. */
    e = (log_entry){"info", "csv", "", "x", NULL};
    assert_string_equal(line(LOG_FORMAT_LOGFMT, &e),
                        "level=info msg=\"x\" plugin=csv instance=\"\"");
}

static void test_json(void **unused)
{
    assert_string_equal(line(LOG_FORMAT_JSON, &agent_line),
                        "{\"ts\":\"2026-11-22T03:00:00Z\",\"level\":\"info\",\"msg\":\"stopped\"}");
    assert_string_equal(line(LOG_FORMAT_JSON, &plugin_line),
                        "{\"ts\":\"2026-11-22T03:00:00.123Z\",\"level\":\"warning\","
                        "\"msg\":\"no file matches /a b/\\\"q\\\"*.csv\",\"plugin\":\"csv\","
                        "\"instance\":\"my usage\"}");
    /* Not UTF-8: the other bytes become '?', the line is still JSON. */
    log_entry e = {"warning", NULL, NULL, "file /x/\xff\xfe.csv\n", NULL};
    assert_string_equal(line(LOG_FORMAT_JSON, &e),
                        "{\"level\":\"warning\",\"msg\":\"file /x/??.csv\\n\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
