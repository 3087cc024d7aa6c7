/*
 * gen_usage.c — writes a large, realistic CSV of the `usage` stream
 * (DESIGN.md, "Records and the business-day statistics") for the ingest
 * benchmark (bench/run-ingest.sh): tallyd's csv source and daily collector
 * read it beside DuckDB.
 *
 *   gen_usage --rows N --out FILE [--seed S] [--days 30] [--users 1000]
 *             [--models 20] [--end 2026-11-21] [--utc-offset +08:00]
 *             [--row-seed S] [--no-header]
 *
 * Rows are in time order and cover --days business days ending with --end,
 * whole local days at --utc-offset (Asia/Shanghai, the benchmark's time
 * zone, is +08:00 all year), denser in the local afternoon than at night.
 * Users and API keys are UUIDs (a few users make most requests), about two
 * keys per user; about 1% of rows have no user (and no key), about 2% are
 * errors (4xx/5xx with a message, a few without one, a few status 200 rows
 * with a message), about 3% have no response time. Providers without
 * prompt caching leave the cache columns empty. Costs are exact decimals:
 * each is computed in integer units of 1e-10 USD and printed with up to 10
 * fractional digits, so every consumer can sum them exactly.
 *
 * --row-seed draws the rows from their own seed while the users, keys and
 * models still come from --seed, and --no-header leaves the header out: a
 * later batch of the same population to append to a file (the cycle
 * benchmark, bench/run-cycle.sh, appends 100 rows of today).
 *
 * The same arguments always give the same bytes. Rows are formatted by
 * hand into one buffer that is written out in 1 MiB blocks: 10 million rows
 * (about 3 GB) take a few seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil/civil.h"

#define BLOCK (1u << 20) /* write when this much is buffered */
#define ROW_MAX 2048     /* more than any one row can take */
#define UUID_LEN 36
#define USEC_PER_DAY 86400000000LL
#define MAX_KEYS_PER_USER 3

static const char header[] =
    "id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,"
    "input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,"
    "input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,"
    "actual_total_cost_usd,response_time_ms\n";

/* Prices in units of 1e-10 USD per token ($1 per million tokens = 10000). */
typedef struct model_def {
    const char *name;
    const char *provider;
    int64_t in, out, cache_write, cache_read;
    int caching; /* 0: the cache columns are NULL */
    int weight;  /* relative popularity */
} model_def;

static const model_def known_models[] = {
    {"gpt-4o", "openai", 25000, 100000, 0, 12500, 1, 90},
    {"gpt-4o-mini", "openai", 1500, 6000, 0, 750, 1, 160},
    {"gpt-4.1", "openai", 20000, 80000, 0, 5000, 1, 70},
    {"gpt-4.1-mini", "openai", 4000, 16000, 0, 1000, 1, 60},
    {"o3-mini", "openai", 11000, 44000, 0, 5500, 1, 25},
    {"claude-sonnet-4", "anthropic", 30000, 150000, 37500, 3000, 1, 110},
    {"claude-opus-4", "anthropic", 150000, 750000, 187500, 15000, 1, 15},
    {"claude-3-5-haiku", "anthropic", 8000, 40000, 10000, 800, 1, 45},
    {"claude-3-7-sonnet", "anthropic", 30000, 150000, 37500, 3000, 1, 30},
    {"gemini-2.5-pro", "google", 12500, 100000, 0, 3125, 1, 40},
    {"gemini-2.5-flash", "google", 3000, 25000, 0, 750, 1, 80},
    {"gemini-2.0-flash", "google", 1000, 4000, 0, 250, 1, 35},
    {"deepseek-chat", "deepseek", 2700, 11000, 0, 700, 1, 70},
    {"deepseek-reasoner", "deepseek", 5500, 21900, 0, 1400, 1, 30},
    {"mistral-large", "mistral", 20000, 60000, 0, 0, 0, 20},
    {"mistral-small", "mistral", 1000, 3000, 0, 0, 0, 25},
    {"codestral", "mistral", 3000, 9000, 0, 0, 0, 15},
    {"GPT-4o", "openai", 25000, 100000, 0, 12500, 1, 3}, /* distinct from gpt-4o */
    {"gpt-3.5-turbo", "openai", 5000, 15000, 0, 0, 0, 8},
    {"claude-3-haiku", "anthropic", 2500, 12500, 3000, 300, 1, 10},
};
#define KNOWN_MODELS (int)(sizeof known_models / sizeof known_models[0])

typedef struct error_def {
    int status;
    const char *message; /* NULL: no message */
    int weight;
} error_def;

/* Messages with a comma or a quote are written quoted, quotes doubled. */
static const error_def known_errors[] = {
    {400, "invalid request: max_tokens too large", 6},
    {401, "invalid api key", 4},
    {403, "permission denied, key disabled", 2},
    {404, "model not found", 2},
    {408, "request timeout", 2},
    {413, "request too large, limit is 200000 tokens", 2},
    {422, "unprocessable entity: \"messages\" must not be empty", 2},
    {429, "rate limit exceeded, retry after 20s", 30},
    {429, NULL, 2},
    {500, "internal server error", 8},
    {502, "bad gateway, upstream closed the connection", 8},
    {503, "service unavailable", 6},
    {503, NULL, 1},
    {504, "gateway timeout", 6},
    {529, "overloaded, please retry", 8},
    {200, "stream interrupted, partial response", 5},
};
#define KNOWN_ERRORS (int)(sizeof known_errors / sizeof known_errors[0])

typedef struct options {
    uint64_t rows;
    const char *out;
    uint64_t seed, row_seed;
    int days, users, models;
    int have_row_seed, no_header;
    int64_t end_day;     /* days since 1970-01-01 */
    int64_t offset_usec; /* local time minus UTC */
} options;

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ----------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (multiply-shift; the bias is far below noise). */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* ---- formatting ------------------------------------------------------- */

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static inline char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--t = digit_pairs[d + 1];
        *--t = digit_pairs[d];
    }
    if (v >= 10) {
        *--t = digit_pairs[v * 2 + 1];
        *--t = digit_pairs[v * 2];
    } else {
        *--t = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

/* v zero-padded to exactly `width` digits. */
static inline char *put_fixed(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* An amount in units of 1e-10, as a decimal with its trailing zeros cut:
 * 12345678 -> 0.0012345678, 5000000000 -> 0.5, 0 -> 0. */
static inline char *put_cost(char *p, int64_t units)
{
    uint64_t u = (uint64_t)units;
    p = put_u64(p, u / 10000000000u);
    uint64_t frac = u % 10000000000u;
    if (frac == 0)
        return p;
    int width = 10;
    while (frac % 10 == 0) {
        frac /= 10;
        width--;
    }
    *p++ = '.';
    return put_fixed(p, frac, width);
}

/* "00".."ff" for each byte value. */
static char hex_pairs[512];

static void hex_pairs_init(void)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 256; i++) {
        hex_pairs[2 * i] = hex[i >> 4];
        hex_pairs[2 * i + 1] = hex[i & 15];
    }
}

/* A random version-4 UUID, 36 characters: 8-4-4-4-12 hex digits. */
static inline char *put_uuid(char *p, rng *r)
{
    uint64_t hi = rng_next(r), lo = rng_next(r);
    hi = (hi & ~0xf000ull) | 0x4000u;         /* version 4 */
    lo = (lo & ~(3ull << 62)) | (2ull << 62); /* variant 10 */
    static const unsigned char dash_after[16] = {0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 16; i++) {
        uint64_t w = i < 8 ? hi : lo;
        unsigned byte = (unsigned)(w >> (56 - 8 * (i & 7))) & 255;
        memcpy(p, hex_pairs + 2 * byte, 2);
        p += 2;
        if (dash_after[i])
            *p++ = '-';
    }
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* A CSV field: quoted, quotes doubled, when it holds a comma, quote or
 * line break. */
static char *put_csv_field(char *p, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return put_str(p, s);
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* ---- dates -------------------------------------------------------------- */

/* "YYYY-MM-DD" within 1971..2200 as days since 1970-01-01. */
static int parse_date(const char *s, int64_t *out)
{
    civil_date d;
    if (civil_parse_date(s, strlen(s), &d) != 0 || d.year < 1971 || d.year > 2200)
        return -1;
    *out = civil_days_from_date(d);
    return 0;
}

/* "+08:00", "-05:30", "Z" */
static int parse_offset(const char *s, int64_t *out_usec)
{
    if (strcmp(s, "Z") == 0 || strcmp(s, "+00:00") == 0) {
        *out_usec = 0;
        return 0;
    }
    int h, m;
    char sign, tail;
    if (sscanf(s, "%c%2d:%2d%c", &sign, &h, &m, &tail) != 3 || (sign != '+' && sign != '-') ||
        h > 14 || m > 59)
        return -1;
    int64_t v = ((int64_t)h * 3600 + m * 60) * 1000000;
    *out_usec = sign == '-' ? -v : v;
    return 0;
}

/* "YYYY-MM-DDThh:mm:ss.uuuuuuZ" for a UTC instant in microseconds. The date
 * part is cached: it changes once a day. */
typedef struct stamp_cache {
    int64_t day;
    char date[11];
} stamp_cache;

static char *put_stamp(char *p, stamp_cache *c, int64_t usec)
{
    int64_t day = usec / USEC_PER_DAY; /* instants after 1970 only */
    int64_t rest = usec - day * USEC_PER_DAY;
    if (day != c->day) {
        civil_format_date(civil_date_from_days(day), c->date);
        c->day = day;
    }
    memcpy(p, c->date, 10);
    p += 10;
    *p++ = 'T';
    uint64_t secs = (uint64_t)(rest / 1000000), micros = (uint64_t)(rest % 1000000);
    unsigned h = (unsigned)(secs / 3600), mi = (unsigned)(secs / 60 % 60),
             s = (unsigned)(secs % 60);
    memcpy(p, digit_pairs + h * 2, 2);
    p[2] = ':';
    memcpy(p + 3, digit_pairs + mi * 2, 2);
    p[5] = ':';
    memcpy(p + 6, digit_pairs + s * 2, 2);
    p[8] = '.';
    p = put_fixed(p + 9, micros, 6);
    *p++ = 'Z';
    return p;
}

/* ---- the population ----------------------------------------------------- */

typedef struct user {
    char id[UUID_LEN];
    char keys[MAX_KEYS_PER_USER][UUID_LEN];
    int nkeys;
    int discount; /* percent off total_cost for actual_total_cost */
} user;

typedef struct model {
    char name[48];
    const model_def *def;
} model;

/* Cumulative weights, for picking by a uniform draw. */
typedef struct picker {
    uint32_t *cum;
    int n;
    uint32_t total;
} picker;

static int picker_init(picker *pk, const int *weights, int n)
{
    pk->cum = malloc((size_t)n * sizeof *pk->cum);
    if (!pk->cum)
        return -1;
    uint32_t t = 0;
    for (int i = 0; i < n; i++) {
        t += (uint32_t)weights[i];
        pk->cum[i] = t;
    }
    pk->n = n;
    pk->total = t;
    return 0;
}

static int picker_pick(const picker *pk, rng *r)
{
    uint32_t x = (uint32_t)rng_below(r, pk->total);
    int lo = 0, hi = pk->n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (pk->cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- one row ------------------------------------------------------------ */

typedef struct generator {
    rng r;
    user *users;
    int nusers;
    model *models;
    picker model_pick, error_pick;
    stamp_cache stamps;
} generator;

static int64_t draw_input_tokens(rng *r)
{
    double u = rng_unit(r);
    double v = rng_unit(r);
    if (u < 0.70) /* short chat turns */
        return 20 + (int64_t)(v * v * 3980);
    if (u < 0.95) /* documents, code */
        return 4000 + (int64_t)(v * v * 28000);
    return 32000 + (int64_t)(v * v * v * 168000); /* long contexts, up to 200k */
}

static int64_t draw_output_tokens(rng *r)
{
    double u = rng_unit(r);
    double v = rng_unit(r);
    if (u < 0.60)
        return 1 + (int64_t)(v * 999);
    return 1 + (int64_t)(v * v * 8191); /* up to 8192 */
}

static char *put_row(generator *g, char *p, int64_t usec)
{
    rng *r = &g->r;

    p = put_uuid(p, r);
    *p++ = ',';
    p = put_uuid(p, r);
    *p++ = ',';
    p = put_stamp(p, &g->stamps, usec);
    *p++ = ',';

    /* user and key: a few users make most requests; 1% have neither */
    const user *u = NULL;
    if (rng_below(r, 100) != 0) {
        double x = rng_unit(r);
        u = &g->users[(int)(x * x * g->nusers)];
        memcpy(p, u->id, UUID_LEN);
        p += UUID_LEN;
        *p++ = ',';
        memcpy(p, u->keys[rng_below(r, (uint64_t)u->nkeys)], UUID_LEN);
        p += UUID_LEN;
        *p++ = ',';
    } else {
        *p++ = ',';
        *p++ = ',';
    }

    const model *m = &g->models[picker_pick(&g->model_pick, r)];
    const model_def *md = m->def;
    p = put_str(p, md->provider);
    *p++ = ',';
    p = put_str(p, m->name);
    *p++ = ',';

    /* status and message: about 2% errors */
    const error_def *err = NULL;
    if (rng_below(r, 1000) < 20)
        err = &known_errors[picker_pick(&g->error_pick, r)];
    p = put_u64(p, err ? (uint64_t)err->status : 200);
    *p++ = ',';
    if (err && err->message)
        p = put_csv_field(p, err->message);
    *p++ = ',';

    /* tokens: a 4xx costs nothing; a 5xx read the prompt and wrote nothing */
    int64_t in = 0, out = 0, cw = 0, cr = 0;
    int client_error = err && err->status >= 400 && err->status < 500;
    int server_error = err && err->status >= 500;
    if (!client_error) {
        in = draw_input_tokens(r);
        out = server_error ? 0 : draw_output_tokens(r);
        if (md->caching) {
            uint64_t c = rng_below(r, 100);
            if (c < 35)
                cr = (int64_t)(rng_unit(r) * 0.9 * (double)in);
            else if (c < 43)
                cw = (int64_t)(rng_unit(r) * 0.5 * (double)in);
        }
    }
    p = put_u64(p, (uint64_t)in);
    *p++ = ',';
    p = put_u64(p, (uint64_t)out);
    *p++ = ',';
    if (md->caching)
        p = put_u64(p, (uint64_t)cw);
    *p++ = ',';
    if (md->caching)
        p = put_u64(p, (uint64_t)cr);
    *p++ = ',';

    int64_t c_in = in * md->in, c_out = out * md->out;
    int64_t c_cw = cw * md->cache_write, c_cr = cr * md->cache_read;
    int64_t total = c_in + c_out + c_cw + c_cr;
    int64_t actual = total;
    if (server_error)
        actual = 0; /* refunded */
    else if (u && u->discount)
        actual = total - total * u->discount / 100;
    p = put_cost(p, c_in);
    *p++ = ',';
    p = put_cost(p, c_out);
    *p++ = ',';
    if (md->caching)
        p = put_cost(p, c_cw);
    *p++ = ',';
    if (md->caching)
        p = put_cost(p, c_cr);
    *p++ = ',';
    p = put_cost(p, total);
    *p++ = ',';
    p = put_cost(p, actual);
    *p++ = ',';

    /* response time: 3% NULL; grows with the output */
    if (rng_below(r, 100) >= 3) {
        int64_t ms;
        if (client_error)
            ms = 5 + (int64_t)rng_below(r, 60);
        else
            ms =
                120 + out * (8 + (int64_t)rng_below(r, 30)) + in / 200 + (int64_t)rng_below(r, 400);
        if (err && err->status == 504)
            ms = 60000 + (int64_t)rng_below(r, 1000);
        p = put_u64(p, (uint64_t)ms);
    }
    *p++ = '\n';
    return p;
}

/* ---- set-up ------------------------------------------------------------- */

static int build_population(generator *g, const options *o)
{
    g->nusers = o->users;
    g->users = calloc((size_t)o->users, sizeof *g->users);
    g->models = calloc((size_t)o->models, sizeof *g->models);
    int *mw = malloc((size_t)o->models * sizeof *mw);
    int ew[KNOWN_ERRORS];
    if (!g->users || !g->models || !mw) {
        free(mw);
        return -1;
    }
    /* The population has its own stream, so --rows does not change it. */
    rng pop;
    rng_seed(&pop, o->seed ^ 0x5eed0f0beefull);
    for (int i = 0; i < o->users; i++) {
        user *u = &g->users[i];
        put_uuid(u->id, &pop);
        u->nkeys = 1 + (int)rng_below(&pop, MAX_KEYS_PER_USER); /* 1..3, about 2 */
        for (int k = 0; k < u->nkeys; k++)
            put_uuid(u->keys[k], &pop);
        static const int discounts[] = {0, 0, 0, 0, 0, 10, 20, 30};
        u->discount = discounts[rng_below(&pop, 8)];
    }
    /* Past the known list, more models of the same providers and prices. */
    for (int i = 0; i < o->models; i++) {
        model *m = &g->models[i];
        m->def = &known_models[i % KNOWN_MODELS];
        if (i < KNOWN_MODELS)
            snprintf(m->name, sizeof m->name, "%s", m->def->name);
        else
            snprintf(m->name, sizeof m->name, "%s-v%d", m->def->name, i / KNOWN_MODELS + 1);
        mw[i] = m->def->weight;
    }
    for (int i = 0; i < KNOWN_ERRORS; i++)
        ew[i] = known_errors[i].weight;
    int rc =
        picker_init(&g->model_pick, mw, o->models) || picker_init(&g->error_pick, ew, KNOWN_ERRORS);
    free(mw);
    return rc ? -1 : 0;
}

static void usage_text(FILE *f)
{
    fputs("usage: gen_usage --rows N --out FILE [--seed S] [--days 30] [--users 1000]\n"
          "                 [--models 20] [--end 2026-11-21] [--utc-offset +08:00]\n"
          "                 [--row-seed S] [--no-header]\n"
          "Writes N usage rows (CSV, header first) in time order over the local days\n"
          "ending with --end at --utc-offset. FILE \"-\" is standard output.\n"
          "--row-seed: the rows' own seed (default --seed); users, keys and models\n"
          "still come from --seed. --no-header: rows only, to append to a file.\n",
          f);
}

static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){
        .seed = 1, .days = 30, .users = 1000, .models = 20, .offset_usec = 8 * 3600 * 1000000LL};
    parse_date("2026-11-21", &o->end_day);
    int have_rows = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_text(stdout);
            exit(0);
        }
        if (strcmp(a, "--no-header") == 0) {
            o->no_header = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "gen_usage: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        long long n;
        if (strcmp(a, "--rows") == 0) {
            if (parse_long(v, 0, (long long)1 << 40, &n))
                goto bad;
            o->rows = (uint64_t)n;
            have_rows = 1;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_long(v, 0, LLONG_MAX, &n))
                goto bad;
            o->seed = (uint64_t)n;
        } else if (strcmp(a, "--row-seed") == 0) {
            if (parse_long(v, 0, LLONG_MAX, &n))
                goto bad;
            o->row_seed = (uint64_t)n;
            o->have_row_seed = 1;
        } else if (strcmp(a, "--days") == 0) {
            if (parse_long(v, 1, 3660, &n))
                goto bad;
            o->days = (int)n;
        } else if (strcmp(a, "--users") == 0) {
            if (parse_long(v, 1, 10000000, &n))
                goto bad;
            o->users = (int)n;
        } else if (strcmp(a, "--models") == 0) {
            if (parse_long(v, 1, 10000, &n))
                goto bad;
            o->models = (int)n;
        } else if (strcmp(a, "--end") == 0) {
            if (parse_date(v, &o->end_day))
                goto bad;
        } else if (strcmp(a, "--utc-offset") == 0) {
            if (parse_offset(v, &o->offset_usec))
                goto bad;
        } else {
            fprintf(stderr, "gen_usage: unknown option %s\n", a);
            usage_text(stderr);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "gen_usage: bad value for %s: '%s'\n", a, v);
        return -1;
    }
    if (!have_rows || !o->out) {
        usage_text(stderr);
        return -1;
    }
    if (!o->have_row_seed)
        o->row_seed = o->seed;
    return 0;
}

static int flush_block(FILE *f, const char *buf, size_t n, const char *path)
{
    if (fwrite(buf, 1, n, f) != n) {
        fprintf(stderr, "gen_usage: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o))
        return 2;

    hex_pairs_init();
    generator g = {.stamps.day = -1};
    if (build_population(&g, &o)) {
        fputs("gen_usage: out of memory\n", stderr);
        return 1;
    }
    rng_seed(&g.r, o.row_seed);

    int to_stdout = strcmp(o.out, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(o.out, "wb");
    if (!f) {
        fprintf(stderr, "gen_usage: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    setvbuf(f, NULL, _IONBF, 0); /* whole blocks go straight to write() */
    char *buf = malloc(BLOCK + ROW_MAX);
    if (!buf) {
        fputs("gen_usage: out of memory\n", stderr);
        return 1;
    }

    double t0 = civil_mono_seconds();
    /* The window: local midnight of the first day to local midnight after
     * --end, as UTC microseconds. */
    int64_t first_day = o.end_day - o.days + 1;
    int64_t start = first_day * USEC_PER_DAY - o.offset_usec;
    if (start < 0) {
        fputs("gen_usage: the window starts before 1970\n", stderr);
        return 2;
    }
    /* Row i sits at a random point of its own slot of the window, so the rows
     * are in time order; within each local day the slots are warped so that
     * afternoons are about four times as busy as nights. */
    const double two_pi = 6.283185307179586;
    const double amp = 0.6, phase = 0.1; /* busiest at local 14:24 */
    const double base = amp * sin(-two_pi * phase) / two_pi;
    double per_row = (double)o.days / (double)(o.rows ? o.rows : 1);

    size_t fill = 0;
    uint64_t bytes = 0;
    if (!o.no_header) {
        memcpy(buf, header, sizeof header - 1);
        fill = sizeof header - 1;
    }
    for (uint64_t i = 0; i < o.rows; i++) {
        double x = ((double)i + rng_unit(&g.r)) * per_row; /* in days */
        int64_t day = (int64_t)x;
        if (day >= o.days)
            day = o.days - 1;
        double fr = x - (double)day;
        double w = fr + amp * sin(two_pi * (fr - phase)) / two_pi - base;
        if (w < 0)
            w = 0;
        int64_t off = (int64_t)(w * (double)USEC_PER_DAY);
        if (off >= USEC_PER_DAY)
            off = USEC_PER_DAY - 1;
        char *end = put_row(&g, buf + fill, start + day * USEC_PER_DAY + off);
        fill = (size_t)(end - buf);
        if (fill >= BLOCK) {
            if (flush_block(f, buf, BLOCK, o.out))
                return 1;
            bytes += BLOCK;
            memmove(buf, buf + BLOCK, fill - BLOCK);
            fill -= BLOCK;
        }
    }
    if (fill && flush_block(f, buf, fill, o.out))
        return 1;
    bytes += fill;
    if (!to_stdout && fclose(f) != 0) {
        fprintf(stderr, "gen_usage: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    double secs = civil_mono_seconds() - t0;
    fprintf(stderr, "gen_usage: %" PRIu64 " rows, %" PRIu64 " bytes in %.2f s (%.0f MB/s)\n",
            o.rows, bytes, secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
    free(buf);
    free(g.users);
    free(g.models);
    free(g.model_pick.cum);
    free(g.error_pick.cum);
    return 0;
}
