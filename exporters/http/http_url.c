/*
 * http_url.c — URLs, parsed by libcurl's own URL parser so that what we
 * check is what curl will request: which ones tally sends to, the
 * Pushgateway grouping key, and the form that is safe to log.
 *
 * A Pushgateway groups pushed metrics by the label pairs in the path after
 * /metrics: /metrics/job/<job>[/<label>/<value>...], with `@base64` after
 * a label name when its value is base64url-encoded. Without an `instance`
 * pair, every host pushing to the same job would overwrite the others'
 * group, so tally adds /instance/<host name>, as the issue of fleets asks.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_url_valid(const char *url, int *https, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = -1;
    *why = "out of memory";
    if (u == NULL)
        return -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK)
        *why = curl_url_strerror(uc);
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        *why = "its scheme is not http or https";
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
        *why = "it names no host";
    else {
        *https = strcmp(scheme, "https") == 0;
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* Whether segment seg[0..n) is the label name `name`, plain or @base64. */
static int label_is(const char *seg, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && strncmp(seg, name, k) == 0 &&
           (n == k || strncmp(seg + k, "@base64", n - k) == 0);
}

/* 1 if path is a Pushgateway group path that needs an instance pair. */
static int needs_instance(const char *path)
{
    const char *p = strstr(path, "/metrics/job");
    if (p == NULL)
        return 0;
    p += strlen("/metrics/");
    /* From here: name/value pairs. */
    int pairs = 0, has_instance = 0;
    while (*p != '\0') {
        const char *name = p, *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (slash == NULL || slash[1] == '\0')
            break; /* a name without a value: leave the path to the user */
        if (pairs == 0 && !label_is(name, n, "job"))
            return 0;
        has_instance |= label_is(name, n, "instance");
        const char *value = slash + 1, *next = strchr(value, '/');
        pairs++;
        if (next == NULL)
            break;
        p = next + 1;
    }
    return pairs > 0 && !has_instance;
}

char *http_url_grouping_key(const char *url, const char *host_name)
{
    CURLU *u = curl_url();
    char *path = NULL, *escaped = NULL, *full = NULL, *joined = NULL, *out = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        out = strdup(url);
        goto done;
    }
    if (!needs_instance(path)) {
        out = strdup(url);
        goto done;
    }
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    escaped = curl_easy_escape(NULL, host_name, 0);
    if (escaped == NULL || asprintf(&joined, "%.*s/instance/%s", (int)n, path, escaped) < 0) {
        joined = NULL;
        goto done;
    }
    if (curl_url_set(u, CURLUPART_PATH, joined, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
        out = strdup(full);
done:
    curl_free(path);
    curl_free(escaped);
    curl_free(full);
    free(joined);
    curl_url_cleanup(u);
    return out;
}

char *http_url_shown(const char *url)
{
    CURLU *u = curl_url();
    char *query = NULL, *bare = NULL, *out = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        /* Not parseable (never after check): show nothing of it. */
        out = strdup("(the configured url)");
        goto done;
    }
    int had_query = curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK;
    /* A password or token may sit in the user part or the query. */
    curl_url_set(u, CURLUPART_USER, NULL, 0);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &bare, 0) == CURLUE_OK &&
        asprintf(&out, "%s%s", bare, had_query ? "?..." : "") < 0)
        out = NULL;
done:
    curl_free(query);
    curl_free(bare);
    curl_url_cleanup(u);
    return out;
}
