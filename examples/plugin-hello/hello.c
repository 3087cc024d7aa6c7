/*
 * hello.c — the smallest useful tallyd plugin, built out of tree against
 * the installed SDK: a source that emits one live counter each cycle.
 *
 *     hello "greeter" { name = "hello.greetings"  value = 42 }
 *
 * Build it with pkg-config or CMake (see README.md here), copy hello.so
 * into tallyd's plugin_dir, and `tallyd --list-plugins` shows it.
 */
#include <tally/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct hello {
    tally_host *host;
    const tally_host_api *api;
    char *name;
    long value;
} hello;

static int check_value(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    if (cfg_getint(section, name) < 0) {
        api->config_error(h, section, "option '%s' = %ld is negative; give 0 or more", name,
                          cfg_getint(section, name));
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static const tally_option hello_options[] = {
    {CFG_STR("name", "hello.greetings", CFGF_NONE), "the counter's name", NULL},
    {CFG_INT("value", 1, CFGF_NONE), "the value it has every cycle", check_value},
    TALLY_OPTION_END,
};

static int hello_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    hello *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->name = strdup(cfg_getstr(section, "name"))) == NULL) {
        free(s);
        api->log(h, TALLY_LOG_ERR, "out of memory starting; free memory and restart");
        return TALLY_HOST_ERR;
    }
    s->host = h;
    s->api = api;
    s->value = cfg_getint(section, "value");
    *ctx = s;
    return TALLY_HOST_OK;
}

static int hello_collect(void *ctx)
{
    hello *s = ctx;
    return s->api->emit_counter(s->host, s->name, s->value);
}

static void hello_stop(void *ctx)
{
    hello *s = ctx;
    free(s->name);
    free(s);
}

TALLY_PLUGIN_DEFINE(.name = "hello", .kind = TALLY_PLUGIN_SOURCE,
                    .summary = "an example source: one counter with a fixed value",
                    .options = hello_options, .init = hello_init, .stop = hello_stop,
                    .source = {.collect = hello_collect});
