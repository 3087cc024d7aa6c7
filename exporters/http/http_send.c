/*
 * http_send.c — one request for one spooled payload, on the delivery
 * thread's curl handle, and what its answer means.
 *
 * The handle is reset and configured afresh for each request (options
 * only: curl_easy_reset keeps the connection cache), so a request never
 * inherits a previous one's settings, and a connection to the endpoint is
 * reused from one cycle to the next.
 *
 * Classification, as collectors and log shippers agree: 2xx is delivered;
 * 5xx, 408 (request timeout) and 429 (too many requests) are worth another
 * try, as is every failure on the way (no connection, timeout, TLS, a
 * response cut short); any other status is final, since the same request
 * would get the same answer. Redirects are not followed: a push moved
 * elsewhere is a config change the operator should make.
 *
 * The bearer token goes only into the Authorization header, which curl
 * never puts into error texts; our copy of that header line is wiped after
 * the request.
 */
#include "http.h"

#include "civil/civil.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TALLY_VERSION
#define TALLY_VERSION "0"
#endif

#define BODY_KEEP 4096 /* of a response, for its first line */
#define LINE_MAX_SHOWN 200

typedef struct reply {
    char text[BODY_KEEP];
    size_t len;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t total = size * n, room = sizeof(r->text) - 1 - r->len;
    size_t take = total < room ? total : room;
    memcpy(r->text + r->len, p, take);
    r->len += take;
    r->text[r->len] = '\0';
    return total; /* the rest is read and ignored, so the connection stays usable */
}

/* Abort a transfer once tallyd is stopping and the grace time is over. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    http_ctx *c = arg;
    return atomic_load(&c->stopping) &&
           civil_mono_seconds() * 1000 >= (double)atomic_load(&c->stop_deadline_ms);
}

/* The body's first line, printable ASCII only (it goes to a log line). */
static void first_line(const reply *r, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->len && n + 1 < cap && n < LINE_MAX_SHOWN; i++) {
        unsigned char ch = (unsigned char)r->text[i];
        if (ch == '\n' || ch == '\r')
            break;
        out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, cap, "(empty body)");
}

static struct curl_slist *add(struct curl_slist *list, const char *line, int *oom)
{
    struct curl_slist *grown = curl_slist_append(list, line);
    if (grown == NULL) {
        *oom = 1;
        return list;
    }
    return grown;
}

static void wipe_and_free(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        if (strncmp(l->data, "Authorization:", 14) == 0)
            explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static struct curl_slist *request_headers(http_ctx *c, const tally_spool_item *it, int *oom)
{
    struct curl_slist *h = NULL;
    char line[256];
    tally_format f = c->format;
    http_cover cov;
    /* The payload's own format: a reload may have changed the option. */
    if (http_meta_read(it->meta, &f, &cov) != 0) {
        f = c->format;
        cov.lists_history = 0;
    }
    if (!c->own_content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", tally_format_content_type(f));
        h = add(h, line, oom);
    }
    if (c->gzip)
        h = add(h, "Content-Encoding: gzip", oom);
    snprintf(line, sizeof(line), "Idempotency-Key: %s", it->key);
    h = add(h, line, oom);
    h = add(h, "User-Agent: tallyd/" TALLY_VERSION, oom);
    /* What the user-days and daily counter totals of the payload are: the
     * rows changed after X-Tally-Changed-After up to X-Tally-Seq (0:
     * every listed row), of the state X-Tally-State. A receiver sees a gap
     * where one payload's Changed-After is not the Seq of the one before. */
    if (cov.lists_history) {
        snprintf(line, sizeof(line), "X-Tally-State: %s", cov.state_id);
        h = add(h, line, oom);
        snprintf(line, sizeof(line), "X-Tally-Seq: %" PRId64, cov.seq);
        h = add(h, line, oom);
        snprintf(line, sizeof(line), "X-Tally-Changed-After: %" PRId64, cov.changed_after);
        h = add(h, line, oom);
    }
    /* curl would otherwise wait for "100 Continue" before larger bodies. */
    h = add(h, "Expect:", oom);
    for (size_t i = 0; i < c->n_headers; i++)
        h = add(h, c->headers[i], oom);
    if (c->token != NULL) {
        char *auth = NULL;
        if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0) {
            *oom = 1;
        } else {
            h = add(h, auth, oom);
            explicit_bzero(auth, strlen(auth));
            free(auth);
        }
    }
    return h;
}

static void set_options(http_ctx *c, CURL *curl, const void *body, size_t len, reply *rep,
                        char *errbuf)
{
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (strcmp(c->method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, rep);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
    if (c->client_cert != NULL)
        curl_easy_setopt(curl, CURLOPT_SSLCERT, c->client_cert);
    if (c->client_key != NULL)
        curl_easy_setopt(curl, CURLOPT_SSLKEY, c->client_key);
}

static void classify(CURL *curl, CURLcode rc, const char *errbuf, const reply *rep, http_result *r)
{
    if (rc != CURLE_OK) {
        r->outcome = HTTP_RETRY;
        snprintf(r->detail, sizeof(r->detail), "%s",
                 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        return;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    first_line(rep, r->detail, sizeof(r->detail));
    if (r->status >= 200 && r->status < 300) {
        r->outcome = HTTP_DELIVERED;
    } else if (r->status >= 500 || r->status == 408 || r->status == 429) {
        r->outcome = HTTP_RETRY;
        /* Both forms, seconds and an HTTP date, as seconds from now. */
        curl_off_t after = 0;
        if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
            r->retry_after = (double)after;
    } else {
        r->outcome = HTTP_FINAL;
    }
}

void http_send(http_ctx *c, const tally_spool_item *it, http_result *r)
{
    memset(r, 0, sizeof(*r));
    r->retry_after = -1;
    r->outcome = HTTP_RETRY;
    const void *body = it->data;
    size_t len = it->len;
    void *packed = NULL;
    if (c->gzip) {
        if (http_gzip(it->data, it->len, &packed, &len) != 0) {
            snprintf(r->detail, sizeof(r->detail), "compressing %zu bytes failed (out of memory)",
                     it->len);
            return;
        }
        body = packed;
    }
    int oom = 0;
    struct curl_slist *hdrs = request_headers(c, it, &oom);
    if (oom) {
        snprintf(r->detail, sizeof(r->detail), "out of memory building the request headers");
        wipe_and_free(hdrs);
        free(packed);
        return;
    }
    CURL *curl = c->curl;
    reply *rep = calloc(1, sizeof(*rep));
    char errbuf[CURL_ERROR_SIZE] = "";
    if (rep == NULL) {
        snprintf(r->detail, sizeof(r->detail), "out of memory for the response");
    } else {
        curl_easy_reset(curl);
        set_options(c, curl, body, len, rep, errbuf);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        CURLcode rc = curl_easy_perform(curl);
        classify(curl, rc, errbuf, rep, r);
        /* The handle keeps pointers to what is freed below. */
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    }
    free(rep);
    wipe_and_free(hdrs);
    free(packed);
}
