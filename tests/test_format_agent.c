/*
 * test_format_agent.c — the agent's figures about itself (snapshot.h,
 * tally_agent_stats) in the Prometheus text (exact text, written by hand
 * from issue 14's names) and in the JSON summary's last member, agent;
 * a snapshot without them renders as it always did.
 */
#include "format.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795316400 /* 2026-11-22T03:00:00Z */

static const tally_metric csv_usage[] = {
    {"records_total", "Records handed over.", TALLY_METRIC_COUNTER, 3},
    {"rejected_rows_total", "Rows set aside.", TALLY_METRIC_COUNTER, 1},
    {"bytes_read_total", "Bytes read.", TALLY_METRIC_COUNTER, 4096},
    {"lag_bytes", "Not read yet,\nwith a back\\slash.", TALLY_METRIC_GAUGE, 0.5},
};
static const tally_metric csv_quoted[] = {
    {"records_total", "Another help: the first instance's is the family's.", TALLY_METRIC_COUNTER,
     2},
    /* The family is a gauge above: this counter of its name is left out. */
    {"lag_bytes", "Wrong kind.", TALLY_METRIC_COUNTER, 7},
    {"Bad-Name", "No Prometheus name can hold it.", TALLY_METRIC_GAUGE, 1},
};
static const tally_metric http_push[] = {
    {"exports_ok_total", "Delivered.", TALLY_METRIC_COUNTER, 5},
    {"exports_failed_total", "Failed.", TALLY_METRIC_COUNTER, 2},
    {"spool_items", "Waiting.", TALLY_METRIC_GAUGE, 2},
};
static const tally_instance_stats instances[] = {
    {"csv", "usage", 1, csv_usage, 4},
    {"daily", "stats", 2, NULL, 0},
    {"csv", "a\"b\\c", 1, csv_quoted, 3},
    {"http", "push", 3, http_push, 3},
};
static const tally_agent_stats agent = {
    .version = "0.2.0",
    .plugin_abi = 4,
    .start_utc = NOW - 60,
    .cycles_ok = 4,
    .cycles_failed = 1,
    .last_cycle_seconds = 0.25,
    .last_success_utc = NOW,
    .interval = 15,
    .instances = instances,
    .n_instances = 4,
};

static tally_snapshot snapshot(const tally_agent_stats *a)
{
    tally_snapshot s = {.timezone = "UTC", .now_utc = NOW, .generated_utc = NOW, .agent = a};
    return s;
}

static char *render(tally_format f, const tally_snapshot *s)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tally_format_render(f, s, NULL, &out, &len), 0);
    return out;
}

static const char want_prometheus[] =
    "# HELP tally_agent_build_info The running tallyd's version and plugin ABI, as labels (the "
    "value is always 1).\n"
    "# TYPE tally_agent_build_info gauge\n"
    "tally_agent_build_info{version=\"0.2.0\",plugin_abi=\"4\"} 1\n"
    "# HELP tally_agent_start_time_seconds When tallyd started, in seconds since the Unix "
    "epoch.\n"
    "# TYPE tally_agent_start_time_seconds gauge\n"
    "tally_agent_start_time_seconds 1795316340\n"
    "# HELP tally_agent_cycles_total Cycles since tallyd started, by result (failed: a plugin "
    "step failed or the cycle could not commit).\n"
    "# TYPE tally_agent_cycles_total counter\n"
    "tally_agent_cycles_total{result=\"ok\"} 4\n"
    "tally_agent_cycles_total{result=\"failed\"} 1\n"
    "# HELP tally_agent_last_cycle_duration_seconds How long the last cycle took, from its "
    "start to its commit.\n"
    "# TYPE tally_agent_last_cycle_duration_seconds gauge\n"
    "tally_agent_last_cycle_duration_seconds 0.25\n"
    "# HELP tally_agent_last_cycle_success_timestamp_seconds When a cycle last succeeded, in "
    "seconds since the Unix epoch (0: none yet).\n"
    "# TYPE tally_agent_last_cycle_success_timestamp_seconds gauge\n"
    "tally_agent_last_cycle_success_timestamp_seconds 1795316400\n"
    "# HELP tally_source_records_total Records handed over.\n"
    "# TYPE tally_source_records_total counter\n"
    "tally_source_records_total{plugin=\"csv\",plugin_instance=\"usage\"} 3\n"
    "tally_source_records_total{plugin=\"csv\",plugin_instance=\"a\\\"b\\\\c\"} 2\n"
    "# HELP tally_source_rejected_rows_total Rows set aside.\n"
    "# TYPE tally_source_rejected_rows_total counter\n"
    "tally_source_rejected_rows_total{plugin=\"csv\",plugin_instance=\"usage\"} 1\n"
    "# HELP tally_source_bytes_read_total Bytes read.\n"
    "# TYPE tally_source_bytes_read_total counter\n"
    "tally_source_bytes_read_total{plugin=\"csv\",plugin_instance=\"usage\"} 4096\n"
    "# HELP tally_source_lag_bytes Not read yet,\\nwith a back\\\\slash.\n"
    "# TYPE tally_source_lag_bytes gauge\n"
    "tally_source_lag_bytes{plugin=\"csv\",plugin_instance=\"usage\"} 0.5\n"
    "# HELP tally_exporter_exports_ok_total Delivered.\n"
    "# TYPE tally_exporter_exports_ok_total counter\n"
    "tally_exporter_exports_ok_total{plugin=\"http\",plugin_instance=\"push\"} 5\n"
    "# HELP tally_exporter_exports_failed_total Failed.\n"
    "# TYPE tally_exporter_exports_failed_total counter\n"
    "tally_exporter_exports_failed_total{plugin=\"http\",plugin_instance=\"push\"} 2\n"
    "# HELP tally_exporter_spool_items Waiting.\n"
    "# TYPE tally_exporter_spool_items gauge\n"
    "tally_exporter_spool_items{plugin=\"http\",plugin_instance=\"push\"} 2\n";

static void test_prometheus_agent_text(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(&agent);
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s);
    /* After every family that was there before, to the end. */
    const char *at = strstr(out, "# HELP tally_agent_build_info ");
    assert_non_null(at);
    assert_non_null(strstr(out, "tally_snapshot_generated_timestamp_seconds 1795316400\n"));
    assert_true(strstr(out, "tally_snapshot_generated_timestamp_seconds") < at);
    assert_string_equal(at, want_prometheus);
    free(out);
}

/* Without agent figures (a snapshot from a test, or from before issue
 * 14): not a word about the agent, in either format. */
static void test_no_agent_no_text(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(NULL);
    char *prom = render(TALLY_FORMAT_PROMETHEUS, &s);
    assert_null(strstr(prom, "tally_agent"));
    assert_null(strstr(prom, "tally_source"));
    char *json = render(TALLY_FORMAT_JSON, &s);
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    assert_null(json_object_get(j, "agent"));
    assert_non_null(json_object_get(j, "rejected_rows"));
    json_decref(j);
    free(prom);
    free(json);
}

static void test_json_agent_object(void **state)
{
    (void)state;
    tally_snapshot s = snapshot(&agent);
    char *out = render(TALLY_FORMAT_JSON, &s);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    assert_non_null(j);
    /* The last member, after rejected_rows: readers of the rest see what
     * they always saw. */
    const char *last = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) last = key;
    assert_string_equal(last, "agent");
    json_t *a = json_object_get(j, "agent");
    char *text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(
        text,
        "{\"version\":\"0.2.0\",\"plugin_abi\":4,\"started_at\":\"2026-11-22T02:59:00Z\","
        "\"interval_seconds\":15,\"cycles\":{\"ok\":4,\"failed\":1},\"last_cycle_seconds\":0.25,"
        "\"last_success_at\":\"2026-11-22T03:00:00Z\",\"instances\":["
        "{\"plugin\":\"csv\",\"instance\":\"usage\",\"kind\":\"source\",\"metrics\":{"
        "\"records_total\":3,\"rejected_rows_total\":1,\"bytes_read_total\":4096,"
        "\"lag_bytes\":0.5}},"
        "{\"plugin\":\"daily\",\"instance\":\"stats\",\"kind\":\"collector\",\"metrics\":{}},"
        "{\"plugin\":\"csv\",\"instance\":\"a\\\"b\\\\c\",\"kind\":\"source\",\"metrics\":{"
        "\"records_total\":2,\"lag_bytes\":7,\"Bad-Name\":1}},"
        "{\"plugin\":\"http\",\"instance\":\"push\",\"kind\":\"exporter\",\"metrics\":{"
        "\"exports_ok_total\":5,\"exports_failed_total\":2,\"spool_items\":2}}]}");
    free(text);
    json_decref(j);
    free(out);
}

/* No cycle has succeeded yet: null, not the epoch. */
static void test_json_never_succeeded(void **state)
{
    (void)state;
    tally_agent_stats fresh = agent;
    fresh.last_success_utc = 0;
    fresh.n_instances = 0;
    tally_snapshot s = snapshot(&fresh);
    char *out = render(TALLY_FORMAT_JSON, &s);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    json_t *a = json_object_get(j, "agent");
    assert_true(json_is_null(json_object_get(a, "last_success_at")));
    assert_int_equal(json_array_size(json_object_get(a, "instances")), 0);
    json_decref(j);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_agent_text),
        cmocka_unit_test(test_no_agent_no_text),
        cmocka_unit_test(test_json_agent_object),
        cmocka_unit_test(test_json_never_succeeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
