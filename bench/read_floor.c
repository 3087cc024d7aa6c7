/*
 * read_floor.c — the floor of the ingest benchmark (bench/run-ingest.sh):
 * the least any reader of a CSV file must do, read() it in 1 MiB blocks and
 * find its line ends with memchr. No parsing, no aggregation.
 *
 *   read_floor FILE
 *
 * Prints one line: bytes=N lines=N seconds=S (wall time of the loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil/civil.h"

#define BLOCK (1u << 20)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: read_floor FILE\n", stderr);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "read_floor: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char *buf = malloc(BLOCK);
    if (!buf) {
        fputs("read_floor: out of memory\n", stderr);
        return 1;
    }

    uint64_t bytes = 0, lines = 0;
    double t0 = civil_mono_seconds();
    for (;;) {
        ssize_t n = read(fd, buf, BLOCK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "read_floor: %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        bytes += (uint64_t)n;
        const char *p = buf, *end = buf + n;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
    }
    double secs = civil_mono_seconds() - t0;
    close(fd);
    free(buf);
    printf("bytes=%" PRIu64 " lines=%" PRIu64 " seconds=%.6f\n", bytes, lines, secs);
    return 0;
}
