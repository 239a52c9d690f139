/*-------------------------------------------------------------------------
 *
 * worker_init.c
 *	  The worker component: settings, the launcher's registration, the slots
 *	  in shared memory, the hook that keeps workers out of the way of DROP
 *	  DATABASE, and the SQL functions lowcode.worker_notify_launcher() and
 *	  lowcode.worker_status().
 *
 * src/worker/ holds the background workers: the launcher and one database
 * worker per database (sweeps of sessions and quotas).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "worker/worker.h"

int			worker_sweep_interval_ms = 1000;
int			worker_max_database_workers = 4;
int			worker_batch_delay_ms = 0;
int			worker_nice = 10;

WorkerShared *worker_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Set by lowcode.worker_notify_launcher(), acted on at commit. */
static bool poke_at_commit = false;

/* How long DROP DATABASE waits for a database's worker to leave. */
#define STOP_WAIT_MS 10000
/* How long the launcher then leaves that database alone. */
#define BLOCK_MS 15000

static Size
worker_shmem_size(void)
{
	return add_size(offsetof(WorkerShared, slots),
					mul_size(sizeof(DbWorkerSlot), worker_max_database_workers));
}

static void
worker_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(worker_shmem_size());
	RequestNamedLWLockTranche("pg_lowcode workers", 1);
}

static void
worker_shmem_startup_hook(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("pg_lowcode workers", worker_shmem_size(), &found);
	if (!found)
	{
		memset(worker_shared, 0, worker_shmem_size());
		worker_shared->lock = &(GetNamedLWLockTranche("pg_lowcode workers"))->lock;
		worker_shared->nslots = worker_max_database_workers;
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
worker_db_blocked(Oid dboid, TimestampTz now)
{
	int			i;

	for (i = 0; i < WORKER_MAX_BLOCKED; i++)
		if (worker_shared->blocked_db[i] == dboid && worker_shared->blocked_until[i] > now)
			return true;
	return false;
}

/*
 * Stop the worker of a database and keep the launcher from starting another
 * for a while, so that a command needing the database without other
 * connections (DROP DATABASE, ...) is not blocked by it.
 */
static void
worker_stop_for_database(Oid dboid)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	int			waited = 0;
	int			free_block = -1;

	if (worker_shared == NULL || !OidIsValid(dboid))
		return;

	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < WORKER_MAX_BLOCKED; i++)
	{
		if (worker_shared->blocked_db[i] == dboid || worker_shared->blocked_until[i] <= now)
		{
			free_block = i;
			if (worker_shared->blocked_db[i] == dboid)
				break;
		}
	}
	if (free_block < 0)
		free_block = 0;			/* all in use: reuse the first, at worst it restarts early */
	worker_shared->blocked_db[free_block] = dboid;
	worker_shared->blocked_until[free_block] = TimestampTzPlusMilliseconds(now, BLOCK_MS);
	LWLockRelease(worker_shared->lock);

	for (;;)
	{
		bool		busy = false;

		LWLockAcquire(worker_shared->lock, LW_SHARED);
		for (i = 0; i < worker_shared->nslots; i++)
		{
			DbWorkerSlot *slot = &worker_shared->slots[i];

			if (slot->dboid != dboid || slot->state == DBW_FREE)
				continue;
			if (slot->pid != 0)
			{
				busy = true;
				kill(slot->pid, SIGTERM);
			}
			else if (slot->state == DBW_STARTING)
				busy = true;
		}
		LWLockRelease(worker_shared->lock);
		if (!busy || waited >= STOP_WAIT_MS)
			break;
		pg_usleep(10 * 1000L);
		waited += 10;
		CHECK_FOR_INTERRUPTS();
	}
}

static void
worker_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *dbname = NULL;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			dbname = ((DropdbStmt *) parsetree)->dbname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				dbname = ((RenameStmt *) parsetree)->subname;
			break;
		case T_AlterDatabaseStmt:
			{
				ListCell   *lc;

				/* ALTER DATABASE ... SET TABLESPACE needs no other connections. */
				foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
				{
					if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
						dbname = ((AlterDatabaseStmt *) parsetree)->dbname;
				}
			}
			break;
		case T_CreatedbStmt:
			{
				ListCell   *lc;

				/* The template of CREATE DATABASE must have no other connections. */
				foreach(lc, ((CreatedbStmt *) parsetree)->options)
				{
					DefElem    *opt = lfirst(lc);

					if (strcmp(opt->defname, "template") == 0 && opt->arg)
						dbname = defGetString(opt);
				}
			}
			break;
		default:
			break;
	}
	if (dbname)
		worker_stop_for_database(get_database_oid(dbname, true));

	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context, params,
								  queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

static void
worker_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && poke_at_commit && worker_shared)
	{
		/* The commit is visible to others by now: the worker will see the extension. */
		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		worker_shared->recheck_requested = true;
		if (worker_shared->launcher_latch)
			SetLatch(worker_shared->launcher_latch);
		LWLockRelease(worker_shared->lock);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		poke_at_commit = false;
}

void
worker_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("lowcode.sweep_interval",
							"Time between two sweeps of a database worker.",
							"Each sweep flushes session last-seen times, expires sessions and deletes old sessions and events.",
							&worker_sweep_interval_ms,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.sweep_batch_delay",
							"Pause of a database worker between two batches of one sweep.",
							"0 (the default) sweeps as fast as possible; a few milliseconds leave more CPU "
							"to the workload on a small machine, at the cost of expirations per second.",
							&worker_batch_delay_ms,
							0, 0, 10000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("lowcode.worker_nice",
							"CPU scheduling priority (nice value) of the database workers.",
							"The workers' sweeps are background work: a positive nice value lets the "
							"operating system give the CPU to client backends first when both want it, "
							"and the workers all of it when the clients leave some idle. 0 disables. "
							"A reload can raise it; lowering it needs the workers to restart.",
							&worker_nice,
							10, 0, 19,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	RegisterXactCallback(worker_xact_callback, NULL);

	/* PGC_POSTMASTER: can only be defined while preloading. */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("lowcode.max_database_workers",
							"Maximum number of pg_lowcode database workers running at once.",
							"One worker serves one database; databases beyond the cap get no worker. "
							"max_worker_processes must leave room for them and the launcher.",
							&worker_max_database_workers,
							4, 1, 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup_hook;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = worker_process_utility;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* Not on a standby: nothing may be written there; promotion starts it. */
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_lowcode");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "lowcode_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_lowcode launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_lowcode launcher");
	RegisterBackgroundWorker(&worker);
}

PG_FUNCTION_INFO_V1(lowcode_worker_notify_launcher);

/*
 * lowcode.worker_notify_launcher() RETURNS void: at commit, ask the
 * launcher to look for newly installed extensions now.  Called by the
 * install script; does nothing without shared_preload_libraries.
 */
Datum
lowcode_worker_notify_launcher(PG_FUNCTION_ARGS)
{
	if (worker_shared)
		poke_at_commit = true;
	PG_RETURN_VOID();
}

static const char *
state_name(DbWorkerState s)
{
	switch (s)
	{
		case DBW_FREE:
			return "free";
		case DBW_STARTING:
			return "starting";
		case DBW_CHECKING:
			return "checking";
		case DBW_IDLE:
			return "idle";
		case DBW_SWEEPING:
			return "sweeping";
		case DBW_RECOVERY:
			return "recovery";
	}
	return "unknown";
}

PG_FUNCTION_INFO_V1(lowcode_worker_status);

/* lowcode.worker_status(): one row per slot in use, plus the launcher (database NULL). */
Datum
lowcode_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;
	DbWorkerSlot *copy;
	int			nslots;
	pid_t		launcher_pid;

	lowcode_require_preload("lowcode.worker_status()");
	InitMaterializedSRF(fcinfo, 0);

	nslots = worker_shared->nslots;
	copy = palloc(sizeof(DbWorkerSlot) * nslots);
	LWLockAcquire(worker_shared->lock, LW_SHARED);
	memcpy(copy, worker_shared->slots, sizeof(DbWorkerSlot) * nslots);
	launcher_pid = worker_shared->launcher_pid;
	LWLockRelease(worker_shared->lock);

	{
		Datum		values[6];
		bool		nulls[6] = {true, true, false, false, true, true};

		values[2] = Int32GetDatum(launcher_pid);
		values[3] = CStringGetTextDatum(launcher_pid ? "launcher" : "launcher stopped");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (i = 0; i < nslots; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		char	   *name;

		if (copy[i].state == DBW_FREE)
			continue;
		values[0] = ObjectIdGetDatum(copy[i].dboid);
		name = get_database_name(copy[i].dboid);
		if (name)
			values[1] = DirectFunctionCall1(namein, CStringGetDatum(name));
		else
			nulls[1] = true;
		values[2] = Int32GetDatum(copy[i].pid);
		values[3] = CStringGetTextDatum(state_name(copy[i].state));
		if (copy[i].last_sweep)
			values[4] = TimestampTzGetDatum(copy[i].last_sweep);
		else
			nulls[4] = true;
		values[5] = Int64GetDatum(copy[i].sweeps);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
