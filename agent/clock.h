/*
 * clock.h — the business clock: the configured IANA time zone, "now" (the
 * real time, or an instant given with --now that then advances in real
 * time), and business days: [local midnight of D, local midnight of D+1)
 * as UTC instants, DST-correct (days of 23, 23.5, 24.5 or 25 hours; a
 * midnight that does not exist starts the day at the first instant that
 * has date D; a midnight that occurs twice starts it at the first one; a
 * date the zone skipped entirely is an empty day, start == end).
 *
 * The zone is applied process-wide (TZ + tzset) so localtime_r is right on
 * every thread; call clock_set_zone only while no other thread runs.
 */
#ifndef TALLY_AGENT_CLOCK_H
#define TALLY_AGENT_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "tally/plugin.h"

/* 0 if name is a zone in the system tz database (a TZif file under
 * /usr/share/zoneinfo, no path tricks), else -1. */
int clock_zone_exists(const char *name);
/* Make name the business zone. 0, or -1 if it does not exist. */
int clock_set_zone(const char *name);
/* The business zone's name; "" until clock_set_zone has succeeded. */
const char *clock_zone(void);

/* Parse an ISO 8601 instant: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm|+hhmm|+hh);
 * also a space or a lower-case t for the T, and a lower-case z (RFC 3339). *utc gets whole seconds
 * (the fraction is truncated toward minus infinity), *nanos the fraction. 0 or -1. */
int clock_parse_iso8601(const char *text, int64_t *utc, int32_t *nanos);
/* An instant as "YYYY-MM-DDTHH:MM:SSZ" (buf of at least 21 bytes). */
void clock_format_utc(int64_t utc, char *buf);

/* --now: from this call on, now() is `utc` plus the whole seconds of real
 * time elapsed, and nsec the fraction of its second: the instant given is
 * kept to the nanosecond, and it reaches a day boundary on the second it
 * names. */
void clock_set_now(int64_t utc, int32_t nsec);
int64_t clock_now(void);
/* now() and the fraction of its second: 0 on the real clock, whose cycles
 * fall on whole seconds; --now's own fraction under --now. */
int64_t clock_now_frac(int32_t *nsec);

/* The business day containing utc. 0, or -1 outside years 1900..9999. */
int clock_day_of(int64_t utc, tally_day *out);
/* The business day with this date ("YYYY-MM-DD"). 0 or -1. */
int clock_day_by_date(const char *date, tally_day *out);
/* A wall time in the business zone (seconds since 1970-01-01T00:00
 * local) to UTC: a repeated time is its first occurrence, a skipped one
 * moves forward by the gap. 0 or -1. */
int clock_local_to_utc(int64_t local, int64_t *utc);
/* Local broken-down time in the business zone. */
int clock_local_time(int64_t utc, struct tm *out);

#endif
