/*
 * daily_date.c — business dates as day numbers (for keep_days and for
 * walking every day of a range), the business day of a date, and the
 * fixed-point costs split into whole units and 1e-18 parts, the form the
 * tables store them in: SQLite integers are 64-bit, and an exact sum
 * needs more.
 */
#include "daily.h"

#include "civil/civil.h"

#include <stdio.h>
#include <string.h>

_Static_assert(TALLY_DATE_LEN == CIVIL_DATE_LEN, "a business date is a civil date");

/* Days since 1970-01-01 of a "YYYY-MM-DD" date. */
int daily_date_number(const char *date, int64_t *out)
{
    civil_date d;
    if (civil_parse_date(date, strlen(date), &d) != 0)
        return -1;
    *out = civil_days_from_date(d);
    return 0;
}

void daily_date_string(int64_t number, char out[TALLY_DATE_LEN])
{
    civil_format_date(civil_date_from_days(number), out);
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
