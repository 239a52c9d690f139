/*-------------------------------------------------------------------------
 *
 * jsonlogic_sql.c
 *	  SQL glue of the JsonLogic engine: lowcode.jsonlogic_apply(rule, data),
 *	  the jsonb <-> engine value conversion and the compiled-rule caches.
 *
 * The data document is never converted as a whole: the engine reads it
 * lazily through the JlHost callbacks below, which look keys and elements up
 * in the jsonb binary and convert only the scalars a rule touches.  A jsonb
 * container is identified by its address inside the document, which stays
 * put for the whole call, so === on arrays and objects taken from the data
 * behaves like JavaScript's reference equality.
 *
 * Compiled rules are cached twice:
 *	- per call site (fn_extra) when the rule argument is a constant or an
 *	  external parameter: a literal rule is compiled on the first call and
 *	  used as is afterwards, a parameter is compared by bytes on each call
 *	  (PL/pgSQL reuses a call site with changing values);
 *	- otherwise in a backend-wide LRU cache of at most lowcode.rules_cache_size
 *	  rules, keyed by the rule's jsonb bytes.
 *
 * src/jsonlogic/ is the JsonLogic component: the pure engine core and its SQL
 * glue (jsonlogic_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "jsonlogic/jsonlogic.h"
#include "rules/rules.h"

PG_FUNCTION_INFO_V1(jsonlogic_apply);

/* ------------------------------------------------------ jsonb -> values */

/*
 * Exact conversion of the common numerics without going through text.
 *
 * This reads numeric's on-disk format (numeric.c; it cannot change, since
 * pg_upgrade keeps stored values): after the varlena header a uint16 header
 * says either "short" (bit 15 set, bit 14 clear: sign in 0x2000, a 7-bit
 * signed weight in 0x007F) or "long" (bits 15-14 are the sign, 00 positive or
 * 01 negative, and an int16 weight follows) or "special" (NaN, infinities:
 * both bits set); then come base-10000 int16 digits, the first one worth
 * 10000^weight.  When the digits make an integer m < 2^53 and the remaining
 * power of ten is at most 10^22, m * 10^e (or m / 10^-e) is a single
 * correctly rounded operation on exact doubles (Clinger's fast path), so the
 * result equals strtod's.  Anything else takes the text route.
 */
static bool
numeric_to_double_fast(Numeric num, double *result)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	const char *data = VARDATA_ANY(num);
	Size		len = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight;
	bool		neg;
	const char *digits;
	int			ndigits;
	uint64		m = 0;
	int			e;
	double		v;

	if (len < sizeof(uint16))
		return false;
	memcpy(&header, data, sizeof(uint16));
	if ((header & 0xC000) == 0x8000)
	{
		neg = (header & 0x2000) != 0;
		weight = header & 0x003F;
		if (header & 0x0040)
			weight |= ~0x003F;
		digits = data + sizeof(uint16);
		ndigits = (int) ((len - sizeof(uint16)) / sizeof(int16));
	}
	else if ((header & 0xC000) == 0xC000)
		return false;
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			return false;
		neg = (header & 0xC000) == 0x4000;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = data + 2 * sizeof(uint16);
		ndigits = (int) ((len - 2 * sizeof(uint16)) / sizeof(int16));
	}
	if (ndigits == 0)
	{
		*result = 0;
		return true;
	}
	if (ndigits > 4)
		return false;
	for (int i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
		if (d < 0 || d >= 10000)
			return false;
		m = m * 10000 + d;
	}
	if (m >= (UINT64CONST(1) << 53))
		return false;
	e = 4 * (weight - (ndigits - 1));
	if (e < -22 || e > 22)
		return false;
	v = (double) m;
	if (e > 0)
		v *= pow10[e];
	else if (e < 0)
		v /= pow10[-e];
	*result = neg ? -v : v;
	return true;
}

/* A jsonb number as a JavaScript number (JSON.parse gives the same). */
static double
numeric_to_double(Numeric num)
{
	char	   *s;
	double		d;

	if (numeric_to_double_fast(num, &d))
		return d;
	if (numeric_is_nan(num))
		return NAN;
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	d = strtod(s, NULL);		/* overflow gives +-Infinity, like JSON.parse */
	pfree(s);
	return d;
}

static void
jsonb_scalar_to_value(const JsonbValue *jv, JlValue *out)
{
	switch (jv->type)
	{
		case jbvNull:
			*out = jl_null();
			break;
		case jbvBool:
			*out = jl_bool(jv->val.boolean);
			break;
		case jbvString:
			*out = jl_string(jv->val.string.val, jv->val.string.len);
			break;
		case jbvNumeric:
			*out = jl_number(numeric_to_double(jv->val.numeric));
			break;
		case jbvBinary:
			*out = jl_undefined();
			out->type = JsonContainerIsArray(jv->val.binary.data) ? JL_ARRAY : JL_OBJECT;
			out->ext = true;
			out->u.h = jv->val.binary.data;
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) jv->type);
	}
}

static int32
host_array_len(const void *h)
{
	return (int32) JsonContainerSize((const JsonbContainer *) h);
}

static void
host_array_get(const void *h, int32 i, JlValue *out)
{
	JsonbValue *jv = getIthJsonbValueFromContainer((JsonbContainer *) h, (uint32) i);

	if (jv == NULL)
		*out = jl_undefined();
	else
		jsonb_scalar_to_value(jv, out);
}

static bool
host_object_get(const void *h, const char *key, int32 keylen, JlValue *out)
{
	JsonbValue	jv;

	if (!getKeyJsonValueFromContainer((JsonbContainer *) h, key, keylen, &jv))
		return false;
	jsonb_scalar_to_value(&jv, out);
	return true;
}

static void
host_to_json(const void *h, StringInfo out)
{
	(void) JsonbToCString(out, (JsonbContainer *) h, 64);
}

static JlHost jsonb_host = {
	true, host_array_len, host_array_get, host_object_get, host_to_json
};

/* The document's root as an engine value (scalars are unwrapped). */
static JlValue
jsonb_root_value(Jsonb *jb)
{
	JlValue		v;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue	jv;

		if (!JsonbExtractScalar(&jb->root, &jv))
			elog(ERROR, "could not extract jsonb scalar");
		jsonb_scalar_to_value(&jv, &v);
		return v;
	}
	v = jl_undefined();
	v.type = JB_ROOT_IS_ARRAY(jb) ? JL_ARRAY : JL_OBJECT;
	v.ext = true;
	v.u.h = &jb->root;
	return v;
}

/* a scalar of a rule, strings copied (the rule outlives its jsonb) */
static JlValue
rule_scalar(const JsonbValue *jv)
{
	JlValue		v;

	if (jv->type == jbvString)
	{
		char	   *copy = palloc(jv->val.string.len + 1);

		memcpy(copy, jv->val.string.val, jv->val.string.len);
		copy[jv->val.string.len] = '\0';
		return jl_string(copy, jv->val.string.len);
	}
	jsonb_scalar_to_value(jv, &v);
	return v;
}

/*
 * A rule document as an engine value tree owned by the engine (it outlives
 * the jsonb when cached).  Iterative, so any nesting converts; the compiler
 * enforces lowcode.rules_max_depth afterwards, with the path in its message.
 */
static JlValue
jsonb_to_rule_value(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbIteratorToken tok;
	JsonbValue	jv;
	JlBuilder	b;
	bool		raw_scalar = false;
	JlValue		result = jl_undefined();

	jl_build_init(&b);
	while ((tok = JsonbIteratorNext(&it, &jv, false)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				if (tok == WJB_BEGIN_ARRAY && jv.val.array.rawScalar)
				{
					raw_scalar = true;
					break;
				}
				jl_build_begin(&b, tok == WJB_BEGIN_ARRAY);
				break;
			case WJB_KEY:
				jl_build_key(&b, rule_scalar(&jv).u.s, jv.val.string.len);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (raw_scalar && b.depth == 0)
					result = rule_scalar(&jv);
				else
					(void) jl_build_value(&b, rule_scalar(&jv));
				break;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				if (raw_scalar && b.depth == 0)
					break;
				if (jl_build_end(&b))
					result = b.result;
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
		}
	}
	return result;
}

/* ------------------------------------------------------ values -> jsonb */

static JsonbValue *push_value(JsonbParseState **state, JlValue v, JsonbIteratorToken seq);

static void
number_to_jsonb(double n, JsonbValue *jv)
{
	jv->type = jbvNumeric;
	/* below 2^53 an integral double's exact digits are its shortest ones */
	if (n == floor(n) && fabs(n) < 9007199254740992.0)
		jv->val.numeric = int64_to_numeric((int64) n);
	else
	{
		char		buf[40];

		jl_format_number(n, buf);
		jv->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															  CStringGetDatum(buf),
															  ObjectIdGetDatum(InvalidOid),
															  Int32GetDatum(-1)));
	}
}

/* JSON.stringify's mapping: undefined, NaN and Infinity become null. */
static void
scalar_to_jsonb(JlValue v, JsonbValue *jv)
{
	switch ((JlType) v.type)
	{
		case JL_UNDEFINED:
		case JL_NULL:
			jv->type = jbvNull;
			break;
		case JL_BOOL:
			jv->type = jbvBool;
			jv->val.boolean = v.u.b;
			break;
		case JL_NUMBER:
			if (isnan(v.u.n) || isinf(v.u.n))
				jv->type = jbvNull;
			else
				number_to_jsonb(v.u.n, jv);
			break;
		case JL_STRING:
			jv->type = jbvString;
			jv->val.string.val = (char *) v.u.s;
			jv->val.string.len = v.len;
			break;
		default:
			elog(ERROR, "not a JsonLogic scalar");
	}
}

/* Copy a host container token by token (the top-level case). */
static JsonbValue *
push_container(JsonbParseState **state, const void *h)
{
	JsonbIterator *it = JsonbIteratorInit((JsonbContainer *) h);
	JsonbIteratorToken tok;
	JsonbValue	jv;
	JsonbValue *res = NULL;

	while ((tok = JsonbIteratorNext(&it, &jv, false)) != WJB_DONE)
		res = pushJsonbValue(state, tok,
							  (tok == WJB_END_ARRAY || tok == WJB_END_OBJECT ||
							   tok == WJB_BEGIN_ARRAY || tok == WJB_BEGIN_OBJECT) ? NULL : &jv);
	return res;
}

static JsonbValue *
push_value(JsonbParseState **state, JlValue v, JsonbIteratorToken seq)
{
	JsonbValue	jv;
	JsonbValue *res;

	check_stack_depth();
	if (v.type == JL_ARRAY || v.type == JL_OBJECT)
	{
		if (v.ext)
		{
			if (seq == WJB_DONE)
				return push_container(state, v.u.h);
			/* pushJsonbValue unpacks a binary element or value */
			jv.type = jbvBinary;
			jv.val.binary.data = (JsonbContainer *) v.u.h;
			jv.val.binary.len = 0;
			return pushJsonbValue(state, seq, &jv);
		}
		else if (v.type == JL_ARRAY)
		{
			(void) pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
			for (int32 i = 0; i < v.u.a->len; i++)
			{
				CHECK_FOR_INTERRUPTS();
				push_value(state, v.u.a->items[i], WJB_ELEM);
			}
			res = pushJsonbValue(state, WJB_END_ARRAY, NULL);
		}
		else
		{
			(void) pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
			for (int32 i = 0; i < v.u.o->len; i++)
			{
				JlObjectEntry *e = &v.u.o->entries[i];

				if (e->val.type == JL_UNDEFINED)
					continue;	/* JSON.stringify drops undefined members */
				jv.type = jbvString;
				jv.val.string.val = (char *) e->key;
				jv.val.string.len = e->keylen;
				(void) pushJsonbValue(state, WJB_KEY, &jv);
				push_value(state, e->val, WJB_VALUE);
			}
			res = pushJsonbValue(state, WJB_END_OBJECT, NULL);
		}
		return res;
	}
	scalar_to_jsonb(v, &jv);
	return pushJsonbValue(state, seq, &jv);
}

/*
 * true, false and null are the usual results of a rule: they are built once
 * per backend and copied out, skipping the jsonb construction machinery.
 */
static Jsonb *
copy_of_constant(int which)
{
	static Jsonb *constants[3];
	Jsonb	   *out;

	if (constants[which] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		JsonbValue	jv;

		if (which == 2)
			jv.type = jbvNull;
		else
		{
			jv.type = jbvBool;
			jv.val.boolean = (which == 1);
		}
		constants[which] = JsonbValueToJsonb(&jv);
		MemoryContextSwitchTo(old);
	}
	out = palloc(VARSIZE(constants[which]));
	memcpy(out, constants[which], VARSIZE(constants[which]));
	return out;
}

static Jsonb *
value_to_jsonb(JlValue v, Jsonb *data)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	if (v.type == JL_BOOL)
		return copy_of_constant(v.u.b ? 1 : 0);
	if (v.type == JL_NULL || v.type == JL_UNDEFINED)
		return copy_of_constant(2);
	if (v.type != JL_ARRAY && v.type != JL_OBJECT)
	{
		JsonbValue	jv;

		scalar_to_jsonb(v, &jv);
		return JsonbValueToJsonb(&jv);
	}
	/* the whole data document: hand it back as is */
	if (v.ext && data != NULL && v.u.h == (const void *) &data->root)
		return data;
	/* pushJsonbValue returns the finished value at the outermost END token */
	res = push_value(&state, v, WJB_DONE);
	return JsonbValueToJsonb(res);
}

/* ------------------------------------------------------------ caching */

typedef struct CompiledRule
{
	dlist_node	lru;			/* backend cache: position in LRU list */
	struct CompiledRule *next;	/* backend cache: next with the same hash */
	uint32		hash;
	Size		len;
	char	   *bytes;			/* the rule's jsonb bytes, the cache key */
	bool		is_const;		/* call-site cache: the argument is a Const */
	int			max_depth;		/* lowcode.rules_max_depth it was compiled under */
	JlRule	   *rule;
	MemoryContext cxt;			/* holds all of the above */
} CompiledRule;

typedef struct CacheBucket
{
	uint32		hash;			/* hash key */
	CompiledRule *first;
} CacheBucket;

static MemoryContext cache_cxt = NULL;
static HTAB *cache_htab = NULL;
static dlist_head cache_lru = DLIST_STATIC_INIT(cache_lru);
static int	cache_count = 0;

/* Compile a rule into a new memory context under CurrentMemoryContext. */
static CompiledRule *
compile_rule(Jsonb *rule, const char *bytes, Size len, uint32 hash)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "JsonLogic rule",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CompiledRule *cr = palloc0(sizeof(CompiledRule));
	JlValue	   *tree = palloc(sizeof(JlValue));

	cr->cxt = cxt;
	cr->max_depth = rules_max_depth;
	cr->hash = hash;
	cr->len = len;
	cr->bytes = palloc(len);
	memcpy(cr->bytes, bytes, len);
	*tree = jsonb_to_rule_value(rule);
	cr->rule = jl_compile(tree, rules_max_depth);
	MemoryContextSwitchTo(old);
	return cr;
}

static void
cache_remove(CompiledRule *cr)
{
	bool		found;
	CacheBucket *b = hash_search(cache_htab, &cr->hash, HASH_FIND, &found);
	CompiledRule **pp;

	Assert(found);
	for (pp = &b->first; *pp != cr; pp = &(*pp)->next)
		;
	*pp = cr->next;
	if (b->first == NULL)
		hash_search(cache_htab, &cr->hash, HASH_REMOVE, NULL);
	dlist_delete(&cr->lru);
	cache_count--;
	MemoryContextDelete(cr->cxt);
}

static JlRule *
cache_lookup_or_compile(Jsonb *rule, const char *bytes, Size len)
{
	uint32		hash = hash_bytes((const unsigned char *) bytes, (int) len);
	CacheBucket *b;
	bool		found;
	CompiledRule *cr;

	if (rules_cache_size <= 0)
		return compile_rule(rule, bytes, len, hash)->rule;

	if (cache_htab == NULL)
	{
		HASHCTL		ctl;

		cache_cxt = AllocSetContextCreate(TopMemoryContext,
										  "JsonLogic rule cache",
										  ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(CacheBucket);
		ctl.hcxt = cache_cxt;
		cache_htab = hash_create("JsonLogic rule cache", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	b = hash_search(cache_htab, &hash, HASH_FIND, &found);
	if (found)
	{
		for (cr = b->first; cr; cr = cr->next)
		{
			if (cr->len == len && memcmp(cr->bytes, bytes, len) == 0)
			{
				if (cr->max_depth != rules_max_depth)
				{
					/* compiled under another depth limit: compile again */
					cache_remove(cr);
					break;
				}
				dlist_move_head(&cache_lru, &cr->lru);
				return cr->rule;
			}
		}
	}

	/* compile first: an error leaves the cache untouched */
	cr = compile_rule(rule, bytes, len, hash);
	MemoryContextSetParent(cr->cxt, cache_cxt);
	while (cache_count >= rules_cache_size && !dlist_is_empty(&cache_lru))
		cache_remove(dlist_container(CompiledRule, lru, dlist_tail_node(&cache_lru)));
	b = hash_search(cache_htab, &hash, HASH_ENTER, &found);
	if (!found)
		b->first = NULL;
	cr->next = b->first;
	b->first = cr;
	dlist_push_head(&cache_lru, &cr->lru);
	cache_count++;
	return cr->rule;
}

/* Is the first argument of this call a Const node (a literal rule)? */
static bool
rule_arg_is_const(FmgrInfo *flinfo)
{
	Node	   *expr = flinfo->fn_expr;

	if (expr && IsA(expr, FuncExpr) && list_length(((FuncExpr *) expr)->args) >= 1)
		return IsA(linitial(((FuncExpr *) expr)->args), Const);
	return false;
}

/* The compiled form of the rule argument, from one of the caches. */
static JlRule *
get_compiled_rule(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	CompiledRule *cc = (CompiledRule *) flinfo->fn_extra;
	Jsonb	   *rule;
	const char *bytes;
	Size		len;

	/* a literal rule cannot change for this call site: not even read again */
	if (cc != NULL && cc->is_const && cc->max_depth == rules_max_depth)
		return cc->rule;

	rule = PG_GETARG_JSONB_P(0);
	bytes = VARDATA_ANY(rule);
	len = VARSIZE_ANY_EXHDR(rule);

	if (len > (Size) rules_max_expression_length)
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_RULE_TOO_LONG),
				 errmsg("JsonLogic rule is too long"),
				 errdetail("The rule takes %zu bytes as jsonb; lowcode.rules_max_expression_length is %d.",
						   len, rules_max_expression_length)));

	/* a parameter may change between calls: compare the bytes */
	if (cc != NULL && cc->len == len && cc->max_depth == rules_max_depth &&
		memcmp(cc->bytes, bytes, len) == 0)
		return cc->rule;

	if (get_fn_expr_arg_stable(flinfo, 0))
	{
		CompiledRule *fresh = compile_rule(rule, bytes, len, 0);

		fresh->is_const = rule_arg_is_const(flinfo);
		MemoryContextSetParent(fresh->cxt, flinfo->fn_mcxt);
		if (cc != NULL)
			MemoryContextDelete(cc->cxt);
		flinfo->fn_extra = fresh;
		return fresh->rule;
	}
	return cache_lookup_or_compile(rule, bytes, len);
}

/* ------------------------------------------------------------ SQL */

/*
 * lowcode.jsonlogic_apply(rule jsonb, data jsonb DEFAULT '{}') RETURNS jsonb
 *
 * A NULL rule gives NULL; NULL data is JSON null.
 */
Datum
jsonlogic_apply(PG_FUNCTION_ARGS)
{
	Jsonb	   *data = NULL;
	JlRule	   *compiled;
	JlValue		root;
	JlValue		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	compiled = get_compiled_rule(fcinfo);
	if (!PG_ARGISNULL(1))
		data = PG_GETARG_JSONB_P(1);
	jsonb_host.utf8 = (GetDatabaseEncoding() == PG_UTF8);
	root = data ? jsonb_root_value(data) : jl_null();
	result = jl_evaluate(compiled, root, &jsonb_host, rules_max_cost);
	PG_RETURN_JSONB_P(value_to_jsonb(result, data));
}
