/*
 * snapshot.c — a region's counters, copied out and sorted by name.
 *
 * tally_foreach walks the hash table, so its order is the hash order; people
 * and diffs want names sorted, and watch needs a sorted list to pair each
 * counter with its previous value by binary search.
 */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int snapshot_grow(struct snapshot *s)
{
    size_t cap = s->cap > 0 ? s->cap * 2 : 64;
    struct tool_counter *v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

static int snapshot_add(const char *name, int64_t value, void *arg)
{
    struct snapshot *s = arg;
    if (s->n == s->cap) {
        int rc = snapshot_grow(s);
        if (rc != 0)
            return rc;
    }
    struct tool_counter *c = &s->v[s->n++];
    size_t len = strnlen(name, TALLY_NAME_MAX);
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->value = value;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct tool_counter *)a)->name, ((const struct tool_counter *)b)->name);
}

int snapshot_take(struct snapshot *s, tally_region *r, const char *prefix)
{
    s->n = 0;
    int rc = tally_foreach_checked(r, prefix, snapshot_add, s, &s->skipped);
    if (rc != 0)
        return rc;
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), by_name);
    return 0;
}

/* Records with hostile names are left out rather than printed: raw bytes
 * would reach the terminal (escape sequences) or break JSON for the whole
 * region; saying how many keeps the omission from going unnoticed. */
void snapshot_warn_skipped(const struct snapshot *s, const char *region_name)
{
    if (s->skipped == 0)
        return;
    fprintf(stderr,
            "tally: region '%s': %" PRIu32 " counter record(s) not shown: their names are not "
            "valid, or repeat another's, so libtally did not write them; something with write "
            "access to the region did (check its owner and mode)\n",
            region_name, s->skipped);
}

void snapshot_free(struct snapshot *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
    s->skipped = 0;
}

const struct tool_counter *snapshot_find(const struct snapshot *s, const char *name)
{
    struct tool_counter key;
    size_t len = strnlen(name, TALLY_NAME_MAX);
    memcpy(key.name, name, len);
    key.name[len] = '\0';
    if (s->n == 0)
        return NULL;
    return bsearch(&key, s->v, s->n, sizeof(*s->v), by_name);
}
