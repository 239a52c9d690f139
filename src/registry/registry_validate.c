/*-------------------------------------------------------------------------
 *
 * registry_validate.c
 *	  Validation against a registered version, with a backend cache of
 *	  compiled forms: lowcode.validate() and the submissions trigger.
 *
 * The cache maps (tenant, subject, requested version or "latest") to the
 * version it resolved to and the compiled form of that version (its
 * lowcode: references resolved through the document store, by the
 * registry's loader, as the tenant sees subjects: the entry is the
 * tenant's own).  A hit costs a hash lookup; the compiled form
 * is reused until registry content changes: every change queues a relcache
 * invalidation of lowcode.schema_versions (lowcode.registry_invalidate),
 * which reaches every backend before its next transaction and bumps
 * registry_generation, and an entry of an older generation is resolved
 * again.  Compiled forms that loaded a document from the operator's store
 * also follow the store generation (jsonschema.h).
 *
 * A miss asks SQL (lowcode.registry_validation_target, SECURITY DEFINER)
 * for the version, which raises the registry's errors (not found, disabled)
 * exactly as the SQL functions do.  Calls without a tenant context (an
 * operator validating against a global subject) are not cached.
 *
 * Cross-field rules ("x-rules", at the root or in subschemas reached through
 * "properties") are found once per compiled version and evaluated after the
 * JSON Schema pass through lowcode.rule_test, one call site per rule (so
 * each rule's CEL program stays compiled); a failed rule, or one that cannot
 * be evaluated on the data, adds an error to the same list.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lc/lc_http.h"
#include "lc/lc_trusted.h"

#include "jsonschema/jsonschema.h"
#include "quota/quota.h"
#include "registry/registry.h"
#include "tenancy/tenancy.h"

#define REG_SUBJECT_MAX 128
#define REG_CACHE_MAX_ENTRIES 1024
#define REG_LATEST PG_INT32_MIN		/* "requested version": the latest enabled one */

typedef struct RegCacheKey
{
	pg_uuid_t	scope;
	int32		requested;		/* REG_LATEST: the latest enabled version */
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
	int			n_rules;		/* cross-field rules ("x-rules") of the version */
	struct RegRule *rules;		/* in compiled->mcxt */
} RegCacheEntry;

/*
 * One cross-field rule: where it sits (a chain of "properties" from the
 * root), its CEL text, message and error path, and a call site of
 * lowcode.rule_test, so that the rule's compiled program stays cached.
 */
typedef struct RegRule
{
	int			depth;			/* properties to descend into from the instance root */
	char	  **props;
	char	   *schema_path;	/* JSON Pointer of the x-rules item */
	char	   *instance_base;	/* JSON Pointer of the object it applies to */
	char	   *rule;
	char	   *message;
	char	   *path;			/* relative JSON Pointer of the field */
	FmgrInfo	call;
} RegRule;

static HTAB *reg_cache = NULL;
static uint64 cache_epoch = 1;		/* bumped when entries are removed: call-site memos drop them */

/* per call site (fn_extra): the entry the previous call used, to skip the hash lookup */
typedef struct RegCallSite
{
	uint64		epoch;
	RegCacheEntry *entry;
	RegCacheKey key;
} RegCallSite;
static Jsonb *valid_result = NULL;
static int64 compiles = 0;			/* versions compiled by this backend (tests) */	/* the result of a valid instance, built once */
static MemoryContext reg_cache_cxt = NULL;

static void
entry_release(RegCacheEntry *e)
{
	if (e->valid && e->compiled)
		MemoryContextDelete(e->compiled->mcxt);
	e->compiled = NULL;
	e->rules = NULL;
	e->n_rules = 0;
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
	cache_epoch++;
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

static char *
pointer_escape(const char *s, int len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '~')
			appendStringInfoString(&buf, "~0");
		else if (s[i] == '/')
			appendStringInfoString(&buf, "~1");
		else
			appendStringInfoChar(&buf, s[i]);
	}
	return buf.data;
}

static char *
string_of(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * The x-rules of a schema: at its root and in subschemas reached through
 * "properties" (registration checked their shape and their CEL).
 */
static void
collect_rules(JsonbContainer *schema, List *props, const char *schema_base,
			  const char *instance_base, List **out, int depth)
{
	JsonbValue *rules;
	JsonbValue *properties;

	check_stack_depth();
	if (depth > 100)
		return;
	rules = getKeyJsonValueFromContainer(schema, "x-rules", 7, NULL);
	if (rules && rules->type == jbvBinary && JsonContainerIsArray(rules->val.binary.data))
	{
		int			n = JsonContainerSize(rules->val.binary.data);

		for (int i = 0; i < n; i++)
		{
			JsonbValue *item = getIthJsonbValueFromContainer(rules->val.binary.data, i);
			RegRule    *r;
			ListCell   *lc;
			int			k = 0;

			if (item == NULL || item->type != jbvBinary || !JsonContainerIsObject(item->val.binary.data))
				continue;
			r = palloc0(sizeof(RegRule));
			r->rule = string_of(item->val.binary.data, "rule");
			if (r->rule == NULL)
				continue;
			r->message = string_of(item->val.binary.data, "message");
			r->path = string_of(item->val.binary.data, "path");
			r->schema_path = psprintf("%s/x-rules/%d", schema_base, i);
			r->instance_base = pstrdup(instance_base);
			r->depth = list_length(props);
			r->props = palloc(sizeof(char *) * (r->depth + 1));
			foreach(lc, props)
				r->props[k++] = pstrdup(lfirst(lc));
			*out = lappend(*out, r);
		}
	}
	properties = getKeyJsonValueFromContainer(schema, "properties", 10, NULL);
	if (properties && properties->type == jbvBinary && JsonContainerIsObject(properties->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(properties->val.binary.data);
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;
		int			keylen = 0;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
			{
				key = v.val.string.val;
				keylen = v.val.string.len;
			}
			else if (tok == WJB_VALUE && v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
			{
				char	   *esc = pointer_escape(key, keylen);

				collect_rules(v.val.binary.data, lappend(list_copy(props), pnstrdup(key, keylen)),
							  psprintf("%s/properties/%s", schema_base, esc),
							  psprintf("%s/%s", instance_base, esc), out, depth + 1);
			}
		}
	}
}

/* resolve through SQL and compile; fills the entry */
static void
entry_load(RegCacheEntry *e, text *subject, int32 requested)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	MemoryContext caller = CurrentMemoryContext;
	Jsonb	   *schema = NULL;
	Jsonb	   *rules = NULL;
	int32		version = 0;
	int			ret;
	LcTrusted	trusted;

	values[0] = PointerGetDatum(subject);
	values[1] = Int32GetDatum(requested);
	if (requested == REG_LATEST)
		nulls[1] = 'n';
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT version, schema, rules_schema FROM lowcode.registry_validation_target($1, $2)",
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
			schema = DatumGetJsonbPCopy(d);
		d = SPI_getbinval(tup, td, 3, &isnull);
		if (!isnull)
			rules = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	lc_trusted_end(&trusted);
	if (schema == NULL || version <= 0)
		elog(ERROR, "registry_validation_target returned no schema");

	{
		JsCompileOptions opts;
		uint64		store_gen = js_store_generation();
		uint64		reg_gen = registry_generation;
		JsCompiled *c;

		memset(&opts, 0, sizeof(opts));
		opts.default_draft = JS_DRAFT2020;
		opts.loader = js_store_load;
		/*
		 * Documents the registry's loader gives this compilation are the
		 * tenant's view, and so is this cache entry: they need not go stale
		 * at the end of the transaction (registry_store.c).
		 */
		registry_loading_for_cache = true;
		PG_TRY();
		{
			c = js_compile(schema, &opts);
		}
		PG_FINALLY();
		{
			registry_loading_for_cache = false;
		}
		PG_END_TRY();
		compiles++;
		MemoryContextSetParent(c->mcxt, reg_cache_cxt);
		e->compiled = c;
		e->version = version;
		e->store_gen = store_gen;
		e->registry_gen = reg_gen;
		e->rules = NULL;
		e->n_rules = 0;
		if (rules && JB_ROOT_IS_OBJECT(rules))
		{
			/* kept with the compiled form, freed with it */
			MemoryContext old = MemoryContextSwitchTo(c->mcxt);
			List	   *list = NIL;
			ListCell   *lc;
			Oid			argtypes[2] = {TEXTOID, JSONBOID};
			Oid			fn = LookupFuncName(list_make2(makeString("lowcode"), makeString("rule_test")),
											2, argtypes, false);
			int			i = 0;

			collect_rules(&rules->root, NIL, "", "", &list, 0);
			e->n_rules = list_length(list);
			e->rules = palloc0(sizeof(RegRule) * (e->n_rules + 1));
			foreach(lc, list)
			{
				e->rules[i] = *(RegRule *) lfirst(lc);
				fmgr_info_cxt(fn, &e->rules[i].call, c->mcxt);
				i++;
			}
			MemoryContextSwitchTo(old);
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

/*
 * Evaluate one rule on the object it applies to.  An evaluation error (a
 * missing field, a non-boolean result) makes the rule fail; it is caught in
 * a subtransaction, as a PL/pgSQL exception block would, and its message
 * returned in *failure.
 */
static bool
rule_holds(RegRule *r, Jsonb *data, char **failure)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;

	*failure = NULL;
	quota_count_rule_evaluation();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ok = DatumGetBool(FunctionCall2(&r->call, CStringGetTextDatum(r->rule), JsonbPGetDatum(data)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		/* cancellation and the like are not rule failures */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		*failure = edata->message ? pstrdup(edata->message) : pstrdup("evaluation failed");
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* the object a rule applies to, or NULL when the instance does not have it */
static Jsonb *
rule_data(RegRule *r, Jsonb *instance)
{
	JsonbValue *next = NULL;
	JsonbContainer *cur = &instance->root;

	if (!JB_ROOT_IS_OBJECT(instance))
		return NULL;
	if (r->depth == 0)
		return instance;
	for (int i = 0; i < r->depth; i++)
	{
		next = getKeyJsonValueFromContainer(cur, r->props[i], strlen(r->props[i]), NULL);
		if (next == NULL || next->type != jbvBinary || !JsonContainerIsObject(next->val.binary.data))
			return NULL;
		cur = next->val.binary.data;
	}
	/* the nested object as a Jsonb of its own (the value knows its length) */
	return JsonbValueToJsonb(next);
}

/*
 * Evaluate the version's x-rules; append an error per failed rule to the
 * result (which is rebuilt with "valid": false).  Returns the result.
 */
static Jsonb *
apply_rules(RegCacheEntry *e, Jsonb *instance, Jsonb *result, bool *valid)
{
	StringInfoData errs;
	int			failed = 0;

	initStringInfo(&errs);
	for (int i = 0; i < e->n_rules; i++)
	{
		RegRule    *r = &e->rules[i];
		Jsonb	   *data = rule_data(r, instance);
		char	   *failure;
		char	   *loc;
		const char *msg;

		CHECK_FOR_INTERRUPTS();
		if (data == NULL || rule_holds(r, data, &failure))
			continue;
		loc = psprintf("%s%s", r->instance_base, r->path ? r->path : "");
		msg = r->message ? r->message : psprintf("rule %s is not satisfied", r->rule);
		appendStringInfoString(&errs, failed++ ? ", {" : "{");
		appendStringInfoString(&errs, "\"instanceLocation\": ");
		escape_json(&errs, loc);
		appendStringInfoString(&errs, ", \"keywordLocation\": ");
		escape_json(&errs, r->schema_path);
		appendStringInfoString(&errs, ", \"error\": ");
		escape_json(&errs, msg);
		appendStringInfoString(&errs, ", \"instancePath\": ");
		escape_json(&errs, loc);
		appendStringInfoString(&errs, ", \"schemaPath\": ");
		escape_json(&errs, psprintf("#%s", r->schema_path));
		appendStringInfoString(&errs, ", \"keyword\": \"x-rules\", \"params\": {\"rule\": ");
		escape_json(&errs, r->rule);
		if (failure)
		{
			appendStringInfoString(&errs, ", \"error\": ");
			escape_json(&errs, failure);
		}
		appendStringInfoString(&errs, "}, \"message\": ");
		escape_json(&errs, msg);
		appendStringInfoChar(&errs, '}');
	}
	if (failed == 0)
		return result;
	*valid = false;
	{
		/* result || {"valid": false, "errors": result.errors || [rule errors]} */
		JsonbValue *old = getKeyJsonValueFromContainer(&result->root, "errors", 6, NULL);
		char	   *old_text = (old && old->type == jbvBinary) ?
			JsonbToCString(NULL, old->val.binary.data, old->val.binary.len) : "[]";
		Datum		errors = DirectFunctionCall2(jsonb_concat,
												 DirectFunctionCall1(jsonb_in, CStringGetDatum(old_text)),
												 DirectFunctionCall1(jsonb_in, CStringGetDatum(psprintf("[%s]", errs.data))));
		StringInfoData patch;

		initStringInfo(&patch);
		appendStringInfo(&patch, "{\"valid\": false, \"errors\": %s}",
						 JsonbToCString(NULL, &DatumGetJsonbP(errors)->root, VARSIZE(DatumGetJsonbP(errors))));
		return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(result),
												  DirectFunctionCall1(jsonb_in, CStringGetDatum(patch.data))));
	}
}

/* the outcome of one validation */
typedef struct RegValidation
{
	int32		version;		/* the version validated against */
	bool		valid;
	Jsonb	   *result;			/* {"valid","errors",...}; NULL when valid and not asked for */
} RegValidation;

/* a copy of the result of a valid instance, built once per backend */
static Jsonb *
valid_result_copy(void)
{
	Jsonb	   *copy;

	if (valid_result == NULL)
	{
		JsResult	ok;
		StringInfoData buf;
		Jsonb	   *vr;

		memset(&ok, 0, sizeof(ok));
		ok.valid = true;
		initStringInfo(&buf);
		js_result_append_json(&buf, &ok, JS_OUTPUT_ERRORS);
		vr = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
		valid_result = MemoryContextAlloc(TopMemoryContext, VARSIZE(vr));
		memcpy(valid_result, vr, VARSIZE(vr));
	}
	copy = palloc(VARSIZE(valid_result));
	memcpy(copy, valid_result, VARSIZE(valid_result));
	return copy;
}

/*
 * Validate "instance" against a version of "subject" (requested: REG_LATEST for the
 * latest enabled one) as the current tenant sees it.  The full result is
 * built only when want_result is set or the instance is invalid.
 */
static void
registry_validate(text *subject, Jsonb *instance, int32 requested, bool want_result, RegValidation *out,
				  RegCallSite *cs)
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

	cache_init();
	cacheable = tenancy_current_tenant(&tenant) &&
		VARSIZE_ANY_EXHDR(subject) <= REG_SUBJECT_MAX;
	if (cacheable)
	{
		memset(&key, 0, sizeof(key));
		key.scope = tenant;
		key.requested = requested;
		memcpy(key.subject, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject));
		if (cs && cs->entry && cs->epoch == cache_epoch &&
			memcmp(&cs->key, &key, sizeof(key)) == 0 && entry_fresh(cs->entry))
		{
			e = cs->entry;
			found = true;
		}
		else
			e = hash_search(reg_cache, &key, HASH_FIND, &found);
		if (!found || !entry_fresh(e))
		{
			if (found)
			{
				entry_release(e);
				hash_search(reg_cache, &key, HASH_REMOVE, NULL);
				cache_epoch++;
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
		if (cs)
		{
			cs->key = key;
			cs->entry = e;
			cs->epoch = cache_epoch;
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
	if (out->valid)
	{
		if (want_result || e->n_rules > 0)
			out->result = valid_result_copy();
		if (e->n_rules > 0)
			out->result = apply_rules(e, instance, out->result, &out->valid);
		if (out->valid && !want_result)
			out->result = NULL;
	}
	else
	{
		memset(&r, 0, sizeof(r));
		o.collect = true;
		js_validate(e->compiled, instance, &o, &r);
		initStringInfo(&buf);
		js_result_append_json(&buf, &r, JS_OUTPUT_ERRORS);
		out->result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
		if (e->n_rules > 0)
			out->result = apply_rules(e, instance, out->result, &out->valid);
	}
	if (!cacheable)
		entry_release(e);

	/* Per-tenant usage: one validation, and whether it failed (counted at commit). */
	quota_count_validation(out->valid);
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
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RegCallSite));
	registry_validate(PG_GETARG_TEXT_PP(0), PG_GETARG_JSONB_P(1),
					  PG_ARGISNULL(2) ? REG_LATEST : PG_GETARG_INT32(2), true, &v,
					  fcinfo->flinfo->fn_extra);
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

static RegCallSite *
trigger_call_site(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo == NULL)
		return NULL;
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RegCallSite));
	return fcinfo->flinfo->fn_extra;
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

		/*
		 * A superuser without a tenant context (pg_restore, data repair)
		 * writes rows as given: a restored submission keeps its version,
		 * stamps and trace id.
		 */
		if (!tenancy_current_tenant(&tenant) && superuser())
			return PointerGetDatum(newtup);
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
						(errcode(ERRCODE_LG_INVALID_REGISTRY_USE),
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
		requested = isnull ? REG_LATEST : DatumGetInt32(d);
		registry_validate(subject, data, requested, false, &v, trigger_call_site(fcinfo));
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
		registry_validate(cstring_to_text(tg->tgargs[2]), DatumGetJsonbP(d), REG_LATEST, false, &v,
						  trigger_call_site(fcinfo));
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
