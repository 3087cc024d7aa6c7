/*
 * counters.c — finding, registering, reading and zeroing counters.
 *
 * Registration never waits on another process. A name's slot goes through
 * three states, each entered by one compare-and-swap of its tag:
 *   empty -> CLAIMED(key) -> PUBLISHED(key),   key = 56 bits of hash + length.
 * The claimant then writes the name's eight words into the record, each by
 * CAS from zero. Whoever registers the same name and finds the slot CLAIMED
 * with its key does the same writes (a word already holding our bytes is
 * fine) and publishes: so a claimant killed at any instruction is simply
 * finished by the next one, and that name is never registered twice.
 * Another name with the same key (same length, so its padding words are
 * zero in the same places) meets a word holding other bytes, and moves on.
 * A published record never changes. A process killed after claiming a slot
 * no one finishes loses that one slot, never a count.
 * Every read of shared bytes stays inside the mapping: a region is input.
 */
#include "layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t first_slot(const tally_region *r, uint64_t hash)
{
    /* High bits place the name; the key holds the low ones. */
    return (uint32_t)(hash >> 32) & r->table_mask;
}

/* Records of one key hold names of one length: only the words that can
 * hold name bytes need comparing; the rest are zero in both. */
static inline int record_matches(const tally_region *r, uint32_t slot, const uint64_t *words,
                                 size_t len)
{
    for (size_t k = 0; k < (len + 7) / 8; k++)
        if (atomic_load_explicit(tally_name_word(r, slot, k), memory_order_relaxed) != words[k])
            return 0;
    return 1;
}

/* Write our words into a record claimed with our key. Returns 0 when it
 * holds our name, -1 when it holds another name of the same key. */
static int record_fill(const tally_region *r, uint32_t slot, const uint64_t *words)
{
    for (size_t k = 0; k < RECORD_WORDS; k++) {
        _Atomic uint64_t *w = tally_name_word(r, slot, k);
        uint64_t cur = 0;
        if (words[k] == 0) {
            if (atomic_load_explicit(w, memory_order_acquire) != 0)
                return -1;
        } else if (!atomic_compare_exchange_strong_explicit(w, &cur, words[k], memory_order_acq_rel,
                                                            memory_order_acquire) &&
                   cur != words[k]) {
            return -1;
        }
    }
    return 0;
}

static int full(tally_region *r)
{
    atomic_fetch_add_explicit(&r->hdr->overflow, 1, memory_order_relaxed);
    return TALLY_EFULL;
}

/* A name as the probe needs it: NUL padded words, length, hash, key. */
struct probe_key {
    uint64_t words[RECORD_WORDS];
    size_t len;
    uint64_t hash;
    uint64_t key;
};

/* The name's bytes as NUL padded words, read with whole 8-byte loads that
 * never pass the name's end: a byte-wise copy here costs more than the
 * whole lookup, since the hash's 8-byte reads of narrower stores stall. */
static inline void name_words(uint64_t *w, const char *name, size_t len)
{
    size_t full = len / 8, rem = len % 8;
    /* A fixed count of word moves: as a loop to `full`, compilers emit a
     * block copy (rep movs) that costs more than the rest of the add. */
#pragma GCC unroll 8
    for (size_t i = 0; i < RECORD_WORDS; i++) {
        uint64_t v = 0;
        if (i < full)
            memcpy(&v, name + 8 * i, 8);
        w[i] = v;
    }
    if (rem == 0)
        return;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len >= 8) {
        uint64_t tail;
        memcpy(&tail, name + len - 8, 8);
        w[full] = tail >> (8 * (8 - rem));
        return;
    }
#endif
    memcpy(&w[full], name + 8 * full, rem);
}

static inline void probe_key_of(struct probe_key *k, const char *name, size_t len)
{
    name_words(k->words, name, len);
    k->len = len;
    k->hash = tally_words_hash(k->words, len);
    k->key = TAG_KEY(k->hash, len);
}

/* The read-only probe every by-name add takes: published names only. */
static inline int64_t lookup(const tally_region *r, const struct probe_key *k)
{
    uint32_t start = first_slot(r, k->hash);
    for (uint32_t i = 0; i <= r->table_mask; i++) {
        uint32_t slot = (start + i) & r->table_mask;
        uint64_t tag = atomic_load_explicit(tally_slot_tag(r, slot), memory_order_acquire);
        if (tag == (TAG_PUBLISHED | k->key) && record_matches(r, slot, k->words, k->len))
            return slot;
        /* Slots are never freed, so the name is in no later slot. */
        if (tag == 0)
            return TALLY_ENOCOUNTER;
    }
    return TALLY_ENOCOUNTER;
}

/* Find a valid name or register it. Returns its slot or TALLY_EFULL. */
static int64_t find_or_register(tally_region *r, const struct probe_key *k)
{
    uint32_t start = first_slot(r, k->hash);
    for (uint32_t i = 0; i <= r->table_mask; i++) {
        uint32_t slot = (start + i) & r->table_mask;
        _Atomic uint64_t *tagp = tally_slot_tag(r, slot);
        uint64_t tag = atomic_load_explicit(tagp, memory_order_acquire);
        if (tag == 0) {
            if (atomic_load_explicit(&r->hdr->used, memory_order_relaxed) >= r->capacity)
                return full(r);
            if (atomic_compare_exchange_strong_explicit(tagp, &tag, TAG_CLAIMED | k->key,
                                                        memory_order_acq_rel, memory_order_acquire))
                tag = TAG_CLAIMED | k->key;
            /* else tag now holds what another registrant put there. */
        }
        if ((tag & TAG_KEY_MASK) != k->key)
            continue;
        if (tag & TAG_PUBLISHED) {
            if (record_matches(r, slot, k->words, k->len))
                return slot;
            continue;
        }
        if (record_fill(r, slot, k->words) != 0)
            continue;
        uint64_t claimed = TAG_CLAIMED | k->key;
        if (atomic_compare_exchange_strong_explicit(tagp, &claimed, TAG_PUBLISHED | k->key,
                                                    memory_order_acq_rel, memory_order_acquire))
            atomic_fetch_add_explicit(&r->hdr->used, 1, memory_order_relaxed);
        /* Published by us or by another registrant of this very name. */
        return slot;
    }
    return full(r);
}

/* The slot of name, registering it if create. */
static int64_t slot_of(tally_region *r, const char *name, int create)
{
    size_t len;
    int rc = tally_name_check(name, &len);
    if (rc != 0)
        return rc;
    struct probe_key k;
    probe_key_of(&k, name, len);
    return create ? find_or_register(r, &k) : lookup(r, &k);
}

/* The handle of a slot, kept until tally_close. Its chunk is made by the
 * first thread that asks; a thread that loses the race to publish it
 * takes the winner's, so a handle never moves once handed out. */
static int handle_at(tally_region *r, uint32_t slot, tally_counter **out)
{
    _Atomic(tally_counter *) *chunkp = &r->handle_chunks[slot / HANDLE_CHUNK];
    tally_counter *chunk = atomic_load_explicit(chunkp, memory_order_acquire);
    if (chunk == NULL) {
        uint32_t first = slot - slot % HANDLE_CHUNK;
        uint32_t n = r->table_mask + 1 - first;
        n = n < HANDLE_CHUNK ? n : HANDLE_CHUNK;
        tally_counter *made = malloc(n * sizeof(*made));
        if (made == NULL)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            made[i] = tally_handle_of(r, first + i);
        if (atomic_compare_exchange_strong_explicit(chunkp, &chunk, made, memory_order_acq_rel,
                                                    memory_order_acquire))
            chunk = made;
        else
            free(made);
    }
    *out = &chunk[slot % HANDLE_CHUNK];
    return 0;
}

static int handle_of(tally_region *r, const char *name, int create, tally_counter **out)
{
    if (r == NULL || out == NULL)
        return TALLY_EINVAL;
    /* Read-only: a registered name has its handle; registering would
     * write (the tag, the record, the overflow count), so it is refused. */
    int64_t slot = slot_of(r, name, create && !r->readonly);
    if (slot == TALLY_ENOCOUNTER && create)
        return TALLY_ERDONLY;
    if (slot < 0)
        return (int)slot;
    return handle_at(r, (uint32_t)slot, out);
}

int tally_counter_get(tally_region *r, const char *name, tally_counter **out)
{
    return handle_of(r, name, 1, out);
}

int tally_counter_find(tally_region *r, const char *name, tally_counter **out)
{
    return handle_of(r, name, 0, out);
}

int tally_add_name(tally_region *r, const char *name, int64_t n)
{
    if (r == NULL || name == NULL)
        return TALLY_EINVAL;
    if (r->readonly)
        return TALLY_ERDONLY;
    size_t len = strnlen(name, TALLY_NAME_MAX + 1);
    if (len == 0 || len > TALLY_NAME_MAX)
        return TALLY_ENAME;
    /* A published name is valid by construction: validate only to register. */
    struct probe_key k;
    probe_key_of(&k, name, len);
    int64_t slot = lookup(r, &k);
    if (slot < 0)
        slot = slot_of(r, name, 1);
    if (slot < 0)
        return (int)slot;
    tally_counter c = tally_handle_of(r, (uint32_t)slot);
    tally_add(&c, n);
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

/* A published record a reader may show: its name is valid, and it is the
 * record a lookup of that name finds. Anything that can write the region
 * can publish other bytes: control characters (terminal escapes), bytes
 * that are not UTF-8 (which JSON refuses, and which two names could both
 * be repaired into), or one name in two records (two series of one name).
 * libtally's own registrations always pass. */
static int record_readable(const tally_region *r, uint32_t slot, const char *name)
{
    size_t len;
    if (tally_name_check(name, &len) != 0)
        return 0;
    struct probe_key k;
    probe_key_of(&k, name, len);
    return lookup(r, &k) == (int64_t)slot;
}

int tally_foreach_checked(tally_region *r, const char *prefix,
                          int (*fn)(const char *name, int64_t value, void *arg), void *arg,
                          uint32_t *skipped)
{
    if (skipped != NULL)
        *skipped = 0;
    if (r == NULL || fn == NULL)
        return TALLY_EINVAL;
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    char name[TALLY_NAME_MAX + 1];
    uint64_t words[RECORD_WORDS];
    if (plen > TALLY_NAME_MAX)
        return 0;
    for (uint32_t slot = 0; slot <= r->table_mask; slot++) {
        uint64_t tag = atomic_load_explicit(tally_slot_tag(r, slot), memory_order_acquire);
        if (!(tag & TAG_PUBLISHED))
            continue;
        for (size_t k = 0; k < RECORD_WORDS; k++)
            words[k] = atomic_load_explicit(tally_name_word(r, slot, k), memory_order_relaxed);
        memcpy(name, words, TALLY_NAME_MAX);
        name[TALLY_NAME_MAX] = '\0';
        if (!record_readable(r, slot, name)) {
            if (skipped != NULL)
                (*skipped)++;
            continue;
        }
        if (plen > 0 && strncmp(name, prefix, plen) != 0)
            continue;
        tally_counter c = tally_handle_of(r, slot);
        int rc = fn(name, tally_value(&c), arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tally_foreach(tally_region *r, const char *prefix,
                  int (*fn)(const char *name, int64_t value, void *arg), void *arg)
{
    return tally_foreach_checked(r, prefix, fn, arg, NULL);
}
