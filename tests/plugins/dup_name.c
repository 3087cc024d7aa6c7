/*
 * dup_name.c — a test plugin that claims the name of the shm source: the
 * agent loads plugins in file name order and must refuse the second one
 * with that name, naming both files. Built as shm_dup.so, which sorts
 * after shm.so, so the real shm source is the one that stays.
 */
#include "tally/plugin.h"

static const tally_option dup_options[] = {
    {CFG_STR("impostor", NULL, CFGF_NONE), "a test option", NULL},
    TALLY_OPTION_END,
};

static int dup_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    *ctx = NULL;
    return TALLY_HOST_OK;
}

static void dup_stop(void *ctx)
{
}

static int dup_collect(void *ctx)
{
    return TALLY_HOST_OK;
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "shm",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "test plugin reusing the name shm",
    .options = dup_options,
    .init = dup_init,
    .stop = dup_stop,
    .source = {.collect = dup_collect});
/* clang-format on */
