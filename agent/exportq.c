/*
 * exportq.c — see exportq.h.
 */
#include "exportq.h"

#include "host.h"
#include "log.h"
#include "selfstats.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct worker {
    pthread_t thread;
    struct tally_host *host;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    snap_ref *pending;
    int busy, stop, running;
};

struct exportq {
    struct worker *w;
    size_t n;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->pending == NULL && !w->stop)
            pthread_cond_wait(&w->wake, &w->mu);
        if (w->pending == NULL && w->stop)
            break;
        snap_ref *s = w->pending;
        w->pending = NULL;
        w->busy = 1;
        pthread_mutex_unlock(&w->mu);
        int rc = w->host->plugin->desc.exporter.export_snapshot(w->host->ctx, &s->s);
        if (w->host->self != NULL)
            selfstats_export(w->host->self, rc == TALLY_HOST_OK);
        if (rc != TALLY_HOST_OK) {
            log_msg(TALLY_LOG_WARNING, "%s: export failed (see above); the next cycle tries again",
                    w->host->who);
            w->host->agent->failures++;
        }
        snap_ref_put(s);
        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct exportq *exportq_start(agent *a)
{
    struct exportq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->w = calloc(a->n_hosts ? a->n_hosts : 1, sizeof(*q->w));
    if (q->w == NULL) {
        free(q);
        return NULL;
    }
    for (size_t i = 0; i < a->n_hosts; i++) {
        struct tally_host *h = &a->hosts[i];
        if (h->plugin->desc.kind != TALLY_PLUGIN_EXPORTER ||
            h->plugin->desc.exporter.export_snapshot == NULL)
            continue;
        struct worker *w = &q->w[q->n];
        w->host = h;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->wake, NULL);
        pthread_cond_init(&w->idle, NULL);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            log_msg(TALLY_LOG_ERR, "%s: cannot start its export thread", h->who);
            continue;
        }
        w->running = 1;
        q->n++;
    }
    return q;
}

void exportq_publish(struct exportq *q, snap_ref *s)
{
    for (size_t i = 0; i < q->n; i++) {
        struct worker *w = &q->w[i];
        snap_ref_get(s);
        pthread_mutex_lock(&w->mu);
        snap_ref *old = w->pending;
        w->pending = s;
        if (old != NULL || w->busy)
            log_msg(TALLY_LOG_DEBUG, "%s: still exporting; it gets the newest snapshot next",
                    w->host->who);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        snap_ref_put(old);
    }
}

static struct timespec deadline_after(int timeout_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += timeout_ms / 1000;
    t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int exportq_drain(struct exportq *q, int timeout_ms)
{
    struct timespec until = deadline_after(timeout_ms);
    int busy = 0;
    for (size_t i = 0; i < q->n; i++) {
        struct worker *w = &q->w[i];
        pthread_mutex_lock(&w->mu);
        int rc = 0;
        while ((w->pending != NULL || w->busy) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->idle, &w->mu, &until);
        busy += w->pending != NULL || w->busy;
        pthread_mutex_unlock(&w->mu);
    }
    return busy;
}

void exportq_stop(struct exportq *q, int timeout_ms)
{
    if (q == NULL)
        return;
    exportq_drain(q, timeout_ms);
    for (size_t i = 0; i < q->n; i++) {
        struct worker *w = &q->w[i];
        pthread_mutex_lock(&w->mu);
        int hung = w->busy;
        w->stop = 1;
        snap_ref *left = w->pending;
        w->pending = NULL;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        /* Not delivered: a failure of this exporter, for --once's status. */
        if (hung || left != NULL)
            w->host->agent->failures++;
        snap_ref_put(left);
        if (hung) {
            log_msg(TALLY_LOG_ERR,
                    "%s: export still running after %d ms; abandoning it (check the "
                    "destination)",
                    w->host->who, timeout_ms);
            w->host->abandoned = 1; /* never stop a plugin that is inside export */
            pthread_detach(w->thread);
            continue;
        }
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->idle);
    }
    /* A hung worker still uses its struct: the array stays then. */
    int any_hung = 0;
    for (size_t i = 0; i < q->n; i++)
        any_hung |= q->w[i].host->abandoned;
    if (!any_hung)
        free(q->w);
    free(q);
}
