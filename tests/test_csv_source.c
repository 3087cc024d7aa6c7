/*
 * test_csv_source.c — the csv source, as the agent drives it: the built
 * csv.so loaded by the mock host, configured from a section string,
 * reading real files in a scratch directory. What the rows become
 * (quoting, header mapping, NULLs, numbers, instants in every zone mode),
 * what happens to bad rows (reject file, count, the rows after them),
 * following files (append, partial lines, new files, rename and
 * copytruncate rotation, gzip), checkpoints (a restart, a rolled-back
 * cycle), inventories, recompute, and every check() error.
 *
 * Set TALLY_CSV_SPEED_ROWS=N to also time a collect of N generated rows
 * (printed, never asserted).
 */
#include "source_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif

#define HEADER "id,created_at,user_id,model,input_tokens,total_cost_usd,error_message\n"

/* A usage row: id, created_at, then the rest of HEADER's columns. */
static char *row(int id, const char *rest)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 512, "%d,2026-11-21T10:00:%02dZ,%s\n", id, id % 60, rest);
    return b;
}

static const char *default_rest = "u1,gpt-4o,10,0.5,";

static void rows(const char *leaf, int from, int to)
{
    for (int i = from; i <= to; i++)
        append(leaf, row(i, default_rest));
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    (void)state;
    return source_test_load("csv");
}

/* ---- rows to records ---- */

static void test_quoted_fields(void **state)
{
    (void)state;
    put("usage.csv", HEADER);
    append("usage.csv", "1,2026-11-21T10:00:00Z,u1,\"gpt,4o\",1,0.5,\"line one\nline two\"\n"
                        "2,2026-11-21T10:00:01Z,\"u\"\"2\",m,2,1,\"say \"\"hi\"\", then go\"\n"
                        "\"3\",\"2026-11-21T10:00:02Z\",u3,m,3,1,\"\"\"\"\r\n");
    inst in;
    start(&in, "path = \"%s/usage.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 3);
    assert_true(str_is(usage(&in, 0)->model, "gpt,4o"));
    assert_true(str_is(usage(&in, 0)->error_message, "line one\nline two"));
    assert_true(str_is(usage(&in, 1)->user_id, "u\"2"));
    assert_true(str_is(usage(&in, 1)->error_message, "say \"hi\", then go"));
    assert_true(str_is(usage(&in, 2)->id, "3"));
    assert_true(str_is(usage(&in, 2)->error_message, "\""));
    assert_int_equal(usage(&in, 2)->created_ns, ns_of("2026-11-21T10:00:02"));
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* The figures it reports for the agent's own metrics (plugin.h, metric):
 * bytes read, and the bytes not read yet (here a row still being
 * written, without its line end). */
static void test_reports_bytes_and_lag(void **state)
{
    (void)state;
    const char *partial = "3,2026-11-21T10:00:03Z,u3,m";
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 2);
    append("usage.csv", partial);
    struct stat st;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/usage.csv", scratch);
    assert_int_equal(stat(path, &st), 0);
    inst in;
    start(&in, "path = \"%s/usage.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 2);
    mock_host_figure read, lag;
    assert_int_equal(mock_host_metric(in.h, "bytes_read_total", &read), 0);
    assert_int_equal(read.kind, TALLY_METRIC_COUNTER);
    assert_true(read.value == (double)st.st_size);
    assert_int_equal(mock_host_metric(in.h, "lag_bytes", &lag), 0);
    assert_int_equal(lag.kind, TALLY_METRIC_GAUGE);
    assert_true(lag.value == (double)strlen(partial));
    /* The row is finished: nothing waits, and the rest was read. */
    append("usage.csv", ",3,0.5,\n");
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 3);
    assert_int_equal(mock_host_metric(in.h, "lag_bytes", &lag), 0);
    assert_true(lag.value == 0);
    assert_int_equal(mock_host_metric(in.h, "bytes_read_total", &read), 0);
    assert_true(read.value > (double)st.st_size);
    assert_int_equal(mock_host_metric_count(in.h), 2);
    finish(&in);
}

static void test_header_order_and_columns(void **state)
{
    (void)state;
    put("a.csv", "extra,uid,ts,model,id\nx,alice,2026-11-21T10:00:00Z,m1,1\n");
    inst in;
    start(&in,
          "path = \"%s/a.csv\" stream = \"usage\" columns = {\"created_at=ts\", "
          "\"user_id=uid\"}",
          scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    const tally_usage *u = usage(&in, 0);
    assert_true(str_is(u->id, "1"));
    assert_true(str_is(u->user_id, "alice"));
    assert_true(str_is(u->model, "m1"));
    assert_int_equal(u->created_ns, ns_of("2026-11-21T10:00:00"));
    assert_true(str_is(u->provider, NULL));
    finish(&in);
}

static void test_byte_order_mark(void **state)
{
    (void)state;
    put("a.csv", "\xEF\xBB\xBFid,created_at\r\n1,2026-11-21T10:00:00Z\r\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1");
    finish(&in);
}

static void test_header_spaces_and_shared_column(void **state)
{
    (void)state;
    put("a.csv", "request_id , created_at\nr-1,2026-11-21T10:00:00Z\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" columns = {\"id=request_id\"}", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_true(str_is(usage(&in, 0)->id, "r-1"));
    assert_true(str_is(usage(&in, 0)->request_id, "r-1"));
    finish(&in);
}

static void test_extra_columns_ignored(void **state)
{
    (void)state;
    put("a.csv", "created_at,notes,id,more\n2026-11-21T10:00:00Z,\"a,b\",7,zzz\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "7");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* A wide export: 600 columns, the mapped ones among the last, are read;
 * the rest are ignored. Beyond the source's field limit (CSV_MAX_FIELDS)
 * the header is reported with the file and its line, and nothing read. */
static char *wide_line(size_t n, const char *tail)
{
    size_t cap = n * 8 + strlen(tail) + 2, k = 0;
    char *t = malloc(cap);
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(t + k, cap - k, "c%zu,", i);
    snprintf(t + k, cap - k, "%s\n", tail);
    return t;
}

static void test_wide_file(void **state)
{
    (void)state;
    char *header = wide_line(597, "id,created_at,input_tokens");
    char *data = wide_line(597, "7,2026-11-21T10:00:00Z,42");
    put("a.csv", header);
    append("a.csv", data);
    free(header);
    free(data);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_int_equal(usage(&in, 0)->input_tokens, 42);
    assert_ids(&in, "7");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);

    header = wide_line(70000, "id,created_at");
    put("b.csv", header);
    free(header);
    start(&in, "path = \"%s/b.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(
        mock_host_log_find(in.h, "b.csv:1: the header row cannot be read: more fields"));
    finish(&in);
}

static void test_missing_required_column(void **state)
{
    (void)state;
    put("a.csv", "id,user_id\n1,u\n");
    put("b.csv", "id,created_at\n2,2026-11-21T10:00:00Z\n");
    inst in;
    start(&in, "path = \"%s/*.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "2");
    char p[PATH_MAX];
    const char *msg = mock_host_log_find(in.h, "created_at");
    assert_non_null(msg);
    assert_non_null(strstr(msg, spath(p, "a.csv")));
    /* Not said again while the file stays as it is. */
    mock_host_log_clear(in.h);
    collect(&in);
    assert_null(mock_host_log_find(in.h, "created_at"));
    assert_ids(&in, "");
    /* Fixed: read. */
    put("a.csv", "id,created_at\n1,2026-11-21T10:00:00Z\n");
    collect(&in);
    assert_ids(&in, "1");
    finish(&in);
}

static void test_candidates_required(void **state)
{
    (void)state;
    put("c.csv", "request_id,created_at\nr1,2026-11-21T10:00:00Z\n");
    inst in;
    start(&in, "path = \"%s/c.csv\" stream = \"candidates\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "'status'"));
    put("c.csv", "id,status,request_id,created_at\nc1,success,r1,2026-11-21T10:00:00Z\n");
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    const tally_record *r = mock_host_record_at(in.h, 0);
    assert_int_equal(r->stream, TALLY_STREAM_CANDIDATES);
    assert_true(str_is(r->u.candidate.status, "success"));
    assert_true(str_is(r->u.candidate.request_id, "r1"));
    assert_true(str_is(r->u.candidate.id, "c1"));
    assert_int_equal(r->u.candidate.created_ns, ns_of("2026-11-21T10:00:00"));
    finish(&in);
}

static void test_nulls(void **state)
{
    (void)state;
    const char *all = "id,request_id,created_at,user_id,api_key_id,provider,model,status_code,"
                      "error_message,input_tokens,output_tokens,cache_creation_input_tokens,"
                      "cache_read_input_tokens,input_cost_usd,output_cost_usd,"
                      "cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,"
                      "actual_total_cost_usd,response_time_ms\n";
    put("a.csv", all);
    append("a.csv", ",,2026-11-21T10:00:00Z,,,,,,,,,,,,,,,,,\n");
    append("a.csv", "\"\",\"\",2026-11-21T10:00:00Z,\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
                    "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n");
    append("a.csv", "x,r,2026-11-21T10:00:00Z,u,k,p,m,500,\" \",1,2,3,4,0.1,0.2,0.3,0.4,1.0,"
                    "0.9,250.5\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 3);
    for (size_t i = 0; i < 2; i++) {
        const tally_usage *u = usage(&in, i);
        assert_true(str_is(u->id, NULL));
        assert_true(str_is(u->request_id, NULL));
        assert_true(str_is(u->user_id, NULL));
        assert_true(str_is(u->api_key_id, NULL));
        assert_true(str_is(u->provider, NULL));
        assert_true(str_is(u->model, NULL));
        assert_true(str_is(u->error_message, NULL));
        assert_false(u->has_status_code);
        assert_false(u->has_response_time);
        assert_int_equal(u->input_tokens + u->output_tokens + u->cache_creation_input_tokens +
                             u->cache_read_input_tokens,
                         0);
        assert_true(u->total_cost_usd == 0 && u->actual_total_cost_usd == 0 &&
                    u->input_cost_usd == 0 && u->output_cost_usd == 0 &&
                    u->cache_creation_cost_usd == 0 && u->cache_read_cost_usd == 0);
    }
    const tally_usage *u = usage(&in, 2);
    assert_true(str_is(u->error_message, " "));
    assert_true(u->has_status_code);
    assert_int_equal(u->status_code, 500);
    assert_int_equal(u->cache_read_input_tokens, 4);
    assert_true(u->has_response_time);
    assert_true(u->response_time_ms == 250 * TALLY_FIXED_ONE + TALLY_FIXED_ONE / 2);
    assert_true(u->actual_total_cost_usd == 9 * TALLY_FIXED_ONE / 10);
    assert_true(str_is(u->api_key_id, "k"));
    assert_true(str_is(u->provider, "p"));
    assert_true(str_is(u->request_id, "r"));
    finish(&in);
}

static void test_big_tokens(void **state)
{
    (void)state;
    put("a.csv", "id,created_at,input_tokens,output_tokens\n"
                 "1,2026-11-21T10:00:00Z,1099511627776,9223372036854775807\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_int_equal(usage(&in, 0)->input_tokens, (int64_t)1 << 40);
    assert_int_equal(usage(&in, 0)->output_tokens, INT64_MAX);
    finish(&in);
}

static void test_locale_decimal_comma(void **state)
{
    (void)state;
    if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL)
        skip();
    put("a.csv", "id,created_at,total_cost_usd,response_time_ms\n"
                 "1,2026-11-21T10:00:00Z,0.25,1.5\n2,2026-11-21T10:00:00Z,\"0,25\",1\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    setlocale(LC_ALL, "C");
    assert_ids(&in, "1");
    /* (Cleared above: check the values through a second read.) */
    assert_int_equal(mock_host_rejected(in.h), 1);
    finish(&in);
    put("b.csv", "id,created_at,total_cost_usd\n1,2026-11-21T10:00:00Z,0.25\n");
    assert_non_null(setlocale(LC_ALL, "de_DE.UTF-8"));
    start(&in, "path = \"%s/b.csv\" stream = \"usage\"", scratch);
    collect(&in);
    setlocale(LC_ALL, "C");
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_true(usage(&in, 0)->total_cost_usd == TALLY_FIXED_ONE / 4);
    finish(&in);
}

/* ---- instants ---- */

static void test_epoch_formats(void **state)
{
    (void)state;
    put("s.csv", "id,created_at\n1,1795316400\n2,1795316400.5\n");
    put("ms.csv", "id,created_at\n1,1795316400123\n");
    inst in;
    start(&in, "path = \"%s/s.csv\" stream = \"usage\" time_format = \"epoch_s\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 2);
    assert_int_equal(usage(&in, 0)->created_ns, 1795316400LL * 1000000000);
    assert_int_equal(usage(&in, 1)->created_ns, 1795316400LL * 1000000000 + 500000000);
    finish(&in);
    start(&in, "path = \"%s/ms.csv\" stream = \"usage\" time_format = \"epoch_ms\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_int_equal(usage(&in, 0)->created_ns, 1795316400123LL * 1000000);
    finish(&in);
}

static void test_naive_utc_and_offset(void **state)
{
    (void)state;
    put("a.csv", "id,created_at\n1,2026-11-21 10:00:00\n2,2026-11-21T10:00:00+01:00\n"
                 "3,2026-11-21T10:00:00.25\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T10:00:00"));
    assert_int_equal(usage(&in, 1)->created_ns, ns_of("2026-11-21T09:00:00"));
    assert_int_equal(usage(&in, 2)->created_ns, ns_of("2026-11-21T10:00:00") + 250000000);
    finish(&in);
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" naive_timezone = \"+08:00\"", scratch);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T02:00:00"));
    /* A zone in the text wins. */
    assert_int_equal(usage(&in, 1)->created_ns, ns_of("2026-11-21T09:00:00"));
    assert_int_equal(usage(&in, 2)->created_ns, ns_of("2026-11-21T02:00:00") + 250000000);
    finish(&in);
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" naive_timezone = \"-0530\"", scratch);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T15:30:00"));
    finish(&in);
}

static void test_naive_business(void **state)
{
    (void)state;
    put("a.csv", "id,created_at\n1,2026-11-21 10:00:00\n2,2026-11-21 10:59:59.5\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" naive_timezone = \"business\"", scratch);
    assert_int_equal(mock_host_set_timezone(in.h, "Asia/Shanghai"), 0);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T02:00:00"));
    assert_int_equal(usage(&in, 1)->created_ns, ns_of("2026-11-21T02:59:59") + 500000000);
    finish(&in);
    /* Around New York's DST changes: the skipped hour moves forward by the
     * gap, the repeated hour is its first occurrence, and the hours next
     * to them keep their own offsets. */
    put("b.csv", "id,created_at\n1,2026-03-08 01:59:59\n2,2026-03-08 02:30:00\n"
                 "3,2026-03-08 03:00:00\n4,2026-11-01 00:59:59\n5,2026-11-01 01:30:00\n"
                 "6,2026-11-01 02:00:00\n7,2026-07-01 12:00:00\n");
    start(&in, "path = \"%s/b.csv\" stream = \"usage\" naive_timezone = \"business\"", scratch);
    assert_int_equal(mock_host_set_timezone(in.h, "America/New_York"), 0);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 7);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-03-08T06:59:59"));
    assert_int_equal(usage(&in, 1)->created_ns, ns_of("2026-03-08T07:30:00"));
    assert_int_equal(usage(&in, 2)->created_ns, ns_of("2026-03-08T07:00:00"));
    assert_int_equal(usage(&in, 3)->created_ns, ns_of("2026-11-01T04:59:59"));
    assert_int_equal(usage(&in, 4)->created_ns, ns_of("2026-11-01T05:30:00"));
    assert_int_equal(usage(&in, 5)->created_ns, ns_of("2026-11-01T07:00:00"));
    assert_int_equal(usage(&in, 6)->created_ns, ns_of("2026-07-01T16:00:00"));
    assert_int_equal(mock_host_set_timezone(in.h, "UTC"), 0);
    finish(&in);
}

/* ---- bad rows ---- */

/* The reject file's lines after its header, as one string. */

static void test_bad_rows(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    append("a.csv", row(1, default_rest));                                 /* line 2 */
    append("a.csv", "2,2026-11-21T10:00:00Z,u,m,1,0.5,x\"y\n");            /* 3: quote */
    append("a.csv", "3,2026-11-21T10:00:00Z,u,m,1\n");                     /* 4: fields */
    append("a.csv", "4,2026-11-21T10:00:00Z,u,m,ten,0.5,\n");              /* 5: integer */
    append("a.csv", "5,yesterday,u,m,1,0.5,\n");                           /* 6: instant */
    append("a.csv", "6,,u,m,1,0.5,\n");                                    /* 7: NULL time */
    append("a.csv", "7,2026-11-21T10:00:00Z,u,m,1,1e999999,\n");           /* 8: decimal */
    append("a.csv", "8,2026-11-21T10:00:00Z,u,m,1,0.5,\"multi\nline\"\n"); /* 9-10 */
    append("a.csv", "9,2026-11-21T10:00:00Z,u\xff,m,1,0.5,\n");            /* 11: UTF-8 */
    append("a.csv", row(10, default_rest));                                /* 12 */
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,8,10");
    assert_int_equal(mock_host_rejected(in.h), 7);
    char *rej = rejects_of("usage");
    char p[PATH_MAX], want[PATH_MAX + 64];
    spath(p, "a.csv");
    const int lines[] = {3, 4, 5, 6, 7, 8, 11};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        snprintf(want, sizeof(want), "\"%s\",%d,\"", p, lines[i]);
        if (strstr(rej, want) == NULL)
            fail_msg("no reject for line %d in:\n%s", lines[i], rej);
    }
    /* The raw row, quoted: its inner quote doubled. */
    assert_non_null(strstr(rej, "\"2,2026-11-21T10:00:00Z,u,m,1,0.5,x\"\"y\"\n"));
    assert_non_null(strstr(rej, "the row has 5 fields, the header 7"));
    assert_non_null(strstr(rej, "column 5 (input_tokens): \"\"ten\"\" is not"));
    assert_non_null(strstr(rej, "column 2 (created_at) is empty"));
    assert_non_null(strstr(rej, "\"9,2026-11-21T10:00:00Z,u\xff,m,1,0.5,\"\n"));
    /* Warnings name the file and line. */
    snprintf(want, sizeof(want), "%s:4:", p);
    assert_non_null(mock_host_log_find(in.h, want));
    struct stat st;
    assert_int_equal(stat(spath(p, "rejects/usage.csv"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(spath(p, "rejects"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(rej);
    /* Nothing is rejected twice. */
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 7);
    finish(&in);
}

/* Negative token counts and costs are bad rows, in the reject file with
 * their reason, unless allow_negative = true. */
static void test_negative_values(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    append("a.csv", row(1, "u,m,9223372036854775807,0.5,"));
    append("a.csv", row(2, "u,m,9223372036854775807,0.5,"));
    append("a.csv", row(3, "u,m,-5,0.5,"));
    append("a.csv", row(4, "u,m,1,-0.5,"));
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    assert_int_equal(mock_host_rejected(in.h), 2);
    char *rej = rejects_of("usage");
    assert_non_null(strstr(rej, "column 5 (input_tokens): \"\"-5\"\" is not 0 or more"));
    assert_non_null(strstr(rej, "column 6 (total_cost_usd): \"\"-0.5\"\" is not 0 or more"));
    free(rej);
    finish(&in);

    put("b.csv", HEADER);
    append("b.csv", row(3, "u,m,-5,-0.5,"));
    start(&in, "path = \"%s/b.csv\" stream = \"usage\" allow_negative = true", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_int_equal(usage(&in, 0)->input_tokens, -5);
    assert_true(usage(&in, 0)->total_cost_usd == -TALLY_FIXED_ONE / 2);
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_reject_log_limited(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    for (int i = 0; i < 25; i++)
        append("a.csv", "x,bad,u,m,1,0.5,\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" reject_file = \"%s/r.csv\"", scratch,
          scratch);
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 25);
    size_t warnings = 0;
    for (size_t i = 0; i < mock_host_log_count(in.h); i++)
        warnings += strstr(mock_host_log_text(in.h, i), "row set aside") != NULL;
    assert_int_equal(warnings, 10);
    assert_non_null(mock_host_log_find(in.h, "25 rows set aside this cycle"));
    char p[PATH_MAX];
    char *rej = slurp(spath(p, "r.csv"));
    assert_non_null(rej);
    size_t n = 0;
    for (char *c = rej; *c; c++)
        n += *c == '\n';
    assert_int_equal(n, 26);
    free(rej);
    finish(&in);
}

/* The reject file stops growing at reject_max_bytes: every row is still
 * counted, those not written are said once a cycle, and the file is
 * never cut mid-row. */
static void test_reject_max_bytes(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    for (int i = 0; i < 25; i++)
        append("a.csv", "x,bad,u,m,1,0.5,\n");
    inst in;
    start(&in,
          "path = \"%s/a.csv\" stream = \"usage\" reject_file = \"%s/r.csv\" "
          "reject_max_bytes = 1000",
          scratch, scratch);
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 25);
    char p[PATH_MAX];
    struct stat st;
    assert_int_equal(stat(spath(p, "r.csv"), &st), 0);
    assert_true(st.st_size <= 1000);
    char *rej = slurp(p);
    size_t lines = 0;
    for (char *c = rej; *c; c++)
        lines += *c == '\n';
    assert_true(lines >= 2 && lines < 26);
    assert_int_equal(rej[strlen(rej) - 1], '\n');
    free(rej);
    char want[64];
    snprintf(want, sizeof(want), "%zu rows set aside this cycle were counted but not", 26 - lines);
    assert_non_null(mock_host_log_find(in.h, want));
    size_t said = 0;
    for (size_t i = 0; i < mock_host_log_count(in.h); i++)
        said +=
            strstr(mock_host_log_text(in.h, i), "reached reject_max_bytes (1000 bytes)") != NULL;
    assert_int_equal(said, 1);
    /* The next cycle: the file is still full; the new rows are counted. */
    mock_host_log_clear(in.h);
    append("a.csv", "x,bad,u,m,1,0.5,\n");
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 26);
    assert_non_null(mock_host_log_find(in.h, "1 rows set aside this cycle were counted but not"));
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size <= 1000);
    finish(&in);

    /* 0 keeps no rows at all. */
    put("b.csv", HEADER "x,bad,u,m,1,0.5,\n");
    start(&in,
          "path = \"%s/b.csv\" stream = \"usage\" reject_file = \"%s/r0.csv\" "
          "reject_max_bytes = 0",
          scratch, scratch);
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 1);
    assert_int_not_equal(stat(spath(p, "r0.csv"), &st), 0);
    finish(&in);
}

static void test_max_field_bytes(void **state)
{
    (void)state;
    /* 24 bytes pass, 25 do not; an escaped quote counts once. */
    put("a.csv", "id,created_at,model\n1,2026-11-21T10:00:00Z,123456789012345678901234\n"
                 "2,2026-11-21T10:00:00Z,1234567890123456789012345\n"
                 "3,2026-11-21T10:00:00Z,\"12345678901\"\"345678901234\"\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\" max_field_bytes = 24", scratch);
    collect(&in);
    assert_ids(&in, "1,3");
    assert_int_equal(mock_host_rejected(in.h), 1);
    finish(&in);
}

static void test_over_long_row(void **state)
{
    (void)state;
    size_t big = 1536 * 1024;
    char *long_field = malloc(big + 1);
    assert_non_null(long_field);
    memset(long_field, 'a', big);
    long_field[big] = '\0';
    put("a.csv", HEADER);
    append("a.csv", row(1, default_rest));
    /* Half of an over-long row now, the rest next cycle: the head is set
     * aside once, the rest skipped, even across a restart. */
    append("a.csv", "2,2026-11-21T10:00:00Z,u,");
    append("a.csv", long_field);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1");
    assert_int_equal(mock_host_rejected(in.h), 1);
    tally_host *h = in.h;
    mock_host_stop(&in);
    append("a.csv", long_field);
    append("a.csv", ",m,1,0.5,\n");
    append("a.csv", row(3, default_rest));
    char *b = body("path = \"%s/a.csv\" stream = \"usage\"", scratch);
    start_on(&in, h, b);
    free(b);
    collect(&in);
    assert_ids(&in, "3");
    assert_int_equal(mock_host_rejected(in.h), 1);
    char *rej = rejects_of("usage");
    /* The head of the row is kept, the reason says why. */
    assert_non_null(strstr(rej, ",\"2,2026-11-21T10:00:00Z,u,aaaa"));
    free(rej);
    finish(&in);
    free(long_field);
}

/* ---- following files ---- */

static void test_append_and_partial_line(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 2);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    collect(&in);
    assert_ids(&in, "");
    rows("a.csv", 3, 3);
    append("a.csv", "4,2026-11-21T10:00:04Z,u1,gpt-");
    collect(&in);
    assert_ids(&in, "3");
    append("a.csv", "4o,10,0.5,\"a\n");
    collect(&in);
    assert_ids(&in, "");
    append("a.csv", "b\"\n");
    collect(&in);
    assert_ids(&in, "4");
    collect(&in);
    assert_ids(&in, "");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_header_arrives_late(void **state)
{
    (void)state;
    put("a.csv", "id,created");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "");
    assert_null(mock_host_log_find(in.h, "created_at"));
    append("a.csv", "_at\n1,2026-11-21T10:00:00Z\n");
    collect(&in);
    assert_ids(&in, "1");
    finish(&in);
}

static void test_new_files(void **state)
{
    (void)state;
    put("usage-1.csv", HEADER);
    rows("usage-1.csv", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage-*.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    put("usage-2.csv", HEADER);
    rows("usage-2.csv", 3, 4);
    put("other.csv", HEADER);
    rows("other.csv", 99, 99);
    collect(&in);
    assert_ids(&in, "3,4");
    rows("usage-1.csv", 5, 5);
    rows("usage-2.csv", 6, 6);
    collect(&in);
    assert_ids(&in, "5,6");
    finish(&in);
}

static void test_oldest_first(void **state)
{
    (void)state;
    put("b.csv", HEADER);
    rows("b.csv", 1, 1);
    put("a.csv", HEADER);
    rows("a.csv", 2, 2);
    char p[PATH_MAX];
    struct timespec old[2] = {{1000, 0}, {1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, spath(p, "b.csv"), old, 0), 0);
    inst in;
    start(&in, "path = \"%s/*.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    finish(&in);
}

static void test_rename_rotation(void **state)
{
    (void)state;
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage.csv*\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    /* Written just before the rename; the new file starts after it. */
    rows("usage.csv", 3, 3);
    rename_leaf("usage.csv", "usage.csv.1");
    put("usage.csv", HEADER);
    rows("usage.csv", 4, 4);
    collect(&in);
    assert_id_set(&in, "3,4");
    /* The old file goes on being written until the writer reopens. */
    rows("usage.csv.1", 5, 5);
    collect(&in);
    assert_ids(&in, "5");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
}

static void test_rename_out_of_glob(void **state)
{
    (void)state;
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 2);
    append("usage.csv", "3,2026-11-21T10:00:03Z,u1,m,1,0.5,"); /* no LF yet */
    inst in;
    start(&in, "path = \"%s/usage.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    rename_leaf("usage.csv", "usage.old");
    /* Renamed away: read to its end, its last line without LF included. */
    collect(&in);
    assert_ids(&in, "3");
    put("usage.csv", HEADER);
    rows("usage.csv", 4, 4);
    collect(&in);
    assert_ids(&in, "4");
    collect(&in);
    assert_ids(&in, "");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_copytruncate(void **state)
{
    (void)state;
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage.csv*\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    /* The tail, written before the copy: read once, from the copy. */
    rows("usage.csv", 3, 4);
    copy_file("usage.csv", "usage.csv.1");
    truncate_leaf("usage.csv");
    /* The writer goes on in the truncated file, without a header. */
    rows("usage.csv", 5, 5);
    collect(&in);
    assert_id_set(&in, "3,4,5");
    rows("usage.csv", 6, 6);
    collect(&in);
    assert_ids(&in, "6");
    assert_int_equal(mock_host_rejected(in.h), 0);
    /* A second rotation, the copy found while the original still has its
     * content, is the same. */
    rows("usage.csv", 7, 7);
    rename_leaf("usage.csv.1", "usage.csv.2");
    copy_file("usage.csv", "usage.csv.1");
    collect(&in);
    assert_ids(&in, "7");
    truncate_leaf("usage.csv");
    put("usage.csv", HEADER);
    rows("usage.csv", 8, 8);
    collect(&in);
    assert_ids(&in, "8");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
}

/* A file cut in place below what was read (same inode, its first 4 KiB
 * unchanged) is no new content: nothing is read twice, the cut is said
 * once, and reading goes on beyond the old end. (copytruncate, which
 * empties the file first, is test_copytruncate.) */
static void test_cut_in_place(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 200);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 200);
    take_ids(&in);
    cut_after_lines("a.csv", 101); /* the header and rows 1..100, over 4 KiB */
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    mock_host_log_clear(in.h);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_null(mock_host_log_find(in.h, "cut in place"));
    /* The writer goes on: what lies beyond the old end is read. */
    rows("a.csv", 101, 203);
    collect(&in);
    assert_ids(&in, "201,202,203");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* Issue 11 item 5 as reported: 100 rows cut in place to their first 50,
 * within the file's first 4 KiB. The total stays 100, the cut is said
 * once (a writer appending below the old end is no new cut), and rows
 * beyond the old end are read. */
static void test_cut_in_first_4k(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 100);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 100);
    take_ids(&in);
    cut_after_lines("a.csv", 51); /* the header and rows 1..50: about 2 KiB */
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    assert_null(mock_host_log_find(in.h, "no longer holds what was read"));
    mock_host_log_clear(in.h);
    rows("a.csv", 51, 60);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_null(mock_host_log_find(in.h, "cut in place"));
    assert_null(mock_host_log_find(in.h, "no longer holds what was read"));
    rows("a.csv", 61, 103);
    collect(&in);
    assert_ids(&in, "101,102,103");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* copytruncate of a small file: emptied, then a header and new rows. The
 * header and the start of a row are what the old content began with too,
 * but the first row is not: new content, read from its start. */
static void test_copytruncate_small(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 20);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 20);
    take_ids(&in);
    truncate_leaf("a.csv");
    put("a.csv", HEADER);
    rows("a.csv", 21, 21);
    collect(&in);
    assert_ids(&in, "21");
    assert_null(mock_host_log_find(in.h, "cut in place"));
    rows("a.csv", 22, 23);
    collect(&in);
    assert_ids(&in, "22,23");
    /* Emptied and given a header and part of a row: the start it shares
     * with the old content ends within the header, which proves nothing. */
    truncate_leaf("a.csv");
    put("a.csv", HEADER "24,2026-11-21T1");
    collect(&in);
    assert_ids(&in, "");
    assert_null(mock_host_log_find(in.h, "cut in place"));
    append("a.csv", "0:00:24Z,u1,gpt-4o,10,0.5,\n");
    collect(&in);
    assert_ids(&in, "24");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* Cut right after the header and its first row: a cut (row 1 is not read
 * again). Cut right after the header: nothing tells it from copytruncate
 * followed by a header, so it is new content; it holds no row read
 * before, and the rows written after it are read. */
static void test_cut_after_header(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 30);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 30);
    take_ids(&in);
    cut_after_lines("a.csv", 2);
    collect(&in);
    assert_ids(&in, "");
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    mock_host_log_clear(in.h);
    cut_after_lines("a.csv", 1);
    collect(&in);
    assert_ids(&in, "");
    assert_null(mock_host_log_find(in.h, "cut in place"));
    assert_non_null(mock_host_log_find(in.h, "no longer holds what was read"));
    rows("a.csv", 31, 32);
    collect(&in);
    assert_ids(&in, "31,32");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_gzip(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof(text), "%s%s%s", HEADER, row(1, default_rest), row(2, default_rest));
    put_gz("old.csv.gz", text);
    inst in;
    start(&in, "path = \"%s/*.csv*\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
    /* A file rotated and compressed goes on where it stopped. */
    unlink(spath(text, "old.csv.gz"));
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 40);
    start(&in, "path = \"%s/usage.csv*\" stream = \"usage\"", scratch);
    collect(&in);
    mock_host_records_clear(in.h);
    rows("usage.csv", 41, 42);
    char p[PATH_MAX];
    char *all = slurp(spath(p, "usage.csv"));
    put_gz("usage.csv.1.gz", all);
    free(all);
    unlink(spath(p, "usage.csv"));
    collect(&in);
    assert_ids(&in, "41,42");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
}

static void test_gzip_being_written(void **state)
{
    (void)state;
    /* A gzip file cut short (still being written): the rows that are
     * whole are read, the rest when it is complete. */
    char text[16384] = HEADER;
    for (int i = 1; i <= 200; i++)
        strcat(text, row(i, default_rest));
    char p[PATH_MAX];
    put_gz("full.gz", text);
    char *gz = slurp(spath(p, "full.gz"));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    unlink(p);
    write_at("part.csv.gz", "wb", gz, (size_t)st.st_size - 12);
    inst in;
    start(&in, "path = \"%s/*.csv.gz\" stream = \"usage\"", scratch);
    collect(&in);
    size_t first = mock_host_record_count(in.h);
    mock_host_records_clear(in.h);
    assert_true(first > 0 && first < 200);
    write_at("part.csv.gz", "wb", gz, (size_t)st.st_size);
    collect(&in);
    assert_int_equal(first + mock_host_record_count(in.h), 200);
    assert_int_equal(mock_host_rejected(in.h), 0);
    free(gz);
    finish(&in);
}

/* ---- checkpoints ---- */

static void test_restart_mid_file(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 3);
    append("a.csv", "4,2026-11-21T10:00:04Z,u1,m,1,");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2,3");
    tally_host *h = in.h;
    mock_host_stop(&in);
    append("a.csv", "0.5,\n");
    rows("a.csv", 5, 6);
    char *b = body("path = \"%s/a.csv\" stream = \"usage\"", scratch);
    start_on(&in, h, b);
    free(b);
    collect(&in);
    assert_ids(&in, "4,5,6");
    const char *cp = mock_host_state(in.h, "files");
    assert_non_null(cp);
    assert_non_null(strstr(cp, "\"offset\":"));
    assert_non_null(strstr(cp, "\"fp\":"));
    finish(&in);
}

static void test_rollback(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 3);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2,3");
    char *before = strdup(mock_host_state(in.h, "files"));
    rows("a.csv", 4, 5);
    append("a.csv", "6,bad,u,m,1,0.5,\n");
    collect(&in);
    assert_ids(&in, "4,5");
    assert_int_equal(mock_host_rejected(in.h), 1);
    /* The agent rolled that cycle back: its checkpoint never was. */
    assert_int_equal(mock_host_state_put(in.h, "files", before), 0);
    mock_host_rejected_clear(in.h);
    collect(&in);
    assert_ids(&in, "4,5");
    assert_int_equal(mock_host_rejected(in.h), 1);
    collect(&in);
    assert_ids(&in, "");
    free(before);
    finish(&in);
}

static void test_rollback_after_rename(void **state)
{
    (void)state;
    put("usage.csv", HEADER);
    rows("usage.csv", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    rows("usage.csv", 3, 3);
    rename_leaf("usage.csv", "gone.csv");
    char *before = strdup(mock_host_state(in.h, "files"));
    collect(&in);
    assert_ids(&in, "3");
    assert_int_equal(mock_host_state_put(in.h, "files", before), 0);
    collect(&in);
    assert_ids(&in, "3");
    collect(&in);
    assert_ids(&in, "");
    free(before);
    finish(&in);
}

static void test_forget_gone_files(void **state)
{
    (void)state;
    put("usage-1.csv", HEADER);
    rows("usage-1.csv", 1, 1);
    inst in;
    start(&in, "path = \"%s/usage-*.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1");
    char p[PATH_MAX];
    unlink(spath(p, "usage-1.csv"));
    put("usage-2.csv", HEADER);
    collect(&in);
    assert_non_null(strstr(mock_host_state(in.h, "files"), "usage-1.csv"));
    /* Gone for a week and a day: forgotten. */
    mock_host_set_now(in.h, 1795316400 + 8 * 86400);
    collect(&in);
    assert_null(strstr(mock_host_state(in.h, "files"), "usage-1.csv"));
    assert_non_null(strstr(mock_host_state(in.h, "files"), "usage-2.csv"));
    finish(&in);
}

static void test_bad_checkpoint(void **state)
{
    (void)state;
    put("a.csv", HEADER);
    rows("a.csv", 1, 1);
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    assert_int_equal(mock_host_state_put(in.h, "files", "{nonsense"), 0);
    assert_int_equal(plugin->source.collect(in.ctx), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(in.h, "checkpoint"));
    assert_ids(&in, "");
    finish(&in);
}

/* A file written in chunks cut anywhere (inside rows, quotes, CRLFs),
 * collected between chunks, with restarts, cycles rolled back and files
 * rotated by rename at random: every row arrives exactly once. (In order
 * within a file; across a rotation the file system's mtime tick may make
 * the old and the new file look equally old, so the order is not
 * compared.) */
static void count_ids(const char *ids, int *seen, int max)
{
    for (const char *p = ids; *p;) {
        char *end;
        long id = strtol(p, &end, 10);
        assert_true(end > p && id >= 1 && id <= max);
        seen[id]++;
        p = *end == ',' ? end + 1 : end;
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* What the random test does, on stderr with TALLY_TEST_VERBOSE=1. */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    if (getenv("TALLY_TEST_VERBOSE") == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* One cycle of the random test: collect, then maybe roll it back. */
static void random_cycle(inst *in, int *seen, int max, int *rollbacks)
{
    const char *cp = mock_host_state(in->h, "files");
    char *before = cp ? strdup(cp) : NULL;
    collect(in);
    char *ids = take_ids(in);
    if (before != NULL && rng(5) == 0) {
        /* Rolled back: the records and the checkpoint never were. */
        assert_int_equal(mock_host_state_put(in->h, "files", before), 0);
        (*rollbacks)++;
        trace("cycle rolled back (%s)\n", ids);
    } else {
        trace("cycle (%s)\n", ids);
        count_ids(ids, seen, max);
    }
    free(before);
}

static void test_random_chunks(void **state)
{
    (void)state;
    enum { ROWS = 600 };
    /* TALLY_CSV_SEED=n replays another run. */
    if (getenv("TALLY_CSV_SEED"))
        rng_state = strtoull(getenv("TALLY_CSV_SEED"), NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    char *text = NULL;
    size_t text_len = 0;
    FILE *m = open_memstream(&text, &text_len);
    for (int i = 1; i <= ROWS; i++) {
        static const char *const msgs[] = {"", "\"a,b\"", "\"x\ny\"", "\"q\"\"q\"", " "};
        fprintf(m, "%d,2026-11-21T10:00:00Z,u%d,m,%d,0.5,%s%s", i, i % 7, i, msgs[rng(5)],
                rng(4) == 0 ? "\r\n" : "\n");
    }
    fclose(m);
    put("r.csv", HEADER);
    inst in;
    char *b = body("path = \"%s/r.csv*\" stream = \"usage\"", scratch);
    start(&in, "%s", b);
    int seen[ROWS + 1] = {0};
    size_t at = 0;
    int renames = 0, truncations = 0, compressions = 0, rollbacks = 0, restarts = 0, rotated = 0;
    while (at < text_len) {
        size_t n = 1 + rng(180);
        if (n > text_len - at)
            n = text_len - at;
        write_at("r.csv", "ab", text + at, n);
        at += n;
        random_cycle(&in, seen, ROWS, &rollbacks);
        if (rng(8) == 0) {
            tally_host *h = in.h;
            mock_host_stop(&in);
            start_on(&in, h, b);
            restarts++;
        }
        if (rng(10) != 0)
            continue;
        /* Rotation. A writer reopens between rows: the row it was
         * writing ends in the old file, the next starts in the new one. */
        size_t end = at;
        int in_quotes = 0;
        for (size_t k = 0; k < at; k++)
            in_quotes ^= text[k] == '"';
        while (end < text_len && (in_quotes || text[end] != '\n'))
            in_quotes ^= text[end++] == '"';
        if (end < text_len)
            end++;
        char leaf[32];
        snprintf(leaf, sizeof(leaf), "r.csv.%d", ++rotated);
        int kind = (int)rng(3);
        trace("rotation %d: %s\n", rotated,
              kind == 0   ? "rename"
              : kind == 1 ? "compress"
                          : "copytruncate");
        if (kind == 0) {
            rename_leaf("r.csv", leaf);
            write_at(leaf, "ab", text + at, end - at);
            put("r.csv", HEADER);
            renames++;
        } else if (kind == 1) {
            /* Renamed, then compressed (cycles may see the gzip half
             * written, and both files), then the original removed. */
            rename_leaf("r.csv", leaf);
            write_at(leaf, "ab", text + at, end - at);
            put("r.csv", HEADER);
            char p[PATH_MAX], gzleaf[40];
            snprintf(gzleaf, sizeof(gzleaf), "%s.gz", leaf);
            char *all = slurp(spath(p, leaf));
            assert_non_null(all);
            if (rng(2) == 0)
                random_cycle(&in, seen, ROWS, &rollbacks);
            put_gz(gzleaf, all);
            if (rng(2) == 0) {
                char *gz = slurp(spath(p, gzleaf));
                struct stat st;
                assert_int_equal(stat(p, &st), 0);
                write_at(gzleaf, "wb", gz, (size_t)st.st_size / 2);
                random_cycle(&in, seen, ROWS, &rollbacks);
                free(gz);
                put_gz(gzleaf, all);
            }
            if (rng(2) == 0)
                random_cycle(&in, seen, ROWS, &rollbacks);
            free(all);
            unlink(spath(p, leaf));
            compressions++;
        } else {
            /* copytruncate; a cycle may fall between copy and truncate. */
            write_at("r.csv", "ab", text + at, end - at);
            copy_file("r.csv", leaf);
            if (rng(2) == 0)
                random_cycle(&in, seen, ROWS, &rollbacks);
            truncate_leaf("r.csv");
            truncations++;
        }
        at = end;
    }
    for (int k = 0; k < 3; k++) {
        collect(&in);
        count_ids(take_ids(&in), seen, ROWS);
    }
    for (int i = 1; i <= ROWS; i++)
        if (seen[i] != 1)
            fail_msg("row %d arrived %d times", i, seen[i]);
    assert_int_equal(mock_host_rejected(in.h), 0);
    print_message("random chunks: %d renames, %d compressed, %d copytruncates, %d rollbacks, "
                  "%d restarts\n",
                  renames, compressions, truncations, rollbacks, restarts);
    free(text);
    free(b);
    finish(&in);
}

/* ---- recompute ---- */

static void test_recompute(void **state)
{
    (void)state;
    put("a.csv", "id,created_at\n1,2026-11-20T10:00:00Z\nbad,x\n2,2026-11-21T10:00:00Z\n"
                 "3,2026-11-22T10:00:00Z\n");
    inst in;
    start(&in, "path = \"%s/a.csv\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2,3");
    assert_int_equal(mock_host_rejected(in.h), 1);
    append("a.csv", "4,2026-11-21T11:00:00Z\n");
    char *before = strdup(mock_host_state(in.h, "files"));
    int64_t from = ns_of("2026-11-21T00:00:00") / 1000000000;
    assert_int_equal(plugin->source.recompute(in.ctx, from, from + 86400), TALLY_HOST_OK);
    /* Only what was consumed, nothing rejected again, checkpoint as it was. */
    assert_ids(&in, "2");
    assert_int_equal(mock_host_rejected(in.h), 1);
    assert_string_equal(mock_host_state(in.h, "files"), before);
    free(before);
    collect(&in);
    assert_ids(&in, "4");
    finish(&in);
}

/* ---- inventories ---- */

static void test_inventory(void **state)
{
    (void)state;
    put("users.csv", "id,is_active,email\n1,true,a\n2,false,b\n3,maybe,c\n");
    inst in;
    start(&in, "path = \"%s/users*.csv\" stream = \"users\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_int_equal(mock_host_inventory_at(in.h, 0)->phase, TALLY_INVENTORY_BEGIN);
    assert_int_equal(mock_host_inventory_at(in.h, 0)->stream, TALLY_STREAM_USERS);
    assert_int_equal(mock_host_inventory_at(in.h, 1)->phase, TALLY_INVENTORY_END);
    assert_int_equal(mock_host_inventory_at(in.h, 1)->at_record, 2);
    const tally_record *r = mock_host_record_at(in.h, 1);
    assert_int_equal(r->stream, TALLY_STREAM_USERS);
    assert_false(r->u.item.is_active);
    assert_ids(&in, "1,2");
    assert_int_equal(mock_host_rejected(in.h), 1);
    /* Unchanged: nothing sent. */
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 0);
    assert_ids(&in, "");
    /* Changed: all of it again, its old bad row not counted again. */
    append("users.csv", "4,true,d\n");
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_ids(&in, "1,2,4");
    assert_int_equal(mock_host_rejected(in.h), 1);
    /* A second file joins: both are sent. */
    put("users2.csv", "is_active,id\ntrue,9\n");
    collect(&in);
    assert_ids(&in, "1,2,4,9");
    finish(&in);
}

static void test_inventory_edges(void **state)
{
    (void)state;
    inst in;
    start(&in, "path = \"%s/users.csv\" stream = \"users\"", scratch);
    /* No file: said once, nothing sent. */
    collect(&in);
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 0);
    size_t said = 0;
    for (size_t i = 0; i < mock_host_log_count(in.h); i++)
        said += strstr(mock_host_log_text(in.h, i), "no file matches") != NULL;
    assert_int_equal(said, 1);
    /* An export without a line end after its last item: the file is
     * whole, so the item counts. */
    put("users.csv", "id,is_active\n1,true\n2,false");
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_ids(&in, "1,2");
    /* Replaced by a new file (a new inode, as an export that renames). */
    put("users.new", "id,is_active\n1,true\n");
    rename_leaf("users.new", "users.csv");
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_ids(&in, "1");
    finish(&in);
}

static void test_inventory_api_keys(void **state)
{
    (void)state;
    put("keys.csv", "id,user_id,is_active\nk1,u1,true\nk2,,false\n");
    inst in;
    start(&in, "path = \"%s/keys.csv\" stream = \"api_keys\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 2);
    const tally_record *r = mock_host_record_at(in.h, 0);
    assert_int_equal(r->stream, TALLY_STREAM_API_KEYS);
    assert_true(str_is(r->u.item.user_id, "u1"));
    assert_true(r->u.item.is_active);
    assert_true(str_is(mock_host_record_at(in.h, 1)->u.item.user_id, NULL));
    mock_host_records_clear(in.h);
    /* A broken header: the inventory is not sent at all. */
    put("keys.csv", "key,user_id,is_active\nk1,u1,true\n");
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "'id'"));
    finish(&in);
}

/* ---- options ---- */


static void test_check_errors(void **state)
{
    (void)state;
    check_fails("path = \"/x\" stream = \"usage2\"", 3, "option 'stream' = \"usage2\"");
    check_fails("path = \"/x\"", 4, "option 'stream' is required");
    check_fails("stream = \"usage\"", 5, "option 'path' is required");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"created_at\"}", 6,
                "\"field=header\"");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"when=ts\"}", 7,
                "when is not a field of stream usage");
    check_fails("path = \"/x\" stream = \"users\" columns = {\"model=m\"}", 8,
                "model is not a field of stream users");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"model=a\", \"model=b\"}", 9,
                "renames model twice");
    check_fails("path = \"/x\" stream = \"usage\" naive_timezone = \"Asia/Shanghai\"", 10,
                "option 'naive_timezone'");
    check_fails("path = \"/x\" stream = \"usage\" naive_timezone = \"+25:00\"", 11,
                "option 'naive_timezone'");
    check_fails("path = \"/x\" stream = \"usage\" naive_timezone = \"+08:\"", 12,
                "option 'naive_timezone'");
    check_fails("path = \"/x\" stream = \"usage\" time_format = \"rfc2822\"", 13,
                "option 'time_format'");
    check_fails("path = \"/x\" stream = \"usage\" max_field_bytes = 0", 14,
                "option 'max_field_bytes'");
    check_fails("path = \"/x\" stream = \"usage\" reject_file = \"rel.csv\"", 15,
                "option 'reject_file'");
    check_fails("path = \"/x\" stream = \"usage\" reject_max_bytes = -1", 16,
                "option 'reject_max_bytes' = -1");
    /* Unknown options are libconfuse's to refuse. */
    assert_null(mock_host_section(plugin, "t", "path = \"/x\" stream = \"usage\" bogus = 1"));
    /* All good. */
    cfg_t *sec = mock_host_section(plugin, "t",
                                   "path = \"/x\" stream = \"candidates\" columns = "
                                   "{\"status=state\"} naive_timezone = \"-03:30\" "
                                   "time_format = \"epoch_ms\"");
    assert_non_null(sec);
    tally_host *h = mock_host_new();
    assert_int_equal(mock_host_check(plugin, h, sec), TALLY_HOST_OK);
    assert_int_equal(mock_host_log_count(h), 0);
    mock_host_free(h);
    mock_host_section_free(sec);
}

/* ---- speed (printed, not asserted) ---- */

static void test_speed(void **state)
{
    (void)state;
    const char *env = getenv("TALLY_CSV_SPEED_ROWS");
    if (env == NULL)
        skip();
    long n = atol(env);
    char p[PATH_MAX];
    FILE *f = fopen(spath(p, "big.csv"), "wb");
    assert_non_null(f);
    fputs("id,request_id,created_at,user_id,api_key_id,provider,model,status_code,"
          "error_message,input_tokens,output_tokens,cache_creation_input_tokens,"
          "cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,"
          "cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms\n",
          f);
    for (long i = 0; i < n; i++)
        fprintf(f,
                "%ld,req-%08ld,2026-11-%02ldT%02ld:%02ld:%02ld.%03ldZ,user-%ld,key-%ld,openai,"
                "gpt-4o-mini,%d,%s,%ld,%ld,0,%ld,0.000150,0.000600,0,0.0000375,0.00075,0.0007,"
                "%ld.%ld\n",
                i, i, 1 + i % 28, i % 24, i % 60, (i / 7) % 60, i % 1000, i % 5000, i % 9000,
                i % 13 ? 200 : 500, i % 13 ? "" : "\"upstream, timeout\"", 100 + i % 4000,
                50 + i % 900, i % 300, 100 + i % 3000, i % 10);
    assert_int_equal(fclose(f), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    inst in;
    start(&in, "path = \"%s/big.csv\" stream = \"usage\"", scratch);
    mock_host_keep_records(in.h, false);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    collect(&in);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(mock_host_records_total(in.h), (uint64_t)n);
    printf("csv source: %ld rows, %.1f MiB in %.3f s: %.0f rows/s, %.0f MiB/s (%zu emit calls)\n",
           n, (double)st.st_size / 1048576.0, s, (double)n / s, (double)st.st_size / 1048576.0 / s,
           mock_host_emit_calls(in.h));
    finish(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quoted_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_order_and_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_order_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_spaces_and_shared_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_columns_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_candidates_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locale_decimal_comma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_naive_utc_and_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_naive_business, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_log_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_max_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_field_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_over_long_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_and_partial_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_arrives_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_out_of_glob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_in_first_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_after_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_being_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_after_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_gone_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recompute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory_api_keys, setup, teardown),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test_setup_teardown(test_reports_bytes_and_lag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_speed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
