/*
 * shm_bench.c — the libtally benchmark: libtally beside the raw atomic it
 * builds on and beside the SQLite usage table it replaces, in one run.
 *
 *   shm_bench [--rounds N] [--quick] [--samples]
 *
 * Every round runs every measurement once, in the order of `cases`; the
 * rounds follow one another, so a noisy moment hits one round of every
 * figure rather than all rounds of one. Progress goes to stderr, the table
 * to stdout.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    C_FLOOR,
    C_HANDLE,
    C_NAME_CYCLE,
    C_NAME_SHUFFLED,
    C_NAME_ONE,
    C_PAIR_HOT,
    C_PAIR_DISTINCT,
    C_PAIR_RAW_ONE,
    C_PAIR_RAW_APART,
    C_REGISTER,
    C_FOREACH,
    C_SQLITE,
    C_COUNT
};

static const struct bench_case cases[C_COUNT] = {
    [C_FLOOR] = {"floor: raw atomic add (MAP_SHARED)", "ns/add", 1, bench_floor, -1, 0, ""},
    [C_HANDLE] = {"tally_add on a handle", "ns/add", 1, bench_handle, C_FLOOR, 0, "x floor"},
    [C_NAME_CYCLE] = {"tally_add_name, names in order", "ns/add", 1, bench_name_cycle, -1, 25,
                      "of 25 ns target"},
    [C_NAME_SHUFFLED] = {"tally_add_name, names shuffled", "ns/add", 1, bench_name_shuffled, -1, 25,
                         "of 25 ns target"},
    [C_NAME_ONE] = {"tally_add_name, hot name", "ns/add", 1, bench_name_one, -1, 25,
                    "of 25 ns target"},
    [C_PAIR_HOT] = {"2 procs, one hot counter", "ns/add/proc", 1, bench_pair_hot, C_PAIR_DISTINCT,
                    0, "x 2 procs, two counters"},
    [C_PAIR_DISTINCT] = {"2 procs, two counters", "ns/add/proc", 1, bench_pair_distinct, C_HANDLE,
                         0, "x handle add"},
    [C_PAIR_RAW_ONE] = {"2 procs, raw add on one word", "ns/add/proc", 1, bench_pair_raw_one,
                        C_PAIR_RAW_APART, 0, "x raw, words apart (contention)"},
    [C_PAIR_RAW_APART] = {"2 procs, raw add, words apart", "ns/add/proc", 1, bench_pair_raw_apart,
                          C_FLOOR, 0, "x floor"},
    [C_REGISTER] = {"register a new name", "ns/name", 1, bench_register, C_NAME_CYCLE, 0,
                    "x by-name add"},
    [C_FOREACH] = {"tally_foreach, all names", "us/pass", 1000, bench_foreach, -1, 1000,
                   "of 1000 us target"},
    [C_SQLITE] = {"SQLite UPDATE (WAL, autocommit)", "us/update", 1000, bench_sqlite_update,
                  C_HANDLE, 0, "x handle add"},
};

static const struct bench_target targets[] = {
    {"handle add / floor", C_HANDLE, C_FLOOR, 1.15, 0, "x", 0},
    /* Both by-name figures face the target: a hot name among 10,000 (the
     * lookup's own cost) and all 10,000 in turn (the cache's). */
    {"by-name add, hot name", C_NAME_ONE, -1, 25, 0, "ns", 0},
    {"by-name add, all names in turn", C_NAME_CYCLE, -1, 25, 0, "ns", 0},
    {"2 procs hot / 2 procs distinct", C_PAIR_HOT, C_PAIR_DISTINCT, 1.20, 0, "x", 1},
    {"foreach over all names", C_FOREACH, -1, 1000, 0, "us", 0},
    {"SQLite update / handle add", C_SQLITE, C_HANDLE, 5000, 1, "x", 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: shm_bench [--rounds N] [--quick] [--samples]\n"
               "  --rounds N  rounds, each running every measurement once (default 7)\n"
               "  --quick     tiny sizes and 2 rounds: checks that the bench runs, nothing more\n"
               "  --samples   also print every round's figures to stderr\n");
}

static void config_full(struct bench_cfg *c)
{
    c->rounds = 7;
    c->adds = 50000000;
    c->name_adds = 10000000;
    c->names = 10000;
    c->capacity = 16384;
    c->proc_adds = 10000000;
    c->foreach_passes = 20;
    c->sql_updates = 3000;
}

static void config_quick(struct bench_cfg *c)
{
    c->quick = 1;
    c->rounds = 2;
    c->adds = 200000;
    c->name_adds = 100000;
    c->names = 500;
    c->proc_adds = 100000;
    c->foreach_passes = 2;
    c->sql_updates = 100;
}

/* Returns 0, or 2 (the exit code) after printing why. */
static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
    int rounds = 0;
    config_full(c);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            config_quick(c);
        } else if (strcmp(argv[i], "--samples") == 0) {
            c->samples = 1;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 1 || v > BENCH_MAX_ROUNDS) {
                fprintf(stderr, "shm_bench: --rounds wants 1..%d, not '%s'\n", BENCH_MAX_ROUNDS,
                        argv[i]);
                return 2;
            }
            rounds = (int)v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* --rounds wins over --quick's 2, whatever their order. */
    if (rounds > 0)
        c->rounds = rounds;
    return 0;
}

static int run_rounds(struct bench_env *e, double samples[C_COUNT][BENCH_MAX_ROUNDS])
{
    for (int r = 0; r < e->cfg.rounds; r++) {
        for (int i = 0; i < C_COUNT; i++) {
            int rc = cases[i].fn(e, &samples[i][r]);
            if (rc != 0) {
                fprintf(stderr, "shm_bench: round %d, %s: %s\n", r + 1, cases[i].label,
                        bench_strerror(rc));
                return rc;
            }
        }
        fprintf(stderr, "shm_bench: round %d of %d done\n", r + 1, e->cfg.rounds);
        for (int i = 0; e->cfg.samples && i < C_COUNT; i++)
            fprintf(stderr, "  %-36s %10.2f %s\n", cases[i].label, samples[i][r], cases[i].unit);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench_env env;
    static double samples[C_COUNT][BENCH_MAX_ROUNDS];
    int rc = parse_args(argc, argv, &env.cfg);
    if (rc != 0)
        return rc;
    bench_cleanup_install();
    rc = bench_env_init(&env);
    if (rc != 0) {
        fprintf(stderr, "shm_bench: setting up: %s\n", bench_strerror(rc));
        bench_env_fini(&env);
        return 1;
    }
    bench_print_header(stdout, &env);
    rc = run_rounds(&env, samples);
    if (rc == 0) {
        struct bench_stat st[C_COUNT];
        for (int i = 0; i < C_COUNT; i++)
            bench_stats(samples[i], env.cfg.rounds, &st[i]);
        bench_print_table(stdout, cases, st, C_COUNT);
        bench_print_targets(stdout, cases, st, targets, (int)(sizeof(targets) / sizeof(targets[0])),
                            env.cfg.quick);
        bench_pair_report(stdout);
    }
    bench_env_fini(&env);
    return rc == 0 ? 0 : 1;
}
