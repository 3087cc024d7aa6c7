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
#include <string.h>

typedef struct daily_map_entry {
    uint64_t hash;
    uint32_t key_off, key_len;
} daily_map_entry;

typedef struct daily_map {
    size_t value_size;
    /* Per slot: the hash's upper half above the entry index + 1, 0 = empty,
     * so a probe rejects another key without touching its entry. */
    uint64_t *table;
    size_t table_mask;
    daily_map_entry *ents;
    /* Once the table outgrows the caches: the entry each hash last led to,
     * by the hash's low bits, in the same form as a table slot. */
    uint64_t *recent;
    unsigned char *values;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
} daily_map;

static inline uint64_t daily_hash(const void *key, size_t len);

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
    *len = m->ents[i].key_len;
    return m->arena + m->ents[i].key_off;
}
static inline void *daily_map_value(const daily_map *m, size_t i)
{
    return m->values + i * m->value_size;
}

static inline uint64_t daily_load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t daily_hash_round(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9fb21c651e98df25ULL;
    return h ^ (h >> 31);
}

/* The hash of a key, for daily_map_upsert: inline, as each row hashes two
 * keys. Two lanes of 8 bytes with one multiply each, so a 41-byte user-day
 * key is three dependent rounds, not six; a key of 8 bytes or more ends
 * with its last 8 (or 16) bytes, overlapping the words before, so there is
 * no byte-wise tail, and the length is mixed in first, so keys that differ
 * only in length still differ. Hashes live only in memory, never in the
 * state, so they may change between versions. */
static inline uint64_t daily_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)len * 0xff51afd7ed558ccdULL);
    uint64_t b = 0xc2b2ae3d27d4eb4fULL;
    if (len >= 16) {
        const unsigned char *last = p + len - 16;
        for (; p < last; p += 16) {
            a = daily_hash_round(a, daily_load8(p));
            b = daily_hash_round(b, daily_load8(p + 8));
        }
        a = daily_hash_round(a, daily_load8(last));
        b = daily_hash_round(b, daily_load8(last + 8));
    } else if (len >= 8) {
        a = daily_hash_round(a, daily_load8(p));
        b = daily_hash_round(b, daily_load8(p + len - 8));
    } else {
        uint64_t w = 0;
        for (size_t i = 0; i < len; i++)
            w |= (uint64_t)p[i] << (8 * i);
        a = daily_hash_round(a, w);
    }
    /* Fold the lanes and finish with a full 64-bit mix. */
    uint64_t h = a ^ ((b << 29) | (b >> 35));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

#endif
