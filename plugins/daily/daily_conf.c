/*
 * daily_conf.c — the daily collector's options and their check.
 */
#include "daily.h"

cfg_opt_t daily_options[] = {
    CFG_INT("keep_days", TALLY_KEEP_DAYS_DEFAULT, CFGF_NONE),
    CFG_END(),
};

const char *const daily_option_help[] = {
    "closed business days listed in days and user_days (older days still count in the "
    "summary), 1..100000",
    NULL,
};

int daily_check(tally_host *h, const tally_host_api *api, cfg_t *section)
{
    long keep = cfg_getint(section, "keep_days");
    if (keep < 1 || keep > 100000) {
        api->config_error(h, section, "keep_days = %ld is out of range: give 1..100000", keep);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}
