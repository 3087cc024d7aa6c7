/*
 * civil_date.c — the proleptic Gregorian calendar (civil.h): eras of 400
 * years, years counted from March so that the leap day comes last (the
 * days_from_civil / civil_from_days arithmetic of Howard Hinnant's paper
 * "chrono-Compatible Low-Level Date Algorithms").
 */
#include "civil/civil.h"

#include <stdio.h>
#include <string.h>

int64_t civil_days_from_date(civil_date d)
{
    const int64_t y = (int64_t)d.year - (d.month <= 2);
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

civil_date civil_date_from_days(int64_t z)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    civil_date d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    return d;
}

int civil_days_in_month(int year, int month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == 2 && leap);
}

bool civil_date_valid(civil_date d)
{
    return d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= civil_days_in_month(d.year, d.month);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int civil_parse_date(const char *p, size_t n, civil_date *out)
{
    civil_date d;
    if (p == NULL || n != 10 || p[4] != '-' || p[7] != '-' || digits(p, 4, &d.year) != 0 ||
        digits(p + 5, 2, &d.month) != 0 || digits(p + 8, 2, &d.day) != 0 || !civil_date_valid(d))
        return -1;
    *out = d;
    return 0;
}

void civil_format_date(civil_date d, char out[CIVIL_DATE_LEN])
{
    /* Through a larger buffer: the compiler cannot know the members are
     * in range and would warn of truncation. */
    char buf[48];
    int y = d.year % 10000;
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y < 0 ? -y : y, d.month, d.day);
    memcpy(out, buf, CIVIL_DATE_LEN - 1);
    out[CIVIL_DATE_LEN - 1] = '\0';
}
