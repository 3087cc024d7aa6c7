/*
 * exportq.h — one thread per exporter instance, each with a one-slot
 * mailbox: a new snapshot replaces an undelivered older one. A slow or
 * hanging exporter therefore never delays collection or other exporters;
 * at shutdown, exporters get a grace period to deliver, then hung ones are
 * abandoned (and not stopped, since they are still inside export).
 */
#ifndef TALLY_AGENT_EXPORTQ_H
#define TALLY_AGENT_EXPORTQ_H

#include "snapshot.h"

struct exportq *exportq_start(agent *a);
/* Hand a snapshot to every exporter (each takes its own reference). */
void exportq_publish(struct exportq *q, snap_ref *s);
/* Wait up to timeout_ms until every exporter has delivered what it was
 * given. Returns the number still busy. */
int exportq_drain(struct exportq *q, int timeout_ms);
/* Drain (bounded), end the threads, and mark hung exporters so
 * host_stop_all does not call into them. Frees q. */
void exportq_stop(struct exportq *q, int timeout_ms);

#endif
