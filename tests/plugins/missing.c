/*
 * missing.c — test plugins that lack a callback the agent would call, one
 * per build: MISSING_CONSUME (a collector without collector.consume),
 * MISSING_EXPORT (an exporter without exporter.export_snapshot),
 * MISSING_COLLECT (a source without source.collect), MISSING_STOP (no
 * stop), MISSING_HISTORY (a collector of ABI 3's callbacks, without
 * collector.history_open/next/close). The loader must refuse each, naming
 * the file, the plugin and the callback, and a config using it must then
 * fail.
 */
#include "tally/plugin.h"

#include <stddef.h>

/* Each build uses only some of these. */
static const tally_option missing_options[] = {
    {CFG_STR("anything", NULL, CFGF_NONE), "a test option", NULL},
    TALLY_OPTION_END,
};

static __attribute__((unused)) int missing_init(tally_host *h, const tally_host_api *api,
                                                cfg_t *section, void **ctx)
{
    *ctx = NULL;
    return TALLY_HOST_OK;
}

static __attribute__((unused)) void missing_stop(void *ctx)
{
}

static __attribute__((unused)) int missing_ok(void *ctx)
{
    return TALLY_HOST_OK;
}

static __attribute__((unused)) int missing_range(void *ctx, int64_t from, int64_t to)
{
    return TALLY_HOST_OK;
}

static __attribute__((unused)) int missing_inventory(void *ctx, const char *source,
                                                     tally_stream stream, int phase)
{
    return TALLY_HOST_OK;
}

static __attribute__((unused)) int missing_consume(void *ctx, const char *source,
                                                   const tally_record *recs, size_t n)
{
    return TALLY_HOST_OK;
}

static __attribute__((unused)) int missing_stats(void *ctx, int64_t now, int64_t changed_after,
                                                 tally_stats *out)
{
    return TALLY_HOST_OK;
}

static __attribute__((unused)) void missing_free_stats(void *ctx, tally_stats *st)
{
}

static __attribute__((unused)) void missing_discard(void *ctx)
{
}

/* clang-format off */
#if defined(MISSING_CONSUME)
TALLY_PLUGIN_DEFINE(
    .name = "no_consume",
    .kind = TALLY_PLUGIN_COLLECTOR,
    .summary = "test collector without consume",
    .options = missing_options,
    .init = missing_init,
    .stop = missing_stop,
    .collector = {
        .inventory = missing_inventory,
        .flush = missing_ok,
        .discard = missing_discard,
        .recompute_begin = missing_range,
        .stats = missing_stats,
        .free_stats = missing_free_stats,
    });
#elif defined(MISSING_HISTORY)
TALLY_PLUGIN_DEFINE(
    .name = "no_history",
    .kind = TALLY_PLUGIN_COLLECTOR,
    .summary = "test collector without the history callbacks",
    .options = missing_options,
    .init = missing_init,
    .stop = missing_stop,
    .collector = {
        .consume = missing_consume,
        .inventory = missing_inventory,
        .flush = missing_ok,
        .discard = missing_discard,
        .recompute_begin = missing_range,
        .stats = missing_stats,
        .free_stats = missing_free_stats,
    });
#elif defined(MISSING_EXPORT)
TALLY_PLUGIN_DEFINE(
    .name = "no_export",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "test exporter without export_snapshot",
    .options = missing_options,
    .init = missing_init,
    .stop = missing_stop);
#elif defined(MISSING_COLLECT)
TALLY_PLUGIN_DEFINE(
    .name = "no_collect",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "test source without collect",
    .options = missing_options,
    .init = missing_init,
    .stop = missing_stop,
    .source = {.recompute = missing_range});
#elif defined(MISSING_STOP)
TALLY_PLUGIN_DEFINE(
    .name = "no_stop",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "test source without stop",
    .options = missing_options,
    .init = missing_init,
    .source = {.collect = missing_ok});
#endif
/* clang-format on */
