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

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "common/lc_http.h"

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
	/* names qualified: this runs with the caller's search_path */
	ret = SPI_execute_with_args("SELECT CASE WHEN pg_catalog.jsonb_array_length(e) OPERATOR(pg_catalog.=) 0 THEN $3"
								" ELSE $3 OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('valid', false, 'errors',"
								" coalesce($3 OPERATOR(pg_catalog.->) 'errors', '[]'::pg_catalog.jsonb) OPERATOR(pg_catalog.||) e) END"
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

/* the outcome of one validation */
typedef struct RegValidation
{
	int32		version;		/* the version validated against */
	bool		valid;
	Jsonb	   *result;			/* {"valid","errors",...}; NULL when valid and not asked for */
} RegValidation;

static bool
result_is_valid(Jsonb *result)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&result->root, "valid", 5, NULL);

	return v && v->type == jbvBool && v->val.boolean;
}

/*
 * Validate "instance" against a version of "subject" (requested: 0 for the
 * latest enabled one) as the current tenant sees it.  The full result is
 * built only when want_result is set or the instance is invalid.
 */
static void
registry_validate(text *subject, Jsonb *instance, int32 requested, bool want_result, RegValidation *out)
{
	RegCacheKey key;
	RegCacheEntry *e;
	RegCacheEntry scratch;
	bool		found;
	pg_uuid_t	tenant;
	bool		cacheable;
	JsValidateOptions o;
	JsResult	r;
	StringInfoData buf;

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

	out->version = e->version;
	out->result = NULL;
	memset(&o, 0, sizeof(o));
	o.locale = lowcode_locale;

	/*
	 * Most instances are valid: a first pass that stops at the first failure
	 * and collects nothing, as jsonschema_is_valid does, answers them; the
	 * result of a valid instance is built once per backend.  Only invalid
	 * instances are validated again, collecting every error.
	 */
	out->valid = js_validate(e->compiled, instance, &o, NULL);
	if (out->valid && !e->rules_schema)
	{
		if (want_result)
		{
			if (valid_result == NULL)
			{
				JsResult	ok;
				Jsonb	   *vr;

				memset(&ok, 0, sizeof(ok));
				ok.valid = true;
				initStringInfo(&buf);
				js_result_append_json(&buf, &ok, false);
				vr = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
				valid_result = MemoryContextAlloc(TopMemoryContext, VARSIZE(vr));
				memcpy(valid_result, vr, VARSIZE(vr));
			}
			out->result = palloc(VARSIZE(valid_result));
			memcpy(out->result, valid_result, VARSIZE(valid_result));
		}
	}
	else
	{
		memset(&r, 0, sizeof(r));
		o.collect = true;
		js_validate(e->compiled, instance, &o, &r);
		initStringInfo(&buf);
		js_result_append_json(&buf, &r, false);
		out->result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
		if (e->rules_schema)
		{
			out->result = apply_rules(e->rules_schema, instance, out->result);
			out->valid = result_is_valid(out->result);
		}
	}
	if (!cacheable)
		entry_release(e);
}

/*
 * lowcode.validate(subject text, instance jsonb, version int) and
 * lowcode.registry_validate_c(subject, instance, version, with_version bool).
 */
PG_FUNCTION_INFO_V1(lowcode_registry_validate);

Datum
lowcode_registry_validate(PG_FUNCTION_ARGS)
{
	RegValidation v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	registry_validate(PG_GETARG_TEXT_PP(0), PG_GETARG_JSONB_P(1),
					  PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2), true, &v);
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3))
	{
		/* {"version": N, ...the validator's result...} */
		char	   *inner = JsonbToCString(NULL, &v.result->root, VARSIZE(v.result));

		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(
			psprintf("{\"version\": %d, %s", v.version, inner + 1))));
	}
	PG_RETURN_JSONB_P(v.result);
}

/* ---------------------------------------------------------------------
 * The validation trigger
 *
 * lowcode.registry_validate_trigger('submissions') on lowcode.submissions:
 * the row must belong to the current tenant (checked before any schema is
 * read, so no other tenant's subject is ever looked at); INSERT stamps the
 * creator, time and trace id and pins the version (the latest enabled one
 * when NULL); UPDATE keeps subject, creator, time and trace id and
 * revalidates when data or version change.
 *
 * lowcode.registry_validate_trigger('column', col, subject), made by
 * lowcode.attach_validation: validates a jsonb column against the latest
 * enabled version of the subject when it is set or changed.
 *
 * Invalid data raises LG012 (HTTP 422) with the full error list.
 * --------------------------------------------------------------------- */

static Datum
attr(HeapTuple tup, TupleDesc td, int attno, bool *isnull)
{
	return heap_getattr(tup, attno, td, isnull);
}

static bool
same_datum(HeapTuple a, HeapTuple b, TupleDesc td, int attno)
{
	bool		an,
				bn;
	Datum		ad = attr(a, td, attno, &an);
	Datum		bd = attr(b, td, attno, &bn);
	Form_pg_attribute att = TupleDescAttr(td, attno - 1);

	if (an || bn)
		return an == bn;
	if (att->attlen == -1)
	{
		struct varlena *av = PG_DETOAST_DATUM_PACKED(ad);
		struct varlena *bv = PG_DETOAST_DATUM_PACKED(bd);

		return VARSIZE_ANY_EXHDR(av) == VARSIZE_ANY_EXHDR(bv) &&
			memcmp(VARDATA_ANY(av), VARDATA_ANY(bv), VARSIZE_ANY_EXHDR(av)) == 0;
	}
	return datumIsEqual(ad, bd, att->attbyval, att->attlen);
}

static int
attno_of(TupleDesc td, const char *name)
{
	int			n = SPI_fnumber(td, name);

	if (n <= 0)
		elog(ERROR, "registry_validate_trigger: column \"%s\" not found", name);
	return n;
}

static void
raise_invalid(const char *what, RegValidation *v)
{
	JsonbValue *errors = getKeyJsonValueFromContainer(&v->result->root, "errors", 6, NULL);
	char	   *details = "[]";

	if (errors && errors->type == jbvBinary)
		details = JsonbToCString(NULL, errors->val.binary.data, errors->val.binary.len);
	lc_raise_http(422, "LG012", what, details,
				  "Each error gives the field (instancePath) and the message to show next to it.", NULL);
}

PG_FUNCTION_INFO_V1(lowcode_registry_validate_trigger);

Datum
lowcode_registry_validate_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Trigger    *tg;
	TupleDesc	desc;
	HeapTuple	newtup;
	bool		is_update;
	RegValidation v;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs < 1)
		elog(ERROR, "registry_validate_trigger: must be a BEFORE ROW trigger with arguments");
	tg = td->tg_trigger;
	desc = td->tg_relation->rd_att;
	is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	newtup = is_update ? td->tg_newtuple : td->tg_trigtuple;

	if (strcmp(tg->tgargs[0], "submissions") == 0)
	{
		int			a_tenant = attno_of(desc, "tenant_id");
		int			a_subject = attno_of(desc, "subject");
		int			a_version = attno_of(desc, "version");
		int			a_data = attno_of(desc, "data");
		int			a_by = attno_of(desc, "created_by");
		int			a_at = attno_of(desc, "created_at");
		int			a_upd = attno_of(desc, "updated_at");
		int			a_trace = attno_of(desc, "trace_id");
		pg_uuid_t	tenant;
		bool		isnull;
		Datum		d;
		int			cols[5];
		Datum		vals[5];
		bool		nulls[5];
		int			n = 0;
		text	   *subject;
		Jsonb	   *data;
		int32		requested;

		d = attr(newtup, desc, a_tenant, &isnull);
		if (!tenancy_current_tenant(&tenant) || isnull ||
			memcmp(DatumGetUUIDP(d), &tenant, sizeof(pg_uuid_t)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("new row violates row-level security policy for table \"%s\"",
							RelationGetRelationName(td->tg_relation))));
		if (is_update)
		{
			HeapTuple	old = td->tg_trigtuple;

			if (!same_datum(old, newtup, desc, a_subject) || !same_datum(old, newtup, desc, a_by) ||
				!same_datum(old, newtup, desc, a_at) || !same_datum(old, newtup, desc, a_trace))
				ereport(ERROR,
						(errcode(MAKE_SQLSTATE('L', 'G', '0', '1', '5')),
						 errmsg("the subject, creator, creation time and trace id of a submission cannot change")));
			cols[n] = a_upd;
			vals[n] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			nulls[n++] = false;
			if (same_datum(old, newtup, desc, a_data) && same_datum(old, newtup, desc, a_version))
				return PointerGetDatum(heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls));
		}
		else
		{
			const char *sub = registry_actor_sub();
			const char *trace = registry_trace_id();

			cols[n] = a_by;
			vals[n] = CStringGetTextDatum(sub ? sub : registry_actor_role());
			nulls[n++] = false;
			cols[n] = a_at;
			vals[n] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			nulls[n++] = false;
			cols[n] = a_upd;
			vals[n] = (Datum) 0;
			nulls[n++] = true;
			cols[n] = a_trace;
			vals[n] = trace ? CStringGetTextDatum(trace) : (Datum) 0;
			nulls[n++] = trace == NULL;
		}
		d = attr(newtup, desc, a_subject, &isnull);
		if (isnull)
			ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
							errmsg("a submission needs a subject")));
		subject = DatumGetTextPP(d);
		d = attr(newtup, desc, a_data, &isnull);
		if (isnull)
			ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
							errmsg("a submission needs data")));
		data = DatumGetJsonbP(d);
		d = attr(newtup, desc, a_version, &isnull);
		requested = isnull ? 0 : DatumGetInt32(d);
		if (!isnull && requested <= 0)
			requested = -1;
		registry_validate(subject, data, requested, false, &v);
		if (!v.valid)
			raise_invalid(psprintf("the data is not valid for subject %s version %d",
								   text_to_cstring(subject), v.version), &v);
		cols[n] = a_version;
		vals[n] = Int32GetDatum(v.version);
		nulls[n++] = false;
		return PointerGetDatum(heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls));
	}
	else if (strcmp(tg->tgargs[0], "column") == 0 && tg->tgnargs == 3)
	{
		int			a_col = attno_of(desc, tg->tgargs[1]);
		bool		isnull;
		Datum		d = attr(newtup, desc, a_col, &isnull);

		if (isnull)
			return PointerGetDatum(newtup);
		if (is_update && same_datum(td->tg_trigtuple, newtup, desc, a_col))
			return PointerGetDatum(newtup);
		registry_validate(cstring_to_text(tg->tgargs[2]), DatumGetJsonbP(d), 0, false, &v);
		if (!v.valid)
			raise_invalid(psprintf("column %s of %s is not valid for subject %s version %d",
								   tg->tgargs[1], RelationGetRelationName(td->tg_relation),
								   tg->tgargs[2], v.version), &v);
		return PointerGetDatum(newtup);
	}
	elog(ERROR, "registry_validate_trigger: unknown mode \"%s\"", tg->tgargs[0]);
	return (Datum) 0;
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
