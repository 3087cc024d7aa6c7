/*
 * snapshot.c — see snapshot.h.
 */
#include "snapshot.h"

#include "clock.h"
#include "conf_map.h"
#include "counter_days.h"
#include "log.h"
#include "selfstats.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The view's reads wait out a checkpoint's brief locks rather than fail. */
#define VIEW_BUSY_MS 10000
/* Each live snapshot has its view; a small page cache keeps several of
 * them (a slow exporter holds one while the next cycles make theirs)
 * inside the agent's RSS budget. */
#define VIEW_CACHE_KIB 512

/* Every snapshot with a reference, so a pointer an exporter hands back
 * (history_open) is checked, not trusted. The last reference is dropped
 * under this lock, so a snapshot found here is never one being freed. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static snap_ref *live;

_Static_assert(sizeof(((tally_snapshot *)0)->state_id) == STATE_ID_LEN,
               "a snapshot holds the state's id whole");

static int by_counter_name(const void *a, const void *b)
{
    return strcmp(((const tally_counter_value *)a)->name, ((const tally_counter_value *)b)->name);
}

/* Two sources (two regions) may report one name: one series, their sum,
 * since a JSON object and a Prometheus family can hold a name only once. */
static void merge_same_names(snap_ref *r)
{
    size_t out = 0;
    for (size_t i = 0; i < r->n_counters; i++) {
        if (out > 0 && strcmp(r->counters[out - 1].name, r->counters[i].name) == 0) {
            r->counters[out - 1].value =
                (int64_t)((uint64_t)r->counters[out - 1].value + (uint64_t)r->counters[i].value);
            free((char *)r->counters[i].name);
            continue;
        }
        r->counters[out++] = r->counters[i];
    }
    r->n_counters = out;
}

/* The oldest date listed (days, user-days, counter totals): the
 * collector's oldest kept date, or TALLY_KEEP_DAYS_DEFAULT days without
 * one. Noon less whole days stays inside the wanted date whatever DST
 * does. */
static void oldest_kept_of(const tally_stats *st, const tally_day *today,
                           char since[TALLY_DATE_LEN])
{
    tally_day first;
    if (st->oldest_kept[0] != '\0') {
        memcpy(since, st->oldest_kept, TALLY_DATE_LEN);
        since[TALLY_DATE_LEN - 1] = '\0';
    } else if (clock_day_of(today->start_utc + 43200 - (int64_t)TALLY_KEEP_DAYS_DEFAULT * 86400,
                            &first) == 0) {
        memcpy(since, first.date, TALLY_DATE_LEN);
    } else {
        since[0] = '\0'; /* the clock cannot say: every day */
    }
}

/* The collector's statistics, copied into memory of the agent's own (days,
 * user_days, and one block for the user ids), then given back to the
 * collector with free_stats: the snapshot outlives the call, maybe the
 * plugin too (exporter threads drop it last). 0, or -1 with *out empty. */
static int collector_stats(const struct tally_host *c, int64_t now, int64_t changed_after,
                           tally_stats *out)
{
    const tally_plugin_collector *cb = &c->plugin->desc.collector;
    tally_stats theirs;
    memset(&theirs, 0, sizeof(theirs));
    memset(out, 0, sizeof(*out));
    int rc = cb->stats(c->ctx, now, changed_after, &theirs) == TALLY_HOST_OK ? 0 : -1;
    size_t ids = 0;
    for (size_t i = 0; rc == 0 && i < theirs.n_user_days; i++)
        ids += strlen(theirs.user_days[i].user_id) + 1;
    *out = theirs;
    out->days = theirs.n_days ? malloc(theirs.n_days * sizeof(*out->days)) : NULL;
    out->user_days =
        theirs.n_user_days ? malloc(theirs.n_user_days * sizeof(*out->user_days)) : NULL;
    char *block = ids ? malloc(ids) : NULL;
    if (rc != 0 || (theirs.n_days && out->days == NULL) ||
        (theirs.n_user_days && (out->user_days == NULL || block == NULL))) {
        free(out->days);
        free(out->user_days);
        free(block);
        memset(out, 0, sizeof(*out));
        rc = -1;
    } else {
        if (theirs.n_days)
            memcpy(out->days, theirs.days, theirs.n_days * sizeof(*out->days));
        for (size_t i = 0; i < theirs.n_user_days; i++) {
            out->user_days[i] = theirs.user_days[i];
            size_t n = strlen(theirs.user_days[i].user_id) + 1;
            memcpy(block, theirs.user_days[i].user_id, n);
            out->user_days[i].user_id = block;
            block += n;
        }
    }
    cb->free_stats(c->ctx, &theirs);
    return rc;
}

/* The state as cycle seq committed it, on a connection of the snapshot's
 * own: BEGIN and a first read pin the WAL snapshot (SQLite starts a read
 * transaction at the first read), which must be that cycle's. Serialized
 * (FULLMUTEX): exporter threads read through it at once. query_only: what
 * reads through it (a collector's history) cannot write. NULL (logged). */
static sqlite3 *view_open(const char *path, int64_t seq)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *what = "open";
    if (sqlite3_open_v2(path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(db, VIEW_BUSY_MS);
    char pragmas[128];
    snprintf(pragmas, sizeof(pragmas), "PRAGMA cache_size = -%d; PRAGMA query_only = 1; BEGIN",
             VIEW_CACHE_KIB);
    what = "begin a read";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT seq FROM state_cycle WHERE one = 1", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    int64_t seen = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (seen != seq) {
        log_msg(TALLY_LOG_ERR,
                "state %s: the read for the snapshot of cycle %lld sees cycle %lld; is another "
                "program writing the state? This snapshot has no history",
                path, (long long)seq, (long long)seen);
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
fail:
    log_msg(TALLY_LOG_ERR,
            "state %s: cannot %s for the snapshot of cycle %lld: %s; this snapshot has no "
            "history (exporters that list everything fail this time); check the file's owner "
            "and the disk",
            path, what, (long long)seq, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return NULL;
}

static void live_add(snap_ref *r)
{
    pthread_mutex_lock(&live_mu);
    r->next_live = live;
    live = r;
    pthread_mutex_unlock(&live_mu);
}

snap_ref *snap_ref_find(const tally_snapshot *snap)
{
    pthread_mutex_lock(&live_mu);
    snap_ref *r = live;
    /* Exporters hand back the snapshot or a copy of it with some members
     * changed (exporters/format does): known by its cycle and state. */
    while (r != NULL && &r->s != snap &&
           (r->s.seq != snap->seq || strncmp(r->s.state_id, snap->state_id, STATE_ID_LEN) != 0))
        r = r->next_live;
    if (r != NULL)
        atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&live_mu);
    return r;
}

int snap_hold(const tally_snapshot *snap)
{
    snap_ref *r = snap_ref_find(snap);
    if (r == NULL)
        return -1;
    /* find's reference is the hold's. */
    atomic_fetch_add(&r->holds, 1);
    return 0;
}

int snap_release(const tally_snapshot *snap)
{
    snap_ref *r = snap_ref_find(snap);
    if (r == NULL)
        return -1;
    /* Only a hold is given back: a release without one must not drop a
     * reference the agent or another exporter still counts on. */
    int held = atomic_load(&r->holds);
    while (held > 0 && !atomic_compare_exchange_weak(&r->holds, &held, held - 1))
        ;
    if (held > 0)
        snap_ref_put(r); /* the hold's */
    snap_ref_put(r);     /* find's */
    return held > 0 ? 0 : -1;
}

snap_ref *snap_build(agent *a, int64_t seq, int64_t now, int32_t now_nsec)
{
    snap_ref *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    atomic_init(&r->refs, 1);
    /* First, while nothing has written since the commit. */
    r->view = view_open(state_path(a->state), seq);
    /* The counters move from the cycle into the snapshot. */
    r->counters = a->counters;
    r->n_counters = a->n_counters;
    a->counters = NULL;
    a->n_counters = a->cap_counters = 0;
    /* An empty region leaves counters NULL, and qsort's base must not be. */
    if (r->n_counters > 1)
        qsort(r->counters, r->n_counters, sizeof(*r->counters), by_counter_name);
    merge_same_names(r);

    tally_day today;
    clock_day_of(now, &today);
    memcpy(r->today, today.date, TALLY_DATE_LEN);
    tally_snapshot *s = &r->s;
    s->seq = seq;
    s->changed_after = seq - 1;
    snprintf(s->state_id, sizeof(s->state_id), "%s", state_id(a->state));
    struct tally_host *c = a->collector;
    if (c != NULL) {
        r->collector = c;
        if (collector_stats(c, now, s->changed_after, &r->stats) != 0) {
            log_msg(TALLY_LOG_ERR, "%s: no statistics this cycle (see above)", c->who);
            memset(&r->stats, 0, sizeof(r->stats));
        }
        s->days = r->stats.days;
        s->n_days = r->stats.n_days;
        s->user_days = r->stats.user_days;
        s->n_user_days = r->stats.n_user_days;
        s->summary = r->stats.summary;
        s->today = r->stats.today;
        s->combined = r->stats.combined;
    }
    oldest_kept_of(&r->stats, &today, s->oldest_kept);
    /* changed_after 0, a state's first cycle: every row, as the
     * collector's stats and history read 0, also those an older release
     * wrote (seq 0). Once per state. */
    counter_days_filter changed = {.changed_after = s->changed_after > 0 ? s->changed_after : -1,
                                   .up_to = seq,
                                   .from = s->oldest_kept,
                                   .to = r->today};
    if (counter_days_all(state_db(a->state), &changed, TALLY_STATS_MAX_CHANGED, &r->counter_days,
                         &r->n_counter_days) != 0) {
        snap_ref_put(r);
        return NULL;
    }
    /* More changed than a snapshot carries (the collector said so, or the
     * counter days are too many): neither list, and changed_after = seq
     * says so; exporters page through the changes from history. */
    if (r->stats.more_changed || r->n_counter_days > TALLY_STATS_MAX_CHANGED) {
        s->changed_after = seq;
        s->user_days = NULL;
        s->n_user_days = 0;
        counter_days_free(r->counter_days, r->n_counter_days);
        r->counter_days = NULL;
        r->n_counter_days = 0;
    }
    if (state_rejected_get(a->state, &s->rejected_rows) != 0)
        s->rejected_rows = 0;
    if (a->self != NULL && (r->agent = selfstats_copy(a)) == NULL) {
        log_msg(TALLY_LOG_ERR, "cycle: out of memory copying the agent's own figures");
        snap_ref_put(r);
        return NULL;
    }
    s->agent = r->agent;
    s->timezone = clock_zone();
    s->now_utc = now;
    s->now_nsec = now_nsec;
    s->generated_utc = (int64_t)time(NULL);
    s->summary.cutoff_utc = today.start_utc;
    s->counters = r->counters;
    s->n_counters = r->n_counters;
    r->map = conf_map_ref(a->conf->map);
    s->map = conf_map_rules(r->map);
    conf_map_note_duplicates(r->map, r->counters, r->n_counters);
    s->counter_days = r->counter_days;
    s->n_counter_days = r->n_counter_days;
    /* Findable by exporters (snap_ref_find) only once every field it
     * compares is written: the list's lock orders those writes before
     * any reader's. */
    live_add(r);
    return r;
}

void snap_ref_get(snap_ref *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void snap_ref_put(snap_ref *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&live_mu);
    int last = atomic_fetch_sub(&r->refs, 1) == 1;
    if (last) {
        /* A snapshot whose build failed was never listed. */
        snap_ref **p = &live;
        while (*p != NULL && *p != r)
            p = &(*p)->next_live;
        if (*p != NULL)
            *p = r->next_live;
    }
    pthread_mutex_unlock(&live_mu);
    if (!last)
        return;
    /* close_v2: a history read an exporter left open keeps the connection
     * until it is finalized, instead of failing the close. */
    sqlite3_close_v2(r->view);
    conf_map_unref(r->map);
    for (size_t i = 0; i < r->n_counters; i++)
        free((char *)r->counters[i].name);
    free(r->counters);
    counter_days_free(r->counter_days, r->n_counter_days);
    free(r->stats.days);
    if (r->stats.n_user_days > 0)
        free((char *)r->stats.user_days[0].user_id);
    free(r->stats.user_days);
    selfstats_copy_free(r->agent);
    free(r);
}
