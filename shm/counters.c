/*
 * counters.c — finding, registering, reading and zeroing counters.
 *
 * Registration never waits: a process takes a fresh id (a CAS on next_id),
 * writes the name into that id's record, and publishes it with one CAS of an
 * empty table tag. Two processes registering one name race on the same
 * first free tag; the loser sees the winner's complete record and uses it,
 * keeping its own id as a spare for its next registration. A process killed
 * before its CAS leaks at most that one id; after it, the name is complete.
 * Every read of shared bytes is bounds-checked, since a region is input.
 */
#include "layout.h"

#include <string.h>

static const uint8_t *record_of(const tally_region *r, uint32_t id)
{
    return r->names + (size_t)id * TALLY_SLOT_SIZE;
}

static int record_equals(const uint8_t *rec, const char *name, size_t len)
{
    return memcmp(rec, name, len) == 0 && (len == TALLY_NAME_MAX || rec[len] == '\0');
}

/* Probe for name; on a hit return its id, otherwise return the first empty
 * slot in *empty_slot (or UINT32_MAX if the table has none) and -1. */
static int64_t probe(tally_region *r, const char *name, size_t len, uint64_t hash, uint32_t start,
                     uint32_t *empty_slot)
{
    uint64_t want = TAG_VALID | TAG_HASH(hash);
    for (uint32_t i = 0; i <= r->table_mask; i++) {
        uint32_t slot = (start + i) & r->table_mask;
        uint64_t tag = atomic_load_explicit(&r->table[slot], memory_order_acquire);
        if (tag == 0) {
            *empty_slot = slot;
            return -1;
        }
        uint32_t id = TAG_ID(tag);
        if ((tag & ~0xffffffffull) == want && id < r->capacity &&
            record_equals(record_of(r, id), name, len))
            return id;
    }
    *empty_slot = UINT32_MAX;
    return -1;
}

static int64_t take_id(tally_region *r)
{
    int64_t spare = atomic_exchange_explicit(&r->spare, -1, memory_order_relaxed);
    if (spare >= 0)
        return spare;
    uint32_t next = atomic_load_explicit(&r->hdr->next_id, memory_order_relaxed);
    do {
        if (next >= r->capacity) {
            atomic_fetch_add_explicit(&r->hdr->overflow, 1, memory_order_relaxed);
            return TALLY_EFULL;
        }
    } while (!atomic_compare_exchange_weak_explicit(&r->hdr->next_id, &next, next + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    return next;
}

static void keep_spare(tally_region *r, int64_t id)
{
    int64_t none = -1;
    /* If a spare is already kept, this id is lost: a slot, never a count. */
    atomic_compare_exchange_strong_explicit(&r->spare, &none, id, memory_order_relaxed,
                                            memory_order_relaxed);
}

/* Find name (len bytes, already valid) or register it; return its id. */
static int64_t find_or_register(tally_region *r, const char *name, size_t len, int create)
{
    uint64_t hash = tally_name_hash(name, len);
    uint32_t slot = (uint32_t)hash & r->table_mask;
    int64_t mine = -1;
    for (;;) {
        uint32_t empty;
        int64_t id = probe(r, name, len, hash, slot, &empty);
        if (id >= 0) {
            if (mine >= 0)
                keep_spare(r, mine);
            return id;
        }
        if (!create)
            return TALLY_ENOCOUNTER;
        if (empty == UINT32_MAX) {
            if (mine >= 0)
                keep_spare(r, mine);
            atomic_fetch_add_explicit(&r->hdr->overflow, 1, memory_order_relaxed);
            return TALLY_EFULL;
        }
        if (mine < 0) {
            mine = take_id(r);
            if (mine < 0)
                return mine;
            uint8_t *rec = (uint8_t *)record_of(r, (uint32_t)mine);
            memset(rec, 0, TALLY_SLOT_SIZE);
            memcpy(rec, name, len);
        }
        uint64_t expected = 0;
        uint64_t tag = TAG_VALID | TAG_HASH(hash) | (uint64_t)mine;
        if (atomic_compare_exchange_strong_explicit(&r->table[empty], &expected, tag,
                                                    memory_order_release, memory_order_acquire))
            return mine;
        /* Someone published at that slot first: probe again from there. */
        slot = empty;
    }
}

int tally_counter_get(tally_region *r, const char *name, tally_counter **out)
{
    size_t len;
    if (r == NULL || out == NULL)
        return TALLY_EINVAL;
    int rc = tally_name_check(name, &len);
    if (rc != 0)
        return rc;
    int64_t id = find_or_register(r, name, len, 1);
    if (id < 0)
        return (int)id;
    *out = &r->handles[id];
    return 0;
}

int tally_counter_find(tally_region *r, const char *name, tally_counter **out)
{
    size_t len;
    if (r == NULL || out == NULL)
        return TALLY_EINVAL;
    int rc = tally_name_check(name, &len);
    if (rc != 0)
        return rc;
    int64_t id = find_or_register(r, name, len, 0);
    if (id < 0)
        return (int)id;
    *out = &r->handles[id];
    return 0;
}

int tally_add_name(tally_region *r, const char *name, int64_t n)
{
    if (r == NULL || name == NULL)
        return TALLY_EINVAL;
    size_t len = strnlen(name, TALLY_NAME_MAX + 1);
    if (len == 0 || len > TALLY_NAME_MAX)
        return TALLY_ENAME;
    /* A registered name is valid by construction: validate only to register. */
    int64_t id = find_or_register(r, name, len, 0);
    if (id == TALLY_ENOCOUNTER) {
        int rc = tally_name_check(name, &len);
        if (rc != 0)
            return rc;
        id = find_or_register(r, name, len, 1);
    }
    if (id < 0)
        return (int)id;
    tally_add(&r->handles[id], n);
    return 0;
}

static _Atomic int64_t *cell(const tally_counter *c, uint32_t stripe)
{
    return (_Atomic int64_t *)((char *)c->cell0 + ((size_t)stripe << c->stripe_shift));
}

int64_t tally_value(const tally_counter *c)
{
    /* Sum as unsigned: cells wrap modulo 2^64 like the atomic adds do. */
    uint64_t sum = 0;
    for (uint32_t s = 0; s <= c->cpu_mask; s++)
        sum += (uint64_t)atomic_load_explicit(cell(c, s), memory_order_relaxed);
    return (int64_t)sum;
}

int64_t tally_reset(tally_counter *c)
{
    /* Each cell is swapped for 0 on its own: an add lands either before its
     * cell's swap (taken here) or after it (kept), never in both or neither. */
    uint64_t sum = 0;
    for (uint32_t s = 0; s <= c->cpu_mask; s++)
        sum += (uint64_t)atomic_exchange_explicit(cell(c, s), 0, memory_order_relaxed);
    return (int64_t)sum;
}

int tally_foreach(tally_region *r, const char *prefix,
                  int (*fn)(const char *name, int64_t value, void *arg), void *arg)
{
    if (r == NULL || fn == NULL)
        return TALLY_EINVAL;
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    char name[TALLY_NAME_MAX + 1];
    for (uint32_t i = 0; i <= r->table_mask; i++) {
        uint64_t tag = atomic_load_explicit(&r->table[i], memory_order_acquire);
        uint32_t id = TAG_ID(tag);
        if (!(tag & TAG_VALID) || id >= r->capacity)
            continue;
        const uint8_t *rec = record_of(r, id);
        if (plen > 0 && (plen > TALLY_NAME_MAX || memcmp(rec, prefix, plen) != 0))
            continue;
        memcpy(name, rec, TALLY_NAME_MAX);
        name[TALLY_NAME_MAX] = '\0';
        int rc = fn(name, tally_value(&r->handles[id]), arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}
