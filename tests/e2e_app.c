/*
 * e2e_app.c — a tiny application for the end-to-end tests: NPROC forked
 * processes each open REGION (as any application would, with tally.h) and
 * add AMOUNT to each named counter ITERS times, so the test knows exactly
 * how much went in: NPROC * ITERS * AMOUNT per counter.
 *
 *   e2e_app REGION NPROC ITERS SLEEP_US NAME=AMOUNT...
 *
 * Even iterations add through a handle (tally_add), odd ones by name
 * (tally_add_name), so both paths an application uses are exercised.
 * SLEEP_US > 0 spreads the adds over time, so they land while tallyd runs,
 * rolls days over, or is killed. The last '=' splits NAME from AMOUNT,
 * so names may contain '='. Exits 0 only if every child added everything.
 */
#define _GNU_SOURCE
#include "tally.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNTERS 16

struct counter_arg {
    char *name;
    int64_t amount;
};

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void pause_us(long long us)
{
    if (us <= 0)
        return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int child(const char *region, long long iters, long long sleep_us,
                 const struct counter_arg *cs, int n)
{
    tally_region *r;
    int rc = tally_open(&r, region, NULL);
    if (rc != 0) {
        fprintf(stderr, "e2e_app: open %s: %s\n", region, tally_strerror(rc));
        return 1;
    }
    tally_counter *h[MAX_COUNTERS];
    for (int i = 0; i < n; i++) {
        rc = tally_counter_get(r, cs[i].name, &h[i]);
        if (rc != 0) {
            fprintf(stderr, "e2e_app: counter '%s': %s\n", cs[i].name, tally_strerror(rc));
            tally_close(r);
            return 1;
        }
    }
    for (long long it = 0; it < iters; it++) {
        for (int i = 0; i < n; i++) {
            if (it % 2 == 0) {
                tally_add(h[i], cs[i].amount);
            } else if ((rc = tally_add_name(r, cs[i].name, cs[i].amount)) != 0) {
                fprintf(stderr, "e2e_app: add to '%s': %s\n", cs[i].name, tally_strerror(rc));
                tally_close(r);
                return 1;
            }
        }
        pause_us(sleep_us);
    }
    tally_close(r);
    return 0;
}

int main(int argc, char **argv)
{
    long long nproc, iters, sleep_us;
    if (argc < 6 || parse_ll(argv[2], 1, 256, &nproc) != 0 ||
        parse_ll(argv[3], 0, INT64_MAX, &iters) != 0 ||
        parse_ll(argv[4], 0, 10000000, &sleep_us) != 0 || argc - 5 > MAX_COUNTERS) {
        fprintf(stderr, "usage: e2e_app REGION NPROC(1..256) ITERS SLEEP_US NAME=AMOUNT... "
                        "(at most 16 counters)\n");
        return 2;
    }
    struct counter_arg cs[MAX_COUNTERS];
    int n = argc - 5;
    for (int i = 0; i < n; i++) {
        char *arg = argv[5 + i], *eq = strrchr(arg, '=');
        long long amount;
        if (eq == NULL || eq == arg || parse_ll(eq + 1, INT64_MIN, INT64_MAX, &amount) != 0) {
            fprintf(stderr, "e2e_app: '%s' is not NAME=AMOUNT\n", arg);
            return 2;
        }
        *eq = '\0';
        cs[i] = (struct counter_arg){arg, amount};
    }
    pid_t pids[256];
    int started = 0, failed = 0;
    for (long long p = 0; p < nproc; p++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "e2e_app: fork: %s\n", strerror(errno));
            failed = 1;
            break;
        }
        if (pid == 0)
            _exit(child(argv[1], iters, sleep_us, cs, n));
        pids[started++] = pid;
    }
    for (int i = 0; i < started; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    return failed ? 1 : 0;
}
