/*
 * json_agent.c — the JSON summary's "agent" object: the agent's figures
 * about itself (snapshot.h, tally_agent_stats), the same as the
 * Prometheus families of prometheus_agent.c. Its shape is in README's
 * JSON section. A figure that is a whole number is a JSON integer (a
 * count reads as 12, not 12.0).
 */
#include "format_priv.h"

#include "selfmetric/selfmetric.h"

#include <jansson.h>
#include <math.h>

static json_t *instant_or_null(int64_t utc)
{
    char text[TF_INSTANT_LEN];
    if (utc == 0)
        return json_null();
    return tf_instant(utc, text) == 0 ? json_string(text) : json_null();
}

static json_t *figure(double v)
{
    if (!isfinite(v))
        return json_null();
    if (v == trunc(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact as an integer */
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *instance_object(const tally_instance_stats *in)
{
    json_t *metrics = json_object();
    int bad = metrics == NULL;
    for (size_t k = 0; k < in->n_metrics && !bad; k++)
        if (in->metrics[k].name != NULL)
            bad = json_object_set_new(metrics, in->metrics[k].name, figure(in->metrics[k].value));
    const char *kind = selfmetric_kind_word(in->kind);
    json_t *o =
        bad ? NULL
            : json_pack("{s:s, s:s, s:s?, s:o}", "plugin", in->plugin ? in->plugin : "", "instance",
                        in->instance ? in->instance : "", "kind", kind, "metrics", metrics);
    if (o == NULL && bad)
        json_decref(metrics);
    return o;
}

json_t *tf_json_agent(const tally_agent_stats *a)
{
    json_t *list = json_array();
    int bad = list == NULL;
    for (size_t i = 0; i < a->n_instances && !bad; i++)
        bad = json_array_append_new(list, instance_object(&a->instances[i])) != 0;
    if (bad) {
        json_decref(list);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:o, s:I, s:{s:I, s:I}, s:o, s:o, s:o}", "version",
                     a->version ? a->version : "", "plugin_abi", (json_int_t)a->plugin_abi,
                     "started_at", instant_or_null(a->start_utc), "interval_seconds",
                     (json_int_t)a->interval, "cycles", "ok", (json_int_t)a->cycles_ok, "failed",
                     (json_int_t)a->cycles_failed, "last_cycle_seconds",
                     figure(a->last_cycle_seconds), "last_success_at",
                     instant_or_null(a->last_success_utc), "instances", list);
}
