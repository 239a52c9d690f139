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
 * Cross-field rules ("x-rules", at any level) are an extension keyword of
 * the validator (registry_rules.c): compiled with the version, evaluated in
 * the same walk as the schema's keywords, wherever their schema applies.
 * An update of a stored submission passes the old data along: transition
 * rules (oldSelf) run, and errors at places whose value did not change are
 * dropped (ratcheting).
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lc/lc_hash.h"
#include "lc/lc_http.h"
#include "lc/lc_trusted.h"
#include "metrics/metrics.h"

#include "jsonschema/jsonschema.h"
#include "quota/quota.h"
#include "registry/registry.h"
#include "registry/registry_rules.h"
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
	JsCompiled *compiled;		/* x-rules compiled in (compiled->has_ext) */
	int8		format_mode;	/* the schema's root "x-format": 1 assert, 0 annotate, -1 unset */
} RegCacheEntry;

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
	if (reg_cache)
		return;
	reg_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "registry validation cache",
										  ALLOCSET_DEFAULT_SIZES);
	reg_cache = lc_blob_hash_create("registry validation cache", 64, sizeof(RegCacheKey),
									sizeof(RegCacheEntry), reg_cache_cxt);
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
	int32		version = 0;
	int			ret;
	LcTrusted	trusted;

	/*
	 * From now on only invalidations of lowcode.schema_versions bump the
	 * generation (registry_init.c; before, any relcache invalidation did).
	 */
	(void) registry_schema_versions_relid();
	values[0] = PointerGetDatum(subject);
	values[1] = Int32GetDatum(requested);
	if (requested == REG_LATEST)
		nulls[1] = 'n';
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT version, schema FROM lowcode.registry_validation_target($1, $2)",
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
		opts.ext_compile = registry_rules_compile;	/* x-rules, at any level */
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
		e->format_mode = -1;
		if (JB_ROOT_IS_OBJECT(schema) && !JB_ROOT_IS_SCALAR(schema))
		{
			JsonbValue *fm = getKeyJsonValueFromContainer(&schema->root, "x-format", 8, NULL);

			if (fm && fm->type == jbvString)
				e->format_mode = (fm->val.string.len == 6 &&
								  memcmp(fm->val.string.val, "assert", 6) == 0) ? 1 : 0;
		}
		e->store_gen = store_gen;
		e->registry_gen = reg_gen;
		e->valid = true;
	}
}

static bool
entry_fresh(RegCacheEntry *e)
{
	return e->valid && e->registry_gen == registry_generation &&
		(!e->compiled->used_loader || e->store_gen == js_store_generation());
}

/* ---------------------------------------------------------------------
 * The language of messages: the request's Accept-Language (the supported
 * language of highest q), else the tenant's default (lowcode.tenants
 * settings ->> 'locale', read once per transaction and command), else
 * lowcode.locale.
 * --------------------------------------------------------------------- */

static int
accept_language_locale(const char *al)
{
	int			best = -1;
	double		best_q = 0;
	const char *p = al;

	while (p && *p)
	{
		const char *start,
				   *end;
		double		q = 1.0;
		int			l;

		while (*p == ' ' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ')
			p++;
		end = p;
		while (*p && *p != ',')
		{
			if (p[0] == ';' || p[0] == ' ')
			{
				p++;
				continue;
			}
			if (p[0] == 'q' && p[1] == '=')
				q = strtod(p + 2, NULL);
			while (*p && *p != ',' && *p != ';')
				p++;
		}
		l = end > start ? js_locale_from_name(start, end - start) : -1;
		if (l >= 0 && q > best_q)
		{
			best = l;
			best_q = q;
		}
	}
	return best;
}

/* read once per transaction and command (a change made earlier in the transaction is seen) */
static LocalTransactionId tenant_locale_lxid = InvalidLocalTransactionId;
static CommandId tenant_locale_cid = InvalidCommandId;
static pg_uuid_t tenant_locale_of;
static int	tenant_locale = -1;
static SPIPlanPtr tenant_locale_plan = NULL;

static int
tenant_default_locale(pg_uuid_t *tenant)
{
	Oid			argtypes[1] = {UUIDOID};
	Datum		values[1];
	LcTrusted	trusted;

	if (tenant_locale_lxid == MyProc->lxid && tenant_locale_cid == GetCurrentCommandId(false) &&
		memcmp(&tenant_locale_of, tenant, sizeof(pg_uuid_t)) == 0)
		return tenant_locale;
	tenant_locale = -1;
	values[0] = UUIDPGetDatum(tenant);
	/* our operators, not the caller's search_path's (issue 13); a saved plan: pre_request() asks on Citus */
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (tenant_locale_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT settings ->> 'locale' FROM lowcode.tenants WHERE id = $1", 1, argtypes);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		tenant_locale_plan = p;
	}
	if (SPI_execute_plan(tenant_locale_plan, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (name)
			tenant_locale = js_locale_from_name(name, strlen(name));
	}
	SPI_finish();
	lc_trusted_end(&trusted);
	tenant_locale_lxid = MyProc->lxid;
	tenant_locale_cid = GetCurrentCommandId(false);
	tenant_locale_of = *tenant;
	return tenant_locale;
}

static int
request_locale(void)
{
	int			l;
	pg_uuid_t	tenant;

	/*
	 * On a Citus worker neither the request's headers nor the tenant's
	 * settings are known: the coordinator's choice, forwarded.
	 */
	if (registry_request_locale && registry_request_locale[0] != '\0' && tenancy_citus_internal_backend() &&
		(l = js_locale_from_name(registry_request_locale, strlen(registry_request_locale))) >= 0)
		return l;
	l = accept_language_locale(registry_accept_language());
	if (l < 0 && tenancy_current_tenant(&tenant))
		l = tenant_default_locale(&tenant);
	return l >= 0 ? l : lowcode_locale;
}

/*
 * Citus (docs/scale-out.md): called by pre_request() once it published the
 * signed context.  Validations on the workers write their messages in the
 * language the request gets on the coordinator.
 */
void
registry_publish_locale(void)
{
	static const char *const names[JS_LOCALE_COUNT] = {"en", "zh-CN", "de", "es", "fr", "ja", "pt-BR"};
	int			l = request_locale();

	if (l >= 0 && l < JS_LOCALE_COUNT)
		tenancy_set_local_forwarded("lowcode.request_locale", names[l]);
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
 * latest enabled one) as the current tenant sees it; old: the stored data
 * of the submission being updated, or NULL.  The full result is built only
 * when want_result is set, the instance is invalid or a rule warned.
 */
static void
registry_validate(text *subject, Jsonb *instance, Jsonb *old, int32 requested, bool want_result,
				  RegValidation *out, RegCallSite *cs)
{
	RegRulesRun run;
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
	o.locale = lowcode_locale;	/* messages are built by the second pass only: its locale is the request's */
	o.format_assert = e->format_mode >= 0 ? e->format_mode == 1 : registry_format_assert;

	run.old = old;
	o.ext_validate = registry_rules_validate;
	o.ext_arg = &run;

	/*
	 * Most instances are valid: a first pass that stops at the first failure
	 * and collects nothing, as jsonschema_is_valid does, answers them; the
	 * result of a valid instance is built once per backend.  Only invalid
	 * instances are validated again, collecting every error.  A version with
	 * x-rules (which may warn) and an update (ratcheting looks at every
	 * error's place) are validated collecting at once.
	 */
	if (!e->compiled->has_ext && old == NULL)
		out->valid = js_validate(e->compiled, instance, &o, NULL);
	else
		out->valid = false;
	if (out->valid)
	{
		if (want_result)
			out->result = valid_result_copy();
	}
	else
	{
		int			locale;

		memset(&r, 0, sizeof(r));
		o.collect = true;
		o.titles = true;		/* "Start date: must be string" */

		/*
		 * The request's language is looked up only when there is a message
		 * to word (issue 21: the tenant's default locale is a query, once
		 * per command, which every submission of a version with x-rules
		 * paid, valid or not).  A version with x-rules is validated here
		 * first in lowcode.locale; an instance with errors or warnings is
		 * validated again in the request's language when that differs.
		 */
		if (e->compiled->has_ext || old != NULL)
		{
			o.locale = lowcode_locale;
			out->valid = js_validate(e->compiled, instance, &o, &r);
			if ((!out->valid || r.n_warnings > 0) && (locale = request_locale()) != lowcode_locale)
			{
				memset(&r, 0, sizeof(r));
				o.locale = locale;
				out->valid = js_validate(e->compiled, instance, &o, &r);
			}
		}
		else
		{
			o.locale = request_locale();
			out->valid = js_validate(e->compiled, instance, &o, &r);
		}
		if (!out->valid && old != NULL)
		{
			/*
			 * Ratcheting: an error at a place whose value is the same as in
			 * the stored data was accepted before; it does not block the
			 * update of other fields.
			 */
			int			kept = 0;

			for (int i = 0; i < r.n_errors; i++)
				if (!registry_rules_ratchet_error(&run, instance, r.errors[i]->instance_location))
					r.errors[kept++] = r.errors[i];
			r.n_errors = kept;
			if (kept == 0)
				out->valid = r.valid = true;
		}
		if (out->valid && r.n_warnings == 0)
		{
			if (want_result)
				out->result = valid_result_copy();
		}
		else
		{
			initStringInfo(&buf);
			js_result_append_json(&buf, &r, JS_OUTPUT_ERRORS);
			out->result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
		}
	}
	if (!cacheable)
		entry_release(e);

	/* Per-tenant usage: one validation, and whether it failed (counted at commit). */
	quota_count_validation(out->valid);
	metrics_count_validation(cacheable ? e->key.subject : text_to_cstring(subject), out->valid);
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
	registry_validate(PG_GETARG_TEXT_PP(0), PG_GETARG_JSONB_P(1), NULL,
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

/*
 * The name of the trigger's table as its users know it.  On a Citus worker
 * the trigger fires on a shard, <table>_<shard id>; the error then names the
 * distributed table, as it does on one node (docs/scale-out.md).  Only on
 * the error path, and only for a name ending in _<digits> where Citus'
 * catalog exists.
 */
static const char *
trigger_relname(Relation rel)
{
	const char *name = RelationGetRelationName(rel);
	const char *us = strrchr(name, '_');
	const char *result = name;
	Oid			argtypes[2] = {INT8OID, OIDOID};
	Datum		values[2];
	LcTrusted	trusted;

	if (us == NULL || us[1] == '\0' || strspn(us + 1, "0123456789") != strlen(us + 1) ||
		strlen(us + 1) > 18 || !OidIsValid(get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE)))
		return name;
	values[0] = Int64GetDatum(strtoi64(us + 1, NULL, 10));
	values[1] = ObjectIdGetDatum(RelationGetNamespace(rel));
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT c.relname FROM pg_catalog.pg_dist_shard s "
							  "JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid "
							  "WHERE s.shardid = $1 AND c.relnamespace = $2",
							  2, argtypes, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *shell = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (shell)
			result = MemoryContextStrdup(CurTransactionContext, shell);
	}
	SPI_finish();
	lc_trusted_end(&trusted);
	return result;
}

/* the old row's jsonb column (UPDATE), or NULL */
static Jsonb *
old_column(TriggerData *td, TupleDesc desc, int attno)
{
	bool		isnull;
	Datum		d = attr(td->tg_trigtuple, desc, attno, &isnull);

	return isnull ? NULL : DatumGetJsonbP(d);
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

/*
 * The 'submissions' mode of the trigger: a new row (oldtup NULL) or an
 * updated one of lowcode.submissions (rel), checked, stamped, pinned and
 * validated; returns the row to store.  The trigger calls it, and so does
 * lowcode.submit()'s direct path (registry_record.c, issue 21), which writes
 * a submission without the executor: one copy of what a submission must
 * pass.  *site: the caller's memo of the cache entry (allocated in site_cxt
 * when NULL; site NULL: none).
 */
HeapTuple
registry_submission_row(Relation rel, HeapTuple oldtup, HeapTuple newtup, void **site, MemoryContext site_cxt)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		is_update = oldtup != NULL;
	RegValidation v;
	RegCallSite *cs = NULL;
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
	Jsonb	   *old_data = NULL;
	int32		requested;

	/*
	 * A superuser without a tenant context (pg_restore, data repair)
	 * writes rows as given: a restored submission keeps its version,
	 * stamps and trace id.
	 */
	if (!tenancy_current_tenant(&tenant) && superuser())
		return newtup;
	d = attr(newtup, desc, a_tenant, &isnull);
	if (!tenancy_current_tenant(&tenant) || isnull ||
		memcmp(DatumGetUUIDP(d), &tenant, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("new row violates row-level security policy for table \"%s\"",
						RelationGetRelationName(rel))));
	if (is_update)
	{
		HeapTuple	old = oldtup;

		if (!same_datum(old, newtup, desc, a_subject) || !same_datum(old, newtup, desc, a_by) ||
			!same_datum(old, newtup, desc, a_at) || !same_datum(old, newtup, desc, a_trace))
			ereport(ERROR,
					(errcode(ERRCODE_LG_INVALID_REGISTRY_USE),
					 errmsg("the subject, creator, creation time and trace id of a submission cannot change")));
		cols[n] = a_upd;
		vals[n] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		nulls[n++] = false;
		if (same_datum(old, newtup, desc, a_data) && same_datum(old, newtup, desc, a_version))
			return heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls);
		/* transition rules (oldSelf) and ratcheting compare with the stored data */
		{
			Datum		od = attr(old, desc, a_data, &isnull);

			old_data = isnull ? NULL : DatumGetJsonbP(od);
		}
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
	if (site != NULL)
	{
		if (*site == NULL)
			*site = MemoryContextAllocZero(site_cxt, sizeof(RegCallSite));
		cs = *site;
	}
	registry_validate(subject, data, old_data, requested, false, &v, cs);
	if (!v.valid)
		raise_invalid(psprintf("the data is not valid for subject %s version %d",
							   text_to_cstring(subject), v.version), &v);
	cols[n] = a_version;
	vals[n] = Int32GetDatum(v.version);
	nulls[n++] = false;
	return heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls);
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
		return PointerGetDatum(registry_submission_row(td->tg_relation, is_update ? td->tg_trigtuple : NULL, newtup,
													   fcinfo->flinfo ? &fcinfo->flinfo->fn_extra : NULL,
													   fcinfo->flinfo ? fcinfo->flinfo->fn_mcxt : NULL));
	else if (strcmp(tg->tgargs[0], "column") == 0 && tg->tgnargs == 3)
	{
		int			a_col = attno_of(desc, tg->tgargs[1]);
		bool		isnull;
		Datum		d = attr(newtup, desc, a_col, &isnull);

		if (isnull)
			return PointerGetDatum(newtup);
		if (is_update && same_datum(td->tg_trigtuple, newtup, desc, a_col))
			return PointerGetDatum(newtup);
		registry_validate(cstring_to_text(tg->tgargs[2]), DatumGetJsonbP(d),
						  is_update ? old_column(td, desc, a_col) : NULL, REG_LATEST, false, &v,
						  trigger_call_site(fcinfo));
		if (!v.valid)
			raise_invalid(psprintf("column %s of %s is not valid for subject %s version %d",
								   tg->tgargs[1], trigger_relname(td->tg_relation),
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
