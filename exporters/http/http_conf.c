/*
 * http_conf.c — the http exporter's options: the libconfuse table, the
 * checks libconfuse cannot make (a usable URL, names of formats, methods
 * and modes, well-formed headers, positive times, TLS files that exist and
 * belong to an https URL, a history mode that fits the format and the
 * delivery), and building and freeing an http_ctx. Every
 * problem of a section is reported, not just the first, so one `tallyd -t`
 * shows all there is to fix; messages say where
 * (the host's config_error).
 */
#include "http.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_SPOOL_MAX_BYTES (64L * 1024 * 1024)
#define MIN_SPOOL_MAX_BYTES 1024L
#define MAX_RETRIES_LIMIT 100L
#define MAX_TIMEOUT_S 3600.0

/* `delivery` and `history` have no default in the table: they depend on
 * the format and the delivery. */
const tally_option http_options[] = {
    {CFG_STR("url", NULL, CFGF_NONE),
     "where to send each snapshot (required): an http:// or https:// URL; for a Prometheus "
     "Pushgateway .../metrics/job/<job> (instance defaults to the host name)",
     NULL},
    {CFG_STR("format", "json", CFGF_NONE), "json, prometheus or influx (InfluxDB line protocol)",
     NULL},
    {CFG_STR("method", "POST", CFGF_NONE),
     "POST or PUT (on a Pushgateway, PUT replaces the whole group)", NULL},
    {CFG_STR_LIST("headers", NULL, CFGF_NONE), "extra request headers, e.g. {\"X-Team: billing\"}",
     NULL},
    {CFG_FLOAT("timeout", 10.0, CFGF_NONE), "seconds a whole request may take", NULL},
    {CFG_FLOAT("connect_timeout", 5.0, CFGF_NONE), "seconds to wait for a connection", NULL},
    {CFG_STR("bearer_token_file", NULL, CFGF_NONE),
     "file holding a bearer token, sent as Authorization: Bearer (never logged)", NULL},
    {CFG_STR("bearer_token_env", NULL, CFGF_NONE),
     "environment variable holding a bearer token (instead of bearer_token_file)", NULL},
    {CFG_STR("ca_file", NULL, CFGF_NONE),
     "CA certificates (PEM) to verify the server with, instead of the system's", NULL},
    {CFG_STR("client_cert", NULL, CFGF_NONE),
     "client certificate (PEM) for servers that require one", NULL},
    {CFG_STR("client_key", NULL, CFGF_NONE), "the client certificate's private key (PEM)", NULL},
    {CFG_BOOL("tls_verify", cfg_true, CFGF_NONE), "verify the server's certificate and name", NULL},
    {CFG_STR("compress", "none", CFGF_NONE), "none or gzip: compress request bodies", NULL},
    {CFG_INT("max_retries", 5, CFGF_NONE),
     "retries of one payload, with exponential backoff, before waiting for the next cycle; "
     "nothing is dropped for failing",
     NULL},
    {CFG_INT("spool_max_bytes", DEFAULT_SPOOL_MAX_BYTES, CFGF_NONE),
     "bytes the undelivered payloads may take in the state database; when "
     "full, the oldest are dropped, logged and counted",
     NULL},
    {CFG_STR("delivery", NULL, CFGF_NONE),
     "queue: every snapshot once, in order, with an Idempotency-Key (default for json and "
     "influx); latest: only the newest undelivered one (default for prometheus)",
     NULL},
    {CFG_STR("history", NULL, CFGF_NONE),
     "json and influx: changed: each payload lists the user-days and daily counter totals "
     "changed since the payload before (default with delivery = queue); all: every listed row "
     "in every payload, as large as the whole history (the default, and the only choice, with "
     "delivery = latest)",
     NULL},
    {CFG_FLOAT("retry_wait", 1.0, CFGF_NONE),
     "seconds of the first retry's backoff; each retry doubles it, with full jitter", NULL},
    {CFG_FLOAT("retry_max_wait", 300.0, CFGF_NONE),
     "most seconds between two retries; a server's Retry-After is honoured", NULL},
    TALLY_OPTION_END,
};

#define FORMAT_NAMES "json, prometheus, influx"
#define TLS_OPTIONS "ca_file, client_cert and client_key"

/* Headers tally writes itself, or that only make sense from curl. */
static const char *const reserved_headers[] = {
    "Content-Length",  "Content-Encoding", "Transfer-Encoding", "Host",
    "Idempotency-Key", "X-Tally-State",    "X-Tally-Seq",       "X-Tally-Changed-After",
};

static int check_format(tally_host *h, const tally_host_api *api, cfg_t *section,
                        tally_format *format)
{
    const char *name = cfg_getstr(section, "format");
    if (name == NULL || tally_format_from_name(name, format) != 0 || *format == TALLY_FORMAT_CSV) {
        api->config_error(h, section,
                          "option 'format' = \"%s\" is not one the http exporter sends; use one "
                          "of " FORMAT_NAMES,
                          name ? name : "");
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_url(tally_host *h, const tally_host_api *api, cfg_t *section, int *https)
{
    const char *url = cfg_getstr(section, "url");
    const char *why = NULL;
    if (url == NULL) {
        api->config_error(h, section,
                          "option 'url' is required; set e.g. url = "
                          "\"http://127.0.0.1:9091/metrics/job/tally\"");
        return TALLY_HOST_ERR;
    }
    if (http_url_valid(url, https, &why) != 0) {
        /* The URL may hold a password: say what is wrong, not what it is. */
        api->config_error(h, section,
                          "option 'url' is not a URL tally can send to: %s; give "
                          "http://HOST[:PORT]/PATH or https://...",
                          why);
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int one_of(const char *value, const char *a, const char *b)
{
    return value != NULL && (strcasecmp(value, a) == 0 || strcasecmp(value, b) == 0);
}

/* history: changed or all, for the formats that list history; changed
 * cannot go with delivery = latest, whose replaced payloads would take
 * their changes with them. */
static int check_history(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    const char *history = cfg_getstr(section, "history");
    if (history == NULL)
        return 0;
    if (!one_of(history, "changed", "all")) {
        api->config_error(h, section,
                          "option 'history' = \"%s\" is unknown; use changed (what changed since "
                          "the payload before) or all (every listed row, every time)",
                          history);
        return TALLY_HOST_ERR;
    }
    tally_format format;
    const char *name = cfg_getstr(section, "format");
    if (name != NULL && tally_format_from_name(name, &format) == 0 &&
        format == TALLY_FORMAT_PROMETHEUS) {
        api->config_error(h, section,
                          "option 'history' applies to json and influx only (prometheus lists no "
                          "history); remove it");
        return TALLY_HOST_ERR;
    }
    const char *delivery = cfg_getstr(section, "delivery");
    if (strcasecmp(history, "changed") == 0 && delivery != NULL &&
        strcasecmp(delivery, "latest") == 0) {
        api->config_error(h, section,
                          "option 'history' = \"changed\" cannot go with delivery = \"latest\": "
                          "a payload replaced before it is delivered would take its changes with "
                          "it; use history = \"all\" (the default with latest) or delivery = "
                          "\"queue\"");
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_names(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int rc = 0;
    const char *method = cfg_getstr(section, "method");
    if (!one_of(method, "POST", "PUT")) {
        api->config_error(h, section, "option 'method' = \"%s\" is unknown; use POST or PUT",
                          method ? method : "");
        rc = TALLY_HOST_ERR;
    }
    const char *compress = cfg_getstr(section, "compress");
    if (!one_of(compress, "none", "gzip")) {
        api->config_error(h, section, "option 'compress' = \"%s\" is unknown; use none or gzip",
                          compress ? compress : "");
        rc = TALLY_HOST_ERR;
    }
    const char *delivery = cfg_getstr(section, "delivery");
    if (delivery != NULL && !one_of(delivery, "queue", "latest")) {
        api->config_error(h, section,
                          "option 'delivery' = \"%s\" is unknown; use queue (every snapshot, in "
                          "order) or latest (only the newest)",
                          delivery);
        rc = TALLY_HOST_ERR;
    }
    if (check_history(h, api, section) != 0)
        rc = TALLY_HOST_ERR;
    return rc;
}

static int is_token_char(int c)
{
    return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "Name: value": *name_len is the name's length. 0, or -1 with *why. */
static int parse_header(const char *hdr, size_t *name_len, const char **why)
{
    size_t n = 0;
    while (is_token_char((unsigned char)hdr[n]))
        n++;
    if (n == 0 || hdr[n] != ':') {
        *why = "is not \"Name: value\" (a name of letters, digits and -, then a colon)";
        return -1;
    }
    for (const char *p = hdr + n + 1; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t') {
            *why = "has a control character (a line break) in its value";
            return -1;
        }
    *name_len = n;
    return 0;
}

static int header_is(const char *hdr, size_t name_len, const char *name)
{
    return strlen(name) == name_len && strncasecmp(hdr, name, name_len) == 0;
}

static int check_headers(tally_host *h, const tally_host_api *api, cfg_t *section, int has_token)
{
    int rc = 0;
    for (unsigned i = 0; i < cfg_size(section, "headers"); i++) {
        const char *hdr = cfg_getnstr(section, "headers", i);
        size_t n = 0;
        const char *why = NULL;
        if (parse_header(hdr, &n, &why) != 0) {
            /* Only the number: the value may be a credential. */
            api->config_error(h, section, "option 'headers': header %u %s", i + 1, why);
            rc = TALLY_HOST_ERR;
            continue;
        }
        for (size_t k = 0; k < sizeof(reserved_headers) / sizeof(reserved_headers[0]); k++)
            if (header_is(hdr, n, reserved_headers[k])) {
                api->config_error(h, section,
                                  "option 'headers': header %u sets %s, which tally sets itself; "
                                  "remove it",
                                  i + 1, reserved_headers[k]);
                rc = TALLY_HOST_ERR;
            }
        if (has_token && header_is(hdr, n, "Authorization")) {
            api->config_error(h, section,
                              "option 'headers': header %u sets Authorization as well as the "
                              "bearer token; keep one of them",
                              i + 1);
            rc = TALLY_HOST_ERR;
        }
    }
    return rc;
}

static int check_seconds(tally_host *h, const tally_host_api *api, cfg_t *section, const char *opt)
{
    double v = cfg_getfloat(section, opt);
    if (!(v > 0 && v <= MAX_TIMEOUT_S)) {
        api->config_error(h, section,
                          "option '%s' = %g is out of range; give seconds above 0 and at most %g",
                          opt, v, MAX_TIMEOUT_S);
        return TALLY_HOST_ERR;
    }
    return 0;
}

static int check_numbers(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int rc = 0;
    const char *secs[] = {"timeout", "connect_timeout", "retry_wait", "retry_max_wait"};
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
        if (check_seconds(h, api, section, secs[i]) != 0)
            rc = TALLY_HOST_ERR;
    if (rc == 0 && cfg_getfloat(section, "retry_max_wait") < cfg_getfloat(section, "retry_wait")) {
        api->config_error(
            h, section, "option 'retry_max_wait' = %g is below retry_wait = %g; raise it",
            cfg_getfloat(section, "retry_max_wait"), cfg_getfloat(section, "retry_wait"));
        rc = TALLY_HOST_ERR;
    }
    long retries = cfg_getint(section, "max_retries");
    if (retries < 0 || retries > MAX_RETRIES_LIMIT) {
        api->config_error(h, section,
                          "option 'max_retries' = %ld is out of range; give 0 to %ld (a payload "
                          "that still fails waits in the spool for the next cycle)",
                          retries, MAX_RETRIES_LIMIT);
        rc = TALLY_HOST_ERR;
    }
    long spool = cfg_getint(section, "spool_max_bytes");
    if (spool < MIN_SPOOL_MAX_BYTES) {
        api->config_error(h, section,
                          "option 'spool_max_bytes' = %ld is too small; give at least %ld bytes "
                          "(the default is %ld)",
                          spool, MIN_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_BYTES);
        rc = TALLY_HOST_ERR;
    }
    return rc;
}

static int check_readable(tally_host *h, const tally_host_api *api, cfg_t *section, const char *opt)
{
    const char *path = cfg_getstr(section, opt);
    if (path == NULL || access(path, R_OK) == 0)
        return 0;
    api->config_error(h, section,
                      "option '%s' = \"%s\" cannot be read by uid %ld; check the path and its mode",
                      opt, path, (long)geteuid());
    return TALLY_HOST_ERR;
}

static int check_secrets_and_tls(tally_host *h, const tally_host_api *api, cfg_t *section,
                                 int https)
{
    int rc = 0;
    if (cfg_getstr(section, "bearer_token_file") && cfg_getstr(section, "bearer_token_env")) {
        api->config_error(h, section,
                          "options 'bearer_token_file' and 'bearer_token_env' are both set; keep "
                          "one of them");
        rc = TALLY_HOST_ERR;
    }
    const char *tls[] = {"ca_file", "client_cert", "client_key", "bearer_token_file"};
    for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
        if (check_readable(h, api, section, tls[i]) != 0)
            rc = TALLY_HOST_ERR;
    if (cfg_getstr(section, "client_key") && !cfg_getstr(section, "client_cert")) {
        api->config_error(h, section,
                          "option 'client_key' is set without client_cert; set client_cert too");
        rc = TALLY_HOST_ERR;
    }
    int any_tls = cfg_getstr(section, "ca_file") || cfg_getstr(section, "client_cert") ||
                  cfg_getstr(section, "client_key") || !cfg_getbool(section, "tls_verify");
    if (!https && any_tls) {
        api->config_error(h, section,
                          TLS_OPTIONS " and tls_verify apply to https URLs only, and 'url' is "
                                      "http; use https:// or remove them");
        rc = TALLY_HOST_ERR;
    }
    return rc;
}

int http_conf_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    int rc = 0, https = 0;
    tally_format format;
    if (check_format(h, api, section, &format) != 0)
        rc = TALLY_HOST_ERR;
    int url_ok = check_url(h, api, section, &https) == 0;
    if (!url_ok)
        rc = TALLY_HOST_ERR;
    if (check_names(h, api, section) != 0)
        rc = TALLY_HOST_ERR;
    int has_token =
        cfg_getstr(section, "bearer_token_file") || cfg_getstr(section, "bearer_token_env");
    if (check_headers(h, api, section, has_token) != 0)
        rc = TALLY_HOST_ERR;
    if (check_numbers(h, api, section) != 0)
        rc = TALLY_HOST_ERR;
    /* Without a usable URL, whether it is https is unknown: skip that part. */
    if (check_secrets_and_tls(h, api, section, url_ok ? https : 1) != 0)
        rc = TALLY_HOST_ERR;
    return rc;
}

static char *dup_opt(cfg_t *section, const char *opt, int *oom)
{
    const char *v = cfg_getstr(section, opt);
    if (v == NULL)
        return NULL;
    char *copy = strdup(v);
    *oom |= copy == NULL;
    return copy;
}

static void build_delivery(http_ctx *ctx, cfg_t *section)
{
    const char *delivery = cfg_getstr(section, "delivery");
    int latest = delivery != NULL ? strcasecmp(delivery, "latest") == 0
                                  : ctx->format == TALLY_FORMAT_PROMETHEUS;
    ctx->spool_mode = latest ? TALLY_SPOOL_REPLACE : TALLY_SPOOL_QUEUE;
    const char *history = cfg_getstr(section, "history");
    ctx->lists_history = ctx->format != TALLY_FORMAT_PROMETHEUS;
    ctx->history_all = history != NULL ? strcasecmp(history, "all") == 0 : latest;
    ctx->method = strcasecmp(cfg_getstr(section, "method"), "PUT") == 0 ? "PUT" : "POST";
    ctx->gzip = strcasecmp(cfg_getstr(section, "compress"), "gzip") == 0;
    ctx->tls_verify = cfg_getbool(section, "tls_verify");
    ctx->timeout_ms = (long)(cfg_getfloat(section, "timeout") * 1000);
    ctx->connect_timeout_ms = (long)(cfg_getfloat(section, "connect_timeout") * 1000);
    ctx->retry_wait = cfg_getfloat(section, "retry_wait");
    ctx->retry_max_wait = cfg_getfloat(section, "retry_max_wait");
    ctx->max_retries = cfg_getint(section, "max_retries");
    ctx->spool_max_bytes = cfg_getint(section, "spool_max_bytes");
}

static int build_headers(http_ctx *ctx, cfg_t *section)
{
    ctx->n_headers = cfg_size(section, "headers");
    ctx->headers = calloc(ctx->n_headers + 1, sizeof(*ctx->headers));
    if (ctx->headers == NULL)
        return -1;
    for (size_t i = 0; i < ctx->n_headers; i++) {
        const char *hdr = cfg_getnstr(section, "headers", (unsigned)i);
        size_t n = 0;
        const char *why;
        parse_header(hdr, &n, &why);
        ctx->own_content_type |= header_is(hdr, n, "Content-Type");
        if ((ctx->headers[i] = strdup(hdr)) == NULL)
            return -1;
    }
    return 0;
}

static int build_url(http_ctx *ctx, cfg_t *section)
{
    const char *url = cfg_getstr(section, "url");
    char host_name[256] = "";
    if (ctx->format == TALLY_FORMAT_PROMETHEUS) {
        if (gethostname(host_name, sizeof(host_name)) != 0 || host_name[0] == '\0')
            snprintf(host_name, sizeof(host_name), "localhost");
        host_name[sizeof(host_name) - 1] = '\0';
        ctx->url = http_url_grouping_key(url, host_name);
    } else {
        ctx->url = strdup(url);
    }
    ctx->url_shown = ctx->url ? http_url_shown(ctx->url) : NULL;
    return ctx->url && ctx->url_shown ? 0 : -1;
}

int http_conf_create(tally_host *h, const tally_host_api *api, cfg_t *section, http_ctx **out)
{
    /* init may meet a section nobody checked; building from bad values
     * would fail later and less clearly. */
    if (http_conf_check(h, api, section) != 0)
        return TALLY_HOST_ERR;
    http_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        goto oom;
    pthread_mutex_init(&ctx->mark_mu, NULL);
    ctx->host = h;
    ctx->api = api;
    tally_format_from_name(cfg_getstr(section, "format"), &ctx->format);
    build_delivery(ctx, section);
    int oom = 0;
    ctx->ca_file = dup_opt(section, "ca_file", &oom);
    ctx->client_cert = dup_opt(section, "client_cert", &oom);
    ctx->client_key = dup_opt(section, "client_key", &oom);
    ctx->token_file = dup_opt(section, "bearer_token_file", &oom);
    ctx->token_env = dup_opt(section, "bearer_token_env", &oom);
    if (oom || build_headers(ctx, section) != 0 || build_url(ctx, section) != 0)
        goto oom;
    *out = ctx;
    return 0;
oom:
    api->log(h, TALLY_LOG_ERR,
             "out of memory building the http exporter; free memory and restart tallyd");
    http_conf_free(ctx);
    return TALLY_HOST_ERR;
}

void http_conf_free(http_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->url);
    free(ctx->url_shown);
    for (size_t i = 0; ctx->headers != NULL && i < ctx->n_headers; i++) {
        /* A configured header may carry a credential. */
        if (ctx->headers[i] != NULL)
            explicit_bzero(ctx->headers[i], strlen(ctx->headers[i]));
        free(ctx->headers[i]);
    }
    free(ctx->headers);
    free(ctx->ca_file);
    free(ctx->client_cert);
    free(ctx->client_key);
    free(ctx->token_file);
    free(ctx->token_env);
    pthread_mutex_destroy(&ctx->mark_mu);
    free(ctx);
}
