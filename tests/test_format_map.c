/*
 * test_format_map.c — the prometheus format with the snapshot's map rules:
 * the exact text of mapped families (grouped, in rule order, HELP escaped,
 * TYPE by the _total suffix), unmatched counters kept as
 * tally_region_value or dropped, label values escaped, and two counters
 * that a map (one the config's checks would refuse) gives one series: the
 * first kept, never a duplicate. Other formats ignore the map. Expected
 * texts are written by hand.
 */
#include "format.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char *render(tally_format f, const tally_snapshot *s)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tally_format_render(f, s, NULL, &out, &len), 0);
    assert_non_null(out);
    return out;
}

/* The text from the first region counter family on (the agent's own
 * families, whatever they are, come before). */
static const char *region_part(const char *out, const char *first)
{
    const char *p = strstr(out, first);
    if (p == NULL)
        fail_msg("no %s in:\n%s", first, out);
    return p;
}

static const char *input[] = {"model=$1", "kind=input"};
static const char *output[] = {"kind=output", "model=$1"};
static const char *route[] = {"route=$1"};

/* Sorted by name, as the agent hands them on. */
static tally_counter_value counters[] = {
    {"app.other", 7},         {"http.a\"b\\c.hits", 3},  {"llm.claude.input", 5},
    {"llm.gpt-4o.input", 10}, {"llm.gpt-4o.output", 20}, {"z\xc3\xa4hler", -1},
};

static tally_snapshot with_map(const tally_metric_map *m)
{
    tally_snapshot s = {.timezone = "Asia/Shanghai", .now_utc = 1795316400};
    s.counters = counters;
    s.n_counters = COUNT(counters);
    s.map = m;
    return s;
}

static void test_mapped_text(void **state)
{
    (void)state;
    tally_metric_map_rule rules[] = {
        {.match = "llm.*.input",
         .name = "llm_tokens_total",
         .labels = input,
         .n_labels = 2,
         .help = "LLM tokens by model and kind.\nSecond \\ line."},
        {.match = "http.*.hits", .name = "http_hits", .labels = route, .n_labels = 1},
        {.match = "llm.*.output", .name = "llm_tokens_total", .labels = output, .n_labels = 2},
    };
    tally_metric_map m = {rules, COUNT(rules), 0};
    tally_snapshot s = with_map(&m);
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s);
    const char *want =
        "# HELP tally_region_value Live value of a libtally counter, by counter name (a gauge: "
        "tally_add also takes negative numbers).\n"
        "# TYPE tally_region_value gauge\n"
        "tally_region_value{name=\"app.other\"} 7\n"
        "tally_region_value{name=\"z\xc3\xa4hler\"} -1\n"
        "# HELP llm_tokens_total LLM tokens by model and kind.\\nSecond \\\\ line.\n"
        "# TYPE llm_tokens_total counter\n"
        "llm_tokens_total{model=\"claude\",kind=\"input\"} 5\n"
        "llm_tokens_total{model=\"gpt-4o\",kind=\"input\"} 10\n"
        "llm_tokens_total{model=\"gpt-4o\",kind=\"output\"} 20\n"
        "# HELP http_hits Live value of the libtally counters http.*.hits (tallyd.conf map).\n"
        "# TYPE http_hits gauge\n"
        "http_hits{route=\"a\\\"b\\\\c\"} 3\n";
    assert_string_equal(region_part(out, "# HELP tally_region_value"), want);
    free(out);

    /* unmapped = drop: the unmatched ones are gone, the rest the same. */
    m.drop_unmatched = 1;
    out = render(TALLY_FORMAT_PROMETHEUS, &s);
    assert_null(strstr(out, "tally_region_value"));
    assert_string_equal(region_part(out, "# HELP llm_tokens_total"),
                        strstr(want, "# HELP llm_tokens_total"));
    free(out);

    /* JSON keeps the counters' own names. */
    out = render(TALLY_FORMAT_JSON, &s);
    assert_non_null(strstr(out, "\"llm.gpt-4o.input\": 10"));
    assert_null(strstr(out, "llm_tokens_total"));
    free(out);
}

static void test_no_rules(void **state)
{
    (void)state;
    /* A map with no rules that keeps: today's text; that drops: none. */
    tally_metric_map m = {NULL, 0, 0};
    tally_snapshot s = with_map(&m);
    char *mapped = render(TALLY_FORMAT_PROMETHEUS, &s);
    s.map = NULL;
    char *plain = render(TALLY_FORMAT_PROMETHEUS, &s);
    assert_string_equal(mapped, plain);
    free(mapped);
    free(plain);
    m.drop_unmatched = 1;
    s.map = &m;
    mapped = render(TALLY_FORMAT_PROMETHEUS, &s);
    assert_null(strstr(mapped, "tally_region_value"));
    free(mapped);
}

static void test_duplicates_left_out(void **state)
{
    (void)state;
    /* Both rules give llm_tokens_total{model="gpt-4o"}: a pair the
     * config's checks refuse, so only a map from elsewhere has it. */
    static const char *model[] = {"model=$1"};
    tally_metric_map_rule rules[] = {
        {.match = "llm.*.output", .name = "llm_tokens_total", .labels = model, .n_labels = 1},
        {.match = "llm.*.input", .name = "llm_tokens_total", .labels = model, .n_labels = 1},
    };
    tally_metric_map m = {rules, COUNT(rules), 1};
    tally_snapshot s = with_map(&m);
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s);
    /* Samples in counter order: claude.input, gpt-4o.input (first of its
     * series), gpt-4o.output (the same series: left out). */
    const char *want = "# HELP llm_tokens_total Live value of the libtally counters "
                       "llm.*.output (tallyd.conf map).\n"
                       "# TYPE llm_tokens_total counter\n"
                       "llm_tokens_total{model=\"claude\"} 5\n"
                       "llm_tokens_total{model=\"gpt-4o\"} 10\n";
    assert_string_equal(region_part(out, "# HELP llm_tokens_total"), want);
    free(out);
}

static void test_many_counters(void **state)
{
    (void)state;
    /* 10,000 counters, each its own series: all there, once each. */
    enum { N = 10000 };
    tally_counter_value *cv = calloc(N, sizeof(*cv));
    char(*names)[32] = calloc(N, sizeof(*names));
    assert_non_null(cv);
    assert_non_null(names);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "llm.m%05d.tokens", i);
        cv[i] = (tally_counter_value){names[i], i};
    }
    static const char *model[] = {"model=$1"};
    tally_metric_map_rule r = {
        .match = "llm.*.tokens", .name = "llm_tokens_total", .labels = model, .n_labels = 1};
    tally_metric_map m = {&r, 1, 0};
    tally_snapshot s = {.counters = cv, .n_counters = N, .map = &m};
    char *out = render(TALLY_FORMAT_PROMETHEUS, &s);
    size_t lines = 0;
    for (const char *p = strstr(out, "llm_tokens_total{"); p != NULL;
         p = strstr(p + 1, "\nllm_tokens_total{"))
        lines++;
    assert_int_equal(lines, N);
    assert_non_null(strstr(out, "llm_tokens_total{model=\"m09999\"} 9999\n"));
    assert_null(strstr(out, "tally_region_value"));
    free(out);
    free(cv);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_text),
        cmocka_unit_test(test_no_rules),
        cmocka_unit_test(test_duplicates_left_out),
        cmocka_unit_test(test_many_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
