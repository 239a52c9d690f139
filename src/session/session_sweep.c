/*-------------------------------------------------------------------------
 *
 * session_sweep.c
 *	  What the database worker does to sessions and events on each sweep,
 *	  one batch at a time, through SPI.
 *
 * Each step runs inside the caller's transaction and returns the number of
 * rows it changed; the worker commits after each batch so that no sweep
 * holds locks for long, and lowcode.sweep() runs the same steps in the
 * caller's transaction.
 *
 * No session is ever resurrected: the flush only moves last_seen_at of an
 * active session forward, and nothing else ever sets state back to active.
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "lc/lc_trusted.h"
#include "pg_lowcode.h"
#include "session/session.h"

/*
 * The flush only moves last_seen_at (of an active session, forward): no
 * index of lowcode.sessions names it and the table leaves room on each
 * page, so these are HOT updates that add no index entries.
 */
static const char *flush_sql =
"UPDATE lowcode.sessions s"
"   SET last_seen_at = t.seen"
"  FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS t(tenant_id, id, seen)"
" WHERE s.tenant_id = t.tenant_id AND s.id = t.id"
"   AND s.state = 'active' AND s.last_seen_at < t.seen";

/*
 * The expiry step works from the agenda (lowcode.session_timers, see
 * sql/40_session.sql): the due expiry timers, oldest first, and their
 * sessions, locked (SKIP LOCKED: a session being revoked, or expired by a
 * concurrent lowcode.sweep(), is left to that transaction, and its timer
 * stays for the next sweep).  The timers themselves are not locked: only
 * the session lock decides who handles a session, and locking each timer
 * before deleting it wrote a WAL record more per expiry.  Two sweeps that
 * race for one session can at worst both set its purge timer.
 *
 * A session is due when past its absolute expiry, or idle for longer than
 * its idle timeout by both the table's and shared memory's last-seen time
 * (shared memory catches a request that came after the last flush).  Then:
 *  - due: state 'expired' (a HOT update: no index names state or ended_at),
 *    a purge timer, and a session.expired event written as
 *    lowcode.emit_event() writes it (outbox row + NOTIFY with the same
 *    payload, to the byte: the text json_build_object() makes, put together
 *    by concatenation since a uuid and a bigint need no escaping), set-based:
 *    one emit_event() call per row costs ~80 us;
 *  - active but not due (used since the timer was set): its real expiry is
 *    stored in expires_at and a new timer set for it;
 *  - already ended (revoked): a purge timer, in case the revocation did not
 *    set one (rows changed by hand; a second purge timer is harmless);
 *  - gone (deleted): nothing.
 * The fired timers are deleted in every case but a locked session's.
 * Rows are updated by ctid, which the row locks keep stable: TID scans that
 * never scan the table or an index.  Sessions are looked up through LATERAL
 * subqueries with LIMIT 1, which the planner cannot flatten: a plain join
 * of a batch of timers with lowcode.sessions became a hash join over a
 * sequential scan of the whole table, for every batch.
 *
 * Result: (sessions expired, timers fired).
 */
static const char *expire_sql =
"WITH d AS ("
"  SELECT ctid AS timer, tenant_id, session_id"
"    FROM lowcode.session_timers"
"   WHERE NOT purge AND due_at <= $1"
"   ORDER BY due_at LIMIT $2),"
" c AS ("
"  SELECT d.timer, s.*"
"    FROM d CROSS JOIN LATERAL ("
"         SELECT s.ctid AS tid, s.state = 'active' AS active, s.tenant_id, s.id, s.ended_at,"
"                s.state = 'active'"
"                AND (s.absolute_expires_at <= $1"
"                     OR (s.last_seen_at + s.idle_timeout <= $1"
"                         AND coalesce(lowcode.session_last_seen(s.tenant_id, s.id) + s.idle_timeout <= $1,"
"                                      true))) AS due"
"           FROM lowcode.sessions s"
"          WHERE s.tenant_id = d.tenant_id AND s.id = d.session_id"
"          LIMIT 1 FOR UPDATE SKIP LOCKED) s),"
" g AS ("
"  SELECT d.timer"
"    FROM d LEFT JOIN LATERAL ("
"         SELECT true AS present FROM lowcode.sessions s"
"          WHERE s.tenant_id = d.tenant_id AND s.id = d.session_id LIMIT 1) p ON true"
"   WHERE d.timer NOT IN (SELECT timer FROM c) AND p.present IS NULL),"
" r AS ("
"  UPDATE lowcode.sessions s"
"     SET expires_at = least(greatest(s.last_seen_at,"
"                                     coalesce(lowcode.session_last_seen(s.tenant_id, s.id), s.last_seen_at))"
"                            + s.idle_timeout, s.absolute_expires_at)"
"   WHERE s.ctid = ANY (ARRAY(SELECT tid FROM c WHERE active AND NOT due))"
"  RETURNING s.tenant_id, s.id, s.expires_at),"
" x AS ("
"  UPDATE lowcode.sessions s SET state = 'expired', ended_at = clock_timestamp()"
"   WHERE s.ctid = ANY (ARRAY(SELECT tid FROM c WHERE due))"
"  RETURNING s.tenant_id, s.id, s.principal, s.ended_at, s.absolute_expires_at <= $1 AS lifetime),"
" t AS ("
"  INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)"
"  SELECT expires_at, tenant_id, id, false FROM r"
"  UNION ALL SELECT ended_at, tenant_id, id, true FROM x"
"  UNION ALL SELECT ended_at, tenant_id, id, true FROM c WHERE NOT active),"
" f AS ("
"  DELETE FROM lowcode.session_timers"
"   WHERE ctid = ANY (ARRAY(SELECT timer FROM c UNION ALL SELECT timer FROM g))"
"  RETURNING 1),"
" e AS ("
"  INSERT INTO lowcode.events (tenant_id, type, payload, deadline)"
"  SELECT x.tenant_id, 'session.expired',"
"         jsonb_build_object('session_id', x.id, 'principal', x.principal,"
"                            'reason', CASE WHEN x.lifetime THEN 'lifetime' ELSE 'idle' END),"
"         $1 + interval '7 days'"
"    FROM x"
"  RETURNING tenant_id, id)"
" SELECT (SELECT count(lowcode.event_queue(e.tenant_id, e.id, 'session.expired'))"
"           FROM e),"
"        (SELECT count(*) FROM f)";

/*
 * Retention: the due purge timers (their due_at is the session's ended_at,
 * compared with now - lowcode.session_retention), the ended sessions they
 * name, deleted by primary key, and the timers.  Result: (sessions
 * deleted, timers fired).
 */
static const char *delete_ended_sql =
"WITH d AS ("
"  SELECT ctid AS timer, tenant_id, session_id"
"    FROM lowcode.session_timers"
"   WHERE purge AND due_at < $1"
"   ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED),"
" s AS ("
"  DELETE FROM lowcode.sessions s USING d"
"   WHERE s.tenant_id = d.tenant_id AND s.id = d.session_id AND s.state <> 'active'"
"  RETURNING 1),"
" f AS ("
"  DELETE FROM lowcode.session_timers WHERE ctid = ANY (ARRAY(SELECT timer FROM d))"
"  RETURNING 1)"
" SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM f)";

static const char *delete_events_sql =
"DELETE FROM lowcode.events e"
" WHERE e.ctid = ANY (ARRAY("
"  SELECT ctid FROM lowcode.events"
"   WHERE deadline < $1"
"   LIMIT $2 FOR UPDATE SKIP LOCKED))";	/* any order: the BRIN index on deadline gives none */

/*
 * A session without a timer would stay 'active' in the table (pre_request()
 * still rejects it once expired: it checks the times itself) and an ended
 * one would never be deleted.  Rows loaded with triggers disabled (a bulk
 * load, pg_restore --disable-triggers) have none: a database worker sets
 * them when it starts.  One anti-join over both tables.
 */
static const char *reconcile_sql =
"INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)"
"SELECT CASE WHEN s.state = 'active' THEN s.expires_at ELSE coalesce(s.ended_at, $1) END,"
"       s.tenant_id, s.id, s.state <> 'active'"
"  FROM lowcode.sessions s"
" WHERE NOT EXISTS (SELECT FROM lowcode.session_timers t"
"                    WHERE t.tenant_id = s.tenant_id AND t.session_id = s.id)";

static int64
run_limit_query(const char *sql, TimestampTz ts, int limit, bool count_in_result, int64 *second)
{
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2];
	int			rc;
	int64		result;
	LcTrusted	trusted;

	values[0] = TimestampTzGetDatum(ts);
	values[1] = Int32GetDatum(limit);
	lc_trusted_begin(&trusted, false);
	SPI_connect();
	rc = SPI_execute_with_args(sql, 2, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "lowcode sweep: SPI_execute failed: %s", SPI_result_code_string(rc));
	if (count_in_result)
	{
		bool		isnull;

		result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (second)
			*second = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	else
		result = (int64) SPI_processed;
	SPI_finish();
	lc_trusted_end(&trusted);
	return result;
}

int64
session_sweep_flush(SessionTouch *touches, int n)
{
	Datum	   *tenants;
	Datum	   *ids;
	Datum	   *seens;
	Oid			types[3] = {UUIDARRAYOID, UUIDARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		values[3];
	int			i;
	int			rc;
	int64		result;
	LcTrusted	trusted;

	if (n <= 0)
		return 0;
	tenants = palloc(sizeof(Datum) * n);
	ids = palloc(sizeof(Datum) * n);
	seens = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		tenants[i] = UUIDPGetDatum(&touches[i].tenant);
		ids[i] = UUIDPGetDatum(&touches[i].id);
		seens[i] = TimestampTzGetDatum(touches[i].last_seen);
	}
	values[0] = PointerGetDatum(construct_array(tenants, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	values[1] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	values[2] = PointerGetDatum(construct_array(seens, n, TIMESTAMPTZOID, sizeof(TimestampTz),
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	lc_trusted_begin(&trusted, false);
	SPI_connect();
	rc = SPI_execute_with_args(flush_sql, 3, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "lowcode sweep: SPI_execute failed: %s", SPI_result_code_string(rc));
	result = (int64) SPI_processed;
	SPI_finish();
	lc_trusted_end(&trusted);
	return result;
}

int64
session_sweep_expire(TimestampTz now, int limit, int64 *candidates)
{
	return run_limit_query(expire_sql, now, limit, true, candidates);
}

int64
session_sweep_delete_ended(TimestampTz now, int limit, int64 *timers)
{
	return run_limit_query(delete_ended_sql, now - (int64) session_retention_s * USECS_PER_SEC,
						   limit, true, timers);
}

int64
session_sweep_reconcile_timers(TimestampTz now)
{
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];
	int			rc;
	int64		result;
	LcTrusted	trusted;

	values[0] = TimestampTzGetDatum(now);
	lc_trusted_begin(&trusted, false);
	SPI_connect();
	rc = SPI_execute_with_args(reconcile_sql, 1, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "lowcode sweep: SPI_execute failed: %s", SPI_result_code_string(rc));
	result = (int64) SPI_processed;
	SPI_finish();
	lc_trusted_end(&trusted);
	return result;
}

int64
session_sweep_delete_events(TimestampTz now, int limit)
{
	return run_limit_query(delete_events_sql, now, limit, false, NULL);
}

/*
 * lowcode.sweep() flushes last-seen times in the caller's transaction, so it
 * marks them flushed in shared memory only when that transaction commits.
 * Marked at once, a rollback (or an error in a later step of the sweep, a
 * savepoint rolled back) would leave them clean in shared memory and absent
 * from the table: no worker would write them, and a crash, however much
 * later, would lose them.  (The worker commits each batch itself, then
 * marks it.)  Each pending mark remembers the transaction nesting level of
 * its flush, for subtransactions.  At PREPARE TRANSACTION nothing is marked:
 * a later flush writes the same times again, which changes nothing.
 */
static SessionTouch *pending_marks = NULL;
static int *pending_levels = NULL;	/* nesting level of each mark's flush */
static int	npending_marks = 0;
static int	maxpending_marks = 0;
static bool pending_callbacks_registered = false;

static void
sweep_xact_callback(XactEvent event, void *arg)
{
	if (npending_marks == 0)
		return;
	/* (no allocation here: an error after the commit record would be a PANIC) */
	if (event == XACT_EVENT_COMMIT)
		session_shmem_mark_flushed(MyDatabaseId, pending_marks, npending_marks);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
		npending_marks = 0;
}

static void
sweep_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level;
	int			j = 0;

	if (npending_marks == 0)
		return;
	level = GetCurrentTransactionNestLevel();
	for (int i = 0; i < npending_marks; i++)
	{
		if (pending_levels[i] >= level)
		{
			if (event == SUBXACT_EVENT_ABORT_SUB)
				continue;		/* its flush was rolled back */
			if (event == SUBXACT_EVENT_COMMIT_SUB)
				pending_levels[i] = level - 1;
		}
		pending_marks[j] = pending_marks[i];
		pending_levels[j] = pending_levels[i];
		j++;
	}
	npending_marks = j;
}

static void
mark_flushed_at_commit(const SessionTouch *touches, int n)
{
	int			level = GetCurrentTransactionNestLevel();

	if (!pending_callbacks_registered)
	{
		RegisterXactCallback(sweep_xact_callback, NULL);
		RegisterSubXactCallback(sweep_subxact_callback, NULL);
		pending_callbacks_registered = true;
	}
	if (npending_marks + n > maxpending_marks)
	{
		int			newmax = Max(maxpending_marks * 2, npending_marks + n);

		if (pending_marks)
		{
			pending_marks = repalloc_huge(pending_marks, sizeof(SessionTouch) * newmax);
			pending_levels = repalloc_huge(pending_levels, sizeof(int) * newmax);
		}
		else
		{
			pending_marks = MemoryContextAllocHuge(TopMemoryContext, sizeof(SessionTouch) * newmax);
			pending_levels = MemoryContextAllocHuge(TopMemoryContext, sizeof(int) * newmax);
		}
		maxpending_marks = newmax;
	}
	for (int i = 0; i < n; i++)
	{
		pending_marks[npending_marks] = touches[i];
		pending_levels[npending_marks] = level;
		npending_marks++;
	}
}

PG_FUNCTION_INFO_V1(lowcode_sweep);

/*
 * lowcode.sweep(OUT flushed, OUT expired, OUT deleted_sessions,
 *				 OUT deleted_events): one whole sweep in the caller's
 * transaction.
 */
Datum
lowcode_sweep(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int64		flushed = 0,
				expired = 0,
				deleted = 0,
				events = 0,
				n;
	int			batch = session_sweep_batch_size;
	TimestampTz now = GetCurrentTimestamp();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("lowcode.sweep() cannot run during recovery")));

	if (session_shmem_ready())
	{
		/*
		 * The dirty entries at once (they stay dirty until commit, so
		 * collecting batch after batch would find the same ones again),
		 * written batch by batch.  Entries added meanwhile are left to the
		 * worker.
		 */
		int64		capacity,
					entries,
					dropped,
					evictions;
		SessionTouch *touches;
		int			k;

		session_shmem_stats(&capacity, &entries, &dropped, &evictions);
		entries = Max(Min(entries, capacity), 1);
		touches = palloc_extended(sizeof(SessionTouch) * entries, MCXT_ALLOC_HUGE);
		k = session_shmem_collect_dirty(MyDatabaseId, touches, (int) entries);

		for (int off = 0; off < k; off += batch)
		{
			flushed += session_sweep_flush(touches + off, Min(batch, k - off));
			CHECK_FOR_INTERRUPTS();
		}
		mark_flushed_at_commit(touches, k);
		pfree(touches);
	}
	do
	{
		expired += session_sweep_expire(now, batch, &n);
		CHECK_FOR_INTERRUPTS();
	} while (n >= batch);
	do
	{
		deleted += session_sweep_delete_ended(now, batch, &n);
		CHECK_FOR_INTERRUPTS();
	} while (n >= batch);
	do
	{
		n = session_sweep_delete_events(now, batch);
		events += n;
		CHECK_FOR_INTERRUPTS();
	} while (n >= batch);

	values[0] = Int64GetDatum(flushed);
	values[1] = Int64GetDatum(expired);
	values[2] = Int64GetDatum(deleted);
	values[3] = Int64GetDatum(events);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
