/*
 * layout.h — the on-disk/in-memory layout of a tally region (private).
 *
 *   [header page][slots: table_slots x 64 B][tails: table_slots x 8 B]
 *   [values: stripes x (1 << stripe_shift) bytes, one int64 cell per slot]
 *
 * A counter's id is its slot in an open-addressing hash table. A slot is
 * one cache line: its tag and the first 56 bytes of its name, so a lookup
 * of a name of up to 56 bytes reads one line of the table and then its
 * cell; bytes 56..63 of longer names sit in the tails array. Values sit
 * apart from names, and each CPU owns one stripe of cells, so a hot counter
 * bumped on two cores touches two different cache lines. The table holds
 * twice the capacity, so probes stay short. How a name is claimed without
 * locks is explained in counters.c.
 */
#ifndef TALLY_LAYOUT_H
#define TALLY_LAYOUT_H

#include "tally.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

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
    alignas(64) _Atomic uint32_t used;     /* names published */
    alignas(64) _Atomic uint64_t overflow; /* registrations refused: full */
    /* The region's identity (tally_identity_get), after every field of the
     * first layout-1 release, in bytes that release leaves zero and never
     * reads: so both releases read each other's regions and the version
     * stays 1. A creator sets both before publishing; a region made before
     * identities gets its id stamped, by CAS from 0, by the first opener
     * that knows of them (its created_utc stays 0: unknown). Never changed
     * once non-zero. */
    alignas(64) _Atomic uint64_t id;
    int64_t created_utc;
};

/* A table tag: 0 = empty, else a state bit and the name's key (56 bits of
 * its hash and its length). CLAIMED: a registrant is writing the record;
 * PUBLISHED: the record is complete and never changes again. */
#define TAG_PUBLISHED (1ull << 63)
#define TAG_CLAIMED (1ull << 62)
#define TAG_KEY(hash, len) (((hash)&0x3fffffffffff00ull) | (uint64_t)(len))
#define TAG_KEY_MASK 0x3fffffffffffffull
#define RECORD_WORDS (TALLY_NAME_MAX / 8) /* a name, NUL padded, as words */
#define HEAD_WORDS (RECORD_WORDS - 1)     /* of them, in the slot's line */

struct tally_slot {
    _Atomic uint64_t tag;
    _Atomic uint64_t head[HEAD_WORDS];
};

/* tally_counter.flags: the handle's region is attached read-only. */
#define TALLY__COUNTER_RDONLY 0x1u

struct tally_region {
    uint8_t *base;
    size_t size;
    struct tally_header *hdr;
    struct tally_slot *slots;
    _Atomic uint64_t *tails; /* the last name word of each slot */
    uint8_t *values;
    uint32_t capacity;
    uint32_t table_mask; /* table_slots - 1 */
    uint32_t stripes;
    uint32_t stripe_shift;
    /* Handles, made when first asked for, HANDLE_CHUNK slots at a time:
     * one per table slot up front cost a maximum-capacity region 128 MiB
     * of memory on every attach, however few counters it held. */
    _Atomic(tally_counter *) *handle_chunks;
    int created;
    int readonly;       /* TALLY_OPEN_RDONLY: mapped PROT_READ; nothing here writes it */
    int by_name;        /* a POSIX shm name: its path is opened without following links */
    dev_t dev;          /* the file mapped, to tell when the path names another */
    ino_t ino;
    uint64_t id;        /* the header's identity once open (it never changes after) */
    int64_t created_utc; /* the header's, read once under the guard at open */
    char path[256];
};

/* Derived geometry of a region of the given capacity and stripe count. */
struct tally_geometry {
    uint32_t table_slots;
    uint32_t stripe_shift;
    uint64_t slots_off, tails_off, values_off, total_size;
};

static inline _Atomic uint64_t *tally_slot_tag(const tally_region *r, uint32_t slot)
{
    return &r->slots[slot].tag;
}

/* Word k (0..RECORD_WORDS-1) of the name in a slot. */
static inline _Atomic uint64_t *tally_name_word(const tally_region *r, uint32_t slot, size_t k)
{
    return k < HEAD_WORDS ? &r->slots[slot].head[k] : &r->tails[slot];
}

#define HANDLE_CHUNK 1024u /* handles allocated together */

/* The handle of a slot, as kept for tally_counter_get's callers. */
static inline tally_counter tally_handle_of(const tally_region *r, uint32_t slot)
{
    return (tally_counter){
        .cell0 = (_Atomic int64_t *)(r->values + (size_t)slot * sizeof(int64_t)),
        .cpu_mask = r->stripes - 1,
        .stripe_shift = r->stripe_shift,
        .flags = r->readonly ? TALLY__COUNTER_RDONLY : 0u,
    };
}

void tally_geometry_of(uint32_t capacity, uint32_t stripes, struct tally_geometry *out);
uint64_t tally_header_checksum(const struct tally_header *h);
/* 64x64 -> 128-bit multiply folded to 64 bits: one instruction on x86-64
 * and arm64, and a strong mixer. */
static inline uint64_t tally_fold_mul(uint64_t a, uint64_t b)
{
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/* The hash that places a name, of its bytes NUL padded into RECORD_WORDS
 * words. Part of the layout. Word pairs are multiplied independently, so
 * the CPU runs them side by side: about three multiply latencies whatever
 * the length. Inline: it is most of a by-name add. */
static inline uint64_t tally_words_hash(const uint64_t *words, size_t len)
{
    static const uint64_t k[RECORD_WORDS] = {
        0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
        0x1d8e4e27c47d124full, 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull,
    };
    uint64_t h = tally_fold_mul(len ^ k[0], k[1]);
    for (size_t i = 0; i < (len + 15) / 16; i++)
        h ^= tally_fold_mul(words[2 * i] ^ k[2 * i], words[2 * i + 1] ^ k[2 * i + 1]);
    return tally_fold_mul(h ^ k[2], k[3]);
}

/* The same hash of a name's bytes (at most TALLY_SLOT_SIZE). */
uint64_t tally_name_hash(const char *name, size_t len);

/* fn(arg) under a SIGBUS guard for the mapping [base, base + size):
 * TALLY_ESHRUNK if an access there faulted (guard.c). */
int tally_guard_run(const void *base, size_t size, int (*fn)(void *arg), void *arg);

/* Length of a valid name, or TALLY_ENAME. */
int tally_name_check(const char *name, size_t *len_out);

#endif
