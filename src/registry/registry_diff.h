/*-------------------------------------------------------------------------
 *
 * registry_diff.h
 *	  The schema registry's compatibility diff: compare two JSON Schemas and
 *	  name every change, with whether it keeps BACKWARD and FORWARD
 *	  compatibility.
 *
 * BACKWARD: every instance valid under the old schema is valid under the
 * new one (the new schema is at least as wide).  FORWARD: the reverse.  A
 * change is reported with both flags; the registry combines them with the
 * subject's compatibility mode (see sql/60_registry.sql, docs/registry.md).
 *
 * The diff is pure: it reads two jsonb schemas and a jsonb map of the
 * documents their "$ref"s may point to ({"uri": schema, ...}, prepared by
 * the caller), and never opens a table.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REGISTRY_DIFF_H
#define REGISTRY_DIFF_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* SQLSTATEs of the registry component: class LG of lc/lc_errcodes.h */
#include "lc/lc_errcodes.h"

/* one change found by the diff */
typedef struct RegChange
{
	char	   *type;			/* e.g. "type_narrowed", "property_added_to_open_content_model" */
	char	   *path;			/* JSON Pointer into the schema where the change is */
	bool		backward;		/* old instances stay valid */
	bool		forward;		/* new instances were valid under the old schema */
} RegChange;

/*
 * Compare "old_schema" with "new_schema".  "refs" (may be NULL) maps
 * absolute URIs (without fragment) to the schema documents "$ref" can
 * reach; references that are neither local ("#...") nor in the map are
 * compared by their text.  Returns a List of RegChange *, in schema order.
 */
extern List *reg_schema_diff(Jsonb *old_schema, Jsonb *new_schema, Jsonb *refs);

/* the list as a jsonb array [{"type","path","backward","forward"}, ...] */
extern Jsonb *reg_changes_to_jsonb(List *changes);

#endif							/* REGISTRY_DIFF_H */
