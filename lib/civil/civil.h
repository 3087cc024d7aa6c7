/*
 * civil.h — time without a time zone, for every part of tally: the
 * proleptic Gregorian calendar (dates <-> days since 1970-01-01), strict
 * ISO 8601 instants (parsed from a byte range, formatted in UTC), and the
 * monotonic clock that timeouts, backoff and pacing are measured on.
 *
 * Nothing here calls the C library's time functions, so it is exact for
 * any year, the same in every locale and TZ, and cheap enough for a parser
 * that reads a timestamp per record. Business days (a zone's midnights)
 * are the agent's, agent/clock.c, built on this.
 */
#ifndef TALLY_LIB_CIVIL_H
#define TALLY_LIB_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the calendar ---- */

typedef struct civil_date {
    int year, month, day; /* month 1..12, day 1..31 */
} civil_date;

/* Days from 1970-01-01 to d (negative before it); any year, also for a
 * day that overflows its month (2026-01-32 is 2026-02-01). */
int64_t civil_days_from_date(civil_date d);
/* The date `days` days after 1970-01-01. */
civil_date civil_date_from_days(int64_t days);
/* 28..31, leap years counted. */
int civil_days_in_month(int year, int month);
/* Whether d names a day that exists. */
bool civil_date_valid(civil_date d);

/* "YYYY-MM-DD": exactly n == 10 bytes, a day that exists. 0, or -1 with
 * *out untouched. */
int civil_parse_date(const char *p, size_t n, civil_date *out);
/* d as "YYYY-MM-DD" and a NUL; the year is taken modulo 10000. */
#define CIVIL_DATE_LEN 11
void civil_format_date(civil_date d, char out[CIVIL_DATE_LEN]);

/* ---- ISO 8601 instants ---- */

/*
 * YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[(.|,)1..9 digits] then Z, z, ±hh:mm,
 * ±hhmm, ±hh or nothing, exactly the n bytes at p (no NUL needed). The
 * date must exist; hour <= 23, minute and second <= 59 (no leap second:
 * POSIX time has no place for one); offsets up to ±23:59.
 *
 * *sec gets whole seconds since the epoch (floor), *nsec the fraction
 * (0..999999999). *zoned says whether a zone designator was there;
 * without one, *sec is the wall time read as if it were UTC and the caller
 * applies its zone. flags CIVIL_ISO_RFC3339 also requires the zone and
 * refuses a comma before the fraction (what a command line takes).
 * 0, or -1 with the outputs untouched.
 */
enum { CIVIL_ISO_RFC3339 = 1u };
int civil_parse_iso8601(const char *p, size_t n, unsigned flags, int64_t *sec, int32_t *nsec,
                        bool *zoned);

/* utc as "YYYY-MM-DDTHH:MM:SSZ" and a NUL: 0, or -1 (out untouched) for
 * an instant outside the years 0000..9999. */
#define CIVIL_UTC_LEN 21
int civil_format_utc(int64_t utc, char out[CIVIL_UTC_LEN]);
/* The same with nsec (0..999999999) of the next second as a fraction, in
 * as few digits as keep it exact ("...:59.999Z"); none when it is 0. */
#define CIVIL_UTC_FRAC_LEN 31
int civil_format_utc_frac(int64_t utc, int32_t nsec, char out[CIVIL_UTC_FRAC_LEN]);

/* ---- the monotonic clock ---- */

/* Nanoseconds on CLOCK_MONOTONIC: for intervals and deadlines, never for
 * dates (it does not move when the wall clock is set). */
int64_t civil_mono_ns(void);

/* The same clock in seconds, for deadlines kept as doubles. */
static inline double civil_mono_seconds(void)
{
    return (double)civil_mono_ns() / 1e9;
}

#endif
