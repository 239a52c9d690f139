/*-------------------------------------------------------------------------
 *
 * workflow_worker.c
 *	  Workflow timers in the database worker, and waking the worker when a
 *	  transaction arms a timer that is due soon.
 *
 * The firing itself is SQL (lowcode.workflow_run_timers(), sql/80_workflow.sql):
 * it locks due timers FOR UPDATE SKIP LOCKED, a fair share of the batch per
 * tenant, and fires each in a subtransaction that also deletes the timer row,
 * so a timer fires exactly once whatever crashes.  Here the worker calls it
 * through SPI and asks when the next timer is due, so that it sleeps until
 * then rather than a whole sweep interval (timer lag is then the time the
 * batches take, not the interval).
 *
 * A transaction that arms a timer due before the worker's next regular
 * wake-up calls lowcode.workflow_wake_worker(); at commit (when the timer is
 * visible) the worker of this database gets its latch set.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "worker/worker.h"
#include "workflow/workflow.h"

int			workflow_timer_batch = 500;
int			workflow_timer_share = 10;

/* Set by lowcode.workflow_wake_worker(), acted on at commit. */
static bool wake_at_commit = false;
static bool callback_registered = false;

int64
workflow_worker_fire_timers(TimestampTz *next_due)
{
	Oid			nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	Datum		arg;
	Oid			argtype = INT4OID;
	bool		isnull;
	int64		n = 0;

	*next_due = 0;
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("workflow_timers", nsp)))
		return -1;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	arg = Int32GetDatum(workflow_timer_batch);
	if (SPI_execute_with_args("SELECT lowcode.workflow_run_timers($1)", 1, &argtype, &arg, NULL,
							  false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_lowcode worker: lowcode.workflow_run_timers() failed");
	n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* the transaction sees its own deletions: the earliest timer still pending */
	if (SPI_execute("SELECT lowcode.workflow_next_timer()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_lowcode worker: lowcode.workflow_next_timer() failed");
	arg = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*next_due = DatumGetTimestampTz(arg);
	SPI_finish();
	return n;
}

static void
workflow_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit && worker_shared)
	{
		PGPROC	   *proc = NULL;
		int			i;

		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		for (i = 0; i < worker_shared->nslots; i++)
		{
			DbWorkerSlot *slot = &worker_shared->slots[i];

			if (slot->dboid == MyDatabaseId && slot->pid != 0)
			{
				/* the latch alone means "events queued" (src/events): say why */
				slot->timers_wakeup = true;
				proc = BackendPidGetProc(slot->pid);
				break;
			}
		}
		if (proc)
			SetLatch(&proc->procLatch);
		LWLockRelease(worker_shared->lock);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_at_commit = false;
}

PG_FUNCTION_INFO_V1(lowcode_workflow_wake_worker);

/*
 * lowcode.workflow_wake_worker(): wake this database's worker when the
 * current transaction commits (a timer it armed is due before the worker
 * would look again).  Harmless without shared_preload_libraries.
 */
Datum
lowcode_workflow_wake_worker(PG_FUNCTION_ARGS)
{
	if (worker_shared)
	{
		if (!callback_registered)
		{
			RegisterXactCallback(workflow_xact_callback, NULL);
			callback_registered = true;
		}
		wake_at_commit = true;
	}
	PG_RETURN_VOID();
}

void
workflow_init(void)
{
	DefineCustomIntVariable("lowcode.workflow_timer_batch",
							"Workflow timers a database worker fires per transaction.",
							"Each batch is one transaction of the worker; a full batch is followed by another at once.",
							&workflow_timer_batch,
							500, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.workflow_timer_share",
							"Percentage of its time a database worker may spend on a backlog of due workflow timers.",
							"After a full batch the worker pauses in proportion to the batch's time, delivering events meanwhile; "
							"timers that come due at a steady rate (batches that are not full) fire without a pause. 100: no pause.",
							&workflow_timer_share,
							10, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
}
