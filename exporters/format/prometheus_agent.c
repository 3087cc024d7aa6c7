/*
 * prometheus_agent.c — the agent's figures about itself (snapshot.h,
 * tally_agent_stats) in the Prometheus text format, after the families of
 * prometheus.c: build info, start time, cycles by result, the last
 * cycle's duration and success time, and one family per figure of the
 * plugin instances, tally_<kind>_<name>{plugin="csv",plugin_instance="usage"}.
 *
 * The label is plugin_instance, not instance: Prometheus sets instance on
 * every scraped series (ours would become exported_instance) and the
 * Pushgateway replaces it with its grouping key's, which would make the
 * series of two exporters of one plugin collide.
 *
 * A family is written once with every instance that has the figure, in
 * config order, so two csv sources share tally_source_records_total. A
 * figure whose name no Prometheus name can hold, or whose kind differs
 * from the family's as first written, is left out: one bad figure never
 * spoils the scrape.
 */
#include "format_priv.h"

#include "selfmetric/selfmetric.h"

#include <inttypes.h>
#include <string.h>

/* A label value that may be NULL (read as ""). */
static void label_text(tf_buf *b, const char *s)
{
    tf_prom_label_value(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static const char *type_word(tally_metric_kind k)
{
    return k == TALLY_METRIC_COUNTER ? "counter" : "gauge";
}

/* A help text as # HELP wants it: backslash and line feed escaped. */
static void help_text(tf_buf *b, const char *help)
{
    for (const char *p = help != NULL ? help : ""; *p != '\0'; p++) {
        if (*p == '\\')
            tf_buf_puts(b, "\\\\");
        else if (*p == '\n')
            tf_buf_puts(b, "\\n");
        else
            tf_buf_add(b, p, 1);
    }
}

static void header(tf_buf *b, const char *family, const char *type, const char *help)
{
    tf_buf_printf(b, "# HELP %s ", family);
    help_text(b, help);
    tf_buf_printf(b, "\n# TYPE %s %s\n", family, type);
}

static void value(tf_buf *b, double v)
{
    char text[TF_NUM_LEN];
    tf_double(v, text);
    tf_buf_printf(b, " %s\n", text);
}

static void agent_families(const tally_agent_stats *a, tf_buf *b)
{
    header(b, "tally_agent_build_info", "gauge",
           "The running tallyd's version and plugin ABI, as labels (the value is always 1).");
    tf_buf_puts(b, "tally_agent_build_info{version=\"");
    label_text(b, a->version);
    tf_buf_printf(b, "\",plugin_abi=\"%" PRIu32 "\"} 1\n", a->plugin_abi);
    header(b, "tally_agent_start_time_seconds", "gauge",
           "When tallyd started, in seconds since the Unix epoch.");
    tf_buf_printf(b, "tally_agent_start_time_seconds %" PRId64 "\n", a->start_utc);
    header(b, "tally_agent_cycles_total", "counter",
           "Cycles since tallyd started, by result (failed: a plugin step failed or the cycle "
           "could not commit).");
    tf_buf_printf(b, "tally_agent_cycles_total{result=\"ok\"} %" PRId64 "\n", a->cycles_ok);
    tf_buf_printf(b, "tally_agent_cycles_total{result=\"failed\"} %" PRId64 "\n", a->cycles_failed);
    header(b, "tally_agent_last_cycle_duration_seconds", "gauge",
           "How long the last cycle took, from its start to its commit.");
    tf_buf_puts(b, "tally_agent_last_cycle_duration_seconds");
    value(b, a->last_cycle_seconds);
    header(b, "tally_agent_last_cycle_success_timestamp_seconds", "gauge",
           "When a cycle last succeeded, in seconds since the Unix epoch (0: none yet).");
    tf_buf_printf(b, "tally_agent_last_cycle_success_timestamp_seconds %" PRId64 "\n",
                  a->last_success_utc);
}

static int printable(const tally_instance_stats *in, const tally_metric *m)
{
    return selfmetric_kind_word(in->kind) != NULL && selfmetric_name_ok(m->name) &&
           (m->kind == TALLY_METRIC_COUNTER || m->kind == TALLY_METRIC_GAUGE);
}

/* Was the family of (kind, name) written for an instance before `upto`,
 * or for an earlier figure of instance `upto` itself (before `mi`)? */
static int written_before(const tally_agent_stats *a, size_t upto, size_t mi, int kind,
                          const char *name)
{
    for (size_t i = 0; i <= upto; i++) {
        const tally_instance_stats *in = &a->instances[i];
        size_t end = i == upto ? mi : in->n_metrics;
        if (in->kind != kind)
            continue;
        for (size_t k = 0; k < end; k++)
            if (printable(in, &in->metrics[k]) && strcmp(in->metrics[k].name, name) == 0)
                return 1;
    }
    return 0;
}

static void sample(tf_buf *b, const char *kind, const tally_instance_stats *in,
                   const tally_metric *m)
{
    tf_buf_printf(b, "tally_%s_%s{plugin=\"", kind, m->name);
    label_text(b, in->plugin);
    tf_buf_puts(b, "\",plugin_instance=\"");
    label_text(b, in->instance);
    tf_buf_puts(b, "\"}");
    value(b, m->value);
}

/* The family of instance `first`'s figure m, with every later
 * instance's figure of that name and kind. */
static void instance_family(const tally_agent_stats *a, size_t first, const tally_metric *m,
                            tf_buf *b)
{
    const char *kind = selfmetric_kind_word(a->instances[first].kind);
    tf_buf_printf(b, "# HELP tally_%s_%s ", kind, m->name);
    help_text(b, m->help);
    tf_buf_printf(b, "\n# TYPE tally_%s_%s %s\n", kind, m->name, type_word(m->kind));
    for (size_t i = first; i < a->n_instances; i++) {
        const tally_instance_stats *in = &a->instances[i];
        if (in->kind != a->instances[first].kind)
            continue;
        for (size_t k = 0; k < in->n_metrics; k++)
            if (printable(in, &in->metrics[k]) && strcmp(in->metrics[k].name, m->name) == 0 &&
                in->metrics[k].kind == m->kind) {
                sample(b, kind, in, &in->metrics[k]);
                break; /* one series per instance */
            }
    }
}

void tf_render_prometheus_agent(const tally_agent_stats *a, tf_buf *b)
{
    if (a == NULL)
        return;
    agent_families(a, b);
    for (size_t i = 0; i < a->n_instances; i++) {
        const tally_instance_stats *in = &a->instances[i];
        for (size_t k = 0; k < in->n_metrics; k++) {
            const tally_metric *m = &in->metrics[k];
            if (printable(in, m) && !written_before(a, i, k, in->kind, m->name))
                instance_family(a, i, m, b);
        }
    }
}
