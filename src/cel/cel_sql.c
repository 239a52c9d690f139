/*-------------------------------------------------------------------------
 *
 * cel_sql.c
 *	  SQL glue of the CEL engine: rule_eval, rule_test, rule_check, the
 *	  compiled-expression caches and the registered SQL functions.
 *
 * Compile once: each call site keeps its last compiled expression in
 * fn_extra (a rule written as a constant in a query compiles once per
 * query), and a backend-wide cache of lowcode.rules_cache_size entries,
 * keyed by the expression text and evicted least recently used, serves
 * expressions that vary by row.  Evaluation allocates in a private memory
 * context reset after each call.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "lc/lc_inval.h"
#include "lc/lc_regex.h"
#include "cel/cel.h"
#include "lc/lc_trusted.h"
#include "cel/cel_jsonb.h"
#include "lc/lc_errcodes.h"
#include "rules/rules.h"

PG_FUNCTION_INFO_V1(rule_eval);
PG_FUNCTION_INFO_V1(rule_test);
PG_FUNCTION_INFO_V1(rule_check);
PG_FUNCTION_INFO_V1(cel_conformance_eval);
PG_FUNCTION_INFO_V1(rule_functions_changed);

/* ---- backend cache of compiled expressions ---- */

typedef struct CacheEntry
{
	struct CacheEntry *next;	/* hash chain */
	struct CacheEntry *lru_prev,
			   *lru_next;
	uint32		hash;
	int			len;
	char	   *text;
	int			max_depth;		/* the setting it was parsed with */
	MemoryContext cxt;
	CelProgram *prog;
} CacheEntry;

#define CACHE_BUCKETS 1024

static CacheEntry *cache_buckets[CACHE_BUCKETS];
static CacheEntry lru_head = {0};	/* circular list; lru_head.lru_next is newest */
static int	cache_count = 0;
static MemoryContext cache_cxt = NULL;
static uint64 cache_generation = 1;	/* bumped when registered functions change */
static uint64 cache_evictions = 1;	/* bumped when any compiled program is freed */
static bool callback_registered = false;

static void
lru_unlink(CacheEntry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void
lru_push_front(CacheEntry *e)
{
	e->lru_next = lru_head.lru_next;
	e->lru_prev = &lru_head;
	lru_head.lru_next->lru_prev = e;
	lru_head.lru_next = e;
}

static void
cache_remove(CacheEntry *e)
{
	CacheEntry **pp = &cache_buckets[e->hash % CACHE_BUCKETS];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	lru_unlink(e);
	MemoryContextDelete(e->cxt);
	cache_count--;
	cache_evictions++;
}

/*
 * While a registered SQL function runs (nested_calls > 0), the evaluation
 * that called it still uses its compiled program: catalog access or a
 * nested rule_eval may deliver invalidations or fill the cache, but nothing
 * is freed then.  The reset waits (reset_pending) and eviction is skipped.
 */
static int	nested_calls = 0;
static bool reset_pending = false;

static void
cache_reset(void)
{
	if (nested_calls > 0)
	{
		reset_pending = true;
		return;
	}
	reset_pending = false;
	while (cache_count > 0)
		cache_remove(lru_head.lru_prev);
	cache_generation++;
	cache_evictions++;
}

/* CacheInvalidateRelcacheAll() from register_rule_function reaches us here */
static void
rule_functions_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
		cache_reset();
}

static uint32
hash_text(const char *s, int len)
{
	uint32		h = 2166136261u;
	int			i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/*
 * Parse an expression (with the length limit), in memory of context cxt.
 */
static CelProgram *
compile_into(const char *src, int len, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	   *copy = pnstrdup(src, len);
	CelProgram *prog = cel_parse(copy, len, rules_max_depth);

	MemoryContextSwitchTo(old);
	return prog;
}

static void
check_length(int len)
{
	if (len > rules_max_expression_length)
		ereport(ERROR,
				(errcode(ERRCODE_CEL_TOO_LONG),
				 errmsg("CEL expression is too long (%d bytes, the limit is %d)", len,
						rules_max_expression_length),
				 errhint("Raise lowcode.rules_max_expression_length or shorten the rule.")));
}

/* register_rule_function's invalidation reaches this backend through the relcache callback */
static void
ensure_inval_callback(void)
{
	if (!callback_registered)
	{
		lc_register_relcache_callback(rule_functions_inval, (Datum) 0);
		callback_registered = true;
	}
}

static CelProgram *
cache_lookup(const char *src, int len)
{
	uint32		h = hash_text(src, len);
	CacheEntry *e;
	MemoryContext cxt;

	ensure_inval_callback();
	if (reset_pending && nested_calls == 0)
		cache_reset();
	if (lru_head.lru_next == NULL)
		lru_head.lru_next = lru_head.lru_prev = &lru_head;
	for (e = cache_buckets[h % CACHE_BUCKETS]; e; e = e->next)
	{
		if (e->hash == h && e->len == len && e->max_depth == rules_max_depth &&
			memcmp(e->text, src, len) == 0)
		{
			lru_unlink(e);
			lru_push_front(e);
			return e->prog;
		}
	}
	check_length(len);
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "CEL compiled expressions",
										  ALLOCSET_DEFAULT_SIZES);
	if (reset_pending && nested_calls == 0)
		cache_reset();
	while (cache_count >= rules_cache_size && cache_count > 0 && nested_calls == 0)
		cache_remove(lru_head.lru_prev);
	cxt = AllocSetContextCreate(cache_cxt, "CEL expression", ALLOCSET_SMALL_SIZES);
	e = MemoryContextAllocZero(cxt, sizeof(CacheEntry));
	e->cxt = cxt;
	e->hash = h;
	e->len = len;
	e->max_depth = rules_max_depth;
	PG_TRY();
	{
		e->prog = compile_into(src, len, cxt);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	e->text = (char *) e->prog->source;
	e->next = cache_buckets[h % CACHE_BUCKETS];
	cache_buckets[h % CACHE_BUCKETS] = e;
	lru_push_front(e);
	cache_count++;
	return e->prog;
}

/* per-call-site state kept in fn_extra */
typedef struct CallSite
{
	char	   *text;
	int			len;
	int			max_depth;
	uint64		generation;
	CelProgram *prog;
	MemoryContext eval_cxt;
	MemoryContext prog_cxt;		/* used when the backend cache is off */
} CallSite;

static CallSite *
get_callsite(FunctionCallInfo fcinfo)
{
	CallSite   *cs = fcinfo->flinfo->fn_extra;

	if (cs == NULL)
	{
		cs = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSite));
		cs->eval_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "CEL evaluation",
											 ALLOCSET_DEFAULT_SIZES);
		cs->prog_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "CEL call site",
											 ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cs;
	}
	return cs;
}

static void raise_parse_error(CelProgram *prog);

/*
 * The compiled program for the expression argument: from the call site
 * when the text is the one it compiled last (and the backend cache evicted
 * nothing since, so the program is still alive), else from the cache.
 */
static CelProgram *
get_program(FunctionCallInfo fcinfo, CallSite *cs, text *expr)
{
	const char *src = VARDATA_ANY(expr);
	int			len = VARSIZE_ANY_EXHDR(expr);
	CelProgram *prog;

	if (cs->prog && cs->len == len && cs->max_depth == rules_max_depth &&
		cs->generation == cache_evictions && memcmp(cs->text, src, len) == 0)
		return cs->prog;
	if (rules_cache_size <= 0)
	{
		/* no backend cache: the call site owns its program */
		MemoryContextReset(cs->prog_cxt);
		cs->prog = NULL;
		check_length(len);
		prog = compile_into(src, len, cs->prog_cxt);
		if (prog->error)
			raise_parse_error(prog);
	}
	else
	{
		prog = cache_lookup(src, len);
		if (prog->error)
			raise_parse_error(prog);
	}
	cs->prog = prog;
	cs->text = (char *) prog->source;
	cs->len = len;
	cs->max_depth = rules_max_depth;
	cs->generation = cache_evictions;
	return prog;
}

static void
raise_parse_error(CelProgram *prog)
{
	int			line,
				col;
	char	   *msg = cel_format_parse_error(prog, &line, &col);
	char	   *nl = strchr(msg, '\n');

	ereport(ERROR,
			(errcode(prog->error->too_deep ? ERRCODE_CEL_TOO_DEEP : ERRCODE_CEL_PARSE),
			 errmsg("invalid CEL expression: %s", nl ? pnstrdup(msg, nl - msg) : msg),
			 nl ? errdetail("%s", nl + 1) : 0));
}

/* ---- registered SQL functions ---- */

typedef struct RegisteredFn
{
	char	   *name;
	Oid			fn;
} RegisteredFn;

static RegisteredFn *registered = NULL;
static int	nregistered = -1;
static uint64 registered_generation = 0;

static void
load_registered(void)
{
	MemoryContext old;
	LcTrusted	trusted;
	int			i;

	ensure_inval_callback();
	if (nregistered >= 0 && registered_generation == cache_generation)
		return;
	/*
	 * The list is cached for the backend (later requests of other tenants on
	 * a pooled connection use it): the caller's search_path must not choose
	 * the cast or the type (issue 13).
	 */
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT name, fn::pg_catalog.oid FROM lowcode.rule_functions", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "cannot read lowcode.rule_functions");
	old = MemoryContextSwitchTo(TopMemoryContext);
	registered = palloc(Max(SPI_processed, 1) * sizeof(RegisteredFn));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		bool		isnull;

		registered[i].name = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 1, &isnull));
		registered[i].fn = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 2, &isnull));
	}
	nregistered = (int) SPI_processed;
	MemoryContextSwitchTo(old);
	SPI_finish();
	lc_trusted_end(&trusted);
	registered_generation = cache_generation;
}

static bool
cel_to_datum(const CelValue *v, Oid type, Datum *d, bool *isnull)
{
	*isnull = false;
	if (v->kind == CEL_NULL)
	{
		*isnull = true;
		return true;
	}
	switch (type)
	{
		case INT8OID:
		case INT4OID:
		case INT2OID:
			if (v->kind != CEL_INT)
				return false;
			if (type == INT8OID)
				*d = Int64GetDatum(v->v.i);
			else if (type == INT4OID)
			{
				if (v->v.i < PG_INT32_MIN || v->v.i > PG_INT32_MAX)
					return false;
				*d = Int32GetDatum((int32) v->v.i);
			}
			else
			{
				if (v->v.i < PG_INT16_MIN || v->v.i > PG_INT16_MAX)
					return false;
				*d = Int16GetDatum((int16) v->v.i);
			}
			return true;
		case FLOAT8OID:
			if (v->kind == CEL_DOUBLE)
				*d = Float8GetDatum(v->v.d);
			else if (v->kind == CEL_INT)
				*d = Float8GetDatum((double) v->v.i);
			else
				return false;
			return true;
		case NUMERICOID:
			if (v->kind == CEL_INT)
				*d = NumericGetDatum(int64_to_numeric(v->v.i));
			else if (v->kind == CEL_DOUBLE)
				{
				/* NaN and the infinities as numeric has them; finite values keep their shortest digits */
				if (isnan(v->v.d) || isinf(v->v.d))
					*d = DirectFunctionCall1(float8_numeric, Float8GetDatum(v->v.d));
				else
					*d = NumericGetDatum(cel_double_to_numeric(v->v.d));
			}
			else
				return false;
			return true;
		case TEXTOID:
		case VARCHAROID:
			/* text never holds U+0000: such a string is an argument the function cannot take */
			if (v->kind != CEL_STRING || memchr(v->v.s.data, '\0', v->v.s.len) != NULL)
				return false;
			*d = PointerGetDatum(cstring_to_text_with_len(v->v.s.data, v->v.s.len));
			return true;
		case BOOLOID:
			if (v->kind != CEL_BOOL)
				return false;
			*d = BoolGetDatum(v->v.b);
			return true;
		case BYTEAOID:
			if (v->kind != CEL_BYTES)
				return false;
			{
				bytea	   *b = palloc(VARHDRSZ + v->v.s.len);

				SET_VARSIZE(b, VARHDRSZ + v->v.s.len);
				memcpy(VARDATA(b), v->v.s.data, v->v.s.len);
				*d = PointerGetDatum(b);
			}
			return true;
		case TIMESTAMPTZOID:
			if (v->kind != CEL_TIMESTAMP)
				return false;
			*d = TimestampTzGetDatum((v->v.t.sec - ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) *
									 USECS_PER_SEC + v->v.t.nanos / 1000);
			return true;
		case JSONBOID:
			*d = JsonbPGetDatum(cel_to_jsonb(v));
			return true;
		default:
			return false;
	}
}

static void
datum_to_cel(Datum d, bool isnull, Oid type, CelValue *out)
{
	if (isnull)
	{
		out->kind = CEL_NULL;
		return;
	}
	switch (type)
	{
		case INT8OID:
			out->kind = CEL_INT;
			out->v.i = DatumGetInt64(d);
			return;
		case INT4OID:
			out->kind = CEL_INT;
			out->v.i = DatumGetInt32(d);
			return;
		case INT2OID:
			out->kind = CEL_INT;
			out->v.i = DatumGetInt16(d);
			return;
		case FLOAT8OID:
			out->kind = CEL_DOUBLE;
			out->v.d = DatumGetFloat8(d);
			return;
		case FLOAT4OID:
			out->kind = CEL_DOUBLE;
			out->v.d = DatumGetFloat4(d);
			return;
		case NUMERICOID:
			{
				JsonbValue	jv;

				jv.type = jbvNumeric;
				jv.val.numeric = DatumGetNumeric(d);
				cel_from_jsonb_value(&jv, out);
				return;
			}
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *t = DatumGetTextPP(d);

				cel_make_string(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				return;
			}
		case BOOLOID:
			out->kind = CEL_BOOL;
			out->v.b = DatumGetBool(d);
			return;
		case BYTEAOID:
			{
				bytea	   *b = DatumGetByteaPP(d);

				cel_make_bytes(out, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
				return;
			}
		case TIMESTAMPTZOID:
			{
				TimestampTz ts = DatumGetTimestampTz(d);
				int64		usec = ts + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
				int64		sec = usec / USECS_PER_SEC,
							rem = usec % USECS_PER_SEC;

				if (rem < 0)
				{
					rem += USECS_PER_SEC;
					sec--;
				}
				out->kind = CEL_TIMESTAMP;
				out->v.t.sec = sec;
				out->v.t.nanos = (int32) (rem * 1000);
				return;
			}
		case JSONBOID:
			{
				Jsonb	   *jb = DatumGetJsonbP(d);
				JsonbValue	jv;

				jv.type = jbvBinary;
				jv.val.binary.data = &jb->root;
				jv.val.binary.len = VARSIZE(jb) - VARHDRSZ;
				cel_from_jsonb_value(&jv, out);
				return;
			}
		default:
			cel_make_error(out, CEL_ERR_FUNCTION_FAILED, "unsupported result type %s",
						   format_type_be(type));
	}
}

static AclResult
object_aclcheck_compat(Oid fn)
{
	return pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE);
}

static bool call_registered_guarded(const char *name, int nargs, CelValue *args, CelValue *out);
static bool is_registered(void *ctx, const char *name);
extern void cel_collect_variables(CelProgram *prog);

static bool
call_registered(void *ctx, const char *name, int nargs, CelValue *args, CelValue *out)
{
	bool		found;

	nested_calls++;
	PG_TRY();
	{
		found = call_registered_guarded(name, nargs, args, out);
	}
	PG_FINALLY();
	{
		nested_calls--;
	}
	PG_END_TRY();
	return found;
}

static bool
call_registered_guarded(const char *name, int nargs, CelValue *args, CelValue *out)
{
	int			i;

	load_registered();
	for (i = 0; i < nregistered; i++)
	{
		HeapTuple	tup;
		Form_pg_proc proc;
		LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
		FmgrInfo	flinfo;
		Datum		result;
		int			k;

		if (strcmp(registered[i].name, name) != 0)
			continue;
		tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(registered[i].fn));
		if (!HeapTupleIsValid(tup))
			continue;
		proc = (Form_pg_proc) GETSTRUCT(tup);
		if (proc->pronargs != nargs)
		{
			ReleaseSysCache(tup);
			continue;
		}
		/* the caller needs EXECUTE, as if it called the function itself */
		if (object_aclcheck_compat(registered[i].fn) != ACLCHECK_OK)
		{
			ReleaseSysCache(tup);
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for function %s, called from CEL as %s()",
							format_procedure(registered[i].fn), name)));
		}
		fmgr_info(registered[i].fn, &flinfo);
		InitFunctionCallInfoData(*fcinfo, &flinfo, nargs, InvalidOid, NULL, NULL);
		for (k = 0; k < nargs; k++)
		{
			bool		isnull;

			if (!cel_to_datum(&args[k], proc->proargtypes.values[k], &fcinfo->args[k].value, &isnull))
			{
				Oid			t = proc->proargtypes.values[k];

				ReleaseSysCache(tup);
				cel_make_error(out, CEL_ERR_NO_OVERLOAD,
							   "found no matching overload for '%s': argument %d is %s, the SQL function takes %s",
							   name, k + 1, cel_type_name(&args[k]), format_type_be(t));
				return true;
			}
			fcinfo->args[k].isnull = isnull;
			if (isnull && flinfo.fn_strict)
			{
				ReleaseSysCache(tup);
				out->kind = CEL_NULL;
				return true;
			}
		}
		{
			Oid			rettype = proc->prorettype;

			ReleaseSysCache(tup);
			result = FunctionCallInvoke(fcinfo);
			datum_to_cel(result, fcinfo->isnull, rettype, out);
		}
		return true;
	}
	return false;
}

/* ---- evaluation for other components (the registry's x-rules) ---- */

/*
 * Parse an expression with the limits of the SQL functions (length,
 * nesting), in the current memory context; syntax errors are left in
 * prog->error for the caller to report.  The variables it reads are
 * collected (prog->vars).
 */
CelProgram *
cel_sql_parse(const char *src, int len)
{
	CelProgram *prog;

	check_length(len);
	prog = cel_parse(pnstrdup(src, len), len, rules_max_depth);
	if (!prog->error)
		cel_collect_variables(prog);
	return prog;
}

/* calls of functions that are not built in (registered SQL functions, or unknown ones) */
int
cel_sql_unknown_calls(CelProgram *prog, bool registered_known, CelParseError **problems)
{
	return cel_check_calls(prog, registered_known ? is_registered : NULL, NULL, problems);
}

/*
 * Evaluate a parsed program as rule_eval does (registered SQL functions
 * callable, the cost limit lowcode.rules_max_cost), the variables given by
 * resolve.  CEL errors come back as error values; the cost limit and errors
 * of SQL functions are raised.
 */
void
cel_sql_eval(const CelProgram *prog, CelResolver resolve, void *ctx, CelValue *out)
{
	CelEnv		env;

	cel_env_init(&env, resolve, ctx, rules_max_cost);
	env.call_hook = call_registered;
	cel_eval(&env, prog->root, out);
}

ErrorData *
cel_sql_eval_isolated(const CelProgram *prog, CelResolver resolve, void *ctx, CelValue *out)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		cel_sql_eval(prog, resolve, ctx, out);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return edata;
}

/* ---- evaluation ---- */

static void
evaluate(FunctionCallInfo fcinfo, CelValue *result, text **expr_out, CallSite **cs_out)
{
	text	   *expr = PG_GETARG_TEXT_PP(0);
	Jsonb	   *data = PG_GETARG_JSONB_P(1);	/* STRICT */
	CallSite   *cs = get_callsite(fcinfo);
	CelProgram *prog = get_program(fcinfo, cs, expr);
	CelEnv		env;
	JsonbContainer *root = NULL;

	if (data)
	{
		if (!JB_ROOT_IS_OBJECT(data) || JB_ROOT_IS_SCALAR(data))
			ereport(ERROR,
					(errcode(ERRCODE_CEL_DATA),
					 errmsg("CEL data must be a JSON object"),
					 errdetail("The top-level keys of the object are the variables of the expression.")));
		root = &data->root;
	}
	cel_env_init(&env, cel_jsonb_resolver, root, rules_max_cost);
	env.resolve_path = cel_jsonb_path_resolver;
	env.call_hook = call_registered;
	/*
	 * Values of one evaluation are small and die with it; resetting the
	 * context only once it has grown saves a reset per row.
	 */
	if (MemoryContextMemAllocated(cs->eval_cxt, false) > 256 * 1024)
		MemoryContextReset(cs->eval_cxt);
	{
		MemoryContext old = MemoryContextSwitchTo(cs->eval_cxt);

		cel_eval(&env, prog->root, result);
		MemoryContextSwitchTo(old);
	}
	*expr_out = expr;
	*cs_out = cs;
}

Datum
rule_eval(PG_FUNCTION_ARGS)
{
	CelValue	result;
	text	   *expr;
	CallSite   *cs;
	Jsonb	   *out;

	evaluate(fcinfo, &result, &expr, &cs);
	if (result.kind == CEL_ERROR)
		cel_raise_error(&result, text_to_cstring(expr));
	out = cel_to_jsonb(&result);
	PG_RETURN_JSONB_P(out);
}

Datum
rule_test(PG_FUNCTION_ARGS)
{
	CelValue	result;
	text	   *expr;
	CallSite   *cs;

	evaluate(fcinfo, &result, &expr, &cs);
	if (result.kind == CEL_BOOL)
		PG_RETURN_BOOL(result.v.b);
	if (result.kind == CEL_ERROR)
		cel_raise_error(&result, text_to_cstring(expr));
	ereport(ERROR,
			(errcode(ERRCODE_CEL_NOT_BOOL),
			 errmsg("CEL rule returned %s, not bool", cel_type_name(&result)),
			 errdetail("Expression: %s", text_to_cstring(expr)),
			 errhint("rule_test needs a boolean expression; use rule_eval for other results.")));
	PG_RETURN_NULL();
}

/* ---- rule_check ---- */


static void
push_key(JsonbParseState **st, const char *k)
{
	JsonbValue	jv;

	jv.type = jbvString;
	jv.val.string.val = (char *) k;
	jv.val.string.len = strlen(k);
	pushJsonbValue(st, WJB_KEY, &jv);
}

static void
push_int(JsonbParseState **st, int v)
{
	JsonbValue	jv;

	jv.type = jbvNumeric;
	jv.val.numeric = int64_to_numeric(v);
	pushJsonbValue(st, WJB_VALUE, &jv);
}

static bool
is_registered(void *ctx, const char *name)
{
	load_registered();
	for (int i = 0; i < nregistered; i++)
		if (strcmp(registered[i].name, name) == 0)
			return true;
	return false;
}

/* 1-based line and column (in characters) of byte offset pos */
static void
line_column(const char *s, int len, int pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (int i = 0; i < pos && i < len; i++)
	{
		if (s[i] == '\n')
		{
			(*line)++;
			*col = 1;
		}
		else if (((unsigned char) s[i] & 0xC0) != 0x80)
			(*col)++;
	}
}

static void
push_error(JsonbParseState **st, const char *message, int pos, int line, int col)
{
	JsonbValue	jv;

	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	push_key(st, "message");
	jv.type = jbvString;
	jv.val.string.val = (char *) message;
	jv.val.string.len = strlen(message);
	pushJsonbValue(st, WJB_VALUE, &jv);
	push_key(st, "position");
	push_int(st, pos);
	push_key(st, "line");
	push_int(st, line);
	push_key(st, "column");
	push_int(st, col);
	pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

Datum
rule_check(PG_FUNCTION_ARGS)
{
	text	   *expr = PG_GETARG_TEXT_PP(0);
	const char *src = VARDATA_ANY(expr);
	int			len = VARSIZE_ANY_EXHDR(expr);
	CelProgram *prog;
	JsonbParseState *st = NULL;
	JsonbValue	jv;
	JsonbValue *res;
	CelParseError *problems = NULL;
	int			nproblems = 0;

	if (len > rules_max_expression_length)
	{
		prog = palloc0(sizeof(CelProgram));
		prog->source = src;
		prog->source_len = len;
		prog->error = palloc0(sizeof(CelParseError));
		prog->error->pos = rules_max_expression_length;
		prog->error->message = psprintf("expression is too long (%d bytes, the limit is %d)",
										len, rules_max_expression_length);
	}
	else
		prog = cel_parse(pnstrdup(src, len), len, rules_max_depth);
	if (!prog->error)
	{
		cel_collect_variables(prog);
		nproblems = cel_check_calls(prog, is_registered, NULL, &problems);
	}

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_key(&st, "valid");
	jv.type = jbvBool;
	jv.val.boolean = (prog->error == NULL && nproblems == 0);
	pushJsonbValue(&st, WJB_VALUE, &jv);
	push_key(&st, "errors");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	if (prog->error)
	{
		int			line,
					col;
		char	   *full = cel_format_parse_error(prog, &line, &col);

		push_error(&st, full, prog->error->pos, line, col);
	}
	for (int k = 0; k < nproblems; k++)
	{
		CelParseError *p = &problems[k];
		int			line,
					col;

		line_column(src, len, p->pos, &line, &col);
		push_error(&st, p->message, p->pos, line, col);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	push_key(&st, "variables");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; !prog->error && i < prog->nvars; i++)
	{
		jv.type = jbvString;
		jv.val.string.val = (char *) prog->vars[i];
		jv.val.string.len = strlen(prog->vars[i]);
		pushJsonbValue(&st, WJB_ELEM, &jv);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* ---- conformance: evaluate with bindings in cel.expr.Value JSON ---- */

typedef struct ProtoBindings
{
	JsonbContainer *jc;
} ProtoBindings;

static bool
proto_resolver(void *ctx, const char *name, int len, CelValue *out)
{
	ProtoBindings *pb = ctx;
	JsonbValue	res;
	JsonbValue *val;
	char	   *why;

	if (pb->jc == NULL)
		return false;
	if (getKeyJsonValueFromContainer(pb->jc, name, len, &res) == NULL || res.type != jbvBinary)
		return false;
	val = getKeyJsonValueFromContainer(res.val.binary.data, "value", 5, NULL);
	if (val == NULL)
		return false;
	if (!cel_from_proto_json(val, out, &why))
		cel_make_error(out, CEL_ERR_GENERIC, "binding not supported: %s", why);
	return true;
}

/*
 * lowcode.cel_conformance_eval(expr, bindings): for the conformance runner.
 * Returns {"value": <cel.expr.Value JSON>} or {"error": msg, "sqlstate": s}
 * without raising, so that one query evaluates a whole test file.
 */
Datum
cel_conformance_eval(PG_FUNCTION_ARGS)
{
	bytea	   *expr;
	Jsonb	   *bindings = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	CelProgram *prog;
	ProtoBindings pb;
	CelEnv		env;
	CelValue	result;
	JsonbParseState *st = NULL;
	JsonbValue	jv;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	expr = PG_GETARG_BYTEA_PP(0);
	pb.jc = bindings ? &bindings->root : NULL;
	prog = cel_parse(memcpy(palloc(VARSIZE_ANY_EXHDR(expr) + 1), VARDATA_ANY(expr), VARSIZE_ANY_EXHDR(expr)), VARSIZE_ANY_EXHDR(expr),
					 rules_max_depth);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (prog->error)
	{
		push_key(&st, "parse_error");
		jv.type = jbvString;
		jv.val.string.val = cel_format_parse_error(prog, NULL, NULL);
		jv.val.string.len = strlen(jv.val.string.val);
		pushJsonbValue(&st, WJB_VALUE, &jv);
	}
	else
	{
		cel_env_init(&env, proto_resolver, &pb, rules_max_cost);
		if (!PG_ARGISNULL(2) && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(2)) > 0)
			env.container = text_to_cstring(PG_GETARG_TEXT_PP(2));
		cel_eval(&env, prog->root, &result);
		if (result.kind == CEL_ERROR)
		{
			char		sqlstate[6];

			push_key(&st, "error");
			jv.type = jbvString;
			jv.val.string.val = result.v.err->message;
			jv.val.string.len = strlen(result.v.err->message);
			pushJsonbValue(&st, WJB_VALUE, &jv);
			push_key(&st, "sqlstate");
			memcpy(sqlstate, unpack_sql_state(cel_error_sqlstate(result.v.err->code)), 6);
			jv.val.string.val = pstrdup(sqlstate);
			jv.val.string.len = 5;
			pushJsonbValue(&st, WJB_VALUE, &jv);
		}
		else
		{
			Jsonb	   *pj = cel_to_proto_json(&result);

			push_key(&st, "value");
			jv.type = jbvBinary;
			jv.val.binary.data = &pj->root;
			jv.val.binary.len = VARSIZE(pj) - VARHDRSZ;
			pushJsonbValue(&st, WJB_VALUE, &jv);
		}
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
}

/* called by register_rule_function: drop every cache in this backend */
Datum
rule_functions_changed(PG_FUNCTION_ARGS)
{
	cache_reset();
	CacheInvalidateRelcacheAll();
	PG_RETURN_VOID();
}
