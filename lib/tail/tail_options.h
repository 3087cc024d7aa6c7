/*
 * tail_options.h — the options of every source that follows files, each
 * one row (libconfuse definition, help, check) to put in the source's
 * tally_option table as it is: path, reject_file and reject_max_bytes.
 * Written once here, so
 * the csv and jsonl sources say and check them the same way. And what
 * those rows and lib/record's shared rows say, built from a checked
 * section (tail_conf), so that the sources keep only their own options.
 */
#ifndef TALLY_LIB_TAIL_OPTIONS_H
#define TALLY_LIB_TAIL_OPTIONS_H

#include "tail/tail.h"
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

/* The reject file's default size limit. */
#define TAIL_REJECT_MAX_BYTES_DEFAULT (64 * 1024 * 1024)

#define TAIL_OPTION_REJECT_MAX_BYTES                                                               \
    {                                                                                              \
        CFG_INT("reject_max_bytes", TAIL_REJECT_MAX_BYTES_DEFAULT, CFGF_NONE),                     \
            "the reject file's size limit in bytes (default 64 MiB; 0 keeps no rows): rows "       \
            "beyond it are counted as rejected but not written, and a warning says so once a "     \
            "cycle",                                                                               \
            tail_option_reject_max_bytes                                                           \
    }

/* The rows' checks (tally_option_check): each problem goes to
 * api->config_error naming the option. */
int tail_option_path(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name);
int tail_option_reject_file(tally_host *h, const tally_host_api *api, cfg_t *section,
                            const char *name);
int tail_option_reject_max_bytes(tally_host *h, const tally_host_api *api, cfg_t *section,
                                 const char *name);

/* The shared rows of a file source, from a checked section: path,
 * reject_file and lib/record's stream, columns, time_format and
 * naive_timezone. */
typedef struct tail_conf {
    char *title;   /* the section's title, '/' made '_': it names the default reject file */
    char *pattern; /* path: the glob */
    tally_stream stream;
    char *names[REC_FIELD_COUNT]; /* columns: the name per field; NULL: the field's own */
    rec_time_format time_format;
    rec_naive_kind naive;
    int32_t naive_offset_s;
    bool allow_negative;
    char *reject_path; /* NULL: <state_dir>/rejects/<title>.csv */
    uint64_t reject_max_bytes;
} tail_conf;

/* Build *out from a section the host has checked; an untitled section is
 * called untitled. 0, or -1 when out of memory (*out then holds nothing). */
int tail_conf_build(cfg_t *section, const char *untitled, tail_conf *out);
void tail_conf_free(tail_conf *c);

/* The row converter and the tail_options an instance starts with;
 * row_limit and batch are the format's. */
void tail_conf_apply(const tail_conf *c, tally_host *h, const tally_host_api *api, size_t row_limit,
                     size_t batch, rec_conv *conv, tail_options *o);

#endif
