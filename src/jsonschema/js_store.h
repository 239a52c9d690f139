/*-------------------------------------------------------------------------
 *
 * js_store.h
 *	  The document store of JSON Schema: where "$ref" to absolute URIs and
 *	  custom "$schema" URIs are resolved from.
 *
 * The compiler and validator (js_internal.h) never open a table: they ask
 * js_store_load() for a document by URI.  That function asks the loaders
 * registered here, in registration order, and returns the first answer.
 * The jsonschema component registers the loader of the operator-managed
 * table lowcode.schema_documents; the registry component adds its own
 * (tenant-owned schemas) with js_store_register_loader().  The metaschemas
 * of the five drafts are built into the compiler and need no loader.
 *
 * Invalidation.  Compiled schemas that used a loaded document remember the
 * store generation they were compiled at, and are recompiled when it has
 * moved on.  The generation is backend-local and is bumped by a relcache
 * invalidation callback whenever a relation watched with
 * js_store_watch_relation() changes: a statement trigger on each store
 * table calls CacheInvalidateRelcacheByRelid() (SQL function
 * lowcode.jsonschema_store_changed()), which reaches every backend at
 * commit, and the changing backend itself at the next command.  A schema
 * that loaded nothing never goes stale this way (its compiled form depends
 * on its own content only, which is the cache key).
 *
 *-------------------------------------------------------------------------
 */
#ifndef JS_STORE_H
#define JS_STORE_H

#include "utils/jsonb.h"

/*
 * A loader returns the document registered under "uri" (absolute, no
 * fragment), palloc'd in the caller's memory context, or NULL.  It may read
 * tables (it runs inside the calling transaction).
 */
typedef Jsonb *(*JsStoreLoader) (const char *uri, void *arg);

extern void js_store_register_loader(const char *name, JsStoreLoader loader,
									 void *arg);

/* First loader's answer, or NULL.  Signature of a js_compile() loader. */
extern Jsonb *js_store_load(const char *uri, void *arg);

/* Current generation: compiled forms older than this that loaded documents are stale. */
extern uint64 js_store_generation(void);

/* Bump the generation in this backend now. */
extern void js_store_invalidate(void);

/*
 * Watch a table that backs a loader: a relcache invalidation of it (see
 * lowcode.jsonschema_store_changed()) bumps the generation.
 */
extern void js_store_watch_relation(const char *nspname, const char *relname);

/* called from jsonschema_init() */
extern void js_store_init(void);

#endif							/* JS_STORE_H */
