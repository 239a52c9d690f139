/*-------------------------------------------------------------------------
 *
 * registry_sql.c
 *	  SQL functions of the schema registry written in C.
 *
 * lowcode.schema_diff(old, new, refs) exposes the compatibility diff
 * (reg_diff.c); the registry's SQL (sql/60_registry.sql) combines its
 * changes with the subject's compatibility mode.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "registry/reg_diff.h"

PG_FUNCTION_INFO_V1(lowcode_schema_diff);

Datum
lowcode_schema_diff(PG_FUNCTION_ARGS)
{
	Jsonb	   *old_schema = PG_GETARG_JSONB_P(0);
	Jsonb	   *new_schema = PG_GETARG_JSONB_P(1);
	Jsonb	   *refs = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);

	PG_RETURN_JSONB_P(reg_changes_to_jsonb(reg_schema_diff(old_schema, new_schema, refs)));
}
