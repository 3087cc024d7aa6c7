/*
 * main.c — tallyd: command line, start-up, the loop of cycles, signals and
 * reloads, shutdown.
 *
 *   tallyd [-c FILE] [-f] [-t] [--once] [--now ISO8601] [-p PIDFILE] [-v]
 *          [--plugin-dir DIR] [--list-plugins]
 *
 * Signal handlers only set flags; the loop sleeps in pselect (signals
 * unblocked only there) until the next cycle, the next local midnight, or
 * a signal: no polling, no CPU between cycles.
 */
#include "agent.h"
#include "civil/civil.h"
#include "clock.h"
#include "conf.h"
#include "cycle.h"
#include "exportq.h"
#include "host.h"
#include "log.h"
#include "runlock.h"
#include "selfstats.h"
#include "spool.h"
#include "startcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TALLY_CONF_FILE
#define TALLY_CONF_FILE "/etc/tally/tallyd.conf"
#endif
#ifndef TALLY_VERSION
#define TALLY_VERSION "0"
#endif

static volatile sig_atomic_t got_term, got_hup, got_usr1;
/* The state_dir lock (and pidfile) of a running agent; NULL for -t. */
static runlock *run_lock;

struct options {
    const char *conf_file;
    const char *plugin_dir;
    const char *pidfile;
    const char *now;
    const char *recompute; /* "FROM..TO", business dates */
    int foreground, test_only, once, verbose, list_plugins;
};

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        got_term = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGUSR1)
        got_usr1 = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tallyd [-c FILE] [-f] [-t] [--once] [--now ISO8601] [-p PIDFILE] [-v]\n"
            "              [--recompute FROM..TO] [--plugin-dir DIR] [--list-plugins] [--version]\n"
            "  -c FILE          config file (default " TALLY_CONF_FILE ")\n"
            "  -f               stay in the foreground\n"
            "  -t               check the config and exit: 0 good, 1 with messages\n"
            "  --once           run one cycle, export, and exit\n"
            "  --now ISO8601    take this instant as the current time (with Z or offset)\n"
            "  --recompute FROM..TO\n"
            "                   re-read the sources for these business days (YYYY-MM-DD),\n"
            "                   replace them, export, and exit\n"
            "  -p PIDFILE       write the process id to PIDFILE\n"
            "  -v               log at debug level\n"
            "  --plugin-dir DIR load plugins from DIR (else the config's plugin_dir)\n"
            "  --list-plugins   list the plugins, their kinds and options, and exit\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_ONCE = 256, OPT_NOW, OPT_PLUGIN_DIR, OPT_LIST, OPT_VERSION, OPT_RECOMPUTE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"test", no_argument, NULL, 't'},
        {"once", no_argument, NULL, OPT_ONCE},
        {"now", required_argument, NULL, OPT_NOW},
        {"recompute", required_argument, NULL, OPT_RECOMPUTE},
        {"pidfile", required_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"list-plugins", no_argument, NULL, OPT_LIST},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.conf_file = TALLY_CONF_FILE};
    int c;
    while ((c = getopt_long(argc, argv, "c:ftp:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->conf_file = optarg;
            break;
        case 'f':
            o->foreground = 1;
            break;
        case 't':
            o->test_only = 1;
            break;
        case OPT_ONCE:
            o->once = 1;
            break;
        case OPT_NOW:
            o->now = optarg;
            break;
        case OPT_RECOMPUTE:
            o->recompute = optarg;
            o->once = 1;
            break;
        case 'p':
            o->pidfile = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case OPT_PLUGIN_DIR:
            o->plugin_dir = optarg;
            break;
        case OPT_LIST:
            o->list_plugins = 1;
            break;
        case OPT_VERSION:
            printf("tallyd %s (plugin ABI %u)\n", TALLY_VERSION, TALLY_PLUGIN_ABI_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tallyd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

/* loader_choose_fn: the plugins whose sections the config file (arg)
 * uses; -1 (load all) when it does not parse without them. */
static int used_by_config(const char *const *stems, size_t n, unsigned char *load, void *arg)
{
    return conf_used_plugins(arg, stems, n, load);
}

/* -t and --list-plugins check and list every plugin; a running agent
 * loads only those its config uses. */
static loader_choose_fn chooser(const struct options *o)
{
    return o->test_only || o->list_plugins ? NULL : used_by_config;
}

static int load_plugins(const struct options *o, plugin_set **out, char *dir, size_t cap)
{
    int line = 0, from_file = 0;
    if (o->plugin_dir != NULL)
        snprintf(dir, cap, "%s", o->plugin_dir);
    else if ((from_file = conf_prescan_plugin_dir(o->conf_file, dir, cap, &line)) == -2)
        return -1; /* the config file itself is refused, and said why */
    else if (from_file != 1)
        snprintf(dir, cap, "%s", TALLY_PLUGIN_DIR);
    if (loader_scan(dir, chooser(o), (void *)o->conf_file, out) == 0)
        return 0;
    /* Say where the directory came from, so the right thing gets fixed. */
    if (o->plugin_dir != NULL)
        log_msg(TALLY_LOG_ERR, "(plugin_dir '%s' is the one --plugin-dir gave)", dir);
    else if (from_file == 1)
        log_msg(TALLY_LOG_ERR, "%s:%d: plugin_dir '%s' is set here", o->conf_file, line, dir);
    else
        log_msg(TALLY_LOG_ERR, "(%s %s and no --plugin-dir was given, so the built-in %s was used)",
                o->conf_file, from_file < 0 ? "cannot be read" : "sets no plugin_dir", dir);
    return -1;
}

/* Make the config live: zone and logging. */
static void apply_conf(const conf *c, int verbose)
{
    clock_set_zone(c->timezone);
    log_set_target(c->log_target);
    log_set_level(verbose ? TALLY_LOG_DEBUG : c->log_level);
}

/* path from the current directory, as an absolute path in buf (the
 * daemon moves to / and still reads the config at HUP and removes the
 * pidfile at exit). */
static const char *absolute(const char *path, char *buf, size_t cap)
{
    char cwd[4096];
    if (path == NULL || path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return path;
    int n = snprintf(buf, cap, "%s/%s", cwd, path);
    return n > 0 && (size_t)n < cap ? buf : path;
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

static void install_signals(sigset_t *blocked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Blocked except inside pselect, so none is missed between a check of
     * the flags and the sleep. */
    sigemptyset(blocked);
    sigaddset(blocked, SIGTERM);
    sigaddset(blocked, SIGINT);
    sigaddset(blocked, SIGHUP);
    sigaddset(blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, blocked, NULL);
}

/* Sleep until next_cycle (monotonic) or the business day's end, whichever
 * comes first, or until a signal arrives. */
static void sleep_until(double next_cycle)
{
    tally_day today;
    double wait = next_cycle - civil_mono_seconds();
    if (clock_day_of(clock_now(), &today) == 0) {
        /* A little past midnight, so the cycle sees the new day. */
        double to_midnight = (double)(today.end_utc - clock_now()) + 0.05;
        if (to_midnight < wait)
            wait = to_midnight;
    }
    if (wait <= 0)
        return;
    sigset_t none;
    sigemptyset(&none);
    struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
    pselect(0, NULL, NULL, NULL, &ts, &none);
}

static int start_agent(agent *a)
{
    if (state_open(a->conf->state_dir, &a->state) != 0 ||
        spool_open(a->conf->state_dir, &a->spool) != 0)
        return -1;
    if (host_start_all(a) != 0)
        return -1;
    a->exports = exportq_start(a);
    return a->exports ? 0 : -1;
}

/* Plugins kept loaded because an abandoned export thread may still run
 * their code: a global, so the leak checker sees them as reachable. */
static plugin_set *kept_plugins;
static int abandoned_exports;

static void stop_agent(agent *a)
{
    exportq_stop(a->exports, TALLY_EXPORT_GRACE_MS);
    a->exports = NULL;
    for (size_t i = 0; i < a->n_hosts; i++)
        abandoned_exports |= a->hosts[i].abandoned;
    host_stop_all(a);
    /* An abandoned export thread may still use its spool: keep it open. */
    if (!abandoned_exports)
        spool_close(a->spool);
    a->spool = NULL;
    host_cycle_reset(a);
    free(a->counters);
    a->counters = NULL;
    a->cap_counters = 0;
    state_close(a->state);
    a->state = NULL;
}

/* HUP: parse the file again; a bad file is reported and the running
 * config stays. */
static void reload(agent *a, const struct options *o)
{
    conf *fresh = NULL;
    plugin_set *plugins = NULL;
    log_msg(TALLY_LOG_INFO, "reloading %s", o->conf_file);
    /* The new config may use plugins the old one did not: they load into
     * a set of their own (dlopen shares the ones both use). A new
     * state_dir must be this agent's alone before anything uses it. */
    if (loader_scan(a->plugins->dir, chooser(o), (void *)o->conf_file, &plugins) != 0 ||
        conf_load(o->conf_file, plugins, plugins->dir, &fresh) != 0 ||
        startcheck_run(fresh, NULL) != 0 || runlock_move(run_lock, fresh->state_dir) != 0) {
        log_msg(TALLY_LOG_ERR, "reload of %s failed (see above); keeping the running config",
                o->conf_file);
        conf_free(fresh);
        loader_free(plugins);
        return;
    }
    conf *old = a->conf;
    plugin_set *old_plugins = a->plugins;
    stop_agent(a);
    a->conf = fresh;
    a->plugins = plugins;
    apply_conf(fresh, o->verbose);
    if (start_agent(a) == 0) {
        conf_free(old);
        /* An abandoned export thread may still run the old plugins' code. */
        if (abandoned_exports)
            plugins->older = old_plugins;
        else
            loader_free(old_plugins);
        log_msg(TALLY_LOG_INFO, "reloaded %s", o->conf_file);
        return;
    }
    log_msg(TALLY_LOG_ERR, "the new config of %s did not start; going back to the old one",
            o->conf_file);
    stop_agent(a);
    conf_free(fresh);
    a->conf = old;
    a->plugins = old_plugins;
    if (abandoned_exports)
        old_plugins->older = plugins;
    else
        loader_free(plugins);
    apply_conf(old, o->verbose);
    if (runlock_move(run_lock, old->state_dir) != 0) {
        got_term = 1; /* the old state_dir is someone else's now */
        return;
    }
    if (start_agent(a) != 0) {
        stop_agent(a); /* nothing runs now: run_loop ends */
        got_term = 1;
    }
}

/* --recompute FROM..TO: business dates, both included, as the instants
 * [first->start_utc, last->end_utc) in the business zone. */
static int recompute_range(const char *range, tally_day *first, tally_day *last)
{
    const char *dots = strstr(range, "..");
    char from[TALLY_DATE_LEN + 1], to[TALLY_DATE_LEN + 1];
    if (dots == NULL || dots - range != TALLY_DATE_LEN - 1 ||
        strlen(dots + 2) != TALLY_DATE_LEN - 1) {
        log_msg(TALLY_LOG_ERR,
                "--recompute '%s': give business dates as FROM..TO, e.g. 2026-11-01..2026-11-07",
                range);
        return -1;
    }
    snprintf(from, sizeof(from), "%.*s", TALLY_DATE_LEN - 1, range);
    snprintf(to, sizeof(to), "%s", dots + 2);
    if (clock_day_by_date(from, first) != 0 || clock_day_by_date(to, last) != 0 ||
        strcmp(from, to) > 0) {
        log_msg(TALLY_LOG_ERR,
                "--recompute '%s': not two valid dates with FROM <= TO (YYYY-MM-DD..YYYY-MM-DD)",
                range);
        return -1;
    }
    return 0;
}

static int recompute(agent *a, const char *range)
{
    tally_day first, last;
    if (recompute_range(range, &first, &last) != 0 ||
        cycle_recompute(a, first.start_utc, last.end_utc) != 0)
        return -1;
    log_msg(TALLY_LOG_INFO, "recomputed the business days %s to %s", first.date, last.date);
    return 0;
}

/* Everything a start would refuse that can be known before starting, for
 * -t and the start alike: the config's own checks ran in conf_load. */
static int check_start(const struct options *o, const conf *c)
{
    tally_day first, last;
    clock_set_zone(c->timezone); /* for the dates of --recompute */
    int bad = startcheck_run(c, o->pidfile) != 0;
    if (o->recompute != NULL && recompute_range(o->recompute, &first, &last) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

/* --once promises one cycle, exported: its exports may take long (a
 * first export of a year of history into a database, say), longer than
 * the grace a shutdown gives. So it waits for them, each bounded by its
 * own timeouts, for up to ONCE_EXPORT_S, or until a TERM or INT; then
 * the shutdown's grace applies to what still runs. */
#define ONCE_EXPORT_S 900

static void once_drain(agent *a)
{
    for (int s = 0; s < ONCE_EXPORT_S && !got_term; s++)
        if (exportq_drain(a->exports, 1000) == 0)
            return;
}

static int run_loop(agent *a, const struct options *o)
{
    double next = civil_mono_seconds();
    for (;;) {
        if (got_hup) {
            got_hup = 0;
            reload(a, o);
        }
        /* Only when a failed reload left nothing running; a TERM that came
         * while sleeping still gets the cycle below: TERM finishes with a
         * last cycle and export, so nothing counted since the previous
         * cycle is left unexported. */
        if (a->state == NULL)
            break;
        got_usr1 = 0;
        double started = civil_mono_seconds();
        cycle_run(a);
        if (o->once) {
            once_drain(a);
            break;
        }
        if (got_term)
            break;
        next = started + (double)a->conf->interval;
        while (!got_term && !got_hup && !got_usr1 && civil_mono_seconds() < next) {
            tally_day before;
            clock_day_of(clock_now(), &before);
            sleep_until(next);
            tally_day after;
            /* Midnight passed: run the cycle that rolls the day over now. */
            if (clock_day_of(clock_now(), &after) == 0 && strcmp(after.date, before.date) != 0)
                break;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) != 0)
        return 1;
    if (o.verbose)
        log_set_level(TALLY_LOG_DEBUG);
    agent a = {0};
    char dir[4096];
    if (load_plugins(&o, &a.plugins, dir, sizeof(dir)) != 0)
        return 1;
    if (o.list_plugins) {
        conf_list_plugins(a.plugins, stdout);
        loader_free(a.plugins);
        return 0;
    }
    int64_t now_utc = 0;
    int32_t nanos;
    if (o.now != NULL && clock_parse_iso8601(o.now, &now_utc, &nanos) != 0) {
        log_msg(TALLY_LOG_ERR,
                "--now '%s' is not an ISO 8601 instant with a zone: use e.g. "
                "2026-11-22T03:00:00Z or 2026-11-22T11:00:00+08:00",
                o.now);
        return 1;
    }
    if (conf_load(o.conf_file, a.plugins, a.plugins->dir, &a.conf) != 0) {
        loader_free(a.plugins);
        return 1;
    }
    if (check_start(&o, a.conf) != 0) {
        conf_free(a.conf);
        loader_free(a.plugins);
        return 1;
    }
    if (o.test_only) {
        printf("%s: config OK (%zu plugin instance%s)\n", o.conf_file, a.conf->n_inst,
               a.conf->n_inst == 1 ? "" : "s");
        conf_free(a.conf);
        loader_free(a.plugins);
        return 0;
    }
    apply_conf(a.conf, o.verbose);
    if (o.now != NULL)
        clock_set_now(now_utc, nanos);
    char conf_abs[4096 + 4096], pid_abs[4096 + 4096];
    if (!o.foreground && !o.once) {
        o.conf_file = absolute(o.conf_file, conf_abs, sizeof(conf_abs));
        o.pidfile = absolute(o.pidfile, pid_abs, sizeof(pid_abs));
    }
    /* Before daemonizing, so a refusal reaches the terminal. */
    runlock *lock = NULL;
    if (runlock_take(a.conf->state_dir, o.pidfile, &lock) != 0) {
        conf_free(a.conf);
        loader_free(a.plugins);
        return 1;
    }
    run_lock = lock;
    if (!o.foreground && !o.once && daemonize() != 0) {
        log_msg(TALLY_LOG_ERR, "cannot become a daemon: %s; run with -f", strerror(errno));
        return 1;
    }
    if (runlock_write_pid(lock) != 0)
        return 1;
    sigset_t blocked;
    install_signals(&blocked);
    int rc = 0;
    if (selfstats_new(TALLY_VERSION, (int64_t)time(NULL), &a.self) != 0 || start_agent(&a) != 0)
        rc = 1;
    else if (o.recompute != NULL && recompute(&a, o.recompute) != 0)
        rc = 1;
    else
        run_loop(&a, &o);
    stop_agent(&a);
    runlock_release(lock);
    /* One cycle run for a script or a timer: its status says whether
     * every plugin did its part (the running agent only logs). */
    if (rc == 0 && o.once && a.failures > 0) {
        log_msg(TALLY_LOG_ERR, "--once: %u plugin step%s failed (see above); exit status 1",
                (unsigned)a.failures, a.failures == 1 ? "" : "s");
        rc = 1;
    }
    if (rc == 0)
        log_msg(TALLY_LOG_INFO, "stopped");
    /* A hung export thread is still inside a plugin: unmapping the plugin
     * or freeing what it reads would crash the process on its way out. */
    if (abandoned_exports) {
        kept_plugins = a.plugins;
        _exit(rc);
    }
    selfstats_free(a.self);
    conf_free(a.conf);
    loader_free(a.plugins);
    return rc;
}
