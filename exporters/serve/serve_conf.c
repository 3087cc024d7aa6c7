/*
 * serve_conf.c — the serve exporter's options: the libconfuse table, the
 * checks libconfuse cannot make (an address to listen on, limits in
 * range, TLS files in pairs and readable, one way to authenticate), and
 * building and freeing a serve_ctx. Every problem of a section is
 * reported (the host's config_error gives file and line), so one
 * `tallyd -t` shows all there is to fix.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_FILE_MAX (1024 * 1024)

const tally_option serve_options[] = {
    {CFG_STR("listen", SERVE_DEFAULT_LISTEN, CFGF_NONE),
     "address and port to answer on: \"IP:PORT\", \"[IPv6]:PORT\", or \":PORT\" for every "
     "address (loopback by default: expose it on purpose)",
     NULL},
    {CFG_INT("max_connections", 64, CFGF_NONE),
     "connections served at once; more are refused until one ends", NULL},
    {CFG_INT("max_connections_per_ip", 16, CFGF_NONE),
     "connections one client address may hold at once", NULL},
    {CFG_INT("request_timeout", 10, CFGF_NONE),
     "seconds a connection may stay idle or sending its request before it is closed (a slow "
     "client cannot hold a connection)",
     NULL},
    {CFG_INT("max_request_bytes", 16384, CFGF_NONE),
     "bytes a request's line and headers may take; larger requests are refused (414 or 431)", NULL},
    {CFG_INT("threads", 2, CFGF_NONE), "threads answering requests", NULL},
    {CFG_INT("healthz_grace", 600, CFGF_NONE),
     "seconds past two intervals that the agent's loop may go without beginning a cycle "
     "before /healthz answers 503 (a source stuck in a cycle)",
     NULL},
    {CFG_STR("tls_cert", NULL, CFGF_NONE),
     "certificate (PEM, the chain after it) to answer over HTTPS; with tls_key", NULL},
    {CFG_STR("tls_key", NULL, CFGF_NONE), "the certificate's private key (PEM)", NULL},
    {CFG_STR("bearer_token_file", NULL, CFGF_NONE),
     "file holding a token every request but /healthz and /readyz must send as "
     "Authorization: Bearer (never logged)",
     NULL},
    {CFG_STR("bearer_token_env", NULL, CFGF_NONE),
     "environment variable holding that token (instead of bearer_token_file)", NULL},
    {CFG_STR("basic_auth_file", NULL, CFGF_NONE),
     "file holding \"user:password\" that requests must send as HTTP basic authentication "
     "(never logged)",
     NULL},
    TALLY_OPTION_END,
};

int serve_listen_parse(const char *listen, struct sockaddr_storage *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    const char *colon = listen != NULL ? strrchr(listen, ':') : NULL;
    if (colon == NULL) {
        *why = "has no :PORT";
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
        *why = "has a port that is not a number from 0 to 65535";
        return -1;
    }
    char host[INET6_ADDRSTRLEN + 2];
    size_t n = (size_t)(colon - listen);
    if (n >= sizeof(host)) {
        *why = "has a host that is not an IP address";
        return -1;
    }
    memcpy(host, listen, n);
    host[n] = '\0';
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (n == 0) {
        v6->sin6_family = AF_INET6; /* every address, both families */
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        host[n - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            return 0;
        }
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    *why = "has a host that is not an IP address (a name is not resolved: give 127.0.0.1, "
           "[::1], 0.0.0.0 or an interface's address)";
    return -1;
}

static int check_range(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name,
                       long lo, long hi, const char *what)
{
    long v = cfg_getint(section, name);
    if (v >= lo && v <= hi)
        return 0;
    api->config_error(h, section, "option '%s' = %ld is out of range; give %s from %ld to %ld",
                      name, v, what, lo, hi);
    return TALLY_HOST_ERR;
}

/* A file the agent will read: a regular file it can open. */
static int check_file(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *path = cfg_getstr(section, name);
    struct stat st;
    if (path == NULL)
        return 0;
    errno = 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0) {
        api->config_error(h, section,
                          "option '%s' = \"%s\" is not a regular file tallyd can read (%s); "
                          "check the path and its owner",
                          name, path, errno != 0 ? strerror(errno) : "not a regular file");
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_tls(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int cert = cfg_getstr(section, "tls_cert") != NULL,
        key = cfg_getstr(section, "tls_key") != NULL;
    if (cert != key) {
        api->config_error(h, section,
                          "option '%s' is set without '%s'; HTTPS needs both the certificate "
                          "and its key",
                          cert ? "tls_cert" : "tls_key", cert ? "tls_key" : "tls_cert");
        return TALLY_HOST_ERR;
    }
    int rc = check_file(h, api, section, "tls_cert");
    return check_file(h, api, section, "tls_key") != 0 ? TALLY_HOST_ERR : rc;
}

static int check_auth(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int n = (cfg_getstr(section, "bearer_token_file") != NULL) +
            (cfg_getstr(section, "bearer_token_env") != NULL) +
            (cfg_getstr(section, "basic_auth_file") != NULL);
    if (n > 1) {
        api->config_error(h, section,
                          "options 'bearer_token_file', 'bearer_token_env' and "
                          "'basic_auth_file' exclude each other; keep one");
        return TALLY_HOST_ERR;
    }
    int rc = check_file(h, api, section, "bearer_token_file");
    return check_file(h, api, section, "basic_auth_file") != 0 ? TALLY_HOST_ERR : rc;
}

int serve_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int rc = 0;
    const char *why = NULL;
    struct sockaddr_storage addr;
    if (serve_listen_parse(cfg_getstr(section, "listen"), &addr, &why) != 0) {
        api->config_error(h, section, "option 'listen' = \"%s\" %s; give e.g. \"127.0.0.1:9489\"",
                          cfg_getstr(section, "listen") ? cfg_getstr(section, "listen") : "", why);
        rc = TALLY_HOST_ERR;
    }
    rc |= check_range(h, api, section, "max_connections", 1, 10000, "a number of connections");
    rc |=
        check_range(h, api, section, "max_connections_per_ip", 1, 10000, "a number of connections");
    rc |= check_range(h, api, section, "request_timeout", 1, 3600, "seconds");
    rc |= check_range(h, api, section, "healthz_grace", 1, 86400, "seconds");
    rc |= check_range(h, api, section, "max_request_bytes", 4096, 1024 * 1024, "bytes");
    rc |= check_range(h, api, section, "threads", 1, 64, "a number of threads");
    rc |= check_tls(h, api, section);
    rc |= check_auth(h, api, section);
    return rc != 0 ? TALLY_HOST_ERR : TALLY_HOST_OK;
}

/* The whole of a PEM file, NUL terminated: read with O_NOFOLLOW, bounded. */
static char *read_pem(serve_ctx *ctx, const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char *text = NULL;
    errno = 0;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX ||
        (text = malloc((size_t)st.st_size + 1)) == NULL ||
        read(fd, text, (size_t)st.st_size) != st.st_size) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot read %s (a regular file of at most %d bytes, not a symlink): %s; "
                      "check the path and its owner",
                      path, TLS_FILE_MAX, errno != 0 ? strerror(errno) : "too large");
        if (fd >= 0)
            close(fd);
        free(text);
        return NULL;
    }
    close(fd);
    text[st.st_size] = '\0';
    return text;
}

static int read_auth(serve_ctx *ctx, cfg_t *section)
{
    const char *file = cfg_getstr(section, "bearer_token_file");
    const char *env = cfg_getstr(section, "bearer_token_env");
    const char *basic = cfg_getstr(section, "basic_auth_file");
    if (file == NULL && env == NULL && basic == NULL)
        return 0;
    ctx->auth = basic != NULL ? SERVE_AUTH_BASIC : SERVE_AUTH_BEARER;
    if (ctx->api->read_secret(ctx->host, basic != NULL ? basic : file, env, &ctx->secret) !=
        TALLY_HOST_OK)
        return -1;
    ctx->secret_len = strlen(ctx->secret);
    if (ctx->secret_len == 0 || (basic != NULL && strchr(ctx->secret, ':') == NULL)) {
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "the %s is empty%s; write it into the file (the server does not start "
                      "without it)",
                      basic != NULL ? "basic_auth_file's credential" : "bearer token",
                      basic != NULL ? " or has no ':' between user and password" : "");
        return -1;
    }
    return 0;
}

int serve_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, serve_ctx **out)
{
    *out = NULL;
    serve_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return -1;
    ctx->host = h;
    ctx->api = api;
    ctx->listen_fd = -1;
    pthread_mutex_init(&ctx->swap_mu, NULL);
    ctx->listen = strdup(cfg_getstr(section, "listen"));
    ctx->max_connections = (unsigned)cfg_getint(section, "max_connections");
    ctx->max_per_ip = (unsigned)cfg_getint(section, "max_connections_per_ip");
    ctx->request_timeout = (unsigned)cfg_getint(section, "request_timeout");
    ctx->healthz_grace = cfg_getint(section, "healthz_grace");
    ctx->max_request_bytes = (size_t)cfg_getint(section, "max_request_bytes");
    ctx->threads = (unsigned)cfg_getint(section, "threads");
    int rc = ctx->listen != NULL ? 0 : -1;
    if (rc == 0 && cfg_getstr(section, "tls_cert") != NULL &&
        ((ctx->tls_cert = read_pem(ctx, cfg_getstr(section, "tls_cert"))) == NULL ||
         (ctx->tls_key = read_pem(ctx, cfg_getstr(section, "tls_key"))) == NULL))
        rc = -1;
    if (rc == 0)
        rc = read_auth(ctx, section);
    if (rc != 0) {
        serve_conf_free(ctx);
        return -1;
    }
    *out = ctx;
    return 0;
}

/* Secrets are wiped before their memory goes back. */
static void free_secret(char *s)
{
    if (s != NULL)
        explicit_bzero(s, strlen(s));
    free(s);
}

void serve_conf_free(serve_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->listen);
    free(ctx->tls_cert);
    free_secret(ctx->tls_key);
    free_secret(ctx->secret);
    pthread_mutex_destroy(&ctx->swap_mu);
    free(ctx);
}
