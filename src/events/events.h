/*-------------------------------------------------------------------------
 *
 * events.h
 *	  Event notifications without a NOTIFY per transaction (issue 21) on
 *	  per-tenant channels (issue 13.7), and identifiers that reveal nothing
 *	  about other tenants' volume.  See events.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LOWCODE_EVENTS_H
#define LOWCODE_EVENTS_H

#include "postgres.h"

extern void events_init(void);

/* The database worker: attach to its slot's queue, deliver what is queued. */
extern void events_worker_attach(int slotno);
extern void events_worker_detach(int slotno);
extern bool events_pending(int slotno);
extern int64 events_deliver(int slotno);

#endif							/* LOWCODE_EVENTS_H */
