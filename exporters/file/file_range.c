/*
 * file_range.c — the host's history narrowed to a range of dates, for
 * exporters/format: a day file is the user-days and daily counter totals
 * of one date, yet tally_format_opts names no dates (format reads every
 * listed date). So format is handed a copy of the host's API table whose
 * history_open adds the range to the query before it calls the host's,
 * and, as its host, this range, which that history_open turns back into
 * the real host. The pages, and history_next and history_close, are the
 * host's own; format cannot tell the difference.
 */
#include "file.h"

#include <stdio.h>
#include <string.h>

static int range_history_open(tally_host *h, const tally_snapshot *snap,
                              const tally_history_query *q, tally_history **out)
{
    /* h is the file_range that file_range_init made the host of its table. */
    const file_range *r = (const file_range *)(const void *)h;
    tally_history_query narrowed = *q;
    memcpy(narrowed.from_date, r->from_date, TALLY_DATE_LEN);
    memcpy(narrowed.to_date, r->to_date, TALLY_DATE_LEN);
    return r->host_api->history_open(r->host, snap, &narrowed, out);
}

void file_range_init(file_range *r, tally_host *host, const tally_host_api *api,
                     const char *from_date, const char *to_date)
{
    memset(r, 0, sizeof(*r));
    /* The host's table as far as both builds know it. */
    size_t n = api->struct_size < sizeof(r->api) ? api->struct_size : sizeof(r->api);
    memcpy(&r->api, api, n);
    r->api.struct_size = n;
    r->api.history_open = range_history_open;
    r->host_api = api;
    r->host = host;
    snprintf(r->from_date, TALLY_DATE_LEN, "%s", from_date);
    snprintf(r->to_date, TALLY_DATE_LEN, "%s", to_date);
}

tally_host *file_range_host(file_range *r)
{
    return (tally_host *)(void *)r;
}
