/*
 * test_format.c — exporters/format against DESIGN.md: the JSON summary's
 * exact shape and key order, values that must survive a round trip (2^40
 * token sums, 0.1 + 0.2 costs), the Prometheus text of a small snapshot and
 * its label escaping, CSV quoting, CRLF and every table's header, the
 * InfluxDB line protocol's points, times and escaping, numbers
 * under a comma-decimal locale, and the name lookups. Every expected text
 * here was written by hand from DESIGN.md, not produced by the code.
 */
#include "format.h"
#include "format_priv.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TWO40 ((int64_t)1 << 40)

/* 2026-11-22 03:00:00Z is 11:00 on 2026-11-22 in Asia/Shanghai, whose day
 * started at 2026-11-21T16:00:00Z. */
#define NOW 1795316400       /* 2026-11-22T03:00:00Z */
#define GENERATED 1795316401 /* 2026-11-22T03:00:01Z */
#define CUTOFF 1795276800    /* 2026-11-21T16:00:00Z */
#define DAY_1120 1795104000  /* 2026-11-19T16:00:00Z */
#define DAY_1121 1795190400  /* 2026-11-20T16:00:00Z */

static char *render(tally_format f, const tally_snapshot *s, const char *table)
{
    tally_format_opts o = {.csv_table = table};
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tally_format_render(f, s, &o, &out, &len), 0);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static tally_snapshot zero_snapshot(void)
{
    tally_snapshot s = {
        .timezone = "Asia/Shanghai",
        .now_utc = NOW,
        .generated_utc = GENERATED,
        .summary = {.cutoff_utc = CUTOFF},
    };
    return s;
}

/* ---- names ---- */

static void test_format_names(void **state)
{
    tally_format f = TALLY_FORMAT_CSV;
    assert_int_equal(tally_format_from_name("json", &f), 0);
    assert_int_equal(f, TALLY_FORMAT_JSON);
    assert_int_equal(tally_format_from_name("prometheus", &f), 0);
    assert_int_equal(f, TALLY_FORMAT_PROMETHEUS);
    assert_int_equal(tally_format_from_name("csv", &f), 0);
    assert_int_equal(f, TALLY_FORMAT_CSV);
    assert_int_equal(tally_format_from_name("influx", &f), 0);
    assert_int_equal(f, TALLY_FORMAT_INFLUX);

    const char *bad[] = {"",     "JSON", "Json",     "json ", "jsonx",
                         "prom", "text", "influxdb", "line",  "csv\n"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        f = TALLY_FORMAT_PROMETHEUS;
        assert_int_equal(tally_format_from_name(bad[i], &f), -1);
        assert_int_equal(f, TALLY_FORMAT_PROMETHEUS); /* untouched */
    }
    assert_int_equal(tally_format_from_name(NULL, &f), -1);

    assert_string_equal(tally_format_name(TALLY_FORMAT_JSON), "json");
    assert_string_equal(tally_format_name(TALLY_FORMAT_PROMETHEUS), "prometheus");
    assert_string_equal(tally_format_name(TALLY_FORMAT_CSV), "csv");
    assert_string_equal(tally_format_name(TALLY_FORMAT_INFLUX), "influx");
    assert_null(tally_format_name((tally_format)4));

    assert_string_equal(tally_format_content_type(TALLY_FORMAT_JSON), "application/json");
    assert_string_equal(tally_format_content_type(TALLY_FORMAT_PROMETHEUS),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(tally_format_content_type(TALLY_FORMAT_CSV),
                        "text/csv; charset=utf-8; header=present");
    assert_string_equal(tally_format_content_type(TALLY_FORMAT_INFLUX),
                        "text/plain; charset=utf-8");
    assert_null(tally_format_content_type((tally_format)-1));
}

static void test_csv_table_names(void **state)
{
    const char *good[] = {"days",     "user_days", "summary",     "today",
                          "combined", "counters",  "counter_days"};
    for (size_t i = 0; i < COUNT(good); i++)
        assert_int_equal(tally_format_csv_table_valid(good[i]), 0);
    const char *bad[] = {"", "Days", "day", "users", "counter", "rejected_rows", "days "};
    for (size_t i = 0; i < COUNT(bad); i++)
        assert_int_equal(tally_format_csv_table_valid(bad[i]), -1);
    assert_int_equal(tally_format_csv_table_valid(NULL), -1);
}

static void test_render_bad_arguments(void **state)
{
    tally_snapshot s = zero_snapshot();
    char *out = (char *)"untouched";
    size_t len = 99;
    assert_int_equal(tally_format_render(TALLY_FORMAT_JSON, NULL, NULL, &out, &len), -1);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(tally_format_render((tally_format)7, &s, NULL, &out, &len), -1);
    assert_null(out);
    assert_int_equal(tally_format_render(TALLY_FORMAT_JSON, &s, NULL, NULL, &len), -1);
    assert_int_equal(tally_format_render(TALLY_FORMAT_JSON, &s, NULL, &out, NULL), -1);

    /* An unknown csv table is a bad option. */
    tally_format_opts o = {.csv_table = "nope"};
    out = (char *)"untouched";
    assert_int_equal(tally_format_render(TALLY_FORMAT_CSV, &s, &o, &out, &len), -1);
    assert_null(out);

    /* An instant gmtime cannot break down cannot be written. */
    s.now_utc = INT64_MAX;
    assert_int_equal(tally_format_render(TALLY_FORMAT_JSON, &s, NULL, &out, &len), -1);
    assert_null(out);
}

/* ---- numbers and UTF-8 ---- */

static void test_double_text(void **state)
{
    struct {
        double v;
        const char *text;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "0"},
        {1.0, "1"},
        {-3.0, "-3"},
        {0.5, "0.5"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {12.5, "12.5"},
        {1e15, "1000000000000000"},
        {9007199254740992.0, "9007199254740992"},
        {99999999999999984.0, "99999999999999984"},
        {1e17, "1e+17"},
        {1e300, "1e+300"},
        {1.5e-7, "1.5e-07"},
        {5e-324, "4.94065645841247e-324"},
        {NAN, "NaN"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char text[TF_NUM_LEN];
        tf_double(cases[i].v, text);
        assert_string_equal(text, cases[i].text);
        if (isfinite(cases[i].v))
            assert_true(strtod(text, NULL) == cases[i].v);
    }
}

static void test_instant_text(void **state)
{
    char text[TF_INSTANT_LEN];
    assert_int_equal(tf_instant(NOW, text), 0);
    assert_string_equal(text, "2026-11-22T03:00:00Z");
    assert_int_equal(tf_instant(0, text), 0);
    assert_string_equal(text, "1970-01-01T00:00:00Z");
    assert_int_equal(tf_instant(-1, text), 0);
    assert_string_equal(text, "1969-12-31T23:59:59Z");
    assert_int_equal(tf_instant(INT64_MAX, text), -1);
}

static void test_utf8(void **state)
{
    assert_true(tf_utf8_valid("plain", 5));
    const char *mixed = "z\xc3\xa4hler \xe2\x82\xac \xf0\x9f\x98\x80"; /* zähler € 😀 */
    assert_true(tf_utf8_valid(mixed, strlen(mixed)));
    assert_false(tf_utf8_valid("\xff", 1));
    assert_false(tf_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(tf_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
    assert_false(tf_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(tf_utf8_valid("\xe2\x82", 2));         /* cut short */

    tf_buf b;
    tf_buf_init(&b);
    const char bytes[] = "a\xff"
                         "b\xe2\x82"
                         "\xe2\x82\xac"; /* a, a stray byte, b, half a €, € */
    tf_buf_add_utf8(&b, bytes, sizeof(bytes) - 1);
    char *out;
    size_t len;
    assert_int_equal(tf_buf_finish(&b, &out, &len), 0);
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b\xef\xbf\xbd\xef\xbf\xbd"
                             "\xe2\x82\xac");
    free(out);
}

/* ---- JSON ---- */

static const char zero_json[] = "{\n"
                                " \"timezone\": \"Asia/Shanghai\",\n"
                                " \"now\": \"2026-11-22T03:00:00Z\",\n"
                                " \"generated_at\": \"2026-11-22T03:00:01Z\",\n"
                                " \"days\": [],\n"
                                " \"user_days\": [],\n"
                                " \"summary\": {\n"
                                "  \"cutoff_date\": \"2026-11-21T16:00:00Z\",\n"
                                "  \"all_time_requests\": 0,\n"
                                "  \"all_time_success_requests\": 0,\n"
                                "  \"all_time_error_requests\": 0,\n"
                                "  \"all_time_input_tokens\": 0,\n"
                                "  \"all_time_output_tokens\": 0,\n"
                                "  \"all_time_cache_creation_tokens\": 0,\n"
                                "  \"all_time_cache_read_tokens\": 0,\n"
                                "  \"all_time_cost\": 0.0,\n"
                                "  \"all_time_actual_cost\": 0.0,\n"
                                "  \"total_users\": 0,\n"
                                "  \"active_users\": 0,\n"
                                "  \"total_api_keys\": 0,\n"
                                "  \"active_api_keys\": 0\n"
                                " },\n"
                                " \"today\": {\n"
                                "  \"total_requests\": 0,\n"
                                "  \"success_requests\": 0,\n"
                                "  \"error_requests\": 0,\n"
                                "  \"input_tokens\": 0,\n"
                                "  \"output_tokens\": 0,\n"
                                "  \"cache_creation_tokens\": 0,\n"
                                "  \"cache_read_tokens\": 0,\n"
                                "  \"total_cost\": 0.0,\n"
                                "  \"actual_total_cost\": 0.0\n"
                                " },\n"
                                " \"combined\": {\n"
                                "  \"total_requests\": 0,\n"
                                "  \"success_requests\": 0,\n"
                                "  \"error_requests\": 0,\n"
                                "  \"input_tokens\": 0,\n"
                                "  \"output_tokens\": 0,\n"
                                "  \"cache_creation_tokens\": 0,\n"
                                "  \"cache_read_tokens\": 0,\n"
                                "  \"total_cost\": 0.0,\n"
                                "  \"actual_total_cost\": 0.0,\n"
                                "  \"total_users\": 0,\n"
                                "  \"active_users\": 0,\n"
                                "  \"total_api_keys\": 0,\n"
                                "  \"active_api_keys\": 0\n"
                                " },\n"
                                " \"counters\": {},\n"
                                " \"counter_days\": [],\n"
                                " \"rejected_rows\": 0\n"
                                "}\n";

static void test_json_zero_snapshot(void **state)
{
    tally_snapshot s = zero_snapshot();
    char *out = render(TALLY_FORMAT_JSON, &s, NULL);
    assert_string_equal(out, zero_json);
    free(out);
}

static const tally_day_stats full_days[] = {
    {
        .date = "2026-11-20",
        .day_start_utc = DAY_1120,
        .total_requests = 3,
        .success_requests = 2,
        .error_requests = 1,
        .input_tokens = TWO40 + 1,
        .output_tokens = 3 * TWO40,
        .cache_creation_tokens = 5,
        .cache_read_tokens = 6,
        .total_cost = 0.1 + 0.2,
        .actual_total_cost = 1.0 / 3.0,
        .input_cost = 1e-9,
        .output_cost = 123456.789,
        .cache_creation_cost = 2.5,
        .cache_read_cost = 0.7,
        .avg_response_time_ms = 1234.5,
        .fallback_count = 1,
        .unique_models = 2,
        .unique_providers = 1,
    },
    /* A day without usage rows: all zeros. */
    {.date = "2026-11-21", .day_start_utc = DAY_1121},
};

static const tally_user_day_stats full_user_days[] = {
    {
        .date = "2026-11-20",
        .day_start_utc = DAY_1120,
        .user_id = "u2",
        .total_requests = 2,
        .success_requests = 1,
        .error_requests = 1,
        .input_tokens = TWO40,
        .output_tokens = 7,
        .cache_creation_tokens = 8,
        .cache_read_tokens = 9,
        .total_cost = 0.1,
    },
    {
        .date = "2026-11-20",
        .day_start_utc = DAY_1120,
        .user_id = "\xe7\x94\xa8\xe6\x88\xb7-1", /* 用户-1 */
        .total_requests = 1,
        .success_requests = 1,
        .input_tokens = 1,
        .output_tokens = 3 * TWO40,
        .total_cost = 0.2,
    },
};

static const tally_counter_value full_counters[] = {
    {"a\"b\\c", -7},
    {"api.requests.total", TWO40},
    {"zz", INT64_MAX},
};

static const tally_counter_day full_counter_days[] = {
    {"2026-11-20", "api.requests.today", 17},
    {"2026-11-21", "api.requests.today", 0},
};

static tally_snapshot full_snapshot(void)
{
    tally_snapshot s = zero_snapshot();
    s.days = full_days;
    s.n_days = COUNT(full_days);
    s.user_days = full_user_days;
    s.n_user_days = COUNT(full_user_days);
    s.summary = (tally_summary){
        .cutoff_utc = CUTOFF,
        .all_time_requests = 3,
        .all_time_success_requests = 2,
        .all_time_error_requests = 1,
        .all_time_input_tokens = TWO40 + 1,
        .all_time_output_tokens = 3 * TWO40,
        .all_time_cache_creation_tokens = 5,
        .all_time_cache_read_tokens = 6,
        .all_time_cost = 0.1 + 0.2,
        .all_time_actual_cost = 1.0 / 3.0,
        .inventory = {.total_users = 11,
                      .active_users = 7,
                      .total_api_keys = 13,
                      .active_api_keys = 5},
    };
    s.today = (tally_totals){
        .total_requests = 4,
        .success_requests = 4,
        .input_tokens = 40,
        .output_tokens = 41,
        .cache_creation_tokens = 42,
        .cache_read_tokens = 43,
        .total_cost = 0.25,
        .actual_total_cost = 0.125,
    };
    s.combined = (tally_totals){
        .total_requests = 7,
        .success_requests = 6,
        .error_requests = 1,
        .input_tokens = TWO40 + 41,
        .output_tokens = 3 * TWO40 + 41,
        .cache_creation_tokens = 47,
        .cache_read_tokens = 49,
        .total_cost = 0.1 + 0.2 + 0.25,
        .actual_total_cost = 1.0 / 3.0 + 0.125,
    };
    s.counters = full_counters;
    s.n_counters = COUNT(full_counters);
    s.counter_days = full_counter_days;
    s.n_counter_days = COUNT(full_counter_days);
    s.rejected_rows = 12;
    return s;
}

static void assert_keys(json_t *o, const char *const *keys, size_t n)
{
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), n);
    size_t i = 0;
    for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
        assert_true(i < n);
        assert_string_equal(json_object_iter_key(it), keys[i]);
        i++;
    }
    assert_int_equal(i, n);
}

static void assert_int_key(json_t *o, const char *key, int64_t v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j))
        fail_msg("\"%s\" is not an integer", key);
    assert_true(json_integer_value(j) == v);
}

static void assert_real_key(json_t *o, const char *key, double v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_real(j))
        fail_msg("\"%s\" is not a real", key);
    if (json_real_value(j) != v)
        fail_msg("\"%s\": %.17g read back, %.17g written", key, json_real_value(j), v);
}

static void assert_str_key(json_t *o, const char *key, const char *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_string(j))
        fail_msg("\"%s\" is not a string", key);
    assert_string_equal(json_string_value(j), v);
}

static const char *const day_keys[] = {"date",
                                       "day_start_utc",
                                       "total_requests",
                                       "success_requests",
                                       "error_requests",
                                       "input_tokens",
                                       "output_tokens",
                                       "cache_creation_tokens",
                                       "cache_read_tokens",
                                       "total_cost",
                                       "actual_total_cost",
                                       "input_cost",
                                       "output_cost",
                                       "cache_creation_cost",
                                       "cache_read_cost",
                                       "avg_response_time_ms",
                                       "fallback_count",
                                       "unique_models",
                                       "unique_providers"};

static const char *const user_day_keys[] = {"date",
                                            "day_start_utc",
                                            "user_id",
                                            "total_requests",
                                            "success_requests",
                                            "error_requests",
                                            "input_tokens",
                                            "output_tokens",
                                            "cache_creation_tokens",
                                            "cache_read_tokens",
                                            "total_cost"};

static const char *const today_keys[] = {
    "total_requests",    "success_requests", "error_requests",
    "input_tokens",      "output_tokens",    "cache_creation_tokens",
    "cache_read_tokens", "total_cost",       "actual_total_cost"};

static const char *const combined_keys[] = {
    "total_requests",    "success_requests",      "error_requests",    "input_tokens",
    "output_tokens",     "cache_creation_tokens", "cache_read_tokens", "total_cost",
    "actual_total_cost", "total_users",           "active_users",      "total_api_keys",
    "active_api_keys"};

static const char *const summary_keys[] = {"cutoff_date",
                                           "all_time_requests",
                                           "all_time_success_requests",
                                           "all_time_error_requests",
                                           "all_time_input_tokens",
                                           "all_time_output_tokens",
                                           "all_time_cache_creation_tokens",
                                           "all_time_cache_read_tokens",
                                           "all_time_cost",
                                           "all_time_actual_cost",
                                           "total_users",
                                           "active_users",
                                           "total_api_keys",
                                           "active_api_keys"};

static void test_json_full_snapshot(void **state)
{
    tally_snapshot s = full_snapshot();
    char *out = render(TALLY_FORMAT_JSON, &s, NULL);
    assert_int_equal(out[strlen(out) - 1], '\n');
    json_error_t err;
    json_t *root = json_loads(out, 0, &err);
    if (root == NULL)
        fail_msg("JSON does not parse: %s at line %d", err.text, err.line);
    free(out);

    const char *const top[] = {"timezone",  "now",          "generated_at", "days",
                               "user_days", "summary",      "today",        "combined",
                               "counters",  "counter_days", "rejected_rows"};
    assert_keys(root, top, COUNT(top));
    assert_str_key(root, "timezone", "Asia/Shanghai");
    assert_str_key(root, "now", "2026-11-22T03:00:00Z");
    assert_str_key(root, "generated_at", "2026-11-22T03:00:01Z");
    assert_int_key(root, "rejected_rows", 12);

    json_t *days = json_object_get(root, "days");
    assert_true(json_is_array(days));
    assert_int_equal(json_array_size(days), 2);
    json_t *d = json_array_get(days, 0);
    assert_keys(d, day_keys, COUNT(day_keys));
    assert_str_key(d, "date", "2026-11-20");
    assert_str_key(d, "day_start_utc", "2026-11-19T16:00:00Z");
    assert_int_key(d, "total_requests", 3);
    assert_int_key(d, "success_requests", 2);
    assert_int_key(d, "error_requests", 1);
    assert_int_key(d, "input_tokens", 1099511627777);
    assert_int_key(d, "output_tokens", 3298534883328);
    assert_int_key(d, "cache_creation_tokens", 5);
    assert_int_key(d, "cache_read_tokens", 6);
    assert_true(0.1 + 0.2 != 0.3); /* the sum that must come back as is */
    assert_real_key(d, "total_cost", 0.1 + 0.2);
    assert_real_key(d, "actual_total_cost", 1.0 / 3.0);
    assert_real_key(d, "input_cost", 1e-9);
    assert_real_key(d, "output_cost", 123456.789);
    assert_real_key(d, "cache_creation_cost", 2.5);
    assert_real_key(d, "cache_read_cost", 0.7);
    assert_real_key(d, "avg_response_time_ms", 1234.5);
    assert_int_key(d, "fallback_count", 1);
    assert_int_key(d, "unique_models", 2);
    assert_int_key(d, "unique_providers", 1);

    d = json_array_get(days, 1);
    assert_keys(d, day_keys, COUNT(day_keys));
    assert_str_key(d, "date", "2026-11-21");
    assert_str_key(d, "day_start_utc", "2026-11-20T16:00:00Z");
    for (size_t i = 2; i < COUNT(day_keys); i++) {
        json_t *v = json_object_get(d, day_keys[i]);
        assert_true(json_is_number(v));
        assert_true(json_number_value(v) == 0);
    }
    /* Costs and the average are reals even when zero. */
    assert_real_key(d, "total_cost", 0);
    assert_real_key(d, "avg_response_time_ms", 0);
    assert_int_key(d, "fallback_count", 0);

    json_t *ud = json_object_get(root, "user_days");
    assert_int_equal(json_array_size(ud), 2);
    json_t *u = json_array_get(ud, 0);
    assert_keys(u, user_day_keys, COUNT(user_day_keys));
    assert_str_key(u, "date", "2026-11-20");
    assert_str_key(u, "day_start_utc", "2026-11-19T16:00:00Z");
    assert_str_key(u, "user_id", "u2");
    assert_int_key(u, "total_requests", 2);
    assert_int_key(u, "success_requests", 1);
    assert_int_key(u, "error_requests", 1);
    assert_int_key(u, "input_tokens", 1099511627776);
    assert_int_key(u, "output_tokens", 7);
    assert_int_key(u, "cache_creation_tokens", 8);
    assert_int_key(u, "cache_read_tokens", 9);
    assert_real_key(u, "total_cost", 0.1);
    u = json_array_get(ud, 1);
    assert_keys(u, user_day_keys, COUNT(user_day_keys));
    assert_str_key(u, "user_id", "\xe7\x94\xa8\xe6\x88\xb7-1");
    assert_int_key(u, "output_tokens", 3298534883328);
    assert_int_key(u, "error_requests", 0);
    assert_real_key(u, "total_cost", 0.2);

    json_t *sum = json_object_get(root, "summary");
    assert_keys(sum, summary_keys, COUNT(summary_keys));
    assert_str_key(sum, "cutoff_date", "2026-11-21T16:00:00Z");
    assert_int_key(sum, "all_time_requests", 3);
    assert_int_key(sum, "all_time_success_requests", 2);
    assert_int_key(sum, "all_time_error_requests", 1);
    assert_int_key(sum, "all_time_input_tokens", 1099511627777);
    assert_int_key(sum, "all_time_output_tokens", 3298534883328);
    assert_int_key(sum, "all_time_cache_creation_tokens", 5);
    assert_int_key(sum, "all_time_cache_read_tokens", 6);
    assert_real_key(sum, "all_time_cost", 0.1 + 0.2);
    assert_real_key(sum, "all_time_actual_cost", 1.0 / 3.0);
    assert_int_key(sum, "total_users", 11);
    assert_int_key(sum, "active_users", 7);
    assert_int_key(sum, "total_api_keys", 13);
    assert_int_key(sum, "active_api_keys", 5);

    json_t *today = json_object_get(root, "today");
    assert_keys(today, today_keys, COUNT(today_keys));
    assert_int_key(today, "total_requests", 4);
    assert_int_key(today, "success_requests", 4);
    assert_int_key(today, "error_requests", 0);
    assert_int_key(today, "input_tokens", 40);
    assert_int_key(today, "output_tokens", 41);
    assert_int_key(today, "cache_creation_tokens", 42);
    assert_int_key(today, "cache_read_tokens", 43);
    assert_real_key(today, "total_cost", 0.25);
    assert_real_key(today, "actual_total_cost", 0.125);

    json_t *comb = json_object_get(root, "combined");
    assert_keys(comb, combined_keys, COUNT(combined_keys));
    assert_int_key(comb, "total_requests", 7);
    assert_int_key(comb, "success_requests", 6);
    assert_int_key(comb, "error_requests", 1);
    assert_int_key(comb, "input_tokens", 1099511627817);
    assert_int_key(comb, "output_tokens", 3298534883369);
    assert_int_key(comb, "cache_creation_tokens", 47);
    assert_int_key(comb, "cache_read_tokens", 49);
    assert_real_key(comb, "total_cost", 0.1 + 0.2 + 0.25);
    assert_real_key(comb, "actual_total_cost", 1.0 / 3.0 + 0.125);
    /* The inventory comes from summary.inventory. */
    assert_int_key(comb, "total_users", 11);
    assert_int_key(comb, "active_users", 7);
    assert_int_key(comb, "total_api_keys", 13);
    assert_int_key(comb, "active_api_keys", 5);

    json_t *counters = json_object_get(root, "counters");
    const char *const names[] = {"a\"b\\c", "api.requests.total", "zz"};
    assert_keys(counters, names, COUNT(names));
    assert_int_key(counters, "a\"b\\c", -7);
    assert_int_key(counters, "api.requests.total", 1099511627776);
    assert_int_key(counters, "zz", INT64_MAX);

    json_t *cd = json_object_get(root, "counter_days");
    assert_int_equal(json_array_size(cd), 2);
    const char *const cd_keys[] = {"date", "name", "value"};
    json_t *c0 = json_array_get(cd, 0), *c1 = json_array_get(cd, 1);
    assert_keys(c0, cd_keys, 3);
    assert_keys(c1, cd_keys, 3);
    assert_str_key(c0, "date", "2026-11-20");
    assert_str_key(c0, "name", "api.requests.today");
    assert_int_key(c0, "value", 17);
    assert_str_key(c1, "date", "2026-11-21");
    assert_int_key(c1, "value", 0);

    json_decref(root);
}

static void test_json_repairs_utf8(void **state)
{
    tally_user_day_stats ud = {.date = "2026-11-20",
                               .day_start_utc = DAY_1120,
                               .user_id = "bad\xff"
                                          "id"};
    tally_counter_value cv = {"c\xc0", 1};
    tally_snapshot s = zero_snapshot();
    s.user_days = &ud;
    s.n_user_days = 1;
    s.counters = &cv;
    s.n_counters = 1;
    char *out = render(TALLY_FORMAT_JSON, &s, NULL);
    json_t *root = json_loads(out, 0, NULL);
    assert_non_null(root);
    free(out);
    assert_str_key(json_array_get(json_object_get(root, "user_days"), 0), "user_id",
                   "bad\xef\xbf\xbd"
                   "id");
    assert_int_key(json_object_get(root, "counters"), "c\xef\xbf\xbd", 1);
    json_decref(root);
}

/* ---- Prometheus ---- */

static const tally_counter_value prom_counters[] = {
    {"a\"b\\c", 1}, {"api.requests.total", 42}, {"z\xc3\xa4hler.\xe2\x82\xac", -3}, /* zähler.€ */
};

static tally_snapshot prom_snapshot(void)
{
    tally_snapshot s = zero_snapshot();
    s.combined = (tally_totals){
        .total_requests = 100,
        .success_requests = 90,
        .error_requests = 10,
        .input_tokens = 1000,
        .output_tokens = 2000,
        .cache_creation_tokens = 300,
        .cache_read_tokens = 400,
        .total_cost = 12.5,
        .actual_total_cost = 0.1 + 0.2,
    };
    s.today = (tally_totals){
        .total_requests = 10,
        .success_requests = 9,
        .error_requests = 1,
        .input_tokens = 100,
        .output_tokens = 200,
        .cache_creation_tokens = 30,
        .cache_read_tokens = 40,
        .total_cost = 0.1,
        .actual_total_cost = 3.0,
    };
    s.summary.inventory = (tally_inventory){
        .total_users = 5, .active_users = 4, .total_api_keys = 7, .active_api_keys = 6};
    s.rejected_rows = 2;
    s.counters = prom_counters;
    s.n_counters = COUNT(prom_counters);
    /* Per-day and per-user tables never reach Prometheus. */
    s.days = full_days;
    s.n_days = COUNT(full_days);
    s.user_days = full_user_days;
    s.n_user_days = COUNT(full_user_days);
    s.counter_days = full_counter_days;
    s.n_counter_days = COUNT(full_counter_days);
    return s;
}

static const char prom_text[] =
    "# HELP tally_requests_total Usage rows, all closed business days plus today, by outcome "
    "(error: status code 400 or above, or an error message).\n"
    "# TYPE tally_requests_total counter\n"
    "tally_requests_total{outcome=\"success\"} 90\n"
    "tally_requests_total{outcome=\"error\"} 10\n"
    "# HELP tally_tokens_total Tokens of usage rows, all closed business days plus today, by "
    "kind.\n"
    "# TYPE tally_tokens_total counter\n"
    "tally_tokens_total{kind=\"input\"} 1000\n"
    "tally_tokens_total{kind=\"output\"} 2000\n"
    "tally_tokens_total{kind=\"cache_creation\"} 300\n"
    "tally_tokens_total{kind=\"cache_read\"} 400\n"
    "# HELP tally_cost_usd_total Total cost of usage rows in US dollars, all closed business "
    "days plus today.\n"
    "# TYPE tally_cost_usd_total counter\n"
    "tally_cost_usd_total 12.5\n"
    "# HELP tally_actual_cost_usd_total Actual total cost of usage rows in US dollars, all "
    "closed business days plus today.\n"
    "# TYPE tally_actual_cost_usd_total counter\n"
    "tally_actual_cost_usd_total 0.30000000000000004\n"
    "# HELP tally_today_requests Usage rows since the start of the business day, by outcome.\n"
    "# TYPE tally_today_requests gauge\n"
    "tally_today_requests{outcome=\"success\"} 9\n"
    "tally_today_requests{outcome=\"error\"} 1\n"
    "# HELP tally_today_tokens Tokens of usage rows since the start of the business day, by "
    "kind.\n"
    "# TYPE tally_today_tokens gauge\n"
    "tally_today_tokens{kind=\"input\"} 100\n"
    "tally_today_tokens{kind=\"output\"} 200\n"
    "tally_today_tokens{kind=\"cache_creation\"} 30\n"
    "tally_today_tokens{kind=\"cache_read\"} 40\n"
    "# HELP tally_today_cost_usd Total cost of usage rows since the start of the business day, "
    "in US dollars.\n"
    "# TYPE tally_today_cost_usd gauge\n"
    "tally_today_cost_usd 0.1\n"
    "# HELP tally_today_actual_cost_usd Actual total cost of usage rows since the start of the "
    "business day, in US dollars.\n"
    "# TYPE tally_today_actual_cost_usd gauge\n"
    "tally_today_actual_cost_usd 3\n"
    "# HELP tally_users Users in the users inventory.\n"
    "# TYPE tally_users gauge\n"
    "tally_users 5\n"
    "# HELP tally_active_users Users in the users inventory that are active.\n"
    "# TYPE tally_active_users gauge\n"
    "tally_active_users 4\n"
    "# HELP tally_api_keys API keys in the api_keys inventory.\n"
    "# TYPE tally_api_keys gauge\n"
    "tally_api_keys 7\n"
    "# HELP tally_active_api_keys API keys in the api_keys inventory that are active.\n"
    "# TYPE tally_active_api_keys gauge\n"
    "tally_active_api_keys 6\n"
    "# HELP tally_rejected_rows_total Input rows set aside as malformed, all sources.\n"
    "# TYPE tally_rejected_rows_total counter\n"
    "tally_rejected_rows_total 2\n"
    "# HELP tally_snapshot_generated_timestamp_seconds When the snapshot was made, in seconds "
    "since the Unix epoch (wall clock).\n"
    "# TYPE tally_snapshot_generated_timestamp_seconds gauge\n"
    "tally_snapshot_generated_timestamp_seconds 1795316401\n"
    "# HELP tally_region_value Live value of a libtally counter, by counter name (a gauge: "
    "tally_add also takes negative numbers).\n"
    "# TYPE tally_region_value gauge\n"
    "tally_region_value{name=\"a\\\"b\\\\c\"} 1\n"
    "tally_region_value{name=\"api.requests.total\"} 42\n"
    "tally_region_value{name=\"z\xc3\xa4hler.\xe2\x82\xac\"} -3\n";

static void test_prometheus_text(void **state)
{
    tally_snapshot s = prom_snapshot();
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    assert_string_equal(out, prom_text);
    free(out);
}

static void test_prometheus_without_counters(void **state)
{
    /* No region counters: no tally_region_value family at all, and the
     * text still ends where the snapshot timestamp's sample does. */
    tally_snapshot s = zero_snapshot();
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    assert_null(strstr(out, "tally_region_value"));
    const char *tail = "tally_snapshot_generated_timestamp_seconds 1795316401\n";
    size_t n = strlen(out), t = strlen(tail);
    assert_true(n > t);
    assert_string_equal(out + n - t, tail);
    assert_non_null(strstr(out, "tally_cost_usd_total 0\n"));
    free(out);
}

static void assert_ends_with(const char *out, const char *tail)
{
    size_t n = strlen(out), t = strlen(tail);
    assert_true(n > t);
    assert_string_equal(out + n - t, tail);
}

static void test_prometheus_label_escaping(void **state)
{
    /* libtally forbids control characters in names, but the format must
     * still escape a line feed should one arrive from another source; an
     * invalid byte becomes U+FFFD, as the format wants UTF-8. */
    tally_counter_value cv[] = {
        {"\\\\\"\"", 1},
        {"line\nfeed", 2},
        {"\xff", 3},
        {"\xf0\x9f\x98\x80 ok", 4},
    };
    tally_snapshot s = zero_snapshot();
    s.counters = cv;
    s.n_counters = COUNT(cv);
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    const char *tail = "# TYPE tally_region_value gauge\n"
                       "tally_region_value{name=\"\\\\\\\\\\\"\\\"\"} 1\n"
                       "tally_region_value{name=\"line\\nfeed\"} 2\n"
                       "tally_region_value{name=\"\xef\xbf\xbd\"} 3\n"
                       "tally_region_value{name=\"\xf0\x9f\x98\x80 ok\"} 4\n";
    assert_ends_with(out, tail);
    free(out);
}

/* Names that repair to the same text would be one series twice (a scrape
 * error) or one JSON key set twice (a value lost): the first keeps it, a
 * valid name before any repaired one. */
static void test_repaired_names_collide(void **state)
{
    tally_counter_value cv[] = {
        {"a\xef\xbf\xbd", 1}, /* a valid name: "a" and U+FFFD */
        {"a\xfe", 2},
        {"a\xff", 3},
        {"b\xfe", 4},
        {"b\xff", 5},
    };
    tally_snapshot s = zero_snapshot();
    s.counters = cv;
    s.n_counters = COUNT(cv);
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    const char *tail = "# TYPE tally_region_value gauge\n"
                       "tally_region_value{name=\"a\xef\xbf\xbd\"} 1\n"
                       "tally_region_value{name=\"b\xef\xbf\xbd\"} 4\n";
    assert_ends_with(out, tail);
    free(out);
    out = render(TALLY_FORMAT_JSON, &s, NULL);
    json_t *root = json_loads(out, 0, NULL);
    assert_non_null(root);
    free(out);
    json_t *counters = json_object_get(root, "counters");
    assert_int_equal(json_object_size(counters), 2);
    assert_int_key(counters, "a\xef\xbf\xbd", 1);
    assert_int_key(counters, "b\xef\xbf\xbd", 4);
    json_decref(root);
}

/* ---- CSV ---- */

static void test_csv_headers(void **state)
{
    /* Each table of the zero snapshot: the header (the JSON keys, in JSON
     * order) and, for the one-row tables, a row of zeros. */
    struct {
        const char *table, *text;
    } cases[] = {
        {"days", "date,day_start_utc,total_requests,success_requests,error_requests,"
                 "input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,"
                 "total_cost,actual_total_cost,input_cost,output_cost,cache_creation_cost,"
                 "cache_read_cost,avg_response_time_ms,fallback_count,unique_models,"
                 "unique_providers\r\n"},
        {"user_days", "date,day_start_utc,user_id,total_requests,success_requests,"
                      "error_requests,input_tokens,output_tokens,cache_creation_tokens,"
                      "cache_read_tokens,total_cost\r\n"},
        {"summary", "cutoff_date,all_time_requests,all_time_success_requests,"
                    "all_time_error_requests,all_time_input_tokens,all_time_output_tokens,"
                    "all_time_cache_creation_tokens,all_time_cache_read_tokens,all_time_cost,"
                    "all_time_actual_cost,total_users,active_users,total_api_keys,"
                    "active_api_keys\r\n"
                    "2026-11-21T16:00:00Z,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"},
        {"today", "total_requests,success_requests,error_requests,input_tokens,output_tokens,"
                  "cache_creation_tokens,cache_read_tokens,total_cost,actual_total_cost\r\n"
                  "0,0,0,0,0,0,0,0,0\r\n"},
        {"combined", "total_requests,success_requests,error_requests,input_tokens,"
                     "output_tokens,cache_creation_tokens,cache_read_tokens,total_cost,"
                     "actual_total_cost,total_users,active_users,total_api_keys,"
                     "active_api_keys\r\n"
                     "0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"},
        {"counters", "name,value\r\n"},
        {"counter_days", "date,name,value\r\n"},
    };
    tally_snapshot s = zero_snapshot();
    for (size_t i = 0; i < COUNT(cases); i++) {
        char *out = render(TALLY_FORMAT_CSV, &s, cases[i].table);
        assert_string_equal(out, cases[i].text);
        free(out);
    }
    /* No table named: days. */
    char *out = NULL;
    size_t len;
    assert_int_equal(tally_format_render(TALLY_FORMAT_CSV, &s, NULL, &out, &len), 0);
    assert_string_equal(out, cases[0].text);
    free(out);
}

static void test_csv_rows(void **state)
{
    tally_snapshot s = full_snapshot();
    struct {
        const char *table, *text;
    } cases[] = {
        {"days", "date,day_start_utc,total_requests,success_requests,error_requests,"
                 "input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,"
                 "total_cost,actual_total_cost,input_cost,output_cost,cache_creation_cost,"
                 "cache_read_cost,avg_response_time_ms,fallback_count,unique_models,"
                 "unique_providers\r\n"
                 "2026-11-20,2026-11-19T16:00:00Z,3,2,1,1099511627777,3298534883328,5,6,"
                 "0.30000000000000004,0.3333333333333333,1e-09,123456.789,"
                 "2.5,0.7,1234.5,1,2,1\r\n"
                 "2026-11-21,2026-11-20T16:00:00Z,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"},
        {"summary", "cutoff_date,all_time_requests,all_time_success_requests,"
                    "all_time_error_requests,all_time_input_tokens,all_time_output_tokens,"
                    "all_time_cache_creation_tokens,all_time_cache_read_tokens,all_time_cost,"
                    "all_time_actual_cost,total_users,active_users,total_api_keys,"
                    "active_api_keys\r\n"
                    "2026-11-21T16:00:00Z,3,2,1,1099511627777,3298534883328,5,6,"
                    "0.30000000000000004,0.3333333333333333,11,7,13,5\r\n"},
        {"today", "total_requests,success_requests,error_requests,input_tokens,output_tokens,"
                  "cache_creation_tokens,cache_read_tokens,total_cost,actual_total_cost\r\n"
                  "4,4,0,40,41,42,43,0.25,0.125\r\n"},
        {"combined", "total_requests,success_requests,error_requests,input_tokens,"
                     "output_tokens,cache_creation_tokens,cache_read_tokens,total_cost,"
                     "actual_total_cost,total_users,active_users,total_api_keys,"
                     "active_api_keys\r\n"
                     "7,6,1,1099511627817,3298534883369,47,49,0.55,"
                     "0.4583333333333333,11,7,13,5\r\n"},
        {"counters", "name,value\r\n"
                     "\"a\"\"b\\c\",-7\r\n"
                     "api.requests.total,1099511627776\r\n"
                     "zz,9223372036854775807\r\n"},
        {"counter_days", "date,name,value\r\n"
                         "2026-11-20,api.requests.today,17\r\n"
                         "2026-11-21,api.requests.today,0\r\n"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char *out = render(TALLY_FORMAT_CSV, &s, cases[i].table);
        assert_string_equal(out, cases[i].text);
        free(out);
    }
}

static void test_csv_quoting(void **state)
{
    tally_user_day_stats ud[] = {
        {.date = "2026-11-20",
         .day_start_utc = DAY_1120,
         .user_id = "a,b\"c\nd",
         .total_requests = 1,
         .success_requests = 1,
         .total_cost = 0.5},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "cr\rhere"},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "\"\""},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "plain user; ok\xff"},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = NULL},
    };
    tally_snapshot s = zero_snapshot();
    s.user_days = ud;
    s.n_user_days = COUNT(ud);
    char *out = render(TALLY_FORMAT_CSV, &s, "user_days");
    assert_string_equal(out, "date,day_start_utc,user_id,total_requests,success_requests,"
                             "error_requests,input_tokens,output_tokens,cache_creation_tokens,"
                             "cache_read_tokens,total_cost\r\n"
                             "2026-11-20,2026-11-19T16:00:00Z,\"a,b\"\"c\nd\",1,1,0,0,0,0,0,0.5\r\n"
                             "2026-11-20,2026-11-19T16:00:00Z,\"cr\rhere\",0,0,0,0,0,0,0,0\r\n"
                             "2026-11-20,2026-11-19T16:00:00Z,\"\"\"\"\"\",0,0,0,0,0,0,0,0\r\n"
                             "2026-11-20,2026-11-19T16:00:00Z,plain user; ok\xef\xbf\xbd,"
                             "0,0,0,0,0,0,0,0\r\n"
                             "2026-11-20,2026-11-19T16:00:00Z,,0,0,0,0,0,0,0,0\r\n");
    /* Outside quoted fields every line ends in CRLF: the only bare LF is the
     * one inside the first user_id. */
    size_t bare_lf = 0;
    for (const char *p = out; *p != '\0'; p++)
        if (*p == '\n' && (p == out || p[-1] != '\r'))
            bare_lf++;
    assert_int_equal(bare_lf, 1);
    free(out);
}

/* ---- InfluxDB line protocol ---- */

static void test_influx_points(void **state)
{
    /* Every kind of point once. Times: the day's start for days and user
     * days, 00:00 UTC of the date for a counter day, now for the rest, all
     * in nanoseconds. */
    tally_day_stats day = {.date = "2026-11-20",
                           .day_start_utc = DAY_1120,
                           .total_requests = 3,
                           .success_requests = 2,
                           .error_requests = 1,
                           .input_tokens = TWO40,
                           .total_cost = 0.1 + 0.2,
                           .avg_response_time_ms = 1234.5,
                           .unique_models = 2};
    tally_user_day_stats ud = {.date = "2026-11-20",
                               .day_start_utc = DAY_1120,
                               .user_id = "u-1",
                               .total_requests = 3,
                               .total_cost = 2.0};
    tally_counter_value cv = {"api.requests.total", -7};
    tally_counter_day cd = {"2026-11-21", "api.requests.today", 17};
    tally_snapshot s = zero_snapshot();
    s.days = &day;
    s.n_days = 1;
    s.user_days = &ud;
    s.n_user_days = 1;
    s.counters = &cv;
    s.n_counters = 1;
    s.counter_days = &cd;
    s.n_counter_days = 1;
    s.summary.all_time_requests = 3;
    s.summary.inventory.total_users = 11;
    s.today.total_requests = 4;
    s.today.actual_total_cost = 0.125;
    s.combined.total_requests = 7;
    s.rejected_rows = 2;
    char *out = render(TALLY_FORMAT_INFLUX, &s, NULL);
    assert_string_equal(
        out,
        "tally_day date=\"2026-11-20\",total_requests=3i,success_requests=2i,error_requests=1i,"
        "input_tokens=1099511627776i,output_tokens=0i,cache_creation_tokens=0i,"
        "cache_read_tokens=0i,total_cost=0.30000000000000004,actual_total_cost=0,input_cost=0,"
        "output_cost=0,cache_creation_cost=0,cache_read_cost=0,avg_response_time_ms=1234.5,"
        "fallback_count=0i,unique_models=2i,unique_providers=0i 1795104000000000000\n"
        "tally_user_day,user_id=u-1 date=\"2026-11-20\",total_requests=3i,success_requests=0i,"
        "error_requests=0i,input_tokens=0i,output_tokens=0i,cache_creation_tokens=0i,"
        "cache_read_tokens=0i,total_cost=2 1795104000000000000\n"
        "tally_counter_day,name=api.requests.today date=\"2026-11-21\",value=17i "
        "1795219200000000000\n"
        "tally_summary cutoff_date=\"2026-11-21T16:00:00Z\",all_time_requests=3i,"
        "all_time_success_requests=0i,all_time_error_requests=0i,all_time_input_tokens=0i,"
        "all_time_output_tokens=0i,all_time_cache_creation_tokens=0i,"
        "all_time_cache_read_tokens=0i,all_time_cost=0,all_time_actual_cost=0,total_users=11i,"
        "active_users=0i,total_api_keys=0i,active_api_keys=0i,rejected_rows=2i "
        "1795316400000000000\n"
        "tally_today total_requests=4i,success_requests=0i,error_requests=0i,input_tokens=0i,"
        "output_tokens=0i,cache_creation_tokens=0i,cache_read_tokens=0i,total_cost=0,"
        "actual_total_cost=0.125 1795316400000000000\n"
        "tally_combined total_requests=7i,success_requests=0i,error_requests=0i,input_tokens=0i,"
        "output_tokens=0i,cache_creation_tokens=0i,cache_read_tokens=0i,total_cost=0,"
        "actual_total_cost=0,total_users=11i,active_users=0i,total_api_keys=0i,"
        "active_api_keys=0i 1795316400000000000\n"
        "tally_counter,name=api.requests.total value=-7i 1795316400000000000\n");
    free(out);
}

static void test_influx_escaping(void **state)
{
    /* Tag values escape comma, equals, space and backslash; an empty one
     * leaves the tag out (the protocol has no empty tag values). Line
     * breaks and bytes that are not UTF-8 become U+FFFD; a real that is
     * not finite is left out. */
    tally_user_day_stats ud[] = {
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "a b,c=d\\"},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = ""},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "l\nf\r\xff\"q\""},
        {.date = "2026-11-20", .day_start_utc = DAY_1120, .user_id = "x", .total_cost = NAN},
    };
    tally_snapshot s = zero_snapshot();
    s.user_days = ud;
    s.n_user_days = COUNT(ud);
    char *out = render(TALLY_FORMAT_INFLUX, &s, NULL);
    const char *rest = "date=\"2026-11-20\",total_requests=0i,success_requests=0i,"
                       "error_requests=0i,input_tokens=0i,output_tokens=0i,"
                       "cache_creation_tokens=0i,cache_read_tokens=0i";
    char want[4096];
    snprintf(want, sizeof(want),
             "tally_user_day,user_id=a\\ b\\,c\\=d\\\\ %s,total_cost=0 1795104000000000000\n"
             "tally_user_day %s,total_cost=0 1795104000000000000\n"
             "tally_user_day,user_id=l\xef\xbf\xbd"
             "f\xef\xbf\xbd\xef\xbf\xbd\"q\" %s,total_cost=0 1795104000000000000\n"
             "tally_user_day,user_id=x %s 1795104000000000000\n",
             rest, rest, rest, rest);
    assert_int_equal(strncmp(out, want, strlen(want)), 0);

    /* A string field escapes its double quotes and backslashes. */
    free(out);
    tally_counter_day cd = {"2026-11-20", "n", 1};
    s = zero_snapshot();
    s.counter_days = &cd;
    s.n_counter_days = 1;
    s.timezone = "Asia/\"Shanghai\"";
    tally_counter_value cv = {"q\"\\", 1};
    s.counters = &cv;
    s.n_counters = 1;
    out = render(TALLY_FORMAT_INFLUX, &s, NULL);
    assert_non_null(strstr(out, "\ntally_counter,name=q\"\\\\ value=1i 1795316400000000000\n"));
    free(out);
}

static void test_influx_unwritable(void **state)
{
    /* Past 2262 a nanosecond timestamp overflows 64 bits; a date that is
     * not one has no time. Neither is written as garbage. */
    tally_snapshot s = zero_snapshot();
    s.now_utc = INT64_MAX / 1000;
    char *out = (char *)"untouched";
    size_t len;
    assert_int_equal(tally_format_render(TALLY_FORMAT_INFLUX, &s, NULL, &out, &len), -1);
    assert_null(out);
    s = zero_snapshot();
    tally_counter_day cd = {"2026-13-01", "n", 1};
    s.counter_days = &cd;
    s.n_counter_days = 1;
    assert_int_equal(tally_format_render(TALLY_FORMAT_INFLUX, &s, NULL, &out, &len), -1);
    assert_null(out);
    /* Dates far from 1970 land on their own midnight. */
    tally_counter_day old = {"1900-03-01", "n", 1};
    s.counter_days = &old;
    out = render(TALLY_FORMAT_INFLUX, &s, NULL);
    assert_non_null(strstr(out, " -2203891200000000000\n"));
    free(out);
}

/* ---- locale ---- */

static void test_numbers_ignore_locale(void **state)
{
    tally_snapshot s = full_snapshot();
    s.summary.inventory.total_users = 1234567; /* a thousands separator must not appear */
    char *json_c = render(TALLY_FORMAT_JSON, &s, NULL);
    char *prom_c = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    char *csv_c = render(TALLY_FORMAT_CSV, &s, "days");
    char *comb_c = render(TALLY_FORMAT_CSV, &s, "combined");
    char *influx_c = render(TALLY_FORMAT_INFLUX, &s, NULL);

    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE"};
    const char *got = NULL;
    for (size_t i = 0; i < COUNT(names) && got == NULL; i++)
        got = setlocale(LC_ALL, names[i]);
    if (got == NULL) {
        free(json_c);
        free(prom_c);
        free(csv_c);
        free(comb_c);
        free(influx_c);
        print_message("no comma-decimal locale installed (Debian: locales-all); "
                      "skipping the LC_NUMERIC check\n");
        skip();
    }
    /* The locale really does use a comma, or this test proves nothing. */
    assert_string_equal(localeconv()->decimal_point, ",");
    char probe[16];
    snprintf(probe, sizeof(probe), "%.1f", 0.5);
    assert_string_equal(probe, "0,5");

    char *json_l = render(TALLY_FORMAT_JSON, &s, NULL);
    char *prom_l = render(TALLY_FORMAT_PROMETHEUS, &s, NULL);
    char *csv_l = render(TALLY_FORMAT_CSV, &s, "days");
    char *comb_l = render(TALLY_FORMAT_CSV, &s, "combined");
    char *influx_l = render(TALLY_FORMAT_INFLUX, &s, NULL);

    /* The caller's locale is back once rendering is over. */
    assert_string_equal(localeconv()->decimal_point, ",");
    setlocale(LC_ALL, "C");

    assert_string_equal(json_l, json_c);
    assert_string_equal(prom_l, prom_c);
    assert_string_equal(csv_l, csv_c);
    assert_string_equal(comb_l, comb_c);
    assert_string_equal(influx_l, influx_c);
    /* And, independent of the C-locale rendering, what a reader expects. */
    assert_non_null(strstr(json_l, "\"avg_response_time_ms\": 1234.5,"));
    assert_non_null(strstr(prom_l, "tally_today_cost_usd 0.25\n"));
    assert_non_null(strstr(csv_l, ",2.5,0.7,1234.5,1,2,1\r\n"));
    assert_non_null(strstr(comb_l, ",0.4583333333333333,1234567,7,13,5\r\n"));

    free(json_c);
    free(prom_c);
    free(csv_c);
    free(comb_c);
    free(json_l);
    free(prom_l);
    free(csv_l);
    free(comb_l);
    free(influx_c);
    free(influx_l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_csv_table_names),
        cmocka_unit_test(test_render_bad_arguments),
        cmocka_unit_test(test_double_text),
        cmocka_unit_test(test_instant_text),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_json_zero_snapshot),
        cmocka_unit_test(test_json_full_snapshot),
        cmocka_unit_test(test_json_repairs_utf8),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_prometheus_without_counters),
        cmocka_unit_test(test_prometheus_label_escaping),
        cmocka_unit_test(test_repaired_names_collide),
        cmocka_unit_test(test_csv_headers),
        cmocka_unit_test(test_csv_rows),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_influx_points),
        cmocka_unit_test(test_influx_escaping),
        cmocka_unit_test(test_influx_unwritable),
        cmocka_unit_test(test_numbers_ignore_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
