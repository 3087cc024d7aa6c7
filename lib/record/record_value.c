/*
 * record_value.c — the value parsers of every record source (record.h).
 *
 * Decimals are read as a digit string D and a power of ten, then scaled to
 * an integer count of 10^-scale units with integer arithmetic only: the
 * digits above the unit are accumulated, the first digit below it and
 * whether anything non-zero follows decide the half-to-even rounding. So
 * "0.1" is exactly 10^17 units, which a double cannot promise.
 *
 * ISO 8601 instants are lib/civil's.
 */
#include "record/record.h"

#include "civil/civil.h"

#include <string.h>

typedef unsigned __int128 u128;

#define U128_TOP ((u128)1 << 127)

const uint64_t rec_pow10[20] = {1u,
                                10u,
                                100u,
                                1000u,
                                10000u,
                                100000u,
                                1000000u,
                                10000000u,
                                100000000u,
                                1000000000u,
                                10000000000u,
                                100000000000u,
                                1000000000000u,
                                10000000000000u,
                                100000000000000u,
                                1000000000000000u,
                                10000000000000000u,
                                100000000000000000u,
                                1000000000000000000u,
                                10000000000000000000u};

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* ---- Integers ----------------------------------------------------------- */

int rec_parse_int64_full(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    size_t start = i;
    uint64_t v = 0;
    /* Magnitudes up to 2^63, which only a negative number may reach. */
    const uint64_t top = (uint64_t)1 << 63;
    for (; i < n && is_digit(p[i]); i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (top - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (i == start)
        return -1;
    if (i < n && p[i] == '.') {
        size_t z = ++i;
        while (i < n && p[i] == '0')
            i++;
        if (i == z)
            return -1;
    }
    if (i != n || (!neg && v == top))
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* ---- Decimals ----------------------------------------------------------- */

/*
 * The syntax of rec_parse_fixed; *mag = |x| * 10^scale rounded half to
 * even. -1 on bad syntax or when *mag would pass 2^127, so every result
 * fits a negative __int128 and callers check the positive bound.
 */
static int parse_scaled(const char *p, size_t n, int scale, bool *neg, u128 *mag)
{
    size_t i = 0;
    *neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        *neg = p[i++] == '-';
    const char *ip = p + i;
    while (i < n && is_digit(p[i]))
        i++;
    const size_t ilen = (size_t)(p + i - ip);
    const char *fp = p + i;
    size_t flen = 0;
    if (i < n && p[i] == '.') {
        fp = p + ++i;
        while (i < n && is_digit(p[i]))
            i++;
        flen = (size_t)(p + i - fp);
        if (flen == 0)
            return -1;
    }
    if (ilen + flen == 0)
        return -1;
    int64_t exp = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        size_t e0 = i;
        for (; i < n && is_digit(p[i]); i++)
            if (exp < 1000000000) /* far beyond any result: saturate */
                exp = exp * 10 + (p[i] - '0');
        if (i == e0)
            return -1;
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return -1;

    /* D is ip[0..ilen) followed by fp[0..flen); its first `cut` digits are
     * at or above the unit. */
    const size_t len = ilen + flen;
    const int64_t cut = (int64_t)ilen + exp + scale;

    /* The common case: at most 19 digits, scaled up by at most 10^19. The
     * product stays below 10^38 < 2^127, so no check is needed. */
    if (len <= 19 && cut >= (int64_t)len && cut - (int64_t)len <= 19) {
        uint64_t d = 0;
        for (size_t k = 0; k < ilen; k++)
            d = d * 10 + (uint64_t)(ip[k] - '0');
        for (size_t k = 0; k < flen; k++)
            d = d * 10 + (uint64_t)(fp[k] - '0');
        *mag = (u128)d * rec_pow10[cut - (int64_t)len];
        return 0;
    }

    u128 v = 0;
    const int64_t take = cut < 0 ? 0 : cut < (int64_t)len ? cut : (int64_t)len;
    for (int64_t k = 0; k < take; k++) {
        unsigned d = (unsigned)((size_t)k < ilen ? ip[k] : fp[(size_t)k - ilen]) - '0';
        if (v > (U128_TOP - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (cut > (int64_t)len) {
        for (int64_t k = (int64_t)len; k < cut && v != 0; k++) {
            if (v > U128_TOP / 10)
                return -1;
            v *= 10;
        }
    } else if (cut >= 0 && cut < (int64_t)len) {
        size_t r = (size_t)cut;
        unsigned rd = (unsigned)(r < ilen ? ip[r] : fp[r - ilen]) - '0';
        bool sticky = false;
        for (size_t k = r + 1; k < len && !sticky; k++)
            sticky = (k < ilen ? ip[k] : fp[k - ilen]) != '0';
        if (rd > 5 || (rd == 5 && (sticky || (v & 1)))) {
            if (v == U128_TOP)
                return -1;
            v++;
        }
    }
    *mag = v;
    return 0;
}

int rec_parse_fixed_full(const char *p, size_t n, tally_fixed *out)
{
    bool neg;
    u128 mag;
    if (parse_scaled(p, n, TALLY_FIXED_DIGITS, &neg, &mag) != 0)
        return -1;
    if (!neg && mag == U128_TOP)
        return -1;
    /* -2^127 has no positive counterpart: negate in unsigned arithmetic. */
    *out = neg ? (tally_fixed)(0 - mag) : (tally_fixed)mag;
    return 0;
}

/* ---- Booleans ----------------------------------------------------------- */

/* p[0..n) equals the lower-case word w in any case. Only letters are
 * folded: OR-ing 0x20 maps a letter to lower case and no other byte onto
 * a letter of these words. */
static bool word_eq(const char *p, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (w[i] >= 'a' && w[i] <= 'z')
            c |= 0x20;
        if (c != (unsigned char)w[i])
            return false;
    }
    return true;
}

int rec_parse_bool(const char *p, size_t n, bool *out)
{
    static const char *const yes[] = {"true", "t", "1", "yes"};
    static const char *const no[] = {"false", "f", "0", "no"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (word_eq(p, n, yes[i])) {
            *out = true;
            return 0;
        }
        if (word_eq(p, n, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* ---- Instants ----------------------------------------------------------- */

#define NS_PER_S INT64_C(1000000000)

/* seconds * 1e9 + frac, or -1 when it leaves int64. */
static int to_ns(int64_t seconds, int64_t frac, int64_t *ns)
{
    __int128 v = (__int128)seconds * NS_PER_S + frac;
    if (v < INT64_MIN || v > INT64_MAX)
        return -1;
    *ns = (int64_t)v;
    return 0;
}

static int parse_iso(const char *p, size_t n, int64_t *ns, bool *naive)
{
    int64_t seconds;
    int32_t frac;
    bool zoned;
    if (civil_parse_iso8601(p, n, 0, &seconds, &frac, &zoned) != 0 || to_ns(seconds, frac, ns) != 0)
        return -1;
    *naive = !zoned;
    return 0;
}

static int parse_epoch(const char *p, size_t n, int scale, int64_t *ns, bool *naive)
{
    bool neg;
    u128 mag;
    if (parse_scaled(p, n, scale, &neg, &mag) != 0)
        return -1;
    const u128 top = (u128)1 << 63;
    if (mag > top || (!neg && mag == top))
        return -1;
    *ns = neg ? (int64_t)(0 - (uint64_t)mag) : (int64_t)(uint64_t)mag;
    *naive = false;
    return 0;
}

int rec_parse_time(const char *p, size_t n, rec_time_format fmt, int64_t *ns, bool *naive)
{
    switch (fmt) {
    case REC_TIME_ISO8601:
        return parse_iso(p, n, ns, naive);
    case REC_TIME_EPOCH_S:
        return parse_epoch(p, n, 9, ns, naive);
    case REC_TIME_EPOCH_MS:
        return parse_epoch(p, n, 6, ns, naive);
    }
    return -1;
}
