/*
 * selfmetric.c — see selfmetric.h.
 */
#include "selfmetric/selfmetric.h"

#include "tally/plugin.h"

#include <math.h>
#include <string.h>

_Static_assert(SELFMETRIC_NAME_MAX == 64, "the message for a long name says 64");

static const char *const reserved[] = {
    SELFMETRIC_RECORDS,          SELFMETRIC_REJECTED,        SELFMETRIC_ERRORS,
    SELFMETRIC_EXPORTS_OK,       SELFMETRIC_EXPORTS_FAILED,  SELFMETRIC_SPOOL_ITEMS,
    SELFMETRIC_SPOOL_BYTES,      SELFMETRIC_SPOOL_DELIVERED, SELFMETRIC_SPOOL_REJECTED,
    SELFMETRIC_SPOOL_OVERFLOWED,
};

const char *selfmetric_kind_word(int kind)
{
    switch (kind) {
    case TALLY_PLUGIN_SOURCE:
        return "source";
    case TALLY_PLUGIN_COLLECTOR:
        return "collector";
    case TALLY_PLUGIN_EXPORTER:
        return "exporter";
    }
    return NULL;
}

int selfmetric_reserved(const char *name)
{
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(name, reserved[i]) == 0)
            return 1;
    return 0;
}

int selfmetric_name_ok(const char *name)
{
    if (name == NULL || name[0] < 'a' || name[0] > 'z' || strlen(name) > SELFMETRIC_NAME_MAX)
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int ends_in_total(const char *name)
{
    size_t n = strlen(name);
    return n >= 6 && strcmp(name + n - 6, "_total") == 0;
}

int selfmetric_check(const char *name, tally_metric_kind kind, double value, const char **why)
{
    if (name == NULL || !selfmetric_name_ok(name))
        *why = "is not a name of the form [a-z][a-z0-9_]* of at most 64 bytes";
    else if (selfmetric_reserved(name))
        *why = "is one of the names the agent keeps itself";
    else if (kind != TALLY_METRIC_COUNTER && kind != TALLY_METRIC_GAUGE)
        *why = "has a kind that is neither TALLY_METRIC_COUNTER nor TALLY_METRIC_GAUGE";
    else if (kind == TALLY_METRIC_COUNTER && !ends_in_total(name))
        *why = "is a counter whose name does not end in _total";
    else if (kind == TALLY_METRIC_GAUGE && ends_in_total(name))
        *why = "is a gauge whose name ends in _total (only counters do)";
    else if (!isfinite(value))
        *why = "has a value that is not a finite number";
    else if (kind == TALLY_METRIC_COUNTER && value < 0)
        *why = "is a counter with a negative value";
    else
        return 0;
    return -1;
}
