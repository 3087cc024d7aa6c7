/*
 * metricmap_keys.c — the series keys (family and label values) seen so
 * far, to keep only the first counter of a series (metricmap.h). Open
 * addressing on a 64-bit FNV-1a hash of the key, sized for every counter
 * at the start so it never grows or fills; two keys that hash alike are
 * told apart by their texts, which the rare case rebuilds from the names.
 */
#include "metricmap_priv.h"

#include "hash/hash.h"

#include <stdlib.h>
#include <string.h>

struct metricmap_keys {
    const metricmap *mm;
    size_t slots; /* a power of two, at least twice the counters */
    uint64_t *hash;
    const char **name; /* NULL: empty */
};

int metricmap_keys_new(const metricmap *mm, size_t n, metricmap_keys **out)
{
    *out = NULL;
    metricmap_keys *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return -1;
    k->mm = mm;
    for (k->slots = 16; k->slots < 2 * n; k->slots *= 2)
        ;
    k->hash = malloc(k->slots * sizeof(*k->hash));
    k->name = calloc(k->slots, sizeof(*k->name));
    if (k->hash == NULL || k->name == NULL) {
        metricmap_keys_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

void metricmap_keys_free(metricmap_keys *k)
{
    if (k == NULL)
        return;
    free(k->hash);
    free(k->name);
    free(k);
}

static void hash_put(void *arg, const char *p, size_t n)
{
    uint64_t *h = arg;
    *h = hash_fnv1a(*h, p, n);
}

/* A key: the family, then each label value and a NUL (names hold none). */
static uint64_t key_hash(const metricmap *mm, const char *name, const metricmap_hit *hit)
{
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, &hit->family, sizeof(hit->family));
    for (size_t i = 0; i < metricmap_family_n_labels(mm, hit->family); i++) {
        metricmap_label_value(mm, name, hit, i, hash_put, &h);
        h = hash_fnv1a(h, "", 1);
    }
    return h;
}

typedef struct text {
    char *p;
    size_t len, cap;
    int failed;
} text;

static void text_put(void *arg, const char *p, size_t n)
{
    text *t = arg;
    if (t->failed)
        return;
    if (t->len + n > t->cap) {
        size_t cap = (t->len + n) * 2 + 64;
        char *grown = realloc(t->p, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->p = grown;
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

/* The key of name as text: 0, or -1 (out of memory, or no rule matches). */
static int key_text(const metricmap *mm, const char *name, text *t)
{
    metricmap_hit hit;
    if (!metricmap_match(mm, name, &hit))
        return -1;
    text_put(t, (const char *)&hit.family, sizeof(hit.family));
    for (size_t i = 0; i < metricmap_family_n_labels(mm, hit.family); i++) {
        metricmap_label_value(mm, name, &hit, i, text_put, t);
        text_put(t, "", 1);
    }
    return t->failed ? -1 : 0;
}

static int same_key(const metricmap *mm, const char *a, const char *b)
{
    text ta = {0}, tb = {0};
    int same = key_text(mm, a, &ta) == 0 && key_text(mm, b, &tb) == 0 && ta.len == tb.len &&
               memcmp(ta.p, tb.p, ta.len) == 0;
    free(ta.p);
    free(tb.p);
    return same;
}

int metricmap_keys_first(metricmap_keys *k, const char *name, const metricmap_hit *hit)
{
    uint64_t h = key_hash(k->mm, name, hit);
    for (size_t s = (size_t)h & (k->slots - 1);; s = (s + 1) & (k->slots - 1)) {
        if (k->name[s] == NULL) {
            k->hash[s] = h;
            k->name[s] = name;
            return 1;
        }
        if (k->hash[s] == h && same_key(k->mm, k->name[s], name))
            return 0;
    }
}
