/*
 * test_file_exporter.c — the file exporter, as the agent would drive it:
 * the built file.so loaded by the mock host, configured from a section
 * string, exporting snapshots to real files. Atomic replacement (also
 * against a concurrent reader), the mode whatever the umask, the path
 * template in the business zone, byte-identical formats, every check(),
 * and the failures that must keep the previous file: an unwritable
 * directory, a read-only file system, a full disk, a missing directory.
 *
 * Mounting needs root; the mount tests skip otherwise. When it can, the
 * test runs in its own mount namespace so a crash leaves no mount behind.
 */
#include "format.h"
#include "mock_host.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif

#define NOBODY 65534
#define NOW_EXAMPLE 1795316400 /* 2026-11-22T03:00:00Z */
#define TODAY_START 1795276800 /* 2026-11-21T16:00:00Z: 2026-11-22 00:00 in Shanghai */

static const tally_plugin *plugin;
static void *plugin_dl;
static char scratch[PATH_MAX];
static char mounted[PATH_MAX]; /* a tmpfs to unmount in teardown, or "" */

/* ---- scratch files ---- */

/* "<dir>/<leaf>" in buf (PATH_MAX bytes). */
static const char *join(char *buf, const char *dir, const char *leaf)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dir, leaf) >= PATH_MAX)
        fail_msg("path too long: %s/%s", dir, leaf);
    return buf;
}

static const char *spath(char *buf, const char *leaf)
{
    return join(buf, scratch, leaf);
}

static const char *smkdir(char *buf, const char *leaf)
{
    spath(buf, leaf);
    assert_int_equal(mkdir(buf, 0755), 0);
    return buf;
}

/* The whole file at path, NUL terminated; NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Entries in dir (without . and ..), and how many are temporary files. */
static int count_entries(const char *dir, int *temps)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *temps = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(e->d_name, ".tmp.") != NULL)
            (*temps)++;
    }
    closedir(d);
    return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* ---- snapshots ---- */

/* A snapshot and the state behind it: every listed user-day and daily
 * counter total with the seq of the cycle that last changed it (what the
 * mock host's history serves), and the snapshot's arrays, the rows of its
 * own cycle (snap_at). */
#define MAX_COUNTER_DAYS 4
typedef struct snap_buf {
    tally_snapshot s;
    tally_day_stats *days;
    tally_user_day_stats *user_days; /* the state's, by date then user */
    int64_t *ud_seq;
    size_t n_ud;
    tally_counter_day cds[MAX_COUNTER_DAYS];
    int64_t cd_seq[MAX_COUNTER_DAYS];
    size_t n_cd;
    tally_user_day_stats *changed_ud; /* the snapshot's arrays */
    tally_counter_day changed_cd[MAX_COUNTER_DAYS];
} snap_buf;

static const tally_counter_value counters[] = {{"api.requests.today", 12},
                                               {"api.requests.total", 4096}};

#define STATE_ID "0123456789abcdef0123456789abcdef"

/* The snapshot of cycle seq: its arrays hold the rows stamped seq. */
static void snap_at(snap_buf *b, int64_t seq)
{
    b->s.seq = seq;
    b->s.changed_after = seq - 1;
    b->s.n_user_days = 0;
    for (size_t i = 0; i < b->n_ud; i++)
        if (b->ud_seq[i] == seq)
            b->changed_ud[b->s.n_user_days++] = b->user_days[i];
    b->s.user_days = b->changed_ud;
    b->s.n_counter_days = 0;
    for (size_t i = 0; i < b->n_cd; i++)
        if (b->cd_seq[i] == seq)
            b->changed_cd[b->s.n_counter_days++] = b->cds[i];
    b->s.counter_days = b->changed_cd;
}

/* A snapshot at now with n_days closed Shanghai days (two users each):
 * about 1 KB of JSON per day, so size is chosen by n_days. It is cycle 1
 * of its state, so every row is in its arrays too. */
static void snap_make(snap_buf *b, size_t n_days, int64_t now)
{
    memset(b, 0, sizeof(*b));
    b->days = calloc(n_days + 1, sizeof(*b->days));
    b->user_days = calloc(2 * n_days + 1, sizeof(*b->user_days));
    b->changed_ud = calloc(2 * n_days + 1, sizeof(*b->changed_ud));
    b->ud_seq = calloc(2 * n_days + 1, sizeof(*b->ud_seq));
    assert_non_null(b->days);
    assert_non_null(b->user_days);
    assert_non_null(b->changed_ud);
    assert_non_null(b->ud_seq);
    for (size_t i = 0; i < n_days; i++) {
        tally_day_stats *d = &b->days[i];
        d->day_start_utc = TODAY_START - (int64_t)(n_days - i) * 86400;
        time_t local = (time_t)(d->day_start_utc + 8 * 3600);
        struct tm tm;
        gmtime_r(&local, &tm);
        strftime(d->date, sizeof(d->date), "%Y-%m-%d", &tm);
        d->total_requests = (int64_t)i * 7 + 3;
        d->error_requests = (int64_t)i % 3;
        d->success_requests = d->total_requests - d->error_requests;
        d->input_tokens = (int64_t)1 << 40;
        d->output_tokens = (int64_t)i * 1000;
        d->total_cost = 0.5 + (double)i;
        d->actual_total_cost = 0.25 + (double)i;
        d->avg_response_time_ms = 120.5;
        d->unique_models = 2;
        d->unique_providers = 1;
        for (int u = 0; u < 2; u++) {
            tally_user_day_stats *ud = &b->user_days[2 * i + (size_t)u];
            memcpy(ud->date, d->date, sizeof(ud->date));
            ud->day_start_utc = d->day_start_utc;
            ud->user_id = u ? "user-b" : "user-a";
            ud->total_requests = d->total_requests + u;
            ud->success_requests = ud->total_requests;
            ud->total_cost = 0.125 * u;
            b->ud_seq[2 * i + (size_t)u] = 1;
        }
        b->s.summary.all_time_requests += d->total_requests;
    }
    b->n_ud = 2 * n_days;
    b->cds[0] = (tally_counter_day){"2026-11-21", "api.requests.today", 77};
    b->cd_seq[0] = 1;
    b->n_cd = 1;
    b->s.timezone = "Asia/Shanghai";
    b->s.now_utc = now;
    b->s.generated_utc = now + 1;
    b->s.days = b->days;
    b->s.n_days = n_days;
    b->s.summary.cutoff_utc = TODAY_START;
    b->s.summary.inventory = (tally_inventory){3, 2, 5, 4};
    b->s.today = (tally_totals){.total_requests = 9, .success_requests = 8, .error_requests = 1};
    b->s.combined = b->s.today;
    b->s.combined.total_requests += b->s.summary.all_time_requests;
    b->s.counters = counters;
    b->s.n_counters = 2;
    memcpy(b->s.state_id, STATE_ID, sizeof(STATE_ID));
    if (n_days > 0)
        memcpy(b->s.oldest_kept, b->days[0].date, TALLY_DATE_LEN);
    snap_at(b, 1);
}

static void snap_free(snap_buf *b)
{
    free(b->days);
    free(b->user_days);
    free(b->changed_ud);
    free(b->ud_seq);
}

/* b's snapshot with every listed row in its arrays: what a full
 * rendering of the state shows. */
static tally_snapshot snap_full(const snap_buf *b)
{
    tally_snapshot s = b->s;
    s.user_days = b->user_days;
    s.n_user_days = b->n_ud;
    s.counter_days = b->cds;
    s.n_counter_days = b->n_cd;
    return s;
}

/* What tally_format_render makes of s (the bytes a file must hold). */
static char *render(tally_format f, const char *table, const tally_snapshot *s, size_t *len)
{
    tally_format_opts o = {.csv_table = table};
    char *out = NULL;
    assert_int_equal(tally_format_render(f, s, &o, &out, len), 0);
    return out;
}

/* ---- a plugin instance ---- */

typedef mock_host_instance inst;

/* Parse body, check it and init an instance; all must succeed, quietly. */
static void inst_open(inst *in, const char *body)
{
    if (mock_host_start(in, plugin, mock_host_new(), "summary", body) != 0)
        fail_msg("%s", mock_host_parse_error());
    assert_int_equal(mock_host_log_count(in->h), 0);
    assert_non_null(in->ctx);
}

static void inst_close(inst *in)
{
    mock_host_stop(in);
    mock_host_free(in->h);
}

/* Export b's snapshot, the mock host serving b's state as its history,
 * and only for that snapshot's own pointer, as the agent does. */
static int inst_export(inst *in, const snap_buf *b)
{
    mock_host_set_history(in->h, b->user_days, b->ud_seq, b->n_ud, b->cds, b->cd_seq, b->n_cd);
    mock_host_set_snapshot(in->h, &b->s);
    return plugin->exporter.export_snapshot(in->ctx, &b->s);
}

static char *body_for(const char *path, const char *rest)
{
    char *body = NULL;
    assert_true(asprintf(&body, "path = \"%s\" %s", path, rest) > 0);
    return body;
}

/* ---- atomic replacement ---- */

static void test_json_atomic_mode_replaces(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, "json");
    join(path, dir, "summary.json");
    char *body = body_for(path, "mode = \"0640\"");
    inst in;
    inst_open(&in, body);
    free(body);

    /* mkstemp makes 0600 and a umask of 077 would strip 0640 to 0600:
     * only an explicit fchmod gives the file the mode asked for. */
    mode_t old_umask = umask(077);
    snap_buf a, b;
    snap_make(&a, 3, NOW_EXAMPLE);
    snap_make(&b, 5, NOW_EXAMPLE + 60);
    int rc_a = inst_export(&in, &a);
    struct stat st_a;
    int stat_a = stat(path, &st_a);
    int rc_b = inst_export(&in, &b);
    umask(old_umask);
    assert_int_equal(rc_a, 0);
    assert_int_equal(stat_a, 0);
    assert_int_equal(st_a.st_mode & 07777, 0640);
    assert_int_equal(rc_b, 0);

    struct stat st_b;
    assert_int_equal(stat(path, &st_b), 0);
    assert_int_equal(st_b.st_mode & 07777, 0640);
    /* Replaced by rename, not rewritten in place. */
    assert_true(st_a.st_ino != st_b.st_ino);

    char *text = slurp(path, NULL);
    assert_non_null(text);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (root == NULL)
        fail_msg("%s is not JSON: %s (line %d)", path, err.text, err.line);
    static const char *const keys[] = {"timezone",  "now",         "generated_at", "days",
                                       "user_days", "summary",     "today",        "combined",
                                       "counters",  "counter_days"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(root, keys[i]) == NULL)
            fail_msg("%s has no top-level key \"%s\"", path, keys[i]);
    assert_int_equal(json_array_size(json_object_get(root, "days")), 5);
    assert_string_equal(json_string_value(json_object_get(root, "now")), "2026-11-22T03:01:00Z");
    json_decref(root);
    free(text);

    int temps;
    assert_int_equal(count_entries(dir, &temps), 1);
    assert_int_equal(temps, 0);
    snap_free(&a);
    snap_free(&b);
    inst_close(&in);
}

static void test_default_mode_ignores_umask(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, "defmode");
    join(path, dir, "tally.prom");
    char *body = body_for(path, "format = \"prometheus\"");
    inst in;
    inst_open(&in, body);
    free(body);
    snap_buf a;
    snap_make(&a, 1, NOW_EXAMPLE);
    mode_t old_umask = umask(077);
    int rc = inst_export(&in, &a);
    umask(old_umask);
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    snap_free(&a);
    inst_close(&in);
}

/* A reader that opens the file over and over while exports replace it
 * must always see one whole document, old or new. */
static void test_reader_never_sees_partial_file(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, "reader");
    join(path, dir, "summary.json");
    char *body = body_for(path, "");
    inst in;
    inst_open(&in, body);
    free(body);
    snap_buf small, big;
    snap_make(&small, 50, NOW_EXAMPLE);
    snap_make(&big, 600, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &small), 0);

    atomic_int *stop =
        mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(stop != MAP_FAILED);
    atomic_store(stop, 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child's verdict is its exit status: 0 all whole, 1 a partial
         * or unreadable document, 2 too few reads to mean anything. */
        int reads = 0;
        while (!atomic_load(stop) || reads < 20) {
            size_t len;
            char *text = slurp(path, &len);
            json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
            free(text);
            if (doc == NULL)
                _exit(1);
            json_decref(doc);
            reads++;
        }
        _exit(reads >= 20 ? 0 : 2);
    }
    int failed = 0;
    for (int i = 0; i < 60; i++)
        failed += inst_export(&in, i % 2 ? &small : &big) != 0;
    atomic_store(stop, 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    munmap(stop, sizeof(*stop));
    assert_int_equal(failed, 0);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("the reader %s",
                 WEXITSTATUS(status) == 1 ? "saw a partial or broken file" : "did not get to read");
    int temps;
    assert_int_equal(count_entries(dir, &temps), 1);
    assert_int_equal(temps, 0);
    snap_free(&small);
    snap_free(&big);
    inst_close(&in);
}

/* ---- the path template in the business zone ---- */

static void export_in_zone(const char *zone, const char *leaf, const char *expected,
                           const char *other)
{
    char dir[PATH_MAX], path[PATH_MAX], want[PATH_MAX];
    smkdir(dir, leaf);
    join(path, dir, "summary-%Y-%m-%d.json");
    char *body = body_for(path, "");
    inst in;
    inst_open(&in, body);
    free(body);
    assert_int_equal(mock_host_set_timezone(in.h, zone), 0);
    snap_buf a;
    snap_make(&a, 1, 1795280400); /* 2026-11-21T17:00:00Z */
    assert_int_equal(inst_export(&in, &a), 0);
    join(want, dir, expected);
    if (access(want, F_OK) != 0)
        fail_msg("in %s, expected %s", zone, want);
    join(want, dir, other);
    assert_int_equal(access(want, F_OK), -1);
    int temps;
    assert_int_equal(count_entries(dir, &temps), 1);
    snap_free(&a);
    inst_close(&in);
}

static void test_template_in_business_zone(void **state)
{
    /* 17:00 UTC is 01:00 on the 22nd in Shanghai (UTC+8) and 12:00 on the
     * 21st in New York (EST, UTC-5, since November 1st). */
    export_in_zone("Asia/Shanghai", "zone-sh", "summary-2026-11-22.json",
                   "summary-2026-11-21.json");
    export_in_zone("America/New_York", "zone-ny", "summary-2026-11-21.json",
                   "summary-2026-11-22.json");
}

/* ---- formats ---- */

static void export_compare(const char *leaf, const char *options, tally_format f, const char *table)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, leaf);
    join(path, dir, "out");
    char *body = body_for(path, options);
    inst in;
    inst_open(&in, body);
    free(body);
    snap_buf a;
    snap_make(&a, 4, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &a), 0);
    size_t want_len = 0, got_len = 0;
    char *want = render(f, table, &a.s, &want_len);
    char *got = slurp(path, &got_len);
    assert_non_null(got);
    assert_true(want_len > 0);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
    free(got);
    snap_free(&a);
    inst_close(&in);
}

static void test_formats_byte_identical(void **state)
{
    export_compare("fmt-json", "", TALLY_FORMAT_JSON, NULL);
    export_compare("fmt-prom", "format = \"prometheus\"", TALLY_FORMAT_PROMETHEUS, NULL);
    export_compare("fmt-csv", "format = \"csv\"", TALLY_FORMAT_CSV, "days");
    export_compare("fmt-csv-ud", "format = \"csv\" table = \"user_days\"", TALLY_FORMAT_CSV,
                   "user_days");
}

/* ---- check() ---- */

/* body fails check; some logged line names the option, the instance and
 * line 7, and contains each of the extra words. */
static void check_rejects(const char *body, const char *option, ...)
{
    tally_host *h = mock_host_new();
    cfg_t *section = mock_host_section_at(plugin, "summary", body, 7);
    if (section == NULL)
        fail_msg("config does not parse: %s", mock_host_parse_error());
    int rc = mock_host_check(plugin, h, section);
    if (rc != TALLY_HOST_ERR)
        fail_msg("check accepted: %s", body);
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "'%s'", option);
    const char *line = mock_host_log_find(h, quoted);
    if (line == NULL)
        fail_msg("no message names option %s for: %s", quoted, body);
    if (strstr(line, ":7:") == NULL || strstr(line, "\"summary\"") == NULL)
        fail_msg("message lacks line 7 or the instance: %s", line);
    va_list ap;
    va_start(ap, option);
    for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
        if (strstr(line, w) == NULL)
            fail_msg("message lacks \"%s\": %s", w, line);
    va_end(ap);
    /* init refuses what check refuses, and builds nothing. */
    void *ctx = NULL;
    assert_int_equal(plugin->init(h, mock_host_api(), section, &ctx), TALLY_HOST_ERR);
    assert_null(ctx);
    mock_host_section_free(section);
    mock_host_free(h);
}

static void test_check_rejects(void **state)
{
    check_rejects("path = \"/tmp/x\" format = \"xml\"", "format", "xml", "json", "prometheus",
                  "csv", NULL);
    check_rejects("path = \"/tmp/x\" format = \"JSON\"", "format", NULL);
    check_rejects("path = \"/tmp/x\" table = \"days\"", "table", "csv", NULL);
    check_rejects("path = \"/tmp/x\" format = \"prometheus\" table = \"days\"", "table", "csv",
                  NULL);
    check_rejects("path = \"/tmp/x\" format = \"csv\" table = \"weeks\"", "table", "weeks",
                  "user_days", NULL);
    check_rejects("path = \"/tmp/x\" mode = \"999\"", "mode", "999", "0777", NULL);
    check_rejects("path = \"/tmp/x\" mode = \"abc\"", "mode", "abc", NULL);
    check_rejects("path = \"/tmp/x\" mode = \"1000\"", "mode", NULL);
    check_rejects("path = \"/tmp/x\" mode = \"\"", "mode", NULL);
    check_rejects("format = \"json\"", "path", "required", NULL);
    check_rejects("path = \"\"", "path", "empty", NULL);
    check_rejects("path = \"/tmp/dir/\"", "path", "directory", NULL);
}

static void test_check_accepts_and_touches_nothing(void **state)
{
    static const char *const good[] = {
        "path = \"%s/a/summary.json\"",
        "path = \"%s/a/tally.prom\" format = \"prometheus\" mode = \"0600\"",
        "path = \"%s/a/days.csv\" format = \"csv\"",
        "path = \"%s/a/users-%%Y.csv\" format = \"csv\" table = \"user_days\" mode = \"0\"",
        "path = \"%s/a/x\" mode = \"0777\"",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char body[PATH_MAX + 200];
        assert_true(snprintf(body, sizeof(body), good[i], scratch) < (int)sizeof(body));
        tally_host *h = mock_host_new();
        cfg_t *section = mock_host_section(plugin, "summary", body);
        assert_non_null(section);
        if (mock_host_check(plugin, h, section) != 0)
            fail_msg("check refused %s: %s", body, mock_host_log_text(h, 0));
        assert_int_equal(mock_host_log_count(h), 0);
        mock_host_section_free(section);
        mock_host_free(h);
    }
    /* Checking is not exporting: the directory was never created. */
    char dir[PATH_MAX];
    assert_int_equal(access(spath(dir, "a"), F_OK), -1);
}

/* ---- failures keep the previous file ---- */

/* An instance writing <dir>/summary.json, with a first export done. */
static void prepare_previous(inst *in, const char *dir, char *path, snap_buf *prev,
                             char **prev_text, size_t *prev_len)
{
    join(path, dir, "summary.json");
    char *body = body_for(path, "");
    inst_open(in, body);
    free(body);
    snap_make(prev, 1, NOW_EXAMPLE);
    assert_int_equal(inst_export(in, prev), 0);
    *prev_text = slurp(path, prev_len);
    assert_non_null(*prev_text);
}

static void assert_unchanged(const char *dir, const char *path, const char *prev_text,
                             size_t prev_len, int entries)
{
    size_t len = 0;
    char *now_text = slurp(path, &len);
    assert_non_null(now_text);
    assert_int_equal(len, prev_len);
    assert_memory_equal(now_text, prev_text, prev_len);
    free(now_text);
    int temps;
    assert_int_equal(count_entries(dir, &temps), entries);
    assert_int_equal(temps, 0);
}

/* In the child: the export fails with EACCES and says so; the exit status
 * tells the parent which expectation failed. */
static int export_denied(inst *in, const snap_buf *big, const char *path)
{
    if (geteuid() == 0) {
        /* Root writes anywhere; become nobody to meet the permissions. */
        if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            return 10;
    }
    if (inst_export(in, big) != TALLY_HOST_ERR)
        return 11;
    const char *line = mock_host_log_find(in->h, path);
    if (line == NULL)
        return 12;
    if (strstr(line, strerror(EACCES)) == NULL)
        return 13;
    return 0;
}

static void test_unwritable_directory(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, "denied");
    inst in;
    snap_buf prev, big;
    char *prev_text;
    size_t prev_len;
    prepare_previous(&in, dir, path, &prev, &prev_text, &prev_len);
    snap_make(&big, 40, NOW_EXAMPLE);

    /* Owned by nobody, r-x: nobody may list it but not create in it. */
    if (geteuid() == 0)
        assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
    assert_int_equal(chmod(dir, 0500), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(export_denied(&in, &big, path)); /* _exit: no LSan in a setuid child */
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child: %d (10 setuid, 11 export did not fail, 12 path not logged, 13 no "
                 "EACCES text)",
                 WEXITSTATUS(status));
    assert_unchanged(dir, path, prev_text, prev_len, 1);
    free(prev_text);
    snap_free(&prev);
    snap_free(&big);
    inst_close(&in);
}

static int mount_tmpfs(const char *dir, const char *size)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        return -errno;
    if (snprintf(mounted, sizeof(mounted), "%s", dir) >= (int)sizeof(mounted))
        mounted[0] = '\0';
    return 0;
}

static int unmount_teardown(void **state)
{
    if (mounted[0] != '\0' && umount2(mounted, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", mounted, strerror(errno));
    mounted[0] = '\0';
    return 0;
}

#define SKIP_WITHOUT_MOUNT(rc, dir)                                                                \
    do {                                                                                           \
        if ((rc) != 0) {                                                                           \
            fprintf(stderr, "SKIP: cannot mount a tmpfs on %s (%s); run as root\n", dir,           \
                    strerror(-(rc)));                                                              \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static void test_read_only_file_system(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    smkdir(dir, "rofs");
    int rc = mount_tmpfs(dir, "1m");
    SKIP_WITHOUT_MOUNT(rc, dir);
    inst in;
    snap_buf prev, big;
    char *prev_text;
    size_t prev_len;
    prepare_previous(&in, dir, path, &prev, &prev_text, &prev_len);
    snap_make(&big, 40, NOW_EXAMPLE);
    assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                           "size=1m,mode=0755"),
                     0);
    assert_int_equal(inst_export(&in, &big), TALLY_HOST_ERR);
    const char *line = mock_host_log_find(in.h, path);
    assert_non_null(line);
    assert_non_null(strstr(line, strerror(EROFS)));
    assert_unchanged(dir, path, prev_text, prev_len, 1);
    free(prev_text);
    snap_free(&prev);
    snap_free(&big);
    inst_close(&in);
}

static void test_full_disk_then_space_freed(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], filler[PATH_MAX];
    smkdir(dir, "full");
    int rc = mount_tmpfs(dir, "512k");
    SKIP_WITHOUT_MOUNT(rc, dir);
    inst in;
    snap_buf prev, big;
    char *prev_text;
    size_t prev_len;
    prepare_previous(&in, dir, path, &prev, &prev_text, &prev_len);
    snap_make(&big, 250, NOW_EXAMPLE); /* some 250 KB: fits only without the filler */

    /* Fill what is left. */
    join(filler, dir, "filler");
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    static const char block[4096];
    ssize_t w;
    while ((w = write(fd, block, sizeof(block))) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);

    assert_int_equal(inst_export(&in, &big), TALLY_HOST_ERR);
    const char *line = mock_host_log_find(in.h, path);
    assert_non_null(line);
    if (strstr(line, strerror(ENOSPC)) == NULL)
        fail_msg("no ENOSPC text in: %s", line);
    assert_unchanged(dir, path, prev_text, prev_len, 2);

    /* Nothing to reset: with space again, the next export just works. */
    assert_int_equal(unlink(filler), 0);
    mock_host_log_clear(in.h);
    assert_int_equal(inst_export(&in, &big), 0);
    assert_int_equal(mock_host_log_count(in.h), 0);
    size_t want_len, got_len;
    char *want = render(TALLY_FORMAT_JSON, NULL, &big.s, &want_len);
    char *got = slurp(path, &got_len);
    assert_true(want_len > 128 * 1024);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
    free(got);
    int temps;
    assert_int_equal(count_entries(dir, &temps), 1);
    assert_int_equal(temps, 0);
    free(prev_text);
    snap_free(&prev);
    snap_free(&big);
    inst_close(&in);
}

static void test_missing_directory(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    spath(dir, "missing");
    join(path, dir, "sub/summary.json");
    char *body = body_for(path, "");
    inst in;
    inst_open(&in, body);
    free(body);
    snap_buf a;
    snap_make(&a, 2, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &a), TALLY_HOST_ERR);
    assert_int_equal(mock_host_log_count(in.h), 1);
    assert_int_equal(mock_host_log_level(in.h, 0), TALLY_LOG_ERR);
    const char *line = mock_host_log_text(in.h, 0);
    assert_non_null(strstr(line, path));
    char advice[PATH_MAX + 64];
    snprintf(advice, sizeof(advice), "create the directory %s/sub ", dir);
    if (strstr(line, strerror(ENOENT)) == NULL || strstr(line, advice) == NULL)
        fail_msg("unhelpful message: %s", line);
    assert_int_equal(access(dir, F_OK), -1);
    snap_free(&a);
    inst_close(&in);
}

/* ---- what changed: the single document ---- */

static int64_t inode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return (int64_t)st.st_ino;
}

/* The file at path holds exactly what format f renders of s. */
static void assert_file_renders(const char *path, tally_format f, const char *table,
                                const tally_snapshot *s)
{
    size_t want_len = 0, got_len = 0;
    char *want = render(f, table, s, &want_len);
    char *got = slurp(path, &got_len);
    assert_non_null(got);
    if (got_len != want_len || memcmp(got, want, want_len) != 0)
        fail_msg("%s is not the full rendering of the state (%zu bytes, want %zu)", path, got_len,
                 want_len);
    free(want);
    free(got);
}

/* User-day i changes in cycle seq (a late row for its day). */
static void change_user_day(snap_buf *b, size_t i, int64_t seq)
{
    b->user_days[i].total_requests += 100;
    b->user_days[i].success_requests += 100;
    b->ud_seq[i] = seq;
}

/* The next cycle's snapshot, a minute later. */
/* The next cycle at the same business instant (a --once at one --now,
 * as tests and benchmarks run): only the wall clock moved. */
static void next_cycle(snap_buf *b, int64_t seq)
{
    b->s.generated_utc += 60;
    snap_at(b, seq);
}

/* "<state_id>:<seq>:" starts the instance's mark. */
static void assert_mark_seq(inst *in, int64_t seq)
{
    const char *mark = mock_host_mark(in->h, "written");
    char want[64];
    snprintf(want, sizeof(want), "%s:%lld:", STATE_ID, (long long)seq);
    if (mark == NULL || strncmp(mark, want, strlen(want)) != 0)
        fail_msg("mark %s, want it to start with %s", mark ? mark : "(none)", want);
}

static void single_open(inst *in, char *dir, char *path, const char *leaf, const char *options)
{
    smkdir(dir, leaf);
    join(path, dir, "out");
    char *body = body_for(path, options);
    inst_open(in, body);
    free(body);
}

/* single_open, then a first export of a new state of n_days days. */
static void single_start(inst *in, char *dir, char *path, const char *leaf, snap_buf *b,
                         size_t n_days)
{
    single_open(in, dir, path, leaf, "");
    snap_make(b, n_days, NOW_EXAMPLE);
    assert_int_equal(inst_export(in, b), 0);
}

static void test_single_is_the_full_rendering(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], csv_dir[PATH_MAX], csv_path[PATH_MAX];
    inst json, csv;
    single_open(&json, dir, path, "whole-json", "");
    single_open(&csv, csv_dir, csv_path, "whole-csv", "format = \"csv\" table = \"user_days\"");
    snap_buf b;
    snap_make(&b, 4, NOW_EXAMPLE);
    assert_int_equal(inst_export(&json, &b), 0);
    assert_int_equal(inst_export(&csv, &b), 0);
    /* Cycle 2 changes one user-day: the snapshot carries that row only,
     * yet the files list every row, as a full rendering does. */
    change_user_day(&b, 3, 2);
    next_cycle(&b, 2);
    assert_int_equal(b.s.n_user_days, 1);
    assert_int_equal(inst_export(&json, &b), 0);
    assert_int_equal(inst_export(&csv, &b), 0);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);
    assert_file_renders(csv_path, TALLY_FORMAT_CSV, "user_days", &full);
    assert_int_equal(mock_host_history_open_count(json.h), 0);
    snap_free(&b);
    inst_close(&json);
    inst_close(&csv);
}

static void test_single_not_rewritten_when_only_generated_at_changed(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    snap_buf b;
    single_start(&in, dir, path, "only-now", &b, 3);
    assert_mark_seq(&in, 1);
    int64_t ino = inode_of(path);
    size_t len;
    char *before = slurp(path, &len);

    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), 0);
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_int_equal(inode_of(path), ino);
    char *after = slurp(path, NULL);
    assert_string_equal(after, before);
    free(after);
    /* The mark follows the cycles, so the next one reads the arrays. */
    assert_mark_seq(&in, 3);
    assert_int_equal(mock_host_log_count(in.h), 0);

    /* A later now is in the document: written, so it says how current
     * it is. */
    b.s.now_utc += 60;
    next_cycle(&b, 4);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);
    ino = inode_of(path);

    /* A file deleted by hand is written again. */
    assert_int_equal(unlink(path), 0);
    next_cycle(&b, 5);
    assert_int_equal(inst_export(&in, &b), 0);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);

    /* Another state (a new state_dir) is written whatever its seq. */
    ino = inode_of(path);
    memcpy(b.s.state_id, "ffffffffffffffffffffffffffffffff", 33);
    next_cycle(&b, 6);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);
    free(before);
    snap_free(&b);
    inst_close(&in);
}

static void test_single_rewritten_when_a_user_day_changed(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    snap_buf b;
    single_start(&in, dir, path, "late-row", &b, 3);

    /* From the snapshot's arrays: the mark is the cycle before. */
    int64_t ino = inode_of(path);
    change_user_day(&b, 0, 2);
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);

    /* From the history: cycle 3 changed a row, but its snapshot never
     * reached the exporter (a newer one replaced it); cycle 4's arrays
     * are empty, and the mark (2) lags. */
    ino = inode_of(path);
    change_user_day(&b, 5, 3);
    next_cycle(&b, 3);
    next_cycle(&b, 4);
    assert_int_equal(b.s.n_user_days, 0);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);
    full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);
    assert_mark_seq(&in, 4);

    /* A lagging mark and nothing changed since: not written. */
    ino = inode_of(path);
    next_cycle(&b, 5);
    next_cycle(&b, 6);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_int_equal(inode_of(path), ino);
    assert_mark_seq(&in, 6);
    assert_int_equal(mock_host_history_open_count(in.h), 0);
    snap_free(&b);
    inst_close(&in);
}

static void test_single_rewritten_when_totals_or_counters_changed(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    single_open(&in, dir, path, "totals", "");
    snap_buf b;
    snap_make(&b, 2, NOW_EXAMPLE);
    tally_counter_value live[2] = {counters[0], counters[1]};
    b.s.counters = live;
    assert_int_equal(inst_export(&in, &b), 0);

    int64_t ino = inode_of(path);
    b.s.today.total_requests++;
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);

    ino = inode_of(path);
    live[1].value++;
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);

    ino = inode_of(path);
    b.cds[0].value++;
    b.cd_seq[0] = 4;
    next_cycle(&b, 4);
    assert_int_equal(b.s.n_counter_days, 1);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(path) != ino);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);
    snap_free(&b);
    inst_close(&in);
}

/* A csv of the days lists no user-days: a changed one is no reason to
 * write it. Prometheus text is written every cycle (node_exporter
 * watches its mtime). */
static void test_single_per_format(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], prom_dir[PATH_MAX], prom_path[PATH_MAX];
    inst csv, prom;
    single_open(&csv, dir, path, "csv-days", "format = \"csv\"");
    single_open(&prom, prom_dir, prom_path, "prom-every", "format = \"prometheus\"");
    snap_buf b;
    snap_make(&b, 2, NOW_EXAMPLE);
    assert_int_equal(inst_export(&csv, &b), 0);
    assert_int_equal(inst_export(&prom, &b), 0);
    int64_t ino = inode_of(path), prom_ino = inode_of(prom_path);
    change_user_day(&b, 1, 2);
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&csv, &b), 0);
    assert_int_equal(inst_export(&prom, &b), 0);
    assert_int_equal(inode_of(path), ino);
    assert_true(inode_of(prom_path) != prom_ino);
    assert_null(mock_host_mark(prom.h, "written"));

    b.days[1].total_requests++;
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&csv, &b), 0);
    assert_true(inode_of(path) != ino);
    assert_file_renders(path, TALLY_FORMAT_CSV, "days", &b.s);
    snap_free(&b);
    inst_close(&csv);
    inst_close(&prom);
}

static void test_single_crash_between_write_and_mark(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    snap_buf b;
    single_start(&in, dir, path, "nomark", &b, 3);

    /* The file is in place when recording it fails: the export says so,
     * and the mark still says cycle 1. */
    change_user_day(&b, 2, 2);
    next_cycle(&b, 2);
    mock_host_fail_marks(in.h, true);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(in.h, path));
    mock_host_fail_marks(in.h, false);
    assert_mark_seq(&in, 1);

    /* The next export asks the history, finds cycle 2's row, and writes. */
    change_user_day(&b, 4, 3);
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&in, &b), 0);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);
    assert_mark_seq(&in, 3);
    snap_free(&b);
    inst_close(&in);
}

static void test_single_history_failing_keeps_the_file(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    single_open(&in, dir, path, "history-fails", "");
    snap_buf b;
    snap_make(&b, 600, NOW_EXAMPLE); /* 1,200 user-days: two pages */
    assert_int_equal(inst_export(&in, &b), 0);
    int64_t ino = inode_of(path);
    size_t len;
    char *before = slurp(path, &len);

    change_user_day(&b, 7, 2);
    next_cycle(&b, 2);
    mock_host_fail_history_after(in.h, 1); /* the second page fails */
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(in.h, path));
    assert_unchanged(dir, path, before, len, 1);
    assert_int_equal(inode_of(path), ino);
    assert_mark_seq(&in, 1);
    assert_int_equal(mock_host_history_open_count(in.h), 0);

    mock_host_fail_history_after(in.h, -1);
    assert_int_equal(inst_export(&in, &b), 0);
    tally_snapshot full = snap_full(&b);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &full);
    free(before);
    snap_free(&b);
    inst_close(&in);
}

/* A file size limit (RLIMIT_FSIZE) stops the streamed write half way:
 * the old file stays, and the message says why. */
static void test_single_file_too_large_keeps_the_file(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    single_open(&in, dir, path, "fsize", "");
    snap_buf small, big;
    snap_make(&small, 1, NOW_EXAMPLE);
    snap_make(&big, 600, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &small), 0);
    size_t len;
    char *before = slurp(path, &len);

    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {128 * 1024, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = inst_export(&in, &big);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, TALLY_HOST_ERR);
    const char *line = mock_host_log_find(in.h, path);
    assert_non_null(line);
    if (strstr(line, strerror(EFBIG)) == NULL)
        fail_msg("no EFBIG text in: %s", line);
    assert_unchanged(dir, path, before, len, 1);

    assert_int_equal(inst_export(&in, &big), 0);
    assert_file_renders(path, TALLY_FORMAT_JSON, NULL, &big.s);
    free(before);
    snap_free(&small);
    snap_free(&big);
    inst_close(&in);
}

/* ---- the split layout ---- */

static void split_open(inst *in, const char *dir, const char *options)
{
    char *body = body_for(dir, options);
    char *full = NULL;
    assert_true(asprintf(&full, "%s layout = \"split\"", body) > 0);
    inst_open(in, full);
    free(body);
    free(full);
}

static json_t *load_json(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (j == NULL)
        fail_msg("%s is not JSON: %s (line %d)", path, err.text, err.line);
    return j;
}

/* o's keys are exactly keys[0..n), in that order. */
static void assert_keys(const char *path, json_t *o, const char *const *keys, size_t n)
{
    size_t i = 0;
    for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it), i++)
        if (i >= n || strcmp(json_object_iter_key(it), keys[i]) != 0)
            fail_msg("%s: key %zu is \"%s\", want \"%s\"", path, i, json_object_iter_key(it),
                     i < n ? keys[i] : "(none)");
    if (i != n)
        fail_msg("%s has %zu keys, want %zu", path, i, n);
}

/* The rows of list (an array of objects with "date") dated date. */
static json_t *rows_of(json_t *list, const char *date)
{
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "date")), date) == 0)
            json_array_append(out, row);
    }
    return out;
}

/* text (freed) without its first copy of line, which it must have. */
static char *without_line(char *text, const char *line)
{
    const char *at = strstr(text, line);
    assert_non_null(at);
    size_t head = (size_t)(at - text), cut = strlen(line);
    char *out = malloc(strlen(text) - cut + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    strcpy(out + head, at + cut);
    free(text);
    return out;
}

/* The split files under dir are what the full document of b's state says:
 * current.json its members but the two long lists, and a day file per
 * date with rows, holding that date's rows; nothing else in days/. */
static void check_split(const char *dir, const snap_buf *b)
{
    tally_snapshot full = snap_full(b);
    size_t len;
    char *text = render(TALLY_FORMAT_JSON, NULL, &full, &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    assert_non_null(doc);
    free(text);

    char path[PATH_MAX], days[PATH_MAX];
    json_t *cur = load_json(join(path, dir, "current.json"));
    static const char *const cur_keys[] = {"timezone", "now",      "generated_at", "summary",
                                           "today",    "combined", "counters",     "rejected_rows"};
    assert_keys(path, cur, cur_keys, 8);
    /* Byte for byte the single document but for its three lists' lines. */
    tally_snapshot no_lists = b->s;
    no_lists.n_days = no_lists.n_user_days = no_lists.n_counter_days = 0;
    char *want = render(TALLY_FORMAT_JSON, NULL, &no_lists, &len);
    want = without_line(want, " \"days\": [],\n");
    want = without_line(want, " \"user_days\": [],\n");
    want = without_line(want, " \"counter_days\": [],\n");
    char *got = slurp(path, NULL);
    assert_string_equal(got, want);
    free(got);
    free(want);
    for (size_t i = 0; i < 8; i++)
        if (!json_equal(json_object_get(cur, cur_keys[i]), json_object_get(doc, cur_keys[i])))
            fail_msg("current.json's \"%s\" is not the full document's", cur_keys[i]);
    json_decref(cur);
    /* days.json: the days list alone, the full document's. */
    json_t *days_doc = load_json(join(path, dir, "days.json"));
    static const char *const days_keys[] = {"days"};
    assert_keys(path, days_doc, days_keys, 1);
    if (!json_equal(json_object_get(days_doc, "days"), json_object_get(doc, "days")))
        fail_msg("days.json's days are not the full document's");
    json_decref(days_doc);

    join(days, dir, "days");
    int n_files = 0;
    for (size_t i = 0; i < b->s.n_days; i++) {
        const char *date = b->days[i].date;
        json_t *ud = rows_of(json_object_get(doc, "user_days"), date);
        json_t *cd = rows_of(json_object_get(doc, "counter_days"), date);
        char leaf[32];
        snprintf(leaf, sizeof(leaf), "%s.json", date);
        join(path, days, leaf);
        if (json_array_size(ud) + json_array_size(cd) == 0) {
            if (access(path, F_OK) == 0)
                fail_msg("%s exists, but its day has no rows", path);
        } else {
            json_t *day = load_json(path);
            static const char *const day_keys[] = {"date", "user_days", "counter_days"};
            assert_keys(path, day, day_keys, 3);
            assert_string_equal(json_string_value(json_object_get(day, "date")), date);
            if (!json_equal(json_object_get(day, "user_days"), ud) ||
                !json_equal(json_object_get(day, "counter_days"), cd))
                fail_msg("%s's rows are not the full document's of that day", path);
            json_decref(day);
            n_files++;
        }
        json_decref(ud);
        json_decref(cd);
    }
    int temps;
    assert_int_equal(count_entries(days, &temps), n_files);
    assert_int_equal(temps, 0);
    json_decref(doc);
}

/* "<dir>/days/<date>.json" in buf (PATH_MAX bytes). */
static const char *day_path(char *buf, const char *dir, const char *date)
{
    char days[PATH_MAX], leaf[32];
    snprintf(leaf, sizeof(leaf), "%.10s.json", date);
    return join(buf, join(days, dir, "days"), leaf);
}

static int64_t day_inode(const char *dir, const char *date)
{
    char path[PATH_MAX];
    return inode_of(day_path(path, dir, date));
}

/* split_open on dir (made here), then a first export of a new state of
 * n_days days. */
static void split_start(inst *in, char *dir, const char *leaf, snap_buf *b, size_t n_days)
{
    smkdir(dir, leaf);
    split_open(in, dir, "");
    snap_make(b, n_days, NOW_EXAMPLE);
    assert_int_equal(inst_export(in, b), 0);
}

static void test_split_files_and_contents(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    spath(dir, "split-new/out"); /* "out" does not exist yet */
    smkdir(path, "split-new");
    inst in;
    split_open(&in, dir, "mode = \"0640\"");
    snap_buf b;
    snap_make(&b, 4, NOW_EXAMPLE);
    mode_t old_umask = umask(077);
    int rc = inst_export(&in, &b);
    umask(old_umask);
    assert_int_equal(rc, 0);
    check_split(dir, &b);

    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(stat(join(path, dir, "days"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(stat(join(path, dir, "current.json"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    /* The counter total's day (2026-11-21) has a file of its own. */
    char day[PATH_MAX];
    day_path(day, dir, "2026-11-21");
    assert_int_equal(stat(day, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    char *text = slurp(day, NULL);
    assert_true(strncmp(text, "{\n \"date\": \"2026-11-21\",\n \"user_days\": [\n", 40) == 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
    assert_mark_seq(&in, 1);
    assert_int_equal(mock_host_history_open_count(in.h), 0);
    snap_free(&b);
    inst_close(&in);
}

static void test_split_late_change_rewrites_that_day(void **state)
{
    char dir[PATH_MAX], cur[PATH_MAX];
    inst in;
    snap_buf b;
    split_start(&in, dir, "split-late", &b, 3);
    join(cur, dir, "current.json");
    int64_t ino[3];
    for (int i = 0; i < 3; i++)
        ino[i] = day_inode(dir, b.days[i].date);

    /* From the arrays: day 0 changes in cycle 2. */
    change_user_day(&b, 1, 2);
    next_cycle(&b, 2);
    int64_t cur_ino = inode_of(cur);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    assert_true(day_inode(dir, b.days[0].date) != ino[0]);
    assert_int_equal(day_inode(dir, b.days[1].date), ino[1]);
    assert_int_equal(day_inode(dir, b.days[2].date), ino[2]);
    assert_true(inode_of(cur) != cur_ino); /* current.json: every cycle */
    ino[0] = day_inode(dir, b.days[0].date);

    /* From the history: cycle 3 changed day 1; the exporter sees cycle 4. */
    change_user_day(&b, 2, 3);
    next_cycle(&b, 3);
    next_cycle(&b, 4);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    assert_int_equal(day_inode(dir, b.days[0].date), ino[0]);
    assert_true(day_inode(dir, b.days[1].date) != ino[1]);
    assert_int_equal(day_inode(dir, b.days[2].date), ino[2]);
    ino[1] = day_inode(dir, b.days[1].date);

    /* Nothing changed: no day file is written. */
    next_cycle(&b, 5);
    assert_int_equal(inst_export(&in, &b), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(day_inode(dir, b.days[i].date), ino[i]);
    assert_mark_seq(&in, 5);
    assert_int_equal(mock_host_history_open_count(in.h), 0);
    snap_free(&b);
    inst_close(&in);
}

/* days.json is written when a listed day changed, or is gone; a cycle
 * that changed no day keeps it (a year of days costs more to render than
 * the rest of a quiet cycle). */
static void test_split_days_list_written_when_a_day_changed(void **state)
{
    char dir[PATH_MAX], days[PATH_MAX];
    inst in;
    snap_buf b;
    split_start(&in, dir, "split-days", &b, 3);
    join(days, dir, "days.json");
    int64_t ino = inode_of(days);
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_int_equal(inode_of(days), ino);
    b.days[1].total_requests++;
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_true(inode_of(days) != ino);
    check_split(dir, &b);
    assert_int_equal(unlink(days), 0);
    next_cycle(&b, 4);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    snap_free(&b);
    inst_close(&in);
}

static void test_split_prunes_days_no_longer_kept(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], other[PATH_MAX];
    inst in;
    snap_buf b;
    split_start(&in, dir, "split-prune", &b, 4);
    char gone[TALLY_DATE_LEN];
    memcpy(gone, b.days[0].date, TALLY_DATE_LEN);
    day_path(path, dir, gone);
    assert_int_equal(access(path, F_OK), 0);
    /* Not a day file: never removed. */
    char days_dir[PATH_MAX];
    join(other, join(days_dir, dir, "days"), "README");
    int fd = open(other, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);

    /* Day 0 leaves the state (keep_days): its rows and its listing. */
    b.days++;
    b.s.days = b.days;
    b.s.n_days--;
    memmove(b.user_days, b.user_days + 2, (b.n_ud - 2) * sizeof(*b.user_days));
    memmove(b.ud_seq, b.ud_seq + 2, (b.n_ud - 2) * sizeof(*b.ud_seq));
    b.n_ud -= 2;
    memcpy(b.s.oldest_kept, b.days[0].date, TALLY_DATE_LEN);
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(unlink(other), 0);
    check_split(dir, &b);
    b.days--; /* what snap_free frees */
    snap_free(&b);
    inst_close(&in);
}

static void test_split_crash_between_files_and_mark(void **state)
{
    char dir[PATH_MAX];
    inst in;
    snap_buf b;
    split_start(&in, dir, "split-crash", &b, 3);

    change_user_day(&b, 0, 2);
    next_cycle(&b, 2);
    mock_host_fail_marks(in.h, true);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    mock_host_fail_marks(in.h, false);
    assert_mark_seq(&in, 1);

    /* Cycle 3 changes another day; the mark (1) lags, so the history
     * tells both days, and writing day 0 again is harmless. */
    change_user_day(&b, 5, 3);
    next_cycle(&b, 3);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    assert_mark_seq(&in, 3);
    snap_free(&b);
    inst_close(&in);
}

static void test_split_history_failing_writes_nothing(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    inst in;
    snap_buf b;
    split_start(&in, dir, "split-history", &b, 3);
    day_path(path, dir, b.days[1].date);
    size_t len;
    char *before = slurp(path, &len);
    int64_t ino = inode_of(path);

    change_user_day(&b, 2, 2);
    next_cycle(&b, 2);
    next_cycle(&b, 3); /* the mark lags: which days changed is read */
    mock_host_fail_history_after(in.h, 0);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    assert_int_equal(inode_of(path), ino);
    char *after = slurp(path, NULL);
    assert_string_equal(after, before);
    free(after);
    assert_mark_seq(&in, 1);
    assert_int_equal(mock_host_history_open_count(in.h), 0);

    mock_host_fail_history_after(in.h, -1);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    assert_mark_seq(&in, 3);
    free(before);

    /* A day's own read failing half way (the mark is the cycle before, so
     * the arrays name the day; its read's first page passes, its second
     * fails) leaves the day file and no temporary file. */
    before = slurp(path, &len);
    ino = inode_of(path);
    change_user_day(&b, 3, 4);
    next_cycle(&b, 4);
    mock_host_fail_history_after(in.h, 1);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    assert_int_equal(inode_of(path), ino);
    after = slurp(path, NULL);
    assert_string_equal(after, before);
    free(after);
    assert_mark_seq(&in, 3);
    int temps;
    char days[PATH_MAX];
    count_entries(join(days, dir, "days"), &temps);
    assert_int_equal(temps, 0);
    assert_int_equal(mock_host_history_open_count(in.h), 0);

    mock_host_fail_history_after(in.h, -1);
    assert_int_equal(inst_export(&in, &b), 0);
    check_split(dir, &b);
    free(before);
    snap_free(&b);
    inst_close(&in);
}

static void test_split_refuses_symlinks(void **state)
{
    char real[PATH_MAX], link_dir[PATH_MAX], victim[PATH_MAX], path[PATH_MAX];
    smkdir(real, "split-real");
    spath(link_dir, "split-link");
    assert_int_equal(symlink(real, link_dir), 0);
    snap_buf b;
    snap_make(&b, 2, NOW_EXAMPLE);

    /* The directory itself. */
    inst in;
    split_open(&in, link_dir, "");
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    const char *line = mock_host_log_find(in.h, "symlink");
    assert_non_null(line);
    assert_non_null(strstr(line, link_dir));
    int temps;
    assert_int_equal(count_entries(real, &temps), 0);
    inst_close(&in);

    /* Its days directory. */
    char dir[PATH_MAX], days[PATH_MAX];
    smkdir(dir, "split-days-link");
    assert_int_equal(symlink(real, join(days, dir, "days")), 0);
    split_open(&in, dir, "");
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(in.h, "symlink"));
    assert_int_equal(count_entries(real, &temps), 0);
    inst_close(&in);

    /* A day file. */
    smkdir(dir, "split-file-link");
    split_open(&in, dir, "");
    assert_int_equal(inst_export(&in, &b), 0);
    spath(victim, "victim");
    int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    day_path(path, dir, b.days[0].date);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(victim, path), 0);
    change_user_day(&b, 0, 2);
    next_cycle(&b, 2);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    line = mock_host_log_find(in.h, "symlink");
    assert_non_null(line);
    assert_non_null(strstr(line, path));
    char *kept = slurp(victim, NULL);
    assert_string_equal(kept, "keep");
    free(kept);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_mark_seq(&in, 1);
    snap_free(&b);
    inst_close(&in);
}

static void test_split_missing_parent(void **state)
{
    char dir[PATH_MAX];
    spath(dir, "split-nowhere/out");
    inst in;
    split_open(&in, dir, "");
    snap_buf b;
    snap_make(&b, 1, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &b), TALLY_HOST_ERR);
    const char *line = mock_host_log_find(in.h, dir);
    assert_non_null(line);
    assert_non_null(strstr(line, strerror(ENOENT)));
    assert_non_null(strstr(line, "create the directory"));
    assert_null(mock_host_mark(in.h, "written"));
    snap_free(&b);
    inst_close(&in);
}

/* An empty file at dir/leaf. */
static void touch(const char *dir, const char *leaf)
{
    char path[PATH_MAX];
    int fd = open(join(path, dir, leaf), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static int exists(const char *dir, const char *leaf)
{
    char path[PATH_MAX];
    return access(join(path, dir, leaf), F_OK) == 0;
}

/* kill -9 during a write leaves its temporary file; an instance's first
 * export removes such files of its own, and no other file. */
static void test_first_export_sweeps_a_crash_s_temporary_files(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], split[PATH_MAX], days[PATH_MAX];
    smkdir(dir, "sweep-single");
    join(path, dir, "out");
    touch(dir, "out.tmp.abc123");
    touch(dir, "other.tmp.abc123");
    touch(dir, "out.tmp.keep"); /* not a name tally makes */
    char *body = body_for(path, "");
    inst in;
    inst_open(&in, body);
    free(body);
    snap_buf b;
    snap_make(&b, 2, NOW_EXAMPLE);
    assert_int_equal(inst_export(&in, &b), 0);
    assert_false(exists(dir, "out.tmp.abc123"));
    assert_true(exists(dir, "other.tmp.abc123"));
    assert_true(exists(dir, "out.tmp.keep"));
    inst_close(&in);

    smkdir(split, "sweep-split");
    assert_int_equal(mkdir(join(days, split, "days"), 0750), 0);
    touch(split, "current.json.tmp.x1y2z3");
    touch(days, "2026-11-20.json.tmp.x1y2z3");
    touch(days, "notes.txt.tmp.x1y2z3");
    split_open(&in, split, "");
    assert_int_equal(inst_export(&in, &b), 0);
    assert_false(exists(split, "current.json.tmp.x1y2z3"));
    assert_false(exists(days, "2026-11-20.json.tmp.x1y2z3"));
    assert_true(exists(days, "notes.txt.tmp.x1y2z3"));
    snap_free(&b);
    inst_close(&in);
}

static void test_check_layout(void **state)
{
    check_rejects("path = \"/tmp/x\" layout = \"many\"", "layout", "many", "single", "split", NULL);
    check_rejects("path = \"/tmp/x\" format = \"prometheus\" layout = \"split\"", "layout", "json",
                  "prometheus", NULL);
    check_rejects("path = \"/tmp/x\" format = \"csv\" layout = \"split\"", "layout", "json", NULL);
    /* A directory may end with a slash in the split layout only. */
    tally_host *h = mock_host_new();
    cfg_t *section = mock_host_section(plugin, "summary", "path = \"/tmp/x/\" layout = \"split\"");
    assert_non_null(section);
    assert_int_equal(mock_host_check(plugin, h, section), 0);
    assert_int_equal(mock_host_log_count(h), 0);
    mock_host_section_free(section);
    mock_host_free(h);
}

/* ---- the mock host itself (these tests lean on its clock and parser) ---- */

static void test_mock_host_clock_and_parser(void **state)
{
    tally_host *h = mock_host_new();
    const tally_host_api *api = mock_host_api();
    tally_day d;
    /* New York's 2026-11-01 has 25 hours: EDT midnight to EST midnight. */
    assert_int_equal(mock_host_set_timezone(h, "America/New_York"), 0);
    assert_string_equal(api->timezone(h), "America/New_York");
    assert_int_equal(api->day_of(h, 1793534400, &d), 0); /* 2026-11-01T12:00:00Z */
    assert_string_equal(d.date, "2026-11-01");
    assert_int_equal(d.start_utc, 1793505600); /* 2026-11-01T04:00:00Z */
    assert_int_equal(d.end_utc, 1793595600);   /* 2026-11-02T05:00:00Z */
    /* Its first instant belongs to it; the one before to the day before. */
    assert_int_equal(api->day_of(h, 1793505600, &d), 0);
    assert_string_equal(d.date, "2026-11-01");
    assert_int_equal(api->day_of(h, 1793505599, &d), 0);
    assert_string_equal(d.date, "2026-10-31");
    /* A zone glibc does not know must not silently become UTC. */
    assert_int_equal(mock_host_set_timezone(h, "Mars/Olympus_Mons"), -1);
    assert_int_equal(mock_host_set_timezone(h, "Asia/Shanghai"), 0);
    struct tm tm;
    assert_int_equal(api->local_time(h, 1795280400, &tm), 0); /* 2026-11-21T17:00:00Z */
    assert_int_equal(tm.tm_mday, 22);
    assert_int_equal(tm.tm_hour, 1);
    mock_host_set_now(h, 42);
    assert_int_equal(api->now(h), 42);
    mock_host_free(h);

    /* An unknown option is libconfuse's error, with its line. */
    assert_null(mock_host_section_at(plugin, "x", "path = \"/a\" colour = \"red\"", 3));
    assert_non_null(strstr(mock_host_parse_error(), ":3:"));
    assert_non_null(strstr(mock_host_parse_error(), "colour"));
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    /* A private mount namespace: tmpfs mounts vanish with this process
     * even if a test crashes. Without the privilege, mounts are skipped. */
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "file", &plugin_dl);
    if (plugin == NULL)
        return -1;
    if (strcmp(plugin->name, "file") != 0 || plugin->kind != TALLY_PLUGIN_EXPORTER)
        return -1;
    snprintf(scratch, sizeof(scratch), "/tmp/tally-file-test-XXXXXX");
    if (mkdtemp(scratch) == NULL)
        return -1;
    /* nobody must reach the directories of the permission test. */
    return chmod(scratch, 0755);
}

static int group_teardown(void **state)
{
    unmount_teardown(state);
    if (scratch[0] != '\0')
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    mock_host_unload(plugin_dl);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_atomic_mode_replaces),
        cmocka_unit_test(test_default_mode_ignores_umask),
        cmocka_unit_test(test_reader_never_sees_partial_file),
        cmocka_unit_test(test_template_in_business_zone),
        cmocka_unit_test(test_formats_byte_identical),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_check_accepts_and_touches_nothing),
        cmocka_unit_test(test_unwritable_directory),
        cmocka_unit_test_teardown(test_read_only_file_system, unmount_teardown),
        cmocka_unit_test_teardown(test_full_disk_then_space_freed, unmount_teardown),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_single_is_the_full_rendering),
        cmocka_unit_test(test_single_not_rewritten_when_only_generated_at_changed),
        cmocka_unit_test(test_single_rewritten_when_a_user_day_changed),
        cmocka_unit_test(test_single_rewritten_when_totals_or_counters_changed),
        cmocka_unit_test(test_single_per_format),
        cmocka_unit_test(test_single_crash_between_write_and_mark),
        cmocka_unit_test(test_single_history_failing_keeps_the_file),
        cmocka_unit_test(test_single_file_too_large_keeps_the_file),
        cmocka_unit_test(test_split_files_and_contents),
        cmocka_unit_test(test_split_late_change_rewrites_that_day),
        cmocka_unit_test(test_split_days_list_written_when_a_day_changed),
        cmocka_unit_test(test_split_prunes_days_no_longer_kept),
        cmocka_unit_test(test_split_crash_between_files_and_mark),
        cmocka_unit_test(test_split_history_failing_writes_nothing),
        cmocka_unit_test(test_split_refuses_symlinks),
        cmocka_unit_test(test_split_missing_parent),
        cmocka_unit_test(test_first_export_sweeps_a_crash_s_temporary_files),
        cmocka_unit_test(test_check_layout),
        cmocka_unit_test(test_mock_host_clock_and_parser),
    };
    return cmocka_run_group_tests_name("file exporter", tests, group_setup, group_teardown);
}
