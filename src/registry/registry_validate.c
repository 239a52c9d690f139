/*-------------------------------------------------------------------------
 *
 * registry_validate.c
 *	  Validation against a registered version, with a backend cache of
 *	  compiled forms: lowcode.validate() and the submissions trigger.
 *
 * The cache maps (tenant, subject, requested version or "latest") to the
 * version it resolved to and the compiled form of that version's bundle
 * (the schema with every lowcode: document it references embedded, see
 * lowcode.registry_bundle).  A hit costs a hash lookup; the compiled form
 * is reused until registry content changes: every change queues a relcache
 * invalidation of lowcode.schema_versions (lowcode.registry_invalidate),
 * which reaches every backend before its next transaction and bumps
 * registry_generation, and an entry of an older generation is resolved
 * again.  Compiled forms that loaded a document from the operator's store
 * also follow the store generation (js_store.h).
 *
 * A miss asks SQL (lowcode.registry_validation_target, SECURITY DEFINER)
 * for the version, which raises the registry's errors (not found, disabled)
 * exactly as the SQL functions do.  Calls without a tenant context (an
 * operator validating against a global subject) are not cached.
 *
 * Cross-field rules ("x-rules") are evaluated after the JSON Schema pass,
 * by lowcode.registry_eval_rules, and their errors appended to the list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "jsonschema/js_internal.h"
#include "jsonschema/js_sql.h"
#include "jsonschema/js_store.h"
#include "registry/registry.h"
#include "tenancy/tenancy.h"

#define REG_SUBJECT_MAX 128
#define REG_CACHE_MAX_ENTRIES 1024

typedef struct RegCacheKey
{
	pg_uuid_t	scope;
	int32		requested;		/* 0: the latest enabled version */
	char		subject[REG_SUBJECT_MAX + 1];
} RegCacheKey;

typedef struct RegCacheEntry
{
	RegCacheKey key;
	bool		valid;
	uint64		registry_gen;
	uint64		store_gen;
	int32		version;
	JsCompiled *compiled;
	Jsonb	   *rules_schema;	/* the schema when it has x-rules, else NULL */
} RegCacheEntry;

static HTAB *reg_cache = NULL;
static Jsonb *valid_result = NULL;
static int64 compiles = 0;			/* versions compiled by this backend (tests) */	/* the result of a valid instance, built once */
static MemoryContext reg_cache_cxt = NULL;

static void
entry_release(RegCacheEntry *e)
{
	if (e->valid && e->compiled)
		MemoryContextDelete(e->compiled->mcxt);
	if (e->valid && e->rules_schema)
		pfree(e->rules_schema);
	e->compiled = NULL;
	e->rules_schema = NULL;
	e->valid = false;
}

static void
cache_reset(void)
{
	HASH_SEQ_STATUS st;
	RegCacheEntry *e;

	hash_seq_init(&st, reg_cache);
	while ((e = hash_seq_search(&st)) != NULL)
	{
		entry_release(e);
		hash_search(reg_cache, &e->key, HASH_REMOVE, NULL);
	}
}

static void
cache_init(void)
{
	HASHCTL		ctl;

	if (reg_cache)
		return;
	reg_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "registry validation cache",
										  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(RegCacheKey);
	ctl.entrysize = sizeof(RegCacheEntry);
	ctl.hcxt = reg_cache_cxt;
	reg_cache = hash_create("registry validation cache", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* resolve through SQL and compile; fills the entry */
static void
entry_load(RegCacheEntry *e, text *subject, int32 requested)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	MemoryContext caller = CurrentMemoryContext;
	Jsonb	   *bundle = NULL;
	Jsonb	   *rules = NULL;
	int32		version = 0;
	int			ret;

	values[0] = PointerGetDatum(subject);
	values[1] = Int32GetDatum(requested);
	if (requested == 0)
		nulls[1] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT version, bundle, rules_schema FROM lowcode.registry_validation_target($1, $2)",
								2, argtypes, values, nulls, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "registry_validation_target returned no row");
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		MemoryContext spi = MemoryContextSwitchTo(caller);

		d = SPI_getbinval(tup, td, 1, &isnull);
		version = isnull ? 0 : DatumGetInt32(d);
		d = SPI_getbinval(tup, td, 2, &isnull);
		if (!isnull)
			bundle = DatumGetJsonbPCopy(d);
		d = SPI_getbinval(tup, td, 3, &isnull);
		if (!isnull)
			rules = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	if (bundle == NULL || version <= 0)
		elog(ERROR, "registry_validation_target returned no schema");

	{
		JsCompileOptions opts;
		uint64		store_gen = js_store_generation();
		uint64		reg_gen = registry_generation;
		JsCompiled *c;

		memset(&opts, 0, sizeof(opts));
		opts.default_draft = JS_DRAFT2020;
		opts.loader = js_store_load;
		c = js_compile(bundle, &opts);
		compiles++;
		MemoryContextSetParent(c->mcxt, reg_cache_cxt);
		e->compiled = c;
		e->version = version;
		e->store_gen = store_gen;
		e->registry_gen = reg_gen;
		e->rules_schema = NULL;
		if (rules)
		{
			e->rules_schema = MemoryContextAlloc(reg_cache_cxt, VARSIZE(rules));
			memcpy(e->rules_schema, rules, VARSIZE(rules));
		}
		e->valid = true;
	}
}

static bool
entry_fresh(RegCacheEntry *e)
{
	return e->valid && e->registry_gen == registry_generation &&
		(!e->compiled->used_loader || e->store_gen == js_store_generation());
}

/* append the errors of the cross-field rules; returns the merged result */
static Jsonb *
apply_rules(Jsonb *rules_schema, Jsonb *instance, Jsonb *result)
{
	Oid			argtypes[3] = {JSONBOID, JSONBOID, JSONBOID};
	Datum		values[3];
	MemoryContext caller = CurrentMemoryContext;
	Jsonb	   *merged = result;
	int			ret;

	values[0] = JsonbPGetDatum(rules_schema);
	values[1] = JsonbPGetDatum(instance);
	values[2] = JsonbPGetDatum(result);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT CASE WHEN jsonb_array_length(e) = 0 THEN $3"
								" ELSE $3 || jsonb_build_object('valid', false, 'errors', coalesce($3 -> 'errors', '[]') || e) END"
								" FROM lowcode.registry_eval_rules($1, $2) e",
								3, argtypes, values, NULL, true, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			merged = DatumGetJsonbPCopy(d);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	return merged;
}

/*
 * lowcode.registry_validate_c(subject text, instance jsonb, version int,
 *                             with_version bool) RETURNS jsonb
 */
PG_FUNCTION_INFO_V1(lowcode_registry_validate);

Datum
lowcode_registry_validate(PG_FUNCTION_ARGS)
{
	text	   *subject;
	Jsonb	   *instance;
	int32		requested;
	bool		with_version;
	RegCacheKey key;
	RegCacheEntry *e;
	RegCacheEntry scratch;
	bool		found;
	pg_uuid_t	tenant;
	bool		cacheable;
	JsValidateOptions o;
	JsResult	r;
	StringInfoData buf;
	Jsonb	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	subject = PG_GETARG_TEXT_PP(0);
	instance = PG_GETARG_JSONB_P(1);
	requested = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	with_version = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	if (requested < 0)
		requested = -1;			/* never a version: resolves to "not found" */

	cache_init();
	cacheable = tenancy_current_tenant(&tenant) &&
		VARSIZE_ANY_EXHDR(subject) <= REG_SUBJECT_MAX;
	if (cacheable)
	{
		memset(&key, 0, sizeof(key));
		key.scope = tenant;
		key.requested = requested;
		memcpy(key.subject, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject));
		e = hash_search(reg_cache, &key, HASH_FIND, &found);
		if (!found || !entry_fresh(e))
		{
			if (found)
			{
				entry_release(e);
				hash_search(reg_cache, &key, HASH_REMOVE, NULL);
			}
			/* load first: an error leaves no half-made entry behind */
			memset(&scratch, 0, sizeof(scratch));
			entry_load(&scratch, subject, requested);
			if (hash_get_num_entries(reg_cache) >= REG_CACHE_MAX_ENTRIES)
				cache_reset();
			e = hash_search(reg_cache, &key, HASH_ENTER, &found);
			scratch.key = key;
			*e = scratch;
		}
	}
	else
	{
		memset(&scratch, 0, sizeof(scratch));
		entry_load(&scratch, subject, requested);
		e = &scratch;
	}

	memset(&o, 0, sizeof(o));
	o.locale = lowcode_locale;
	memset(&r, 0, sizeof(r));

	/*
	 * Most instances are valid: a first pass that stops at the first failure
	 * and collects nothing, as jsonschema_is_valid does, answers them with a
	 * result built once per backend.  Only invalid ones are validated again,
	 * collecting every error.
	 */
	if (js_validate(e->compiled, instance, &o, NULL) && !with_version && !e->rules_schema)
	{
		if (valid_result == NULL)
		{
			JsResult	ok;

			memset(&ok, 0, sizeof(ok));
			ok.valid = true;
			initStringInfo(&buf);
			js_result_append_json(&buf, &ok, false);
			result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
			valid_result = MemoryContextAlloc(TopMemoryContext, VARSIZE(result));
			memcpy(valid_result, result, VARSIZE(result));
		}
		if (!cacheable)
			entry_release(e);
		result = palloc(VARSIZE(valid_result));
		memcpy(result, valid_result, VARSIZE(valid_result));
		PG_RETURN_JSONB_P(result);
	}
	o.collect = true;
	js_validate(e->compiled, instance, &o, &r);
	initStringInfo(&buf);
	if (with_version)
	{
		/* {"version": N, ...the validator's result...} */
		StringInfoData inner;

		initStringInfo(&inner);
		js_result_append_json(&inner, &r, false);
		appendStringInfo(&buf, "{\"version\": %d, %s", e->version, inner.data + 1);
	}
	else
		js_result_append_json(&buf, &r, false);
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
	if (e->rules_schema)
		result = apply_rules(e->rules_schema, instance, result);
	if (!cacheable)
		entry_release(e);
	PG_RETURN_JSONB_P(result);
}

/* lowcode.registry_cache_stats(): entries of this backend's cache (tests) */
PG_FUNCTION_INFO_V1(lowcode_registry_cache_stats);

Datum
lowcode_registry_cache_stats(PG_FUNCTION_ARGS)
{
	cache_init();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(
		psprintf("{\"entries\": %ld, \"compiles\": " INT64_FORMAT ", \"generation\": " UINT64_FORMAT "}",
				 hash_get_num_entries(reg_cache), compiles, registry_generation))));
}
