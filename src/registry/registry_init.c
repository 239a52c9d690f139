/*-------------------------------------------------------------------------
 *
 * registry_init.c
 *	  Entry point of the registry component, called from _PG_init(), and
 *	  the registry's cache invalidation across backends.
 *
 * Every change of registry content (a new version, a state change, a
 * deletion) calls lowcode.registry_invalidate(), which queues a relcache
 * invalidation of lowcode.schema_versions.  PostgreSQL delivers it to every
 * backend at commit, through the shared invalidation queue, and each backend
 * processes it before its next statement reads a table; the callback below
 * then bumps registry_generation, and whoever caches registry lookups
 * compares generations before reusing an entry.  No shared memory of our own
 * is needed, so this works without shared_preload_libraries.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "pg_lowcode.h"
#include "registry/registry.h"

uint64		registry_generation = 1;

static Oid	schema_versions_relid = InvalidOid;

static void
registry_relcache_callback(Datum arg, Oid relid)
{
	/* InvalidOid: the whole relcache was reset (queue overflow): assume a change */
	if (relid == InvalidOid || relid == schema_versions_relid || schema_versions_relid == InvalidOid)
		registry_generation++;
}

Oid
registry_schema_versions_relid(void)
{
	if (!OidIsValid(schema_versions_relid))
	{
		Oid			nsp = get_namespace_oid(LOWCODE_SCHEMA, true);

		if (OidIsValid(nsp))
			schema_versions_relid = get_relname_relid("schema_versions", nsp);
	}
	return schema_versions_relid;
}

void
registry_init(void)
{
	CacheRegisterRelcacheCallback(registry_relcache_callback, (Datum) 0);
	registry_store_init();
}

PG_FUNCTION_INFO_V1(lowcode_registry_invalidate);

Datum
lowcode_registry_invalidate(PG_FUNCTION_ARGS)
{
	Oid			relid = registry_schema_versions_relid();

	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	/* this backend sees its own change at once */
	registry_generation++;
	PG_RETURN_VOID();
}
