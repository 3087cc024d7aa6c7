/*
 * serve_http.c — the server: libmicrohttpd's daemon and its limits, and
 * each request from method to response. GET and HEAD only (405 with
 * Allow otherwise); /healthz and /readyz answer anyone, /metrics and the
 * JSON API only the configured credentials (401 otherwise); any other
 * path is 404. libmicrohttpd itself refuses a request line or headers
 * beyond max_request_bytes (414, 431) and closes idle connections after
 * request_timeout; serve_guard.c bounds the time to send a request.
 * Nothing about a request is logged but, at debug level, a refusal's
 * path and status: never a header.
 */
#include "serve.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_SIZE (64 * 1024)
/* At stop, how long the responses under way get to finish. */
#define STOP_DRAIN_MS 2000
#define AGE_HELP                                                                                   \
    "# HELP tally_snapshot_age_seconds Seconds since the snapshot this response is from was "     \
    "made (wall clock).\n# TYPE tally_snapshot_age_seconds gauge\n"

/* A /metrics body: the view's text (or its gzip head), then this
 * response's own tail. The view stays referenced until the response is
 * freed, however slowly the client reads. */
typedef struct metrics_body {
    serve_view *v;
    const char *text;
    size_t text_len;
    size_t tail_len;
    char tail[512 + SERVE_GZ_TAIL_EXTRA];
} metrics_body;

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    metrics_body *b = cls;
    size_t n = 0;
    if (pos < b->text_len) {
        n = b->text_len - (size_t)pos < max ? b->text_len - (size_t)pos : max;
        memcpy(buf, b->text + pos, n);
    } else if (pos < b->text_len + b->tail_len) {
        size_t at = (size_t)pos - b->text_len;
        n = b->tail_len - at < max ? b->tail_len - at : max;
        memcpy(buf, b->tail + at, n);
    } else {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    return (ssize_t)n;
}

static void body_free(void *cls)
{
    metrics_body *b = cls;
    serve_view_put(b->v);
    free(b);
}

/* The q-value of a media range's parameters (1 without one). */
static double q_of(const char *params, size_t n)
{
    const char *q = NULL;
    for (size_t i = 0; i + 2 <= n; i++)
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=' &&
            (i == 0 || params[i - 1] == ';' || params[i - 1] == ' '))
            q = params + i + 2;
    return q != NULL ? strtod(q, NULL) : 1.0;
}

/* Whether Accept prefers OpenMetrics 1.0.0 to the text format: its
 * media range with a q above 0 and at least text/plain's. Prometheus
 * sends "application/openmetrics-text;version=1.0.0,...;
 * text/plain;version=0.0.4;q=0.5,...". */
static int wants_openmetrics(const char *accept)
{
    double om = 0, text = 0;
    while (accept != NULL && *accept != '\0') {
        const char *end = strchr(accept, ',');
        size_t n = end != NULL ? (size_t)(end - accept) : strlen(accept);
        while (n > 0 && *accept == ' ') {
            accept++;
            n--;
        }
        static const char om_type[] = "application/openmetrics-text";
        const char *semi = memchr(accept, ';', n);
        size_t tn = semi != NULL ? (size_t)(semi - accept) : n;
        double q = q_of(accept + tn, n - tn);
        if (tn == sizeof(om_type) - 1 && strncasecmp(accept, om_type, tn) == 0) {
            const char *ver = semi != NULL ? strstr(semi, "version=") : NULL;
            if ((ver == NULL || ver >= accept + n || strncmp(ver + 8, "1.0.0", 5) == 0) && q > om)
                om = q;
        } else if (tn == 10 && strncasecmp(accept, "text/plain", 10) == 0 && q > text) {
            text = q;
        }
        accept = end != NULL ? end + 1 : NULL;
    }
    return om > 0 && om >= text;
}

/* Whether Accept-Encoding allows gzip (a q of 0 refuses it). */
static int accepts_gzip(const char *enc)
{
    for (const char *p = enc; p != NULL && (p = strcasestr(p, "gzip")) != NULL; p += 4) {
        if (p != enc && p[-1] != ' ' && p[-1] != ',')
            continue;
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (p[4] == ',' || p[4] == '\0' || p[4] == ';' || p[4] == ' ')
            return q_of(p + 4, n - 4) > 0;
    }
    return 0;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct MHD_Response *r, unsigned status,
                             const char *type)
{
    if (r == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, serve_reply *rep)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(rep->body);
        return MHD_NO;
    }
    return queue(conn, r, rep->status,
                 rep->content_type != NULL ? rep->content_type : "application/json");
}

static enum MHD_Result refuse(struct MHD_Connection *conn, serve_ctx *ctx, const char *url,
                              unsigned status, const char *why)
{
    ctx->api->log(ctx->host, TALLY_LOG_DEBUG, "refused %.200s: %u", url, status);
    serve_reply rep;
    serve_api_error(status, why, &rep);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rep.len, rep.body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(rep.body);
        return MHD_NO;
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                ctx->auth == SERVE_AUTH_BASIC ? "Basic realm=\"tally\""
                                                              : "Bearer realm=\"tally\"");
    return queue(conn, r, status, "application/json");
}

static enum MHD_Result answer_metrics(struct MHD_Connection *conn, serve_ctx *ctx)
{
    serve_view *v = serve_view_get(ctx);
    if (v == NULL)
        return refuse(conn, ctx, "/metrics", MHD_HTTP_SERVICE_UNAVAILABLE,
                      "no snapshot yet: the first cycle has not finished");
    int om = wants_openmetrics(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
    int gzip = accepts_gzip(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    const serve_gz *gz = NULL;
    if (gzip && serve_view_gzip(v, om, &gz) != 0)
        gzip = 0;
    metrics_body *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        serve_view_put(v);
        return MHD_NO;
    }
    b->v = v;
    char tail[512];
    int64_t age = (int64_t)time(NULL) - v->snap->generated_utc;
    int n = snprintf(tail, sizeof(tail), AGE_HELP "tally_snapshot_age_seconds %lld\n%s",
                     (long long)(age > 0 ? age : 0), om ? TALLY_OPENMETRICS_EOF : "");
    size_t tail_len = n > 0 && (size_t)n < sizeof(tail) ? (size_t)n : 0;
    if (gzip) {
        b->text = (const char *)gz->head;
        b->text_len = gz->head_len;
        b->tail_len = serve_gz_tail(gz, tail, tail_len, (unsigned char *)b->tail);
    } else {
        b->text = om ? v->om : v->prom;
        b->text_len = om ? v->om_len : v->prom_len;
        memcpy(b->tail, tail, tail_len);
        b->tail_len = tail_len;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(
        b->text_len + b->tail_len, BLOCK_SIZE, body_read, b, body_free);
    if (r == NULL) {
        body_free(b);
        return MHD_NO;
    }
    if (gzip)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
    return queue(conn, r, MHD_HTTP_OK,
                 om ? TALLY_OPENMETRICS_CONTENT_TYPE
                    : tally_format_content_type(TALLY_FORMAT_PROMETHEUS));
}

static int is_health(const char *url)
{
    return strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    serve_ctx *ctx = cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (*req == NULL) {
        /* The first call, with the headers. Another method is refused
         * at once, before its body is read (the connection then closes);
         * GET and HEAD are answered on the next call, once the request is
         * whole, which lets the connection be kept alive. Once stopping,
         * no new request: the client finds the connection closed before
         * any byte and asks the next server. */
        if (atomic_load(&ctx->stopping))
            return MHD_NO;
        *req = ctx;
        atomic_fetch_add(&ctx->active, 1);
        serve_guard_answering(&ctx->guard, conn, 1);
        if (!get)
            return refuse(conn, ctx, url, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "only GET and HEAD are served");
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* a body sent with GET is read and ignored */
        return MHD_YES;
    }
    int metrics = strcmp(url, "/metrics") == 0;
    serve_reply rep = {0};
    if (!metrics && !is_health(url) && strncmp(url, "/api/v1/", 8) != 0)
        return refuse(conn, ctx, url, MHD_HTTP_NOT_FOUND,
                      "no such path; try /metrics, /api/v1/summary, /api/v1/days, "
                      "/api/v1/user_days, /api/v1/counters, /healthz or /readyz");
    if (!is_health(url) && !serve_auth_ok(ctx, conn))
        return refuse(conn, ctx, url, MHD_HTTP_UNAUTHORIZED, "credentials missing or wrong");
    if (metrics)
        return answer_metrics(conn, ctx);
    if (!serve_api_answer(ctx, conn, url, &rep))
        return refuse(conn, ctx, url, MHD_HTTP_NOT_FOUND, "no such path under /api/v1/");
    return queue_reply(conn, &rep);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req,
                      enum MHD_RequestTerminationCode code)
{
    (void)code;
    serve_ctx *ctx = cls;
    if (*req != NULL)
        atomic_fetch_sub(&ctx->active, 1);
    *req = NULL;
    serve_guard_answering(&ctx->guard, conn, 0);
}

/* libmicrohttpd's own messages (a TLS handshake that failed, a bad
 * request line) at debug level: a client's mistake, not the agent's. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    serve_ctx *ctx = cls;
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    ctx->api->log(ctx->host, TALLY_LOG_DEBUG, "libmicrohttpd: %s", text);
}

int serve_http_bind(serve_ctx *ctx)
{
    struct sockaddr_storage addr;
    const char *why = NULL;
    if (serve_listen_parse(ctx->listen, &addr, &why) != 0)
        return -1; /* the check said so already */
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    socklen_t len = addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    if (fd >= 0) {
        /* A restart binds again while the old connections linger. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (addr.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, len) != 0 || listen(fd, 128) != 0) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot listen on %s: %s; change 'listen', or stop the program that "
                      "uses the port",
                      ctx->listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        ctx->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
    ctx->listen_fd = fd;
    return 0;
}

int serve_http_start(serve_ctx *ctx)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC;
    if (ctx->tls_cert != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            ctx->api->log(ctx->host, TALLY_LOG_ERR,
                          "this libmicrohttpd was built without TLS; remove tls_cert and "
                          "tls_key, or install one built with GnuTLS");
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    if (serve_guard_start(&ctx->guard, ctx->request_timeout) != 0)
        return -1;
    ctx->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, ctx, MHD_OPTION_LISTEN_SOCKET, ctx->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, ctx->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        ctx->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, ctx->request_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, ctx->max_request_bytes,
        MHD_OPTION_THREAD_POOL_SIZE, ctx->threads, MHD_OPTION_NOTIFY_COMPLETED, completed, ctx,
        MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify, &ctx->guard,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ctx,
        ctx->tls_cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, ctx->tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, ctx->tls_key, MHD_OPTION_END);
    if (ctx->daemon == NULL) {
        serve_guard_stop(&ctx->guard);
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot start the server on %s (out of memory or threads, or a TLS "
                      "certificate and key that do not load?); check tls_cert and tls_key",
                      ctx->listen);
        return -1;
    }
    ctx->api->log(ctx->host, TALLY_LOG_INFO, "serving %s://%s/metrics (port %u)",
                  ctx->tls_cert != NULL ? "https" : "http", ctx->listen, (unsigned)ctx->port);
    return 0;
}

void serve_http_stop(serve_ctx *ctx)
{
    if (ctx->daemon == NULL) {
        if (ctx->listen_fd >= 0)
            close(ctx->listen_fd);
        ctx->listen_fd = -1;
        return;
    }
    /* No new connection, no new request; the responses under way get
     * STOP_DRAIN_MS to finish, so a reload cuts none short. Then the
     * daemon ends every connection and joins its threads: no request is
     * left holding a view. */
    atomic_store(&ctx->stopping, 1);
    MHD_socket fd = MHD_quiesce_daemon(ctx->daemon);
    for (int ms = 0; ms < STOP_DRAIN_MS && atomic_load(&ctx->active) > 0; ms += 10)
        usleep(10000);
    MHD_stop_daemon(ctx->daemon);
    ctx->daemon = NULL;
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    ctx->listen_fd = -1;
    serve_guard_stop(&ctx->guard);
}
