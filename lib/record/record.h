/*
 * record.h — what every record source shares, whatever it reads: the
 * streams' fields (names, which a stream has and requires, where each
 * goes in a tally_record and how it is read), the `columns` and
 * `naive_timezone` options, the exact value parsers (integers, decimals
 * into fixed point, booleans, ISO 8601 and epoch instants), and the
 * conversion of one row of text values into a record, batched until it is
 * emitted.
 *
 * A source hands over a row as an array of rec_value, one per column it
 * found: the csv source its scanner's fields as they are, a JSON-lines
 * source the values of the keys it looked up. A rec_colmap says which
 * column feeds which field; rec_conv_row fills the batch's next record.
 *
 * Records hold byte slices. A slice points into the source's buffer when
 * the value's bytes lie in [lo, hi) (the range rec_conv_row is given), or
 * into the batch's arena otherwise (a value the source unescaped into
 * memory it reuses). So a batch must be emitted before the source's buffer
 * changes; the arena lives as long as the batch.
 */
#ifndef TALLY_LIB_RECORD_H
#define TALLY_LIB_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tally/plugin.h"

/* ---- the schema ---- */

/* Every field of every stream (DESIGN.md's names). */
typedef enum rec_field_id {
    REC_F_ID,
    REC_F_REQUEST_ID,
    REC_F_CREATED_AT,
    REC_F_USER_ID,
    REC_F_API_KEY_ID,
    REC_F_PROVIDER,
    REC_F_MODEL,
    REC_F_STATUS_CODE,
    REC_F_ERROR_MESSAGE,
    REC_F_INPUT_TOKENS,
    REC_F_OUTPUT_TOKENS,
    REC_F_CACHE_CREATION_INPUT_TOKENS,
    REC_F_CACHE_READ_INPUT_TOKENS,
    REC_F_INPUT_COST_USD,
    REC_F_OUTPUT_COST_USD,
    REC_F_CACHE_CREATION_COST_USD,
    REC_F_CACHE_READ_COST_USD,
    REC_F_TOTAL_COST_USD,
    REC_F_ACTUAL_TOTAL_COST_USD,
    REC_F_RESPONSE_TIME_MS,
    REC_F_STATUS,
    REC_F_IS_ACTIVE,
    REC_FIELD_COUNT
} rec_field_id;

/* "usage", "candidates", "users", "api_keys" -> the stream: 0 or -1. */
int rec_stream_from_name(const char *name, tally_stream *out);
const char *rec_stream_name(tally_stream stream);
/* A field's name, and whether it belongs to (and is required by) a stream. */
const char *rec_field_name(rec_field_id f);
bool rec_stream_has(tally_stream stream, rec_field_id f);
bool rec_stream_requires(tally_stream stream, rec_field_id f);
/* The field called name (n bytes): 0 and *out, or -1. */
int rec_field_lookup(const char *name, size_t n, rec_field_id *out);
/* The stream's fields as "a, b, c" for messages. */
const char *rec_stream_field_list(tally_stream stream);
/* Check the `columns` option of a section: each entry "field=name" names
 * a field of the stream (of any stream when stream is NULL), no field
 * twice. `name` is what the renamed thing is called in messages
 * ("header", "column"). Each problem goes to api->config_error, naming
 * the option and the entry; returns how many there were. */
int rec_columns_check(tally_host *h, const tally_host_api *api, cfg_t *section,
                      const tally_stream *stream, const char *name);

/* How a field's value is read: its type, and for two fields whether a
 * value also sets a flag (NULL is told apart from 0 there). */
enum { REC_K_STR, REC_K_TIME, REC_K_INT, REC_K_STATUS, REC_K_FIXED, REC_K_RT, REC_K_BOOL };
/* Where field f's value goes in a tally_record of the stream (*off, from
 * the record's start) and how it is read (*kind, REC_K_*): also for
 * sources that fill records from typed inputs (the odbc source). */
void rec_field_layout(tally_stream stream, rec_field_id f, uint16_t *off, uint8_t *kind);

/* ---- rows and column maps ---- */

/* One value of a row: len bytes at ptr, which need not end in NUL. len 0
 * is NULL (an empty CSV field, a JSON null, a key that is not there), as
 * every source reads an empty value. */
typedef struct rec_value {
    const char *ptr;
    uint32_t len;
} rec_value;

/* Which column of a row feeds which field; only the stream's fields. */
typedef struct rec_colmap {
    size_t n_cols; /* columns in a row: every row must have as many */
    size_t n_mapped;
    bool complete; /* the usage stream with every field mapped (record_row.c) */
    bool by_field; /* built by rec_colmap_fields: messages name no column */
    struct {
        uint32_t col;
        rec_field_id field;
        uint16_t off; /* where the value goes in a tally_record */
        uint8_t kind; /* how it is read, REC_K_* */
    } mapped[REC_FIELD_COUNT];
} rec_colmap;

/* Build *m from a header row of n_cols names. names[f] is the header name
 * that feeds field f (its own name unless the `columns` option renamed
 * it); names compare without spaces around them (and without a UTF-8 byte
 * order mark before the first), and one column may feed several fields. A
 * header column that names no field is ignored; when two columns carry one
 * name the first counts. 0, or -1 with *missing the first required field
 * without a column. */
int rec_colmap_build(tally_stream stream, const char *const names[REC_FIELD_COUNT],
                     const rec_value *header, size_t n_cols, rec_colmap *m, rec_field_id *missing);
/* For a source that finds each field's value by name (a JSON object's
 * keys): column f is field f, so rows are arrays of REC_FIELD_COUNT
 * values indexed by rec_field_id, NULL where the input had none. */
void rec_colmap_fields(tally_stream stream, rec_colmap *m);

/* ---- values ---- */

/*
 * The parsers read a value's bytes (p, n), which need not end in NUL. They
 * do not depend on the locale, never go through double, and accept the
 * whole value or nothing: each returns 0, or -1 with *out untouched.
 */

/* [+-]?digits, optionally followed by a fraction of zeros only ("12.0",
 * "12.000"), as databases print whole numbers in decimal columns. -1 when
 * it does not fit int64. (An inline function, below.) */
static inline int rec_parse_int64(const char *p, size_t n, int64_t *out);

/* A decimal, [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, in units of
 * 1e-18, exactly: digits beyond the 18th after the point round half to
 * even. -1 for anything else (empty, nan, inf, spaces, "1.") and for values
 * beyond the range of tally_fixed. (An inline function, below.) */
static inline int rec_parse_fixed(const char *p, size_t n, tally_fixed *out);

/* The same two, for every input: what the inline versions fall back to. */
int rec_parse_int64_full(const char *p, size_t n, int64_t *out);
int rec_parse_fixed_full(const char *p, size_t n, tally_fixed *out);

/* true/false, t/f, 1/0, yes/no, in any case. */
int rec_parse_bool(const char *p, size_t n, bool *out);

typedef enum rec_time_format {
    REC_TIME_ISO8601 = 0,
    REC_TIME_EPOCH_S = 1,
    REC_TIME_EPOCH_MS = 2,
} rec_time_format;

/*
 * An instant, as UTC nanoseconds since the epoch in *ns.
 *
 * REC_TIME_ISO8601: civil_parse_iso8601's syntax (lib/civil), a comma
 * before the fraction and a missing zone allowed. Without a zone *naive is
 * true and *ns is the wall time read as if it were UTC; the caller applies
 * its naive_timezone (rec_conv_naive).
 *
 * REC_TIME_EPOCH_S, REC_TIME_EPOCH_MS: seconds or milliseconds since the
 * epoch, in the decimal syntax of rec_parse_fixed ("1732240800",
 * "-1.5", "1732240800123.456"); digits beyond the nanosecond round half to
 * even. *naive is false.
 *
 * -1 for anything else, and for instants outside int64 nanoseconds
 * (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z).
 */
int rec_parse_time(const char *p, size_t n, rec_time_format fmt, int64_t *ns, bool *naive);

/* ---- instants without a zone ---- */

/* How instants without a zone designator are read. */
typedef enum rec_naive_kind {
    REC_NAIVE_UTC,
    REC_NAIVE_OFFSET,   /* a fixed offset */
    REC_NAIVE_BUSINESS, /* the agent's zone, through api->local_to_utc */
} rec_naive_kind;

/* The naive_timezone option's text ("UTC", "business", "+08:00") to
 * *kind and, for a fixed offset, *offset_s: 0, or -1 for anything else. */
int rec_naive_parse(const char *text, rec_naive_kind *kind, int32_t *offset_s);

/* "+08:00", "-0530", "+08" -> seconds east of UTC: 0 or -1. */
int rec_parse_offset(const char *text, int32_t *out);

/* ---- converting rows ---- */

#define REC_HOUR_CACHE 64

/* What converting a row needs besides the row. */
typedef struct rec_conv {
    tally_stream stream;
    rec_time_format time_format;
    rec_naive_kind naive;
    int32_t naive_offset_s; /* REC_NAIVE_OFFSET: local = UTC + this */
    bool allow_negative;    /* allow_negative: token counts and costs below 0 are read */
    tally_host *host;
    const tally_host_api *api;
    /* The business zone's UTC offset per local hour, so that a file of one
     * day costs a couple of dozen local_to_utc calls, not one per row.
     * `uniform` says the offset holds for the whole hour; an hour with a
     * transition in it (or a repeated or skipped one) asks per row. */
    struct {
        int64_t hour;
        int64_t offset_s;
        bool valid, uniform;
    } hours[REC_HOUR_CACHE];
    char reason[192]; /* why the last row was refused */
} rec_conv;

/* Token counts (REC_K_INT) and costs (REC_K_FIXED) below zero are no
 * usage: unless allow_negative is set, such a row is refused, with this
 * as what the value is not. Response times and status codes keep their
 * sign. */
#define REC_NOT_NEGATIVE                                                                           \
    "0 or more (a negative count or cost; set allow_negative = true to read it)"
static inline bool rec_sign_refused(const rec_conv *c, uint8_t kind, bool negative)
{
    return negative && !c->allow_negative && (kind == REC_K_INT || kind == REC_K_FIXED);
}

/* Forget the hour cache (the zone may differ after a reload). */
void rec_conv_reset(rec_conv *c);
/* An instant's text, in c->time_format; a time without a zone is read
 * in the zone c->naive says. UTC nanoseconds in *ns: 0, or -1. */
int rec_conv_instant(rec_conv *c, const char *p, size_t n, int64_t *ns);
/* A wall-clock time without a zone, as nanoseconds since 1970-01-01T00:00
 * of that clock, to UTC nanoseconds as c->naive says: 0, or -1. */
int rec_conv_naive(rec_conv *c, int64_t wall_ns, int64_t *ns);

/* Records waiting to be emitted, and the arena their source-owned
 * strings were copied to. */
typedef struct rec_batch {
    tally_record *recs;
    size_t n, cap;
    char *arena;
    size_t used, arena_cap;
    tally_host *host;
    const tally_host_api *api;
    uint64_t emitted; /* records handed over since the counter was reset */
} rec_batch;

/* arena_cap must hold the longest row. 0 or -1 (out of memory). */
int rec_batch_init(rec_batch *b, size_t cap, size_t arena_cap, tally_host *host,
                   const tally_host_api *api);
void rec_batch_free(rec_batch *b);
/* Emit what waits (nothing to do when empty). 0 or TALLY_HOST_ERR. */
int rec_batch_flush(rec_batch *b);

/* Convert row (m->n_cols values, their bytes in a buffer spanning
 * [lo, hi): values outside it are copied to the arena) into the batch's
 * next slot, *out, without committing it: the caller commits with
 * rec_batch_commit, or drops it by doing nothing. The batch is flushed
 * first when it has no room, so the caller's buffer must still hold
 * earlier rows' bytes.
 *   0   converted;
 *   1   refused: c->reason says which column (or field) and why;
 *   -1  emitting a full batch failed. */
int rec_conv_row(rec_conv *c, const rec_colmap *m, const rec_value *row, const char *lo,
                 const char *hi, rec_batch *b, tally_record **out);
void rec_batch_commit(rec_batch *b);

/*
 * The inline parsers. Every usage row carries a dozen numbers, nearly all
 * plain digits with at most one point ("2151", "0.0101696"), so these read
 * that shape in one pass where the caller can inline them, and hand any
 * other text (a '+', an exponent, more than 18 digits on a side, a
 * trailing ".0" on an integer, anything malformed) to the full parsers.
 * Within the shape nothing can overflow or round, so both paths give the
 * same result for every input.
 */

extern const uint64_t rec_pow10[20];

/* 8 bytes, the first in the lowest byte whatever the machine's order. */
static inline uint64_t rec_load8(const char *p)
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
static inline int rec_tail_digits(const char *p, size_t n, size_t k, uint64_t *out)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t keep = ~UINT64_C(0) << (8 * (8 - k));
    uint64_t x = rec_load8(p + n - 8) & keep;
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

static inline int rec_parse_int64(const char *p, size_t n, int64_t *out)
{
    /* 1..18 digits: below 10^18, so no sign and no overflow to mind. */
    if (n - 1 < 18) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return rec_parse_int64_full(p, n, out);
            v = v * 10 + d;
        }
        *out = (int64_t)v;
        return 0;
    }
    return rec_parse_int64_full(p, n, out);
}

static inline int rec_parse_fixed(const char *p, size_t n, tally_fixed *out)
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
            return rec_parse_fixed_full(p, n, out);
        if (k <= 8 && n >= 8) {
            if (rec_tail_digits(p, n, k, &frac) != 0)
                return rec_parse_fixed_full(p, n, out);
        } else {
            for (i++; i < n; i++) {
                unsigned d = (unsigned)(unsigned char)p[i] - '0';
                if (d > 9)
                    return rec_parse_fixed_full(p, n, out);
                frac = frac * 10 + d;
            }
        }
    } else if (ilen == 0) {
        return rec_parse_fixed_full(p, n, out);
    }
    /* frac < 10^k, so frac * 10^(18 - k) < 10^18 fits 64 bits, and one
     * 64 x 64 bit product gives the whole part. */
    const unsigned __int128 v = (unsigned __int128)whole * (uint64_t)TALLY_FIXED_ONE +
                                frac * rec_pow10[TALLY_FIXED_DIGITS - k];
    *out = neg ? -(tally_fixed)v : (tally_fixed)v;
    return 0;
}

/* Whether p[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
bool rec_utf8_valid(const unsigned char *p, size_t n);

#endif
