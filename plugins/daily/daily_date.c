/*
 * daily_date.c — business dates as day numbers (for keep_days and for
 * walking every day of a range), the business day of a date, and the
 * fixed-point costs split into whole units and 1e-18 parts, the form the
 * tables store them in: SQLite integers are 64-bit, and an exact sum
 * needs more.
 */
#include "daily.h"

#include <stdio.h>
#include <string.h>

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

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
int daily_date_number(const char *date, int64_t *out)
{
    int y, m, dd;
    if (strlen(date) != 10 || date[4] != '-' || date[7] != '-' || digits(date, 4, &y) != 0 ||
        digits(date + 5, 2, &m) != 0 || digits(date + 8, 2, &dd) != 0 || m < 1 || m > 12 ||
        dd < 1 || dd > 31)
        return -1;
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *out = era * 146097 + doe - 719468;
    return 0;
}

void daily_date_string(int64_t z, char out[TALLY_DATE_LEN])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (int)(y % 10000), (int)m, (int)dd);
    memcpy(out, buf, TALLY_DATE_LEN - 1);
    out[TALLY_DATE_LEN - 1] = '\0';
}

/* The oldest business date keep_days keeps listed while today is `today`:
 * both the statistics and the pruning at rollover start there. */
int daily_oldest_kept(const daily_collector *d, const char *today, char out[TALLY_DATE_LEN])
{
    int64_t n;
    if (daily_date_number(today, &n) != 0)
        return -1;
    daily_date_string(n - d->keep_days, out);
    return 0;
}

/* Local midnight, moved past a DST gap by the host, lies in the day. */
int daily_day_by_date(daily_collector *d, const char *date, tally_day *out)
{
    int64_t n, utc;
    if (daily_date_number(date, &n) != 0 ||
        d->api->local_to_utc(d->host, n * 86400, &utc) != TALLY_HOST_OK ||
        d->api->day_of(d->host, utc, out) != TALLY_HOST_OK)
        return -1;
    return 0;
}

#define ATTO ((int64_t)1000000000000000000LL)

/* whole = floor(v / 1e18), atto in [0, 1e18): the tables add these with
 * a carry, see daily_store.c. */
void daily_fixed_split(tally_fixed v, int64_t *whole, int64_t *atto)
{
    tally_fixed w = v / ATTO, a = v % ATTO;
    if (a < 0) {
        a += ATTO;
        w -= 1;
    }
    *whole = (int64_t)w;
    *atto = (int64_t)a;
}

tally_fixed daily_fixed_join(int64_t whole, int64_t atto)
{
    return (tally_fixed)whole * ATTO + atto;
}

/* Whole and fraction converted apart, so the result is the correctly
 * rounded double of the exact sum to within an ulp. */
double daily_fixed_to_double(tally_fixed v)
{
    int64_t whole, atto;
    daily_fixed_split(v, &whole, &atto);
    return (double)whole + (double)atto / 1e18;
}
