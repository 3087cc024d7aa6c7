/*
 * serve_guard.h — the deadline for a whole request (serve_guard.c): a
 * connection that has not sent one within the timeout is shut down.
 */
#ifndef TALLY_SERVE_GUARD_H
#define TALLY_SERVE_GUARD_H

#include <pthread.h>
#include <stdint.h>

struct MHD_Connection;
struct guard_conn;
enum MHD_ConnectionNotificationCode;

typedef struct serve_guard {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    struct guard_conn *conns;
    unsigned timeout;
    int stop;
    uint64_t cut; /* connections shut down for being too slow */
} serve_guard;

int serve_guard_start(serve_guard *g, unsigned timeout);
void serve_guard_stop(serve_guard *g);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);
/* A whole request came (1), or its response is done and the connection
 * waits for the next (0). */
void serve_guard_answering(serve_guard *g, struct MHD_Connection *conn, int answering);

#endif
