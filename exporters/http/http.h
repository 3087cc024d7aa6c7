/*
 * http.h — the http exporter's instance and the parts it is made of:
 * http_conf.c builds it from an `http "name" { ... }` section, http_url.c
 * completes a Pushgateway grouping key and writes URLs safe to log,
 * http_send.c makes one request with libcurl and says what became of it,
 * http_gzip.c compresses a body, http_worker.c is the delivery thread
 * (spool order, retries, backoff), http_changes.c keeps what the payloads
 * cover (the rows changed since the payload before, and the mark that
 * says so), and http.c is the plugin that ties them together.
 *
 * The plugin's export only renders the snapshot and puts it in the spool
 * (the agent's state database); the delivery thread sends what the spool
 * holds. So a slow or dead endpoint delays nothing but its own deliveries,
 * every snapshot reaches the spool even while one is being retried, and
 * what was not delivered at exit is sent after the next start.
 */
#ifndef TALLY_EXPORTER_HTTP_H
#define TALLY_EXPORTER_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "tally/plugin.h"

typedef struct http_ctx {
    tally_host *host;
    const tally_host_api *api;

    /* From the config (http_conf.c). */
    char *url;       /* as requested, a Pushgateway grouping key completed */
    char *url_shown; /* for messages: no user, password or query */
    tally_format format;
    const char *method; /* "POST" or "PUT" */
    char **headers;     /* "Name: value", as configured */
    size_t n_headers;
    int own_content_type; /* a configured header sets Content-Type */
    long timeout_ms, connect_timeout_ms;
    double retry_wait, retry_max_wait; /* seconds */
    long max_retries;
    int64_t spool_max_bytes;
    int spool_mode; /* TALLY_SPOOL_QUEUE or TALLY_SPOOL_REPLACE */
    /* json and influx list the user-days and daily counter totals:
     * history_all = every listed row in each payload, else the rows
     * changed since the payload before (http_changes.c). */
    int lists_history;
    int history_all;
    /* Held from reading the mark to spooling the payload with its new
     * one, and by the delivery thread while it resets the mark: a reset
     * never falls between the two. */
    pthread_mutex_t mark_mu;
    int gzip;
    int tls_verify;
    char *ca_file, *client_cert, *client_key;
    char *token_file, *token_env;

    /* The delivery thread (http_worker.c). */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    int pending;         /* something new in the spool: start a round */
    atomic_int stopping;
    atomic_llong stop_deadline_ms; /* monotonic: give up delivering after it */
    double not_before;             /* monotonic seconds: no request before it */
    uint64_t rng;                  /* backoff jitter */

    /* Used by the delivery thread only. */
    void *curl;  /* CURL *, kept so connections are reused between cycles */
    char *token; /* the bearer token, re-read each round */
} http_ctx;

/* What became of one request. */
typedef enum http_outcome {
    HTTP_DELIVERED, /* 2xx */
    HTTP_RETRY,     /* 5xx, 408, 429, or the request failed on the way */
    HTTP_FINAL,     /* any other status: sending it again cannot help */
} http_outcome;

typedef struct http_result {
    http_outcome outcome;
    long status;        /* 0 when no response came */
    double retry_after; /* seconds from Retry-After, or -1 */
    char detail[512];   /* the transport error, or the body's first line */
} http_result;

/* http_conf.c: the option table and its descriptions, in the same order. */
extern const tally_option http_options[];

/* Validate a section: each problem logged naming the option, the
 * instance and the config line. 0 or TALLY_HOST_ERR; no side effects. */
int http_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section);
/* Build *out from a section (checked again here). 0 or TALLY_HOST_ERR. */
int http_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, http_ctx **out);
void http_conf_free(http_ctx *ctx);

/* http_url.c: whether url is one tally can send to (http or https, with a
 * host); *why says what is wrong otherwise. */
int http_url_valid(const char *url, int *https, const char **why);
/* With format prometheus and a Pushgateway path (.../metrics/job/<job>...)
 * that names no instance, url with /instance/<host name> appended;
 * otherwise a copy. NULL when out of memory. */
char *http_url_grouping_key(const char *url, const char *host_name);
/* url without user, password and query, for messages (malloc'd). */
char *http_url_shown(const char *url);

/* http_gzip.c: data as a gzip member in *out (malloc'd). 0 or -1. */
int http_gzip(const void *data, size_t len, void **out, size_t *out_len);

/* http_send.c: send one spooled payload and classify the answer. */
void http_send(http_ctx *ctx, const tally_spool_item *item, http_result *r);

/* http_changes.c. The mark: "<state_id>:<seq>" of the snapshot whose
 * payload was spooled last, or HTTP_MARK_RESYNC (no snapshot's: the next
 * payload lists every row). */
#define HTTP_MARK "spooled"
#define HTTP_MARK_RESYNC "resync"

/* What a spooled payload covers, from its meta. */
typedef struct http_cover {
    int lists_history; /* 0: prometheus, or a payload of an older tallyd */
    char state_id[33];
    int64_t changed_after, seq; /* the rows with changed_after < their seq <= seq */
} http_cover;

/* The seq the payload of s starts after, from the mark (0: every listed
 * row); with history = "all", 0. Call with mark_mu held. 0, or
 * TALLY_HOST_ERR when the mark cannot be read (logged). */
int http_changes_since(http_ctx *ctx, const tally_snapshot *s, int64_t *changed_after);
/* The mark that says s's payload is spooled. */
void http_changes_mark(const tally_snapshot *s, char *out, size_t cap);
/* Set the mark to HTTP_MARK_RESYNC, logging why (what was lost). Call
 * with mark_mu held. 0 or TALLY_HOST_ERR (logged). */
int http_changes_resync(http_ctx *ctx, const char *why);
/* A payload's meta: its format and what it covers; and back. read: 0, or
 * -1 for a meta that names no format. */
void http_meta_write(tally_format f, const tally_snapshot *s, int64_t changed_after, char *out,
                     size_t cap);
int http_meta_read(const char *meta, tally_format *f, http_cover *cov);

/* http_worker.c: start, wake and stop the delivery thread. */
int http_worker_start(http_ctx *ctx);
void http_worker_wake(http_ctx *ctx);
void http_worker_stop(http_ctx *ctx);

#endif
