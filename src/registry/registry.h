/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Shared state of the schema registry component.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include "access/attnum.h"
#include "access/htup.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

/*
 * Bumped whenever registry content may have changed in any backend (see
 * registry_init.c); a cached lookup made under another generation is stale.
 */
extern uint64 registry_generation;

/* OID of lowcode.schema_versions (InvalidOid before the extension exists) */
extern Oid	registry_schema_versions_relid(void);

/* registry_sql.c: who and which trace, parsed once per request; NULL when none */
extern const char *registry_actor_sub(void);
extern const char *registry_trace_id(void);
extern const char *registry_actor_role(void);
extern const char *registry_accept_language(void);

/* the language of lowcode.events.type (its CHECK), in C: registry_record.c */
extern bool registry_event_type_ok(const char *type);

/*
 * registry_record.c: rows of the extension's own tables written without the
 * executor (table_tuple_insert and the indexes' insertion), for tables only
 * trusted code writes (see registry_record.c for when that is safe).
 * registry_direct_insert_ok() says whether rel (open, RowExclusiveLock) is as
 * this code knows it -- a plain table without triggers or rules, no CHECK
 * but known_check, no generated column, names[i] of types[i] -- and fills
 * map; registry_direct_insert() writes one row (other columns NULL, NOT NULL
 * checked) with the caller's executor state (CreateExecutorState(); one for
 * several rows; the caller resets its tuple table and frees it).  The events helpers do it for a lowcode.events row (its CHECK and
 * defaults included).
 */
#define REGISTRY_EVENT_NCOLS 7
extern bool registry_direct_insert_ok(Relation rel, int ncols, const char *const *names, const Oid *types,
									  const char *known_check, AttrNumber *map);
extern void registry_direct_insert(EState *estate, Relation rel, int ncols, const AttrNumber *map,
								   const Datum *values, const bool *nulls);
extern bool registry_event_direct_ok(Relation re, AttrNumber *emap);
extern void registry_event_direct_insert(EState *estate, Relation re, const AttrNumber *emap, Datum tenant,
										 int64 id, const char *type, Datum payload, Datum trace,
										 bool trace_null);

/*
 * registry_validate.c: what the validation trigger does to a row of
 * lowcode.submissions (oldtup NULL for an INSERT): the tenant check, the
 * stamps, the pinned version, the validation (LG012 with every error);
 * returns the row to store.  *site memoises the cache entry across calls
 * (allocated in site_cxt).  The trigger and lowcode.submit()'s direct path
 * (registry_record.c) call it.
 */
extern HeapTuple registry_submission_row(Relation rel, HeapTuple oldtup, HeapTuple newtup, void **site,
										 MemoryContext site_cxt);

/* registry_store.c: the document store loader of lowcode: URIs */
extern void registry_store_init(void);

/* lowcode.registry_format_assert (registry_init.c) */
extern bool registry_format_assert;

/*
 * Citus (issue 17): lowcode.request_locale, the message language of the
 * request as the coordinator chose it, which pre_request() forwards to the
 * workers (registry_publish_locale); validations on a worker use it.
 */
extern char *registry_request_locale;
extern void registry_publish_locale(void);

/* set while registry_validate.c compiles a version for its per-tenant cache */
extern bool registry_loading_for_cache;

#endif							/* REGISTRY_H */
