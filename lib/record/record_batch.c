/*
 * record_batch.c — records waiting to be emitted, and the arena their
 * source-owned strings are copied to (record.h).
 */
#include "record/record.h"

#include <stdlib.h>
#include <string.h>

int rec_batch_init(rec_batch *b, size_t cap, size_t arena_cap, tally_host *host,
                   const tally_host_api *api)
{
    memset(b, 0, sizeof(*b));
    b->recs = calloc(cap, sizeof(*b->recs));
    b->arena = malloc(arena_cap);
    if (b->recs == NULL || b->arena == NULL) {
        rec_batch_free(b);
        return -1;
    }
    b->cap = cap;
    b->arena_cap = arena_cap;
    b->host = host;
    b->api = api;
    return 0;
}

void rec_batch_free(rec_batch *b)
{
    free(b->recs);
    free(b->arena);
    b->recs = NULL;
    b->arena = NULL;
}

int rec_batch_flush(rec_batch *b)
{
    if (b->n == 0)
        return 0;
    int rc = b->api->emit_records(b->host, b->recs, b->n);
    b->emitted += b->n;
    b->n = 0;
    b->used = 0;
    return rc == TALLY_HOST_OK ? 0 : TALLY_HOST_ERR;
}

void rec_batch_commit(rec_batch *b)
{
    b->n++;
}

