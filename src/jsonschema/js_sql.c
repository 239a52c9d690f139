/*-------------------------------------------------------------------------
 *
 * js_sql.c
 *	  SQL glue of the JSON Schema component: the lowcode.jsonschema_*
 *	  functions, the compiled-schema caches, options, and the loader of the
 *	  document table lowcode.schema_documents.
 *
 * Caches.  Each call site keeps (in fn_extra) a pin on the compiled schema
 * it used last; when the schema argument is a constant of the query (a
 * Const, not a Param: PL/pgSQL reuses a call site while its variables
 * change), the bytes are not even compared again.  Behind it a backend-wide LRU keyed by
 * the schema's bytes (hash, then full compare) and the default draft holds
 * at most lowcode.jsonschema_cache_size compiled schemas.  An entry that
 * loaded a document from the store is stale once the store generation has
 * moved (jsonschema.h) and is recompiled.  Evicted entries still pinned by a
 * call site are freed when the last pin goes (the call site's memory
 * context reset callback).
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "jsonschema/js_internal.h"

int			jsonschema_cache_size = 128;
int			lowcode_locale = JS_LOCALE_EN;

typedef struct CacheEntry
{
	dlist_node	node;
	uint32		hash;
	JsDraft		default_draft;
	bool		ajv_compat;
	JsCompiled *compiled;
	uint64		generation;
	int			pins;
	bool		in_lru;
} CacheEntry;

typedef struct CallCache
{
	CacheEntry *entry;
	bool		const_schema;
	/*
	 * The schema argument as it came, before detoasting: while it is the
	 * same (bytes of an inline value, or the same toast pointer, which
	 * within one query names one immutable value), it is neither detoasted
	 * nor compared again.
	 */
	char	   *raw;
	Size		raw_len;
	Size		raw_cap;
} CallCache;

static MemoryContext cache_context = NULL;
static dlist_head lru = DLIST_STATIC_INIT(lru);
static int	lru_count = 0;

static void
entry_free(CacheEntry *e)
{
	MemoryContextDelete(e->compiled->mcxt);
	pfree(e);
}

static void
entry_unpin(CacheEntry *e)
{
	e->pins--;
	if (e->pins <= 0 && !e->in_lru)
		entry_free(e);
}

static void
lru_remove(CacheEntry *e)
{
	if (!e->in_lru)
		return;
	dlist_delete(&e->node);
	e->in_lru = false;
	lru_count--;
	if (e->pins <= 0)
		entry_free(e);
}

static void
lru_trim(void)
{
	while (lru_count > jsonschema_cache_size && !dlist_is_empty(&lru))
	{
		CacheEntry *e = dlist_container(CacheEntry, node, dlist_tail_node(&lru));

		lru_remove(e);
	}
}

static bool
entry_fresh(CacheEntry *e)
{
	return !e->compiled->used_loader || e->generation == js_store_generation();
}

static bool
same_schema(Jsonb *a, Jsonb *b)
{
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/* a compiled schema from the backend cache, compiling it if needed; pinned */
static CacheEntry *
cache_get(Jsonb *schema, JsDraft default_draft, bool ajv_compat)
{
	uint32		hash = hash_bytes((unsigned char *) schema, VARSIZE(schema));
	dlist_mutable_iter it;
	CacheEntry *e;
	JsCompileOptions opts;
	JsCompiled *c;

	dlist_foreach_modify(it, &lru)
	{
		e = dlist_container(CacheEntry, node, it.cur);
		if (e->hash == hash && e->default_draft == default_draft && e->ajv_compat == ajv_compat &&
			same_schema(e->compiled->schema, schema))
		{
			if (!entry_fresh(e))
			{
				lru_remove(e);
				break;
			}
			dlist_move_head(&lru, &e->node);
			e->pins++;
			return e;
		}
	}

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext,
											  "jsonschema cache",
											  ALLOCSET_DEFAULT_SIZES);
	memset(&opts, 0, sizeof(opts));
	opts.default_draft = default_draft;
	opts.ajv_compat = ajv_compat;
	opts.loader = js_store_load;
	{
		uint64		gen = js_store_generation();

		c = js_compile(schema, &opts);
		MemoryContextSetParent(c->mcxt, cache_context);
		e = MemoryContextAllocZero(cache_context, sizeof(CacheEntry));
		e->hash = hash;
		e->default_draft = default_draft;
		e->ajv_compat = ajv_compat;
		e->compiled = c;
		e->generation = gen;
	}
	e->pins = 1;
	e->in_lru = true;
	dlist_push_head(&lru, &e->node);
	lru_count++;
	lru_trim();
	return e;
}

static void
call_cache_reset(void *arg)
{
	CallCache  *cc = arg;

	if (cc->entry)
		entry_unpin(cc->entry);
	cc->entry = NULL;
}

/*
 * Is the schema argument a constant of the query?  Only a Const: a Param is
 * "stable" for one execution (get_fn_expr_arg_stable) but PL/pgSQL evaluates
 * a simple expression again and again with the same FmgrInfo while its
 * variables change, so a Param is compared by its bytes each call.
 */
static bool
schema_arg_is_const(FmgrInfo *flinfo)
{
	Node	   *expr = flinfo->fn_expr;

	if (expr && IsA(expr, FuncExpr) && list_length(((FuncExpr *) expr)->args) >= 1)
		return IsA(linitial(((FuncExpr *) expr)->args), Const);
	return false;
}

/* the compiled schema for this call, using the call-site cache */
static JsCompiled *
get_compiled(FunctionCallInfo fcinfo, Datum raw, JsDraft default_draft, bool ajv_compat)
{
	CallCache  *cc = fcinfo->flinfo->fn_extra;
	CacheEntry *e;
	Jsonb	   *schema;
	Size		raw_len = VARSIZE_ANY(DatumGetPointer(raw));

	if (cc == NULL)
	{
		MemoryContextCallback *cb;

		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallCache));
		cb = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(MemoryContextCallback));
		cb->func = call_cache_reset;
		cb->arg = cc;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, cb);
		cc->const_schema = schema_arg_is_const(fcinfo->flinfo);
		fcinfo->flinfo->fn_extra = cc;
	}
	e = cc->entry;
	if (e && e->default_draft == default_draft && e->ajv_compat == ajv_compat && entry_fresh(e) &&
		(cc->const_schema ||
		 (raw_len == cc->raw_len && memcmp(cc->raw, DatumGetPointer(raw), raw_len) == 0)))
		return e->compiled;

	schema = DatumGetJsonbP(raw);
	e = cache_get(schema, default_draft, ajv_compat);
	if (cc->entry)
		entry_unpin(cc->entry);
	cc->entry = e;
	if (raw_len > cc->raw_cap)
	{
		if (cc->raw)
			pfree(cc->raw);
		cc->raw = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, raw_len);
		cc->raw_cap = raw_len;
	}
	memcpy(cc->raw, DatumGetPointer(raw), raw_len);
	cc->raw_len = raw_len;
	return e->compiled;
}

/* ---------- options ---------- */

typedef struct SqlOptions
{
	JsValidateOptions v;
	JsOutput	output;
	JsDraft		default_draft;
	bool		ajv_compat;
} SqlOptions;

static void
options_error(const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_LJ_INVALID_OPTIONS),
			 errmsg(fmt, arg),
			 errhint("Valid options: \"output\": \"flag\" | \"basic\", \"max_errors\": N, \"format\": \"assert\" | \"annotate\", \"locale\": \"en\" | \"zh-CN\" | \"de\" | \"es\" | \"fr\" | \"ja\" | \"pt-BR\", \"draft\": \"4\" | \"6\" | \"7\" | \"2019-09\" | \"2020-12\", \"ajv_compat\": true | false.")));
}

static void
parse_options(Jsonb *options, SqlOptions *o)
{
	JsonbValue	root,
				k,
				v;
	JsIter		it;

	memset(o, 0, sizeof(*o));
	o->output = JS_OUTPUT_ERRORS;
	o->v.collect = true;
	o->v.locale = lowcode_locale;
	o->default_draft = JS_DRAFT2020;
	if (options == NULL)
		return;
	js_root_value(options, &root);
	if (root.type == jbvNull)
		return;
	if (!js_is_object(&root))
		options_error("options must be a JSON object%s", "");
	js_iter_init(&it, root.val.binary.data);
	while (js_iter_next_pair(&it, &k, &v))
	{
		char	   *key = pnstrdup(k.val.string.val, k.val.string.len);
		char	   *sval = v.type == jbvString ? pnstrdup(v.val.string.val, v.val.string.len) : NULL;

		if (strcmp(key, "output") == 0)
		{
			if (sval && strcmp(sval, "flag") == 0)
				o->output = JS_OUTPUT_FLAG;
			else if (sval && strcmp(sval, "basic") == 0)
				o->output = JS_OUTPUT_BASIC;
			else
				options_error("option \"output\" must be \"flag\" or \"basic\"%s", "");
		}
		else if (strcmp(key, "max_errors") == 0)
		{
			bool		err = false;
			int32		n = 0;

			if (v.type == jbvNumeric && js_numeric_is_integral(v.val.numeric))
				n = numeric_int4_opt_error(v.val.numeric, &err);
			if (v.type != jbvNumeric || err || n < 0 || !js_numeric_is_integral(v.val.numeric))
				options_error("option \"max_errors\" must be a non-negative integer%s", "");
			o->v.max_errors = n;
		}
		else if (strcmp(key, "format") == 0)
		{
			if (sval && strcmp(sval, "assert") == 0)
				o->v.format_assert = true;
			else if (sval && strcmp(sval, "annotate") == 0)
				o->v.format_assert = false;
			else
				options_error("option \"format\" must be \"assert\" or \"annotate\"%s", "");
		}
		else if (strcmp(key, "locale") == 0)
		{
			int			l = sval ? js_locale_from_name(sval, strlen(sval)) : -1;

			if (l >= 0)
				o->v.locale = l;
			else
				options_error("option \"locale\" must be \"en\", \"zh-CN\", \"de\", \"es\", \"fr\", \"ja\" or \"pt-BR\", not \"%s\"",
							  sval ? sval : "(not a string)");
		}
		else if (strcmp(key, "draft") == 0)
		{
			JsDraft		d = sval ? js_draft_from_name(sval) : JS_DRAFT_NONE;

			if (d == JS_DRAFT_NONE)
				options_error("option \"draft\" names no known draft: \"%s\"",
							  sval ? sval : "(not a string)");
			o->default_draft = d;
		}
		else if (strcmp(key, "ajv_compat") == 0)
		{
			if (v.type != jbvBool)
				options_error("option \"ajv_compat\" must be true or false%s", "");
			o->ajv_compat = v.val.boolean;
		}
		else
			options_error("unknown option \"%s\"", key);
	}
}

/* the outputs without errors are always the same: built once, copied */
static Jsonb *
constant_result(const char *text, Jsonb **slot)
{
	if (*slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*slot = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
		MemoryContextSwitchTo(old);
	}
	return (Jsonb *) pg_detoast_datum_copy((struct varlena *) *slot);
}

static Datum
result_datum(const JsResult *r, JsOutput output)
{
	StringInfoData buf;
	static Jsonb *valid_flag = NULL;
	static Jsonb *invalid_flag = NULL;
	static Jsonb *valid_basic = NULL;

	if (output == JS_OUTPUT_FLAG)
		return JsonbPGetDatum(r->valid ? constant_result("{\"valid\": true}", &valid_flag)
							  : constant_result("{\"valid\": false}", &invalid_flag));
	if (r->valid && output == JS_OUTPUT_ERRORS)
		return JsonbPGetDatum(constant_result("{\"valid\": true, \"keywordLocation\": \"\", \"instanceLocation\": \"\", \"errors\": []}",
											  &valid_basic));

	initStringInfo(&buf);
	js_result_append_json(&buf, r, output);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* ---------- SQL functions ---------- */

PG_FUNCTION_INFO_V1(jsonschema_is_valid);
Datum
jsonschema_is_valid(PG_FUNCTION_ARGS)
{
	Jsonb	   *instance = PG_GETARG_JSONB_P(1);
	JsCompiled *c = get_compiled(fcinfo, PG_GETARG_DATUM(0), JS_DRAFT2020, false);
	JsValidateOptions o;

	memset(&o, 0, sizeof(o));
	o.locale = lowcode_locale;
	PG_RETURN_BOOL(js_validate(c, instance, &o, NULL));
}

PG_FUNCTION_INFO_V1(jsonschema_validate);
Datum
jsonschema_validate(PG_FUNCTION_ARGS)
{
	Jsonb	   *instance;
	SqlOptions	o;
	JsCompiled *c;
	JsResult	r;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	instance = PG_GETARG_JSONB_P(1);
	parse_options(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), &o);
	if (o.output == JS_OUTPUT_FLAG)
		o.v.collect = false;
	o.v.annotate = (o.output == JS_OUTPUT_BASIC);
	c = get_compiled(fcinfo, PG_GETARG_DATUM(0), o.default_draft, o.ajv_compat);
	memset(&r, 0, sizeof(r));
	js_validate(c, instance, &o.v, &r);
	PG_RETURN_DATUM(result_datum(&r, o.output));
}

/*
 * jsonschema_check(schema): is the schema valid against its metaschema, and
 * does it compile (regexes, references)?  The compilation runs in a
 * subtransaction so that its error can be reported as data.
 */
PG_FUNCTION_INFO_V1(jsonschema_check);
Datum
jsonschema_check(PG_FUNCTION_ARGS)
{
	Jsonb	   *schema;
	SqlOptions	o;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	/* not STRICT (options may be NULL); a NULL schema answers NULL, as in jsonschema_validate */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	schema = PG_GETARG_JSONB_P(0);
	ErrorData  *edata = NULL;
	JsCompiled *compiled = NULL;
	JsResult	r;
	JsonbValue	root;
	char	   *meta_uri = NULL;
	StringInfoData buf;
	JsCompileOptions copts;
	char		error_pointer[JS_ERROR_POINTER_SIZE];

	parse_options(PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_JSONB_P(1) : NULL, &o);
	memset(&copts, 0, sizeof(copts));
	copts.default_draft = o.default_draft;
	copts.ajv_compat = o.ajv_compat;
	copts.loader = js_store_load;
	copts.error_pointer = error_pointer;
	error_pointer[0] = '\0';
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		compiled = js_compile(schema, &copts);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	/* the metaschema: $schema if it is a string, else the draft's */
	js_root_value(schema, &root);
	if (js_is_object(&root))
	{
		JsonbValue	sv;

		if (js_object_find(root.val.binary.data, "$schema", 7, &sv) && sv.type == jbvString)
			meta_uri = pnstrdup(sv.val.string.val, sv.val.string.len);
	}
	if (meta_uri == NULL)
		meta_uri = pstrdup(js_draft_metaschema_uri(compiled ? compiled->root->draft : o.default_draft));

	memset(&r, 0, sizeof(r));
	r.valid = true;
	if (edata == NULL || edata->sqlerrcode != ERRCODE_LJ_UNKNOWN_DIALECT)
	{
		StringInfoData ms;
		CacheEntry *e;

		initStringInfo(&ms);
		appendStringInfoString(&ms, "{\"$ref\": ");
		escape_json(&ms, meta_uri);
		appendStringInfoChar(&ms, '}');
		e = cache_get(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(ms.data))),
					  JS_DRAFT2020, false);
		PG_TRY();
		{
			js_validate(e->compiled, schema, &o.v, &r);
		}
		PG_FINALLY();
		{
			entry_unpin(e);
		}
		PG_END_TRY();
	}

	initStringInfo(&buf);
	if (edata)
	{
		/* append the compile error as one more output unit */
		JsResult	r2 = r;
		JsError    *ce = palloc0(sizeof(JsError));
		JsError   **errs = palloc(sizeof(JsError *) * (r.n_errors + 1));

		/* r.errors is NULL when there are none: memcpy(NULL) is undefined */
		if (r.n_errors > 0)
			memcpy(errs, r.errors, sizeof(JsError *) * r.n_errors);
		ce->keyword = "$schema";
		ce->instance_location = pstrdup(error_pointer);
		ce->keyword_location = "";
		ce->schema_path = psprintf("#%s", error_pointer);
		ce->params = psprintf("{\"sqlstate\": \"%s\"}", unpack_sql_state(edata->sqlerrcode));
		ce->message = edata->message;
		errs[r.n_errors] = ce;
		r2.errors = errs;
		r2.n_errors = r.n_errors + 1;
		r2.valid = false;
		js_result_append_json(&buf, &r2, o.output == JS_OUTPUT_FLAG ? JS_OUTPUT_FLAG : JS_OUTPUT_ERRORS);
	}
	else
		js_result_append_json(&buf, &r, o.output == JS_OUTPUT_FLAG ? JS_OUTPUT_FLAG : JS_OUTPUT_ERRORS);
	/*
	 * Broken references and cycles out of validation's reach: the schema is
	 * usable, the problems are listed ("warnings", an array of messages)
	 */
	if (compiled && compiled->warnings != NIL && o.output != JS_OUTPUT_FLAG &&
		buf.len > 0 && buf.data[buf.len - 1] == '}')
	{
		ListCell   *lc;

		buf.len--;
		appendStringInfoString(&buf, ", \"warnings\": [");
		foreach(lc, compiled->warnings)
		{
			if (lc != list_head(compiled->warnings))
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, (char *) lfirst(lc));
		}
		appendStringInfoString(&buf, "]}");
	}
	if (compiled)
		MemoryContextDelete(compiled->mcxt);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* statement trigger on store tables: tell every backend the store changed */
PG_FUNCTION_INFO_V1(jsonschema_store_changed);
Datum
jsonschema_store_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jsonschema_store_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/* SQL-callable: number of compiled schemas in this backend's cache (tests) */
PG_FUNCTION_INFO_V1(jsonschema_cache_stats);
Datum
jsonschema_cache_stats(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"entries\": %d, \"capacity\": %d, \"store_generation\": " UINT64_FORMAT "}",
					 lru_count, jsonschema_cache_size, js_store_generation());
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---------- the table loader ---------- */

static Jsonb *
schema_documents_loader(const char *uri, void *arg)
{
	return js_store_query_document("SELECT document FROM lowcode.schema_documents"
								   " WHERE uri OPERATOR(pg_catalog.=) $1", uri);
}

void
js_sql_init(void)
{
	js_store_init();
	js_store_watch_relation("lowcode", "schema_documents");
	js_store_register_loader("lowcode.schema_documents", schema_documents_loader, NULL);
}
