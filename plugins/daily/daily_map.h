/*
 * daily_map.h — an open-addressing hash map from byte-string keys to
 * fixed-size values, for the collector's pending aggregates (per user-day,
 * distinct values, candidates per request). Keys are copied into one
 * growing arena, so an insert costs no allocation of its own; the whole
 * map is emptied at once after a flush.
 */
#ifndef TALLY_DAILY_MAP_H
#define TALLY_DAILY_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct daily_map {
    size_t value_size;
    uint32_t *table; /* entry index + 1, 0 = empty */
    size_t table_mask;
    uint64_t *hashes;
    uint32_t *key_off, *key_len;
    unsigned char *values;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
} daily_map;

uint64_t daily_hash(const void *key, size_t len);

void daily_map_init(daily_map *m, size_t value_size);
void daily_map_free(daily_map *m);
void daily_map_clear(daily_map *m);
/* The value under key (len bytes, hash = daily_hash(key, len)); a new key
 * gets a zeroed value. *value stays valid until the next upsert. 0, or -1
 * when memory runs out. */
int daily_map_upsert(daily_map *m, const void *key, size_t len, uint64_t hash, void **value);

static inline size_t daily_map_count(const daily_map *m)
{
    return m->n;
}
static inline const char *daily_map_key(const daily_map *m, size_t i, size_t *len)
{
    *len = m->key_len[i];
    return m->arena + m->key_off[i];
}
static inline void *daily_map_value(const daily_map *m, size_t i)
{
    return m->values + i * m->value_size;
}

#endif
