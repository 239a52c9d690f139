/*-------------------------------------------------------------------------
 *
 * db_worker.c
 *	  The pg_lowcode database worker: one per database with the extension,
 *	  started by the launcher; sweeps every lowcode.sweep_interval.
 *
 * A sweep:
 *	1. writes last-seen times from shared memory to lowcode.sessions;
 *	2. marks sessions past their idle timeout or absolute expiry as expired
 *	   and emits a session.expired event for each (lowcode.emit_event);
 *	3. deletes expired and revoked sessions older than
 *	   lowcode.session_retention;
 *	4. deletes events past their deadline;
 *	5. calls quota_worker_sweep().
 * Between sweeps, and after each, it fires due workflow timers
 * (src/workflow/workflow_worker.c) and sleeps until the next sweep or the
 * next timer, whichever comes first.
 * Each batch of lowcode.sweep_batch_size rows is its own transaction, so a
 * sweep never holds row locks for long and a concurrent workload keeps
 * going.  Each transaction first takes a share lock on the extension
 * object and checks the extension still exists: DROP EXTENSION waits at
 * most for one batch, and afterwards the worker finds it gone and leaves.
 *
 * On a server in recovery the worker writes nothing (it is not even started
 * there: the launcher starts after recovery; the check stays as a guard).
 * SIGHUP reloads the settings; SIGTERM ends the worker after the current
 * batch.  An error in a sweep is logged and the next sweep runs normally.
 *
 * src/worker/ holds the background workers: the launcher and one database
 * worker per database (sweeps of sessions and quotas).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "metrics/metrics.h"
#include "pg_lowcode.h"
#include "events/events.h"
#include "quota/quota.h"
#include "session/session.h"
#include "worker/worker.h"
#include "workflow/workflow.h"

static volatile sig_atomic_t got_sigterm = false;
static DbWorkerSlot *my_slot = NULL;
static int	my_slotno = -1;
static SessionTouch *touches = NULL;
static int	touches_size = 0;
static bool timers_reconciled = false;
static bool warned_old_schema = false;
static int	applied_nice = 0;

static void
db_worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
db_worker_detach(int code, Datum arg)
{
	if (my_slot == NULL)
		return;
	events_worker_detach(my_slotno);
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	if (my_slot->pid == MyProcPid)
		my_slot->pid = 0;
	LWLockRelease(worker_shared->lock);
}

static void
set_state(DbWorkerState state)
{
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	if (my_slot->pid == MyProcPid)
		my_slot->state = state;
	LWLockRelease(worker_shared->lock);
}

/*
 * Start a transaction for one batch.  False (and no transaction) when the
 * extension is gone from this database.
 */
static bool
begin_batch(void)
{
	Oid			extoid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	extoid = get_extension_oid(LOWCODE_EXTENSION, true);
	if (OidIsValid(extoid))
	{
		/* Serialises with DROP EXTENSION, which locks it exclusively. */
		LockDatabaseObject(ExtensionRelationId, extoid, 0, AccessShareLock);
		extoid = get_extension_oid(LOWCODE_EXTENSION, true);
	}
	if (!OidIsValid(extoid))
	{
		CommitTransactionCommand();
		return false;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	return true;
}

static void
end_batch(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
}

typedef int64 (*BatchStep) (TimestampTz now, int limit);

/* Between two batches: lowcode.sweep_batch_delay, interruptible. */
static void
batch_pause(void)
{
	if (worker_batch_delay_ms <= 0 || got_sigterm)
		return;
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 worker_batch_delay_ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}

/* Run a step in batches until it has less than a batch to do. */
static bool
run_batches(BatchStep step, TimestampTz now, const char *what)
{
	int64		n;
	int64		total = 0;

	do
	{
		if (!begin_batch())
			return false;
		pgstat_report_activity(STATE_RUNNING, what);
		n = step(now, session_sweep_batch_size);
		end_batch();
		total += n;
		CHECK_FOR_INTERRUPTS();
		/* a long sweep must not hold back event notifications (src/events/events.c) */
		(void) events_deliver(my_slotno);
		if (n >= session_sweep_batch_size)
			batch_pause();
	} while (n >= session_sweep_batch_size && !got_sigterm);
	if (total > 0)
		elog(DEBUG1, "pg_lowcode worker: %s: " INT64_FORMAT " rows", what, total);
	return true;
}

/* The expiry step, batched on the timers it fired. */
static int64
expire_step(TimestampTz now, int limit)
{
	int64		timers = 0;

	(void) session_sweep_expire(now, limit, &timers);
	return timers;
}

/* The retention step, batched on the timers it fired. */
static int64
purge_step(TimestampTz now, int limit)
{
	int64		timers = 0;

	(void) session_sweep_delete_ended(now, limit, &timers);
	return timers;
}

/*
 * lowcode.worker_nice: lower the worker's CPU priority so that a sweep
 * takes only CPU that client backends leave idle.  An unprivileged process
 * may raise its nice value but not lower it again, so a smaller setting
 * takes effect when the worker restarts.
 */
static void
apply_nice(void)
{
	int			want = Max(worker_nice, 0);

	if (want <= applied_nice)
		return;
	errno = 0;
	if (setpriority(PRIO_PROCESS, 0, want) != 0)
		ereport(LOG,
				(errmsg("pg_lowcode worker: could not set nice value %d: %m", want)));
	else
		applied_nice = want;
}

/*
 * Does this database's pg_lowcode have the agenda table?  A new library
 * runs against the old SQL objects between an upgrade of the package and
 * ALTER EXTENSION pg_lowcode UPDATE; the worker then only flushes last-seen
 * times, and says why once.
 */
static bool
have_session_timers(void)
{
	Oid			nsp;
	bool		ok;

	if (!begin_batch())
		return false;
	nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	/* event_secret: the 0.3.0 objects, which the expiry's event_queue call needs */
	ok = OidIsValid(nsp) && OidIsValid(get_relname_relid("session_timers", nsp)) &&
		OidIsValid(get_relname_relid("event_secret", nsp));
	end_batch();
	if (!ok && !warned_old_schema)
	{
		ereport(LOG,
				(errmsg("pg_lowcode worker: the SQL objects of pg_lowcode in this database are older than its library; sessions are not expired"),
				 errhint("Run ALTER EXTENSION pg_lowcode UPDATE.")));
		warned_old_schema = true;
	}
	if (ok)
		warned_old_schema = false;
	return ok;
}

/* Write last-seen times from shared memory.  False when the extension is gone. */
static bool
flush_last_seen(void)
{
	for (;;)
	{
		int			k = session_shmem_collect_dirty(MyDatabaseId, touches, touches_size);

		if (k == 0)
			break;
		if (!begin_batch())
			return false;
		pgstat_report_activity(STATE_RUNNING, "flushing session last-seen times");
		session_sweep_flush(touches, k);
		end_batch();
		session_shmem_mark_flushed(MyDatabaseId, touches, k);
		if (k < touches_size || got_sigterm)
			break;
		batch_pause();
	}
	return true;
}

/* The quota component's sweep (usage counters).  False when the extension is gone. */
static bool
quota_sweep(void)
{
	if (!begin_batch())
		return false;
	pgstat_report_activity(STATE_RUNNING, "quota sweep");
	quota_worker_sweep();
	end_batch();
	return true;
}

/*
 * Workflow timers: batches until less than a batch was due.  Sets *next_due
 * (0: no timer pending).  False when the extension is gone.
 *
 * A backlog (a full batch: more were due) is worked off at
 * lowcode.workflow_timer_share of the worker's time, as autovacuum's cost
 * delay bounds vacuum: after a full batch that took t ms, *next_due is set
 * t * (100 - share) / share ms ahead and the worker returns to its wait
 * loop, which delivers events meanwhile (issue 19: the requests' throughput
 * while a mass of timers fires).  Timers that come due at a steady rate fill
 * no batch and fire without a pause.
 */
static TimestampTz timers_paused_until = 0;	/* the backlog's pause, 0: none */

static bool
fire_workflow_timers(TimestampTz *next_due)
{
	int64		n;

	*next_due = 0;
	/* in a pause: the sweeps go on, the timers wait (a share of 100 ends it) */
	if (timers_paused_until != 0 && workflow_timer_share < 100 &&
		GetCurrentTimestamp() < timers_paused_until)
	{
		*next_due = timers_paused_until;
		return true;
	}
	timers_paused_until = 0;
	do
	{
		TimestampTz start = GetCurrentTimestamp();

		if (!begin_batch())
			return false;
		pgstat_report_activity(STATE_RUNNING, "firing workflow timers");
		n = workflow_worker_fire_timers(next_due);
		end_batch();
		CHECK_FOR_INTERRUPTS();
		if (n >= workflow_timer_batch && workflow_timer_share < 100 && !got_sigterm)
		{
			TimestampTz now = GetCurrentTimestamp();
			int64		took_us = Max(now - start, 1000);

			timers_paused_until = now + took_us * (100 - workflow_timer_share) / workflow_timer_share;
			*next_due = timers_paused_until;
			break;
		}
	} while (n >= workflow_timer_batch && !got_sigterm);
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

/* One sweep.  False when the extension is gone. */
static bool
sweep(void)
{
	TimestampTz now;

	if (touches_size != session_sweep_batch_size)
	{
		if (touches)
			pfree(touches);
		touches_size = session_sweep_batch_size;
		touches = MemoryContextAlloc(TopMemoryContext, sizeof(SessionTouch) * touches_size);
	}

	/* 1. last-seen times */
	if (!flush_last_seen())
		return false;

	now = GetCurrentTimestamp();
	if (!got_sigterm && have_session_timers())
	{
		if (!timers_reconciled)
		{
			int64		n;

			if (!begin_batch())
				return false;
			pgstat_report_activity(STATE_RUNNING, "reconciling session timers");
			n = session_sweep_reconcile_timers(now);
			end_batch();
			if (n > 0)
				elog(LOG, "pg_lowcode worker: set timers for " INT64_FORMAT " sessions that had none", n);
			timers_reconciled = true;
		}
		if (!got_sigterm && !run_batches(expire_step, now, "expiring sessions"))
			return false;
		if (!got_sigterm && !run_batches(purge_step, now, "deleting ended sessions"))
			return false;
	}
	if (!got_sigterm && !run_batches(session_sweep_delete_events, now, "deleting old events"))
		return false;

	if (!got_sigterm && !quota_sweep())
		return false;
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

/* how long the worker waits, once woken by a commit's events, for more to deliver in the same batch */
#define EVENTS_COALESCE_US 2000

/*
 * Deliver the queued event notifications (src/events/events.c).  An error
 * is logged and the notifications stay queued for the next wake-up.
 */
static void
deliver_events(MemoryContext cxt)
{
	MemoryContext old;

	if (RecoveryInProgress())
		return;
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		(void) events_deliver(my_slotno);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(cxt);
}

void
lowcode_db_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	int			slotno;
	bool		blocked;
	MemoryContext sweep_ctx;
	int			last_interval = worker_sweep_interval_ms;
	TimestampTz last_full_sweep = 0;
	char	   *dbname;

	pqsignal(SIGTERM, db_worker_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	memcpy(&slotno, MyBgworkerEntry->bgw_extra, sizeof(int));
	if (slotno < 0 || slotno >= worker_shared->nslots)
		proc_exit(0);
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	if (worker_shared->slots[slotno].dboid != dboid)
	{
		LWLockRelease(worker_shared->lock);
		proc_exit(0);			/* a stale registration */
	}
	my_slot = &worker_shared->slots[slotno];
	my_slotno = slotno;
	my_slot->pid = MyProcPid;
	my_slot->state = DBW_CHECKING;
	blocked = worker_db_blocked(dboid, GetCurrentTimestamp());
	LWLockRelease(worker_shared->lock);
	before_shmem_exit(db_worker_detach, 0);
	if (blocked || got_sigterm)
		proc_exit(0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_lowcode worker");
	/* The worker is a superuser: never resolve names through a user schema. */
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);

	/* Is the extension here at all? */
	StartTransactionCommand();
	dbname = MemoryContextStrdup(TopMemoryContext, get_database_name(MyDatabaseId));
	if (!OidIsValid(get_extension_oid(LOWCODE_EXTENSION, true)))
	{
		CommitTransactionCommand();
		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		my_slot->no_extension = true;
		LWLockRelease(worker_shared->lock);
		proc_exit(0);
	}
	CommitTransactionCommand();
	elog(LOG, "pg_lowcode worker started for database \"%s\" (sweep interval %d ms)",
		 dbname, worker_sweep_interval_ms);

	sweep_ctx = AllocSetContextCreate(TopMemoryContext, "pg_lowcode sweep", ALLOCSET_DEFAULT_SIZES);
	apply_nice();
	/* from now on committing transactions hand their event notifications to this worker */
	events_worker_attach(slotno);

	while (!got_sigterm)
	{
		bool		ext_present = true;
		TimestampTz now;
		TimestampTz next_sweep;
		TimestampTz sweep_start;
		volatile bool sweep_ok;
		bool		full_sweep;
		TimestampTz next_due = 0;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (worker_sweep_interval_ms != last_interval)
				elog(LOG, "pg_lowcode worker: sweep interval is now %d ms", worker_sweep_interval_ms);
			last_interval = worker_sweep_interval_ms;
			apply_nice();
		}

		if (RecoveryInProgress())
			set_state(DBW_RECOVERY);
		else
		{
			MemoryContext old;

			/* woken early (a workflow timer due soon): timers only */
			full_sweep = last_full_sweep == 0 ||
				TimestampDifferenceExceeds(last_full_sweep, GetCurrentTimestamp(), worker_sweep_interval_ms - 10);
			set_state(DBW_SWEEPING);
			sweep_start = GetCurrentTimestamp();
			sweep_ok = true;
			old = MemoryContextSwitchTo(sweep_ctx);
			PG_TRY();
			{
				if (full_sweep)
				{
					last_full_sweep = GetCurrentTimestamp();
					ext_present = sweep();
				}
				if (ext_present && !got_sigterm)
					ext_present = fire_workflow_timers(&next_due);
			}
			PG_CATCH();
			{
				sweep_ok = false;
				/* As autovacuum does: report, abort, and carry on next time. */
				HOLD_INTERRUPTS();
				MemoryContextSwitchTo(sweep_ctx);
				EmitErrorReport();
				AbortCurrentTransaction();
				FlushErrorState();
				RESUME_INTERRUPTS();
				pgstat_report_activity(STATE_IDLE, NULL);
			}
			PG_END_TRY();
			MemoryContextSwitchTo(old);
			MemoryContextReset(sweep_ctx);

			LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
			if (full_sweep)
			{
				my_slot->last_sweep = GetCurrentTimestamp();
				my_slot->sweeps++;
				metrics_worker_sweep(MyDatabaseId, sweep_start, my_slot->last_sweep, sweep_ok);
			}
			if (!ext_present)
				my_slot->no_extension = true;
			if (my_slot->state == DBW_SWEEPING)
				my_slot->state = DBW_IDLE;
			LWLockRelease(worker_shared->lock);
			if (!ext_present)
			{
				elog(LOG, "pg_lowcode worker: extension dropped from this database; stopping");
				proc_exit(0);
			}
		}

		/*
		 * Wait for the next sweep or the next workflow timer, whichever is
		 * sooner.  A committed transaction's events set the latch in between
		 * and are delivered at once (issue 21: p99 <= 100 ms from commit to
		 * listener); a commit that armed a timer due sooner sets the latch and
		 * timers_wakeup (issue 19), which ends the wait.
		 */
		next_sweep = TimestampTzPlusMilliseconds(last_full_sweep != 0 ? last_full_sweep : GetCurrentTimestamp(),
												 worker_sweep_interval_ms);
		if (next_due != 0 && next_due < next_sweep)
			next_sweep = next_due;
		for (;;)
		{
			long		wait_ms;

			now = GetCurrentTimestamp();
			if (next_sweep <= now || got_sigterm || ConfigReloadPending)
				break;
			wait_ms = (long) ((next_sweep - now) / 1000) + 1;
			/*
			 * Notifications still queued (a delivery failed): commits wake the
			 * worker of an empty queue only (src/events/events.c), so retry
			 * soon rather than at the next sweep.
			 */
			if (wait_ms > EVENTS_RETRY_MS && events_pending(my_slotno))
				wait_ms = EVENTS_RETRY_MS;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 wait_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (events_pending(my_slotno))
			{
				/*
				 * Coalesce (issue 19): under a stream of commits, delivering
				 * at every wake-up cost one transaction here (an xid, the
				 * notify lock, a commit record) and one kill() in the
				 * committing backend per event, about a tenth of a
				 * transition's server CPU.  The commits of the next
				 * EVENTS_COALESCE_US join the batch instead; they send no
				 * signal, as this process is not waiting on its latch.  A
				 * notification waits that much longer (issue 21's goal: p99
				 * under 100 ms).
				 */
				pg_usleep(EVENTS_COALESCE_US);
				ResetLatch(MyLatch);
				deliver_events(sweep_ctx);
			}
			if (my_slot->timers_wakeup)
			{
				LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
				my_slot->timers_wakeup = false;
				LWLockRelease(worker_shared->lock);
				break;
			}
		}
	}
	/*
	 * A clean stop (SIGTERM: a fast or smart shutdown, a restart, DROP
	 * DATABASE) first writes what only shared memory holds -- last-seen
	 * times and the quota usage counters -- so that only a crash loses up
	 * to one sweep interval of them.  Not on a standby, and not if the
	 * extension is gone.
	 */
	if (!RecoveryInProgress() && touches != NULL)
	{
		MemoryContextSwitchTo(sweep_ctx);
		PG_TRY();
		{
			if (flush_last_seen())
				(void) quota_sweep();
		}
		PG_CATCH();
		{
			HOLD_INTERRUPTS();
			EmitErrorReport();
			AbortCurrentTransaction();
			FlushErrorState();
			RESUME_INTERRUPTS();
		}
		PG_END_TRY();
	}
	elog(LOG, "pg_lowcode worker stopping on request");
	proc_exit(0);
}
