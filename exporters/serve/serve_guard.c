/*
 * serve_guard.c — a whole-request deadline libmicrohttpd lacks.
 *
 * Its connection timeout counts idle time, so a slowloris that sends a
 * header byte every few seconds is never timed out and keeps its
 * connection slot. The guard notes when each connection started waiting
 * for a request (its start, or the end of its last response) and, once
 * a second, shuts down the socket of any that has waited longer than
 * request_timeout without a whole request: libmicrohttpd then sees the
 * end of the stream and closes it as usual. Shutdown, never close: the
 * descriptor stays libmicrohttpd's, and the entry is removed (under the
 * lock) when libmicrohttpd reports the connection closed, before its
 * descriptor can be reused.
 */
#include "serve_guard.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct guard_conn {
    int fd;
    int answering;   /* a whole request came: no deadline until it is answered */
    int64_t waiting; /* monotonic seconds since when it waits for a request */
    struct guard_conn *prev, *next;
};

static int64_t mono_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec;
}

static void *guard_main(void *arg)
{
    serve_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&g->wake, &g->mu, &until);
        int64_t now = mono_seconds();
        for (struct guard_conn *c = g->conns; c != NULL; c = c->next)
            if (!c->answering && now - c->waiting >= g->timeout) {
                shutdown(c->fd, SHUT_RDWR);
                c->answering = 1; /* once */
                g->cut++;
            }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int serve_guard_start(serve_guard *g, unsigned timeout)
{
    g->timeout = timeout;
    g->conns = NULL;
    g->stop = 0;
    g->cut = 0;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->wake);
        return -1;
    }
    return 0;
}

void serve_guard_stop(serve_guard *g)
{
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    while (g->conns != NULL) {
        struct guard_conn *c = g->conns;
        g->conns = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->wake);
}

void serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    serve_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct guard_conn *c = info != NULL ? calloc(1, sizeof(*c)) : NULL;
        *socket_context = c;
        if (c == NULL)
            return; /* unguarded: the idle timeout still applies */
        c->fd = info->connect_fd;
        c->waiting = mono_seconds();
        pthread_mutex_lock(&g->mu);
        c->next = g->conns;
        if (g->conns != NULL)
            g->conns->prev = c;
        g->conns = c;
        pthread_mutex_unlock(&g->mu);
        return;
    }
    struct guard_conn *c = *socket_context;
    if (c == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
    *socket_context = NULL;
}

/* The connection's entry, through the socket context set above. */
static struct guard_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

void serve_guard_answering(serve_guard *g, struct MHD_Connection *conn, int answering)
{
    struct guard_conn *c = conn_of(conn);
    if (c == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    c->answering = answering;
    c->waiting = mono_seconds();
    pthread_mutex_unlock(&g->mu);
}
