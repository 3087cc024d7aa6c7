/*
 * test_jsonl_line.c — the jsonl source's line parser, rule by rule (see
 * plugins/jsonl/jsonl_line.h): keys and dotted keys, renames, the text of
 * every kind of value (numbers exactly as written), NULLs, required keys,
 * wrong types, and each way a line is not a JSON object.
 */
#include "jsonl_line.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rec_value row[REC_FIELD_COUNT];
static const char *reason;

static jsonl_line *parser(tally_stream stream, const char *const keys[REC_FIELD_COUNT])
{
    static const char *const none[REC_FIELD_COUNT] = {NULL};
    jsonl_line *p = NULL;
    assert_int_equal(jsonl_line_new(stream, keys ? keys : none, 4096, &p), 0);
    return p;
}

static int parse_n(jsonl_line *p, const char *line, size_t n)
{
    reason = NULL;
    return jsonl_line_parse(p, line, n, row, &reason);
}

static int parse(jsonl_line *p, const char *line)
{
    return parse_n(p, line, strlen(line));
}

/* The value of field f is want (NULL: NULL). */
static void value_is(rec_field_id f, const char *want)
{
    if (want == NULL) {
        if (row[f].len != 0)
            fail_msg("%s: \"%.*s\", not NULL", rec_field_name(f), (int)row[f].len, row[f].ptr);
        return;
    }
    if (row[f].len != strlen(want) || memcmp(row[f].ptr, want, row[f].len) != 0)
        fail_msg("%s: \"%.*s\", not \"%s\"", rec_field_name(f), (int)row[f].len,
                 row[f].ptr ? row[f].ptr : "", want);
}

#define assert_row(p, line) assert_int_equal(parse(p, line), JSONL_ROW)

/* The line is refused with a reason that contains want. */
static void assert_bad(jsonl_line *p, const char *line, const char *want)
{
    assert_int_equal(parse(p, line), JSONL_BAD);
    assert_non_null(reason);
    if (strstr(reason, want) == NULL)
        fail_msg("%s: reason \"%s\" lacks \"%s\"", line, reason, want);
}

static void test_fields_by_name(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_row(p, "{\"id\":\"r1\",\"created_at\":\"2026-11-21T10:00:00Z\",\"user_id\":\"u1\","
                  "\"model\":\"gpt-4o\",\"input_tokens\":10,\"total_cost_usd\":0.5,"
                  "\"unknown\":[1,2,{\"x\":3}]}");
    value_is(REC_F_ID, "r1");
    value_is(REC_F_CREATED_AT, "2026-11-21T10:00:00Z");
    value_is(REC_F_USER_ID, "u1");
    value_is(REC_F_MODEL, "gpt-4o");
    value_is(REC_F_INPUT_TOKENS, "10");
    value_is(REC_F_TOTAL_COST_USD, "0.5");
    value_is(REC_F_PROVIDER, NULL);
    jsonl_line_free(p);
}

static void test_numbers_keep_their_text(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_row(p, "{\"created_at\":1,\"input_cost_usd\":0.0101696,\"output_cost_usd\":1.10,"
                  "\"cache_read_cost_usd\":1e-18,\"cache_creation_cost_usd\":-0.0,"
                  "\"total_cost_usd\":123456789012345678.123456789012345678,"
                  "\"actual_total_cost_usd\":2.5E+3,\"input_tokens\":1099511627776,"
                  "\"output_tokens\":-7,\"response_time_ms\":0.30000000000000004}");
    value_is(REC_F_INPUT_COST_USD, "0.0101696");
    value_is(REC_F_OUTPUT_COST_USD, "1.10");
    value_is(REC_F_CACHE_READ_COST_USD, "1e-18");
    value_is(REC_F_CACHE_CREATION_COST_USD, "-0.0");
    value_is(REC_F_TOTAL_COST_USD, "123456789012345678.123456789012345678");
    value_is(REC_F_ACTUAL_TOTAL_COST_USD, "2.5E+3");
    value_is(REC_F_INPUT_TOKENS, "1099511627776");
    value_is(REC_F_OUTPUT_TOKENS, "-7");
    value_is(REC_F_RESPONSE_TIME_MS, "0.30000000000000004");
    /* The largest whole numbers json-c reads exactly. */
    assert_row(p, "{\"created_at\":1,\"input_tokens\":9223372036854775807,"
                  "\"output_tokens\":-9223372036854775807,\"status_code\":18446744073709551614}");
    value_is(REC_F_INPUT_TOKENS, "9223372036854775807");
    value_is(REC_F_OUTPUT_TOKENS, "-9223372036854775807");
    value_is(REC_F_STATUS_CODE, "18446744073709551614");
    jsonl_line_free(p);
}

static void test_whole_numbers_beyond_64_bits(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    /* json-c clamps these: refused rather than read as the limit. */
    assert_bad(p, "{\"created_at\":1,\"total_cost_usd\":12345678901234567890123}",
               "total_cost_usd: 18446744073709551615 is at the limit");
    assert_bad(p, "{\"created_at\":1,\"input_tokens\":-99999999999999999999}",
               "input_tokens: -9223372036854775808 is at the limit");
    /* With a point, or as a string, the text is kept. */
    assert_row(p, "{\"created_at\":1,\"total_cost_usd\":12345678901234567890123.0,"
                  "\"input_cost_usd\":\"12345678901234567890123\"}");
    value_is(REC_F_TOTAL_COST_USD, "12345678901234567890123.0");
    value_is(REC_F_INPUT_COST_USD, "12345678901234567890123");
    jsonl_line_free(p);
}

static void test_strings(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    /* Numbers as strings are read as the numbers are; strings unescaped. */
    assert_row(p, "{\"created_at\":\"1\",\"input_tokens\":\"12\",\"total_cost_usd\":\"0.001\","
                  "\"model\":\"caf\\u00e9 \\\"x\\\"\\n\",\"error_message\":\"a\\u0000b\"}");
    value_is(REC_F_INPUT_TOKENS, "12");
    value_is(REC_F_TOTAL_COST_USD, "0.001");
    value_is(REC_F_MODEL, "caf\xC3\xA9 \"x\"\n");
    assert_int_equal(row[REC_F_ERROR_MESSAGE].len, 3);
    assert_memory_equal(row[REC_F_ERROR_MESSAGE].ptr, "a\0b", 3);
    /* A number for a string field: its text (ids are often numbers). */
    assert_row(p, "{\"created_at\":1,\"user_id\":42,\"id\":1.50}");
    value_is(REC_F_USER_ID, "42");
    value_is(REC_F_ID, "1.50");
    jsonl_line_free(p);
}

static void test_nulls(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    /* null, "" and a key that is not there are all NULL. */
    assert_row(p, "{\"created_at\":1,\"model\":null,\"user_id\":\"\",\"input_tokens\":null}");
    value_is(REC_F_MODEL, NULL);
    value_is(REC_F_USER_ID, NULL);
    value_is(REC_F_INPUT_TOKENS, NULL);
    value_is(REC_F_PROVIDER, NULL);
    /* A required key may be null (lib/record then says what it needs)... */
    assert_row(p, "{\"created_at\":null}");
    value_is(REC_F_CREATED_AT, NULL);
    /* ...but must be there. */
    assert_bad(p, "{\"model\":\"m\"}", "created_at: missing; stream usage requires it");
    jsonl_line_free(p);
    p = parser(TALLY_STREAM_CANDIDATES, NULL);
    assert_bad(p, "{\"request_id\":\"q\",\"created_at\":1}",
               "status: missing; stream candidates requires it");
    jsonl_line_free(p);
}

static void test_booleans(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USERS, NULL);
    assert_row(p, "{\"id\":\"u1\",\"is_active\":true}");
    value_is(REC_F_IS_ACTIVE, "true");
    assert_row(p, "{\"id\":\"u1\",\"is_active\":false}");
    value_is(REC_F_IS_ACTIVE, "false");
    /* As strings and numbers too, for lib/record's parser to judge. */
    assert_row(p, "{\"id\":7,\"is_active\":\"yes\"}");
    value_is(REC_F_IS_ACTIVE, "yes");
    value_is(REC_F_ID, "7");
    assert_row(p, "{\"id\":\"u\",\"is_active\":0}");
    value_is(REC_F_IS_ACTIVE, "0");
    /* A boolean for a field that is not one. */
    assert_bad(p, "{\"id\":true,\"is_active\":true}", "id: a boolean where a string is expected");
    jsonl_line_free(p);
    p = parser(TALLY_STREAM_USAGE, NULL);
    assert_bad(p, "{\"created_at\":1,\"input_tokens\":false}",
               "input_tokens: a boolean where a number is expected");
    assert_bad(p, "{\"created_at\":true}", "created_at: a boolean where a time is expected");
    jsonl_line_free(p);
}

static void test_wrong_types(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_bad(p, "{\"created_at\":1,\"input_tokens\":{\"n\":1}}",
               "input_tokens: an object where a number is expected");
    assert_bad(p, "{\"created_at\":1,\"model\":[\"a\"]}",
               "model: an array where a string is expected");
    assert_bad(p, "{\"created_at\":[]}", "created_at: an array where a time is expected");
    jsonl_line_free(p);
}

static void test_dotted_keys_and_renames(void **state)
{
    (void)state;
    const char *keys[REC_FIELD_COUNT] = {
        [REC_F_CREATED_AT] = "ts",
        [REC_F_INPUT_TOKENS] = "usage.input_tokens",
        [REC_F_OUTPUT_TOKENS] = "usage.output_tokens",
        [REC_F_TOTAL_COST_USD] = "billing.cost.usd",
        [REC_F_MODEL] = "a.b",
    };
    jsonl_line *p = parser(TALLY_STREAM_USAGE, keys);
    assert_row(p, "{\"ts\":\"t\",\"created_at\":\"ignored\",\"usage\":{\"input_tokens\":5,"
                  "\"output_tokens\":\"6\"},\"billing\":{\"cost\":{\"usd\":0.25}},"
                  "\"input_tokens\":99}");
    value_is(REC_F_CREATED_AT, "t");
    value_is(REC_F_INPUT_TOKENS, "5");
    value_is(REC_F_OUTPUT_TOKENS, "6");
    value_is(REC_F_TOTAL_COST_USD, "0.25");
    /* A key with the dots in it comes first. */
    assert_row(p, "{\"ts\":1,\"a.b\":\"flat\",\"a\":{\"b\":\"nested\"}}");
    value_is(REC_F_MODEL, "flat");
    assert_row(p, "{\"ts\":1,\"a\":{\"b\":\"nested\"}}");
    value_is(REC_F_MODEL, "nested");
    /* Missing or null on the way: NULL. */
    assert_row(p, "{\"ts\":1,\"usage\":{},\"billing\":null}");
    value_is(REC_F_INPUT_TOKENS, NULL);
    value_is(REC_F_TOTAL_COST_USD, NULL);
    /* Something else on the way: the wrong type. */
    assert_bad(p, "{\"ts\":1,\"usage\":5}",
               "input_tokens (key \"usage.input_tokens\"): a number on the way to it, where an "
               "object is expected");
    assert_bad(p, "{\"ts\":1,\"billing\":{\"cost\":[1]}}", "an array on the way to it");
    /* A renamed required key must be there. */
    assert_bad(p, "{\"created_at\":1}", "created_at (key \"ts\"): missing");
    jsonl_line_free(p);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    /* json-c keeps the last. */
    assert_row(p, "{\"created_at\":1,\"model\":\"a\",\"model\":\"b\"}");
    value_is(REC_F_MODEL, "b");
    jsonl_line_free(p);
}

static void test_not_json(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_bad(p, "hello", "not JSON: ");
    assert_bad(p, "{\"created_at\":1", "not JSON: ");
    assert_bad(p, "{\"created_at\":1,}", "not JSON: ");
    assert_bad(p, "{\"created_at\":1} x", "not JSON: ");
    assert_bad(p, "{\"created_at\":1}{}", "not JSON: ");
    assert_bad(p, "{\"created_at\":01}", "not JSON: ");
    assert_bad(p, "{\"created_at\":1,\"model\":\"\xFF\"}", "not JSON: ");
    /* Overlong and surrogate forms, which json-c's own check lets through
     * (found by fuzz_jsonl_line): records' strings are strict UTF-8. */
    assert_bad(p, "{\"created_at\":1,\"model\":\"@\xC0\xBF@\"}", "invalid UTF-8");
    assert_bad(p, "{\"created_at\":1,\"model\":\"\xED\xA0\x80\"}", "invalid UTF-8");
    assert_bad(p, "{\"created_at\":/*c*/1}", "not JSON: ");
    assert_bad(p, "{\"created_at\":1, \"model\":+1}", "(at byte ");
    assert_int_equal(parse_n(p, "{\"created_at\":1}\0{}", 19), JSONL_BAD);
    assert_non_null(strstr(reason, "not JSON: something follows the value (at byte 17)"));
    jsonl_line_free(p);
}

static void test_not_an_object(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_bad(p, "[1]", "not a JSON object but an array");
    assert_bad(p, "3", "not a JSON object but a number");
    assert_bad(p, "-1.5e3", "not a JSON object but a number");
    assert_bad(p, "\"x\"", "not a JSON object but a string");
    assert_bad(p, "true", "not a JSON object but a boolean");
    assert_bad(p, "null", "not a JSON object but null");
    jsonl_line_free(p);
}

static void test_blanks_and_byte_order_mark(void **state)
{
    (void)state;
    jsonl_line *p = parser(TALLY_STREAM_USAGE, NULL);
    assert_int_equal(parse(p, ""), JSONL_BLANK);
    assert_int_equal(parse(p, " \t "), JSONL_BLANK);
    assert_int_equal(parse(p, "\r"), JSONL_BLANK);
    assert_row(p, "\xEF\xBB\xBF{\"created_at\":1}");
    assert_row(p, "  {\"created_at\":2}\t\r");
    value_is(REC_F_CREATED_AT, "2");
    jsonl_line_free(p);
}

static void test_copy_limit(void **state)
{
    (void)state;
    /* One key read for two string fields counts twice. */
    const char *keys[REC_FIELD_COUNT] = {[REC_F_ID] = "k", [REC_F_REQUEST_ID] = "k"};
    jsonl_line *p = NULL;
    assert_int_equal(jsonl_line_new(TALLY_STREAM_USAGE, keys, 40, &p), 0);
    char line[128];
    snprintf(line, sizeof(line), "{\"created_at\":1,\"k\":\"%s\"}", "0123456789012345678");
    assert_row(p, line);
    snprintf(line, sizeof(line), "{\"created_at\":1,\"k\":\"%s\"}", "012345678901234567890");
    assert_bad(p, line, "its string values take 42 bytes, more than 40");
    jsonl_line_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_by_name),
        cmocka_unit_test(test_numbers_keep_their_text),
        cmocka_unit_test(test_whole_numbers_beyond_64_bits),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_dotted_keys_and_renames),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_blanks_and_byte_order_mark),
        cmocka_unit_test(test_copy_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
