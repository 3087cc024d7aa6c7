/*
 * fuzz_replay.c — see fuzz_replay.h.
 */
#include "fuzz_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
