/*
 * sql_seen.c — see sql.h: the days and summary rows the target holds, as
 * a hash of each row's values per hash of its key, so that a row that did
 * not change is not sent again. Only for those two tables: they hold at
 * most keep_days rows and one. The user-days, which grow with the history
 * kept, are followed by the mark instead (sql_mark.c), at no memory per
 * row.
 *
 * A transaction's rows are noted as changes and enter the table only when
 * the commit worked, so a rolled-back export sends them again.
 */
#include "sql.h"

#include <stdlib.h>
#include <string.h>

static uint64_t *seen_slot(sql_seen *s, uint64_t key)
{
    size_t mask = s->cap - 1, i = (size_t)(key * 0x9E3779B97F4A7C15u >> 17) & mask;
    while (s->keys[i] != 0 && s->keys[i] != key)
        i = (i + 1) & mask;
    return &s->keys[i];
}

static uint64_t seen_get(sql_seen *s, uint64_t key)
{
    if (s->cap == 0)
        return 0;
    uint64_t *k = seen_slot(s, key);
    return *k == key ? s->values[k - s->keys] : 0;
}

static int seen_put(sql_seen *s, uint64_t key, uint64_t value)
{
    if (2 * (s->n + 1) > s->cap) {
        sql_seen grown = {.cap = s->cap ? s->cap * 2 : 1024};
        grown.keys = calloc(grown.cap, sizeof(uint64_t));
        grown.values = calloc(grown.cap, sizeof(uint64_t));
        if (grown.keys == NULL || grown.values == NULL) {
            free(grown.keys);
            free(grown.values);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i] != 0) {
                uint64_t *k = seen_slot(&grown, s->keys[i]);
                *k = s->keys[i];
                grown.values[k - grown.keys] = s->values[i];
                grown.n++;
            }
        free(s->keys);
        free(s->values);
        *s = grown;
    }
    uint64_t *k = seen_slot(s, key);
    if (*k == 0)
        s->n++;
    *k = key;
    s->values[k - s->keys] = value;
    return 0;
}

void sql_seen_begin(sql_ctx *c)
{
    c->n_changes = 0;
}

int sql_seen_changed(sql_ctx *c, sql_table_id t, uint64_t key, uint64_t value, bool *changed)
{
    *changed = seen_get(&c->seen[t], key) != value;
    if (!*changed)
        return 0;
    if (c->n_changes == c->cap_changes) {
        size_t cap = c->cap_changes ? c->cap_changes * 2 : 256;
        sql_change *grown = realloc(c->changes, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        c->changes = grown;
        c->cap_changes = cap;
    }
    c->changes[c->n_changes++] = (sql_change){t, key, value};
    return 0;
}

void sql_seen_commit(sql_ctx *c)
{
    for (size_t i = 0; i < c->n_changes; i++)
        if (seen_put(&c->seen[c->changes[i].table], c->changes[i].key, c->changes[i].value) != 0) {
            /* Forgetting only costs rewriting them next time. */
            sql_seen_reset(c);
            break;
        }
    c->n_changes = 0;
}

void sql_seen_reset(sql_ctx *c)
{
    for (int t = 0; t < SQL_N_TABLES; t++) {
        free(c->seen[t].keys);
        free(c->seen[t].values);
        memset(&c->seen[t], 0, sizeof(c->seen[t]));
    }
}

void sql_seen_free(sql_ctx *c)
{
    sql_seen_reset(c);
    free(c->changes);
    c->changes = NULL;
    c->n_changes = c->cap_changes = 0;
}
