/*-------------------------------------------------------------------------
 *
 * quota_sql.c
 *	  SQL glue of the quota component: the row/storage quota trigger, the
 *	  trigger that notes limit changes, live statistics, the flush of usage
 *	  counters (quota_worker_sweep, lowcode.flush_usage()) and the DROP
 *	  EXTENSION guard of pg_cron jobs.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lc/lc_http.h"
#include "lc/lc_trusted.h"
#include "pg_lowcode.h"
#include "quota/quota.h"
#include "quota/quota_int.h"
#include "tenancy/tenancy.h"

static void
require_shmem(const char *what)
{
	lowcode_require_preload(what);
	if (!quota_shared)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s: the quota shared memory is not initialised", what)));
}

/* Superuser or member of lowcode_operator: sees every tenant. */
static bool
caller_is_operator(void)
{
	Oid			op;

	if (superuser())
		return true;
	op = get_role_oid("lowcode_operator", true);
	return OidIsValid(op) && has_privs_of_role(GetUserId(), op);
}

/* ---------------------------------------------------------------------
 * Row and storage quota trigger
 * ---------------------------------------------------------------------
 */

/*
 * Size of a row as pg_column_size(t.*) reports it: the tuple as stored,
 * with out-of-line (TOAST) values counted at their full size.  The
 * reconciliation measures rows the same way.
 */
static int64
row_bytes(HeapTuple tup, TupleDesc desc)
{
	Datum		d;
	int64		n;

	if (!HeapTupleHasExternal(tup))
		return tup->t_len;
	d = heap_copy_tuple_as_datum(tup, desc);
	n = VARSIZE(DatumGetPointer(d));
	pfree(DatumGetPointer(d));
	return n;
}

static bool
row_tenant(HeapTuple tup, TupleDesc desc, int attnum, pg_uuid_t *tenant)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	if (isnull)
		return false;
	memcpy(tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));
	return true;
}

/*
 * Check the tenant's row and storage quotas, counting what this transaction
 * and concurrent ones have inserted so far (their inserts are reserved in
 * shared memory at once) and what this transaction deleted.
 */
static void
check_quotas(const pg_uuid_t *tenant, Relation rel)
{
	QuotaLimits limits;
	TenantContextLimits signed_limits;
	LWLock	   *lock;
	QuotaEntry *e;
	int64		rows,
				bytes,
				del_rows,
				del_bytes;

	/* loaded even without a quota: tenant_stats shows the figures */
	quota_load_storage(tenant);
	if (tenancy_context_limits(tenant, &signed_limits))
	{
		/*
		 * A request's signed context (tenancy_context.c): on a Citus worker
		 * these are the only limits there are, since its copies of the
		 * limit tables are empty; on the node that signed them they are
		 * the ones it loaded.
		 */
		limits.max_rows = signed_limits.max_rows;
		limits.max_storage_bytes = signed_limits.max_storage_bytes;
	}
	else if (!quota_entry_limits(tenant, &limits))
		return;
	if (limits.max_rows < 0 && limits.max_storage_bytes < 0)
		return;
	quota_pending_deleted(tenant, &del_rows, &del_bytes);
	e = quota_entry_lookup(tenant, true, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	rows = e->base_rows + e->unflushed_rows + e->inflight_rows - del_rows;
	bytes = e->base_bytes + e->unflushed_bytes + e->inflight_bytes - del_bytes;
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);

	if (limits.max_rows >= 0 && rows > limits.max_rows)
	{
		quota_count_now(tenant, QC_REJECTED_ROWS);
		lc_raise_http(403, "LQ431", "row quota exceeded",
					  psprintf("the tenant may store at most " INT64_FORMAT " rows; this statement on %s would bring it to " INT64_FORMAT,
							   limits.max_rows, RelationGetRelationName(rel), rows),
					  "Delete rows, or ask the platform operator for a higher max_rows limit.", NULL);
	}
	if (limits.max_storage_bytes >= 0 && bytes > limits.max_storage_bytes)
	{
		quota_count_now(tenant, QC_REJECTED_STORAGE);
		lc_raise_http(413, "LQ432", "storage quota exceeded",
					  psprintf("the tenant may store at most " INT64_FORMAT " bytes; this statement on %s would bring it to " INT64_FORMAT,
							   limits.max_storage_bytes, RelationGetRelationName(rel), bytes),
					  "Delete data, or ask the platform operator for a higher max_storage_bytes limit.", NULL);
	}
}

/* the tenant_id column of a table under the row trigger, which must be a uuid */
static int
tenant_attnum(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attnum = SPI_fnumber(desc, "tenant_id");

	if (attnum <= 0 || TupleDescAttr(desc, attnum - 1)->atttypid != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lowcode.quota_row_trigger(): table %s has no tenant_id column of type uuid",
						RelationGetRelationName(rel))));
	return attnum;
}

/*
 * What the row trigger does for an inserted row (tup as stored): the
 * trigger's INSERT case, and lowcode.submit()'s direct path, which writes a
 * submission without the executor and so without its AFTER triggers
 * (issue 21): one copy of the accounting for both.
 */
void
quota_row_inserted(Relation rel, HeapTuple tup)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attnum;
	pg_uuid_t	t_new;

	if (!quota_shared)
		return;					/* not preloaded: no accounting */
	attnum = tenant_attnum(rel);
	if (row_tenant(tup, desc, attnum, &t_new))
	{
		quota_count_rows(&t_new, 1, 0, row_bytes(tup, desc), 0);
		check_quotas(&t_new, rel);
	}
}

PG_FUNCTION_INFO_V1(lowcode_quota_row_trigger);

/*
 * lowcode.quota_row_trigger(): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW
 * on every tenant table (make_tenant_table attaches it).  Counts rows and
 * bytes per tenant (final at commit) and enforces the row and storage
 * quotas.  AFTER ROW triggers run at the end of the statement, so a
 * statement that crosses a quota fails as a whole and stores nothing.
 */
Datum
lowcode_quota_row_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			attnum;
	pg_uuid_t	t_old,
				t_new;
	bool		has_old = false,
				has_new = false;
	int64		old_bytes = 0,
				new_bytes = 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lowcode.quota_row_trigger() must be an AFTER ... FOR EACH ROW trigger")));
	if (!quota_shared)
		return PointerGetDatum(NULL);	/* not preloaded: no accounting */

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		quota_row_inserted(td->tg_relation, td->tg_trigtuple);
		return PointerGetDatum(NULL);
	}
	desc = RelationGetDescr(td->tg_relation);
	attnum = tenant_attnum(td->tg_relation);

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		has_old = row_tenant(td->tg_trigtuple, desc, attnum, &t_old);
		old_bytes = row_bytes(td->tg_trigtuple, desc);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		has_old = row_tenant(td->tg_trigtuple, desc, attnum, &t_old);
		old_bytes = row_bytes(td->tg_trigtuple, desc);
		has_new = row_tenant(td->tg_newtuple, desc, attnum, &t_new);
		new_bytes = row_bytes(td->tg_newtuple, desc);
		if (has_old && has_new && memcmp(&t_old, &t_new, sizeof(pg_uuid_t)) == 0)
		{
			/* same tenant: the row is rewritten, its count unchanged */
			quota_count_rows(&t_new, 0, 0, new_bytes, old_bytes);
			if (new_bytes > old_bytes)
				check_quotas(&t_new, td->tg_relation);
			return PointerGetDatum(NULL);
		}
	}
	if (has_old)
		quota_count_rows(&t_old, 0, 1, 0, old_bytes);
	if (has_new)
	{
		quota_count_rows(&t_new, 1, 0, new_bytes, 0);
		check_quotas(&t_new, td->tg_relation);
	}
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(lowcode_quota_limits_changed);

/*
 * lowcode.quota_limits_changed(): statement trigger on the tables limits
 * come from; cached limits are reloaded after this transaction commits.
 */
Datum
lowcode_quota_limits_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lowcode.quota_limits_changed() must be called as a trigger")));
	quota_note_limits_changed();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(lowcode_quota_storage_reconciled);

/*
 * lowcode.quota_storage_reconciled(): called by reconcile_storage() after it
 * rewrote lowcode.tenant_storage; at commit, every tenant of this database
 * reloads its storage figures from there.
 */
Datum
lowcode_quota_storage_reconciled(PG_FUNCTION_ARGS)
{
	if (quota_shared)
		quota_note_storage_reset();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_quota_count_rejection);

/*
 * lowcode.quota_count_rejection(tenant uuid, reason text): count a rejected
 * request at once (it survives the rollback the rejection causes).
 */
Datum
lowcode_quota_count_rejection(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant;
	char	   *reason;
	QuotaCounter c;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || !quota_shared)
		PG_RETURN_VOID();
	tenant = PG_GETARG_UUID_P(0);
	reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(reason, "rate") == 0)
		c = QC_REJECTED_RATE;
	else if (strcmp(reason, "rows") == 0)
		c = QC_REJECTED_ROWS;
	else if (strcmp(reason, "storage") == 0)
		c = QC_REJECTED_STORAGE;
	else if (strcmp(reason, "sessions") == 0)
		c = QC_REJECTED_SESSIONS;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quota_count_rejection: unknown reason \"%s\"", reason),
				 errhint("The reasons are rate, rows, storage and sessions.")));
	quota_count_now(tenant, c);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_count_usage);

/*
 * lowcode.count_usage(event text, ok boolean DEFAULT true): count a
 * validation or a rule evaluation of the current tenant from SQL, like
 * quota_count_validation() / quota_count_rule_evaluation() do from C:
 * final at commit, discarded at rollback.
 */
Datum
lowcode_count_usage(PG_FUNCTION_ARGS)
{
	char	   *event;
	bool		ok = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(event, "validation") == 0)
		quota_count_validation(ok);
	else if (strcmp(event, "rule_evaluation") == 0)
		quota_count_rule_evaluation();
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count_usage: unknown event \"%s\"", event),
				 errhint("The events are validation and rule_evaluation.")));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_quota_effective_limit);

/*
 * lowcode.quota_cached_limits(tenant uuid) RETURNS record: the limits
 * pre_request() and the triggers use, from shared memory (loaded if needed).
 */
Datum
lowcode_quota_effective_limit(PG_FUNCTION_ARGS)
{
	QuotaLimits l;
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8];

	require_shmem("lowcode.quota_cached_limits()");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!caller_is_operator())
	{
		pg_uuid_t	cur;

		if (!tenancy_current_tenant(&cur) ||
			memcmp(&cur, PG_GETARG_UUID_P(0), sizeof(pg_uuid_t)) != 0)
			PG_RETURN_NULL();
	}
	if (!quota_entry_limits(PG_GETARG_UUID_P(0), &l))
		PG_RETURN_NULL();
	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum(l.tier);
	nulls[0] = (l.tier[0] == '\0');
#define LIM(i, v) do { values[i] = Int64GetDatum(v); nulls[i] = ((v) < 0); } while (0)
	LIM(1, l.requests_per_second);
	LIM(2, l.request_burst);
	LIM(3, l.max_rows);
	LIM(4, l.max_storage_bytes);
	LIM(5, l.max_sessions);
	LIM(6, l.statement_timeout_ms);
	LIM(7, l.work_mem_kb);
#undef LIM
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * Live statistics
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(lowcode_quota_live);

/*
 * lowcode.quota_live() RETURNS SETOF record: the shared memory entries of
 * this database; a tenant sees its own, the operator all.  Counters are
 * since the server started (or since the entry was evicted and re-created).
 */
Datum
lowcode_quota_live(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QuotaIter	it;
	QuotaEntry *e;
	bool		all;
	pg_uuid_t	self;
	bool		has_self;
	TimestampTz now = GetCurrentTimestamp();

	require_shmem("lowcode.tenant_stats");
	InitMaterializedSRF(fcinfo, 0);
	all = caller_is_operator();
	has_self = tenancy_current_tenant(&self);
	if (!all && !has_self)
		return (Datum) 0;

	quota_lock_all(LW_SHARED);
	quota_iter_init(&it);
	while ((e = quota_iter_next(&it)) != NULL)
	{
		Datum		values[QC_NUM + 8];
		bool		nulls[QC_NUM + 8];
		QuotaEntry	copy;
		int			k = 0;

		if (e->key.dbid != MyDatabaseId || e->key.kind != QUOTA_KIND_TENANT)
			continue;
		if (!all && memcmp(&e->key.tenant, &self, sizeof(pg_uuid_t)) != 0)
			continue;
		SpinLockAcquire(&e->mutex);
		copy = *e;
		SpinLockRelease(&e->mutex);

		memset(nulls, 0, sizeof(nulls));
		values[k++] = UUIDPGetDatum(&e->key.tenant);
		for (int i = 0; i < QC_NUM; i++)
			values[k++] = Int64GetDatum(E_TOTAL(&copy, i));
		/* tokens now, without taking any */
		if (copy.limits_valid && copy.rate > 0 && copy.burst > 0)
		{
			int64		cap = copy.burst * QUOTA_TOKEN;
			int64		tokens = copy.tokens;

			if (copy.last_refill == 0)
				tokens = cap;
			else if (now > copy.last_refill)
			{
				int64		elapsed = now - copy.last_refill;

				if (elapsed >= (cap - tokens) / copy.rate + 1)
					tokens = cap;
				else
					tokens += elapsed * copy.rate;
			}
			values[k++] = Float8GetDatum((double) Min(tokens, cap) / QUOTA_TOKEN);
		}
		else
			nulls[k++] = true;
		values[k] = Int64GetDatum(copy.base_rows + copy.unflushed_rows);
		nulls[k++] = !copy.storage_loaded;
		values[k] = Int64GetDatum(copy.base_bytes + copy.unflushed_bytes);
		nulls[k++] = !copy.storage_loaded;
		values[k++] = Int64GetDatum(copy.inflight_rows);
		values[k++] = Int64GetDatum(copy.inflight_bytes);
		{
			int64		unflushed = 0;

			for (int i = 0; i < QC_NUM; i++)
				unflushed += E_UNFLUSHED(&copy, i) != 0;
			values[k++] = BoolGetDatum(unflushed > 0 || copy.unflushed_rows != 0 ||
									   copy.unflushed_bytes != 0);
		}
		values[k++] = TimestampTzGetDatum(copy.last_used);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	quota_unlock_all();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(lowcode_quota_active_sessions);

/*
 * lowcode.quota_active_sessions(tenant uuid) RETURNS bigint: active sessions
 * of a tenant, NULL when the sessions component is not installed.  The
 * sessions table is read as the bootstrap superuser (API roles cannot read
 * it), for the caller's own tenant only unless the caller is the operator.
 */
Datum
lowcode_quota_active_sessions(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant;
	Oid			nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	LcTrusted	trusted;
	Oid			argtypes[1] = {UUIDOID};
	Datum		values[1];
	int64		n = 0;
	bool		isnull = true;

	if (PG_ARGISNULL(0) || !OidIsValid(nsp) || !OidIsValid(get_relname_relid("sessions", nsp)))
		PG_RETURN_NULL();
	tenant = PG_GETARG_UUID_P(0);
	if (!caller_is_operator())
	{
		pg_uuid_t	cur;

		if (!tenancy_current_tenant(&cur) || memcmp(&cur, tenant, sizeof(pg_uuid_t)) != 0)
			PG_RETURN_NULL();
	}
	values[0] = UUIDPGetDatum(tenant);
	/* as the superuser, under a search_path the caller cannot choose */
	lc_trusted_begin(&trusted, true);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_lowcode: SPI_connect failed");
	if (SPI_execute_with_args("SELECT count(*) FROM lowcode.sessions WHERE tenant_id = $1 AND state = 'active'",
							  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			n = DatumGetInt64(d);
	}
	SPI_finish();
	lc_trusted_end(&trusted);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_INT64(n);
}

PG_FUNCTION_INFO_V1(lowcode_quota_memory);

/*
 * lowcode.quota_memory() RETURNS record: the state of the shared table
 * (capacity, entries in use, overflows, evictions, limits generation).
 */
Datum
lowcode_quota_memory(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {0};

	require_shmem("lowcode.quota_memory()");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	{
		QuotaIter	it;
		int64		n = 0;

		quota_lock_all(LW_SHARED);
		quota_iter_init(&it);
		while (quota_iter_next(&it) != NULL)
			n++;
		quota_unlock_all();
		values[1] = Int64GetDatum(n);
	}
	values[0] = Int64GetDatum(quota_capacity());
	values[2] = Int64GetDatum(pg_atomic_read_u64(&quota_shared->overflows));
	values[3] = Int64GetDatum(pg_atomic_read_u64(&quota_shared->evictions));
	values[4] = Int64GetDatum(pg_atomic_read_u64(&quota_shared->limits_generation));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * Flush
 * ---------------------------------------------------------------------
 */
typedef struct FlushRow
{
	pg_uuid_t	tenant;
	int64		counters[QC_NUM];
	int64		rows;
	int64		bytes;
} FlushRow;

static ArrayType *
int8_array(FlushRow *rows, int n, int which)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(which < QC_NUM ? rows[i].counters[which] :
							 which == QC_NUM ? rows[i].rows : rows[i].bytes);
	return construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Move the counters of this database's tenants out of shared memory and
 * into lowcode.tenant_usage / lowcode.tenant_storage.  Returns the number
 * of tenants flushed.  If the transaction aborts, the xact callback puts
 * the counters back.
 */
static int64
flush_counters(void)
{
	Oid			nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	QuotaIter	it;
	QuotaEntry *e;
	FlushRow   *rows;
	int			n = 0,
				max = 64;
	int			nstorage = 0;

	if (!quota_shared || !OidIsValid(nsp) ||
		!OidIsValid(get_relname_relid("tenant_usage", nsp)) ||
		!OidIsValid(get_relname_relid("tenant_storage", nsp)))
		return 0;

	rows = palloc(sizeof(FlushRow) * max);
	quota_lock_all(LW_SHARED);
	quota_iter_init(&it);
	while ((e = quota_iter_next(&it)) != NULL)
	{
		bool		any = false;

		if (e->key.dbid != MyDatabaseId || e->key.kind != QUOTA_KIND_TENANT)
			continue;
		if (n == max)
		{
			max *= 2;
			rows = repalloc_huge(rows, sizeof(FlushRow) * max);
		}
		SpinLockAcquire(&e->mutex);
		for (int i = 0; i < QC_NUM; i++)
		{
			rows[n].counters[i] = E_UNFLUSHED(e, i);
			any |= (E_UNFLUSHED(e, i) != 0);
			E_UNFLUSHED(e, i) = 0;
		}
		rows[n].rows = e->unflushed_rows;
		rows[n].bytes = e->unflushed_bytes;
		any |= (e->unflushed_rows != 0 || e->unflushed_bytes != 0);
		e->base_rows += e->unflushed_rows;
		e->base_bytes += e->unflushed_bytes;
		e->unflushed_rows = 0;
		e->unflushed_bytes = 0;
		SpinLockRelease(&e->mutex);
		if (any)
		{
			rows[n].tenant = e->key.tenant;
			n++;
		}
	}
	quota_unlock_all();
	/* noted after the scan: palloc may fail, and must not hold the locks */
	for (int i = 0; i < n; i++)
	{
		quota_note_flushed(&rows[i].tenant, rows[i].counters, rows[i].rows, rows[i].bytes);
		if (rows[i].rows != 0 || rows[i].bytes != 0)
			nstorage++;
	}
	if (n == 0)
		return 0;

	{
		Datum	   *ids = palloc(sizeof(Datum) * n);
		Datum		args[QC_NUM + 3];
		Oid			types[QC_NUM + 3];
		LcTrusted	trusted;
		int			rc;

		for (int i = 0; i < n; i++)
			ids[i] = UUIDPGetDatum(&rows[i].tenant);
		args[0] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
		types[0] = UUIDARRAYOID;
		for (int i = 0; i < QC_NUM + 2; i++)
		{
			args[i + 1] = PointerGetDatum(int8_array(rows, n, i));
			types[i + 1] = INT8ARRAYOID;
		}

		lc_trusted_begin(&trusted, true);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_lowcode: SPI_connect failed");
		rc = SPI_execute_with_args(
								   "INSERT INTO lowcode.tenant_usage AS u (tenant_id, minute, requests, rejected_rate, "
								   "rejected_rows, rejected_storage, rejected_sessions, validations, validation_failures, "
								   "rule_evaluations, rows_inserted, rows_deleted, bytes_written) "
								   "SELECT t, pg_catalog.date_trunc('minute', pg_catalog.now()), a, b, c, d, e, f, g, h, i, j, k "
								   "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
								   "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8), "
								   "pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12)) "
								   "AS x(t, a, b, c, d, e, f, g, h, i, j, k) "
								   "WHERE a <> 0 OR b <> 0 OR c <> 0 OR d <> 0 OR e <> 0 OR f <> 0 OR g <> 0 "
								   "OR h <> 0 OR i <> 0 OR j <> 0 OR k <> 0 "
								   "ON CONFLICT (tenant_id, minute) DO UPDATE SET "
								   "requests = u.requests + excluded.requests, "
								   "rejected_rate = u.rejected_rate + excluded.rejected_rate, "
								   "rejected_rows = u.rejected_rows + excluded.rejected_rows, "
								   "rejected_storage = u.rejected_storage + excluded.rejected_storage, "
								   "rejected_sessions = u.rejected_sessions + excluded.rejected_sessions, "
								   "validations = u.validations + excluded.validations, "
								   "validation_failures = u.validation_failures + excluded.validation_failures, "
								   "rule_evaluations = u.rule_evaluations + excluded.rule_evaluations, "
								   "rows_inserted = u.rows_inserted + excluded.rows_inserted, "
								   "rows_deleted = u.rows_deleted + excluded.rows_deleted, "
								   "bytes_written = u.bytes_written + excluded.bytes_written",
								   QC_NUM + 1, types, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "pg_lowcode: flushing usage failed: %s", SPI_result_code_string(rc));
		if (nstorage > 0)
		{
			Datum		sargs[3] = {args[0], args[QC_NUM + 1], args[QC_NUM + 2]};
			Oid			stypes[3] = {UUIDARRAYOID, INT8ARRAYOID, INT8ARRAYOID};

			rc = SPI_execute_with_args(
									   "INSERT INTO lowcode.tenant_storage AS s (tenant_id, rows, bytes) "
									   "SELECT t, r, b FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)) AS x(t, r, b) "
									   "WHERE r <> 0 OR b <> 0 "
									   "ON CONFLICT (tenant_id) DO UPDATE SET rows = s.rows + excluded.rows, "
									   "bytes = s.bytes + excluded.bytes, updated_at = pg_catalog.now()",
									   3, stypes, sargs, NULL, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "pg_lowcode: flushing storage failed: %s", SPI_result_code_string(rc));
		}
		SPI_finish();
		lc_trusted_end(&trusted);
	}
	return n;
}

void
quota_worker_sweep(void)
{
	(void) flush_counters();
}

PG_FUNCTION_INFO_V1(lowcode_flush_usage);

/*
 * lowcode.flush_usage() RETURNS bigint: flush now what the database worker
 * flushes every sweep; returns the number of tenants flushed.
 */
Datum
lowcode_flush_usage(PG_FUNCTION_ARGS)
{
	require_shmem("lowcode.flush_usage()");
	PG_RETURN_INT64(flush_counters());
}

/* ---------------------------------------------------------------------
 * DROP EXTENSION guard
 * ---------------------------------------------------------------------
 */
static bool
names_in(List *objects, const char *name)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		Node	   *o = lfirst(lc);

		if (IsA(o, String) && strcmp(strVal(o), name) == 0)
			return true;
	}
	return false;
}

PG_FUNCTION_INFO_V1(lowcode_quota_drop_guard);

/*
 * lowcode.quota_drop_guard(): event trigger on ddl_command_start for DROP
 * EXTENSION and DROP SCHEMA.  When the statement drops pg_lowcode (or its
 * schema, which drops it), the pg_cron jobs of this database are removed
 * first, in the same transaction: if the DROP fails they come back.  A
 * sql_drop trigger cannot do this: it is itself dropped by then.
 */
Datum
lowcode_quota_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	DropStmt   *stmt;
	bool		drops_us = false;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lowcode.quota_drop_guard() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!IsA(trigdata->parsetree, DropStmt))
		PG_RETURN_VOID();
	stmt = (DropStmt *) trigdata->parsetree;
	if (stmt->removeType == OBJECT_EXTENSION)
		drops_us = names_in(stmt->objects, LOWCODE_EXTENSION);
	else if (stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE)
		drops_us = names_in(stmt->objects, LOWCODE_SCHEMA);
	if (!drops_us)
		PG_RETURN_VOID();

	{
		LcTrusted	trusted;

		lc_trusted_begin(&trusted, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_lowcode: SPI_connect failed");
		SPI_execute("SELECT lowcode.unschedule_maintenance(quiet => true)", false, 0);
		SPI_finish();
		lc_trusted_end(&trusted);
	}
	PG_RETURN_VOID();
}
