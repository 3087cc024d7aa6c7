/*
 * fuzz_csv_scan.c — arbitrary bytes, in arbitrary pieces, through the csv
 * row scanner and every value parser: CSV files are input anyone who can
 * write a log line shapes.
 *
 * Each call's result is checked against a plain byte-at-a-time reading of
 * csv_scan.h (ref_scan below: no blocks, no masks, written for clarity),
 * and against what must hold for any call: *used within buf, progress on
 * every row, fields inside buf or outside it entirely (unescaped ones).
 * The same bytes are then scanned again as a reader that gets them in
 * pieces, which must give the same rows. Every field of every row goes to
 * each value parser, and parsers that read the same syntax must agree.
 *
 * Built two ways: with -DTALLY_LIBFUZZER it is a libFuzzer target (clang);
 * otherwise main() replays files given as arguments and a deterministic
 * stream of mutations of seed files, so every build runs the harness.
 * Input: a control byte (limits), a byte seeding the piece sizes, then
 * the file's bytes.
 */
#include "csv_scan.h"
#include "record/record.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_replay.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- The reference: csv_scan.h read one byte at a time -------------------- */

typedef struct ref {
    csv_limits lim;
    bool discarding;
    /* The last row's fields, copied. */
    char *data;
    size_t data_len, data_cap;
    size_t starts[4096], lens[4096];
    size_t nf;
} ref;

typedef struct ref_result {
    int rc;
    size_t used, lines;
    const char *reason;
} ref_result;

static void ref_byte(ref *r, unsigned char c)
{
    if (r->data_len == r->data_cap) {
        r->data_cap = r->data_cap ? r->data_cap * 2 : 256;
        r->data = realloc(r->data, r->data_cap);
        CHECK(r->data != NULL);
    }
    r->data[r->data_len++] = (char)c;
}

static void ref_emit(ref *r, const char **err, size_t start)
{
    size_t len = r->data_len - start;
    if (*err != NULL)
        return;
    if (r->nf >= r->lim.max_fields)
        *err = "more fields than the field count limit";
    else if (len > r->lim.max_field_bytes)
        *err = "a field longer than the field size limit";
    else {
        CHECK(r->nf < 4096);
        r->starts[r->nf] = start;
        r->lens[r->nf++] = len;
    }
}

static ref_result ref_scan(ref *r, const unsigned char *b, size_t len, bool last)
{
    ref_result out = {CSV_NEED_MORE, 0, 0, NULL};
    r->nf = 0;
    r->data_len = 0;
    if (r->discarding) {
        for (size_t i = 0; i < len; i++)
            if (b[i] == '\n') {
                r->discarding = false;
                out.used = i + 1;
                out.lines = 1;
                return out;
            }
        out.used = len;
        if (last)
            r->discarding = false;
        return out;
    }
    if (len == 0)
        return out;
    const size_t max = r->lim.max_row_bytes;
    const size_t win = len < max ? len : max;
    const bool eof_ends = last && len <= max;
    const char *err = NULL;
    bool high = false;
    size_t i = 0, lines = 0, end;

    for (;;) { /* one field per turn */
        size_t start = r->data_len;
        if (i < win && b[i] == '"') {
            i++;
            for (;;) {
                if (i >= win) {
                    if (!eof_ends)
                        goto out_of_window;
                    if (err == NULL)
                        err = "a quoted field not closed at the end of the file";
                    end = len;
                    goto done;
                }
                unsigned char c = b[i];
                if (c != '"') {
                    lines += c == '\n';
                    if (c == 0 && err == NULL)
                        err = "a NUL byte";
                    high |= c >= 0x80;
                    ref_byte(r, c);
                    i++;
                    continue;
                }
                if (i + 1 >= win) {
                    if (last && i + 1 == len) {
                        ref_emit(r, &err, start);
                        end = len;
                        goto done;
                    }
                    goto out_of_window;
                }
                if (b[i + 1] == '"') {
                    ref_byte(r, '"');
                    i += 2;
                    continue;
                }
                break;
            }
            ref_emit(r, &err, start);
            i++; /* past the closing quote, which was not the last byte */
            if (b[i] == ',') {
                i++;
                continue;
            }
            if (b[i] == '\n') {
                lines++;
                end = i;
                goto done;
            }
            if (b[i] == '\r') {
                if (i + 1 < win && b[i + 1] == '\n') {
                    lines++;
                    end = i + 1;
                    goto done;
                }
                if (i + 1 >= win) {
                    if (last && i + 1 == len) {
                        end = len;
                        goto done;
                    }
                    goto out_of_window;
                }
            }
            if (err == NULL)
                err = "a character other than a comma or a line end after a closing quote";
            goto resync;
        }
        for (;;) {
            if (i >= win) {
                if (!eof_ends)
                    goto out_of_window;
                if (r->data_len > start && b[len - 1] == '\r')
                    r->data_len--;
                ref_emit(r, &err, start);
                end = len;
                goto done;
            }
            unsigned char c = b[i];
            if (c == ',') {
                ref_emit(r, &err, start);
                i++;
                break;
            }
            if (c == '\n') {
                if (r->data_len > start && b[i - 1] == '\r')
                    r->data_len--;
                ref_emit(r, &err, start);
                lines++;
                end = i;
                goto done;
            }
            if (c == '"') {
                if (err == NULL)
                    err = "a quote inside an unquoted field";
                goto resync;
            }
            if (c == 0 && err == NULL)
                err = "a NUL byte";
            high |= c >= 0x80;
            ref_byte(r, c);
            i++;
        }
    }

resync:
    for (; i < win; i++)
        if (b[i] == '\n') {
            lines++;
            end = i;
            goto done;
        }
    if (eof_ends) {
        end = len;
        goto done;
    }
out_of_window:
    if (len > max) {
        r->discarding = true;
        out.rc = CSV_BAD;
        out.used = max;
        out.lines = lines;
        out.reason = "a row longer than the row size limit";
    }
    r->nf = 0;
    return out;

done:
    out.used = end < len ? end + 1 : len;
    out.lines = lines;
    if (err == NULL && high && !fuzz_utf8(b, end))
        err = "invalid UTF-8";
    if (err != NULL) {
        r->nf = 0;
        out.rc = CSV_BAD;
        out.reason = err;
    } else {
        out.rc = CSV_ROW;
    }
    return out;
}

/* ---- Values --------------------------------------------------------------- */

static bool has_byte(const char *p, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\0' && strchr(set, p[i]) != NULL)
            return true;
    return false;
}

/* Digits after the point, when p has no exponent. */
static size_t fraction_digits(const char *p, size_t n)
{
    const char *dot = memchr(p, '.', n);
    return dot ? n - (size_t)(dot - p) - 1 : 0;
}

static void check_values(const char *p, size_t n)
{
    int64_t i64;
    tally_fixed fx;
    bool b;
    int64_t ns;
    bool naive;
    bool is_int = rec_parse_int64(p, n, &i64) == 0;
    bool is_fixed = rec_parse_fixed(p, n, &fx) == 0;
    /* Whatever reads as an integer reads as the same decimal. */
    if (is_int) {
        CHECK(is_fixed);
        CHECK(fx == (tally_fixed)i64 * TALLY_FIXED_ONE);
    }
    if (is_fixed) {
        /* Write it back with all 18 digits and read it again. */
        unsigned __int128 m = fx < 0 ? 0 - (unsigned __int128)fx : (unsigned __int128)fx;
        char text[64];
        char rev[48];
        size_t k = 0, w = 0;
        unsigned __int128 whole = m / (unsigned __int128)TALLY_FIXED_ONE;
        do {
            rev[k++] = (char)('0' + (int)(whole % 10));
            whole /= 10;
        } while (whole);
        if (fx < 0)
            text[w++] = '-';
        while (k)
            text[w++] = rev[--k];
        w += (size_t)snprintf(text + w, sizeof(text) - w, ".%018llu",
                              (unsigned long long)(m % (unsigned __int128)TALLY_FIXED_ONE));
        tally_fixed again;
        CHECK(rec_parse_fixed(text, w, &again) == 0);
        CHECK(again == fx);
    }
    for (int f = REC_TIME_EPOCH_S; f <= REC_TIME_EPOCH_MS; f++) {
        if (rec_parse_time(p, n, (rec_time_format)f, &ns, &naive) != 0)
            continue;
        CHECK(is_fixed && !naive);
        /* Without exponent and within the nanosecond, no rounding: the
         * instant is the decimal scaled down exactly. */
        size_t digits = f == REC_TIME_EPOCH_S ? 9 : 6;
        tally_fixed per = (tally_fixed)(f == REC_TIME_EPOCH_S ? 1000000000 : 1000000000000);
        if (!has_byte(p, n, "eE") && fraction_digits(p, n) <= digits)
            CHECK(fx == (tally_fixed)ns * per);
    }
    if (rec_parse_time(p, n, REC_TIME_ISO8601, &ns, &naive) == 0) {
        CHECK(n >= 19 && n <= 35);
        size_t z = 19;
        if (z < n && (p[z] == '.' || p[z] == ','))
            for (z++; z < n && p[z] >= '0' && p[z] <= '9'; z++)
                ;
        CHECK(naive == (z == n));
        /* For UTC and naive instants the wall time must be the one libc
         * gives back for the same second. */
        if (naive || p[n - 1] == 'Z' || p[n - 1] == 'z') {
            time_t t = (time_t)(ns >= 0 ? ns / 1000000000 : -((-(ns + 1)) / 1000000000) - 1);
            struct tm tm;
            CHECK(gmtime_r(&t, &tm) != NULL);
            char wall[40];
            snprintf(wall, sizeof(wall), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            char got[20];
            memcpy(got, p, 19);
            got[10] = 'T';
            got[19] = '\0';
            CHECK(strcmp(wall, got) == 0);
        }
    }
    if (rec_parse_bool(p, n, &b) == 0)
        CHECK(n >= 1 && n <= 5);
}

/* ---- One call, both ways ---------------------------------------------------- */

/* A transcript of results, discards summed (their split depends on the
 * pieces), to compare one go with pieces. */
typedef struct log {
    unsigned char *s;
    size_t len, cap;
    size_t skip_used, skip_lines;
} log_t;

static void log_put(log_t *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        l->cap = (l->len + n) * 2 + 64;
        l->s = realloc(l->s, l->cap);
        CHECK(l->s != NULL);
    }
    memcpy(l->s + l->len, p, n);
    l->len += n;
}

static void log_num(log_t *l, size_t v)
{
    log_put(l, &v, sizeof(v));
}

static void log_flush(log_t *l)
{
    if (l->skip_used || l->skip_lines) {
        log_put(l, "S", 1);
        log_num(l, l->skip_used);
        log_num(l, l->skip_lines);
    }
    l->skip_used = l->skip_lines = 0;
}

/* One call of the scanner, checked against the reference and the rules
 * every call keeps; its result appended to the log. */
static int call(csv_scanner *s, ref *r, const unsigned char *buf, size_t len, bool last,
                size_t *used, log_t *l, bool values)
{
    csv_row row;
    const char *reason = NULL;
    int rc = last ? csv_scan_last_row(s, (const char *)buf, len, &row, used, &reason)
                  : csv_scan_row(s, (const char *)buf, len, &row, used, &reason);
    ref_result want = ref_scan(r, buf, len, last);
    CHECK(rc == want.rc);
    CHECK(*used == want.used);
    CHECK(row.lines == want.lines);
    CHECK(*used <= len);
    if (rc != CSV_NEED_MORE)
        CHECK(*used > 0);
    if (rc == CSV_BAD) {
        CHECK(reason != NULL && strcmp(reason, want.reason) == 0);
    }
    if (rc != CSV_ROW) {
        CHECK(row.n_fields == 0);
        if (rc == CSV_NEED_MORE) {
            l->skip_used += *used;
            l->skip_lines += row.lines;
        } else {
            log_flush(l);
            log_put(l, "B", 1);
            log_num(l, *used);
            log_num(l, row.lines);
            log_put(l, reason, strlen(reason));
        }
        return rc;
    }
    CHECK(row.n_fields == r->nf);
    log_flush(l);
    log_put(l, "R", 1);
    log_num(l, *used);
    log_num(l, row.lines);
    log_num(l, row.n_fields);
    for (size_t i = 0; i < row.n_fields; i++) {
        const csv_field *f = &row.fields[i];
        CHECK(f->len == r->lens[i]);
        CHECK(memcmp(f->ptr, r->data + r->starts[i], f->len) == 0);
        /* Inside the row's bytes, or (unescaped) not in buf at all. */
        const char *b = (const char *)buf;
        if (f->ptr >= b && f->ptr <= b + len)
            CHECK(f->ptr + f->len <= b + *used);
        else
            CHECK(f->ptr + f->len <= b || f->ptr >= b + len);
        log_num(l, f->len);
        log_put(l, f->ptr, f->len);
        if (values)
            check_values(f->ptr, f->len);
    }
    return rc;
}

static csv_limits pick_limits(uint8_t c)
{
    csv_limits lim = {0};
    switch (c & 3) {
    case 1:
        lim.max_fields = 1 + ((c >> 2) & 7);
        lim.max_field_bytes = 1 + ((c >> 5) & 7) * 3;
        lim.max_row_bytes = 1 + ((c >> 2) & 63);
        break;
    case 2:
        lim.max_row_bytes = 1 + (c >> 2);
        break;
    case 3:
        lim.max_fields = 1 + (c >> 4);
        lim.max_field_bytes = 1 + ((c >> 2) & 3);
        break;
    }
    return lim;
}

static ref new_ref(const csv_limits *lim)
{
    ref r = {.lim = *lim, .data = malloc(256), .data_cap = 256};
    CHECK(r.data != NULL);
    if (r.lim.max_fields == 0)
        r.lim.max_fields = CSV_DEFAULT_MAX_FIELDS;
    if (r.lim.max_field_bytes == 0)
        r.lim.max_field_bytes = CSV_DEFAULT_MAX_FIELD_BYTES;
    if (r.lim.max_row_bytes == 0)
        r.lim.max_row_bytes = CSV_DEFAULT_MAX_ROW_BYTES;
    return r;
}

/* All of data at once: rows while the file may grow, then its end. */
static void scan_whole(const csv_limits *lim, const uint8_t *data, size_t size, log_t *l)
{
    csv_scanner *s;
    CHECK(csv_scanner_new(lim, &s) == 0);
    ref r = new_ref(lim);
    size_t off = 0, used;
    bool last = false;
    for (;;) {
        int rc = call(s, &r, data + off, size - off, last, &used, l, true);
        off += used;
        if (rc == CSV_NEED_MORE && used == 0) {
            if (last)
                break;
            last = true;
        }
    }
    CHECK(off == size);
    log_flush(l);
    free(r.data);
    csv_scanner_free(s);
}

/* As a reader gets the file: pieces of pseudo-random sizes appended to a
 * buffer that holds only what is not consumed yet. Each call sees a copy
 * of exactly the held bytes, so a read past them is caught. */
static void scan_pieces(const csv_limits *lim, uint8_t seed, const uint8_t *data, size_t size,
                        log_t *l)
{
    csv_scanner *s;
    CHECK(csv_scanner_new(lim, &s) == 0);
    ref r = new_ref(lim);
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, fed = 0, used;
    uint32_t x = seed * 2654435761u + 1;
    bool last = false;
    for (;;) {
        uint8_t *view = malloc(have + 1);
        memcpy(view, buf, have);
        int rc = call(s, &r, view, have, last, &used, l, false);
        free(view);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (rc != CSV_NEED_MORE || used > 0)
            continue;
        if (fed == size) {
            if (last)
                break;
            last = true;
            continue;
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        /* A byte at a time costs a rescan per byte: only for small files. */
        size_t piece = seed & 1 && size <= 1024 ? 1 : 1 + x % (seed & 2 ? 7 : 97);
        if (piece > size - fed)
            piece = size - fed;
        memcpy(buf + have, data + fed, piece);
        have += piece;
        fed += piece;
    }
    CHECK(have == 0);
    log_flush(l);
    free(buf);
    free(r.data);
    csv_scanner_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    csv_limits lim = pick_limits(data[0]);
    uint8_t seed = data[1];
    data += 2;
    size -= 2;
    log_t whole = {0}, pieces = {0};
    scan_whole(&lim, data, size, &whole);
    scan_pieces(&lim, seed, data, size, &pieces);
    CHECK(whole.len == pieces.len);
    CHECK(whole.len == 0 || memcmp(whole.s, pieces.s, whole.len) == 0);
    free(whole.s);
    free(pieces.s);
    return 0;
}

#ifndef TALLY_LIBFUZZER
/* Seeds: files as the csv source meets them, each behind its two control
 * bytes. */
static const char *const seeds[] = {
    "id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,"
    "input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,"
    "input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,"
    "actual_total_cost_usd,response_time_ms\n"
    "5f0c2b1e-8a4d-4c3e-9b1a-2d7e6f8a9b0c,req_01,2026-11-22T03:00:00.123456Z,u1,k1,openai,"
    "gpt-4o,200,,1099511627776,20,0,0,0.000123,0.0004,0,0,0.000523,0.000523,812.5\n"
    "6a1d3c2f-9b5e-4d4f-8c2b-3e8f7a9b0c1d,req_02,2026-11-22 11:00:00+08:00,,k2,anthropic,"
    "\"claude, \"\"sonnet\"\"\",500,\"upstream\r\ntimeout\",12,0,0,0,1.5E-3,0,0,0,1e-7,0,\r\n",
    "id,request_id,status,created_at\n1,r1,success,2026-11-21T23:59:59.999999Z\n"
    "2,r1,failed,2026-11-22T00:00:00Z\n3,r2,skipped,1732240800.5\n4,r3,pending,1732240800123",
    "id,is_active\nu1,true\nu2,FALSE\nu3,t\nu4,0\nu5,yes\r\nu6,\n",
    "\"a\"\"b\",\"\",,\"c\nd\"\n\"open\nx,\"y\"z\na\"b\n\xe6\xa8\xa1\xe5\x9e\x8b,"
    "\xc3\n\xed\xa0\x80\n",
    "-0.0,12.000,-9223372036854775808,9223372036854775808,0.0000000000000000015,"
    "170141183460469231731.687303715884105727,2024-02-29T12:00:00Z,2026-02-29T00:00:00Z,"
    "1677-09-21T00:12:43.145224192Z,2262-04-11T23:47:16.854775807Z,-1.5,9223372036.854775807\n",
};

/* Control bytes for the seeds: default limits and small ones, pieces of
 * one byte and of random sizes. */
static const uint8_t controls[][2] = {{0, 0}, {0, 1}, {0x85, 2}, {0x42, 4}, {0x37, 3}};

static int write_seeds(const char *dir)
{
    return fuzz_write_seeds(dir, seeds, sizeof(seeds) / sizeof(seeds[0]), controls,
                            sizeof(controls) / sizeof(controls[0]));
}

/* Mutations that matter for CSV: the bytes that end, open or break a
 * field dropped in anywhere, bytes flipped, lines cut and repeated. */
static long run_mutations(void)
{
    static const uint8_t special[] = {',',  '"',  '\n', '\r', 0,   0x80, 0xC3, 0xE2,
                                      0xED, 0xF0, 0xF4, 0xFF, '.', 'e',  '-',  '+',
                                      'Z',  ':',  '0',  '9',  'T', ' '};
    return fuzz_run_mutations(seeds, sizeof(seeds) / sizeof(seeds[0]), controls,
                              sizeof(controls) / sizeof(controls[0]), special, sizeof(special));
}

int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, write_seeds, run_mutations,
                            "CSV files scanned alike whole, in pieces and by the reference");
}
#endif
