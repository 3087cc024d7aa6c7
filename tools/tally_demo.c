/*
 * tally_demo.c — the demo the README's first command runs: several worker
 * processes bump counters in one region the way a web back end would, so
 * `tally list` and `tally watch` have something to show.
 * Usage: tally-demo [--region R] [--workers N] [--seconds S]
 */
#include "tally.h"

#include "civil/civil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct demo_opts {
    const char *region;
    int workers;
    double seconds;
};

/* One worker: a request loop that counts requests, bytes, errors and its
 * own requests, with a short pause so the rates stay readable. */
static int worker(const struct demo_opts *o, int index)
{
    tally_region *r = NULL;
    tally_counter *requests, *today, *bytes, *errors, *mine;
    char own[TALLY_NAME_MAX + 1];
    snprintf(own, sizeof(own), "demo.worker.%d.requests", index);
    int rc = tally_open(&r, o->region, NULL);
    if (rc == 0)
        rc = tally_counter_get(r, "demo.requests", &requests);
    if (rc == 0)
        rc = tally_counter_get(r, "demo.requests.today", &today);
    if (rc == 0)
        rc = tally_counter_get(r, "demo.bytes", &bytes);
    if (rc == 0)
        rc = tally_counter_get(r, "demo.errors", &errors);
    if (rc == 0)
        rc = tally_counter_get(r, own, &mine);
    if (rc != 0) {
        fprintf(stderr, "tally-demo: worker %d: region '%s': %s\n", index, o->region,
                tally_strerror(rc));
        return 1;
    }
    unsigned seed = (unsigned)getpid();
    double end = civil_mono_seconds() + o->seconds;
    while (civil_mono_seconds() < end) {
        for (int i = 0; i < 1000; i++) {
            tally_add(requests, 1);
            tally_add(today, 1);
            tally_add(mine, 1);
            tally_add(bytes, 200 + rand_r(&seed) % 1800);
            if (rand_r(&seed) % 100 == 0)
                tally_add(errors, 1);
        }
        usleep(1000);
    }
    tally_close(r);
    return 0;
}

static int parse_args(int argc, char **argv, struct demo_opts *o)
{
    static const struct option longopts[] = {{"region", required_argument, NULL, 'r'},
                                             {"workers", required_argument, NULL, 'w'},
                                             {"seconds", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};
    const char *env = getenv("TALLY_REGION");
    *o = (struct demo_opts){.region = env && *env ? env : "tally", .workers = 4, .seconds = 3};
    int c;
    while ((c = getopt_long(argc, argv, "r:w:s:", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'r':
            o->region = optarg;
            break;
        case 'w':
            o->workers = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || o->workers < 1 || o->workers > 256)
                return -1;
            break;
        case 's':
            o->seconds = strtod(optarg, &end);
            if (*end != '\0' || o->seconds <= 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct demo_opts o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: tally-demo [--region R] [--workers N 1..256] [--seconds S]\n");
        return 2;
    }
    printf("tally-demo: %d workers bump counters in region '%s' for %.1f s\n", o.workers, o.region,
           o.seconds);
    fflush(stdout);
    for (int i = 0; i < o.workers; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("tally-demo: fork");
            return 1;
        }
        if (pid == 0)
            _exit(worker(&o, i));
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed ? 1 : 0;
}
