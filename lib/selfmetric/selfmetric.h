/*
 * selfmetric.h — the rules for a figure a plugin instance reports about
 * itself through the host's metric callback (plugin.h): its name, its
 * kind, its value, and the names the agent keeps for itself. One place,
 * so the agent and the tests' mock host refuse the same things.
 */
#ifndef TALLY_LIB_SELFMETRIC_H
#define TALLY_LIB_SELFMETRIC_H

#include "tally/snapshot.h"

/* The longest name accepted (bytes): it becomes part of a Prometheus
 * family name, tally_<kind>_<name>. */
#define SELFMETRIC_NAME_MAX 64
/* The longest help text kept (bytes); a longer one is cut. */
#define SELFMETRIC_HELP_MAX 200
/* The most figures one instance may report under names of its own. */
#define SELFMETRIC_PER_INSTANCE_MAX 32

/* The names the agent keeps itself, for every source and exporter. */
#define SELFMETRIC_RECORDS "records_total"
#define SELFMETRIC_REJECTED "rejected_rows_total"
#define SELFMETRIC_ERRORS "errors_total"
#define SELFMETRIC_EXPORTS_OK "exports_ok_total"
#define SELFMETRIC_EXPORTS_FAILED "exports_failed_total"
#define SELFMETRIC_SPOOL_ITEMS "spool_items"
#define SELFMETRIC_SPOOL_BYTES "spool_bytes"
#define SELFMETRIC_SPOOL_DELIVERED "spool_delivered_total"
#define SELFMETRIC_SPOOL_REJECTED "spool_rejected_total"
#define SELFMETRIC_SPOOL_OVERFLOWED "spool_overflowed_total"

/* 1 if name is [a-z][a-z0-9_]* and at most SELFMETRIC_NAME_MAX bytes:
 * what an output may put after tally_<kind>_ as it is. */
int selfmetric_name_ok(const char *name);

/* A tally_plugin_kind's word, as --list-plugins shows it and as the
 * <kind> of tally_<kind>_<name>: "source", "collector", "exporter"; NULL
 * for any other number. */
const char *selfmetric_kind_word(int kind);

/* 1 if name is one of the agent's own, above. */
int selfmetric_reserved(const char *name);

/* 0 if a plugin may report (name, kind, value); else -1 with *why, a
 * phrase for the log ("is not [a-z][a-z0-9_]*", ...). A name is
 * [a-z][a-z0-9_]*, at most SELFMETRIC_NAME_MAX bytes, not the agent's;
 * a counter's ends in _total and a gauge's does not (Prometheus' rule);
 * the value is finite, and a counter's is not negative. */
int selfmetric_check(const char *name, tally_metric_kind kind, double value, const char **why);

#endif
