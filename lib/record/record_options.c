/*
 * record_options.c — see record_options.h.
 */
#include "record/record_options.h"

#define STREAM_NAMES "usage, candidates, users, api_keys"

int rec_option_stream(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *v = cfg_getstr(section, name);
    tally_stream stream;
    if (v == NULL) {
        api->config_error(h, section, "option '%s' is required; set it to one of " STREAM_NAMES,
                          name);
        return TALLY_HOST_ERR;
    }
    if (rec_stream_from_name(v, &stream) != 0) {
        api->config_error(h, section, "option '%s' = \"%s\" is unknown; use one of " STREAM_NAMES,
                          name, v);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

/* The entries are checked against the section's stream when it has a
 * valid one (its own row reports it otherwise), against every field if
 * not. */
static int columns(tally_host *h, const tally_host_api *api, cfg_t *section, const char *what)
{
    tally_stream stream;
    bool known = rec_stream_from_name(cfg_getstr(section, "stream"), &stream) == 0;
    return rec_columns_check(h, api, section, known ? &stream : NULL, what) > 0 ? TALLY_HOST_ERR
                                                                                : TALLY_HOST_OK;
}

int rec_option_columns_header(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name)
{
    return columns(h, api, section, "header");
}

int rec_option_columns_column(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name)
{
    return columns(h, api, section, "column");
}

int rec_option_columns_key(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name)
{
    return columns(h, api, section, "key");
}

int rec_time_format_from_name(const char *name, rec_time_format *out)
{
    static const struct {
        const char *name;
        rec_time_format format;
    } formats[] = {
        {"iso8601", REC_TIME_ISO8601},
        {"epoch_s", REC_TIME_EPOCH_S},
        {"epoch_ms", REC_TIME_EPOCH_MS},
    };
    for (size_t i = 0; name != NULL && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(name, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    return -1;
}

int rec_option_time_format(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name)
{
    const char *v = cfg_getstr(section, name);
    rec_time_format f;
    if (rec_time_format_from_name(v, &f) != 0) {
        api->config_error(h, section,
                          "option '%s' = \"%s\" is unknown; use iso8601, epoch_s or "
                          "epoch_ms",
                          name, v ? v : "");
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

int rec_option_naive_timezone(tally_host *h, const tally_host_api *api, cfg_t *section,
                              const char *name)
{
    const char *v = cfg_getstr(section, name);
    rec_naive_kind kind;
    int32_t offset;
    if (rec_naive_parse(v, &kind, &offset) != 0) {
        api->config_error(h, section,
                          "option '%s' = \"%s\" is unknown; use UTC, business (the agent's "
                          "timezone) or a fixed offset such as \"+08:00\"",
                          name, v ? v : "");
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}
