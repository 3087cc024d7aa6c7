/*
 * record_time.c — instants of records (record.h): the naive_timezone
 * option, and instants without a zone read in UTC, a fixed offset or the
 * business zone (cached per local hour, so a file of one day asks the
 * agent a couple of dozen times, not once per row).
 */
#include "record/record.h"

#include <string.h>

int rec_parse_offset(const char *t, int32_t *out)
{
    /* Exactly ±hh, ±hhmm or ±hh:mm, as ISO 8601 writes offsets. */
    size_t n = t != NULL ? strlen(t) : 0;
    if ((n != 3 && n != 5 && n != 6) || (t[0] != '+' && t[0] != '-') || (n == 6 && t[3] != ':'))
        return -1;
    const char *digits[4] = {t + 1, t + 2, t + (n == 6 ? 4 : 3), t + (n == 6 ? 5 : 4)};
    size_t nd = n == 3 ? 2 : 4;
    int d[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < nd; i++) {
        if (*digits[i] < '0' || *digits[i] > '9')
            return -1;
        d[i] = *digits[i] - '0';
    }
    int hours = d[0] * 10 + d[1], minutes = d[2] * 10 + d[3];
    /* Real zones stay within -12:00..+14:00; ISO 8601 allows up to 23:59. */
    if (hours > 23 || minutes > 59)
        return -1;
    *out = (t[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
    return 0;
}

int rec_naive_parse(const char *text, rec_naive_kind *kind, int32_t *offset_s)
{
    if (text == NULL)
        return -1;
    *offset_s = 0;
    if (strcmp(text, "UTC") == 0)
        *kind = REC_NAIVE_UTC;
    else if (strcmp(text, "business") == 0)
        *kind = REC_NAIVE_BUSINESS;
    else if (rec_parse_offset(text, offset_s) == 0)
        *kind = REC_NAIVE_OFFSET;
    else
        return -1;
    return 0;
}

void rec_conv_reset(rec_conv *c)
{
    memset(c->hours, 0, sizeof(c->hours));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Local wall-clock seconds in the business zone -> UTC seconds. */
static int business_to_utc(rec_conv *c, int64_t local, int64_t *utc)
{
    int64_t hour = floor_div(local, 3600);
    size_t slot = (size_t)(hour & (REC_HOUR_CACHE - 1));
    if (!c->hours[slot].valid || c->hours[slot].hour != hour) {
        int64_t u0, u1;
        if (c->api->local_to_utc(c->host, hour * 3600, &u0) != TALLY_HOST_OK ||
            c->api->local_to_utc(c->host, hour * 3600 + 3600, &u1) != TALLY_HOST_OK)
            return -1;
        c->hours[slot].hour = hour;
        c->hours[slot].offset_s = u0 - hour * 3600;
        /* Exactly an hour apart: no transition inside it (zones only move
         * back and forth by at least 15 minutes, never twice an hour). */
        c->hours[slot].uniform = u1 - u0 == 3600;
        c->hours[slot].valid = true;
    }
    if (c->hours[slot].uniform) {
        *utc = local + c->hours[slot].offset_s;
        return 0;
    }
    return c->api->local_to_utc(c->host, local, utc) == TALLY_HOST_OK ? 0 : -1;
}

int rec_conv_naive(rec_conv *c, int64_t wall_ns, int64_t *ns)
{
    const int64_t G = 1000000000;
    if (c->naive == REC_NAIVE_UTC) {
        *ns = wall_ns;
        return 0;
    }
    if (c->naive == REC_NAIVE_OFFSET) {
        int64_t shift = (int64_t)c->naive_offset_s * G;
        return __builtin_sub_overflow(wall_ns, shift, ns) ? -1 : 0;
    }
    int64_t local = floor_div(wall_ns, G), frac = wall_ns - local * G, utc;
    if (business_to_utc(c, local, &utc) != 0)
        return -1;
    int64_t whole;
    if (__builtin_mul_overflow(utc, G, &whole) || __builtin_add_overflow(whole, frac, ns))
        return -1;
    return 0;
}

int rec_conv_instant(rec_conv *c, const char *p, size_t n, int64_t *ns)
{
    bool naive = false;
    int64_t t;
    if (rec_parse_time(p, n, c->time_format, &t, &naive) != 0)
        return -1;
    if (!naive) {
        *ns = t;
        return 0;
    }
    return rec_conv_naive(c, t, ns);
}

