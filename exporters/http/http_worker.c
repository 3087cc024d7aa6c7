/*
 * http_worker.c — the delivery thread of one http exporter instance.
 *
 * It sleeps until the plugin says the spool has something new (or, at
 * start, to send the queue the last run left), then runs a round: send the
 * oldest payload, drop it from the spool when it is delivered or refused
 * for good, and go on with the next, until the spool is empty. A payload
 * that fails in a way worth retrying is tried again after an exponential
 * backoff with full jitter (a random wait between 0 and retry_wait * 2^n,
 * at most retry_max_wait, so that a fleet of hosts does not come back in
 * step), or after the server's Retry-After. After max_retries retries the
 * round ends; the payload stays first in the spool, order is kept, and the
 * next cycle's round tries again once the backoff is over.
 *
 * Stopping: delivery goes on for at most 10 seconds more, or `timeout`
 * if that is longer (what --once and TERM rely on to send their last
 * snapshot, retries included); then a transfer
 * still running is aborted and whatever is left stays in the spool for
 * the next start. Waits are on a condition variable, so stopping
 * interrupts them at once.
 */
#include "http.h"

#include "civil/civil.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int past_deadline(http_ctx *c, double t)
{
    return atomic_load(&c->stopping) && t * 1000 >= (double)atomic_load(&c->stop_deadline_ms);
}

/* xorshift64*: jitter needs spread, not secrecy. */
static double uniform01(http_ctx *c)
{
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double backoff(http_ctx *c, long attempt)
{
    double ceiling = c->retry_wait * pow(2.0, (double)attempt);
    if (ceiling > c->retry_max_wait)
        ceiling = c->retry_max_wait;
    return ceiling * uniform01(c);
}

/* Wait until monotonic time t. 0 when reached; -1 when stopping and t
 * lies past the grace time. */
static int wait_until(http_ctx *c, double t)
{
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    for (;;) {
        double now = civil_mono_seconds();
        if (past_deadline(c, t > now ? t : now)) {
            rc = -1;
            break;
        }
        if (now >= t)
            break;
        struct timespec until = {(time_t)t, (long)((t - floor(t)) * 1e9)};
        pthread_cond_timedwait(&c->wake, &c->mu, &until);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* The bearer token, read again each round so a rotated token is used
 * without a reload. 0, or -1 when there is none to send with. */
static int refresh_token(http_ctx *c)
{
    if (c->token_file == NULL && c->token_env == NULL)
        return 0;
    char *fresh = NULL;
    if (c->api->read_secret(c->host, c->token_file, c->token_env, &fresh) == TALLY_HOST_OK &&
        fresh != NULL) {
        if (c->token != NULL) {
            explicit_bzero(c->token, strlen(c->token));
            free(c->token);
        }
        c->token = fresh;
        return 0;
    }
    free(fresh);
    if (c->token != NULL) {
        c->api->log(c->host, TALLY_LOG_WARNING,
                    "could not read the bearer token again (see above); sending with the one "
                    "read before");
        return 0;
    }
    return -1;
}

/* "HTTP 503: <first line>" or the transport error. */
static void describe(const http_result *r, char *out, size_t cap)
{
    if (r->status > 0)
        snprintf(out, cap, "HTTP %ld: %s", r->status, r->detail);
    else
        snprintf(out, cap, "%s", r->detail);
}

static void spool_state(http_ctx *c, tally_spool_stats *st)
{
    if (c->api->spool_stats(c->host, st) != TALLY_HOST_OK)
        memset(st, 0, sizeof(*st));
}

/* Drop a payload refused for good. One that lists changes takes them
 * with it: the mark is reset first, so that the next payload lists every
 * row again even if tallyd stops between the two. 0, or -1 when the mark
 * cannot be reset: then the payload stays, and the round ends. */
static int forget_refused(http_ctx *c, const tally_spool_item *it, const char *what)
{
    tally_format f;
    http_cover cov;
    int lists = http_meta_read(it->meta, &f, &cov) == 0 && cov.lists_history;
    int rc = 0;
    if (lists) {
        char why[900];
        snprintf(why, sizeof(why), "payload %s (seq %" PRId64 ") was refused for good (%s)",
                 it->key, cov.seq, what);
        pthread_mutex_lock(&c->mark_mu);
        rc = http_changes_resync(c, why);
        if (rc == 0)
            c->api->spool_drop(c->host, it->seq, TALLY_SPOOL_REJECTED);
        pthread_mutex_unlock(&c->mark_mu);
    } else {
        c->api->spool_drop(c->host, it->seq, TALLY_SPOOL_REJECTED);
    }
    return rc == 0 ? 0 : -1;
}

/* Act on one answer. Returns 1 to go on with the round, 0 to end it. */
static int settle(http_ctx *c, const tally_spool_item *it, const http_result *r, long *attempt)
{
    char what[700];
    describe(r, what, sizeof(what));
    tally_spool_stats st;
    switch (r->outcome) {
    case HTTP_DELIVERED:
        c->api->spool_drop(c->host, it->seq, TALLY_SPOOL_DELIVERED);
        c->not_before = 0;
        c->api->log(c->host, TALLY_LOG_DEBUG, "%s %s: delivered payload %s (%zu bytes), HTTP %ld",
                    c->method, c->url_shown, it->key, it->len, r->status);
        return 1;
    case HTTP_FINAL:
        if (forget_refused(c, it, what) != 0)
            return 0;
        spool_state(c, &st);
        c->api->log(c->host, TALLY_LOG_ERR,
                    "%s %s refused payload %s (%zu bytes) for good: %s; it was dropped (%" PRId64
                    " refused so far); sending it again would get the same answer: check the "
                    "url, format and credentials against what the server expects",
                    c->method, c->url_shown, it->key, it->len, what, st.rejected);
        return 1;
    case HTTP_RETRY:
        break;
    }
    double wait = r->retry_after >= 0 ? r->retry_after : backoff(c, *attempt);
    c->not_before = civil_mono_seconds() + wait;
    if (*attempt >= c->max_retries) {
        spool_state(c, &st);
        c->api->log(c->host, TALLY_LOG_WARNING,
                    "%s %s failed: %s; still failing after %ld retries: %" PRId64
                    " payload(s) (%" PRId64 " bytes) wait in the spool, in order, and the next "
                    "cycle tries again (not before %.1f s from now); check that the endpoint "
                    "is up and reachable",
                    c->method, c->url_shown, what, *attempt, st.items, st.bytes, wait);
        return 0;
    }
    (*attempt)++;
    c->api->log(c->host, TALLY_LOG_INFO, "%s %s failed: %s; retry %ld of %ld in %.1f s%s",
                c->method, c->url_shown, what, *attempt, c->max_retries, wait,
                r->retry_after >= 0 ? " (the server's Retry-After)" : "");
    return 1;
}

static void deliver_round(http_ctx *c)
{
    if (refresh_token(c) != 0) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "no bearer token to send with (see above); nothing is sent and the spool "
                    "keeps every payload; fix bearer_token_file or bearer_token_env");
        return;
    }
    long attempt = 0;
    int64_t seq = -1;
    for (;;) {
        if (wait_until(c, c->not_before) != 0)
            return;
        tally_spool_item it;
        int rc = c->api->spool_peek(c->host, &it);
        if (rc == TALLY_HOST_ENOENT)
            return;
        if (rc != TALLY_HOST_OK) {
            c->api->log(c->host, TALLY_LOG_ERR,
                        "cannot read the spool (see above); the next cycle tries again");
            return;
        }
        if (it.seq != seq) { /* a new payload gets its own retries */
            seq = it.seq;
            attempt = 0;
        }
        http_result r;
        http_send(c, &it, &r);
        int go_on = settle(c, &it, &r, &attempt);
        free(it.data);
        free(it.meta);
        if (!go_on)
            return;
    }
}

static void *worker_main(void *arg)
{
    http_ctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->pending && !atomic_load(&c->stopping))
            pthread_cond_wait(&c->wake, &c->mu);
        int go = c->pending;
        c->pending = 0;
        pthread_mutex_unlock(&c->mu);
        if (!go)
            break;
        deliver_round(c);
    }
    return NULL;
}

int http_worker_start(http_ctx *c)
{
    if (getrandom(&c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng) || c->rng == 0)
        c->rng = (uint64_t)time(NULL) * 6364136223846793005ULL + 1;
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->stopping, 0);
    atomic_init(&c->stop_deadline_ms, 0);
    /* A queue left by the last run is sent at once, oldest first; with
     * delivery = latest, the first snapshot replaces what was left. */
    c->pending = c->spool_mode == TALLY_SPOOL_QUEUE;
    if (pthread_create(&c->thread, NULL, worker_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->mu);
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
        return -1;
    }
    c->thread_started = 1;
    return 0;
}

void http_worker_wake(http_ctx *c)
{
    pthread_mutex_lock(&c->mu);
    c->pending = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
}

void http_worker_stop(http_ctx *c)
{
    if (!c->thread_started)
        return;
    pthread_mutex_lock(&c->mu);
    long grace = c->timeout_ms > TALLY_EXPORT_GRACE_MS ? c->timeout_ms : TALLY_EXPORT_GRACE_MS;
    atomic_store(&c->stop_deadline_ms, (long long)((civil_mono_seconds() * 1000) + grace));
    atomic_store(&c->stopping, 1);
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->thread_started = 0;
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    curl_easy_cleanup(c->curl);
    c->curl = NULL;
    if (c->token != NULL) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
        c->token = NULL;
    }
}
