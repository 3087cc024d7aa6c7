/*
 * test_clock.c — the business clock (agent/clock.c): zone names, ISO 8601
 * instants, --now, and business-day boundaries in zones with 23, 23.5,
 * 24.5 and 25 hour days, a skipped midnight, a midnight that happens twice,
 * a date that never happened, +14, and years before 1970.
 *
 * Every expected instant was written by hand from zdump -v and
 * `date -u -d ... +%s` (tzdata 2025b), with its ISO form beside it; none is
 * computed by the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "civil/civil.h"

#define HOUR INT64_C(3600)

static void use_zone(const char *name)
{
    assert_int_equal(clock_set_zone(name), 0);
    assert_string_equal(clock_zone(), name);
}

static void expect_day(const tally_day *d, const char *date, int64_t start, int64_t end)
{
    assert_string_equal(d->date, date);
    assert_int_equal(d->start_utc, start);
    assert_int_equal(d->end_utc, end);
}

/* The day by its date, and by its first and last second. */
static void check_day(const char *date, int64_t start, int64_t end)
{
    tally_day d;
    memset(&d, 0x55, sizeof d);
    assert_int_equal(clock_day_by_date(date, &d), 0);
    expect_day(&d, date, start, end);
    assert_int_equal(clock_day_of(start, &d), 0);
    expect_day(&d, date, start, end);
    assert_int_equal(clock_day_of(end - 1, &d), 0);
    expect_day(&d, date, start, end);
}

/* The date of the business day that contains utc. */
static void check_date_of(int64_t utc, const char *date)
{
    tally_day d;
    assert_int_equal(clock_day_of(utc, &d), 0);
    assert_string_equal(d.date, date);
    assert_true(d.start_utc <= utc && utc < d.end_utc);
}

/* ---- Zone names --------------------------------------------------------- */

static void test_zone_exists_good(void **state)
{
    (void)state;
    assert_int_equal(clock_zone_exists("UTC"), 0);
    assert_int_equal(clock_zone_exists("Etc/UTC"), 0);
    assert_int_equal(clock_zone_exists("Asia/Shanghai"), 0);
    assert_int_equal(clock_zone_exists("America/Argentina/Buenos_Aires"), 0);
    assert_int_equal(clock_zone_exists("America/Port-au-Prince"), 0);
    assert_int_equal(clock_zone_exists("Etc/GMT+12"), 0);
    assert_int_equal(clock_zone_exists("Etc/GMT-14"), 0);
}

static void test_zone_exists_bad(void **state)
{
    (void)state;
    assert_int_equal(clock_zone_exists(NULL), -1);
    assert_int_equal(clock_zone_exists(""), -1);
    assert_int_equal(clock_zone_exists("Mars/Olympus"), -1);
    assert_int_equal(clock_zone_exists("../etc/passwd"), -1);
    assert_int_equal(clock_zone_exists("Asia/../Asia/Shanghai"), -1);
    assert_int_equal(clock_zone_exists("/etc/localtime"), -1);
    assert_int_equal(clock_zone_exists("/usr/share/zoneinfo/UTC"), -1);
    assert_int_equal(clock_zone_exists("Asia/Shanghai/"), -1);
    assert_int_equal(clock_zone_exists("Asia//Shanghai"), -1);
    assert_int_equal(clock_zone_exists("./UTC"), -1); /* a TZif file, not an IANA name */
    assert_int_equal(clock_zone_exists("Etc/./UTC"), -1);
    assert_int_equal(clock_zone_exists("Asia/Shanghai "), -1);
    assert_int_equal(clock_zone_exists("asia/shanghai"), -1);
    assert_int_equal(clock_zone_exists("Asia"), -1);        /* a directory */
    assert_int_equal(clock_zone_exists("leapseconds"), -1); /* a file, not TZif */
    assert_int_equal(clock_zone_exists("zone.tab"), -1);
    assert_int_equal(clock_zone_exists("localtime"), -1);  /* follows /etc/localtime */
    assert_int_equal(clock_zone_exists("right/UTC"), -1);  /* counts leap seconds */
    assert_int_equal(clock_zone_exists("posixrules"), -1); /* not a zone */
}

static void test_set_zone_unknown_keeps_old(void **state)
{
    (void)state;
    use_zone("Asia/Shanghai");
    assert_int_equal(clock_set_zone("Mars/Olympus"), -1);
    assert_int_equal(clock_set_zone("Asia/Shanghai/"), -1);
    assert_string_equal(clock_zone(), "Asia/Shanghai");
    /* Still counted in Shanghai (UTC would start at 2026-11-20T00:00:00Z). */
    check_day("2026-11-20", 1795104000 /* 2026-11-19T16:00:00Z */,
              1795190400 /* 2026-11-20T16:00:00Z */);
}

/* ---- Business days ------------------------------------------------------ */

static void test_shanghai(void **state)
{
    (void)state;
    use_zone("Asia/Shanghai");
    check_day("2026-11-20", 1795104000 /* 2026-11-19T16:00:00Z */,
              1795190400 /* 2026-11-20T16:00:00Z */);
    /* A row at exactly local midnight is the new day's; a second earlier,
     * the old day's. */
    check_date_of(1795104000 /* 2026-11-20 00:00:00 CST */, "2026-11-20");
    tally_day d;
    assert_int_equal(clock_day_of(1795103999 /* 2026-11-19 23:59:59 CST */, &d), 0);
    expect_day(&d, "2026-11-19", 1795017600 /* 2026-11-18T16:00:00Z */,
               1795104000 /* 2026-11-19T16:00:00Z */);
}

static void test_new_york_23_hour_day(void **state)
{
    (void)state;
    use_zone("America/New_York");
    /* 2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT. */
    check_day("2026-03-08", 1772946000 /* 2026-03-08T05:00:00Z */,
              1773028800 /* 2026-03-09T04:00:00Z */);
    assert_int_equal(1773028800 - 1772946000, 23 * HOUR);
    check_day("2026-03-07", 1772859600 /* 2026-03-07T05:00:00Z */,
              1772946000 /* 2026-03-08T05:00:00Z */);
}

static void test_new_york_25_hour_day(void **state)
{
    (void)state;
    use_zone("America/New_York");
    /* 2026-11-01 06:00Z: 02:00 EDT becomes 01:00 EST. */
    check_day("2026-11-01", 1793505600 /* 2026-11-01T04:00:00Z */,
              1793595600 /* 2026-11-02T05:00:00Z */);
    assert_int_equal(1793595600 - 1793505600, 25 * HOUR);
    /* Both copies of 01:30 are in that day. */
    struct tm tm;
    assert_int_equal(clock_local_time(1793511000 /* 2026-11-01T05:30:00Z */, &tm), 0);
    assert_int_equal(tm.tm_hour, 1);
    assert_int_equal(tm.tm_min, 30);
    assert_int_equal(tm.tm_isdst, 1);
    check_date_of(1793511000, "2026-11-01");
    assert_int_equal(clock_local_time(1793514600 /* 2026-11-01T06:30:00Z */, &tm), 0);
    assert_int_equal(tm.tm_hour, 1);
    assert_int_equal(tm.tm_min, 30);
    assert_int_equal(tm.tm_isdst, 0);
    check_date_of(1793514600, "2026-11-01");
}

static void test_lord_howe_half_hour_dst(void **state)
{
    (void)state;
    use_zone("Australia/Lord_Howe");
    /* 2026-04-04 15:00Z: 02:00 +11 becomes 01:30 +1030, a 24.5 h day. */
    check_day("2026-04-05", 1775307600 /* 2026-04-04T13:00:00Z, 00:00 +11 */,
              1775395800 /* 2026-04-05T13:30:00Z, 00:00 +1030 */);
    assert_int_equal(1775395800 - 1775307600, 24 * HOUR + HOUR / 2);
    /* 2026-10-03 15:30Z: 02:00 +1030 becomes 02:30 +11, a 23.5 h day. */
    check_day("2026-10-04", 1791034200 /* 2026-10-03T13:30:00Z, 00:00 +1030 */,
              1791118800 /* 2026-10-04T13:00:00Z, 00:00 +11 */);
    assert_int_equal(1791118800 - 1791034200, 23 * HOUR + HOUR / 2);
}

static void test_havana_skipped_midnight(void **state)
{
    (void)state;
    use_zone("America/Havana");
    /* 2026-03-08 05:00Z: 00:00 CST becomes 01:00 CDT; there is no local
     * midnight, so the day starts at the first instant dated 2026-03-08. */
    check_day("2026-03-08", 1772946000 /* 2026-03-08T05:00:00Z, 01:00 CDT */,
              1773028800 /* 2026-03-09T04:00:00Z, 00:00 CDT */);
    check_date_of(1772945999 /* 2026-03-07 23:59:59 CST */, "2026-03-07");
    check_day("2026-03-07", 1772859600 /* 2026-03-07T05:00:00Z */,
              1772946000 /* 2026-03-08T05:00:00Z */);
}

static void test_havana_repeated_midnight(void **state)
{
    (void)state;
    use_zone("America/Havana");
    /* 2026-11-01 05:00Z: 01:00 CDT becomes 00:00 CST; the day starts at the
     * first midnight and keeps the hour after the second one. */
    check_day("2026-11-01", 1793505600 /* 2026-11-01T04:00:00Z, 00:00 CDT */,
              1793595600 /* 2026-11-02T05:00:00Z, 00:00 CST */);
    check_date_of(1793511000 /* 2026-11-01T05:30:00Z, 00:30 CST */, "2026-11-01");
    check_date_of(1793505599 /* 2026-10-31 23:59:59 CDT */, "2026-10-31");
}

static void test_st_johns_midnight_twice(void **state)
{
    (void)state;
    use_zone("America/St_Johns");
    /* 2009-11-01 02:31Z: 00:01 NDT became 23:01 NST of 2009-10-31, so
     * local midnight came twice (02:30Z and 03:30Z) and the local date went
     * back. Day 2009-11-01 starts at the first midnight; the second copy of
     * 23:01..23:59 "2009-10-31" lies inside it, so days never overlap. */
    check_day("2009-11-01", 1257042600 /* 2009-11-01T02:30:00Z, 00:00 NDT */,
              1257132600 /* 2009-11-02T03:30:00Z, 00:00 NST */);
    check_date_of(1257043500 /* 2009-11-01T02:45:00Z, 23:15 NST 10-31 */, "2009-11-01");
    check_day("2009-10-31", 1256956200 /* 2009-10-31T02:30:00Z, 00:00 NDT */,
              1257042600 /* 2009-11-01T02:30:00Z */);
}

static void test_utc(void **state)
{
    (void)state;
    use_zone("UTC");
    check_day("2026-11-20", 1795132800 /* 2026-11-20T00:00:00Z */,
              1795219200 /* 2026-11-21T00:00:00Z */);
    use_zone("Etc/UTC");
    check_day("2024-02-29", 1709164800 /* 2024-02-29T00:00:00Z */, 1709164800 + 24 * HOUR);
}

static void test_kiritimati(void **state)
{
    (void)state;
    use_zone("Pacific/Kiritimati");
    check_day("2026-11-20", 1795082400 /* 2026-11-19T10:00:00Z, 00:00 +14 */,
              1795168800 /* 2026-11-20T10:00:00Z */);
    /* 1994-12-31 10:00Z: 1994-12-30 23:59:59 -10 became 1995-01-01 00:00
     * +14. 1994-12-31 never happened there: an empty day. */
    tally_day d;
    assert_int_equal(clock_day_by_date("1994-12-31", &d), 0);
    expect_day(&d, "1994-12-31", 788868000 /* 1994-12-31T10:00:00Z */, 788868000);
    check_day("1994-12-30", 788781600 /* 1994-12-30T10:00:00Z, 00:00 -10 */,
              788868000 /* 1994-12-31T10:00:00Z */);
    check_date_of(788868000, "1995-01-01");
}

static void test_before_1970(void **state)
{
    (void)state;
    use_zone("UTC");
    check_day("1969-12-31", -86400 /* 1969-12-31T00:00:00Z */, 0);
    check_day("1900-01-01", -2208988800 /* 1900-01-01T00:00:00Z */,
              -2208902400 /* 1900-01-02T00:00:00Z */);
    /* 1969-10-26 06:00Z in New York: 02:00 EDT became 01:00 EST. */
    use_zone("America/New_York");
    check_day("1969-10-26", -5774400 /* 1969-10-26T04:00:00Z */,
              -5684400 /* 1969-10-27T05:00:00Z */);
}

static void test_year_range(void **state)
{
    (void)state;
    tally_day d;
    use_zone("UTC");
    assert_int_equal(clock_day_of(-2208988801 /* 1899-12-31T23:59:59Z */, &d), -1);
    assert_int_equal(clock_day_by_date("1899-12-31", &d), -1);
    check_day("9999-12-31", 253402214400 /* 9999-12-31T00:00:00Z */,
              253402300800 /* 10000-01-01T00:00:00Z */);
    assert_int_equal(clock_day_of(253402300800, &d), -1);
}

static void test_day_by_date_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",           "2026-11-2",  "2026-11-200", "2026-11-20 ",  "2026/11/20",
        "2026-13-01", "2026-00-10", "2026-11-00",  "2026-11-31",   "2026-02-29",
        "2100-02-29", "2026-1-201", "+026-11-20",  "2026-11-20\n", "2026-11-2x",
    };
    tally_day d;
    use_zone("UTC");
    assert_int_equal(clock_day_by_date(NULL, &d), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (clock_day_by_date(bad[i], &d) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(clock_day_by_date("2000-02-29", &d), 0);
}

/* ---- ISO 8601 ----------------------------------------------------------- */

static void expect_instant(const char *text, int64_t utc, int32_t nanos)
{
    int64_t got = 0;
    int32_t got_nanos = -1;
    if (clock_parse_iso8601(text, &got, &got_nanos) != 0)
        fail_msg("rejected \"%s\"", text);
    assert_int_equal(got, utc);
    assert_int_equal(got_nanos, nanos);
}

static void test_parse_good(void **state)
{
    (void)state;
    const int64_t t = 1795316400; /* 2026-11-22T03:00:00Z */
    expect_instant("2026-11-22T03:00:00Z", t, 0);
    expect_instant("2026-11-22T11:00:00+08:00", t, 0);
    expect_instant("2026-11-21T22:00:00-05:00", t, 0);
    expect_instant("2026-11-22T08:30:00+0530", t, 0);
    expect_instant("2026-11-22T11:00:00+08", t, 0);
    expect_instant("2026-11-22T03:00:00-00:00", t, 0);
    expect_instant("2026-11-22 03:00:00Z", t, 0);
    expect_instant("2026-11-22t03:00:00z", t, 0);
    expect_instant("2026-11-22T03:00:00.5Z", t, 500000000);
    expect_instant("2026-11-22T03:00:00.123+00:00", t, 123000000);
    expect_instant("2026-11-22T03:00:00.123456789Z", t, 123456789);
    expect_instant("2026-11-22T03:00:01.000000001Z", 1795316401, 1);
    expect_instant("2026-11-23T02:59:59+23:59", 1795316459 /* 2026-11-22T03:00:59Z */, 0);
    /* Before 1970 the fraction still counts up from the whole second. */
    expect_instant("1969-12-31T23:59:59.5Z", -1, 500000000);
    expect_instant("1900-01-01T00:00:00Z", -2208988800, 0);
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-11-22T03:00:00",             /* no zone: --now must say which */
        "2026-13-22T03:00:00Z",            /* month 13 */
        "2026-11-32T03:00:00Z",            /* day 32 */
        "2026-02-30T03:00:00Z",            /* Feb 30 */
        "2026-11-22T24:00:00Z",            /* hour 24 */
        "2026-11-22T03:60:00Z",            /* minute 60 */
        "2026-11-22T03:00:60Z",            /* leap second */
        "2026-11-22T03:00:00Zjunk",        /* trailing junk */
        "2026-11-22T03:00:00Z ",           /* trailing space */
        "2026-11-22T03:00:00.1234567890Z", /* 10 fraction digits */
        "2026-11-22T03:00:00.Z",           /* empty fraction */
        "2026-11-22T03:00:00+24:00",       /* offset hour 24 */
        "2026-11-22T03:00:00+08:60",       /* offset minute 60 */
        "2026-11-22T03:00:00+08:",         /* half an offset */
        "2026-11-22T03:00:00+8:00",        /* one-digit offset hour */
        "2026-11-22T03:00:00+08:0",        /* one-digit offset minute */
        "2026-11-22T03:00:00+083",         /* three-digit offset */
        "2026-11-22T03:00:00+08:00:00",    /* offset seconds */
        "2026-11-22T03:00:00 +08:00",      /* space before the offset */
        "2026-11-22X03:00:00Z",            /* bad separator */
        "2026-11-22T3:00:00Z",             /* one-digit hour */
        "2026-11-22T03:00Z",               /* no seconds */
        "2026-11-22",                      /* a date */
        "26-11-22T03:00:00Z",              /* two-digit year */
        "2026-11-22T03:00:00,5Z",          /* comma fraction */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t utc;
        int32_t nanos;
        if (clock_parse_iso8601(bad[i], &utc, &nanos) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    int64_t utc;
    int32_t nanos;
    assert_int_equal(clock_parse_iso8601(NULL, &utc, &nanos), -1);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const struct {
        int64_t utc;
        const char *text;
    } cases[] = {
        {1795316400, "2026-11-22T03:00:00Z"},  {1795316401, "2026-11-22T03:00:01Z"},
        {0, "1970-01-01T00:00:00Z"},           {-1, "1969-12-31T23:59:59Z"},
        {-2208988800, "1900-01-01T00:00:00Z"}, {253402214400, "9999-12-31T00:00:00Z"},
        {1257043500, "2009-11-01T02:45:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[21];
        memset(buf, 'x', sizeof buf);
        clock_format_utc(cases[i].utc, buf);
        assert_string_equal(buf, cases[i].text);
        int64_t back;
        int32_t nanos;
        assert_int_equal(clock_parse_iso8601(buf, &back, &nanos), 0);
        assert_int_equal(back, cases[i].utc);
        assert_int_equal(nanos, 0);
    }
}

/* An instant with a fraction prints it in as few digits as keep it exact,
 * and parses back to itself. */
static void test_format_fraction_round_trip(void **state)
{
    (void)state;
    static const struct {
        int64_t utc;
        int32_t nsec;
        const char *text;
    } cases[] = {
        {1793595599, 999000000, "2026-11-02T04:59:59.999Z"},
        {1793595599, 0, "2026-11-02T04:59:59Z"},
        {1793595599, 500000000, "2026-11-02T04:59:59.5Z"},
        {1793595599, 1, "2026-11-02T04:59:59.000000001Z"},
        {-1, 999999999, "1969-12-31T23:59:59.999999999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[CIVIL_UTC_FRAC_LEN];
        assert_int_equal(civil_format_utc_frac(cases[i].utc, cases[i].nsec, buf), 0);
        assert_string_equal(buf, cases[i].text);
        int64_t back;
        int32_t nanos;
        assert_int_equal(clock_parse_iso8601(buf, &back, &nanos), 0);
        assert_int_equal(back, cases[i].utc);
        assert_int_equal(nanos, cases[i].nsec);
    }
    char buf[CIVIL_UTC_FRAC_LEN];
    assert_int_equal(civil_format_utc_frac(0, -1, buf), -1);
    assert_int_equal(civil_format_utc_frac(0, 1000000000, buf), -1);
}

/* ---- Now ---------------------------------------------------------------- */

/* Must run before test_now_fixed: there is no way back to the real clock. */
static void test_now_real(void **state)
{
    (void)state;
    int64_t before = (int64_t)time(NULL);
    int64_t now = clock_now();
    int64_t after = (int64_t)time(NULL);
    assert_true(before <= now && now <= after);
    int32_t nsec = -1;
    now = clock_now_frac(&nsec);
    assert_int_equal(nsec, 0); /* the real clock's cycles fall on whole seconds */
}

static void test_now_fixed(void **state)
{
    (void)state;
    const int64_t base = 1795316400; /* 2026-11-22T03:00:00Z */
    clock_set_now(base, 999000000);
    int64_t elapsed = clock_now() - base;
    assert_true(elapsed == 0 || elapsed == 1);
    /* The fraction given stays: the clock reaches the next second only when
     * a whole second has passed, not after the first millisecond. */
    int32_t nsec = 0;
    elapsed = clock_now_frac(&nsec) - base;
    assert_int_equal(nsec, 999000000);
    assert_true(elapsed == 0 || elapsed == 1);
    /* It runs on with real time. */
    sleep(1);
    elapsed = clock_now() - base;
    assert_true(elapsed == 1 || elapsed == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_exists_good),
        cmocka_unit_test(test_zone_exists_bad),
        cmocka_unit_test(test_set_zone_unknown_keeps_old),
        cmocka_unit_test(test_shanghai),
        cmocka_unit_test(test_new_york_23_hour_day),
        cmocka_unit_test(test_new_york_25_hour_day),
        cmocka_unit_test(test_lord_howe_half_hour_dst),
        cmocka_unit_test(test_havana_skipped_midnight),
        cmocka_unit_test(test_havana_repeated_midnight),
        cmocka_unit_test(test_st_johns_midnight_twice),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_kiritimati),
        cmocka_unit_test(test_before_1970),
        cmocka_unit_test(test_year_range),
        cmocka_unit_test(test_day_by_date_bad),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_fraction_round_trip),
        cmocka_unit_test(test_now_real),
        cmocka_unit_test(test_now_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
