/*-------------------------------------------------------------------------
 *
 * lc_inval.h
 *	  One relcache invalidation callback for all of pg_lowcode.
 *
 * PostgreSQL keeps a fixed table of relcache callbacks per backend
 * (MAX_RELCACHE_CALLBACKS, 10 in PostgreSQL 15) shared by every loaded
 * module, and a registration beyond it is a FATAL error.  Citus takes
 * several of them, so each of pg_lowcode's caches registering its own
 * ended the first Citus backend that reached the sixth one ("out of
 * relcache_callback_list slots").  pg_lowcode's caches register here
 * instead: one slot of PostgreSQL's table, a dispatcher, and a table of
 * our own that can grow without touching PostgreSQL's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_INVAL_H
#define LC_INVAL_H

#include "postgres.h"

/* called as a RelcacheCallbackFunction: relid, or InvalidOid for "every relation" */
typedef void (*LcRelcacheCallback) (Datum arg, Oid relid);

/*
 * Register fn(arg) once per backend (a second registration of the same
 * pair is ignored).  Callbacks run in registration order.  ERROR (not
 * FATAL) when LC_RELCACHE_CALLBACKS are taken: a bug of ours, as the
 * number of pg_lowcode's caches is fixed.
 */
extern void lc_register_relcache_callback(LcRelcacheCallback fn, Datum arg);

#endif							/* LC_INVAL_H */
