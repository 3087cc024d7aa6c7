/*
 * abi_mismatch.c — a test plugin built against a future plugin ABI (999):
 * the agent must refuse it, naming both versions and the file.
 */
#include "tally/plugin.h"

static const tally_option abi_options[] = {
    {CFG_STR("anything", NULL, CFGF_NONE), "a test option", NULL},
    TALLY_OPTION_END,
};

static int abi_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    *ctx = NULL;
    return TALLY_HOST_OK;
}

static void abi_stop(void *ctx)
{
}

/* Written out, not with TALLY_PLUGIN_DEFINE, to claim another version. */
__attribute__((visibility("default"))) const tally_plugin tally_plugin_descriptor = {
    .abi_version = 999,
    .struct_size = sizeof(tally_plugin),
    .build = TALLY_PLUGIN_BUILD_INFO,
    .name = "abi_mismatch",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "test plugin with a wrong ABI version",
    .options = abi_options,
    .init = abi_init,
    .stop = abi_stop,
};
