/*
 * layout.h — the on-disk/in-memory layout of a tally region (private).
 *
 *   [header page][hash table: table_slots x u64 tags][names: capacity x 64 B]
 *   [values: stripes x (1 << stripe_shift) bytes, one int64 cell per counter]
 *
 * Values sit apart from names, and each CPU owns one stripe of cells, so a
 * hot counter bumped on two cores touches two different cache lines.
 * A name is published by ONE compare-and-swap of its table tag after its
 * record is fully written: there is no half-registered state another process
 * could wait on, so a process killed anywhere leaves the region usable.
 */
#ifndef TALLY_LAYOUT_H
#define TALLY_LAYOUT_H

#include "tally.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define TALLY_MAGIC "TALLYRGN"
#define TALLY_LAYOUT_VERSION 1u
#define TALLY_HEADER_SIZE 4096u
#define TALLY_SLOT_SIZE 64u /* one name record: the name, NUL padded */
#define TALLY_MAX_STRIPES 256u

/* Fields before `checksum` never change after creation and are covered by it. */
struct tally_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t capacity;
    uint32_t slot_size;
    uint32_t stripes;
    uint32_t table_slots;
    uint32_t stripe_shift;
    uint32_t reserved;
    uint64_t total_size;
    uint64_t checksum;
    /* Mutable fields, each on its own cache line. */
    alignas(64) _Atomic uint32_t next_id;
    alignas(64) _Atomic uint64_t overflow;
};

/* A table tag: 0 = empty, else VALID | 31 bits of the name hash | id. */
#define TAG_VALID (1ull << 63)
#define TAG_HASH(h) ((((h) >> 33) & 0x7fffffffull) << 32)
#define TAG_ID(t) ((uint32_t)(t))

struct tally_region {
    uint8_t *base;
    size_t size;
    struct tally_header *hdr;
    _Atomic uint64_t *table;
    uint8_t *names;
    uint8_t *values;
    uint32_t capacity;
    uint32_t table_mask;
    uint32_t stripes;
    uint32_t stripe_shift;
    tally_counter *handles; /* one per id, precomputed at open */
    _Atomic int64_t spare;  /* an id this process allocated but did not publish */
    int created;
    char path[256];
};

/* Derived geometry of a region of the given capacity and stripe count. */
struct tally_geometry {
    uint32_t table_slots;
    uint32_t stripe_shift;
    uint64_t table_off, names_off, values_off, total_size;
};

void tally_geometry_of(uint32_t capacity, uint32_t stripes, struct tally_geometry *out);
uint64_t tally_header_checksum(const struct tally_header *h);
uint64_t tally_name_hash(const char *name, size_t len);

/* Length of a valid name, or TALLY_ENAME. */
int tally_name_check(const char *name, size_t *len_out);

#endif
