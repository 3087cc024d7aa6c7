/*
 * tail_options.h — the options of every source that follows files, each
 * one row (libconfuse definition, help, check) to put in the source's
 * tally_option table as it is: path and reject_file. Written once here, so
 * the csv and jsonl sources say and check them the same way.
 */
#ifndef TALLY_LIB_TAIL_OPTIONS_H
#define TALLY_LIB_TAIL_OPTIONS_H

#include "tally/plugin.h"

/* EXAMPLE: a glob the help shows, e.g. "/var/log/gateway/usage*.csv". */
#define TAIL_OPTION_PATH(EXAMPLE)                                                                  \
    {                                                                                              \
        CFG_STR("path", NULL, CFGF_NONE),                                                          \
            "files to read (required): a glob(3) pattern such as \"" EXAMPLE                       \
            "\"; matching files are "                                                              \
            "read oldest first, new ones picked up every cycle, rotated and .gz files followed",   \
            tail_option_path                                                                       \
    }

/* EXT: the reject file's extension, e.g. "csv". */
#define TAIL_OPTION_REJECT_FILE(EXT)                                                               \
    {                                                                                              \
        CFG_STR("reject_file", NULL, CFGF_NONE),                                                   \
            "where rows that cannot be read are set aside, as they were read (when not set: "      \
            "<state_dir>/rejects/<title>." EXT ")",                                                \
            tail_option_reject_file                                                                \
    }

/* The rows' checks (tally_option_check): each problem goes to
 * api->config_error naming the option. */
int tail_option_path(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name);
int tail_option_reject_file(tally_host *h, const tally_host_api *api, cfg_t *section,
                            const char *name);

#endif
