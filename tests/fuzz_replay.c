/*
 * fuzz_replay.c — see fuzz_replay.h.
 */
#include "fuzz_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3629 by decoding: the shortest form, no surrogates, at most U+10FFFF. */
bool fuzz_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

int fuzz_replay_main(int argc, char **argv, int (*write_seeds)(const char *dir),
                     long (*mutations)(void), const char *what)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (replay_file(argv[i]) != 0)
                return 2;
        return 0;
    }
    printf("fuzz replay: %ld %s\n", mutations(), what);
    return 0;
}

int fuzz_write_seeds(const char *dir, const char *const *seeds, size_t n_seeds,
                     const uint8_t (*controls)[2], size_t n_controls)
{
    for (size_t i = 0; i < n_seeds; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/seed-%zu", dir, i);
        FILE *f = fopen(path, "wb");
        size_t n = strlen(seeds[i]);
        if (f == NULL || fwrite(controls[i % n_controls], 1, 2, f) != 2 ||
            fwrite(seeds[i], 1, n, f) != n) {
            perror(path);
            return 2;
        }
        fclose(f);
    }
    return 0;
}

static void mutate_and_run(const uint8_t *seed, size_t n, const uint8_t *special, size_t n_special,
                           unsigned *rs)
{
    size_t cap = 2 * n + 64;
    uint8_t *b = malloc(cap);
    memcpy(b, seed, n);
    size_t len = n;
    int edits = 1 + rand_r(rs) % 6;
    for (int e = 0; e < edits; e++) {
        size_t at = 2 + (size_t)rand_r(rs) % (len - 1);
        switch (rand_r(rs) % 5) {
        case 0: /* replace a byte */
            if (at < len)
                b[at] = special[rand_r(rs) % n_special];
            break;
        case 1: /* insert a byte */
            if (len < cap) {
                memmove(b + at + 1, b + at, len - at);
                b[at] = special[rand_r(rs) % n_special];
                len++;
            }
            break;
        case 2: /* flip bits */
            if (at < len)
                b[at] ^= (uint8_t)(1u << (rand_r(rs) % 8));
            break;
        case 3: /* cut the input short */
            len = at;
            break;
        case 4: { /* repeat a stretch */
            size_t k = 1 + (size_t)rand_r(rs) % 40;
            if (at + k <= len && len + k <= cap) {
                memmove(b + at + k, b + at, len - at);
                len += k;
            }
            break;
        }
        }
    }
    b[0] = (uint8_t)rand_r(rs);
    b[1] = (uint8_t)rand_r(rs);
    LLVMFuzzerTestOneInput(b, len);
    free(b);
}

long fuzz_run_mutations(const char *const *seeds, size_t n_seeds, const uint8_t (*controls)[2],
                        size_t n_controls, const uint8_t *special, size_t n_special)
{
    unsigned rs = 20261122;
    long runs = 0;
    for (size_t i = 0; i < n_seeds; i++) {
        size_t n = strlen(seeds[i]) + 2;
        uint8_t *seed = malloc(n);
        memcpy(seed + 2, seeds[i], n - 2);
        for (size_t c = 0; c < n_controls; c++, runs++) {
            memcpy(seed, controls[c], 2);
            LLVMFuzzerTestOneInput(seed, n);
        }
        for (int k = 0; k < 800; k++, runs++)
            mutate_and_run(seed, n, special, n_special, &rs);
        free(seed);
    }
    return runs;
}
