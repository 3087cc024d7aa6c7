/*
 * spool.h — exporters' spools and marks: per-instance queues of payloads
 * that could not be delivered yet, and per-instance named marks (what an
 * exporter last delivered), kept in the state database
 * (state_dir/tally.db) so they survive restarts; a payload and a mark can
 * be written in one transaction. Exporters call them from their own
 * threads while the cycle holds its transaction on the main connection,
 * so the spool has a connection of its own (WAL lets readers and one
 * writer share the file; a busy timeout waits out the cycle's commit)
 * behind one mutex.
 *
 * Its tables are its own (spool, spool_instances, export_marks), migrated
 * under the owner name "spool" by its own versioned steps (lib/migrate).
 */
#ifndef TALLY_AGENT_SPOOL_H
#define TALLY_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "tally/plugin.h"

typedef struct spool spool;

/* The spool's tables: owner name in schema_versions, and the version this
 * release brings them to. */
#define SPOOL_OWNER "spool"
#define SPOOL_SCHEMA_VERSION 2

/* A mark's name and value at most (bytes): marks are short. */
#define SPOOL_MARK_NAME_MAX 255
#define SPOOL_MARK_VALUE_MAX 4096

/* Open state_dir/tally.db (state_open made it) a second time for the
 * spools. 0, or -1 (logged). */
int spool_open(const char *state_dir, spool **out);
void spool_close(spool *s);

/* The tally_host_api's spool_* for the instance `instance` (see plugin.h).
 * Each returns TALLY_HOST_OK, TALLY_HOST_ENOENT or TALLY_HOST_ERR (logged
 * with `who`). */
int spool_push(spool *s, const char *instance, const char *who, const void *data, size_t len,
               const char *meta, int mode, int64_t max_bytes, int64_t *seq, int64_t *overflowed);
int spool_peek(spool *s, const char *instance, tally_spool_item *out);
int spool_drop(spool *s, const char *instance, int64_t seq, int outcome);
int spool_stats(spool *s, const char *instance, tally_spool_stats *out);
/* spool_stats, and *spooled 1 if the instance ever pushed a payload (0:
 * its figures are all zero because it never spooled). */
int spool_instance_stats(spool *s, const char *instance, tally_spool_stats *out, int *spooled);
/* spool_push and the mark (mark_name, mark_value) in one transaction:
 * both or neither. A payload larger than max_bytes is counted as
 * overflowed and not kept, and then the mark is not set either:
 * TALLY_HOST_ERR with *overflowed 1. mark_name NULL: spool_push. */
int spool_push_marked(spool *s, const char *instance, const char *who, const void *data, size_t len,
                      const char *meta, int mode, int64_t max_bytes, const char *mark_name,
                      const char *mark_value, int64_t *seq, int64_t *overflowed);
/* The instance's mark `name`: get gives a malloc'd copy (TALLY_HOST_OK)
 * or TALLY_HOST_ENOENT; put is one durable transaction. */
int spool_mark_get(spool *s, const char *instance, const char *name, char **value);
int spool_mark_put(spool *s, const char *instance, const char *who, const char *name,
                   const char *value);

/* The same, as tally_host_api members (host.c lists them). */
int host_spool_push(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                    int64_t max_bytes, int64_t *seq, int64_t *overflowed);
int host_spool_peek(tally_host *h, tally_spool_item *out);
int host_spool_drop(tally_host *h, int64_t seq, int outcome);
int host_spool_stats(tally_host *h, tally_spool_stats *out);
int host_mark_get(tally_host *h, const char *name, char **value);
int host_mark_put(tally_host *h, const char *name, const char *value);
int host_spool_push_marked(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                           int64_t max_bytes, const char *mark_name, const char *mark_value,
                           int64_t *seq, int64_t *overflowed);

#endif
