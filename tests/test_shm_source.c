/*
 * test_shm_source.c — the shm source, through the mock host, against
 * regions an attacker made: a region file truncated under the agent (it
 * must report it and open the region again, never die of SIGBUS), counter
 * names libtally did not write (never passed on or logged, only counted),
 * and region paths that name no region file (each said for what it is).
 */
#include "mock_host.h"
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const tally_plugin *plugin;
static void *plugin_dl;

struct run {
    tally_host *h;
    mock_host_instance in;
};

static void start(struct run *r, const char *region)
{
    char body[512];
    snprintf(body, sizeof(body), "region = \"%s\"", region);
    r->h = mock_host_new();
    assert_int_equal(mock_host_start(&r->in, plugin, r->h, "c", body), 0);
}

static void stop(struct run *r)
{
    mock_host_stop(&r->in);
    mock_host_free(r->h);
}

/* A region at <scratch>/leaf, as an application leaves it: name = value. */
static void region_with(char *path, size_t cap, const char *leaf, const char *name, int64_t value)
{
    tally_region *app = NULL;
    assert_int_equal(tally_open(&app, tu_path(path, cap, leaf), NULL), 0);
    assert_int_equal(tally_add_name(app, name, value), 0);
    tally_close(app);
}

static void test_truncated_under_the_source(void **state)
{
    char path[256];
    region_with(path, sizeof(path), "shrinks", "x", 5);
    struct run r;
    start(&r, path);
    assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_OK);
    int64_t v = 0;
    assert_int_equal(mock_host_counter(r.h, "x", &v), 0);
    assert_int_equal(v, 5);

    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(r.h, "region file shrank while in use"));
    assert_non_null(mock_host_log_find(r.h, "opened again next cycle"));
    /* Next cycle: the file is opened again, and refused for what it is. */
    assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_ERR);
    assert_non_null(mock_host_log_find(r.h, "region file is empty"));
    stop(&r);
}

/* The figures it reports for the agent's own metrics (plugin.h, metric):
 * the region's slots, those used, and what it refused when full. */
static void test_reports_region_figures(void **state)
{
    (void)state;
    char path[256];
    region_with(path, sizeof(path), "figures", "a", 1);
    tally_region *app = NULL;
    assert_int_equal(tally_open(&app, path, NULL), 0);
    assert_int_equal(tally_add_name(app, "b", 1), 0);
    tally_info info;
    assert_int_equal(tally_info_get(app, &info), 0);
    tally_close(app);
    struct run r;
    start(&r, path);
    assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_OK);
    mock_host_figure cap, used, over;
    assert_int_equal(mock_host_metric(r.h, "region_capacity", &cap), 0);
    assert_int_equal(mock_host_metric(r.h, "region_used", &used), 0);
    assert_int_equal(mock_host_metric(r.h, "region_overflow_total", &over), 0);
    assert_true(cap.value == (double)info.capacity && cap.kind == TALLY_METRIC_GAUGE);
    assert_true(used.value == 2 && used.kind == TALLY_METRIC_GAUGE);
    assert_true(over.value == 0 && over.kind == TALLY_METRIC_COUNTER);
    stop(&r);
}

static void test_hostile_names_counted(void **state)
{
    char path[256];
    region_with(path, sizeof(path), "hostile", "good", 2);
    /* A published record at the byte level: an escape sequence as name,
     * under a tag libtally never gives it (layout.h: header page, then
     * 64-byte slots, a tag first). */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    unsigned char rec[64] = {0};
    uint64_t tag = (1ull << 63) | 0x123400 | 5;
    memcpy(rec, &tag, 8);
    memcpy(rec + 8, "\033[2J!", 5);
    uint32_t table_slots;
    assert_int_equal(fseek(f, 28, SEEK_SET), 0);
    assert_int_equal(fread(&table_slots, 4, 1, f), 1);
    assert_int_equal(fseek(f, 4096 + (long)(table_slots - 1) * 64, SEEK_SET), 0);
    assert_int_equal(fwrite(rec, 64, 1, f), 1);
    fclose(f);

    struct run r;
    start(&r, path);
    assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_OK);
    assert_int_equal(mock_host_emit_count(r.h), 1);
    assert_string_equal(mock_host_emit_at(r.h, 0)->name, "good");
    assert_non_null(mock_host_log_find(r.h, "1 counter record(s) not read"));
    for (size_t i = 0; i < mock_host_log_count(r.h); i++)
        assert_null(strchr(mock_host_log_text(r.h, i), '\033'));
    stop(&r);
}

static void test_paths_that_are_no_region(void **state)
{
    char fifo[256], dir[256], dangling[256];
    assert_int_equal(mkfifo(tu_path(fifo, sizeof(fifo), "fifo"), 0600), 0);
    assert_int_equal(mkdir(tu_path(dir, sizeof(dir), "dir"), 0700), 0);
    assert_int_equal(symlink("/nonexistent/x", tu_path(dangling, sizeof(dangling), "dangle")), 0);
    const char *paths[] = {fifo, dir, dangling};
    const char *said[] = {"is a FIFO, socket or device", "is a directory",
                          "symbolic link to nothing"};
    for (int i = 0; i < 3; i++) {
        struct run r;
        start(&r, paths[i]);
        assert_int_equal(plugin->source.collect(r.in.ctx), TALLY_HOST_ERR);
        assert_non_null(mock_host_log_find(r.h, said[i]));
        stop(&r);
    }
}

static int group_setup(void **state)
{
    plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "shm", &plugin_dl);
    return plugin != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    mock_host_unload(plugin_dl);
    tu_scratch_remove();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_under_the_source),
        cmocka_unit_test(test_hostile_names_counted),
        cmocka_unit_test(test_reports_region_figures),
        cmocka_unit_test(test_paths_that_are_no_region),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
