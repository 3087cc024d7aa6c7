/*
 * hash.h — FNV-1a, 64 bits, for telling changed bytes from the same ones
 * (a file's first bytes, a snapshot's small part): one home for the few
 * parts of tally that fingerprint what they saw. Not for secrets or for
 * anything an adversary chooses to collide.
 */
#ifndef TALLY_LIB_HASH_H
#define TALLY_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a offset basis: where a fingerprint starts. */
#define HASH_FNV1A_SEED UINT64_C(0xcbf29ce484222325)

/* h continued over p[0..n); start with HASH_FNV1A_SEED. */
uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n);

#endif
