/*-------------------------------------------------------------------------
 *
 * pg_lowcode.c
 *	  Library entry point: _PG_init() hands over to each component.
 *
 * Order matters only for shared memory: components that need it request it
 * from their own shmem_request_hook, chained in the order called here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "pg_lowcode.h"
#include "events/events.h"

PG_MODULE_MAGIC;

bool		lowcode_preloaded = false;

void		_PG_init(void);

void
_PG_init(void)
{
	lowcode_preloaded = process_shared_preload_libraries_in_progress;

	tenancy_init();
	jsonschema_init();
	rules_init();
	registry_init();
	session_init();
	quota_init();
	worker_init();
	events_init();

	/* Unknown lowcode.* settings are typos: reject them instead of keeping placeholders. */
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("lowcode");
#else
	EmitWarningsOnPlaceholders("lowcode");
#endif
}

void
lowcode_require_preload(const char *what)
{
	if (!lowcode_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires pg_lowcode in shared_preload_libraries", what),
				 errhint("Add pg_lowcode to shared_preload_libraries in postgresql.conf and restart the server.")));
}
