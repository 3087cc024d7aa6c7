/*
 * serve_load.c — many HTTP/1.1 clients at once, each sending its
 * requests one after another over a kept-alive connection: for the serve
 * exporter's concurrency test and for bench/run-serve.sh (tallyd beside
 * node_exporter). Every response must be whole: a status line, and a
 * Content-Length and that many bytes, or chunks up to the last. With --pair, every /metrics body
 * must also be one snapshot's: its success requests times --pair-ratio
 * equal its input tokens (a source whose every row is a success with
 * that many input tokens).
 *
 * usage: serve_load HOST PORT PATH CLIENTS REQUESTS [--pair RATIO]
 *                   [--header "Name: value"]
 * Prints "requests N failed N seconds S rps R median_ms M p99_ms P max_ms X"
 * and the first failures; exits 1 if any request failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *path, *extra_header = "";
static int port, n_requests;
static long pair_ratio; /* 0: no pair check */
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;
static int reported;

typedef struct client {
    pthread_t thread;
    double *lat_ms;
    int done, failed;
} client;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void report(const char *what, const char *detail)
{
    pthread_mutex_lock(&report_mu);
    if (reported++ < 5)
        fprintf(stderr, "failure: %s%s%.200s\n", what, detail ? ": " : "", detail ? detail : "");
    pthread_mutex_unlock(&report_mu);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A sample's value in a Prometheus text: the number after "series ". */
static int sample(const char *body, const char *series, long long *out)
{
    const char *p = body;
    size_t n = strlen(series);
    while ((p = strstr(p, series)) != NULL) {
        if ((p == body || p[-1] == '\n') && p[n] == ' ')
            return sscanf(p + n + 1, "%lld", out) == 1 ? 0 : -1;
        p += n;
    }
    return -1;
}

static int check_pair(const char *body)
{
    long long req, tok;
    if (sample(body, "tally_requests_total{outcome=\"success\"}", &req) != 0 ||
        sample(body, "tally_tokens_total{kind=\"input\"}", &tok) != 0) {
        report("a /metrics body lacks the pair", NULL);
        return -1;
    }
    if (req * pair_ratio != tok) {
        char why[128];
        snprintf(why, sizeof(why), "requests %lld x %ld != input tokens %lld", req, pair_ratio, tok);
        report("a body mixes two snapshots", why);
        return -1;
    }
    if (strstr(body, "\ntally_snapshot_age_seconds ") == NULL) {
        report("a body lacks tally_snapshot_age_seconds", NULL);
        return -1;
    }
    return 0;
}

/* Read until buf holds at least want bytes: 0, or -1 (the stream ended). */
static int fill(int fd, char **buf, size_t *cap, size_t *len, size_t want)
{
    while (*len < want) {
        if (want + 1 > *cap) {
            *cap = want * 2 + 1;
            *buf = realloc(*buf, *cap);
        }
        ssize_t r = read(fd, *buf + *len, *cap - *len - 1);
        if (r <= 0)
            return -1;
        *len += (size_t)r;
    }
    return 0;
}

/* One request and its whole response on fd: 0, -1 (failed), or 1 (the
 * server closed before answering: redial). */
static int one_request(int fd, char **buf, size_t *cap)
{
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%sConnection: keep-alive\r\n\r\n",
                     path, host, port, extra_header, extra_header[0] ? "\r\n" : "");
    if (write(fd, req, (size_t)n) != n)
        return 1;
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        if (len + 4096 > *cap) {
            *cap = *cap * 2 + 8192;
            *buf = realloc(*buf, *cap);
        }
        ssize_t r = read(fd, *buf + len, *cap - len - 1);
        if (r <= 0)
            return len == 0 ? 1 : (report("connection ended inside the headers", NULL), -1);
        len += (size_t)r;
        (*buf)[len] = '\0';
        end = strstr(*buf, "\r\n\r\n");
    }
    int status = 0;
    sscanf(*buf, "HTTP/1.%*d %d", &status);
    size_t head = (size_t)(end - *buf) + 4;
    const char *cl = strcasestr(*buf, "\r\nContent-Length:");
    const char *te = strcasestr(*buf, "\r\nTransfer-Encoding: chunked");
    size_t body_at = head, body_len = 0;
    if (cl != NULL && cl < end) {
        body_len = strtoul(cl + 17, NULL, 10);
        if (fill(fd, buf, cap, &len, head + body_len) != 0) {
            report("a body cut short", NULL);
            return -1;
        }
        if (len != head + body_len) {
            report("more bytes than Content-Length", NULL);
            return -1;
        }
    } else if (te != NULL && te < end) {
        /* node_exporter's answers are chunked: the chunks are joined in
         * place, after the headers. */
        size_t pos = head;
        for (;;) {
            char *eol = NULL;
            while ((eol = memmem(*buf + pos, len - pos, "\r\n", 2)) == NULL)
                if (fill(fd, buf, cap, &len, len + 1) != 0) {
                    report("a chunk cut short", NULL);
                    return -1;
                }
            size_t size = strtoul(*buf + pos, NULL, 16);
            size_t data = (size_t)(eol - *buf) + 2;
            if (fill(fd, buf, cap, &len, data + size + 2) != 0) {
                report("a chunk cut short", NULL);
                return -1;
            }
            memmove(*buf + body_at + body_len, *buf + data, size);
            body_len += size;
            pos = data + size + 2;
            if (size == 0)
                break;
        }
    } else {
        report("a response with neither Content-Length nor chunks", *buf);
        return -1;
    }
    (*buf)[body_at + body_len] = '\0';
    if (status != 200) {
        report("a status other than 200", *buf);
        return -1;
    }
    return pair_ratio > 0 && check_pair(*buf + body_at) != 0 ? -1 : 0;
}

static void *client_main(void *arg)
{
    client *c = arg;
    size_t cap = 65536;
    char *buf = malloc(cap);
    int fd = -1;
    for (int i = 0; i < n_requests; i++) {
        double t0 = now_s();
        int rc = 1;
        /* A reload closes the port for a moment: connections are retried
         * (for up to 10 s), never a response that had begun. */
        for (int attempt = 0; attempt < 100 && rc == 1; attempt++) {
            if (fd < 0 && (fd = dial()) < 0) {
                usleep(100000);
                continue;
            }
            rc = one_request(fd, &buf, &cap);
            if (rc != 0) {
                close(fd);
                fd = -1;
            }
        }
        if (rc != 0) {
            if (rc == 1)
                report("no connection or no answer for 10 s", NULL);
            c->failed++;
        }
        c->lat_ms[c->done++] = (now_s() - t0) * 1000.0;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s HOST PORT PATH CLIENTS REQUESTS [--pair RATIO] [--header H]\n",
                argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    path = argv[3];
    int n_clients = atoi(argv[4]);
    n_requests = atoi(argv[5]);
    for (int i = 6; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pair") == 0)
            pair_ratio = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--header") == 0)
            extra_header = argv[i + 1];
    }
    client *cs = calloc((size_t)n_clients, sizeof(*cs));
    double t0 = now_s();
    for (int i = 0; i < n_clients; i++) {
        cs[i].lat_ms = calloc((size_t)n_requests, sizeof(double));
        pthread_create(&cs[i].thread, NULL, client_main, &cs[i]);
    }
    size_t total = 0, failed = 0;
    double *all = malloc((size_t)n_clients * (size_t)n_requests * sizeof(double));
    for (int i = 0; i < n_clients; i++) {
        pthread_join(cs[i].thread, NULL);
        memcpy(all + total, cs[i].lat_ms, (size_t)cs[i].done * sizeof(double));
        total += (size_t)cs[i].done;
        failed += (size_t)cs[i].failed;
        free(cs[i].lat_ms);
    }
    double secs = now_s() - t0;
    qsort(all, total, sizeof(double), by_value);
    printf("requests %zu failed %zu seconds %.3f rps %.0f median_ms %.3f p99_ms %.3f max_ms %.3f\n",
           total, failed, secs, (double)total / secs, total ? all[total / 2] : 0.0,
           total ? all[(size_t)((double)total * 0.99)] : 0.0, total ? all[total - 1] : 0.0);
    free(all);
    free(cs);
    return failed == 0 && total == (size_t)n_clients * (size_t)n_requests ? 0 : 1;
}
