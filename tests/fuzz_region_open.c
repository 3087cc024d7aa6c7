/*
 * fuzz_region_open.c — arbitrary bytes opened as a region must be refused
 * cleanly or, when accepted, be safe to list, look up, register in, add to
 * and reset: a region file is input anyone with write access can shape.
 *
 * Built two ways: with -DTALLY_LIBFUZZER it is a libFuzzer target (clang);
 * otherwise main() replays files given as arguments and a deterministic
 * stream of mutations of valid regions, so every build runs the harness.
 * Input: one control byte, then the region's bytes. When the control byte
 * is odd the harness fixes the header checksum after the mutation, so the
 * fuzzer reaches the checks and the code behind it.
 */
#include "layout.h"
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_replay.h"

static int visit(const char *name, int64_t value, void *arg)
{
    (*(size_t *)arg) += strlen(name) + (size_t)(value & 1);
    return 0;
}

static void exercise(tally_region *r)
{
    size_t seen = 0;
    tally_foreach(r, NULL, visit, &seen);
    tally_foreach(r, "a", visit, &seen);
    tally_counter *c = NULL;
    if (tally_counter_get(r, "fuzz.counter", &c) == 0) {
        tally_add(c, 3);
        (void)tally_value(c);
        (void)tally_reset(c);
    }
    if (tally_counter_find(r, "kept", &c) == 0)
        (void)tally_value(c);
    tally_add_name(r, "fuzz.by.name", 1);
    tally_info info;
    tally_info_get(r, &info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int fix_checksum = data[0] & 1;
    data++;
    size--;
    int fd = memfd_create("tally-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    if (fix_checksum && size >= sizeof(struct tally_header)) {
        struct tally_header h;
        memcpy(&h, data, sizeof(h));
        h.checksum = tally_header_checksum(&h);
        pwrite(fd, &h.checksum, sizeof(h.checksum), offsetof(struct tally_header, checksum));
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    tally_region *r = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_NOCREATE};
    if (tally_open(&r, path, &o) == 0) {
        exercise(r);
        tally_close(r);
    }
    close(fd);
    return 0;
}

#ifndef TALLY_LIBFUZZER
/* A control byte (see above), then a valid region's bytes as a creator
 * writes them. */
static uint8_t *valid_region(uint32_t capacity, size_t *size)
{
    char path[128];
    snprintf(path, sizeof(path), "/dev/shm/tally-fuzz-seed-%d", (int)getpid());
    tally_region *r = NULL;
    tally_open_opts o = {.capacity = capacity};
    if (tally_open(&r, path, &o) != 0)
        abort();
    tally_add_name(r, "kept", 7);
    tally_add_name(r, "a.b", 1);
    tally_close(r);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n + 1);
    buf[0] = 0;
    if (fread(buf + 1, 1, n, f) != n)
        abort();
    *size = n + 1;
    fclose(f);
    unlink(path);
    return buf;
}

static int write_seeds(const char *dir)
{
    uint32_t caps[] = {1, 2, 5};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        size_t n;
        uint8_t *b = valid_region(caps[i], &n);
        char path[512];
        snprintf(path, sizeof(path), "%s/valid-cap%u", dir, caps[i]);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(b, 1, n, f) != n) {
            perror(path);
            return 2;
        }
        fclose(f);
        free(b);
    }
    return 0;
}

/* Mutations that matter for a region: header fields (with the checksum
 * fixed, to get past it), truncation, garbage in the table and records. */
static void mutate_and_run(const uint8_t *valid, size_t n, unsigned *seed)
{
    const size_t hdr = 1 + sizeof(struct tally_header), body = 1 + TALLY_HEADER_SIZE;
    uint8_t *b = malloc(n);
    memcpy(b, valid, n);
    size_t len = n;
    int kind = rand_r(seed) % 3;
    int flips = 1 + rand_r(seed) % 8;
    b[0] = kind == 0;
    for (int i = 0; i < flips; i++) {
        size_t at = kind == 0 ? 1 + (size_t)rand_r(seed) % (hdr - 1)
                              : body + (size_t)rand_r(seed) % (n - body);
        b[at] = (uint8_t)rand_r(seed);
    }
    if (kind == 1)
        len = (size_t)rand_r(seed) % n;
    LLVMFuzzerTestOneInput(b, len);
    free(b);
}

static long run_mutations(void)
{
    unsigned seed = 20261122;
    uint32_t caps[] = {1, 3, 16};
    long runs = 0;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        size_t n;
        uint8_t *valid = valid_region(caps[c], &n);
        LLVMFuzzerTestOneInput(valid, n);
        for (int i = 0; i < 3000; i++, runs++)
            mutate_and_run(valid, n, &seed);
        free(valid);
    }
    return runs;
}

int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, write_seeds, run_mutations,
                            "mutated regions opened without a crash");
}
#endif
