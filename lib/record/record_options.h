/*
 * record_options.h — the options every record source shares, each one row
 * (libconfuse definition, help, check) to put in the source's
 * tally_option table as it is: stream, columns, time_format,
 * naive_timezone and allow_negative. Written once here, so the csv, jsonl and odbc sources
 * say and check the same thing the same way.
 */
#ifndef TALLY_LIB_RECORD_OPTIONS_H
#define TALLY_LIB_RECORD_OPTIONS_H

#include "record/record.h"
#include "tally/plugin.h"

#define REC_OPTION_STREAM                                                                          \
    {                                                                                              \
        CFG_STR("stream", NULL, CFGF_NONE),                                                        \
            "what the rows are (required): usage, candidates, users or api_keys",                  \
            rec_option_stream                                                                      \
    }

/* columns renames fields; what they are renamed to is called WHAT (a bare
 * word: header, column or key) in the help and the messages. */
#define REC_OPTION_COLUMNS(WHAT)                                                                   \
    {                                                                                              \
        CFG_STR_LIST("columns", "{}", CFGF_NONE),                                                  \
            #WHAT " names that differ from the field names, as \"field=" #WHAT "\", e.g. "         \
                  "{\"created_at=ts\", \"user_id=uid\"}",                                          \
            rec_option_columns_##WHAT                                                              \
    }

#define REC_OPTION_TIME_FORMAT                                                                     \
    {                                                                                              \
        CFG_STR("time_format", "iso8601", CFGF_NONE),                                              \
            "how created_at is written: iso8601, epoch_s or epoch_ms", rec_option_time_format      \
    }

#define REC_OPTION_NAIVE_TIMEZONE                                                                  \
    {                                                                                              \
        CFG_STR("naive_timezone", "UTC", CFGF_NONE),                                               \
            "the zone of times written without one (ISO 8601 text without an offset, a TIMESTAMP " \
            "WITHOUT TIME ZONE): UTC, a fixed offset such as \"+08:00\", or business (the "        \
            "agent's "                                                                             \
            "timezone)",                                                                           \
            rec_option_naive_timezone                                                              \
    }

#define REC_OPTION_ALLOW_NEGATIVE                                                                  \
    {                                                                                              \
        CFG_BOOL("allow_negative", cfg_false, CFGF_NONE),                                          \
            "read negative token counts and costs (refunds, corrections); when false, the "        \
            "default, a row with one is set aside as bad",                                         \
            NULL                                                                                   \
    }

/* The rows' checks (tally_option_check): each problem goes to
 * api->config_error naming the option. columns reads the section's
 * stream, if it has a valid one, to know the fields. */
int rec_option_stream(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name);
int rec_option_columns_header(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name);
int rec_option_columns_column(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name);
int rec_option_columns_key(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name);
int rec_option_time_format(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name);
int rec_option_naive_timezone(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name);

/* A checked time_format's value ("iso8601", "epoch_s", "epoch_ms"): 0 and
 * *out, or -1. */
int rec_time_format_from_name(const char *name, rec_time_format *out);

#endif
