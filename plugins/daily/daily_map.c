/*
 * daily_map.c — see daily_map.h.
 *
 * Every usage row costs two lookups here (its user-day and its model and
 * provider), so a lookup is kept to one table load in the common case:
 * the table slot holds half of the key's hash next to the entry index, and
 * only a matching half leads to the entry and a key comparison, which is
 * done 8 bytes at a time inline rather than through memcmp, as keys are a
 * few dozen bytes.
 *
 * A big map (user-days over a month of rows) has a table far larger than
 * the CPU's caches, and a probe there is a cache miss per row. But rows
 * come roughly in time order, so the keys in use at any moment are few
 * (one day's users): a small direct-mapped array of the entries recently
 * found, in front of the table, holds them. A hit there is checked against
 * the entry's key like any other, so a stale or colliding slot costs only
 * a miss, and the table stays the one place that decides.
 */
#include "daily_map.h"

#include <stdbool.h>
#include <stdlib.h>

/* a[0..len) == b[0..len), for keys of equal length. */
static inline bool key_eq(const unsigned char *a, const unsigned char *b, size_t len)
{
    if (len < 8)
        return memcmp(a, b, len) == 0;
    for (size_t i = 0; i + 8 < len; i += 8)
        if (daily_load8(a + i) != daily_load8(b + i))
            return false;
    return daily_load8(a + len - 8) == daily_load8(b + len - 8);
}

void daily_map_init(daily_map *m, size_t value_size)
{
    memset(m, 0, sizeof(*m));
    /* A set has no values, but realloc(p, 0) would free p. */
    m->value_size = value_size ? value_size : 1;
}

/* 4096 slots of 8 bytes: small enough to stay cached, large enough for a
 * day's users with few collisions. Used once the table has more slots. */
#define RECENT_SLOTS 4096
#define RECENT_FROM 8192

void daily_map_free(daily_map *m)
{
    free(m->table);
    free(m->recent);
    free(m->ents);
    free(m->values);
    free(m->arena);
    daily_map_init(m, m->value_size);
}

void daily_map_clear(daily_map *m)
{
    if (m->table != NULL)
        memset(m->table, 0, (m->table_mask + 1) * sizeof(*m->table));
    m->n = 0;
    m->arena_len = 0;
}

static int grow_entries(daily_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    daily_map_entry *e = realloc(m->ents, cap * sizeof(*e));
    if (e == NULL)
        return -1;
    m->ents = e;
    unsigned char *v = realloc(m->values, cap * m->value_size);
    if (v == NULL)
        return -1;
    m->values = v;
    m->cap = cap;
    return 0;
}

static inline uint64_t slot_word(uint64_t hash, size_t i)
{
    return (hash & ~UINT64_C(0xffffffff)) | (uint64_t)(i + 1);
}

/* Keep the table at most half full, so probes stay short. */
static int grow_table(daily_map *m)
{
    size_t size = m->table ? (m->table_mask + 1) * 2 : 512;
    uint64_t *t = calloc(size, sizeof(*t));
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->ents[i].hash & (size - 1);
        while (t[j] != 0)
            j = (j + 1) & (size - 1);
        t[j] = slot_word(m->ents[i].hash, i);
    }
    free(m->table);
    m->table = t;
    m->table_mask = size - 1;
    if (m->recent == NULL && size >= RECENT_FROM)
        m->recent = calloc(RECENT_SLOTS, sizeof(*m->recent)); /* NULL: go without */
    return 0;
}

static int arena_put(daily_map *m, const void *key, size_t len, uint32_t *off)
{
    if (len > UINT32_MAX || m->arena_len + len > UINT32_MAX)
        return -1;
    if (m->arena_len + len > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (cap < m->arena_len + len)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (a == NULL)
            return -1;
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, key, len);
    *off = (uint32_t)m->arena_len;
    m->arena_len += len;
    return 0;
}

int daily_map_upsert(daily_map *m, const void *key, size_t len, uint64_t hash, void **value)
{
    if (m->table == NULL || (m->n + 1) * 2 > m->table_mask + 1) {
        if (grow_table(m) != 0)
            return -1;
    }
    const uint64_t tag = hash & ~UINT64_C(0xffffffff);
    uint64_t *recent = m->recent ? &m->recent[hash & (RECENT_SLOTS - 1)] : NULL;
    if (recent != NULL && (*recent & ~UINT64_C(0xffffffff)) == tag) {
        size_t i = (uint32_t)*recent - 1;
        if (i < m->n) {
            const daily_map_entry *en = &m->ents[i];
            if (en->hash == hash && en->key_len == len &&
                key_eq((const unsigned char *)m->arena + en->key_off, key, len)) {
                *value = m->values + i * m->value_size;
                return 0;
            }
        }
    }
    size_t j = hash & m->table_mask;
    for (;;) {
        uint64_t e = m->table[j];
        if (e == 0)
            break;
        if ((e & ~UINT64_C(0xffffffff)) == tag) {
            size_t i = (uint32_t)e - 1;
            const daily_map_entry *en = &m->ents[i];
            if (en->key_len == len &&
                key_eq((const unsigned char *)m->arena + en->key_off, key, len)) {
                if (recent != NULL)
                    *recent = e;
                *value = m->values + i * m->value_size;
                return 0;
            }
        }
        j = (j + 1) & m->table_mask;
    }
    if (m->n == m->cap && grow_entries(m) != 0)
        return -1;
    if (m->n >= UINT32_MAX - 1)
        return -1;
    size_t i = m->n;
    if (arena_put(m, key, len, &m->ents[i].key_off) != 0)
        return -1;
    m->ents[i].hash = hash;
    m->ents[i].key_len = (uint32_t)len;
    memset(m->values + i * m->value_size, 0, m->value_size);
    m->table[j] = slot_word(hash, i);
    if (recent != NULL)
        *recent = m->table[j];
    m->n++;
    *value = m->values + i * m->value_size;
    return 0;
}
