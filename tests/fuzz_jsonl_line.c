/*
 * fuzz_jsonl_line.c — arbitrary bytes, line by line, through the jsonl
 * source's line parser (plugins/jsonl/jsonl_line.h) and lib/record's
 * value parsers: a JSON-lines log is input anyone who can send a request
 * to the gateway shapes.
 *
 * For every line: the result is one of the three, a refusal has a reason,
 * the values of a row lie in readable memory, are UTF-8, and fit the copy
 * limit; the same line padded with blanks gives the same result and the
 * same values; and each value goes to the parser of its field's kind.
 *
 * Built two ways (see fuzz_replay.h): with -DTALLY_LIBFUZZER a libFuzzer
 * target, otherwise a replay of files and of deterministic mutations of
 * the seeds, run as a ctest in every build. Input: a control byte (the
 * stream, and whether keys are renamed into nested objects), a byte for
 * the copy limit, then the file's bytes.
 */
#include "jsonl_line.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every value to the parser of its field's kind: nothing may go wrong. */
static void parse_values(tally_stream stream, const rec_value *row)
{
    for (int f = 0; f < REC_FIELD_COUNT; f++) {
        if (!rec_stream_has(stream, (rec_field_id)f) || row[f].len == 0)
            continue;
        uint16_t off;
        uint8_t kind;
        rec_field_layout(stream, (rec_field_id)f, &off, &kind);
        const char *p = row[f].ptr;
        size_t n = row[f].len;
        int64_t i64, ns;
        tally_fixed fx;
        bool b, naive;
        switch (kind) {
        case REC_K_INT:
        case REC_K_STATUS:
            (void)rec_parse_int64(p, n, &i64);
            break;
        case REC_K_FIXED:
        case REC_K_RT:
            (void)rec_parse_fixed(p, n, &fx);
            break;
        case REC_K_BOOL:
            (void)rec_parse_bool(p, n, &b);
            break;
        case REC_K_TIME:
            (void)rec_parse_time(p, n, REC_TIME_ISO8601, &ns, &naive);
            (void)rec_parse_time(p, n, REC_TIME_EPOCH_MS, &ns, &naive);
            break;
        default:
            break;
        }
    }
}

static void one_line(jsonl_line *a, jsonl_line *b, tally_stream stream, size_t max_copy,
                     const char *line, size_t n)
{
    rec_value row[REC_FIELD_COUNT], again[REC_FIELD_COUNT];
    const char *reason = NULL, *reason2 = NULL;
    int rc = jsonl_line_parse(a, line, n, row, &reason);
    CHECK(rc == JSONL_ROW || rc == JSONL_BLANK || rc == JSONL_BAD);
    if (rc == JSONL_BAD) {
        CHECK(reason != NULL && reason[0] != '\0' && strlen(reason) < 256);
    }
    size_t copy = 0;
    if (rc == JSONL_ROW) {
        for (int f = 0; f < REC_FIELD_COUNT; f++) {
            if (row[f].len == 0)
                continue;
            CHECK(row[f].ptr != NULL);
            CHECK(fuzz_utf8((const unsigned char *)row[f].ptr, row[f].len));
            uint16_t off;
            uint8_t kind;
            rec_field_layout(stream, (rec_field_id)f, &off, &kind);
            if (kind == REC_K_STR)
                copy += row[f].len;
        }
        CHECK(copy <= max_copy);
        parse_values(stream, row);
    }
    /* Blanks around the line change nothing (after a byte order mark
     * they would: only the line's first bytes may be one). */
    char *padded = malloc(n + 4);
    CHECK(padded != NULL);
    bool bom = n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0;
    size_t at = 0;
    if (!bom)
        padded[at++] = ' ';
    memcpy(padded + at, line, n);
    at += n;
    padded[at++] = '\t';
    padded[at++] = ' ';
    int rc2 = jsonl_line_parse(b, padded, at, again, &reason2);
    CHECK(rc2 == rc);
    if (rc == JSONL_ROW)
        for (int f = 0; f < REC_FIELD_COUNT; f++) {
            CHECK(again[f].len == row[f].len);
            CHECK(row[f].len == 0 || memcmp(again[f].ptr, row[f].ptr, row[f].len) == 0);
        }
    free(padded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const tally_stream streams[] = {TALLY_STREAM_USAGE, TALLY_STREAM_CANDIDATES,
                                    TALLY_STREAM_USERS, TALLY_STREAM_API_KEYS};
    tally_stream stream = streams[data[0] % 4];
    const char *renamed[REC_FIELD_COUNT] = {
        [REC_F_CREATED_AT] = "ts",
        [REC_F_INPUT_TOKENS] = "usage.input_tokens",
        [REC_F_TOTAL_COST_USD] = "cost.usd.total",
        [REC_F_ID] = "a.b",
        [REC_F_REQUEST_ID] = "a.b",
        [REC_F_IS_ACTIVE] = "flags.active",
        [REC_F_STATUS] = ".",
    };
    const char *none[REC_FIELD_COUNT] = {NULL};
    size_t max_copy = data[1] < 128 ? (size_t)data[1] : 1u << 20;
    jsonl_line *a, *b;
    CHECK(jsonl_line_new(stream, (data[0] & 4) ? renamed : none, max_copy, &a) == 0);
    CHECK(jsonl_line_new(stream, (data[0] & 4) ? renamed : none, max_copy, &b) == 0);
    const char *p = (const char *)data + 2, *end = (const char *)data + size;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
        one_line(a, b, stream, max_copy, p, n);
        p += n + 1;
    }
    jsonl_line_free(a);
    jsonl_line_free(b);
    return 0;
}

#ifndef TALLY_LIBFUZZER
/* Seeds: lines as gateways write them, and lines that are not quite. */
static const char *const seeds[] = {
    "{\"id\":\"r1\",\"request_id\":\"q1\",\"created_at\":\"2026-11-22T03:00:00.123456Z\","
    "\"user_id\":\"u1\",\"model\":\"gpt-4o\",\"status_code\":200,\"input_tokens\":1099511627776,"
    "\"total_cost_usd\":0.000523,\"input_cost_usd\":\"1.5E-3\",\"response_time_ms\":812.5,"
    "\"error_message\":null,\"is_active\":true,\"status\":\"success\"}\n",
    "{\"ts\":1732240800,\"usage\":{\"input_tokens\":12,\"output_tokens\":\"3\"},\"cost\":{\"usd\":"
    "{\"total\":-0.0}},\"a\":{\"b\":\"\\u00e9\\ud83d\\ude00\\n\"},\"flags\":{\"active\":\"yes\"}}\r\n"
    "\xEF\xBB\xBF{\"a.b\":7,\"a\":[1,{\"b\":2}],\".\":\"x\"}\n",
    "[1]\n3\n\"x\"\ntrue\nnull\n\n  \t\n{\"created_at\":1,}\n{\"created_at\":01}\n{'a':1}\n",
    "{\"created_at\":12345678901234567890123,\"input_tokens\":-99999999999999999999,"
    "\"id\":{\"x\":1},\"model\":[],\"status_code\":false,\"x\":NaN,\"y\":Infinity}\n"
    "{\"created_at\":\"2026-02-29T00:00:00Z\",\"model\":\"a\\u0000b\",\"id\":\"\\ud800\"}",
};

static const uint8_t controls[][2] = {{0, 200}, {4, 200}, {5, 16}, {6, 200}, {7, 3}};

static int write_seeds(const char *dir)
{
    return fuzz_write_seeds(dir, seeds, sizeof(seeds) / sizeof(seeds[0]), controls,
                            sizeof(controls) / sizeof(controls[0]));
}

/* Mutations that matter for JSON: the bytes that open, close, quote,
 * escape or separate, digits and number signs, and bytes that are no
 * UTF-8. */
static long run_mutations(void)
{
    static const uint8_t special[] = {'{', '}', '[', ']', '"', '\\', ':', ',', '.', 'e', '-', '+',
                                      '0', '9', 'u', 'n', 't', '\n', '\r', ' ', 0,    0x80, 0xC3,
                                      0xED, 0xF4, 0xFF};
    return fuzz_run_mutations(seeds, sizeof(seeds) / sizeof(seeds[0]), controls,
                              sizeof(controls) / sizeof(controls[0]), special, sizeof(special));
}

int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, write_seeds, run_mutations,
                            "JSON lines parsed alike plain and padded, values checked");
}
#endif
