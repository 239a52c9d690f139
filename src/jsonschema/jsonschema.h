/*-------------------------------------------------------------------------
 *
 * jsonschema.h
 *	  The JSON Schema component's public interface: what other components
 *	  (the registry) and the SQL glue use.
 *
 * src/jsonschema/ is the JSON Schema component: a compiler of schemas
 * (drafts 4, 6, 7, 2019-09, 2020-12) into a tree and a validator walking
 * that tree over jsonb instances (both pure: no table access, no SQL glue),
 * its format checkers, the document store through which "$ref" to other
 * documents is resolved, and the SQL functions lowcode.jsonschema_*.
 *
 * A schema (jsonb) is compiled once with js_compile() into a JsCompiled,
 * which owns its memory context; js_validate() checks an instance against
 * it.  Documents other than the schema itself are reached through the
 * loader given in JsCompileOptions; the SQL side passes js_store_load,
 * which asks the loaders registered in the document store.  The compiled
 * form itself (JsSchema) is private to the component (js_internal.h).
 *
 * The document store.
 * The compiler and validator never open a table: they ask
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
#ifndef JSONSCHEMA_H
#define JSONSCHEMA_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "lc/lc_errcodes.h"

/* SQLSTATEs of the JSON Schema component: class LJ of lc/lc_errcodes.h */

typedef enum JsDraft
{
	JS_DRAFT_NONE = 0,
	JS_DRAFT4 = 4,
	JS_DRAFT6 = 6,
	JS_DRAFT7 = 7,
	JS_DRAFT2019 = 2019,
	JS_DRAFT2020 = 2020
} JsDraft;

typedef enum JsLocale
{
	JS_LOCALE_EN = 0,
	JS_LOCALE_ZH_CN = 1,
	/* ajv-i18n's texts (issue 15) */
	JS_LOCALE_DE = 2,
	JS_LOCALE_ES = 3,
	JS_LOCALE_FR = 4,
	JS_LOCALE_JA = 5,
	JS_LOCALE_PT_BR = 6
} JsLocale;

#define JS_LOCALE_COUNT 7

/* a locale by name ("de", "pt-BR", "zh_CN", "fr-CA"...), or -1 (js_validate.c) */
extern int	js_locale_from_name(const char *name, int len);

typedef struct JsSchema JsSchema;
typedef struct JsFastPlan JsFastPlan;	/* the fast path's plan (js_fast.c) */

/* loader of documents by absolute URI (no fragment); NULL when unknown */
typedef Jsonb *(*JsLoaderFn) (const char *uri, void *arg);

typedef struct JsCompiled
{
	MemoryContext mcxt;			/* holds everything below */
	JsSchema   *root;
	Jsonb	   *schema;			/* private copy of the compiled schema */
	bool		used_loader;	/* a document came through the loader */
	bool		uses_dynamic_scope;	/* $dynamicRef or $recursiveRef present */
	List	   *resources;
	bool		has_ext;		/* some schema carries an extension (JsSchema.ext) */
	List	   *warnings;		/* messages of the deferred errors (char *) */
	JsFastPlan *fast;			/* the fast path's plan, or NULL (js_fast.c) */
} JsCompiled;

/*
 * Extension keywords.  The core knows no keyword of its own beyond the
 * specifications (and ajv-errors' errorMessage); a caller may give a hook
 * that looks at every schema object as it is compiled (schema: the object,
 * ptr: its JSON Pointer in its resource) and returns a compiled form of its
 * own keywords, or NULL.  At validation, the other hook is called wherever
 * that schema applies (array items, additionalProperties, $ref targets, the
 * branches of oneOf/anyOf/if: the same places as the specified keywords),
 * after the schema's own keywords; it reports errors with js_ext_report and
 * returns whether the instance passed.  The registry's x-rules are such an
 * extension (src/registry/registry_rules.c); the core stays pure.
 */
typedef struct JsExtCall JsExtCall;
typedef void *(*JsExtCompileFn) (const JsonbValue *schema, const char *base, const char *ptr, void *arg);
typedef bool (*JsExtValidateFn) (void *ext, JsExtCall *call, void *arg);

typedef struct JsCompileOptions
{
	JsDraft		default_draft;	/* when $schema is absent */
	bool		ajv_compat;		/* ajv's extensions: const in draft 4, siblings of $ref up to draft 7 */
	JsLoaderFn	loader;
	void	   *loader_arg;
	JsExtCompileFn ext_compile;	/* optional */
	void	   *ext_arg;

	/*
	 * When not NULL, a buffer of JS_ERROR_POINTER_SIZE bytes: when the
	 * compile raises an error about the schema, the JSON pointer (in its
	 * resource) of the subschema at fault is written there first, for
	 * jsonschema_check()'s output.  Left as it was on success.
	 */
	char	   *error_pointer;
} JsCompileOptions;

#define JS_ERROR_POINTER_SIZE 1024

/* one error of a validation, with both output shapes' fields */
typedef struct JsError
{
	const char *keyword;
	char	   *instance_location;
	char	   *keyword_location;
	char	   *absolute_keyword_location;	/* NULL unless a reference was crossed */
	char	   *schema_path;
	char	   *params;			/* JSON text of the ajv params object */
	char	   *message;
	const char *title;			/* the field's title (JsValidateOptions.titles), or NULL */
} JsError;

typedef struct JsValidateOptions
{
	bool		collect;		/* collect errors (else stop at the first failure) */
	bool		annotate;		/* also collect annotations (needs collect) */
	int			max_errors;		/* 0 = no limit */
	bool		format_assert;
	JsLocale	locale;
	bool		titles;			/* messages name the field by its "title" */
	JsExtValidateFn ext_validate;	/* optional: evaluates JsSchema.ext */
	void	   *ext_arg;
} JsValidateOptions;

/* what an extension hook is told about the place it is called at */
struct JsExtCall
{
	const JsonbValue *instance;	/* the value the schema applies to */
	const char *instance_location;	/* its JSON Pointer (only when collecting) */
	bool		through_array;	/* the location crosses an array index */
	bool		collect;		/* errors are collected (else only the outcome counts) */
	void	   *v;				/* the validation, for js_ext_report */
	void	   *schema;			/* the JsSchema */
};

/*
 * Report an error (warning: a warning, which does not fail validation) of an
 * extension: keyword is the error's "keyword", kw_path the path below the
 * schema ("x-rules/0"), instance_suffix a JSON Pointer relative to the
 * call's instance ("" for the instance itself), params the JSON text of
 * the params object.
 */
extern void js_ext_report(JsExtCall *call, const char *keyword, const char *kw_path,
						  const char *instance_suffix, const char *params, char *message,
						  bool warning);

typedef struct JsResult
{
	bool		valid;
	int			n_errors;
	JsError   **errors;
	int			n_annotations;	/* only when asked for; params holds the value */
	JsError   **annotations;
	int			n_warnings;		/* extension warnings (js_ext_report) */
	JsError   **warnings;
} JsResult;

/* output shapes of js_result_append_json */
/* (values kept so that callers written when this was "bool flag_only" still work) */
typedef enum JsOutput
{
	JS_OUTPUT_ERRORS = 0,		/* {"valid", "errors": [...]} always (the default) */
	JS_OUTPUT_FLAG = 1,			/* {"valid"} */
	JS_OUTPUT_BASIC = 2			/* 2020-12 basic: errors when invalid, annotations when valid */
} JsOutput;

/* js_compile.c */
extern JsCompiled *js_compile(Jsonb *schema, const JsCompileOptions *opts);
extern JsDraft js_dialect_of(Jsonb *schema, JsDraft default_draft);
extern const char *js_draft_metaschema_uri(JsDraft draft);
extern JsDraft js_draft_from_name(const char *name);

/* js_validate.c */
extern bool js_validate(JsCompiled *c, Jsonb *instance,
						const JsValidateOptions *opts, JsResult *result);
extern void js_result_append_json(StringInfo buf, const JsResult *result,
								  JsOutput output);

/*
 * js_jsonb.c: reading jsonb containers in place, and JSON equality (1 equals
 * 1.0); public because the registry's x-rules (an extension keyword) read
 * schemas and instances the way the validator does.
 */
typedef struct JsIter
{
	JsonbContainer *jc;
	char	   *base;
	int			n;				/* elements, or pairs */
	int			i;
	uint32		off;			/* offset of the next element / key */
	uint32		voff;			/* offset of the next value (objects) */
} JsIter;

extern void js_iter_init(JsIter *it, JsonbContainer *jc);
extern bool js_iter_next_elem(JsIter *it, JsonbValue *elem);
extern bool js_iter_next_pair(JsIter *it, JsonbValue *key, JsonbValue *val);
extern bool js_object_find(JsonbContainer *jc, const char *key, int len,
						   JsonbValue *val);
extern bool js_array_get(JsonbContainer *jc, int index, JsonbValue *elem);
extern void js_root_value(Jsonb *jb, JsonbValue *v);
extern bool js_json_equal(const JsonbValue *a, const JsonbValue *b);
extern uint32 js_json_hash(const JsonbValue *v);
extern void js_value_to_json(StringInfo buf, const JsonbValue *v);
extern bool js_is_object(const JsonbValue *v);
extern bool js_is_array(const JsonbValue *v);
extern bool js_numeric_is_integral(Numeric n);
extern int	js_numeric_cmp(Numeric a, Numeric b);
extern int	js_numeric_sign(Numeric n);
extern int	js_utf8_length(const char *s, int len);

/* lowcode.locale (a JsLocale): the language of validation messages */
extern int	lowcode_locale;

/* ---------- the document store (js_store.c) ---------- */

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

/*
 * For loaders backed by a table: the jsonb that "query" (one text
 * parameter, the URI; at most one row of one jsonb column) returns, copied
 * into the caller's memory context, or NULL.  Runs through SPI, read-only.
 */
extern Jsonb *js_store_query_document(const char *query, const char *uri);

/* Current generation: compiled forms older than this that loaded documents are stale. */
extern uint64 js_store_generation(void);

/* Bump the generation in this backend now. */
extern void js_store_invalidate(void);

/*
 * Watch a table that backs a loader: a relcache invalidation of it (see
 * lowcode.jsonschema_store_changed()) bumps the generation.
 */
extern void js_store_watch_relation(const char *nspname, const char *relname);

#endif							/* JSONSCHEMA_H */
