/*
 * spool.h — exporters' spools: per-instance queues of payloads that could
 * not be delivered yet, kept in the state database (state_dir/tally.db) so
 * they survive restarts. Exporters call them from their own threads while
 * the cycle holds its transaction on the main connection, so the spool has
 * a connection of its own (WAL lets readers and one writer share the file;
 * a busy timeout waits out the cycle's commit) behind one mutex.
 *
 * Its tables are its own (spool, spool_instances), migrated under the
 * owner name "spool" by its own versioned steps (lib/migrate).
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
#define SPOOL_SCHEMA_VERSION 1

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

/* The same, as tally_host_api members (host.c lists them). */
int host_spool_push(tally_host *h, const void *data, size_t len, const char *meta, int mode,
                    int64_t max_bytes, int64_t *seq, int64_t *overflowed);
int host_spool_peek(tally_host *h, tally_spool_item *out);
int host_spool_drop(tally_host *h, int64_t seq, int outcome);
int host_spool_stats(tally_host *h, tally_spool_stats *out);

#endif
