/*
 * tail_options.c — see tail_options.h.
 */
#include "tail/tail_options.h"

#include <string.h>

int tail_option_path(tally_host *h, const tally_host_api *api, cfg_t *section, const char *name)
{
    const char *v = cfg_getstr(section, name);
    if (v == NULL || v[0] == '\0') {
        api->config_error(h, section,
                          "option '%s' is required; set it to the files to read, a glob(3) "
                          "pattern such as %s = \"/var/log/gateway/usage*\"",
                          name, name);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

int tail_option_reject_file(tally_host *h, const tally_host_api *api, cfg_t *section,
                            const char *name)
{
    const char *v = cfg_getstr(section, name);
    if (v != NULL && (v[0] != '/' || v[strlen(v) - 1] == '/')) {
        api->config_error(h, section,
                          "option '%s' = \"%s\" must be an absolute path to a file, e.g. "
                          "\"/var/lib/tally/rejects/usage.csv\"",
                          name, v);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}
