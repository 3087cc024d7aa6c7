/*
 * csv_value.h — the value parsers of the csv source: integers, exact
 * decimals, booleans and instants, read from a field's bytes (p, n), which
 * need not end in NUL. They do not depend on the locale, never go through
 * double, and accept the whole field or nothing: each returns 0, or -1
 * with *out untouched.
 */
#ifndef TALLY_CSV_VALUE_H
#define TALLY_CSV_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/record.h"

/* [+-]?digits, optionally followed by a fraction of zeros only ("12.0",
 * "12.000"), as databases print whole numbers in decimal columns. -1 when
 * it does not fit int64. */
int csv_parse_int64(const char *p, size_t n, int64_t *out);

/* A decimal, [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, in units of
 * 1e-18, exactly: digits beyond the 18th after the point round half to
 * even. -1 for anything else (empty, nan, inf, spaces, "1.") and for values
 * beyond the range of tally_fixed. */
int csv_parse_fixed(const char *p, size_t n, tally_fixed *out);

/* true/false, t/f, 1/0, yes/no, in any case. */
int csv_parse_bool(const char *p, size_t n, bool *out);

typedef enum csv_time_format {
    CSV_TIME_ISO8601 = 0,
    CSV_TIME_EPOCH_S = 1,
    CSV_TIME_EPOCH_MS = 2,
} csv_time_format;

/*
 * An instant, as UTC nanoseconds since the epoch in *ns.
 *
 * CSV_TIME_ISO8601: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[(.|,)1..9 digits]
 * then Z, z, ±hh:mm, ±hhmm, ±hh or nothing. Without a zone *naive is true
 * and *ns is the wall time read as if it were UTC; the caller applies the
 * business zone. The date must exist (leap years counted), the hour is at
 * most 23, the minute and the second at most 59: a leap second (:60) is
 * refused, as POSIX time has no place for it. Offsets go to ±23:59.
 *
 * CSV_TIME_EPOCH_S, CSV_TIME_EPOCH_MS: seconds or milliseconds since the
 * epoch, in the decimal syntax of csv_parse_fixed ("1732240800",
 * "-1.5", "1732240800123.456"); digits beyond the nanosecond round half to
 * even. *naive is false.
 *
 * -1 for anything else, and for instants outside int64 nanoseconds
 * (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z).
 */
int csv_parse_time(const char *p, size_t n, csv_time_format fmt, int64_t *ns, bool *naive);

#endif
