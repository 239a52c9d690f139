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

#include "utils/guc.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "lc/lc_inval.h"
#include "pg_lowcode.h"
#include "registry/registry.h"

uint64		registry_generation = 1;

/*
 * lowcode.registry_scope: "tenant" (the default) or "global".  A registry
 * call without a tenant context used to write global subjects silently; a
 * global subject is now made only on purpose, by an operator who sets this
 * (issue 13).  Read by lowcode.registry_scope() through current_setting().
 */
static int	registry_scope_setting = 0;
static const struct config_enum_entry registry_scope_options[] = {
	{"tenant", 0, false},
	{"global", 1, false},
	{NULL, 0, false}
};

/*
 * lowcode.registry_format_assert: "format" asserts for registry subjects
 * (a form must not accept "2026-13-45" as a date while the browser refuses
 * it); off keeps formats annotation-only, as the 2019-09 and later specs
 * have them.  A schema may choose for itself with "x-format" at its root.
 */
bool		registry_format_assert = true;

char	   *registry_request_locale = NULL;

static Oid	schema_versions_relid = InvalidOid;

static void
registry_relcache_callback(Datum arg, Oid relid)
{
	/* InvalidOid: the whole relcache was reset (queue overflow): assume a change */
	if (relid == InvalidOid || relid == schema_versions_relid || schema_versions_relid == InvalidOid)
	{
		registry_generation++;
		/* looked up again when next needed: the table may be gone (DROP EXTENSION) */
		schema_versions_relid = InvalidOid;
	}
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
	DefineCustomEnumVariable("lowcode.registry_scope",
							 "Scope of the schema registry calls without a tenant context: tenant (refused) or global.",
							 "Only members of lowcode_operator may use the global scope.",
							 &registry_scope_setting, 0, registry_scope_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("lowcode.request_locale",
							   "The message language of the request, which pre_request() forwards to the Citus workers.",
							   "Set by pre_request() on a Citus coordinator; read on the workers only (docs/scale-out.md).",
							   &registry_request_locale, "",
							   PGC_USERSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	lc_register_relcache_callback(registry_relcache_callback, (Datum) 0);
	registry_store_init();
	DefineCustomBoolVariable("lowcode.registry_format_assert",
							 "Assert \"format\" when validating against registered schemas.",
							 "Off: formats only annotate (the JSON Schema 2019-09 and later default); a schema's root \"x-format\": \"assert\" or \"annotate\" overrides it.",
							 &registry_format_assert,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
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
