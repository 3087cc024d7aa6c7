/*
 * block.c — a test exporter that hangs: each export appends "start" to
 * the file named by `record`, then waits until the file named by `release`
 * exists (polling every 50 ms, at most 120 s), so a test can hold it inside
 * export for as long as it likes and still let it go. Used to prove that a
 * stuck exporter delays neither collection nor the other exporters, and
 * that shutdown abandons it after the grace period.
 */
#include "tally/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 50000000L
#define MAX_POLLS (120 * 20)

typedef struct block_ctx {
    char *record, *release;
} block_ctx;

static const tally_option block_options[] = {
    {CFG_STR("record", NULL, CFGF_NONE),
     "file that gets a line \"start\" at the start of every export", NULL},
    {CFG_STR("release", NULL, CFGF_NONE), "export returns once this file exists (at most 120 s)",
     NULL},
    TALLY_OPTION_END,
};

static int block_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    if (cfg_getstr(section, "record") == NULL || cfg_getstr(section, "release") == NULL) {
        api->config_error(h, section, "record and release are required");
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

static int block_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    block_ctx *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return TALLY_HOST_ERR;
    b->record = strdup(cfg_getstr(section, "record"));
    b->release = strdup(cfg_getstr(section, "release"));
    *ctx = b;
    return b->record && b->release ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int block_export(void *ctx, const tally_snapshot *snap)
{
    block_ctx *b = ctx;
    FILE *f = fopen(b->record, "a");
    if (f != NULL) {
        fprintf(f, "start\n");
        fclose(f);
    }
    const struct timespec poll = {0, POLL_NS};
    for (int i = 0; i < MAX_POLLS && access(b->release, F_OK) != 0; i++)
        nanosleep(&poll, NULL);
    return TALLY_HOST_OK;
}

static void block_stop(void *ctx)
{
    block_ctx *b = ctx;
    if (b == NULL)
        return;
    free(b->record);
    free(b->release);
    free(b);
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "block",
    .kind = TALLY_PLUGIN_EXPORTER,
    .summary = "test exporter that blocks in export until released",
    .options = block_options,
    .check = block_check,
    .init = block_init,
    .stop = block_stop,
    .exporter = {
        .export_snapshot = block_export,
    });
/* clang-format on */
