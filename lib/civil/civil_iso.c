/*
 * civil_iso.c — ISO 8601 instants (civil.h). The parser reads fixed
 * positions and turns the date into days with the calendar arithmetic, so
 * a timestamp costs a few dozen integer operations: sources call it once
 * per record.
 */
#include "civil/civil.h"

#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY INT64_C(86400)

static inline int two_digits(const char *p, int *v)
{
    unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');
    if (a > 9 || b > 9)
        return -1;
    *v = (int)(a * 10 + b);
    return 0;
}

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* The zone designator at p[i..n), which must end the text: Z, or ±hh:mm,
 * ±hhmm, ±hh (PostgreSQL prints "+08"), up to ±23:59. Seconds east. */
static int zone_at(const char *p, size_t i, size_t n, int *offset)
{
    if (p[i] == 'Z' || p[i] == 'z') {
        *offset = 0;
        return i + 1 == n ? 0 : -1;
    }
    if (p[i] != '+' && p[i] != '-')
        return -1;
    const int sign = p[i] == '-' ? -1 : 1;
    int oh, om = 0;
    if (n - i < 3 || two_digits(p + i + 1, &oh) != 0)
        return -1;
    i += 3;
    if (i < n && p[i] == ':') {
        i++;
        if (i == n)
            return -1; /* "+05:" */
    }
    if (i < n) {
        if (n - i != 2 || two_digits(p + i, &om) != 0)
            return -1;
    }
    if (oh > 23 || om > 59)
        return -1;
    *offset = sign * (oh * 3600 + om * 60);
    return 0;
}

int civil_parse_iso8601(const char *p, size_t n, unsigned flags, int64_t *sec, int32_t *nsec,
                        bool *zoned)
{
    if (p == NULL || n < 19 || p[4] != '-' || p[7] != '-' || p[13] != ':' || p[16] != ':')
        return -1;
    if (p[10] != 'T' && p[10] != 't' && p[10] != ' ')
        return -1;
    civil_date d;
    int c, yy, h, mi, s;
    if (two_digits(p, &c) || two_digits(p + 2, &yy) || two_digits(p + 5, &d.month) ||
        two_digits(p + 8, &d.day) || two_digits(p + 11, &h) || two_digits(p + 14, &mi) ||
        two_digits(p + 17, &s))
        return -1;
    d.year = c * 100 + yy;
    if (!civil_date_valid(d) || h > 23 || mi > 59 || s > 59)
        return -1;

    size_t i = 19;
    int32_t frac = 0;
    if (i < n && (p[i] == '.' || (p[i] == ',' && !(flags & CIVIL_ISO_RFC3339)))) {
        static const int32_t scale[10] = {1,      10,      100,      1000,      10000,
                                          100000, 1000000, 10000000, 100000000, 1000000000};
        const size_t f0 = ++i;
        while (i < n && is_digit(p[i]) && i - f0 < 9)
            frac = frac * 10 + (p[i++] - '0');
        if (i == f0 || (i < n && is_digit(p[i])))
            return -1;
        frac *= scale[9 - (i - f0)];
    }

    int offset = 0;
    const bool zone = i < n;
    if (zone ? zone_at(p, i, n, &offset) != 0 : (flags & CIVIL_ISO_RFC3339) != 0)
        return -1;
    *sec = civil_days_from_date(d) * SECONDS_PER_DAY + h * 3600 + mi * 60 + s - offset;
    *nsec = frac;
    *zoned = zone;
    return 0;
}

int civil_format_utc(int64_t utc, char out[CIVIL_UTC_LEN])
{
    const int64_t first = civil_days_from_date((civil_date){0, 1, 1}) * SECONDS_PER_DAY;
    const int64_t last = civil_days_from_date((civil_date){10000, 1, 1}) * SECONDS_PER_DAY - 1;
    if (utc < first || utc > last)
        return -1;
    /* Floor division, so that instants before 1970 print their own day. */
    int64_t days = utc / SECONDS_PER_DAY, tod = utc % SECONDS_PER_DAY;
    if (tod < 0) {
        tod += SECONDS_PER_DAY;
        days--;
    }
    const civil_date d = civil_date_from_days(days);
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month, d.day,
             (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
    memcpy(out, buf, CIVIL_UTC_LEN);
    return 0;
}

int civil_format_utc_frac(int64_t utc, int32_t nsec, char out[CIVIL_UTC_FRAC_LEN])
{
    char whole[CIVIL_UTC_LEN];
    if (nsec < 0 || nsec > 999999999 || civil_format_utc(utc, whole) != 0)
        return -1;
    if (nsec == 0) {
        memcpy(out, whole, CIVIL_UTC_LEN);
        return 0;
    }
    char frac[16];
    int digits = snprintf(frac, sizeof(frac), "%09d", (int)nsec);
    while (digits > 1 && frac[digits - 1] == '0')
        digits--;
    /* whole less its 'Z', the fraction, then the 'Z' again. */
    snprintf(out, CIVIL_UTC_FRAC_LEN, "%.19s.%.*sZ", whole, digits, frac);
    return 0;
}
