/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The pg_lowcode launcher: one per cluster, starts a database worker for
 *	  every database where the extension is installed.
 *
 * The launcher connects to no database, so it can only read shared
 * catalogs: it lists pg_database and, since it cannot see pg_extension of
 * another database, starts a worker in each database that allows
 * connections; a worker that finds no pg_lowcode records it in its slot and
 * leaves.  The launcher then leaves that database alone for
 * RECHECK_MS, unless a CREATE EXTENSION pg_lowcode commits somewhere (it
 * pokes the launcher, see worker_init.c) -- the approach of TimescaleDB's
 * launcher, without its message queue.
 *
 * A database worker that stops for another reason (killed, an error at
 * start) is started again after RESTART_MS.  A database that disappears
 * from pg_database has its slot freed and its sessions forgotten in shared
 * memory.  Databases beyond lowcode.max_database_workers get no worker
 * (logged once).
 *
 * src/worker/ holds the background workers: the launcher and one database
 * worker per database (sweeps of sessions and quotas).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "session/session.h"
#include "worker/worker.h"

#define RECHECK_MS	(300 * 1000)	/* database without the extension */
#define RESTART_MS	2000			/* a worker that stopped unexpectedly */
#define NAP_MS		1000

typedef struct KnownDb
{
	Oid			dboid;			/* hash key */
	TimestampTz next_start;		/* do not start a worker before this */
	bool		seen;			/* still in pg_database (this round) */
} KnownDb;

static volatile sig_atomic_t got_sigterm = false;
static BackgroundWorkerHandle **handles;
static HTAB *known;
static bool cap_warned = false;

static void
launcher_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * On exit the launcher stops its database workers: a new launcher (the
 * postmaster restarts it) starts them again, and no database ever has two.
 */
static void
launcher_detach(int code, Datum arg)
{
	int			i;

	if (worker_shared == NULL)
		return;
	for (i = 0; handles && i < worker_shared->nslots; i++)
		if (handles[i] != NULL)
			TerminateBackgroundWorker(handles[i]);
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	if (worker_shared->launcher_pid == MyProcPid)
	{
		worker_shared->launcher_pid = 0;
		worker_shared->launcher_latch = NULL;
	}
	LWLockRelease(worker_shared->lock);
}

/* Free the slots of workers that have stopped, deciding when to restart. */
static void
reap_workers(TimestampTz now)
{
	int			i;

	for (i = 0; i < worker_shared->nslots; i++)
	{
		pid_t		pid;
		BgwHandleStatus status;
		DbWorkerSlot *slot = &worker_shared->slots[i];
		Oid			dboid;
		bool		no_ext;
		KnownDb    *kd;

		if (handles[i] == NULL)
			continue;
		status = GetBackgroundWorkerPid(handles[i], &pid);
		if (status == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		if (status != BGWH_STOPPED)
			continue;

		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		dboid = slot->dboid;
		no_ext = slot->no_extension;
		memset(slot, 0, sizeof(DbWorkerSlot));
		LWLockRelease(worker_shared->lock);
		pfree(handles[i]);
		handles[i] = NULL;

		kd = hash_search(known, &dboid, HASH_FIND, NULL);
		if (kd)
			kd->next_start = TimestampTzPlusMilliseconds(now, no_ext ? RECHECK_MS : RESTART_MS);
		if (no_ext)
			session_shmem_forget_database(dboid);
		else
			elog(LOG, "pg_lowcode launcher: the worker of database %u stopped", dboid);
	}
}

static bool
db_has_worker(Oid dboid)
{
	int			i;

	for (i = 0; i < worker_shared->nslots; i++)
		if (handles[i] != NULL && worker_shared->slots[i].dboid == dboid)
			return true;
	return false;
}

static void
start_worker(Oid dboid, const char *dbname, TimestampTz now, KnownDb *kd)
{
	int			i;
	int			slotno = -1;
	BackgroundWorker worker;

	for (i = 0; i < worker_shared->nslots; i++)
	{
		if (handles[i] == NULL && worker_shared->slots[i].state == DBW_FREE)
		{
			slotno = i;
			break;
		}
	}
	if (slotno < 0)
	{
		if (!cap_warned)
			ereport(WARNING,
					(errmsg("pg_lowcode launcher: lowcode.max_database_workers (%d) reached; database \"%s\" waits for a free worker slot",
							worker_max_database_workers, dbname),
					 errhint("Increase lowcode.max_database_workers (and max_worker_processes) and restart the server.")));
		cap_warned = true;
		return;
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_lowcode");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "lowcode_db_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_lowcode worker %s", dbname);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_lowcode worker");
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	memcpy(worker.bgw_extra, &slotno, sizeof(int));
	worker.bgw_notify_pid = MyProcPid;

	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	worker_shared->slots[slotno].dboid = dboid;
	worker_shared->slots[slotno].state = DBW_STARTING;
	worker_shared->slots[slotno].pid = 0;
	worker_shared->slots[slotno].no_extension = false;
	LWLockRelease(worker_shared->lock);

	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		bool		ok = RegisterDynamicBackgroundWorker(&worker, &handles[slotno]);

		MemoryContextSwitchTo(old);
		if (!ok)
		{
			handles[slotno] = NULL;
			LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
			memset(&worker_shared->slots[slotno], 0, sizeof(DbWorkerSlot));
			LWLockRelease(worker_shared->lock);
			kd->next_start = TimestampTzPlusMilliseconds(now, 10 * 1000);
			ereport(WARNING,
					(errmsg("pg_lowcode launcher: could not start the worker of database \"%s\"", dbname),
					 errhint("Raise max_worker_processes.")));
			return;
		}
	}
	kd->next_start = TimestampTzPlusMilliseconds(now, RESTART_MS);
}

typedef struct DbListEntry
{
	Oid			dboid;
	char		name[NAMEDATALEN];
} DbListEntry;

/* Databases a worker may serve: allowing connections, not templates. */
static List *
list_databases(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext caller = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;
		DbListEntry *e;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(caller);
		e = palloc(sizeof(DbListEntry));
		e->dboid = db->oid;
		strlcpy(e->name, NameStr(db->datname), NAMEDATALEN);
		result = lappend(result, e);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

void
lowcode_launcher_main(Datum arg)
{
	HASHCTL		info;
	MemoryContext loop_ctx;

	pqsignal(SIGTERM, launcher_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pg_lowcode launcher");

	handles = MemoryContextAllocZero(TopMemoryContext,
									 sizeof(BackgroundWorkerHandle *) * worker_shared->nslots);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(KnownDb);
	known = hash_create("pg_lowcode known databases", 64, &info, HASH_ELEM | HASH_BLOBS);
	loop_ctx = AllocSetContextCreate(TopMemoryContext, "pg_lowcode launcher loop", ALLOCSET_DEFAULT_SIZES);

	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	worker_shared->launcher_pid = MyProcPid;
	worker_shared->launcher_latch = MyLatch;
	worker_shared->recheck_requested = false;
	/* Slots left by a launcher that died: their workers are not ours to reap. */
	memset(worker_shared->slots, 0, sizeof(DbWorkerSlot) * worker_shared->nslots);
	LWLockRelease(worker_shared->lock);
	before_shmem_exit(launcher_detach, 0);

	elog(LOG, "pg_lowcode launcher started");

	while (!got_sigterm)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool		recheck;
		List	   *dbs;
		ListCell   *lc;
		HASH_SEQ_STATUS status;
		KnownDb    *kd;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		recheck = worker_shared->recheck_requested;
		worker_shared->recheck_requested = false;
		LWLockRelease(worker_shared->lock);

		reap_workers(now);

		old = MemoryContextSwitchTo(loop_ctx);
		dbs = list_databases();

		hash_seq_init(&status, known);
		while ((kd = hash_seq_search(&status)) != NULL)
		{
			kd->seen = false;
			if (recheck && !db_has_worker(kd->dboid))
				kd->next_start = 0;
		}
		foreach(lc, dbs)
		{
			DbListEntry *e = lfirst(lc);
			bool		found;

			kd = hash_search(known, &e->dboid, HASH_ENTER, &found);
			if (!found)
				kd->next_start = 0;
			kd->seen = true;
			if (db_has_worker(e->dboid) || kd->next_start > now)
				continue;
			LWLockAcquire(worker_shared->lock, LW_SHARED);
			found = worker_db_blocked(e->dboid, now);
			LWLockRelease(worker_shared->lock);
			if (found)
				continue;
			start_worker(e->dboid, e->name, now, kd);
		}

		/* Databases that are gone (dropped, or no longer accepting connections). */
		hash_seq_init(&status, known);
		while ((kd = hash_seq_search(&status)) != NULL)
		{
			int			i;

			if (kd->seen)
				continue;
			for (i = 0; i < worker_shared->nslots; i++)
				if (handles[i] != NULL && worker_shared->slots[i].dboid == kd->dboid)
					TerminateBackgroundWorker(handles[i]);
			session_shmem_forget_database(kd->dboid);
			hash_search(known, &kd->dboid, HASH_REMOVE, NULL);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_ctx);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 NAP_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	elog(LOG, "pg_lowcode launcher stopping");
	/* Exit code 1: the postmaster restarts a launcher that was terminated alone. */
	proc_exit(1);
}
