/*-------------------------------------------------------------------------
 *
 * workflow.h
 *	  Workflows (sql/80_workflow.sql, docs/workflows.md): the parts in C.
 *
 * Definitions, instances, triggers and migrations are SQL.  The step of one
 * event is C (workflow_fire.c: lowcode.fire(), workflow_fire_record(),
 * workflow_step(), workflow_actor()), as is the database worker's timer
 * step (workflow_worker.c: it calls lowcode.workflow_run_timers() in
 * batches, each its own transaction, and learns when the next timer is due
 * so that it can sleep until then), and waking that worker at commit when a
 * transaction armed a timer that is due before the worker would otherwise
 * look again.
 *
 *-------------------------------------------------------------------------
 */
#ifndef WORKFLOW_H
#define WORKFLOW_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* lowcode.workflow_timer_batch: timers fired per transaction of the worker. */
extern int	workflow_timer_batch;

/*
 * lowcode.workflow_timer_share: while the worker catches up on a backlog of
 * due timers (full batches), the percentage of its time it may spend firing
 * them; it sleeps between batches for the rest.  100: no pause.
 */
extern int	workflow_timer_share;

/*
 * The worker's step, inside a transaction with a snapshot: fire one batch
 * of due timers.  Returns how many were handled (a full batch: call again)
 * and sets *next_due to when the earliest pending timer is due (0 when
 * there is none).  Returns -1 when this database's pg_lowcode has no
 * workflow objects yet (SQL objects older than the library).
 */
extern int64 workflow_worker_fire_timers(TimestampTz *next_due);

/*
 * workflow_gate.c: whether new submissions of the tenant's subject are
 * governed by a workflow (true when unsure: no tenant context, another
 * tenant than the current one, workflow_subjects not as expected), read
 * with the active snapshot.  The WHEN of the submissions workflow trigger,
 * and what lowcode.submit()'s direct path asks before it skips that trigger.
 */
extern bool workflow_subject_governed(pg_uuid_t *tenant, Datum subject);

#endif							/* WORKFLOW_H */
