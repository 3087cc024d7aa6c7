/*
 * test_record_value.c — the value parsers of every record source
 * (lib/record/record_value.c): integers to INT64 max and min and 2^40,
 * decimals exact to 1e-18 with half-to-even rounding at the 19th digit,
 * booleans, ISO 8601 instants (zones, offsets, fractions of 1..9 digits,
 * naive wall times, leap days, the edges of int64 nanoseconds) and epoch
 * seconds and milliseconds; bad input of every kind, which must leave the
 * output alone; and all of it again under a comma-decimal locale.
 *
 * Expected instants come from `date -u -d ... +%s`, written beside them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "record/record.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define S (INT64_C(1000000000))

/* ---- Integers ------------------------------------------------------------- */

static void expect_int(const char *in, int64_t want)
{
    int64_t v = 12345;
    assert_int_equal(rec_parse_int64(in, strlen(in), &v), 0);
    assert_int_equal(v, want);
}

static void refuse_int(const char *in)
{
    int64_t v = 12345;
    assert_int_equal(rec_parse_int64(in, strlen(in), &v), -1);
    assert_int_equal(v, 12345);
}

static void test_int64(void **state)
{
    expect_int("0", 0);
    expect_int("-0", 0);
    expect_int("+7", 7);
    expect_int("200", 200);
    expect_int("1099511627776", INT64_C(1) << 40);
    expect_int("-1099511627776", -(INT64_C(1) << 40));
    expect_int("9223372036854775807", INT64_MAX);
    expect_int("-9223372036854775808", INT64_MIN);
    expect_int("00000000000000000000000042", 42);
    expect_int("12.0", 12);
    expect_int("12.000", 12);
    expect_int("-3.0", -3);

    refuse_int("9223372036854775808");
    refuse_int("-9223372036854775809");
    refuse_int("99999999999999999999");
    refuse_int("18446744073709551616");
    refuse_int("");
    refuse_int("+");
    refuse_int("-");
    refuse_int("--1");
    refuse_int("+-1");
    refuse_int(" 1");
    refuse_int("1 ");
    refuse_int("0x10");
    refuse_int("1,5");
    refuse_int("1e3");
    refuse_int("12.5");
    refuse_int("12.01");
    refuse_int("12.");
    refuse_int(".0");
    refuse_int("1_000");
    /* The length counts, not a terminating NUL. */
    int64_t v = 0;
    assert_int_equal(rec_parse_int64("123456", 3, &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(rec_parse_int64("12\0", 3, &v), -1);
}

/* ---- Decimals ------------------------------------------------------------- */

/* tally_fixed as a decimal with 18 fractional digits, so expectations read
 * as numbers. */
static void fixed_text(tally_fixed v, char *out, size_t size)
{
    unsigned __int128 m = v < 0 ? 0 - (unsigned __int128)v : (unsigned __int128)v;
    unsigned __int128 one = (unsigned __int128)1000000000000000000u;
    unsigned __int128 whole = m / one;
    uint64_t frac = (uint64_t)(m % one);
    char digits[64];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(whole % 10));
        whole /= 10;
    } while (whole != 0);
    size_t k = 0;
    if (v < 0)
        out[k++] = '-';
    while (n > 0)
        out[k++] = digits[--n];
    snprintf(out + k, size - k, ".%018llu", (unsigned long long)frac);
}

static void expect_fixed(const char *in, const char *want)
{
    tally_fixed v = 12345;
    assert_int_equal(rec_parse_fixed(in, strlen(in), &v), 0);
    char got[80];
    fixed_text(v, got, sizeof(got));
    assert_string_equal(got, want);
}

static void refuse_fixed(const char *in)
{
    tally_fixed v = 12345;
    assert_int_equal(rec_parse_fixed(in, strlen(in), &v), -1);
    assert_true(v == 12345);
}

static void test_fixed_exact(void **state)
{
    expect_fixed("0", "0.000000000000000000");
    expect_fixed("-0.0", "0.000000000000000000");
    expect_fixed("1", "1.000000000000000000");
    expect_fixed("0.1", "0.100000000000000000");
    expect_fixed("0.000000000000000001", "0.000000000000000001");
    expect_fixed("-0.000000000000000001", "-0.000000000000000001");
    expect_fixed(".5", "0.500000000000000000");
    expect_fixed("+.5", "0.500000000000000000");
    refuse_fixed("12.");
}

static void test_fixed_values(void **state)
{
    expect_fixed("0.0123", "0.012300000000000000");
    expect_fixed("1099511627776", "1099511627776.000000000000000000");
    expect_fixed("123456.789012345678", "123456.789012345678000000");
    expect_fixed("0.123456789012345678", "0.123456789012345678");
    expect_fixed("1e-7", "0.000000100000000000");
    expect_fixed("1.5E3", "1500.000000000000000000");
    expect_fixed("1e+2", "100.000000000000000000");
    expect_fixed("123.456e-2", "1.234560000000000000");
    expect_fixed("0.00000000000000000001e2", "0.000000000000000001");
    expect_fixed("1e20", "100000000000000000000.000000000000000000");
    expect_fixed("1e-400", "0.000000000000000000");
    expect_fixed("0e999999999999", "0.000000000000000000");
    expect_fixed("000000000000000000000000000000000000000000001.5", "1.500000000000000000");
    /* 0.1 + 0.2 is 0.3, as it is not in binary floating point. */
    tally_fixed a, b, c;
    assert_int_equal(rec_parse_fixed("0.1", 3, &a), 0);
    assert_int_equal(rec_parse_fixed("0.2", 3, &b), 0);
    assert_int_equal(rec_parse_fixed("0.3", 3, &c), 0);
    assert_true(a + b == c);
    /* The range of tally_fixed, to the unit. */
    expect_fixed("170141183460469231731.687303715884105727",
                 "170141183460469231731.687303715884105727");
    expect_fixed("-170141183460469231731.687303715884105728",
                 "-170141183460469231731.687303715884105728");
    refuse_fixed("170141183460469231731.687303715884105728");
    refuse_fixed("-170141183460469231731.687303715884105729");
    refuse_fixed("2e20");
    refuse_fixed("1e400");
    refuse_fixed("99999999999999999999999999999999999999999");
}

/* Beyond the 18th fractional digit: half to even, on the magnitude. */
static void test_fixed_rounding(void **state)
{
    expect_fixed("0.0000000000000000004", "0.000000000000000000");
    expect_fixed("0.0000000000000000005", "0.000000000000000000");
    expect_fixed("0.0000000000000000006", "0.000000000000000001");
    expect_fixed("0.0000000000000000015", "0.000000000000000002");
    expect_fixed("0.0000000000000000025", "0.000000000000000002");
    expect_fixed("0.00000000000000000250000000000000000001", "0.000000000000000003");
    expect_fixed("0.0000000000000000004999999999999", "0.000000000000000000");
    expect_fixed("-0.0000000000000000015", "-0.000000000000000002");
    expect_fixed("-0.0000000000000000025", "-0.000000000000000002");
    expect_fixed("0.9999999999999999995", "1.000000000000000000");
    expect_fixed("0.1000000000000000000000000000000000000000000001", "0.100000000000000000");
    expect_fixed("5e-19", "0.000000000000000000");
    expect_fixed("1.5e-18", "0.000000000000000002");
    expect_fixed("9.9e-19", "0.000000000000000001");
    /* Rounding up at the very top of the range overflows. */
    refuse_fixed("170141183460469231731.6873037158841057275");
    expect_fixed("170141183460469231731.6873037158841057265",
                 "170141183460469231731.687303715884105726");
}

static void test_fixed_refused(void **state)
{
    static const char *const bad[] = {
        "",      "1,5", "1e",    "--1",      " 1",  "1 ",  "0x10",  "nan", "NaN",
        "inf",   "Inf", "-inf",  "Infinity", ".",   "-",   "+",     "1.",  "1..2",
        "1e1.5", "e5",  "1_000", "1e+",      "1e-", ".e1", "1.2.3", "١",
    };
    for (size_t i = 0; i < COUNT(bad); i++)
        refuse_fixed(bad[i]);
    tally_fixed v;
    assert_int_equal(rec_parse_fixed("1.5\0", 4, &v), -1);
}

/* ---- Booleans ------------------------------------------------------------- */

static void test_bool(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "True", "t", "T", "1", "yes", "YES", "yEs"};
    static const char *const no[] = {"false", "FALSE", "False", "f", "F", "0", "no", "NO", "nO"};
    static const char *const bad[] = {"",    "2",     "tru",   "truee", "y",  "n",    "on",
                                      "off", " true", "true ", "ja",    "ye", "fals", "-1"};
    for (size_t i = 0; i < COUNT(yes); i++) {
        bool v = false;
        assert_int_equal(rec_parse_bool(yes[i], strlen(yes[i]), &v), 0);
        assert_true(v);
    }
    for (size_t i = 0; i < COUNT(no); i++) {
        bool v = true;
        assert_int_equal(rec_parse_bool(no[i], strlen(no[i]), &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < COUNT(bad); i++) {
        bool v = true;
        assert_int_equal(rec_parse_bool(bad[i], strlen(bad[i]), &v), -1);
        assert_true(v);
    }
    bool v;
    assert_int_equal(rec_parse_bool("true\0", 5, &v), -1);
    assert_int_equal(rec_parse_bool("t\0", 2, &v), -1);
    assert_int_equal(rec_parse_bool("yesterday", 3, &v), 0);
    assert_true(v);
}

/* ---- Instants ------------------------------------------------------------- */

static void expect_time(const char *in, rec_time_format fmt, int64_t want, bool want_naive)
{
    int64_t ns = 12345;
    bool naive = !want_naive;
    assert_int_equal(rec_parse_time(in, strlen(in), fmt, &ns, &naive), 0);
    assert_int_equal(ns, want);
    assert_int_equal(naive, want_naive);
}

static void expect_iso(const char *in, int64_t want)
{
    expect_time(in, REC_TIME_ISO8601, want, false);
}

static void refuse_time(const char *in, rec_time_format fmt)
{
    int64_t ns = 12345;
    bool naive = true;
    assert_int_equal(rec_parse_time(in, strlen(in), fmt, &ns, &naive), -1);
    assert_int_equal(ns, 12345);
    assert_true(naive);
}

/* 2026-11-22T03:00:00Z: date -u -d 2026-11-22T03:00:00Z +%s */
#define T0 INT64_C(1795316400)

static void test_iso_zones(void **state)
{
    expect_iso("2026-11-22T03:00:00Z", T0 * S);
    expect_iso("2026-11-22t03:00:00z", T0 * S);
    expect_iso("2026-11-22 03:00:00Z", T0 * S);
    expect_iso("2026-11-22T11:00:00+08:00", T0 * S);
    expect_iso("2026-11-22T11:00:00+0800", T0 * S);
    expect_iso("2026-11-22T11:00:00+08", T0 * S);
    expect_iso("2026-11-21T21:30:00-05:30", T0 * S);
    expect_iso("2026-11-21T21:30:00-0530", T0 * S);
    expect_iso("2026-11-22T03:00:00+00:00", T0 * S);
    expect_iso("2026-11-22T03:00:00-00:00", T0 * S);
    expect_iso("2026-11-23T02:59:00+23:59", T0 * S);
    expect_iso("2026-11-21T03:01:00-23:59", T0 * S);
    /* 1970-01-01 and the second before it. */
    expect_iso("1970-01-01T00:00:00Z", 0);
    expect_iso("1969-12-31T23:59:59Z", -S);
    expect_iso("1969-12-31T23:59:59.999999999Z", -1);
}

static void test_iso_fractions(void **state)
{
    expect_iso("2026-11-22T03:00:00.1Z", T0 * S + 100000000);
    expect_iso("2026-11-22T03:00:00.12Z", T0 * S + 120000000);
    expect_iso("2026-11-22T03:00:00.123Z", T0 * S + 123000000);
    expect_iso("2026-11-22T03:00:00.1234Z", T0 * S + 123400000);
    expect_iso("2026-11-22T03:00:00.12345Z", T0 * S + 123450000);
    expect_iso("2026-11-22T03:00:00.123456Z", T0 * S + 123456000);
    expect_iso("2026-11-22T03:00:00.1234567Z", T0 * S + 123456700);
    expect_iso("2026-11-22T03:00:00.12345678Z", T0 * S + 123456780);
    expect_iso("2026-11-22T03:00:00.123456789Z", T0 * S + 123456789);
    expect_iso("2026-11-22T03:00:00,5Z", T0 * S + 500000000);
    expect_iso("2026-11-22T03:00:00.000001Z", T0 * S + 1000);
    expect_iso("2026-11-22T11:00:00.25+08:00", T0 * S + 250000000);
    expect_time("2026-11-22T03:00:00.75", REC_TIME_ISO8601, T0 * S + 750000000, true);
    refuse_time("2026-11-22T03:00:00.1234567890Z", REC_TIME_ISO8601);
    refuse_time("2026-11-22T03:00:00.Z", REC_TIME_ISO8601);
    refuse_time("2026-11-22T03:00:00.", REC_TIME_ISO8601);
    refuse_time("2026-11-22T03:00:00.5.5Z", REC_TIME_ISO8601);
}

static void test_iso_naive(void **state)
{
    /* No zone: the wall time read as UTC, flagged for the caller. */
    expect_time("2026-11-22T03:00:00", REC_TIME_ISO8601, T0 * S, true);
    expect_time("2026-11-22 03:00:00", REC_TIME_ISO8601, T0 * S, true);
    expect_time("2026-11-22T11:00:00+08:00", REC_TIME_ISO8601, T0 * S, false);
}

static void test_iso_calendar(void **state)
{
    /* date -u -d 2026-11-22T00:00:00Z +%s: 1795305600 */
    expect_iso("2026-11-22T00:00:00Z", INT64_C(1795305600) * S);
    expect_iso("2026-11-21T23:59:59.999999Z", INT64_C(1795305600) * S - 1000);
    /* 2024-02-29T12:00:00Z: 1709208000; 2000-02-29T00:00:00Z: 951782400 */
    expect_iso("2024-02-29T12:00:00Z", INT64_C(1709208000) * S);
    expect_iso("2000-02-29T00:00:00Z", INT64_C(951782400) * S);
    /* 2026-02-28 is the day before 2026-03-01 (1772323200). */
    expect_iso("2026-02-28T00:00:00Z", (INT64_C(1772323200) - 86400) * S);
    /* 1900-03-01T00:00:00Z: -2203891200 (1900 is not a leap year) */
    expect_iso("1900-03-01T00:00:00Z", INT64_C(-2203891200) * S);
    expect_iso("1900-02-28T00:00:00Z", (INT64_C(-2203891200) - 86400) * S);
    expect_iso("2026-12-31T23:59:59Z", (INT64_C(1767225600) + 365 * 86400 - 1) * S);

    static const char *const bad[] = {
        "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z",
        "2026-11-22T23:59:60Z",
    };
    for (size_t i = 0; i < COUNT(bad); i++)
        refuse_time(bad[i], REC_TIME_ISO8601);
}

static void test_iso_syntax(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-22",
        "2026-11-22T03:00",
        "2026-11-22T03:00:0",
        "2026/11/22T03:00:00Z",
        "2026-11-22X03:00:00Z",
        "2026-11-22T03-00-00Z",
        "2026-1-22T03:00:00Z",
        "2026-11-22T3:00:00Z",
        "+2026-11-22T03:00:00Z",
        " 2026-11-22T03:00:00Z",
        "2026-11-22T03:00:00Z ",
        "2026-11-22T03:00:00ZZ",
        "2026-11-22T03:00:00UTC",
        "2026-11-22T03:00:00+8",
        "2026-11-22T03:00:00+08:",
        "2026-11-22T03:00:00+08:0",
        "2026-11-22T03:00:00+080",
        "2026-11-22T03:00:00+08:000",
        "2026-11-22T03:00:00+24:00",
        "2026-11-22T03:00:00+05:60",
        "2026-11-22T03:00:00-24",
        "2026-11-22T03:00:00 +08:00",
        "2026-11-22T03:00:00\xef\xbc\xba",
        "2O26-11-22T03:00:00Z",
        "2026-11-22T03:00:00.-1Z",
    };
    for (size_t i = 0; i < COUNT(bad); i++)
        refuse_time(bad[i], REC_TIME_ISO8601);
    int64_t ns;
    bool naive;
    assert_int_equal(rec_parse_time("2026-11-22T03:00:00Z", 19, REC_TIME_ISO8601, &ns, &naive), 0);
    assert_true(naive);
    assert_int_equal(rec_parse_time("2026-11-22T03:00:00Z", 20, (rec_time_format)7, &ns, &naive),
                     -1);
}

/* The instants int64 nanoseconds hold: 1677-09-21T00:12:43.145224192Z
 * (date: 1677-09-21T00:12:43Z is -9223372037) to
 * 2262-04-11T23:47:16.854775807Z (9223372036). */
static void test_iso_range(void **state)
{
    expect_iso("2262-04-11T23:47:16.854775807Z", INT64_MAX);
    expect_iso("1677-09-21T00:12:43.145224192Z", INT64_MIN);
    expect_iso("2262-04-12T00:47:16.854775807+01:00", INT64_MAX);
    refuse_time("2262-04-11T23:47:16.854775808Z", REC_TIME_ISO8601);
    refuse_time("1677-09-21T00:12:43.145224191Z", REC_TIME_ISO8601);
    refuse_time("2262-04-11T23:47:16.854775807-00:01", REC_TIME_ISO8601);
    refuse_time("2262-04-12T00:00:00Z", REC_TIME_ISO8601);
    refuse_time("0000-01-01T00:00:00Z", REC_TIME_ISO8601);
    refuse_time("9999-12-31T23:59:59Z", REC_TIME_ISO8601);
}

static void test_epoch(void **state)
{
    expect_time("1732240800", REC_TIME_EPOCH_S, INT64_C(1732240800) * S, false);
    expect_time("1732240800.123456", REC_TIME_EPOCH_S, INT64_C(1732240800123456000), false);
    expect_time("1732240800.123456789", REC_TIME_EPOCH_S, INT64_C(1732240800123456789), false);
    expect_time("0", REC_TIME_EPOCH_S, 0, false);
    expect_time("-1", REC_TIME_EPOCH_S, -S, false);
    expect_time("-1.5", REC_TIME_EPOCH_S, -1500000000, false);
    expect_time("+2", REC_TIME_EPOCH_S, 2 * S, false);
    expect_time("1732240800.0", REC_TIME_EPOCH_S, INT64_C(1732240800) * S, false);
    /* Below the nanosecond: half to even. */
    expect_time("0.0000000005", REC_TIME_EPOCH_S, 0, false);
    expect_time("0.0000000015", REC_TIME_EPOCH_S, 2, false);
    expect_time("0.00000000150001", REC_TIME_EPOCH_S, 2, false);
    expect_time("-0.0000000015", REC_TIME_EPOCH_S, -2, false);
    expect_time("9223372036.854775807", REC_TIME_EPOCH_S, INT64_MAX, false);
    expect_time("-9223372036.854775808", REC_TIME_EPOCH_S, INT64_MIN, false);
    refuse_time("9223372036.854775808", REC_TIME_EPOCH_S);
    refuse_time("-9223372036.854775809", REC_TIME_EPOCH_S);
    refuse_time("99999999999", REC_TIME_EPOCH_S);

    expect_time("1732240800123", REC_TIME_EPOCH_MS, INT64_C(1732240800123000000), false);
    expect_time("1732240800123.456", REC_TIME_EPOCH_MS, INT64_C(1732240800123456000), false);
    expect_time("1732240800123.456789", REC_TIME_EPOCH_MS, INT64_C(1732240800123456789), false);
    expect_time("-1", REC_TIME_EPOCH_MS, -1000000, false);
    expect_time("-1.25", REC_TIME_EPOCH_MS, -1250000, false);
    expect_time("0.0000005", REC_TIME_EPOCH_MS, 0, false);
    expect_time("0.0000015", REC_TIME_EPOCH_MS, 2, false);
    expect_time("9223372036854.775807", REC_TIME_EPOCH_MS, INT64_MAX, false);
    refuse_time("9223372036854.775808", REC_TIME_EPOCH_MS);

    static const char *const bad[] = {
        "", "1e", "abc", " 1", "1 ", "1,5", "--1", "0x10", "nan", "2026-11-22T03:00:00Z", "1."};
    for (size_t i = 0; i < COUNT(bad); i++) {
        refuse_time(bad[i], REC_TIME_EPOCH_S);
        refuse_time(bad[i], REC_TIME_EPOCH_MS);
    }
    refuse_time("1732240800", REC_TIME_ISO8601);
}

/* ---- Locale --------------------------------------------------------------- */

/* Under a locale whose decimal mark is a comma, nothing changes. */
static void test_locale_independent(void **state)
{
    assert_non_null(setlocale(LC_ALL, "de_DE.UTF-8"));
    expect_fixed("0.5", "0.500000000000000000");
    expect_fixed("1.5E3", "1500.000000000000000000");
    refuse_fixed("0,5");
    refuse_fixed("1.000,5");
    expect_int("1.000", 1);
    refuse_int("1.000,5");
    expect_iso("2026-11-22T03:00:00.5Z", T0 * S + 500000000);
    expect_time("1732240800.5", REC_TIME_EPOCH_S, INT64_C(1732240800500000000), false);
    refuse_time("1732240800,5", REC_TIME_EPOCH_S);
    bool v;
    assert_int_equal(rec_parse_bool("TRUE", 4, &v), 0);
    assert_true(v);
    assert_non_null(setlocale(LC_ALL, "tr_TR.UTF-8"));
    /* A Turkish dotted/dotless i does not confuse the case folding. */
    assert_int_equal(rec_parse_bool("YES", 3, &v), 0);
    assert_int_equal(rec_parse_bool("TRUE", 4, &v), 0);
    setlocale(LC_ALL, "C");
}

/* ---- Signs of counts and costs ------------------------------------------ */

/* One usage row of (input_tokens, total_cost_usd, response_time_ms)
 * through rec_conv_row: 0 converted, 1 refused (reason in c->reason). */
static int conv_signs(bool allow, const char *tokens, const char *cost, const char *rt,
                      tally_usage *u, char *reason, size_t cap)
{
    rec_conv c = {.stream = TALLY_STREAM_USAGE, .allow_negative = allow};
    rec_colmap m;
    rec_colmap_fields(TALLY_STREAM_USAGE, &m);
    rec_value row[REC_FIELD_COUNT] = {{0}};
    row[REC_F_CREATED_AT] = (rec_value){"2026-11-22T03:00:00Z", 20};
    row[REC_F_INPUT_TOKENS] = (rec_value){tokens, (uint32_t)strlen(tokens)};
    row[REC_F_TOTAL_COST_USD] = (rec_value){cost, (uint32_t)strlen(cost)};
    row[REC_F_RESPONSE_TIME_MS] = (rec_value){rt, (uint32_t)strlen(rt)};
    rec_batch b;
    assert_int_equal(rec_batch_init(&b, 4, 256, NULL, NULL), 0);
    tally_record *r = NULL;
    int rc = rec_conv_row(&c, &m, row, NULL, NULL, &b, &r);
    if (rc == 0)
        *u = r->u.usage;
    snprintf(reason, cap, "%s", c.reason);
    rec_batch_free(&b);
    return rc;
}

static void test_negative_refused(void **state)
{
    (void)state;
    tally_usage u;
    char why[192];
    assert_int_equal(conv_signs(false, "-5", "1", "1", &u, why, sizeof(why)), 1);
    assert_string_equal(why, "input_tokens: \"-5\" is not " REC_NOT_NEGATIVE);
    assert_int_equal(conv_signs(false, "5", "-0.000000000000000001", "1", &u, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "total_cost_usd"));
    assert_int_equal(conv_signs(false, "-0", "-0.0", "1", &u, why, sizeof(why)), 0);
    assert_int_equal(u.input_tokens, 0);
    /* A response time keeps its sign: it is no sum of usage. */
    assert_int_equal(conv_signs(false, "5", "1", "-3", &u, why, sizeof(why)), 0);
    assert_true(u.response_time_ms == -3 * TALLY_FIXED_ONE);
    /* allow_negative reads them. */
    assert_int_equal(conv_signs(true, "-9223372036854775808", "-1.5", "1", &u, why, sizeof(why)),
                     0);
    assert_int_equal(u.input_tokens, INT64_MIN);
    assert_true(u.total_cost_usd == -(TALLY_FIXED_ONE * 3 / 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_fixed_exact),
        cmocka_unit_test(test_fixed_values),
        cmocka_unit_test(test_fixed_rounding),
        cmocka_unit_test(test_fixed_refused),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_iso_zones),
        cmocka_unit_test(test_iso_fractions),
        cmocka_unit_test(test_iso_naive),
        cmocka_unit_test(test_iso_calendar),
        cmocka_unit_test(test_iso_syntax),
        cmocka_unit_test(test_iso_range),
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_negative_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
