/*
 * test_jsonl_source.c — the jsonl source, as the agent drives it: the
 * built jsonl.so loaded by the mock host, configured from a section
 * string, reading real JSON-lines files in a scratch directory. What the
 * lines become (keys, dotted keys, renames, NULLs, numbers as strings,
 * exact tokens and costs, instants in every zone mode), what happens to
 * bad lines (each reason in the reject file, the count, the lines after
 * them), following files (append, a partial last line, globs, rename and
 * copytruncate rotation, gzip), checkpoints (a restart mid-file, a
 * rolled-back cycle), inventories, and every check() error.
 */
#include "source_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A usage line: id, created_at from the id, then the rest of the object. */
static const char *line(int id, const char *rest)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 512, "{\"id\":\"%d\",\"created_at\":\"2026-11-21T10:00:%02dZ\"%s%s}\n", id,
             id % 60, *rest ? "," : "", rest);
    return b;
}

static void lines(const char *leaf, int from, int to)
{
    for (int i = from; i <= to; i++)
        append(leaf, line(i, "\"user_id\":\"u1\",\"input_tokens\":10,\"total_cost_usd\":0.5"));
}

static int group_setup(void **state)
{
    (void)state;
    return source_test_load("jsonl");
}

/* ---- lines to records ---- */

static void test_fields_and_exact_values(void **state)
{
    (void)state;
    append("a.jsonl", "{\"id\":\"r1\",\"request_id\":\"q1\",\"created_at\":\"2026-11-21T10:00:00Z\","
                      "\"user_id\":\"u1\",\"api_key_id\":\"k1\",\"provider\":\"openai\",\"model\":"
                      "\"gpt-4o\",\"status_code\":200,\"input_tokens\":1099511627776,"
                      "\"output_tokens\":\"7\",\"total_cost_usd\":0.000000000000000001,"
                      "\"input_cost_usd\":\"123456.123456789012345678\",\"response_time_ms\":"
                      "12.5,\"error_message\":null,\"extra\":{\"x\":[1]}}\n");
    /* NULLs: null, "", and keys not there. */
    append("a.jsonl", "{\"id\":\"r2\",\"created_at\":\"2026-11-21T10:00:01Z\",\"model\":null,"
                      "\"user_id\":\"\"}\n");
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 2);
    const tally_usage *u = usage(&in, 0);
    assert_true(str_is(u->id, "r1") && str_is(u->request_id, "q1") && str_is(u->user_id, "u1"));
    assert_true(str_is(u->api_key_id, "k1") && str_is(u->provider, "openai"));
    assert_true(str_is(u->model, "gpt-4o") && str_is(u->error_message, NULL));
    assert_int_equal(u->created_ns, ns_of("2026-11-21T10:00:00"));
    assert_true(u->has_status_code);
    assert_int_equal(u->status_code, 200);
    assert_int_equal(u->input_tokens, INT64_C(1) << 40);
    assert_int_equal(u->output_tokens, 7);
    assert_true(u->total_cost_usd == 1);
    assert_true(u->input_cost_usd == (tally_fixed)123456 * TALLY_FIXED_ONE + 123456789012345678);
    assert_true(u->has_response_time);
    assert_true(u->response_time_ms == (tally_fixed)25 * TALLY_FIXED_ONE / 2);
    u = usage(&in, 1);
    assert_true(str_is(u->model, NULL) && str_is(u->user_id, NULL) && str_is(u->provider, NULL));
    assert_false(u->has_status_code);
    assert_false(u->has_response_time);
    assert_int_equal(u->input_tokens, 0);
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_columns_and_dotted_keys(void **state)
{
    (void)state;
    /* An LLM gateway's request log. */
    append("gw.jsonl", "{\"ts\":1732183200,\"request\":{\"id\":\"req-1\",\"model\":\"claude\"},"
                       "\"user\":\"alice\",\"usage\":{\"input_tokens\":120,\"output_tokens\":"
                       "\"30\"},\"cost\":{\"total\":\"0.0021\"},\"usage.input_tokens\":1}\n");
    inst in;
    start(&in,
          "path = \"%s/gw.jsonl\" stream = \"usage\" time_format = \"epoch_s\" columns = "
          "{\"created_at=ts\", \"id=request.id\", \"model=request.model\", \"user_id=user\", "
          "\"output_tokens=usage.output_tokens\", \"total_cost_usd=cost.total\", "
          "\"input_tokens=usage.input_tokens\"}",
          scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    const tally_usage *u = usage(&in, 0);
    assert_true(str_is(u->id, "req-1") && str_is(u->model, "claude") && str_is(u->user_id, "alice"));
    assert_int_equal(u->created_ns, INT64_C(1732183200) * 1000000000);
    /* A key with the dots in it comes before the nested one. */
    assert_int_equal(u->input_tokens, 1);
    assert_int_equal(u->output_tokens, 30);
    assert_true(u->total_cost_usd == (tally_fixed)21 * (TALLY_FIXED_ONE / 10000));
    finish(&in);
}

static void test_epoch_and_naive_zones(void **state)
{
    (void)state;
    put("ms.jsonl", "{\"created_at\":1732183200123}\n{\"created_at\":\"1732183200.5e3\"}\n");
    inst in;
    start(&in, "path = \"%s/ms.jsonl\" stream = \"usage\" time_format = \"epoch_ms\"", scratch);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, INT64_C(1732183200123) * 1000000);
    assert_int_equal(usage(&in, 1)->created_ns, INT64_C(1732183200500) * 1000000);
    finish(&in);
    const char *naive = "{\"created_at\":\"2026-11-21T10:00:00\"}\n";
    put("n.jsonl", naive);
    start(&in, "path = \"%s/n.jsonl\" stream = \"usage\" naive_timezone = \"+08:00\"", scratch);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T02:00:00"));
    finish(&in);
    tally_host *h = mock_host_new();
    mock_host_set_state_dir(h, scratch);
    assert_int_equal(mock_host_set_timezone(h, "America/New_York"), 0);
    char *b = body("path = \"%s/n.jsonl\" stream = \"usage\" naive_timezone = \"business\"", scratch);
    start_on(&in, h, b);
    free(b);
    collect(&in);
    assert_int_equal(usage(&in, 0)->created_ns, ns_of("2026-11-21T15:00:00"));
    finish(&in);
    /* The zone is the process's: back to UTC for the tests after this. */
    h = mock_host_new();
    assert_int_equal(mock_host_set_timezone(h, "UTC"), 0);
    mock_host_free(h);
}

/* ---- bad lines ---- */

static void test_bad_lines(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 1);                                                     /* line 1 */
    append("a.jsonl", "not json at all\n");                                     /* 2 */
    append("a.jsonl", "[1]\n");                                                 /* 3 */
    append("a.jsonl", "3\n");                                                   /* 4 */
    append("a.jsonl", line(5, "\"input_tokens\":{\"n\":1}"));                   /* 5 */
    append("a.jsonl", "{\"id\":\"6\",\"created_at\":\"yesterday\"}\n");         /* 6 */
    append("a.jsonl", "{\"id\":\"7\",\"model\":\"m\"}\n");                      /* 7 */
    char big[400];
    memset(big, 'x', sizeof(big));
    snprintf(big, sizeof(big), "%s", line(8, ""));
    big[strlen(big) - 2] = '\0';
    char over[600];
    snprintf(over, sizeof(over), "%.*s,\"model\":\"%0300d\"}\n", (int)strlen(big), big, 0);
    append("a.jsonl", over);                                                    /* 8 */
    append("a.jsonl", line(9, "\"total_cost_usd\":\"0.1.2\""));                 /* 9 */
    append("a.jsonl", "\n  \n");                                                /* 10, 11: blank */
    lines("a.jsonl", 12, 12);                                                   /* 12 */
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\" max_line_bytes = 256", scratch);
    collect(&in);
    assert_ids(&in, "1,12");
    assert_int_equal(mock_host_rejected(in.h), 8);
    char *rej = rejects_of("usage");
    char p[PATH_MAX], want[PATH_MAX + 64];
    spath(p, "a.jsonl");
    const struct {
        int line;
        const char *reason;
    } bad[] = {
        {2, "not JSON: "},
        {3, "not a JSON object but an array"},
        {4, "not a JSON object but a number"},
        {5, "input_tokens: an object where a number is expected"},
        {6, "created_at: \"\"yesterday\"\" is not an ISO 8601 time"},
        {7, "created_at: missing; stream usage requires it"},
        {8, "the line is 357 bytes long, more than max_line_bytes (256)"},
        {9, "total_cost_usd: \"\"0.1.2\"\" is not a decimal number"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(want, sizeof(want), "\"%s\",%d,\"%s", p, bad[i].line, bad[i].reason);
        if (strstr(rej, want) == NULL)
            fail_msg("no reject \"%s\" in:\n%s", want, rej);
    }
    /* The line itself, quoted as CSV. */
    assert_non_null(strstr(rej, ",\"[1]\"\n"));
    assert_non_null(strstr(rej, ",\"{\"\"id\"\":\"\"7\"\",\"\"model\"\":\"\"m\"\"}\"\n"));
    free(rej);
    /* Nothing is rejected twice. */
    collect(&in);
    assert_int_equal(mock_host_rejected(in.h), 8);
    finish(&in);
}

static void test_endless_line(void **state)
{
    (void)state;
    /* A line longer than the limit with no end in sight is set aside at
     * once, and its rest skipped as it arrives, across a restart too. */
    lines("a.jsonl", 1, 1);
    char chunk[1001];
    memset(chunk, 'y', 1000);
    chunk[1000] = '\0';
    append("a.jsonl", "{\"id\":\"");
    append("a.jsonl", chunk);
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\" max_line_bytes = 100", scratch);
    collect(&in);
    assert_ids(&in, "1");
    assert_int_equal(mock_host_rejected(in.h), 1);
    tally_host *h = in.h;
    mock_host_stop(&in);
    append("a.jsonl", chunk);
    append("a.jsonl", "\"}\n");
    lines("a.jsonl", 3, 3);
    char *b = body("path = \"%s/a.jsonl\" stream = \"usage\" max_line_bytes = 100", scratch);
    start_on(&in, h, b);
    free(b);
    collect(&in);
    assert_ids(&in, "3");
    assert_int_equal(mock_host_rejected(in.h), 1);
    char *rej = rejects_of("usage");
    assert_non_null(strstr(rej, ",2,\"the line is longer than max_line_bytes (100)\""));
    free(rej);
    finish(&in);
}

/* ---- following files ---- */

static void test_append_and_partial_line(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 2);
    append("a.jsonl", "{\"id\":\"3\",\"created_at\":\"2026-11-21");
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    collect(&in);
    assert_ids(&in, "");
    append("a.jsonl", "T10:00:03Z\"}\n");
    lines("a.jsonl", 4, 4);
    collect(&in);
    assert_ids(&in, "3,4");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_glob_and_new_files(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 2);
    lines("skip.csv", 9, 9);
    inst in;
    start(&in, "path = \"%s/*.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    lines("b.jsonl", 3, 4);
    lines("a.jsonl", 5, 5);
    collect(&in);
    assert_id_set(&in, "3,4,5");
    finish(&in);
}

static void test_rename_rotation(void **state)
{
    (void)state;
    lines("usage.jsonl", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage.jsonl*\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    /* Written to before the rename, then a new file. */
    lines("usage.jsonl", 3, 3);
    rename_leaf("usage.jsonl", "usage.jsonl.1");
    lines("usage.jsonl", 4, 4);
    collect(&in);
    assert_id_set(&in, "3,4");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
}

/* A file cut in place below what was read, its first 4 KiB unchanged:
 * nothing is read twice (test_cut_in_place of the csv source). */
static void test_cut_in_place(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 200);
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 200);
    take_ids(&in);
    cut_after_lines("a.jsonl", 100);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    lines("a.jsonl", 101, 202);
    collect(&in);
    assert_ids(&in, "201,202");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* Short lines, so that 100 of them cut to 50 stay within 4 KiB. */
static void short_lines(const char *leaf, int from, int to)
{
    for (int i = from; i <= to; i++)
        append(leaf, line(i, "\"user_id\":\"u\""));
}

/* Issue 11 item 5 as reported: 100 lines cut in place to their first 50,
 * within the file's first 4 KiB (test_cut_in_first_4k of the csv
 * source). A cut after the first line is one too. */
static void test_cut_in_first_4k(void **state)
{
    (void)state;
    short_lines("a.jsonl", 1, 100);
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 100);
    take_ids(&in);
    cut_after_lines("a.jsonl", 50);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    mock_host_log_clear(in.h);
    cut_after_lines("a.jsonl", 1);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 0);
    assert_non_null(mock_host_log_find(in.h, "cut in place, not rotated"));
    short_lines("a.jsonl", 2, 102);
    collect(&in);
    assert_ids(&in, "101,102");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

/* copytruncate of a small file: emptied, then new lines. Read from its
 * start: the first line is not the old one. */
static void test_copytruncate_small(void **state)
{
    (void)state;
    short_lines("a.jsonl", 1, 20);
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 20);
    take_ids(&in);
    truncate_leaf("a.jsonl");
    short_lines("a.jsonl", 21, 22);
    collect(&in);
    assert_ids(&in, "21,22");
    assert_null(mock_host_log_find(in.h, "cut in place"));
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_copytruncate(void **state)
{
    (void)state;
    lines("usage.jsonl", 1, 2);
    inst in;
    start(&in, "path = \"%s/usage.jsonl*\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    lines("usage.jsonl", 3, 4);
    copy_file("usage.jsonl", "usage.jsonl.1");
    truncate_leaf("usage.jsonl");
    lines("usage.jsonl", 5, 5);
    collect(&in);
    assert_id_set(&in, "3,4,5");
    lines("usage.jsonl", 6, 6);
    collect(&in);
    assert_ids(&in, "6");
    assert_int_equal(mock_host_rejected(in.h), 0);
    finish(&in);
}

static void test_gzip(void **state)
{
    (void)state;
    lines("usage.jsonl", 1, 40);
    inst in;
    start(&in, "path = \"%s/usage.jsonl*\" stream = \"usage\"", scratch);
    collect(&in);
    mock_host_records_clear(in.h);
    /* Rotated and compressed: it goes on where it stopped. */
    lines("usage.jsonl", 41, 42);
    char p[PATH_MAX];
    char *all = slurp(spath(p, "usage.jsonl"));
    put_gz("usage.jsonl.1.gz", all);
    free(all);
    unlink(p);
    collect(&in);
    assert_ids(&in, "41,42");
    collect(&in);
    assert_ids(&in, "");
    finish(&in);
    /* A .gz file of its own, read whole. */
    char text[1024];
    snprintf(text, sizeof(text), "%s%s", line(1, ""), line(2, ""));
    put_gz("old.jsonl.gz", text);
    start(&in, "path = \"%s/old.jsonl.gz\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2");
    finish(&in);
}

/* ---- checkpoints ---- */

static void test_restart_mid_file(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 3);
    append("a.jsonl", "{\"id\":\"4\",");
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2,3");
    tally_host *h = in.h;
    mock_host_stop(&in);
    append("a.jsonl", "\"created_at\":\"2026-11-21T10:00:04Z\"}\n");
    lines("a.jsonl", 5, 6);
    char *b = body("path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    start_on(&in, h, b);
    free(b);
    collect(&in);
    assert_ids(&in, "4,5,6");
    const char *cp = mock_host_state(in.h, "files");
    assert_non_null(cp);
    assert_non_null(strstr(cp, "\"offset\":"));
    finish(&in);
}

static void test_rollback(void **state)
{
    (void)state;
    lines("a.jsonl", 1, 3);
    inst in;
    start(&in, "path = \"%s/a.jsonl\" stream = \"usage\"", scratch);
    collect(&in);
    assert_ids(&in, "1,2,3");
    char *before = strdup(mock_host_state(in.h, "files"));
    lines("a.jsonl", 4, 5);
    append("a.jsonl", "[6]\n");
    collect(&in);
    assert_ids(&in, "4,5");
    assert_int_equal(mock_host_rejected(in.h), 1);
    /* The agent rolled that cycle back: its checkpoint never was. */
    assert_int_equal(mock_host_state_put(in.h, "files", before), 0);
    mock_host_rejected_clear(in.h);
    collect(&in);
    assert_ids(&in, "4,5");
    assert_int_equal(mock_host_rejected(in.h), 1);
    free(before);
    finish(&in);
}

/* ---- inventories ---- */

static void test_inventories(void **state)
{
    (void)state;
    put("users.jsonl", "{\"id\":\"u1\",\"is_active\":true}\n{\"id\":\"u2\",\"is_active\":\"false\"}\n"
                       "{\"id\":\"u3\",\"is_active\":3}\n{\"id\":null,\"is_active\":true}\n");
    inst in;
    start(&in, "path = \"%s/users.jsonl\" stream = \"users\"", scratch);
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_int_equal(mock_host_record_count(in.h), 2);
    assert_true(mock_host_record_at(in.h, 0)->u.item.is_active);
    assert_false(mock_host_record_at(in.h, 1)->u.item.is_active);
    assert_ids(&in, "u1,u2");
    assert_int_equal(mock_host_rejected(in.h), 2);
    /* Unchanged: nothing sent. A change: the whole inventory again, and
     * the lines rejected before are not counted twice. */
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 0);
    append("users.jsonl", "{\"id\":\"u4\",\"is_active\":false}\n");
    collect(&in);
    assert_int_equal(mock_host_inventory_count(in.h), 2);
    assert_ids(&in, "u1,u2,u4");
    assert_int_equal(mock_host_rejected(in.h), 2);
    finish(&in);
    put("keys.jsonl", "{\"key\":{\"id\":\"k1\",\"owner\":\"u1\"},\"active\":true}\n");
    start(&in,
          "path = \"%s/keys.jsonl\" stream = \"api_keys\" columns = {\"id=key.id\", "
          "\"user_id=key.owner\", \"is_active=active\"}",
          scratch);
    collect(&in);
    assert_int_equal(mock_host_record_count(in.h), 1);
    assert_true(str_is(mock_host_record_at(in.h, 0)->u.item.user_id, "u1"));
    assert_ids(&in, "k1");
    finish(&in);
}

/* ---- options ---- */

static void test_check_errors(void **state)
{
    (void)state;
    check_fails("path = \"/x\" stream = \"usage2\"", 3, "option 'stream' = \"usage2\"");
    check_fails("path = \"/x\"", 4, "option 'stream' is required");
    check_fails("stream = \"usage\"", 5, "option 'path' is required");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"created_at\"}", 6, "\"field=key\"");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"when=ts\"}", 7,
                "when is not a field of stream usage");
    check_fails("path = \"/x\" stream = \"usage\" columns = {\"model=a\", \"model=b\"}", 8,
                "renames model twice");
    check_fails("path = \"/x\" stream = \"usage\" naive_timezone = \"Asia/Shanghai\"", 9,
                "option 'naive_timezone'");
    check_fails("path = \"/x\" stream = \"usage\" time_format = \"rfc2822\"", 10,
                "option 'time_format'");
    check_fails("path = \"/x\" stream = \"usage\" max_line_bytes = 1", 11,
                "option 'max_line_bytes' = 1 is out of range");
    check_fails("path = \"/x\" stream = \"usage\" max_line_bytes = 1000000000", 12,
                "option 'max_line_bytes'");
    check_fails("path = \"/x\" stream = \"usage\" reject_file = \"rel.csv\"", 13,
                "option 'reject_file'");
    /* Unknown options are libconfuse's to refuse. */
    assert_null(mock_host_section(plugin, "t", "path = \"/x\" stream = \"usage\" bogus = 1"));
    cfg_t *sec = mock_host_section(plugin, "t",
                                   "path = \"/x\" stream = \"candidates\" columns = "
                                   "{\"status=a.b\"} naive_timezone = \"-03:30\" "
                                   "time_format = \"epoch_ms\" max_line_bytes = 2");
    assert_non_null(sec);
    tally_host *h = mock_host_new();
    assert_int_equal(mock_host_check(plugin, h, sec), TALLY_HOST_OK);
    assert_int_equal(mock_host_log_count(h), 0);
    mock_host_free(h);
    mock_host_section_free(sec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fields_and_exact_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_and_dotted_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_and_naive_zones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_and_partial_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_glob_and_new_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_in_first_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventories, setup, teardown),
        cmocka_unit_test(test_check_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
