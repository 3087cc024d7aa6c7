/*
 * bench_rusage.c — bench_rusage OUT CMD...: run CMD (stdin, stdout and
 * stderr inherited) and write to OUT one line "WALL_S MAXRSS_KIB CPU_S":
 * wall time, peak resident set and user + system CPU time of CMD, from
 * wait4(2). Why not GNU time: it prints CPU in hundredths of a second, and
 * a cycle of 12 ms must not read as 10 or 20. Why C: a wrapper in Python
 * forks a copy of its interpreter, whose RSS the kernel counts as the
 * child's peak, and closing its descriptors before exec costs the child
 * milliseconds of CPU. Exits with CMD's status (128 + signal if killed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_rusage OUT CMD...\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_rusage: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("bench_rusage: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("bench_rusage: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        perror(argv[1]);
        return 2;
    }
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    fprintf(out, "%.6f %ld %.6f\n", wall, ru.ru_maxrss, cpu);
    fclose(out);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
