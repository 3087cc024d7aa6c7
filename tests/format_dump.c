/*
 * format_dump.c — renders one of a few built-in snapshots to stdout, so
 * scripts can hand the output to real consumers (promtool, a JSON or CSV
 * parser): format_dump SNAPSHOT FORMAT [CSV_TABLE]
 *
 *   empty      what an agent without a daily collector exports
 *   realistic  a few days of a busy gateway and its region counters
 *   edge       extreme values, NaN and infinities, names that need
 *              escaping, UTF-8 and a byte that is not
 */
#include "format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const tally_day_stats realistic_days[] = {
    {"2026-11-20", 1795104000, 48211, 47002, 1209, 91833412, 30211877, 1200341, 40122981, 1834.2271,
     1650.80439, 702.11, 1012.3377, 40.5, 79.2794, 812.337, 37, 9, 4},
    {"2026-11-21", 1795190400, 51007, 50713, 294, 99012355, 33100871, 1381022, 42001873, 1990.0173,
     1791.01557, 760.0031, 1100.2, 46.1, 83.7142, 790.0021, 41, 10, 4},
};

static const tally_user_day_stats realistic_user_days[] = {
    {"2026-11-20", 1795104000, "alice", 20110, 20001, 109, 40111233, 12001877, 500341, 20122981,
     801.22},
    {"2026-11-20", 1795104000, "bob", 28101, 27001, 1100, 51722179, 18210000, 700000, 20000000,
     1033.0071},
    {"2026-11-21", 1795190400, "alice", 51007, 50713, 294, 99012355, 33100871, 1381022, 42001873,
     1990.0173},
};

static const tally_counter_value realistic_counters[] = {
    {"api.errors", 1503},        {"api.requests.today", 18211}, {"api.requests.total", 117429},
    {"cache.bytes", 8812733120}, {"queue.depth", -2},
};

static const tally_counter_day realistic_counter_days[] = {
    {"2026-11-20", "api.requests.today", 48211},
    {"2026-11-21", "api.requests.today", 51007},
};

static tally_snapshot base(void)
{
    tally_snapshot s = {
        .timezone = "Asia/Shanghai",
        .now_utc = 1795316400,       /* 2026-11-22T03:00:00Z */
        .generated_utc = 1795316401, /* 2026-11-22T03:00:01Z */
        .summary = {.cutoff_utc = 1795276800},
    };
    return s;
}

static tally_snapshot realistic(void)
{
    tally_snapshot s = base();
    s.days = realistic_days;
    s.n_days = COUNT(realistic_days);
    s.user_days = realistic_user_days;
    s.n_user_days = COUNT(realistic_user_days);
    s.summary = (tally_summary){1795276800,
                                99218,
                                97715,
                                1503,
                                190845767,
                                63312748,
                                2581363,
                                82124854,
                                3824.2444,
                                3441.81996,
                                {2031, 1877, 3110, 2750}};
    s.today =
        (tally_totals){18211, 18102, 109, 35011877, 11877201, 501223, 15001877, 701.3321, 630.1};
    s.combined = (tally_totals){117429,
                                115817,
                                1612,
                                225857644,
                                75189949,
                                3082586,
                                97126731,
                                3824.2444 + 701.3321,
                                3441.81996 + 630.1};
    s.counters = realistic_counters;
    s.n_counters = COUNT(realistic_counters);
    s.counter_days = realistic_counter_days;
    s.n_counter_days = COUNT(realistic_counter_days);
    s.rejected_rows = 3;
    return s;
}

static const tally_counter_value edge_counters[] = {
    {"", 0},
    {"a\"b\\c", INT64_MIN},
    {"back\\slash\\\\", -1},
    {"line\nfeed", 1},
    {"not utf-8 \xff\xfe", 2},
    {"quote\"", INT64_MAX},
    {"x123456789012345678901234567890123456789012345678901234567890123", 64},
    {"z\xc3\xa4hler.\xe2\x82\xac.\xf0\x9f\x98\x80", 3},
};

static tally_snapshot edge(void)
{
    tally_snapshot s = base();
    s.timezone = "America/Argentina/ComodRivadavia";
    s.generated_utc = 253402300799; /* 9999-12-31T23:59:59Z, the last four-digit year */
    s.summary.inventory = (tally_inventory){INT64_MAX, 0, INT64_MAX, INT64_MIN};
    s.today = (tally_totals){INT64_MAX, INT64_MAX, 0,   INT64_MAX, INT64_MAX,
                             INT64_MAX, INT64_MAX, NAN, -INFINITY};
    s.combined = (tally_totals){INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX,
                                INT64_MAX, INT64_MAX, 1e300,     INFINITY};
    s.summary.all_time_cost = 5e-324;
    s.counters = edge_counters;
    s.n_counters = COUNT(edge_counters);
    s.rejected_rows = INT64_MAX;
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: format_dump empty|realistic|edge json|prometheus|csv [table]\n");
        return 2;
    }
    tally_snapshot s;
    if (strcmp(argv[1], "empty") == 0) {
        s = base();
    } else if (strcmp(argv[1], "realistic") == 0) {
        s = realistic();
    } else if (strcmp(argv[1], "edge") == 0) {
        s = edge();
    } else {
        fprintf(stderr, "format_dump: no snapshot named '%s'\n", argv[1]);
        return 2;
    }
    tally_format f;
    if (tally_format_from_name(argv[2], &f) != 0) {
        fprintf(stderr, "format_dump: no format named '%s'\n", argv[2]);
        return 2;
    }
    tally_format_opts o = {.csv_table = argc == 4 ? argv[3] : NULL};
    char *out;
    size_t len;
    if (tally_format_render(f, &s, &o, &out, &len) != 0) {
        fprintf(stderr, "format_dump: rendering %s as %s failed\n", argv[1], argv[2]);
        return 1;
    }
    int rc = fwrite(out, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    free(out);
    return rc;
}
