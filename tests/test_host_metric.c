/*
 * test_host_metric.c — the host's metric callback and the agent's figures
 * about itself (agent/selfstats.c): bad names, kinds and values refused,
 * the agent's own names refused, the latest value kept, a bound on names,
 * exporter threads reporting at once, a reload that keeps an instance's
 * figures, and the copy a snapshot gets.
 */
#include "host.h"
#include "selfstats.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static loaded_plugin csv_plugin = {.desc = {.name = "csv", .kind = TALLY_PLUGIN_SOURCE}};
static loaded_plugin http_plugin = {.desc = {.name = "http", .kind = TALLY_PLUGIN_EXPORTER}};

typedef struct fixture {
    selfstats *ss;
    conf c;
    struct tally_host hosts[2];
    agent a;
} fixture;

/* A csv source "usage" and an http exporter "push", attached as
 * host_start_all attaches them. */
static int setup(void **fx)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(selfstats_new("9.9.9", 1795316340, &f->ss), 0);
    f->c.interval = 15;
    f->a = (agent){.conf = &f->c, .hosts = f->hosts, .n_hosts = 2, .self = f->ss};
    const loaded_plugin *p[2] = {&csv_plugin, &http_plugin};
    const char *title[2] = {"usage", "push"};
    selfstats_begin_attach(f->ss);
    for (int i = 0; i < 2; i++) {
        struct tally_host *h = &f->hosts[i];
        h->plugin = p[i];
        h->agent = &f->a;
        snprintf(h->who, sizeof(h->who), "%s \"%s\"", p[i]->desc.name, title[i]);
        assert_int_equal(
            selfstats_attach(f->ss, p[i]->desc.name, title[i], p[i]->desc.kind, &h->self), 0);
    }
    selfstats_end_attach(f->ss);
    *fx = f;
    return 0;
}

static int teardown(void **fx)
{
    fixture *f = *fx;
    selfstats_free(f->ss);
    free(f);
    return 0;
}

static const tally_metric *find(const tally_instance_stats *in, const char *name)
{
    for (size_t i = 0; i < in->n_metrics; i++)
        if (strcmp(in->metrics[i].name, name) == 0)
            return &in->metrics[i];
    return NULL;
}

static int report(struct tally_host *h, const char *name, tally_metric_kind kind, double v)
{
    return host_api.metric(h, name, kind, v, "help");
}

static void test_refuses_bad_names_kinds_values(void **fx)
{
    fixture *f = *fx;
    struct tally_host *h = &f->hosts[0];
    static const char *const bad_names[] = {
        "",
        "Bytes_total",
        "9lives_total",
        "bytes-read_total",
        "bytes read_total",
        "_x_total",
        "bytés_total",
        "a_very_long_name_that_goes_on_and_on_and_on_past_sixty_four_bytes_total",
    };
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        assert_int_equal(report(h, bad_names[i], TALLY_METRIC_COUNTER, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, NULL, TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
    /* Prometheus' rule: _total on counters and only on them. */
    assert_int_equal(report(h, "bytes_read", TALLY_METRIC_COUNTER, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "lag_total", TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "lag_bytes", (tally_metric_kind)0, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "lag_bytes", (tally_metric_kind)3, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "lag_bytes", TALLY_METRIC_GAUGE, NAN), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "lag_bytes", TALLY_METRIC_GAUGE, INFINITY), TALLY_HOST_EINVAL);
    assert_int_equal(report(h, "bytes_total", TALLY_METRIC_COUNTER, -1), TALLY_HOST_EINVAL);
    /* The longest name that fits: 64 bytes. */
    char longest[65];
    memset(longest, 'a', 58);
    memcpy(longest + 58, "_total", 7);
    assert_int_equal(report(h, longest, TALLY_METRIC_COUNTER, 1), TALLY_HOST_OK);
    /* A gauge may go below zero (a level that is a difference). */
    assert_int_equal(report(h, "drift_seconds", TALLY_METRIC_GAUGE, -2.5), TALLY_HOST_OK);

    tally_agent_stats *st = selfstats_copy(&f->a);
    assert_non_null(st);
    /* The agent's three, and the two accepted. */
    assert_int_equal(st->instances[0].n_metrics, 3 + 2);
    selfstats_copy_free(st);
}

static void test_refuses_the_agents_own_names(void **fx)
{
    fixture *f = *fx;
    static const char *const own_counters[] = {
        "records_total",        "rejected_rows_total",    "errors_total",
        "exports_ok_total",     "exports_failed_total",   "spool_delivered_total",
        "spool_rejected_total", "spool_overflowed_total",
    };
    for (size_t i = 0; i < sizeof(own_counters) / sizeof(own_counters[0]); i++)
        for (int k = 0; k < 2; k++)
            assert_int_equal(report(&f->hosts[k], own_counters[i], TALLY_METRIC_COUNTER, 1e9),
                             TALLY_HOST_EINVAL);
    assert_int_equal(report(&f->hosts[1], "spool_items", TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
    assert_int_equal(report(&f->hosts[1], "spool_bytes", TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
    tally_agent_stats *st = selfstats_copy(&f->a);
    const tally_metric *m = find(&st->instances[0], "records_total");
    assert_non_null(m);
    assert_true(m->value == 0); /* the agent's count, not the plugin's 1e9 */
    selfstats_copy_free(st);
}

/* Only a started instance reports: a config being checked has nowhere
 * to put a figure. */
static void test_no_figures_while_checking(void **fx)
{
    (void)fx;
    struct tally_host checking = {0};
    assert_int_equal(report(&checking, "lag_bytes", TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
}

static void test_latest_value_sorted_one_line_help(void **fx)
{
    fixture *f = *fx;
    struct tally_host *h = &f->hosts[0];
    assert_int_equal(host_api.metric(h, "lag_bytes", TALLY_METRIC_GAUGE, 10, "first\nline"),
                     TALLY_HOST_OK);
    assert_int_equal(host_api.metric(h, "bytes_read_total", TALLY_METRIC_COUNTER, 5, NULL),
                     TALLY_HOST_OK);
    assert_int_equal(host_api.metric(h, "lag_bytes", TALLY_METRIC_GAUGE, 3, "Not read\nyet."),
                     TALLY_HOST_OK);
    /* A name keeps its kind. */
    assert_int_equal(report(h, "lag_bytes_total", TALLY_METRIC_COUNTER, 1), TALLY_HOST_OK);
    tally_agent_stats *st = selfstats_copy(&f->a);
    const tally_instance_stats *in = &st->instances[0];
    assert_int_equal(in->n_metrics, 6);
    /* The agent's first, in their order, then the plugin's by name. */
    assert_string_equal(in->metrics[0].name, "records_total");
    assert_string_equal(in->metrics[1].name, "rejected_rows_total");
    assert_string_equal(in->metrics[2].name, "errors_total");
    assert_string_equal(in->metrics[3].name, "bytes_read_total");
    assert_string_equal(in->metrics[3].help, "");
    assert_string_equal(in->metrics[4].name, "lag_bytes");
    assert_true(in->metrics[4].value == 3);
    assert_int_equal(in->metrics[4].kind, TALLY_METRIC_GAUGE);
    assert_string_equal(in->metrics[4].help, "Not read yet.");
    assert_string_equal(in->metrics[5].name, "lag_bytes_total");
    selfstats_copy_free(st);
}

static void test_bounded_names(void **fx)
{
    fixture *f = *fx;
    char name[32];
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "g%02d", i);
        assert_int_equal(report(&f->hosts[0], name, TALLY_METRIC_GAUGE, i), TALLY_HOST_OK);
    }
    assert_int_equal(report(&f->hosts[0], "one_more", TALLY_METRIC_GAUGE, 1), TALLY_HOST_EINVAL);
    /* A name it has is still set. */
    assert_int_equal(report(&f->hosts[0], "g05", TALLY_METRIC_GAUGE, 55), TALLY_HOST_OK);
    tally_agent_stats *st = selfstats_copy(&f->a);
    assert_int_equal(st->instances[0].n_metrics, 3 + 32);
    assert_true(find(&st->instances[0], "g05")->value == 55);
    assert_null(find(&st->instances[0], "one_more"));
    selfstats_copy_free(st);
}

/* ---- exporter threads at once ---- */

#define THREADS 8
#define CALLS 2000

struct worker {
    fixture *f;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct tally_host *h = &w->f->hosts[1];
    char name[32];
    snprintf(name, sizeof(name), "thread%d_total", w->id);
    for (int i = 1; i <= CALLS; i++) {
        if (report(h, name, TALLY_METRIC_COUNTER, i) != TALLY_HOST_OK)
            return (void *)1;
        selfstats_export(h->self, i % 4 != 0);
        if (i % 100 == 0) {
            /* The cycle copies while the threads report. */
            tally_agent_stats *st = selfstats_copy(&w->f->a);
            if (st == NULL)
                return (void *)1;
            selfstats_copy_free(st);
        }
    }
    return NULL;
}

static void test_concurrent_reports(void **fx)
{
    fixture *f = *fx;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){f, i};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    tally_agent_stats *st = selfstats_copy(&f->a);
    const tally_instance_stats *in = &st->instances[1];
    assert_string_equal(in->plugin, "http");
    assert_string_equal(in->instance, "push");
    assert_int_equal(in->kind, TALLY_PLUGIN_EXPORTER);
    assert_true(find(in, "exports_ok_total")->value == THREADS * CALLS * 3 / 4);
    assert_true(find(in, "exports_failed_total")->value == THREADS * CALLS / 4);
    char name[32];
    for (int i = 0; i < THREADS; i++) {
        snprintf(name, sizeof(name), "thread%d_total", i);
        assert_true(find(in, name)->value == CALLS);
    }
    /* No spool: the agent has none here, so no spool figures. */
    assert_null(find(in, "spool_items"));
    selfstats_copy_free(st);
}

/* ---- the agent's own figures, and a reload ---- */

static void test_cycles_and_sources(void **fx)
{
    fixture *f = *fx;
    selfstats_cycle(f->ss, 1, 0.5, 1795316400);
    selfstats_cycle(f->ss, 0, 2.0, 1795316460);
    selfstats_source_add(f->hosts[0].self, 10, 2, 0);
    selfstats_source_add(f->hosts[0].self, 5, 0, 1);
    tally_agent_stats *st = selfstats_copy(&f->a);
    assert_string_equal(st->version, "9.9.9");
    assert_int_equal(st->plugin_abi, TALLY_PLUGIN_ABI_VERSION);
    assert_int_equal(st->start_utc, 1795316340);
    assert_int_equal(st->interval, 15);
    assert_int_equal(st->cycles_ok, 1);
    assert_int_equal(st->cycles_failed, 1);
    assert_true(st->last_cycle_seconds == 2.0);
    assert_int_equal(st->last_success_utc, 1795316400); /* the failed one did not move it */
    assert_int_equal(st->n_instances, 2);
    assert_true(find(&st->instances[0], "records_total")->value == 15);
    assert_true(find(&st->instances[0], "rejected_rows_total")->value == 2);
    assert_true(find(&st->instances[0], "errors_total")->value == 1);
    assert_int_equal(find(&st->instances[0], "records_total")->kind, TALLY_METRIC_COUNTER);
    selfstats_copy_free(st);
}

/* A HUP: the source stays (same plugin and title), the exporter goes;
 * brought back later, the exporter starts from zero. */
static void test_reload_keeps_what_stays(void **fx)
{
    fixture *f = *fx;
    selfstats_source_add(f->hosts[0].self, 7, 1, 0);
    selfstats_export(f->hosts[1].self, 1);
    self_inst *kept_before = f->hosts[0].self, *push = f->hosts[1].self;
    selfstats_begin_attach(f->ss);
    assert_int_equal(
        selfstats_attach(f->ss, "csv", "usage", TALLY_PLUGIN_SOURCE, &f->hosts[0].self), 0);
    selfstats_end_attach(f->ss);
    assert_ptr_equal(f->hosts[0].self, kept_before);
    f->a.n_hosts = 1;
    tally_agent_stats *st = selfstats_copy(&f->a);
    assert_int_equal(st->n_instances, 1);
    assert_true(find(&st->instances[0], "records_total")->value == 7);
    selfstats_copy_free(st);
    /* An abandoned export thread may still report to the old entry. */
    selfstats_export(push, 1);
    selfstats_begin_attach(f->ss);
    selfstats_attach(f->ss, "csv", "usage", TALLY_PLUGIN_SOURCE, &f->hosts[0].self);
    selfstats_attach(f->ss, "http", "push", TALLY_PLUGIN_EXPORTER, &f->hosts[1].self);
    selfstats_end_attach(f->ss);
    f->a.n_hosts = 2;
    st = selfstats_copy(&f->a);
    assert_true(find(&st->instances[1], "exports_ok_total")->value == 0);
    assert_true(find(&st->instances[0], "records_total")->value == 7);
    selfstats_copy_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refuses_bad_names_kinds_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_the_agents_own_names, setup, teardown),
        cmocka_unit_test(test_no_figures_while_checking),
        cmocka_unit_test_setup_teardown(test_latest_value_sorted_one_line_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycles_and_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_what_stays, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
