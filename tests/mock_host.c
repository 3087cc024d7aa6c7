/*
 * mock_host.c — see mock_host.h. The host API a plugin sees, recording
 * into growable arrays, and the two things a plugin test needs around it:
 * loading the built .so and parsing its config section.
 */
#include "mock_host.h"

#include "options.h" /* agent/options.c: the agent's own option rules */
#include "selfmetric/selfmetric.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct log_line {
    int level;
    char *text;
} log_line;

typedef struct state_entry {
    char *key, *value;
} state_entry;

typedef struct spool_entry {
    int64_t seq, created;
    char *meta;
    void *data;
    size_t len;
} spool_entry;

struct tally_host {
    int64_t now;
    char *zone;
    void *db; /* state_db: a test's own SQLite handle, or NULL */
    char *state_dir;
    log_line *log;
    size_t n_log, cap_log;
    state_entry *state;
    size_t n_state, cap_state;
    mock_host_emit *emits;
    size_t n_emits, cap_emits;
    tally_record *recs;
    char **rec_mem; /* per record: one block with its strings */
    size_t n_recs, cap_recs, cap_rec_mem;
    bool drop_records;
    uint64_t recs_total;
    size_t emit_calls;
    mock_host_inventory_call *inv;
    size_t n_inv, cap_inv;
    int64_t rejected;
    pthread_mutex_t mu; /* log and spool: plugins' threads use them */
    spool_entry *spool;
    size_t n_spool, cap_spool;
    int64_t next_seq;
    tally_spool_stats spool_counts; /* items and bytes are computed */
    mock_host_emit_hook on_emit;
    void *on_emit_arg;
    int64_t cycle_seq;
    /* History the test serves (its memory), and marks (under mu). */
    const tally_user_day_stats *hist_ud;
    const int64_t *hist_ud_seq;
    size_t n_hist_ud;
    const tally_counter_day *hist_cd;
    const int64_t *hist_cd_seq;
    size_t n_hist_cd;
    int hist_fail_after;          /* history_next fails after this many pages; -1: never */
    int hist_open;                /* reads open now */
    const tally_snapshot *handed; /* history only of this one; NULL: any */
    state_entry *marks;
    size_t n_marks, cap_marks;
    bool marks_fail;
    /* Figures reported with metric (under mu): the latest per name. */
    mock_host_figure *figs;
    size_t n_figs, cap_figs;
};

/* Grow *items (each `size` bytes) to hold one more; 0 or -1. */
static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, ncap * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

/* ---- log ---- */

static void host_log(tally_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(tally_host *h, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        abort(); /* a test cannot go on without its evidence */
    va_end(ap);
    if (getenv("TALLY_TEST_VERBOSE"))
        fprintf(stderr, "[mock host] <%d> %s\n", level, text);
    pthread_mutex_lock(&h->mu);
    if (grow((void **)&h->log, &h->cap_log, h->n_log, sizeof(*h->log)) != 0)
        abort();
    h->log[h->n_log].level = level;
    h->log[h->n_log].text = text;
    h->n_log++;
    pthread_mutex_unlock(&h->mu);
}

/* The readers lock too: a plugin's thread may be appending. Texts stay
 * where they are until mock_host_log_clear. */
size_t mock_host_log_count(const tally_host *h)
{
    tally_host *w = (tally_host *)h;
    pthread_mutex_lock(&w->mu);
    size_t n = h->n_log;
    pthread_mutex_unlock(&w->mu);
    return n;
}

const char *mock_host_log_text(const tally_host *h, size_t i)
{
    tally_host *w = (tally_host *)h;
    pthread_mutex_lock(&w->mu);
    const char *t = i < h->n_log ? h->log[i].text : NULL;
    pthread_mutex_unlock(&w->mu);
    return t;
}

int mock_host_log_level(const tally_host *h, size_t i)
{
    tally_host *w = (tally_host *)h;
    pthread_mutex_lock(&w->mu);
    int level = i < h->n_log ? h->log[i].level : -1;
    pthread_mutex_unlock(&w->mu);
    return level;
}

const char *mock_host_log_find(const tally_host *h, const char *needle)
{
    tally_host *w = (tally_host *)h;
    const char *found = NULL;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < h->n_log && found == NULL; i++)
        if (strstr(h->log[i].text, needle) != NULL)
            found = h->log[i].text;
    pthread_mutex_unlock(&w->mu);
    return found;
}

void mock_host_log_clear(tally_host *h)
{
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n_log; i++)
        free(h->log[i].text);
    h->n_log = 0;
    pthread_mutex_unlock(&h->mu);
}

/* ---- the business clock ---- */

static int64_t host_now(tally_host *h)
{
    return h->now;
}

static const char *host_timezone(tally_host *h)
{
    return h->zone;
}

static int host_local_time(tally_host *h, int64_t utc, struct tm *out)
{
    time_t t = (time_t)utc;
    return localtime_r(&t, out) != NULL ? 0 : TALLY_HOST_EINVAL;
}

/* The local date of t as yyyymmdd, comparable as a number; -1 if none. */
static long local_ymd(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (localtime_r(&tt, &tm) == NULL)
        return -1;
    return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* The first instant in (lo, hi] whose local date is >= ymd, given that
 * lo's is before it and hi's is not. Searching, rather than asking mktime
 * for 00:00, also finds the start of a day whose midnight does not exist.
 * (It assumes local dates never go backwards, as the agent's clock.c does
 * not; that is fine for the zones plugin tests use.) */
static int64_t first_instant_of(long ymd, int64_t lo, int64_t hi)
{
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (local_ymd(mid) >= ymd)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int host_day_of(tally_host *h, int64_t utc, tally_day *out)
{
    const int64_t span = 3 * 86400; /* more than a day plus any UTC offset */
    long ymd = local_ymd(utc);
    if (ymd < 19000101 || ymd > 99991231)
        return TALLY_HOST_EINVAL;
    /* The next date: whatever date an instant a day or two later has. */
    long next = ymd;
    for (int64_t t = utc; next == ymd; t += 3600)
        next = local_ymd(t);
    out->start_utc = first_instant_of(ymd, utc - span, utc);
    out->end_utc = first_instant_of(next, utc, utc + span);
    snprintf(out->date, sizeof(out->date), "%04ld-%02ld-%02ld", ymd / 10000, ymd / 100 % 100,
             ymd % 100);
    return 0;
}

void mock_host_set_now(tally_host *h, int64_t utc)
{
    h->now = utc;
}

int mock_host_set_timezone(tally_host *h, const char *zone)
{
    char path[512];
    struct stat st;
    /* glibc quietly falls back to UTC for a zone it cannot find; a test
     * that thinks it runs in Asia/Shanghai must not. */
    if (zone[0] == '/' || strstr(zone, "..") != NULL)
        return -1;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    char *copy = strdup(zone);
    if (copy == NULL || setenv("TZ", zone, 1) != 0) {
        free(copy);
        return -1;
    }
    tzset();
    free(h->zone);
    h->zone = copy;
    return 0;
}

/* ---- state ---- */

static state_entry *state_find(const tally_host *h, const char *key)
{
    for (size_t i = 0; i < h->n_state; i++)
        if (strcmp(h->state[i].key, key) == 0)
            return &h->state[i];
    return NULL;
}

const char *mock_host_state(const tally_host *h, const char *key)
{
    state_entry *e = state_find(h, key);
    return e ? e->value : NULL;
}

int mock_host_state_put(tally_host *h, const char *key, const char *value)
{
    char *v = strdup(value);
    if (v == NULL)
        return TALLY_HOST_ERR;
    state_entry *e = state_find(h, key);
    if (e != NULL) {
        free(e->value);
        e->value = v;
        return 0;
    }
    char *k = strdup(key);
    if (k == NULL || grow((void **)&h->state, &h->cap_state, h->n_state, sizeof(*h->state))) {
        free(k);
        free(v);
        return TALLY_HOST_ERR;
    }
    h->state[h->n_state].key = k;
    h->state[h->n_state].value = v;
    h->n_state++;
    return 0;
}

static int host_state_get(tally_host *h, const char *key, char **value)
{
    if (key == NULL || value == NULL)
        return TALLY_HOST_EINVAL;
    const char *v = mock_host_state(h, key);
    if (v == NULL)
        return TALLY_HOST_ENOENT;
    *value = strdup(v);
    return *value ? 0 : TALLY_HOST_ERR;
}

static int host_state_put(tally_host *h, const char *key, const char *value)
{
    if (key == NULL || value == NULL)
        return TALLY_HOST_EINVAL;
    return mock_host_state_put(h, key, value);
}

/* ---- emitted counters ---- */

static int record_emit(tally_host *h, const char *date, const char *name, int64_t value)
{
    if (name == NULL || (date != NULL && strlen(date) != TALLY_DATE_LEN - 1))
        return TALLY_HOST_EINVAL;
    if (grow((void **)&h->emits, &h->cap_emits, h->n_emits, sizeof(*h->emits)) != 0)
        return TALLY_HOST_ERR;
    mock_host_emit *e = &h->emits[h->n_emits];
    snprintf(e->date, sizeof(e->date), "%s", date ? date : "");
    e->name = strdup(name);
    if (e->name == NULL)
        return TALLY_HOST_ERR;
    e->value = value;
    h->n_emits++;
    return 0;
}

static int host_emit_counter(tally_host *h, const char *name, int64_t value)
{
    return record_emit(h, NULL, name, value);
}

static int host_emit_counter_day(tally_host *h, const char *date, const char *name, int64_t value)
{
    if (date == NULL)
        return TALLY_HOST_EINVAL;
    return record_emit(h, date, name, value);
}

size_t mock_host_emit_count(const tally_host *h)
{
    return h->n_emits;
}

const mock_host_emit *mock_host_emit_at(const tally_host *h, size_t i)
{
    return i < h->n_emits ? &h->emits[i] : NULL;
}

int mock_host_counter(const tally_host *h, const char *name, int64_t *value)
{
    int found = -1;
    for (size_t i = 0; i < h->n_emits; i++)
        if (h->emits[i].date[0] == '\0' && strcmp(h->emits[i].name, name) == 0) {
            *value = h->emits[i].value;
            found = 0;
        }
    return found;
}

int mock_host_counter_day(const tally_host *h, const char *date, const char *name, int64_t *value)
{
    int found = -1;
    int64_t sum = 0;
    for (size_t i = 0; i < h->n_emits; i++)
        if (strcmp(h->emits[i].date, date) == 0 && strcmp(h->emits[i].name, name) == 0) {
            sum += h->emits[i].value;
            found = 0;
        }
    if (found == 0)
        *value = sum;
    return found;
}

/* ---- records ---- */

/* The string slots of a record, so one loop can copy them all. */
static size_t record_strs(tally_record *r, tally_str **out)
{
    size_t n = 0;
    switch (r->stream) {
    case TALLY_STREAM_USAGE:
        out[n++] = &r->u.usage.id;
        out[n++] = &r->u.usage.request_id;
        out[n++] = &r->u.usage.user_id;
        out[n++] = &r->u.usage.api_key_id;
        out[n++] = &r->u.usage.provider;
        out[n++] = &r->u.usage.model;
        out[n++] = &r->u.usage.error_message;
        break;
    case TALLY_STREAM_CANDIDATES:
        out[n++] = &r->u.candidate.id;
        out[n++] = &r->u.candidate.request_id;
        out[n++] = &r->u.candidate.status;
        break;
    default:
        out[n++] = &r->u.item.id;
        out[n++] = &r->u.item.user_id;
        break;
    }
    return n;
}

static int host_emit_records(tally_host *h, const tally_record *recs, size_t n)
{
    if (recs == NULL && n > 0)
        return TALLY_HOST_EINVAL;
    h->emit_calls++;
    if (h->on_emit != NULL)
        h->on_emit(h, h->emit_calls, h->on_emit_arg);
    for (size_t i = 0; i < n; i++) {
        tally_record r = recs[i];
        tally_str *strs[8];
        size_t ns = record_strs(&r, strs), total = 1;
        for (size_t k = 0; k < ns; k++) {
            /* The ABI: NULL has no bytes, and a string is never empty. */
            if ((strs[k]->ptr == NULL) != (strs[k]->len == 0)) {
                fprintf(stderr, "mock host: record %zu has a string with ptr %p and len %u\n", i,
                        (const void *)strs[k]->ptr, strs[k]->len);
                abort();
            }
            total += strs[k]->len;
        }
        h->recs_total++;
        if (h->drop_records)
            continue;
        char *mem = malloc(total), *at = mem;
        if (mem == NULL || grow((void **)&h->recs, &h->cap_recs, h->n_recs, sizeof(*h->recs)) ||
            grow((void **)&h->rec_mem, &h->cap_rec_mem, h->n_recs, sizeof(*h->rec_mem))) {
            free(mem);
            return TALLY_HOST_ERR;
        }
        for (size_t k = 0; k < ns; k++) {
            if (strs[k]->ptr == NULL)
                continue;
            memcpy(at, strs[k]->ptr, strs[k]->len);
            strs[k]->ptr = at;
            at += strs[k]->len;
        }
        h->recs[h->n_recs] = r;
        h->rec_mem[h->n_recs] = mem;
        h->n_recs++;
    }
    return 0;
}

size_t mock_host_record_count(const tally_host *h)
{
    return h->n_recs;
}

const tally_record *mock_host_record_at(const tally_host *h, size_t i)
{
    return i < h->n_recs ? &h->recs[i] : NULL;
}

uint64_t mock_host_records_total(const tally_host *h)
{
    return h->recs_total;
}

size_t mock_host_emit_calls(const tally_host *h)
{
    return h->emit_calls;
}

void mock_host_on_emit(tally_host *h, mock_host_emit_hook fn, void *arg)
{
    h->on_emit = fn;
    h->on_emit_arg = arg;
}

void mock_host_keep_records(tally_host *h, bool keep)
{
    h->drop_records = !keep;
}

void mock_host_records_clear(tally_host *h)
{
    for (size_t i = 0; i < h->n_recs; i++)
        free(h->rec_mem[i]);
    h->n_recs = 0;
    h->recs_total = 0;
    h->emit_calls = 0;
    h->n_inv = 0;
}

static int inventory_call(tally_host *h, tally_stream stream, int phase)
{
    if (stream != TALLY_STREAM_USERS && stream != TALLY_STREAM_API_KEYS)
        return TALLY_HOST_EINVAL;
    if (grow((void **)&h->inv, &h->cap_inv, h->n_inv, sizeof(*h->inv)) != 0)
        return TALLY_HOST_ERR;
    h->inv[h->n_inv++] = (mock_host_inventory_call){stream, phase, h->recs_total};
    return 0;
}

static int host_inventory_begin(tally_host *h, tally_stream stream)
{
    return inventory_call(h, stream, TALLY_INVENTORY_BEGIN);
}

static int host_inventory_end(tally_host *h, tally_stream stream)
{
    return inventory_call(h, stream, TALLY_INVENTORY_END);
}

size_t mock_host_inventory_count(const tally_host *h)
{
    return h->n_inv;
}

const mock_host_inventory_call *mock_host_inventory_at(const tally_host *h, size_t i)
{
    return i < h->n_inv ? &h->inv[i] : NULL;
}

static int host_count_rejected(tally_host *h, int64_t n)
{
    if (n < 0)
        return TALLY_HOST_EINVAL;
    h->rejected += n;
    return 0;
}

int64_t mock_host_rejected(const tally_host *h)
{
    return h->rejected;
}

void mock_host_rejected_clear(tally_host *h)
{
    h->rejected = 0;
}

/* Local wall-clock seconds in TZ to UTC, as the agent defines it: a time
 * the zone repeats is its first occurrence; one it skips moves forward by
 * the gap. The offsets a day before and after are the candidates (zones
 * change at most once in two days). */
static long offset_at(int64_t utc)
{
    struct tm tm;
    time_t t = (time_t)utc;
    return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

static int host_local_to_utc(tally_host *h, int64_t local, int64_t *utc)
{
    (void)h;
    if (utc == NULL)
        return TALLY_HOST_EINVAL;
    long before = offset_at(local - 86400), after = offset_at(local + 86400);
    int64_t u1 = local - before, u2 = local - after;
    bool ok1 = offset_at(u1) == before, ok2 = offset_at(u2) == after;
    if (ok1 && ok2)
        *utc = u1 < u2 ? u1 : u2;
    else if (ok1 || ok2)
        *utc = ok1 ? u1 : u2;
    else
        *utc = u1; /* in the gap: the old offset puts it after the gap */
    return 0;
}

static void *host_state_db(tally_host *h)
{
    return h->db;
}

void mock_host_set_state_db(tally_host *h, void *db)
{
    h->db = db;
}

/* ---- secrets and the state directory ---- */

static int read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap && grow((void **)&buf, &cap, len + 1, 1) != 0) {
            free(buf);
            fclose(f);
            return -1;
        }
        buf[len++] = (char)c;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return -1;
    }
    if (buf == NULL && (buf = malloc(1)) == NULL)
        return -1;
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int host_read_secret(tally_host *h, const char *file, const char *env, char **out)
{
    if (file != NULL) {
        char *s = NULL;
        if (read_file(file, &s) != 0) {
            /* Names the file, never what it holds. */
            host_log(h, TALLY_LOG_ERR, "cannot read secret file %s: %s", file, strerror(errno));
            return TALLY_HOST_ERR;
        }
        size_t n = strlen(s);
        if (n > 0 && s[n - 1] == '\n')
            s[--n] = '\0';
        *out = s;
        return 0;
    }
    if (env != NULL) {
        const char *v = getenv(env);
        if (v == NULL) {
            host_log(h, TALLY_LOG_ERR, "secret environment variable %s is not set", env);
            return TALLY_HOST_ERR;
        }
        *out = strdup(v);
        return *out ? 0 : TALLY_HOST_ERR;
    }
    return TALLY_HOST_EINVAL;
}

static const char *host_state_dir(tally_host *h)
{
    return h->state_dir ? h->state_dir : "/nonexistent/tally-mock-state";
}

void mock_host_set_state_dir(tally_host *h, const char *dir)
{
    free(h->state_dir);
    h->state_dir = dir ? strdup(dir) : NULL;
}

/* ---- the spool: the agent's semantics (agent/spool.c), in memory ---- */

static void spool_remove(tally_host *h, size_t from, size_t n)
{
    if (n == 0) /* memmove must not see the NULL of an empty spool */
        return;
    for (size_t i = from; i < from + n; i++) {
        free(h->spool[i].meta);
        free(h->spool[i].data);
    }
    memmove(&h->spool[from], &h->spool[from + n], (h->n_spool - from - n) * sizeof(*h->spool));
    h->n_spool -= n;
}

static int64_t spool_bytes(const tally_host *h)
{
    int64_t total = 0;
    for (size_t i = 0; i < h->n_spool; i++)
        total += (int64_t)h->spool[i].len;
    return total;
}

/* Make room for len bytes within max_bytes; how many were dropped, or
 * -1 when len alone is too large (counted). */
static int64_t spool_room(tally_host *h, size_t len, int64_t max_bytes)
{
    if (max_bytes <= 0)
        return 0;
    if ((int64_t)len > max_bytes) {
        h->spool_counts.overflowed++;
        h->spool_counts.overflowed_bytes += (int64_t)len;
        return -1;
    }
    size_t n = 0;
    int64_t total = spool_bytes(h);
    while (n < h->n_spool && total + (int64_t)len > max_bytes) {
        total -= (int64_t)h->spool[n].len;
        h->spool_counts.overflowed_bytes += (int64_t)h->spool[n].len;
        n++;
    }
    h->spool_counts.overflowed += (int64_t)n;
    spool_remove(h, 0, n);
    return (int64_t)n;
}

static int host_spool_push(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                           int64_t max_bytes, int64_t *seq, int64_t *overflowed)
{
    if ((data == NULL && len > 0) || (mode != TALLY_SPOOL_QUEUE && mode != TALLY_SPOOL_REPLACE))
        return TALLY_HOST_EINVAL;
    pthread_mutex_lock(&h->mu);
    if (mode == TALLY_SPOOL_REPLACE)
        spool_remove(h, 0, h->n_spool);
    int64_t dropped = spool_room(h, len, max_bytes);
    if (overflowed != NULL)
        *overflowed = dropped < 0 ? 1 : dropped;
    int rc = TALLY_HOST_ERR;
    if (dropped >= 0 &&
        grow((void **)&h->spool, &h->cap_spool, h->n_spool, sizeof(*h->spool)) == 0) {
        spool_entry *e = &h->spool[h->n_spool];
        e->meta = strdup(meta ? meta : "");
        e->data = malloc(len + 1);
        if (e->meta != NULL && e->data != NULL) {
            memcpy(e->data, data, len);
            e->len = len;
            e->seq = ++h->next_seq;
            e->created = (int64_t)time(NULL);
            if (seq != NULL)
                *seq = e->seq;
            h->n_spool++;
            rc = TALLY_HOST_OK;
        } else {
            free(e->meta);
            free(e->data);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int host_spool_peek(tally_host *h, tally_spool_item *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&h->mu);
    int rc = TALLY_HOST_ENOENT;
    if (h->n_spool > 0) {
        const spool_entry *e = &h->spool[0];
        out->seq = e->seq;
        snprintf(out->key, sizeof(out->key), "mock-%lld", (long long)e->seq);
        out->created_utc = e->created;
        out->meta = strdup(e->meta);
        out->data = malloc(e->len + 1);
        out->len = e->len;
        rc = out->meta && out->data ? TALLY_HOST_OK : TALLY_HOST_ERR;
        if (rc == TALLY_HOST_OK) {
            memcpy(out->data, e->data, e->len);
            ((char *)out->data)[e->len] = '\0';
        }
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int host_spool_drop(tally_host *h, int64_t seq, int outcome)
{
    if (outcome != TALLY_SPOOL_DELIVERED && outcome != TALLY_SPOOL_REJECTED)
        return TALLY_HOST_EINVAL;
    pthread_mutex_lock(&h->mu);
    int rc = TALLY_HOST_ENOENT;
    for (size_t i = 0; i < h->n_spool; i++)
        if (h->spool[i].seq == seq) {
            spool_remove(h, i, 1);
            if (outcome == TALLY_SPOOL_DELIVERED)
                h->spool_counts.delivered++;
            else
                h->spool_counts.rejected++;
            rc = TALLY_HOST_OK;
            break;
        }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int host_spool_stats(tally_host *h, tally_spool_stats *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->spool_counts;
    out->items = (int64_t)h->n_spool;
    out->bytes = spool_bytes(h);
    pthread_mutex_unlock(&h->mu);
    return TALLY_HOST_OK;
}

/* The agent's shape (agent/options.c), logged as any other line. */
static void host_config_error(tally_host *h, cfg_t *section, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_config_error(tally_host *h, cfg_t *section, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = options_error_text(section, fmt, ap);
    va_end(ap);
    if (text == NULL)
        abort(); /* a test cannot go on without its evidence */
    host_log(h, TALLY_LOG_ERR, "%s", text);
    free(text);
}

size_t mock_host_spool_items(tally_host *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n_spool;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- ABI 4: the cycle's seq, history from the test's rows, marks ---- */

static int64_t host_cycle_seq(tally_host *h)
{
    return h->cycle_seq;
}

void mock_host_set_cycle_seq(tally_host *h, int64_t seq)
{
    h->cycle_seq = seq;
}

void mock_host_set_history(tally_host *h, const tally_user_day_stats *user_days,
                           const int64_t *user_day_seqs, size_t n_user_days,
                           const tally_counter_day *counter_days, const int64_t *counter_day_seqs,
                           size_t n_counter_days)
{
    h->hist_ud = user_days;
    h->hist_ud_seq = user_day_seqs;
    h->n_hist_ud = n_user_days;
    h->hist_cd = counter_days;
    h->hist_cd_seq = counter_day_seqs;
    h->n_hist_cd = n_counter_days;
}

void mock_host_fail_history_after(tally_host *h, int pages)
{
    h->hist_fail_after = pages;
}

void mock_host_set_snapshot(tally_host *h, const tally_snapshot *snap)
{
    h->handed = snap;
}

int mock_host_history_open_count(const tally_host *h)
{
    return h->hist_open;
}

static void host_history_close(tally_history *it);

struct tally_history {
    tally_host *h;
    tally_history_query q;
    char key[256];
    bool has_key;
    size_t at, pages;
    tally_user_day_stats *ud;
    tally_counter_day *cd;
};

static bool date_ok(const char *d)
{
    if (d[0] == '\0')
        return true;
    if (strnlen(d, TALLY_DATE_LEN) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return false;
    return true;
}

static int host_history_open(tally_host *h, const tally_snapshot *snap,
                             const tally_history_query *q, tally_history **out)
{
    *out = NULL;
    if (snap == NULL || q == NULL || q->struct_size < sizeof(tally_history_query) ||
        (q->table != TALLY_HISTORY_USER_DAYS && q->table != TALLY_HISTORY_COUNTER_DAYS) ||
        !date_ok(q->from_date) || !date_ok(q->to_date) || q->changed_after < 0 ||
        (q->key != NULL && strlen(q->key) >= 256))
        return TALLY_HOST_EINVAL;
    if (h->handed != NULL && snap != h->handed) {
        host_log(h, TALLY_LOG_ERR,
                 "mock host: history_open of a snapshot that was not handed over (a copy?)");
        return TALLY_HOST_EINVAL;
    }
    tally_history *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return TALLY_HOST_ERR;
    it->h = h;
    it->q = *q;
    if (it->q.page_rows == 0)
        it->q.page_rows = 1000;
    if (q->key != NULL) {
        snprintf(it->key, sizeof(it->key), "%s", q->key);
        it->has_key = true;
    }
    it->q.key = NULL;
    /* The agent's defaults: from the oldest listed date to today. */
    tally_day today;
    if (it->q.from_date[0] == '\0' || strcmp(it->q.from_date, snap->oldest_kept) < 0)
        memcpy(it->q.from_date, snap->oldest_kept, TALLY_DATE_LEN);
    if (host_day_of(h, snap->now_utc, &today) == TALLY_HOST_OK &&
        (it->q.to_date[0] == '\0' || strcmp(it->q.to_date, today.date) > 0))
        memcpy(it->q.to_date, today.date, TALLY_DATE_LEN);
    it->ud = calloc(it->q.page_rows, sizeof(*it->ud));
    it->cd = calloc(it->q.page_rows, sizeof(*it->cd));
    if (it->ud == NULL || it->cd == NULL) {
        host_history_close(it);
        return TALLY_HOST_ERR;
    }
    pthread_mutex_lock(&h->mu);
    h->hist_open++;
    pthread_mutex_unlock(&h->mu);
    *out = it;
    return TALLY_HOST_OK;
}

/* Whether row i of the query's table is read. */
static bool history_wants(const tally_history *it, size_t i)
{
    const tally_host *h = it->h;
    bool ud = it->q.table == TALLY_HISTORY_USER_DAYS;
    const char *date = ud ? h->hist_ud[i].date : h->hist_cd[i].date;
    const char *key = ud ? h->hist_ud[i].user_id : h->hist_cd[i].name;
    int64_t seq = ud ? h->hist_ud_seq[i] : h->hist_cd_seq[i];
    return seq > it->q.changed_after && strcmp(date, it->q.from_date) >= 0 &&
           strcmp(date, it->q.to_date) < 0 && (!it->has_key || strcmp(key, it->key) == 0);
}

static int host_history_next(tally_history *it, tally_history_page *page)
{
    memset(page, 0, sizeof(*page));
    if (it->h->hist_fail_after >= 0 && it->pages >= (size_t)it->h->hist_fail_after) {
        host_log(it->h, TALLY_LOG_ERR, "mock host: history read failed (as the test asked)");
        return TALLY_HOST_ERR;
    }
    bool ud = it->q.table == TALLY_HISTORY_USER_DAYS;
    size_t n_rows = ud ? it->h->n_hist_ud : it->h->n_hist_cd, n = 0;
    while (it->at < n_rows && n < it->q.page_rows) {
        if (history_wants(it, it->at)) {
            if (ud)
                it->ud[n++] = it->h->hist_ud[it->at];
            else
                it->cd[n++] = it->h->hist_cd[it->at];
        }
        it->at++;
    }
    if (ud) {
        page->user_days = it->ud;
        page->n_user_days = n;
    } else {
        page->counter_days = it->cd;
        page->n_counter_days = n;
    }
    it->pages++;
    return TALLY_HOST_OK;
}

static void host_history_close(tally_history *it)
{
    if (it == NULL)
        return;
    pthread_mutex_lock(&it->h->mu);
    it->h->hist_open--;
    pthread_mutex_unlock(&it->h->mu);
    free(it->ud);
    free(it->cd);
    free(it);
}

static state_entry *mark_find(tally_host *h, const char *name)
{
    for (size_t i = 0; i < h->n_marks; i++)
        if (strcmp(h->marks[i].key, name) == 0)
            return &h->marks[i];
    return NULL;
}

/* Under mu. */
static int mark_set(tally_host *h, const char *name, const char *value)
{
    if (h->marks_fail)
        return TALLY_HOST_ERR;
    state_entry *e = mark_find(h, name);
    char *v = strdup(value);
    if (v == NULL)
        return TALLY_HOST_ERR;
    if (e == NULL) {
        char *k = strdup(name);
        if (k == NULL ||
            grow((void **)&h->marks, &h->cap_marks, h->n_marks, sizeof(*h->marks)) != 0) {
            free(k);
            free(v);
            return TALLY_HOST_ERR;
        }
        e = &h->marks[h->n_marks++];
        e->key = k;
        e->value = NULL;
    }
    free(e->value);
    e->value = v;
    return TALLY_HOST_OK;
}

static int host_mark_get(tally_host *h, const char *name, char **value)
{
    *value = NULL;
    if (name == NULL)
        return TALLY_HOST_EINVAL;
    pthread_mutex_lock(&h->mu);
    state_entry *e = mark_find(h, name);
    int rc = TALLY_HOST_ENOENT;
    if (e != NULL)
        rc = (*value = strdup(e->value)) != NULL ? TALLY_HOST_OK : TALLY_HOST_ERR;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int host_mark_put(tally_host *h, const char *name, const char *value)
{
    if (name == NULL || value == NULL)
        return TALLY_HOST_EINVAL;
    pthread_mutex_lock(&h->mu);
    int rc = mark_set(h, name, value);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

const char *mock_host_mark(tally_host *h, const char *name)
{
    pthread_mutex_lock(&h->mu);
    state_entry *e = mark_find(h, name);
    const char *v = e != NULL ? e->value : NULL;
    pthread_mutex_unlock(&h->mu);
    return v;
}

void mock_host_fail_marks(tally_host *h, bool fail)
{
    pthread_mutex_lock(&h->mu);
    h->marks_fail = fail;
    pthread_mutex_unlock(&h->mu);
}

static int host_spool_push_marked(tally_host *h, const void *data, size_t len, const char *meta,
                                  int mode, int64_t max_bytes, const char *mark_name,
                                  const char *mark_value, int64_t *seq, int64_t *overflowed)
{
    if (mark_name == NULL || mark_value == NULL)
        return TALLY_HOST_EINVAL;
    /* Both or neither, as the agent's one transaction: the mark goes
     * first, and back to what it was when the push fails. */
    pthread_mutex_lock(&h->mu);
    state_entry *e = mark_find(h, mark_name);
    char *before = e != NULL ? strdup(e->value) : NULL;
    int rc = (e != NULL && before == NULL) ? TALLY_HOST_ERR : mark_set(h, mark_name, mark_value);
    pthread_mutex_unlock(&h->mu);
    if (rc == TALLY_HOST_OK) {
        rc = host_spool_push(h, data, len, meta, mode, max_bytes, seq, overflowed);
        if (rc != TALLY_HOST_OK) {
            pthread_mutex_lock(&h->mu);
            if (before != NULL) {
                mark_set(h, mark_name, before);
            } else {
                state_entry *m = mark_find(h, mark_name);
                free(m->key);
                free(m->value);
                *m = h->marks[--h->n_marks];
            }
            pthread_mutex_unlock(&h->mu);
        }
    }
    free(before);
    return rc;
}

/* As the agent: the same rules (lib/selfmetric), any thread. */
static int host_metric(tally_host *h, const char *name, tally_metric_kind kind, double value,
                       const char *help)
{
    const char *why = NULL;
    if (selfmetric_check(name, kind, value, &why) != 0) {
        host_log(h, TALLY_LOG_WARNING, "the metric \"%s\" %s", name ? name : "(null)", why);
        return TALLY_HOST_EINVAL;
    }
    pthread_mutex_lock(&h->mu);
    size_t i = 0;
    while (i < h->n_figs && strcmp(h->figs[i].name, name) != 0)
        i++;
    if (i == h->n_figs) {
        if (grow((void **)&h->figs, &h->cap_figs, h->n_figs, sizeof(*h->figs)) != 0 ||
            (h->figs[i].name = strdup(name)) == NULL)
            abort();
        h->figs[i].help = NULL;
        h->n_figs++;
    }
    free(h->figs[i].help);
    if ((h->figs[i].help = strdup(help ? help : "")) == NULL)
        abort();
    h->figs[i].kind = kind;
    h->figs[i].value = value;
    h->figs[i].calls++;
    pthread_mutex_unlock(&h->mu);
    return TALLY_HOST_OK;
}

int mock_host_metric(tally_host *h, const char *name, mock_host_figure *out)
{
    int rc = -1;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n_figs && rc != 0; i++)
        if (strcmp(h->figs[i].name, name) == 0) {
            *out = h->figs[i];
            rc = 0;
        }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

size_t mock_host_metric_count(tally_host *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n_figs;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static const tally_host_api api = {
    .struct_size = sizeof(tally_host_api),
    .log = host_log,
    .now = host_now,
    .timezone = host_timezone,
    .day_of = host_day_of,
    .local_time = host_local_time,
    .state_get = host_state_get,
    .state_put = host_state_put,
    .emit_counter = host_emit_counter,
    .emit_counter_day = host_emit_counter_day,
    .read_secret = host_read_secret,
    .state_dir = host_state_dir,
    .emit_records = host_emit_records,
    .inventory_begin = host_inventory_begin,
    .inventory_end = host_inventory_end,
    .count_rejected = host_count_rejected,
    .local_to_utc = host_local_to_utc,
    .state_db = host_state_db,
    .spool_push = host_spool_push,
    .spool_peek = host_spool_peek,
    .spool_drop = host_spool_drop,
    .spool_stats = host_spool_stats,
    .config_error = host_config_error,
    .cycle_seq = host_cycle_seq,
    .history_open = host_history_open,
    .history_next = host_history_next,
    .history_close = host_history_close,
    .mark_get = host_mark_get,
    .mark_put = host_mark_put,
    .spool_push_marked = host_spool_push_marked,
    .metric = host_metric,
};

const tally_host_api *mock_host_api(void)
{
    return &api;
}

tally_host *mock_host_new(void)
{
    tally_host *h = calloc(1, sizeof(*h));
    if (h == NULL)
        abort();
    h->now = 1795316400; /* 2026-11-22T03:00:00Z, DESIGN.md's example */
    h->hist_fail_after = -1;
    h->cycle_seq = 1;
    pthread_mutex_init(&h->mu, NULL);
    if (mock_host_set_timezone(h, "UTC") != 0) {
        h->zone = strdup("UTC");
        setenv("TZ", "UTC", 1);
        tzset();
    }
    return h;
}

void mock_host_free(tally_host *h)
{
    if (h == NULL)
        return;
    mock_host_log_clear(h);
    free(h->log);
    for (size_t i = 0; i < h->n_state; i++) {
        free(h->state[i].key);
        free(h->state[i].value);
    }
    free(h->state);
    for (size_t i = 0; i < h->n_emits; i++)
        free(h->emits[i].name);
    free(h->emits);
    mock_host_records_clear(h);
    free(h->recs);
    free(h->rec_mem);
    free(h->inv);
    spool_remove(h, 0, h->n_spool);
    free(h->spool);
    for (size_t i = 0; i < h->n_marks; i++) {
        free(h->marks[i].key);
        free(h->marks[i].value);
    }
    free(h->marks);
    for (size_t i = 0; i < h->n_figs; i++) {
        free(h->figs[i].name);
        free(h->figs[i].help);
    }
    free(h->figs);
    pthread_mutex_destroy(&h->mu);
    free(h->zone);
    free(h->state_dir);
    free(h);
}

/* ---- loading a plugin ---- */

const tally_plugin *mock_host_load(const char *dir, const char *name, void **handle)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.so", dir, name);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "mock host: cannot load %s: %s\n", path, dlerror());
        return NULL;
    }
    const tally_plugin *p = dlsym(dl, TALLY_PLUGIN_SYMBOL);
    if (p == NULL) {
        fprintf(stderr, "mock host: %s has no %s\n", path, TALLY_PLUGIN_SYMBOL);
    } else if (p->abi_version != TALLY_PLUGIN_ABI_VERSION) {
        fprintf(stderr, "mock host: %s has ABI version %u, this host %u\n", path, p->abi_version,
                TALLY_PLUGIN_ABI_VERSION);
        p = NULL;
    }
    if (p == NULL) {
        dlclose(dl);
        return NULL;
    }
    *handle = dl;
    return p;
}

void mock_host_unload(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}

/* ---- parsing a section ---- */

/* Each section returned is owned by a root cfg_t that must be freed with
 * it; a test holds few at a time, so a short list maps one to the other. */
typedef struct parsed {
    cfg_t *root, *section;
    struct parsed *next;
} parsed;
static parsed *parsed_list;
static char parse_error[1024];

static void record_parse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    int n =
        snprintf(parse_error, sizeof(parse_error),
                 "%s:%d: ", cfg && cfg->filename ? cfg->filename : "[buf]", cfg ? cfg->line : 0);
    if (n > 0 && (size_t)n < sizeof(parse_error))
        vsnprintf(parse_error + n, sizeof(parse_error) - (size_t)n, fmt, ap);
}

const char *mock_host_parse_error(void)
{
    return parse_error;
}

cfg_t *mock_host_section_at(const tally_plugin *p, const char *title, const char *body,
                            int first_line)
{
    /* The agent builds one titled multi-section per plugin from the
     * plugin's option rows, like this. */
    cfg_opt_t *opts = NULL;
    if (options_table(p->options, &opts) != 0)
        return NULL;
    cfg_opt_t root_opts[] = {
        CFG_SEC(p->name, opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_END(),
    };
    parse_error[0] = '\0';
    char *text = NULL;
    int skip = first_line > 1 ? first_line - 1 : 0;
    if (asprintf(&text, "%*s%s \"%s\" { %s }\n", skip, "", p->name, title, body) < 0)
        return NULL;
    /* The padding is newlines, so the section starts on first_line. */
    memset(text, '\n', (size_t)skip);
    cfg_t *root = cfg_init(root_opts, CFGF_NONE);
    free(opts); /* libconfuse copied it */
    parsed *entry = malloc(sizeof(*entry));
    if (root == NULL || entry == NULL) {
        free(text);
        free(entry);
        if (root)
            cfg_free(root);
        return NULL;
    }
    cfg_set_error_function(root, record_parse_error);
    int rc = cfg_parse_buf(root, text);
    free(text);
    cfg_t *section = rc == CFG_SUCCESS ? cfg_getnsec(root, p->name, 0) : NULL;
    if (section == NULL) {
        if (parse_error[0] == '\0')
            snprintf(parse_error, sizeof(parse_error), "cfg_parse_buf returned %d", rc);
        cfg_free(root);
        free(entry);
        return NULL;
    }
    entry->root = root;
    entry->section = section;
    entry->next = parsed_list;
    parsed_list = entry;
    return section;
}

cfg_t *mock_host_section(const tally_plugin *p, const char *title, const char *body)
{
    return mock_host_section_at(p, title, body, 1);
}

void mock_host_section_free(cfg_t *section)
{
    for (parsed **pp = &parsed_list; *pp; pp = &(*pp)->next) {
        if ((*pp)->section == section) {
            parsed *e = *pp;
            *pp = e->next;
            cfg_free(e->root);
            free(e);
            return;
        }
    }
}

int mock_host_check(const tally_plugin *p, tally_host *h, cfg_t *section)
{
    return options_check(p, h, &api, section);
}

/* Why a start failed: the step, and the host's last log line. */
static void start_failed(tally_host *h, const char *step)
{
    size_t n = mock_host_log_count(h);
    snprintf(parse_error, sizeof(parse_error), "%s failed: %s", step,
             n > 0 ? mock_host_log_text(h, n - 1) : "(nothing logged)");
}

int mock_host_start(mock_host_instance *in, const tally_plugin *p, tally_host *h, const char *title,
                    const char *body)
{
    *in = (mock_host_instance){.plugin = p, .h = h};
    in->section = mock_host_section(p, title, body);
    if (in->section == NULL)
        return -1;
    const char *step = NULL;
    if (mock_host_check(p, h, in->section) != TALLY_HOST_OK)
        step = "check";
    else if (p->init(h, &api, in->section, &in->ctx) != TALLY_HOST_OK)
        step = "init";
    if (step != NULL) {
        start_failed(h, step);
        mock_host_section_free(in->section);
        in->section = NULL;
        in->ctx = NULL;
        return -1;
    }
    return 0;
}

void mock_host_stop(mock_host_instance *in)
{
    if (in->ctx != NULL)
        in->plugin->stop(in->ctx);
    mock_host_section_free(in->section);
    in->ctx = NULL;
    in->section = NULL;
}
