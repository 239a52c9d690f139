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
