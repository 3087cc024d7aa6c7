/*
 * watch.c — `tally watch`: live values and per-second rates.
 *
 * On a terminal each refresh redraws the screen in place, as top and
 * varnishstat do: cursor home, every line cleared to its end, the rest of the
 * screen cleared below. Elsewhere (a pipe, a file, a test) escape codes would
 * only be noise, so each refresh is a plain block after a blank line.
 *
 * The signal handler only sets a flag. The wait blocks SIGINT and SIGTERM,
 * checks the flag, and sleeps in pselect() with them unblocked: a signal
 * that lands anywhere, even just before the sleep, ends it at once.
 * Rates divide by the time measured between two samples, not the interval
 * asked for, so a slow terminal or a late wake-up does not skew them.
 */
#include "tool.h"

#include "civil/civil.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

struct watch_state {
    const struct watch_opts *w;
    int tty;
    unsigned rows; /* terminal height; 0 when unknown or not a terminal */
    struct snapshot cur, prev;
    double cur_t, prev_t; /* CLOCK_MONOTONIC seconds of each sample */
    long long frames;     /* refreshes shown so far */
    tally_info info;
};

/* Column widths of one refresh. */
struct widths {
    int name, value, rate;
};

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restart writes; pselect() is never restarted, so the wait still ends. */
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -errno;
    return 0;
}

static struct timespec timespec_of(double secs)
{
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    return ts;
}

/* Sleep until deadline (monotonic seconds). Returns 1 if a signal asked us
 * to stop, 0 when the deadline came. */
static int wait_until(double deadline)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!stop_requested) {
        double left = deadline - civil_mono_seconds();
        if (left <= 0)
            break;
        struct timespec ts = timespec_of(left);
        pselect(0, NULL, NULL, NULL, &ts, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return stop_requested != 0;
}

static unsigned terminal_rows(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
        return 0;
    return ws.ws_row;
}

static int sample_region(void *arg)
{
    struct watch_state *st = arg;
    int rc = tally_info_get(st->w->region, &st->info);
    if (rc == 0)
        rc = snapshot_take(&st->cur, st->w->region, st->w->prefix);
    return rc;
}

/* Read the region once: the previous sample becomes prev. */
static int sample(struct watch_state *st)
{
    struct snapshot t = st->prev;
    st->prev = st->cur;
    st->cur = t;
    st->prev_t = st->cur_t;
    /* Guarded here, not only by the caller: a jump out of watch_run would
     * leave its snapshots unfreed. */
    int rc = tally_guarded(st->w->region, sample_region, st);
    st->cur_t = civil_mono_seconds();
    if (st->tty)
        st->rows = terminal_rows();
    return rc;
}

/* "-" when there is nothing to compare with: the first refresh, or a
 * counter registered since the last one. */
static void rate_format(const struct watch_state *st, const struct tool_counter *c, char *buf,
                        size_t cap)
{
    const struct tool_counter *p = st->frames > 0 ? snapshot_find(&st->prev, c->name) : NULL;
    double secs = st->cur_t - st->prev_t;
    if (p == NULL || secs <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    /* Values wrap modulo 2^64 like the adds do; so does their difference. */
    int64_t delta = (int64_t)((uint64_t)c->value - (uint64_t)p->value);
    snprintf(buf, cap, "%.1f", (double)delta / secs);
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static struct widths widths_of(const struct watch_state *st, size_t shown)
{
    struct widths w = {(int)strlen("NAME"), (int)strlen("VALUE"), (int)strlen("RATE/s")};
    char buf[64];
    for (size_t i = 0; i < shown; i++) {
        const struct tool_counter *c = &st->cur.v[i];
        w.name = max_int(w.name, (int)strlen(c->name));
        w.value = max_int(w.value, snprintf(buf, sizeof(buf), "%" PRId64, c->value));
        rate_format(st, c, buf, sizeof(buf));
        w.rate = max_int(w.rate, (int)strlen(buf));
    }
    return w;
}

/* How many counters fit: a terminal frame taller than the screen would
 * scroll, and the next cursor-home would no longer redraw it in place. */
static size_t counters_shown(const struct watch_state *st, int *cut)
{
    size_t n = st->cur.n;
    *cut = 0;
    if (!st->tty || st->rows == 0)
        return n;
    /* Two header lines, and the last row stays free for the cursor. */
    size_t room = st->rows > 3 ? st->rows - 3 : 0;
    if (n <= room)
        return n;
    *cut = 1;
    return room > 0 ? room - 1 : 0;
}

static void frame_print(const struct watch_state *st)
{
    const char *eol = st->tty ? "\033[K\n" : "\n";
    const tally_info *in = &st->info;
    int cut;
    size_t shown = counters_shown(st, &cut);
    struct widths w = widths_of(st, shown);
    char rate[64];

    if (st->tty)
        fputs(st->frames == 0 ? "\033[H\033[2J" : "\033[H", stdout);
    else if (st->frames > 0)
        fputs("\n", stdout);
    printf("region %s  capacity %" PRIu32 "  used %" PRIu32 "  overflow %" PRIu64 "  every %gs",
           in->path, in->capacity, in->used, in->overflow, st->w->interval);
    /* Records libtally did not write are left out (their names could be
     * terminal escapes); snapshot_warn_skipped explains on stderr. */
    if (st->cur.skipped > 0)
        printf("  not shown %" PRIu32, st->cur.skipped);
    fputs(eol, stdout);
    printf("%-*s  %*s  %*s%s", w.name, "NAME", w.value, "VALUE", w.rate, "RATE/s", eol);
    for (size_t i = 0; i < shown; i++) {
        const struct tool_counter *c = &st->cur.v[i];
        rate_format(st, c, rate, sizeof(rate));
        printf("%-*s  %*" PRId64 "  %*s%s", w.name, c->name, w.value, c->value, w.rate, rate, eol);
    }
    if (cut)
        printf("... %zu more (give a PREFIX or a taller terminal)%s", st->cur.n - shown, eol);
    if (st->tty)
        fputs("\033[J", stdout);
    fflush(stdout);
}

/* Fixed-rate schedule; after a stall, start afresh rather than catch up. */
static double deadline_next(double deadline, double interval)
{
    double now = civil_mono_seconds();
    deadline += interval;
    return deadline < now ? now + interval : deadline;
}

int watch_run(const struct watch_opts *w)
{
    struct watch_state st;
    memset(&st, 0, sizeof(st));
    st.w = w;
    st.tty = isatty(STDOUT_FILENO);
    int rc = signals_install();
    if (rc != 0)
        return tool_fail(rc, "installing signal handlers");
    int status = TOOL_OK;
    double deadline = civil_mono_seconds();
    while (!stop_requested) {
        rc = sample(&st);
        if (rc != 0) {
            status = tool_fail(rc, "reading region '%s'", w->region_name);
            break;
        }
        if (st.frames == 0 || st.cur.skipped != st.prev.skipped)
            snapshot_warn_skipped(&st.cur, w->region_name);
        frame_print(&st);
        st.frames++;
        /* A failed write is reported once, by main, when it flushes. */
        if (ferror(stdout) || (w->count > 0 && st.frames >= w->count))
            break;
        deadline = deadline_next(deadline, w->interval);
        if (wait_until(deadline))
            break;
    }
    snapshot_free(&st.cur);
    snapshot_free(&st.prev);
    return status;
}
