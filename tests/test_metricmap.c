/*
 * test_metricmap.c — lib/metricmap: every refusal of the config's checks
 * with its message (globs, names, labels, rules that are not one-to-one,
 * pairs of rules of one name), the template overlap test, and the
 * compiled rules matching counter names: $N, the first rule winning, no
 * match, families and their types and default help.
 */
#include "metricmap/metricmap.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char why[1024];

/* The check refused, and its message holds want. */
#define REFUSED(call, want)                                                                        \
    do {                                                                                           \
        why[0] = '\0';                                                                             \
        assert_int_equal((call), -1);                                                              \
        if (strstr(why, (want)) == NULL)                                                           \
            fail_msg("message \"%s\" lacks \"%s\"", why, (want));                                  \
    } while (0)

static void test_globs(void **state)
{
    (void)state;
    size_t stars = 99;
    assert_int_equal(metricmap_check_glob("llm.*.tokens", &stars, why, sizeof(why)), 0);
    assert_int_equal(stars, 1);
    assert_int_equal(metricmap_check_glob("*", &stars, why, sizeof(why)), 0);
    assert_int_equal(stars, 1);
    assert_int_equal(metricmap_check_glob("a.b", &stars, why, sizeof(why)), 0);
    assert_int_equal(stars, 0);
    REFUSED(metricmap_check_glob("", &stars, why, sizeof(why)), "the glob is empty");
    REFUSED(metricmap_check_glob(NULL, &stars, why, sizeof(why)), "the glob is empty");
    REFUSED(metricmap_check_glob(".a", &stars, why, sizeof(why)), "empty part");
    REFUSED(metricmap_check_glob("a.", &stars, why, sizeof(why)), "empty part");
    REFUSED(metricmap_check_glob("a..b", &stars, why, sizeof(why)), "empty part");
    REFUSED(metricmap_check_glob("llm.gpt*.x", &stars, why, sizeof(why)),
            "the glob part \"gpt*\" mixes '*' with text");
    REFUSED(metricmap_check_glob("a.**", &stars, why, sizeof(why)), "\"**\" mixes");
    REFUSED(metricmap_check_glob("a\tb", &stars, why, sizeof(why)), "control character");
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    REFUSED(metricmap_check_glob(big, &stars, why, sizeof(why)), "longer than 256 bytes");
    REFUSED(metricmap_check_glob("*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*", &stars, why, sizeof(why)),
            "more than 16 '*'");
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(metricmap_check_name("llm_tokens_total", why, sizeof(why)), 0);
    assert_int_equal(metricmap_check_name("_a:b9", why, sizeof(why)), 0);
    REFUSED(metricmap_check_name("", why, sizeof(why)), "the rule has no name");
    REFUSED(metricmap_check_name(NULL, why, sizeof(why)), "the rule has no name");
    REFUSED(metricmap_check_name("9lives", why, sizeof(why)),
            "name \"9lives\" is not a Prometheus metric name");
    REFUSED(metricmap_check_name("llm-tokens", why, sizeof(why)), "is not a Prometheus metric");
    REFUSED(metricmap_check_name("tally_region_value", why, sizeof(why)),
            "name \"tally_region_value\" starts with tally_, which the agent's own families use");
    REFUSED(metricmap_check_name("tally_x", why, sizeof(why)), "starts with tally_");
}

static void test_labels(void **state)
{
    (void)state;
    assert_int_equal(metricmap_check_label("model=$1", 1, why, sizeof(why)), 0);
    assert_int_equal(metricmap_check_label("kind=input", 0, why, sizeof(why)), 0);
    assert_int_equal(metricmap_check_label("x=$1.$2 $$", 2, why, sizeof(why)), 0);
    REFUSED(metricmap_check_label("model", 1, why, sizeof(why)), "label \"model\" has no '='");
    REFUSED(metricmap_check_label("=$1", 1, why, sizeof(why)), "has no name before '='");
    REFUSED(metricmap_check_label("model =$1", 1, why, sizeof(why)),
            "label name \"model \" is not [a-zA-Z_][a-zA-Z0-9_]*");
    REFUSED(metricmap_check_label("9m=$1", 1, why, sizeof(why)), "label name \"9m\" is not");
    REFUSED(metricmap_check_label("__name__=$1", 1, why, sizeof(why)),
            "label name \"__name__\" starts with __");
    REFUSED(metricmap_check_label("model=", 1, why, sizeof(why)),
            "label \"model=\" has an empty value");
    REFUSED(metricmap_check_label("model=$2", 1, why, sizeof(why)),
            "label \"model=$2\" uses $2, but the glob's '*' are $1..$1");
    REFUSED(metricmap_check_label("model=$0", 1, why, sizeof(why)), "uses $0");
    REFUSED(metricmap_check_label("model=$1", 0, why, sizeof(why)),
            "uses $1, but the glob has no '*'");
    REFUSED(metricmap_check_label("model=$99999999999999999999", 2, why, sizeof(why)),
            "uses $99999999999999999999");
    REFUSED(metricmap_check_label("cost=$x", 1, why, sizeof(why)), "has a '$' without a number");
    REFUSED(metricmap_check_label("cost=1$", 1, why, sizeof(why)), "has a '$' without a number");
    REFUSED(metricmap_check_label("a=b\nc", 0, why, sizeof(why)), "control character");
}

static tally_metric_map_rule rule(const char *match, const char *name, const char *const *labels,
                                  size_t n)
{
    return (tally_metric_map_rule){.match = match, .name = name, .labels = labels, .n_labels = n};
}

static void test_rules(void **state)
{
    (void)state;
    const char *model[] = {"model=$1"};
    const char *both[] = {"model=$1", "kind=$2"};
    const char *joined[] = {"key=$1$2"};
    const char *dotted[] = {"key=$1.$2"};
    const char *twice[] = {"model=$1", "model=$1"};
    tally_metric_map_rule r = rule("llm.*.tokens", "llm_tokens_total", model, 1);
    assert_int_equal(metricmap_check_rule(&r, why, sizeof(why)), 0);
    r = rule("llm.*.*", "llm_total", both, 2);
    assert_int_equal(metricmap_check_rule(&r, why, sizeof(why)), 0);
    r = rule("llm.*.*", "llm_total", dotted, 1);
    assert_int_equal(metricmap_check_rule(&r, why, sizeof(why)), 0);
    r = rule("app.requests", "app_requests_total", NULL, 0);
    assert_int_equal(metricmap_check_rule(&r, why, sizeof(why)), 0);

    r = rule("llm.*.*", "llm_total", model, 1);
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "'*' number 2 of the glob is in no label");
    r = rule("llm.*.*", "llm_total", joined, 1);
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "'*' number 1 of the glob is in no label");
    r = rule("llm.*.tokens", "llm_total", twice, 2);
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "label \"model\" is given twice");
    r = rule("llm.*.tokens", "tally_llm", model, 1);
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "starts with tally_");
    r = rule("llm.*x.tokens", "llm", model, 1);
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "mixes '*'");
    const char *many[17];
    for (size_t i = 0; i < COUNT(many); i++)
        many[i] = "a=b";
    r = rule("a", "a", many, COUNT(many));
    REFUSED(metricmap_check_rule(&r, why, sizeof(why)), "the rule has 17 labels; at most 16");
}

static void test_pairs(void **state)
{
    (void)state;
    const char *model[] = {"model=$1"};
    const char *input[] = {"model=$1", "kind=input"};
    const char *output[] = {"kind=output", "model=$1"};
    const char *reason[] = {"model=$1", "reason=$1"};
    const char *dots[] = {"model=$1.$2"};
    tally_metric_map_rule a = rule("llm.*.input", "llm_tokens_total", input, 2);
    tally_metric_map_rule b = rule("llm.*.output", "llm_tokens_total", output, 2);
    assert_int_equal(metricmap_check_pair(&a, &b, why, sizeof(why)), 0);
    /* Another name: nothing to compare. */
    b = rule("llm.*.tokens", "other_total", model, 1);
    assert_int_equal(metricmap_check_pair(&a, &b, why, sizeof(why)), 0);
    /* $1 never holds a '.', $1.$2 always does. */
    a = rule("llm.*.tokens", "llm_tokens_total", model, 1);
    b = rule("llm.*.*.tokens", "llm_tokens_total", dots, 1);
    assert_int_equal(metricmap_check_pair(&a, &b, why, sizeof(why)), 0);

    /* Same templates over globs that both match llm.x.tokens (or not: the
     * test is on the labels alone). */
    a = rule("llm.*.tokens", "llm_tokens_total", model, 1);
    b = rule("llm.*.*", "llm_tokens_total", model, 1);
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)),
            "name \"llm_tokens_total\" is also given by map \"llm.*.tokens\", and no label here "
            "can tell their series apart");
    b = rule("gpu.*.tokens", "llm_tokens_total", model, 1);
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)), "no label here can tell");
    /* A literal that $1 could be. */
    const char *gpt[] = {"model=gpt"};
    b = rule("llm.gpt.tokens", "llm_tokens_total", gpt, 1);
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)), "no label here can tell");
    b = rule("llm.*.other", "llm_tokens_total", reason, 2);
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)),
            "name \"llm_tokens_total\" has the labels (model, reason) here but (model) in map "
            "\"llm.*.tokens\": Prometheus needs one set of label names per metric");
    b = rule("llm.x", "llm_tokens_total", NULL, 0);
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)), "the labels (none) here but (model)");
    /* Help. */
    a = rule("llm.*.input", "llm_tokens_total", input, 2);
    b = rule("llm.*.output", "llm_tokens_total", output, 2);
    a.help = "Tokens.";
    assert_int_equal(metricmap_check_pair(&a, &b, why, sizeof(why)), 0);
    b.help = "Tokens.";
    assert_int_equal(metricmap_check_pair(&a, &b, why, sizeof(why)), 0);
    b.help = "Other.";
    REFUSED(metricmap_check_pair(&a, &b, why, sizeof(why)),
            "name \"llm_tokens_total\" has another help here than in map \"llm.*.input\"");
}

/* Which labels the compiled map gives name: "family{a=x,b=y}" or "-". */
static void mapped(const metricmap *mm, const char *name, char *out, size_t cap);

static void put_text(void *arg, const char *s, size_t n)
{
    strncat(arg, s, n);
}

static void mapped(const metricmap *mm, const char *name, char *out, size_t cap)
{
    metricmap_hit hit;
    out[0] = '\0';
    if (!metricmap_match(mm, name, &hit)) {
        snprintf(out, cap, "-");
        return;
    }
    strcat(out, metricmap_family_name(mm, hit.family));
    for (size_t i = 0; i < metricmap_family_n_labels(mm, hit.family); i++) {
        strcat(out, i ? "," : "{");
        strcat(out, metricmap_family_label(mm, hit.family, i));
        strcat(out, "=");
        metricmap_label_value(mm, name, &hit, i, put_text, out);
    }
    if (metricmap_family_n_labels(mm, hit.family) > 0)
        strcat(out, "}");
}

static void test_match(void **state)
{
    (void)state;
    const char *input[] = {"model=$1", "kind=input"};
    const char *output[] = {"kind=output", "model=$1"};
    const char *route[] = {"route=/$1.$2/", "cost=$$1"};
    const char *any[] = {"name=$1"};
    tally_metric_map_rule rules[] = {
        rule("llm.*.input", "llm_tokens_total", input, 2),
        rule("llm.*.output", "llm_tokens_total", output, 2),
        rule("http.*.*.hits", "http_hits", route, 2),
        rule("app.requests", "app_requests_total", NULL, 0),
        rule("*.input", "other_input", any, 1),
    };
    rules[1].help = "Tokens by model and kind.";
    tally_metric_map m = {rules, COUNT(rules), 0};
    metricmap *mm;
    assert_int_equal(metricmap_compile(&m, &mm), 0);
    assert_int_equal(metricmap_drop_unmatched(mm), 0);
    assert_int_equal(metricmap_n_families(mm), 4);
    assert_string_equal(metricmap_family_name(mm, 0), "llm_tokens_total");
    assert_string_equal(metricmap_family_type(mm, 0), "counter");
    assert_string_equal(metricmap_family_help(mm, 0), "Tokens by model and kind.");
    assert_string_equal(metricmap_family_type(mm, 1), "gauge");
    assert_string_equal(metricmap_family_help(mm, 1),
                        "Live value of the libtally counters http.*.*.hits (tallyd.conf map).");
    char out[512];
    /* The family's label order (its first rule's), whatever the rule's. */
    mapped(mm, "llm.gpt-4o.input", out, sizeof(out));
    assert_string_equal(out, "llm_tokens_total{model=gpt-4o,kind=input}");
    mapped(mm, "llm.gpt-4o.output", out, sizeof(out));
    assert_string_equal(out, "llm_tokens_total{model=gpt-4o,kind=output}");
    mapped(mm, "http.api.users.hits", out, sizeof(out));
    assert_string_equal(out, "http_hits{route=/api.users/,cost=$1}");
    mapped(mm, "app.requests", out, sizeof(out));
    assert_string_equal(out, "app_requests_total");
    /* The first rule that matches wins. */
    mapped(mm, "x.input", out, sizeof(out));
    assert_string_equal(out, "other_input{name=x}");
    /* Not matched: other part counts, other text, an empty part. */
    const char *misses[] = {"llm.gpt.in",
                            "llm.a.b.input",
                            "llm.gpt.inputs",
                            "llm..input",
                            "app.requests.x",
                            "app.request",
                            "",
                            "http.a.hits",
                            "llm.gpt.input.",
                            "xllm.gpt.input"};
    for (size_t i = 0; i < COUNT(misses); i++) {
        mapped(mm, misses[i], out, sizeof(out));
        if (strcmp(out, "-") != 0)
            fail_msg("%s matched: %s", misses[i], out);
    }
    metricmap_free(mm);

    /* A rule the checks refuse does not compile. */
    const char *bad[] = {"model=$2"};
    tally_metric_map_rule r = rule("llm.*.tokens", "llm_tokens_total", bad, 1);
    tally_metric_map m2 = {&r, 1, 1};
    assert_int_equal(metricmap_compile(&m2, &mm), -1);
    assert_null(mm);
    tally_metric_map none = {NULL, 0, 1};
    assert_int_equal(metricmap_compile(&none, &mm), 0);
    assert_int_equal(metricmap_drop_unmatched(mm), 1);
    assert_int_equal(metricmap_n_families(mm), 0);
    mapped(mm, "a", out, sizeof(out));
    assert_string_equal(out, "-");
    metricmap_free(mm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_globs), cmocka_unit_test(test_names), cmocka_unit_test(test_labels),
        cmocka_unit_test(test_rules), cmocka_unit_test(test_pairs), cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
