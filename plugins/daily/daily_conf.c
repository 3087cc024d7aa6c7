/*
 * daily_conf.c — the daily collector's options, one row each, with their
 * checks.
 */
#include "daily.h"

static int check_keep_days(tally_host *h, const tally_host_api *api, cfg_t *section,
                           const char *name)
{
    long keep = cfg_getint(section, name);
    if (keep < 1 || keep > 100000) {
        api->config_error(h, section, "keep_days = %ld is out of range: give 1..100000", keep);
        return TALLY_HOST_ERR;
    }
    return TALLY_HOST_OK;
}

const tally_option daily_options[] = {
    {CFG_INT("keep_days", TALLY_KEEP_DAYS_DEFAULT, CFGF_NONE),
     "closed business days listed in days and user_days (older days still count in the "
     "summary), 1..100000",
     check_keep_days},
    TALLY_OPTION_END,
};
