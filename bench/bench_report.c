/*
 * bench_report.c — medians, the machine header, the table and the targets.
 * Ratios are taken between medians, converted to one unit first, so a
 * figure in µs and one in ns compare correctly.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_stats(const double *samples, int n, struct bench_stat *out)
{
    double sorted[BENCH_MAX_ROUNDS];
    memcpy(sorted, samples, (size_t)n * sizeof(double));
    qsort(sorted, (size_t)n, sizeof(double), cmp_double);
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(out, cap, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

static int rseq_active(void)
{
#ifdef TALLY_HAVE_RSEQ
    return __rseq_size > 0;
#else
    return 0;
#endif
}

void bench_print_header(FILE *f, const struct bench_env *e)
{
    char model[160];
    cpu_model(model, sizeof(model));
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof(u.release), "?");
    tally_info info;
    if (tally_info_get(e->hot, &info) != 0)
        info.stripes = 0;
    const struct bench_cfg *c = &e->cfg;
    fprintf(f, "libtally benchmark (bench/shm_bench)%s\n",
            c->quick ? " -- QUICK RUN: sizes too small to mean anything" : "");
    fprintf(f, "machine  : nproc %ld, %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
            u.release);
    fprintf(f, "build    : gcc %s -O2; libtally: %u stripes, rseq cpu ids %s; SQLite %s\n",
            __VERSION__, info.stripes, rseq_active() ? "yes" : "NO (every add on stripe 0)",
            sqlite3_libversion());
    fprintf(f, "files    : regions in /dev/shm; database in %s (%s)\n",
            getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/var/tmp",
            e->disk_is_tmpfs ? "tmpfs, NOT a disk" : "disk");
    fprintf(f,
            "sizes    : %llu adds; %llu by-name adds over %u names (capacity %u); %llu adds "
            "per process; %u foreach passes; %u SQLite updates\n",
            (unsigned long long)c->adds, (unsigned long long)c->name_adds, c->names, c->capacity,
            (unsigned long long)c->proc_adds, c->foreach_passes, c->sql_updates);
    fprintf(f, "rounds   : %d, interleaved; each figure is the median of its rounds\n\n",
            c->rounds);
}

/* figure a over figure b, both in nanoseconds */
static double ratio_of(const struct bench_case *cases, const struct bench_stat *st, int a, int b)
{
    return st[a].median * cases[a].unit_ns / (st[b].median * cases[b].unit_ns);
}

void bench_print_table(FILE *f, const struct bench_case *cases, const struct bench_stat *st,
                       int ncases)
{
    fprintf(f, "%-36s %10s %-12s %10s %10s %9s  %s\n", "measurement", "median", "unit", "min",
            "max", "ratio", "vs");
    for (int i = 0; i < ncases; i++) {
        const struct bench_case *c = &cases[i];
        fprintf(f, "%-36s %10.2f %-12s %10.2f %10.2f", c->label, st[i].median, c->unit, st[i].min,
                st[i].max);
        if (c->ref >= 0)
            fprintf(f, " %9.2f  %s\n", ratio_of(cases, st, i, c->ref), c->vs);
        else if (c->target > 0)
            fprintf(f, " %9.2f  %s\n", st[i].median / c->target, c->vs);
        else
            fprintf(f, " %9s\n", "-");
    }
}

void bench_print_targets(FILE *f, const struct bench_case *cases, const struct bench_stat *st,
                         const struct bench_target *targets, int ntargets, int quick)
{
    fprintf(f, "\ntargets%s:\n", quick ? " (quick run: not meaningful)" : "");
    for (int i = 0; i < ntargets; i++) {
        const struct bench_target *t = &targets[i];
        double v = t->den >= 0 ? ratio_of(cases, st, t->num, t->den) : st[t->num].median;
        int pass = t->at_least ? v >= t->limit : v <= t->limit;
        fprintf(f, "  %-36s %10.2f %-4s %s %8.2f %-4s %s%s\n", t->label, v, t->unit,
                t->at_least ? ">=" : "<=", t->limit, t->unit, pass ? "PASS" : "MISS",
                t->pair && !bench_pair_reliable()
                    ? "  UNRELIABLE: the processes seldom ran side by side (busy machine)"
                    : "");
    }
}
