/*-------------------------------------------------------------------------
 *
 * quota_limits.c
 *	  Effective limits of a tenant, cached in its shared memory entry, and
 *	  the tenant's storage figures, loaded from lowcode.tenant_storage.
 *
 * A tenant's limits are read from the tables (lowcode.quota_effective_limits:
 * the tier's values with the tenant's overrides) only when the entry has none
 * or when they may have changed: every change to lowcode.tiers,
 * lowcode.tenant_limits or a tenant's tier bumps a generation number in
 * shared memory at commit, and an entry whose limits carry an older
 * generation reloads them.  The generation is read before the tables are,
 * with the latest snapshot, so a change committed meanwhile bumps it again
 * and is never missed.
 *
 * The tables are read as the bootstrap superuser: pre_request() runs as the
 * API role, which must not need (and does not have) access to other
 * tenants' limits.  The queries are fixed and schema-qualified, and run under
 * the forced search_path of lc_trusted.h (the caller's cannot choose an
 * operator they use).
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "lc/lc_trusted.h"
#include "pg_lowcode.h"
#include "quota/quota_int.h"

/* Run an SPI query with one uuid argument as the bootstrap superuser. */
static int
run_as_owner(const char *sql, const pg_uuid_t *tenant)
{
	LcTrusted	trusted;
	Oid			argtypes[1] = {UUIDOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	int			rc;

	values[0] = UUIDPGetDatum(tenant);
	/* the caller's search_path must not choose our operators (issue 13) */
	lc_trusted_begin(&trusted, true);
	plan = SPI_prepare(sql, 1, argtypes);
	if (plan == NULL)
		elog(ERROR, "pg_lowcode: could not prepare quota query: %s", SPI_result_code_string(SPI_result));
	rc = SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot,
							  true, false, 1);
	lc_trusted_end(&trusted);
	return rc;
}

static int64
get_int8(HeapTuple tup, TupleDesc desc, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? if_null : DatumGetInt64(d);
}

/*
 * Read the effective limits of "tenant" from the tables.  False when the
 * tenant does not exist: then every limit is "none" (rows written by an
 * operator for a tenant that is not in lowcode.tenants are still counted).
 */
bool
quota_load_limits(const pg_uuid_t *tenant, QuotaLimits *limits)
{
	bool		found = false;

	memset(limits, 0, sizeof(*limits));
	limits->requests_per_second = QUOTA_UNLIMITED;
	limits->request_burst = QUOTA_UNLIMITED;
	limits->max_rows = QUOTA_UNLIMITED;
	limits->max_storage_bytes = QUOTA_UNLIMITED;
	limits->max_sessions = QUOTA_UNLIMITED;
	limits->statement_timeout_ms = -1;
	limits->work_mem_kb = -1;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_lowcode: SPI_connect failed");
	if (run_as_owner("SELECT tier, requests_per_second, request_burst, max_rows, max_storage_bytes, "
					 "max_sessions, statement_timeout_ms, work_mem_kb "
					 "FROM lowcode.quota_effective_limits($1)", tenant) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *tier = SPI_getvalue(tup, desc, 1);

		if (tier)
		{
			found = true;
			strlcpy(limits->tier, tier, NAMEDATALEN);
			limits->requests_per_second = get_int8(tup, desc, 2, QUOTA_UNLIMITED);
			limits->request_burst = get_int8(tup, desc, 3, QUOTA_UNLIMITED);
			limits->max_rows = get_int8(tup, desc, 4, QUOTA_UNLIMITED);
			limits->max_storage_bytes = get_int8(tup, desc, 5, QUOTA_UNLIMITED);
			limits->max_sessions = get_int8(tup, desc, 6, QUOTA_UNLIMITED);
			limits->statement_timeout_ms = get_int8(tup, desc, 7, -1);
			limits->work_mem_kb = get_int8(tup, desc, 8, -1);
		}
	}
	SPI_finish();
	return found;
}

/*
 * The effective limits of "tenant", from its shared memory entry, loading
 * them when missing or stale.  False when shared memory has no room.
 */
bool
quota_entry_limits(const pg_uuid_t *tenant, QuotaLimits *limits)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		LWLock	   *lock;
		QuotaEntry *e;
		uint64		gen = pg_atomic_read_u64(&quota_shared->limits_generation);
		bool		valid;

		e = quota_entry_lookup(tenant, true, &lock);
		if (!e)
			return false;
		SpinLockAcquire(&e->mutex);
		valid = e->limits_valid && e->limits_generation == gen;
		if (valid)
			*limits = e->limits;
		SpinLockRelease(&e->mutex);
		LWLockRelease(lock);
		if (valid)
			return true;

		quota_load_limits(tenant, limits);
		e = quota_entry_lookup(tenant, true, &lock);
		if (!e)
			return true;
		SpinLockAcquire(&e->mutex);
		quota_entry_set_limits(e, limits, gen);
		SpinLockRelease(&e->mutex);
		LWLockRelease(lock);
		return true;
	}
	return false;
}

/*
 * Load the tenant's storage figures from lowcode.tenant_storage into its
 * entry, unless already loaded.  Deltas committed before the load stay in
 * unflushed_* and are added on top.
 */
void
quota_load_storage(const pg_uuid_t *tenant)
{
	LWLock	   *lock;
	QuotaEntry *e;
	bool		loaded;
	int64		rows = 0;
	int64		bytes = 0;

	e = quota_entry_lookup(tenant, true, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	loaded = e->storage_loaded;
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
	if (loaded)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_lowcode: SPI_connect failed");
	if (run_as_owner("SELECT rows, bytes FROM lowcode.tenant_storage WHERE tenant_id = $1",
					 tenant) == SPI_OK_SELECT && SPI_processed == 1)
	{
		rows = get_int8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
		bytes = get_int8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, 0);
	}
	SPI_finish();

	e = quota_entry_lookup(tenant, true, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	if (!e->storage_loaded)
	{
		e->base_rows = rows;
		e->base_bytes = bytes;
		e->storage_loaded = true;
	}
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
}
