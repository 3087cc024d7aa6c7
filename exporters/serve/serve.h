/*
 * serve.h — the serve exporter: tallyd answers HTTP itself (`serve
 * "name" { listen = "127.0.0.1:9489" }`): /metrics for Prometheus (text
 * 0.0.4 or OpenMetrics 1.0.0, gzip when accepted), a JSON API over the
 * snapshot and its history, /healthz and /readyz. Built on libmicrohttpd,
 * whose threads answer while the agent's cycles run.
 *
 * Every response is made from one snapshot. At export_snapshot the new
 * snapshot is held (the host's snapshot_hold), its /metrics texts are
 * rendered once into a view (serve_view), and the view is swapped in
 * under a lock; a request takes a reference on the view it starts with
 * and keeps it until its response is freed, so a cycle never waits for
 * a scrape and a scrape never sees half of a cycle. The last reference
 * to an old view releases its snapshot.
 */
#ifndef TALLY_SERVE_H
#define TALLY_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "serve_guard.h"
#include "tally/plugin.h"

/* The default address: loopback only, in Prometheus' exporter port range
 * (9100-9999, whose wiki list has been full since 2023, so no port there
 * is free of every other exporter: change listen if 9489 is taken). */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:9489"
/* The JSON API's shape; raised when a document changes incompatibly. */
#define SERVE_SCHEMA_VERSION 1
/* /api/v1/user_days: rows a page without `limit`, and the most a page
 * may ask for. */
#define SERVE_PAGE_DEFAULT 100
#define SERVE_PAGE_MAX 1000

/* A gzip of a prerendered text made once per view (serve_gzip.c): the
 * gzip header and the text deflated up to a full flush, so a response
 * appends its own few bytes (the snapshot's age) as a stored block and
 * the trailer over both. */
typedef struct serve_gz {
    unsigned char *head; /* header and deflate blocks, byte aligned */
    size_t head_len;
    unsigned long crc; /* CRC-32 of the text */
    size_t text_len;
    int failed;
} serve_gz;

/* One snapshot as the server answers from it. Immutable once swapped
 * in, but for the parts made on first use under mu. */
typedef struct serve_view {
    _Atomic int refs;
    struct serve_ctx *ctx;
    const tally_snapshot *snap; /* held (snapshot_hold) */
    int held;
    char *prom; /* Prometheus text 0.0.4, without the age family */
    size_t prom_len;
    char *om; /* OpenMetrics, without the age family and # EOF */
    size_t om_len;
    /* A reason this snapshot's cycle is not a success (a source that
     * failed in it), for /readyz; "" when there is none. */
    char failing[512];
    pthread_mutex_t mu;
    int prom_gz_made, om_gz_made;
    serve_gz prom_gz, om_gz;
    char *summary; /* /api/v1/summary, the file exporter's json */
    size_t summary_len;
} serve_view;

typedef enum serve_auth_kind {
    SERVE_AUTH_NONE,
    SERVE_AUTH_BEARER,
    SERVE_AUTH_BASIC
} serve_auth_kind;

typedef struct serve_ctx {
    tally_host *host;
    const tally_host_api *api;
    char *listen;
    unsigned max_connections, max_per_ip, request_timeout, threads;
    long healthz_grace; /* seconds past two intervals without a cycle begun */
    size_t max_request_bytes;
    char *tls_cert, *tls_key; /* the PEM texts, or NULL: plain HTTP */
    serve_auth_kind auth;
    char *secret; /* the token, or "user:password" (never logged) */
    size_t secret_len;
    int listen_fd;             /* bound at init, so a port in use fails the start */
    struct MHD_Daemon *daemon; /* started with the first snapshot */
    serve_guard guard;
    uint16_t port;        /* the one bound (listen may say 0) */
    _Atomic int active;   /* requests being answered */
    _Atomic int stopping; /* set by stop: new requests are turned away */
    pthread_mutex_t swap_mu;
    serve_view *current; /* NULL until the first snapshot */
} serve_ctx;

/* serve_conf.c */
extern const tally_option serve_options[];
int serve_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
int serve_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, serve_ctx **out);
void serve_conf_free(serve_ctx *ctx);
/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address) to a socket
 * address: 0, or -1 with *why. */
struct sockaddr_storage;
int serve_listen_parse(const char *listen, struct sockaddr_storage *out, const char **why);

/* serve_view.c */
int serve_view_make(serve_ctx *ctx, const tally_snapshot *snap, const serve_view *before,
                    serve_view **out);
/* The view answering now, with a reference for the caller, or NULL. */
serve_view *serve_view_get(serve_ctx *ctx);
void serve_view_put(serve_view *v);
/* Make v the one answering; the old one goes when its last request ends. */
void serve_view_swap(serve_ctx *ctx, serve_view *v);
/* The lazily made parts: 0, or -1 (logged). */
int serve_view_gzip(serve_view *v, int openmetrics, const serve_gz **out);
int serve_view_summary(serve_view *v, const char **text, size_t *len);

/* serve_gzip.c */
int serve_gz_make(const char *text, size_t len, serve_gz *out);
void serve_gz_free(serve_gz *gz);
/* The bytes after head for a response whose text goes on with tail:
 * a stored block of tail and the trailer. out holds
 * SERVE_GZ_TAIL_EXTRA + tail_len bytes. */
#define SERVE_GZ_TAIL_EXTRA 13
size_t serve_gz_tail(const serve_gz *gz, const char *tail, size_t tail_len, unsigned char *out);

/* serve_http.c — bind: at init, the listening socket (connections wait
 * in its backlog until the first snapshot); start: the server, at the
 * first snapshot, so it never answers without one; stop: finish the
 * responses under way (a bounded wait), then end. 0 or -1 (logged). */
int serve_http_bind(serve_ctx *ctx);
int serve_http_start(serve_ctx *ctx);
void serve_http_stop(serve_ctx *ctx);

/* serve_auth.c — whether a request's credentials are the configured
 * ones, compared in constant time: 1 or 0. */
struct MHD_Connection;
int serve_auth_ok(const serve_ctx *ctx, struct MHD_Connection *conn);

/* serve_api.c — the JSON endpoints and the health checks: each sets
 * *status and a malloc'd JSON body. */
typedef struct serve_reply {
    unsigned status;
    char *body;
    size_t len;
    const char *content_type;
} serve_reply;
/* 1 if url is one of the JSON endpoints (it is answered), else 0. */
int serve_api_answer(serve_ctx *ctx, struct MHD_Connection *conn, const char *url,
                     serve_reply *out);
/* A JSON error document {"schema_version":1,"error":why}. */
void serve_api_error(unsigned status, const char *why, serve_reply *out);

#endif
