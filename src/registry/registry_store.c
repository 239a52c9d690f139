/*-------------------------------------------------------------------------
 *
 * registry_store.c
 *	  The registry's loader for the JSON Schema document store: makes
 *	  "$ref": "lowcode:<subject>" and "lowcode:<subject>/<version>"
 *	  resolvable by the validator (see jsonschema.h).
 *
 * A lowcode: URI is resolved the way the caller sees subjects: its own
 * tenant's subject first, then a global one (lowcode.registry_load_document,
 * SECURITY DEFINER, does the lookup).  Another tenant's subject is not
 * found, exactly like a subject that does not exist.
 *
 * The answer depends on the caller's tenant while the validator caches
 * compiled schemas by content, so a compiled form that loaded a tenant's
 * document must not outlive the request: when this loader answered during a
 * transaction, the store generation is bumped at its end (commit or abort),
 * making every compiled form that used a loader stale for the next
 * transaction, which may belong to another tenant of a pooled connection.
 * The registry's own validation (registry_validate.c) compiles with this
 * loader too, but keeps the compiled form in its own cache, keyed by tenant:
 * while it compiles, registry_loading_for_cache is set and the loader does
 * not schedule that end-of-transaction staleness.
 *
 * A change of schema_versions reaches every backend through the relcache
 * invalidation lowcode.registry_invalidate() queues; the store watches the
 * table, so compiled forms that loaded registry documents are recompiled.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/jsonb.h"

#include "jsonschema/jsonschema.h"
#include "pg_lowcode.h"
#include "registry/registry.h"

#define REGISTRY_URI_PREFIX "lowcode:"

static bool loaded_in_this_xact = false;

bool		registry_loading_for_cache = false;

static Jsonb *
registry_loader(const char *uri, void *arg)
{
	Jsonb	   *result;

	if (strncmp(uri, REGISTRY_URI_PREFIX, strlen(REGISTRY_URI_PREFIX)) != 0)
		return NULL;
	/* the extension may not exist in this database */
	if (!OidIsValid(registry_schema_versions_relid()))
		return NULL;

	result = js_store_query_document("SELECT lowcode.registry_load_document($1)", uri);
	if (result && !registry_loading_for_cache)
		loaded_in_this_xact = true;
	return result;
}

static void
registry_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (loaded_in_this_xact)
			{
				loaded_in_this_xact = false;
				js_store_invalidate();
			}
			break;
		default:
			break;
	}
}

void
registry_store_init(void)
{
	js_store_register_loader("lowcode.schema_versions", registry_loader, NULL);
	js_store_watch_relation(LOWCODE_SCHEMA, "schema_versions");
	RegisterXactCallback(registry_xact_callback, NULL);
}
