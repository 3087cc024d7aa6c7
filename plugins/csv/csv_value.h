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
#include <string.h>

#include "tally/record.h"

/* [+-]?digits, optionally followed by a fraction of zeros only ("12.0",
 * "12.000"), as databases print whole numbers in decimal columns. -1 when
 * it does not fit int64. (An inline function, below.) */
static inline int csv_parse_int64(const char *p, size_t n, int64_t *out);

/* A decimal, [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, in units of
 * 1e-18, exactly: digits beyond the 18th after the point round half to
 * even. -1 for anything else (empty, nan, inf, spaces, "1.") and for values
 * beyond the range of tally_fixed. (An inline function, below.) */
static inline int csv_parse_fixed(const char *p, size_t n, tally_fixed *out);

/* The same two, for every input: what the inline versions fall back to. */
int csv_parse_int64_full(const char *p, size_t n, int64_t *out);
int csv_parse_fixed_full(const char *p, size_t n, tally_fixed *out);

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

/*
 * The inline parsers. Every usage row carries a dozen numbers, nearly all
 * plain digits with at most one point ("2151", "0.0101696"), so these read
 * that shape in one pass where the caller can inline them, and hand any
 * other text (a '+', an exponent, more than 18 digits on a side, a
 * trailing ".0" on an integer, anything malformed) to the full parsers.
 * Within the shape nothing can overflow or round, so both paths give the
 * same result for every input.
 */

extern const uint64_t csv_pow10[20];

/* 8 bytes, the first in the lowest byte whatever the machine's order. */
static inline uint64_t csv_load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* p[n-k..n), 1 <= k <= 8 <= n, as a number when those are all digits:
 * 0, or -1. The last 8 bytes are loaded and the ones before the k digits
 * zeroed, which the conversion reads as leading zeros. Per byte, a digit
 * has the high nibble 3 and stays under 0x3A after adding 6; a carry out
 * of a byte comes only from a byte >= 0xFA, which fails the check itself. */
static inline int csv_tail_digits(const char *p, size_t n, size_t k, uint64_t *out)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t keep = ~UINT64_C(0) << (8 * (8 - k));
    uint64_t x = csv_load8(p + n - 8) & keep;
    uint64_t hi = (x & ones * 0xF0) ^ ones * 0x30;
    uint64_t lo = ((x + ones * 0x06) & ones * 0xF0) ^ ones * 0x30;
    if (((hi | lo) & keep) != 0)
        return -1;
    /* Pairs, then fours, then all eight digits, most significant first. */
    x = ((x & ones * 0x0F) * 2561) >> 8;
    x = ((x & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
    *out = ((x & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
    return 0;
}

static inline int csv_parse_int64(const char *p, size_t n, int64_t *out)
{
    /* 1..18 digits: below 10^18, so no sign and no overflow to mind. */
    if (n - 1 < 18) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return csv_parse_int64_full(p, n, out);
            v = v * 10 + d;
        }
        *out = (int64_t)v;
        return 0;
    }
    return csv_parse_int64_full(p, n, out);
}

static inline int csv_parse_fixed(const char *p, size_t n, tally_fixed *out)
{
    /* -?digits{0,18}(.digits{1,18})?, at least one digit: the value is
     * whole * 10^18 + fraction * 10^(18 - k), below 10^36 < 2^127. */
    const bool neg = n > 0 && p[0] == '-';
    size_t i = neg;
    uint64_t whole = 0;
    for (; i < n && i - neg < 18; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            break;
        whole = whole * 10 + d;
    }
    const size_t ilen = i - neg;
    uint64_t frac = 0;
    size_t k = 0;
    if (i < n) {
        k = n - i - 1;
        if (p[i] != '.' || k - 1 >= 18)
            return csv_parse_fixed_full(p, n, out);
        if (k <= 8 && n >= 8) {
            if (csv_tail_digits(p, n, k, &frac) != 0)
                return csv_parse_fixed_full(p, n, out);
        } else {
            for (i++; i < n; i++) {
                unsigned d = (unsigned)(unsigned char)p[i] - '0';
                if (d > 9)
                    return csv_parse_fixed_full(p, n, out);
                frac = frac * 10 + d;
            }
        }
    } else if (ilen == 0) {
        return csv_parse_fixed_full(p, n, out);
    }
    /* frac < 10^k, so frac * 10^(18 - k) < 10^18 fits 64 bits, and one
     * 64 x 64 bit product gives the whole part. */
    const unsigned __int128 v = (unsigned __int128)whole * (uint64_t)TALLY_FIXED_ONE +
                                frac * csv_pow10[TALLY_FIXED_DIGITS - k];
    *out = neg ? -(tally_fixed)v : (tally_fixed)v;
    return 0;
}

#endif
