/*
 * rows.c — the rows of one list table, one at a time, for the renderers:
 * from the snapshot's arrays, or for the two long lists (user_days and
 * counter_days) from the host's history when the options name a host, a
 * page at a time, so a rendering holds one page however long the list.
 */
#include "format.h"
#include "format_priv.h"

#include <string.h>

int tf_rows_open(tf_rows *r, const tally_snapshot *s, const tally_format_opts *o, tf_table_id t)
{
    memset(r, 0, sizeof(*r));
    r->table = t;
    switch (t) {
    case TF_DAYS:
        r->arr = s->days;
        r->n = s->n_days;
        r->stride = sizeof(*s->days);
        return 0;
    case TF_COUNTERS:
        r->arr = s->counters;
        r->n = s->n_counters;
        r->stride = sizeof(*s->counters);
        return 0;
    case TF_USER_DAYS:
        r->arr = s->user_days;
        r->n = s->n_user_days;
        r->stride = sizeof(*s->user_days);
        break;
    case TF_COUNTER_DAYS:
        r->arr = s->counter_days;
        r->n = s->n_counter_days;
        r->stride = sizeof(*s->counter_days);
        break;
    default:
        return -1; /* the one-row tables are read from the snapshot itself */
    }
    if (o == NULL || o->host == NULL || o->api == NULL)
        return 0;
    if (!TALLY_API_HAS(o->api, history_open))
        return -1;
    tally_history_query q;
    memset(&q, 0, sizeof(q));
    q.struct_size = sizeof(q);
    q.table = t == TF_USER_DAYS ? TALLY_HISTORY_USER_DAYS : TALLY_HISTORY_COUNTER_DAYS;
    q.changed_after = o->changed_after;
    r->api = o->api;
    r->arr = NULL;
    r->n = 0;
    /* o is always render_into's tf_opts (format.c). */
    const tf_opts *all = (const tf_opts *)(const void *)o;
    if (o->api->history_open(o->host, all->handed, &q, &r->it) != TALLY_HOST_OK) {
        r->it = NULL;
        return -1;
    }
    return 0;
}

const void *tf_rows_next(tf_rows *r)
{
    if (r->i >= r->n && r->it != NULL && !r->ended) {
        tally_history_page page;
        if (r->api->history_next(r->it, &page) != TALLY_HOST_OK) {
            r->failed = 1;
            return NULL;
        }
        r->i = 0;
        if (r->table == TF_USER_DAYS) {
            r->arr = page.user_days;
            r->n = page.n_user_days;
            r->stride = sizeof(*page.user_days);
        } else {
            r->arr = page.counter_days;
            r->n = page.n_counter_days;
            r->stride = sizeof(*page.counter_days);
        }
        r->ended = r->n == 0;
    }
    if (r->i >= r->n)
        return NULL;
    return (const char *)r->arr + r->stride * r->i++;
}

void tf_rows_close(tf_rows *r)
{
    if (r->it != NULL)
        r->api->history_close(r->it);
    r->it = NULL;
}
