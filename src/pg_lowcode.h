/*-------------------------------------------------------------------------
 *
 * pg_lowcode.h
 *	  Declarations shared by every component of pg_lowcode.
 *
 * The extension is made of components, each in its own folder under src/
 * (tenancy, jsonschema, rules, registry, session, quota, worker,
 * metrics).  Each
 * component exposes one init function that _PG_init() calls: it defines the
 * component's settings (GUCs) and, when the library is preloaded, requests
 * its shared memory and registers its hooks.  A component never reaches into
 * another's files; it uses the other's header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_LOWCODE_H
#define PG_LOWCODE_H

#include "postgres.h"

#define LOWCODE_SCHEMA		"lowcode"
#define LOWCODE_EXTENSION	"pg_lowcode"

/* True when _PG_init ran during shared_preload_libraries processing. */
extern bool lowcode_preloaded;

/*
 * Raise an error unless the library was loaded through
 * shared_preload_libraries; "what" names the feature that needs it.
 */
extern void lowcode_require_preload(const char *what);

/* Component entry points, called once from _PG_init(). */
extern void tenancy_init(void);
extern void jsonschema_init(void);
extern void rules_init(void);
extern void registry_init(void);
extern void session_init(void);
extern void quota_init(void);
extern void worker_init(void);
extern void metrics_init(void);

#endif							/* PG_LOWCODE_H */
