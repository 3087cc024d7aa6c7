/*
 * layout.c — test plugins whose descriptor does not fit this agent, one
 * per build: LAYOUT_CONFUSE (built, it says, with another libconfuse and
 * another cfg_opt_t size), LAYOUT_SMALL (a struct_size below ABI 4's), and
 * LAYOUT_FUTURE (a descriptor from a later plugin.h of the same ABI
 * version, with members appended: it must load, the members unseen).
 */
#include "tally/plugin.h"

static const tally_option layout_options[] = {
    {CFG_INT("value", 1, CFGF_NONE), "a test option", NULL},
    TALLY_OPTION_END,
};

static int layout_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    *ctx = NULL;
    return TALLY_HOST_OK;
}

static void layout_stop(void *ctx)
{
}

static int layout_collect(void *ctx)
{
    return TALLY_HOST_OK;
}

#define LAYOUT_FIELDS(NAME)                                                                        \
    .abi_version = TALLY_PLUGIN_ABI_VERSION, .name = NAME, .kind = TALLY_PLUGIN_SOURCE,            \
    .summary = "test plugin " NAME, .options = layout_options, .init = layout_init,                \
    .stop = layout_stop, .source = {.collect = layout_collect}

#if defined(LAYOUT_CONFUSE)
__attribute__((visibility("default"))) const tally_plugin tally_plugin_descriptor = {
    LAYOUT_FIELDS("layout_confuse"),
    .struct_size = sizeof(tally_plugin),
    .build = {"2.7", (uint32_t)sizeof(cfg_opt_t) + 8, (uint32_t)sizeof(cfg_t),
              (uint32_t)sizeof(tally_record), (uint32_t)sizeof(tally_stats)},
};
#elif defined(LAYOUT_SMALL)
__attribute__((visibility("default"))) const tally_plugin tally_plugin_descriptor = {
    LAYOUT_FIELDS("layout_small"),
    .struct_size = 16,
    .build = TALLY_PLUGIN_BUILD_INFO,
};
#elif defined(LAYOUT_FUTURE)
/* A later plugin.h appended members; this agent copies what it knows. */
__attribute__((visibility("default"))) const struct {
    tally_plugin known;
    void *appended[4];
} tally_plugin_descriptor = {
    .known =
        {
            LAYOUT_FIELDS("layout_future"),
            .struct_size = sizeof(tally_plugin) + 4 * sizeof(void *),
            .build = TALLY_PLUGIN_BUILD_INFO,
        },
    .appended = {(void *)1, (void *)2, (void *)3, (void *)4},
};
#endif
