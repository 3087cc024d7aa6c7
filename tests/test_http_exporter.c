/*
 * test_http_exporter.c — the http exporter without the daemon: the built
 * http.so loaded by the mock host, configured from section strings.
 * Every check() with its message; URLs (what is sendable, the Pushgateway
 * grouping key, what may be logged; http_url.c is built into this test);
 * and delivery from the spool to the test receiver (tests/http_receiver.py,
 * started here on 127.0.0.1): order, the same Idempotency-Key across
 * retries, a final 400 dropped and counted with only its first line
 * logged, and a stop against a dead endpoint that keeps the payload for
 * the next start. End-to-end behaviour with tallyd is in the http_*_test.sh
 * scripts.
 */
#include "http.h"
#include "http_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- check() ---- */

/* body fails check; a logged line names the instance, line 7 and each of
 * the words; init refuses it too. */
static void check_rejects(const char *body, ...)
{
    tally_host *h = mock_host_new();
    cfg_t *section = mock_host_section_at(http_plugin, "push", body, 7);
    if (section == NULL)
        fail_msg("config does not parse: %s", mock_host_parse_error());
    if (mock_host_check(http_plugin, h, section) != TALLY_HOST_ERR)
        fail_msg("check accepted: %s", body);
    va_list ap;
    va_start(ap, body);
    const char *first = va_arg(ap, const char *);
    const char *line = mock_host_log_find(h, first);
    if (line == NULL)
        fail_msg("no message says \"%s\" for: %s", first, body);
    if (strstr(line, ":7: in http \"push\": ") == NULL)
        fail_msg("message lacks line 7 or the instance: %s", line);
    for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
        if (strstr(line, w) == NULL)
            fail_msg("message lacks \"%s\": %s", w, line);
    va_end(ap);
    void *ctx = NULL;
    assert_int_equal(http_plugin->init(h, mock_host_api(), section, &ctx), TALLY_HOST_ERR);
    assert_null(ctx);
    mock_host_section_free(section);
    mock_host_free(h);
}

#define URL "url = \"http://127.0.0.1:1/in\" "
#define HTTPS "url = \"https://127.0.0.1:1/in\" "

static void test_check_rejects(void **state)
{
    check_rejects("format = \"json\"", "'url' is required", NULL);
    check_rejects("url = \"ftp://127.0.0.1/x\"", "'url'", "http or https", NULL);
    check_rejects("url = \"not a url\"", "'url'", "http://HOST", NULL);
    /* A password in a bad URL is not repeated. */
    check_rejects("url = \"gopher://u:hunter2@h/x\"", "'url'", NULL);
    tally_host *h = mock_host_new();
    cfg_t *sec = mock_host_section(http_plugin, "push", "url = \"gopher://u:hunter2@h/x\"");
    mock_host_check(http_plugin, h, sec);
    for (size_t i = 0; i < mock_host_log_count(h); i++)
        assert_null(strstr(mock_host_log_text(h, i), "hunter2"));
    mock_host_section_free(sec);
    mock_host_free(h);

    check_rejects(URL "format = \"csv\"", "'format'", "json, prometheus, influx", NULL);
    check_rejects(URL "format = \"xml\"", "'format'", "\"xml\"", NULL);
    check_rejects(URL "method = \"GET\"", "'method'", "POST or PUT", NULL);
    check_rejects(URL "compress = \"zstd\"", "'compress'", "gzip", NULL);
    check_rejects(URL "delivery = \"all\"", "'delivery'", "queue", "latest", NULL);
    check_rejects(URL "headers = {\"NoColon\"}", "'headers': header 1", "Name: value", NULL);
    check_rejects(URL "headers = {\"X-Ok: 1\", \"Bad Name: 2\"}", "'headers': header 2", NULL);
    check_rejects(URL "headers = {\"Content-Length: 5\"}", "'headers'", "Content-Length", NULL);
    check_rejects(URL "headers = {\"idempotency-key: 5\"}", "'headers'", "Idempotency-Key", NULL);
    check_rejects(URL "headers = {\"Authorization: Basic x\"} bearer_token_env = \"T\"",
                  "'headers'", "Authorization", NULL);
    check_rejects(URL "timeout = 0", "'timeout'", "above 0", NULL);
    check_rejects(URL "connect_timeout = -1", "'connect_timeout'", NULL);
    check_rejects(URL "retry_wait = 5 retry_max_wait = 1", "'retry_max_wait'", "retry_wait", NULL);
    check_rejects(URL "max_retries = -1", "'max_retries'", "0 to 100", NULL);
    check_rejects(URL "spool_max_bytes = 10", "'spool_max_bytes'", "at least", NULL);
    check_rejects(URL "bearer_token_file = \"/nonexistent/t\" bearer_token_env = \"T\"",
                  "'bearer_token_file' and 'bearer_token_env'", NULL);
    check_rejects(URL "bearer_token_file = \"/nonexistent/t\"", "'bearer_token_file'",
                  "/nonexistent/t", "cannot be read", NULL);
    check_rejects(HTTPS "ca_file = \"/nonexistent/ca.pem\"", "'ca_file'", "cannot be read", NULL);
    check_rejects(HTTPS "client_key = \"/etc/hostname\"", "'client_key' is set without", NULL);
    check_rejects(URL "history = \"some\"", "'history'", "changed", "all", NULL);
    check_rejects(URL "history = \"changed\" delivery = \"latest\"", "'history'",
                  "delivery = \"latest\"", "take its changes with it", NULL);
    check_rejects(URL "format = \"prometheus\" history = \"all\"", "'history'", "json and influx",
                  NULL);
    check_rejects(URL "headers = {\"X-Tally-Seq: 5\"}", "'headers'", "X-Tally-Seq", NULL);
    check_rejects(URL "tls_verify = false", "https URLs only", NULL);
    check_rejects(URL "ca_file = \"/etc/hostname\"", "https URLs only", NULL);
}

static void test_check_accepts(void **state)
{
    static const char *const good[] = {
        URL,
        "url = \"http://127.0.0.1:9091/metrics/job/tally\" format = \"prometheus\" method = "
        "\"PUT\"",
        HTTPS "format = \"influx\" compress = \"gzip\" tls_verify = false max_retries = 0",
        HTTPS "ca_file = \"/etc/hostname\" client_cert = \"/etc/hostname\" client_key = "
              "\"/etc/hostname\" headers = {\"X-Team: billing\", \"Content-Type: text/x\"}",
        URL "bearer_token_env = \"T\" delivery = \"latest\" timeout = 0.5 retry_wait = 0.01 "
            "spool_max_bytes = 1024",
        URL "delivery = \"latest\" history = \"all\"",
        URL "format = \"influx\" history = \"changed\"",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        tally_host *h = mock_host_new();
        cfg_t *section = mock_host_section(http_plugin, "push", good[i]);
        if (section == NULL)
            fail_msg("does not parse: %s: %s", good[i], mock_host_parse_error());
        if (mock_host_check(http_plugin, h, section) != 0)
            fail_msg("check refused %s: %s", good[i], mock_host_log_text(h, 0));
        assert_int_equal(mock_host_log_count(h), 0);
        mock_host_section_free(section);
        mock_host_free(h);
    }
    /* One help line per option. */
    for (const tally_option *o = http_plugin->options; o->def.name != NULL; o++)
        if (o->help == NULL || o->help[0] == '\0')
            fail_msg("option %s has no help", o->def.name);
}

/* ---- URLs ---- */

static void expect_key(const char *url, const char *want)
{
    char *got = http_url_grouping_key(url, "web-1.example");
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_grouping_key(void **state)
{
    expect_key("http://127.0.0.1:9091/metrics/job/tally",
               "http://127.0.0.1:9091/metrics/job/tally/instance/web-1.example");
    expect_key("http://127.0.0.1:9091/metrics/job/tally/",
               "http://127.0.0.1:9091/metrics/job/tally/instance/web-1.example");
    expect_key("http://pg/metrics/job/tally/env/prod",
               "http://pg/metrics/job/tally/env/prod/instance/web-1.example");
    /* Behind a path prefix, and with a base64 job. */
    expect_key("https://gw/push/metrics/job@base64/dGFsbHk",
               "https://gw/push/metrics/job@base64/dGFsbHk/instance/web-1.example");
    /* An instance given in the URL wins, plain or base64. */
    expect_key("http://pg/metrics/job/tally/instance/db-2",
               "http://pg/metrics/job/tally/instance/db-2");
    expect_key("http://pg/metrics/job/t/instance@base64/ZGI",
               "http://pg/metrics/job/t/instance@base64/ZGI");
    /* Not a Pushgateway group path: left alone. */
    expect_key("http://pg/metrics/jobs/tally", "http://pg/metrics/jobs/tally");
    expect_key("http://pg/metrics/job", "http://pg/metrics/job");
    expect_key("http://pg/api/v2/write?bucket=b", "http://pg/api/v2/write?bucket=b");
    /* A host name is escaped for the path. */
    char *got = http_url_grouping_key("http://pg/metrics/job/t", "a b");
    assert_string_equal(got, "http://pg/metrics/job/t/instance/a%20b");
    free(got);
}

static void test_url_shown_and_valid(void **state)
{
    char *s = http_url_shown("https://user:s3cret@gw:8443/metrics/job/t?token=abc#frag");
    assert_string_equal(s, "https://gw:8443/metrics/job/t?...");
    free(s);
    s = http_url_shown("http://127.0.0.1:9091/in");
    assert_string_equal(s, "http://127.0.0.1:9091/in");
    free(s);
    int https = -1;
    const char *why = NULL;
    assert_int_equal(http_url_valid("https://h/x", &https, &why), 0);
    assert_int_equal(https, 1);
    assert_int_equal(http_url_valid("HTTP://h:80", &https, &why), 0);
    assert_int_equal(https, 0);
    assert_int_equal(http_url_valid("file:///etc/passwd", &https, &why), -1);
    assert_int_equal(http_url_valid("http://", &https, &why), -1);
    assert_int_equal(http_url_valid("127.0.0.1:80/x", &https, &why), -1);
}

/* ---- delivery, against the test receiver ---- */

typedef mock_host_instance inst;

static tally_snapshot snap_at(int64_t now)
{
    tally_snapshot s = {.timezone = "UTC", .now_utc = now, .generated_utc = now};
    return s;
}

static void test_queue_retries_and_final(void **state)
{
    receiver r;
    receiver_start(&r, "queue", "503,200,400,200");
    char body[256];
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/in\" retry_wait = 0.01 timeout = 5 format = \"json\"",
             r.port);
    tally_host *h = mock_host_new();
    inst in;
    inst_open(&in, h, body);
    for (int i = 0; i < 3; i++) {
        tally_snapshot s = snap_at(1795316400 + i);
        assert_int_equal(http_plugin->exporter.export_snapshot(in.ctx, &s), 0);
    }
    wait_delivered(h);
    mock_host_stop(&in);
    receiver_stop(&r);

    json_t *all = receiver_log(&r);
    assert_int_equal(json_array_size(all), 4);
    /* 503 then 200 for the first snapshot, with one key; the second is
     * refused for good; the third arrives after it: order kept. */
    assert_non_null(strstr(rec_str(all, 0, "body"), "2026-11-22T03:00:00Z"));
    assert_non_null(strstr(rec_str(all, 1, "body"), "2026-11-22T03:00:00Z"));
    assert_non_null(strstr(rec_str(all, 2, "body"), "2026-11-22T03:00:01Z"));
    assert_non_null(strstr(rec_str(all, 3, "body"), "2026-11-22T03:00:02Z"));
    assert_string_equal(rec_header(all, 0, "idempotency-key"),
                        rec_header(all, 1, "idempotency-key"));
    assert_string_not_equal(rec_header(all, 1, "idempotency-key"),
                            rec_header(all, 3, "idempotency-key"));
    assert_string_equal(rec_header(all, 0, "content-type"), "application/json");
    assert_string_equal(rec_str(all, 0, "method"), "POST");
    json_decref(all);

    tally_spool_stats st;
    assert_int_equal(mock_host_api()->spool_stats(h, &st), 0);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.rejected, 1);
    const char *refused = mock_host_log_find(h, "refused payload");
    assert_non_null(refused);
    assert_non_null(strstr(refused, "HTTP 400: bad payload: tally test receiver refused it"));
    assert_null(strstr(refused, "second line"));
    assert_non_null(mock_host_log_find(h, "retry 1 of 5"));
    mock_host_free(h);
}

/* Snapshots of separate cycles go over one kept-alive connection: the
 * receiver sees every request come from the same client port. */
static void test_connection_reused_between_cycles(void **state)
{
    receiver r;
    receiver_start(&r, "reuse", "");
    char body[256];
    snprintf(body, sizeof(body), "url = \"http://127.0.0.1:%d/in\" format = \"json\"", r.port);
    tally_host *h = mock_host_new();
    inst in;
    inst_open(&in, h, body);
    for (int i = 0; i < 3; i++) {
        tally_snapshot s = snap_at(1795316400 + 60 * i);
        assert_int_equal(http_plugin->exporter.export_snapshot(in.ctx, &s), 0);
        wait_delivered(h);
    }
    mock_host_stop(&in);
    receiver_stop(&r);
    json_t *all = receiver_log(&r);
    assert_int_equal(json_array_size(all), 3);
    json_int_t port = json_integer_value(json_object_get(json_array_get(all, 0), "client_port"));
    assert_true(port > 0);
    for (size_t i = 1; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "client_port")),
                         port);
    json_decref(all);
    mock_host_free(h);
}

static void test_stop_keeps_payload_for_next_start(void **state)
{
    /* A port nobody listens on: connections are refused. */
    int port = receiver_dead_port();
    receiver r;
    char body[256];
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/in\" retry_wait = 0.01 max_retries = 2 timeout = 2 "
             "format = \"influx\" compress = \"gzip\"",
             port);
    tally_host *h = mock_host_new();
    inst in;
    inst_open(&in, h, body);
    tally_snapshot s = snap_at(1795316400);
    assert_int_equal(http_plugin->exporter.export_snapshot(in.ctx, &s), 0);
    /* Let the round give up: three refused connections. */
    for (int i = 0; i < 500 && mock_host_log_find(h, "still failing") == NULL; i++)
        usleep(10000);
    assert_non_null(mock_host_log_find(h, "still failing after 2 retries"));
    mock_host_stop(&in);
    assert_int_equal(mock_host_spool_items(h), 1);

    /* The next start, with the endpoint back, sends it without a new
     * snapshot. */
    receiver_start(&r, "back", "");
    snprintf(body, sizeof(body),
             "url = \"http://127.0.0.1:%d/in\" retry_wait = 0.01 format = \"influx\" "
             "compress = \"gzip\"",
             r.port);
    inst_open(&in, h, body);
    wait_delivered(h);
    mock_host_stop(&in);
    receiver_stop(&r);
    json_t *all = receiver_log(&r);
    assert_int_equal(json_array_size(all), 1);
    assert_true(json_is_true(json_object_get(json_array_get(all, 0), "gzip")));
    assert_string_equal(rec_header(all, 0, "content-type"), "text/plain; charset=utf-8");
    assert_non_null(strstr(rec_str(all, 0, "body"), "tally_summary "));
    json_decref(all);
    mock_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_grouping_key),
        cmocka_unit_test(test_url_shown_and_valid),
        cmocka_unit_test(test_queue_retries_and_final),
        cmocka_unit_test(test_connection_reused_between_cycles),
        cmocka_unit_test(test_stop_keeps_payload_for_next_start),
    };
    return cmocka_run_group_tests_name("http exporter", tests, http_test_setup, http_test_teardown);
}
