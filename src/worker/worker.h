/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Background workers: a launcher for the cluster and one worker per
 *	  database where pg_lowcode is installed.
 *
 * The launcher (registered in _PG_init, connected to no database) reads
 * pg_database, and for each database that allows connections starts a
 * database worker in a slot of shared memory; a database worker that finds
 * no pg_lowcode in its database records that in its slot and exits, and the
 * launcher checks that database again only after a while, or at once when
 * a CREATE EXTENSION pg_lowcode commits (it pokes the launcher).  The slots
 * are also how DROP DATABASE (and the other commands that need a database
 * without connections) stops the worker of a database first.
 *
 * src/worker/ holds the background workers: the launcher and one database
 * worker per database (sweeps of sessions and quotas).
 *
 *-------------------------------------------------------------------------
 */
#ifndef WORKER_H
#define WORKER_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* Settings (GUCs), defined in worker_init.c. */
extern int	worker_sweep_interval_ms;	/* lowcode.sweep_interval */
extern int	worker_max_database_workers;	/* lowcode.max_database_workers */
extern int	worker_batch_delay_ms;	/* lowcode.sweep_batch_delay */
extern int	worker_nice;			/* lowcode.worker_nice */

typedef enum DbWorkerState
{
	DBW_FREE = 0,				/* slot unused */
	DBW_STARTING,				/* registered by the launcher */
	DBW_CHECKING,				/* connected, looking for the extension */
	DBW_IDLE,					/* waiting for the next sweep */
	DBW_SWEEPING,
	DBW_RECOVERY				/* server in recovery: writes nothing */
} DbWorkerState;

typedef struct DbWorkerSlot
{
	Oid			dboid;
	DbWorkerState state;
	pid_t		pid;			/* 0 until the worker reports in, and after it left */
	bool		no_extension;	/* the worker found no pg_lowcode and left */
	TimestampTz last_sweep;
	int64		sweeps;
	bool		timers_wakeup;	/* a commit armed a workflow timer due before the next sweep */
} DbWorkerSlot;

/* Databases whose worker must stay stopped until a time (DROP DATABASE...). */
#define WORKER_MAX_BLOCKED 8

typedef struct WorkerShared
{
	LWLock	   *lock;
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	bool		recheck_requested;	/* a CREATE EXTENSION committed */
	Oid			blocked_db[WORKER_MAX_BLOCKED];
	TimestampTz blocked_until[WORKER_MAX_BLOCKED];
	int			nslots;
	DbWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
} WorkerShared;

extern WorkerShared *worker_shared;

extern bool worker_db_blocked(Oid dboid, TimestampTz now);

/* Entry points of the processes (bgw_function_name). */
extern PGDLLEXPORT void lowcode_launcher_main(Datum arg);
extern PGDLLEXPORT void lowcode_db_worker_main(Datum arg);

#endif							/* WORKER_H */
