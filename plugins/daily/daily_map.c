/*
 * daily_map.c — see daily_map.h.
 */
#include "daily_map.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Eight bytes at a time with one multiply each, and one full mix at the
 * end: keys are user ids and request ids (UUIDs), hashed once per row. */
uint64_t daily_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)len * 0xff51afd7ed558ccdULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = ((h ^ w) * 0x9fb21c651e98df25ULL);
        h ^= h >> 31;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return mix(h ^ w);
}

void daily_map_init(daily_map *m, size_t value_size)
{
    memset(m, 0, sizeof(*m));
    /* A set has no values, but realloc(p, 0) would free p. */
    m->value_size = value_size ? value_size : 1;
}

void daily_map_free(daily_map *m)
{
    free(m->table);
    free(m->hashes);
    free(m->key_off);
    free(m->key_len);
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
    uint64_t *h = realloc(m->hashes, cap * sizeof(*h));
    if (h == NULL)
        return -1;
    m->hashes = h;
    uint32_t *o = realloc(m->key_off, cap * sizeof(*o));
    if (o == NULL)
        return -1;
    m->key_off = o;
    uint32_t *l = realloc(m->key_len, cap * sizeof(*l));
    if (l == NULL)
        return -1;
    m->key_len = l;
    unsigned char *v = realloc(m->values, cap * m->value_size);
    if (v == NULL)
        return -1;
    m->values = v;
    m->cap = cap;
    return 0;
}

/* Keep the table at most half full, so probes stay short. */
static int grow_table(daily_map *m)
{
    size_t size = m->table ? (m->table_mask + 1) * 2 : 512;
    uint32_t *t = calloc(size, sizeof(*t));
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->hashes[i] & (size - 1);
        while (t[j] != 0)
            j = (j + 1) & (size - 1);
        t[j] = (uint32_t)(i + 1);
    }
    free(m->table);
    m->table = t;
    m->table_mask = size - 1;
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
    size_t j = hash & m->table_mask;
    for (;;) {
        uint32_t e = m->table[j];
        if (e == 0)
            break;
        size_t i = e - 1;
        if (m->hashes[i] == hash && m->key_len[i] == len &&
            memcmp(m->arena + m->key_off[i], key, len) == 0) {
            *value = m->values + i * m->value_size;
            return 0;
        }
        j = (j + 1) & m->table_mask;
    }
    if (m->n == m->cap && grow_entries(m) != 0)
        return -1;
    if (m->n >= UINT32_MAX - 1)
        return -1;
    size_t i = m->n;
    if (arena_put(m, key, len, &m->key_off[i]) != 0)
        return -1;
    m->hashes[i] = hash;
    m->key_len[i] = (uint32_t)len;
    memset(m->values + i * m->value_size, 0, m->value_size);
    m->table[j] = (uint32_t)(i + 1);
    m->n++;
    *value = m->values + i * m->value_size;
    return 0;
}
