/*-------------------------------------------------------------------------
 *
 * events.h
 *	  Event notifications without a NOTIFY per transaction (issue 21) on
 *	  per-tenant channels (issue 13.7), and identifiers that reveal nothing
 *	  about other tenants' volume.  See events.c.
 *
 * src/events/ is the events component: the event outbox's notifications on
 * per-tenant channels, and identifiers that reveal nothing about other
 * tenants' volume.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LOWCODE_EVENTS_H
#define LOWCODE_EVENTS_H

#include "postgres.h"

#include "utils/uuid.h"

extern void events_init(void);

/* lowcode.new_id() (events_id.c) and lowcode.event_queue() for C callers */
extern void events_id_init(void);
extern int64 events_new_id(void);
extern void events_queue(const pg_uuid_t *tenant, int64 id, const char *type);

/* The database worker: attach to its slot's queue, deliver what is queued. */
extern void events_worker_attach(int slotno);
extern void events_worker_detach(int slotno);
extern bool events_pending(int slotno);

/* how soon the worker retries a delivery that left notifications queued */
#define EVENTS_RETRY_MS 200
extern int64 events_deliver(int slotno);

#endif							/* LOWCODE_EVENTS_H */
