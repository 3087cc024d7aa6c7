/*
 * file_history.c — the history exporters/format reads while it writes a
 * file, through an API table of the exporter's own: a day file is the
 * rows of one date, yet tally_format_opts names no dates (format reads
 * every listed one), so this table's history_open narrows the query to
 * the date range it was made with. It also names the snapshot
 * export_snapshot was given rather than the copy format renders (the
 * host would find that copy by its cycle and state too, after a search).
 *
 * Format is handed this table as its api and the file_history itself as
 * its host, which history_open turns back into the real host. The pages,
 * history_next and history_close are the host's own.
 */
#include "file.h"

#include <stdio.h>
#include <string.h>

static int history_open(tally_host *h, const tally_snapshot *snap, const tally_history_query *q,
                        tally_history **out)
{
    (void)snap; /* a copy, maybe: the one handed over is r->snap */
    /* h is the file_history that file_history_init made the host of its table. */
    const file_history *r = (const file_history *)(const void *)h;
    tally_history_query narrowed = *q;
    if (r->from_date[0] != '\0' || r->to_date[0] != '\0') {
        memcpy(narrowed.from_date, r->from_date, TALLY_DATE_LEN);
        memcpy(narrowed.to_date, r->to_date, TALLY_DATE_LEN);
    }
    return r->host_api->history_open(r->host, r->snap, &narrowed, out);
}

void file_history_init(file_history *r, const file_ctx *ctx, const tally_snapshot *snap,
                       const char *from_date, const char *to_date)
{
    memset(r, 0, sizeof(*r));
    /* The host's table as far as both builds know it. */
    const tally_host_api *api = ctx->api;
    size_t n = api->struct_size < sizeof(r->api) ? api->struct_size : sizeof(r->api);
    memcpy(&r->api, api, n);
    r->api.struct_size = n;
    r->api.history_open = history_open;
    r->host_api = api;
    r->host = ctx->host;
    r->snap = snap;
    snprintf(r->from_date, TALLY_DATE_LEN, "%s", from_date);
    snprintf(r->to_date, TALLY_DATE_LEN, "%s", to_date);
}

tally_host *file_history_host(file_history *r)
{
    return (tally_host *)(void *)r;
}
