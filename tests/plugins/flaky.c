/*
 * flaky.c — a test source that fails on demand: its collect fails while
 * the file named by `fail_while` exists and succeeds (handing over
 * nothing) otherwise. For tests of what the agent and its exporters say
 * about a failing source (/readyz, errors_total). With `hang_while`, its
 * collect does not return while that file exists: a source stuck inside
 * a cycle (/healthz).
 */
#include "tally/plugin.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct flaky_ctx {
    tally_host *host;
    const tally_host_api *api;
    char *fail_while;
    char *hang_while; /* NULL: never hangs */
} flaky_ctx;

static const tally_option flaky_options[] = {
    {CFG_STR("fail_while", NULL, CFGF_NONE), "collect fails while this file exists", NULL},
    {CFG_STR("hang_while", NULL, CFGF_NONE), "collect does not return while this file exists",
     NULL},
    TALLY_OPTION_END,
};

static int flaky_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **out)
{
    flaky_ctx *c = calloc(1, sizeof(*c));
    const char *path = cfg_getstr(section, "fail_while");
    if (c == NULL || path == NULL || (c->fail_while = strdup(path)) == NULL) {
        free(c);
        return TALLY_HOST_ERR;
    }
    const char *hang = cfg_getstr(section, "hang_while");
    if (hang != NULL && (c->hang_while = strdup(hang)) == NULL) {
        free(c->fail_while);
        free(c);
        return TALLY_HOST_ERR;
    }
    c->host = h;
    c->api = api;
    *out = c;
    return TALLY_HOST_OK;
}

static int flaky_collect(void *ctx)
{
    flaky_ctx *c = ctx;
    while (c->hang_while != NULL && access(c->hang_while, F_OK) == 0)
        usleep(100 * 1000);
    if (access(c->fail_while, F_OK) != 0)
        return TALLY_HOST_OK;
    c->api->log(c->host, TALLY_LOG_ERR, "failing on purpose while %s exists", c->fail_while);
    return TALLY_HOST_ERR;
}

static void flaky_stop(void *ctx)
{
    flaky_ctx *c = ctx;
    free(c->fail_while);
    free(c->hang_while);
    free(c);
}

TALLY_PLUGIN_DEFINE(.name = "flaky", .kind = TALLY_PLUGIN_SOURCE, .summary = "fails on demand",
                    .options = flaky_options, .init = flaky_init, .stop = flaky_stop,
                    .source = {.collect = flaky_collect});
