/*
 * prometheus.c — a snapshot in the Prometheus text exposition format 0.0.4
 * (Content-Type "text/plain; version=0.0.4; charset=utf-8"), for
 * node_exporter's textfile collector, the Pushgateway and scrapes.
 *
 * Naming follows Prometheus' rules, and `promtool check metrics` has
 * nothing to say about the output (tests/promtool_test.sh): a tally_ prefix,
 * base units (US dollars, seconds), _total on counters and only on them, no
 * type word or unit abbreviation in a name, # HELP and # TYPE on every
 * family, and no sample timestamps (the textfile collector and the
 * Pushgateway refuse them; the snapshot's time is a gauge instead).
 *
 * The counters are "combined" (all closed days plus today): that total only
 * grows, across midnight too, where today starts again from zero but the
 * day that ended moves into the summary. Today's figures are gauges.
 *
 * Deliberately absent: per-day and per-user series. Every business day and
 * every user would add series forever (an unbounded label set), which
 * costs Prometheus memory and index for good; the JSON and CSV formats
 * carry those tables. Region counters are labelled by name because their
 * number is bounded by the region's fixed capacity.
 */
#include "format_priv.h"

#include <inttypes.h>
#include <string.h>

/* help escaped as the format says for # HELP (backslash, line feed), since
 * some come from the config or from plugins. */
void tf_prom_family(tf_buf *b, const char *name, const char *type, const char *help)
{
    tf_buf_printf(b, "# HELP %s ", name);
    for (const char *p = help; *p != '\0'; p++) {
        size_t plain = strcspn(p, "\\\n");
        tf_buf_add_utf8(b, p, plain);
        p += plain;
        if (*p == '\0')
            break;
        tf_buf_puts(b, *p == '\\' ? "\\\\" : "\\n");
    }
    tf_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void family(tf_buf *b, const char *name, const char *type, const char *help)
{
    tf_prom_family(b, name, type, help);
}

/* A sample: `series` is the metric name with its labels, if any. */
static void sample_int(tf_buf *b, const char *series, int64_t v)
{
    tf_buf_printf(b, "%s %" PRId64 "\n", series, v);
}

static void sample_real(tf_buf *b, const char *series, double v)
{
    char text[TF_NUM_LEN];
    tf_double(v, text);
    tf_buf_printf(b, "%s %s\n", series, text);
}

/* A label value, escaped as the format says (backslash, double quote and
 * line feed) and repaired to UTF-8, which the format requires. */
void tf_prom_label_value(tf_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = tf_utf8_seq(u + i, n - i);
        if (k == 0) {
            tf_buf_puts(b, TF_UTF8_REPLACEMENT);
            i++;
        } else if (s[i] == '\\') {
            tf_buf_puts(b, "\\\\");
            i++;
        } else if (s[i] == '"') {
            tf_buf_puts(b, "\\\"");
            i++;
        } else if (s[i] == '\n') {
            tf_buf_puts(b, "\\n");
            i++;
        } else {
            tf_buf_add(b, s + i, k);
            i += k;
        }
    }
}

static void requests(tf_buf *b, const char *name, const char *type, const char *help,
                     const tally_totals *t)
{
    family(b, name, type, help);
    tf_buf_printf(b, "%s{outcome=\"success\"} %" PRId64 "\n", name, t->success_requests);
    tf_buf_printf(b, "%s{outcome=\"error\"} %" PRId64 "\n", name, t->error_requests);
}

static void tokens(tf_buf *b, const char *name, const char *type, const char *help,
                   const tally_totals *t)
{
    family(b, name, type, help);
    tf_buf_printf(b, "%s{kind=\"input\"} %" PRId64 "\n", name, t->input_tokens);
    tf_buf_printf(b, "%s{kind=\"output\"} %" PRId64 "\n", name, t->output_tokens);
    tf_buf_printf(b, "%s{kind=\"cache_creation\"} %" PRId64 "\n", name, t->cache_creation_tokens);
    tf_buf_printf(b, "%s{kind=\"cache_read\"} %" PRId64 "\n", name, t->cache_read_tokens);
}

static void one_int(tf_buf *b, const char *name, const char *type, const char *help, int64_t v)
{
    family(b, name, type, help);
    sample_int(b, name, v);
}

static void one_real(tf_buf *b, const char *name, const char *type, const char *help, double v)
{
    family(b, name, type, help);
    sample_real(b, name, v);
}

void tf_prom_region_values(tf_buf *b, const tally_snapshot *s, const uint32_t *idx, size_t n)
{
    /* A family without samples says nothing; leave it out. */
    if (n == 0)
        return;
    family(b, "tally_region_value", "gauge",
           "Live value of a libtally counter, by counter name (a gauge: tally_add also "
           "takes negative numbers).");
    for (size_t k = 0; k < n; k++) {
        const tally_counter_value *c = &s->counters[idx != NULL ? idx[k] : k];
        const char *name = c->name != NULL ? c->name : "";
        tf_buf_puts(b, "tally_region_value{name=\"");
        tf_prom_label_value(b, name, strlen(name));
        tf_buf_printf(b, "\"} %" PRId64 "\n", c->value);
    }
}

static void region_values(tf_buf *b, const tally_snapshot *s)
{
    /* With map rules, prometheus_map.c writes them (unmatched ones too). */
    if (s->map != NULL)
        tf_render_mapped_counters(s, b);
    else
        tf_prom_region_values(b, s, NULL, s->n_counters);
}

int tf_render_prometheus(const tally_snapshot *s, tf_buf *b)
{
    const tally_totals *c = &s->combined, *t = &s->today;
    const tally_inventory *inv = &s->summary.inventory;

    requests(b, "tally_requests_total", "counter",
             "Usage rows, all closed business days plus today, by outcome (error: status "
             "code 400 or above, or an error message).",
             c);
    tokens(b, "tally_tokens_total", "counter",
           "Tokens of usage rows, all closed business days plus today, by kind.", c);
    one_real(b, "tally_cost_usd_total", "counter",
             "Total cost of usage rows in US dollars, all closed business days plus today.",
             c->total_cost);
    one_real(b, "tally_actual_cost_usd_total", "counter",
             "Actual total cost of usage rows in US dollars, all closed business days plus "
             "today.",
             c->actual_total_cost);

    requests(b, "tally_today_requests", "gauge",
             "Usage rows since the start of the business day, by outcome.", t);
    tokens(b, "tally_today_tokens", "gauge",
           "Tokens of usage rows since the start of the business day, by kind.", t);
    one_real(b, "tally_today_cost_usd", "gauge",
             "Total cost of usage rows since the start of the business day, in US dollars.",
             t->total_cost);
    one_real(b, "tally_today_actual_cost_usd", "gauge",
             "Actual total cost of usage rows since the start of the business day, in US "
             "dollars.",
             t->actual_total_cost);

    one_int(b, "tally_users", "gauge", "Users in the users inventory.", inv->total_users);
    one_int(b, "tally_active_users", "gauge", "Users in the users inventory that are active.",
            inv->active_users);
    one_int(b, "tally_api_keys", "gauge", "API keys in the api_keys inventory.",
            inv->total_api_keys);
    one_int(b, "tally_active_api_keys", "gauge",
            "API keys in the api_keys inventory that are active.", inv->active_api_keys);

    one_int(b, "tally_rejected_rows_total", "counter",
            "Input rows set aside as malformed, all sources.", s->rejected_rows);
    one_int(b, "tally_snapshot_generated_timestamp_seconds", "gauge",
            "When the snapshot was made, in seconds since the Unix epoch (wall clock).",
            s->generated_utc);

    region_values(b, s);
    tf_render_prometheus_agent(s->agent, b);
    return b->failed ? -1 : 0;
}
