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
 *	  external parameter, keyed by its bytes (so a changed parameter value is
 *	  noticed);
 *	- otherwise in a backend-wide LRU cache of at most lowcode.rules_cache_size
 *	  rules, keyed by the rule's jsonb bytes.
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
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "rules/jsonlogic.h"
#include "rules/rules.h"

PG_FUNCTION_INFO_V1(jsonlogic_apply);

/* ------------------------------------------------------ jsonb -> values */

/* A jsonb number as a JavaScript number (JSON.parse gives the same). */
static double
numeric_to_double(Numeric num)
{
	char	   *s;
	double		d;

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

/*
 * A rule document as an engine value tree owned by the engine (it outlives
 * the jsonb when cached).  Iterative, so any nesting converts; the compiler
 * enforces lowcode.rules_max_depth afterwards, with the path in its message.
 */
typedef struct RuleFrame
{
	bool		is_array;
	int32		n;
	int32		cap;
	JlValue    *items;
	JlObjectEntry *entries;
	char	   *key;			/* pending object key */
	int32		keylen;
} RuleFrame;

static void
frame_add(RuleFrame *f, JlValue v)
{
	if (f->n == f->cap)
	{
		f->cap = f->cap ? f->cap * 2 : 4;
		if (f->is_array)
			f->items = f->items ? repalloc(f->items, sizeof(JlValue) * f->cap)
				: palloc(sizeof(JlValue) * f->cap);
		else
			f->entries = f->entries ? repalloc(f->entries, sizeof(JlObjectEntry) * f->cap)
				: palloc(sizeof(JlObjectEntry) * f->cap);
	}
	if (f->is_array)
		f->items[f->n++] = v;
	else
	{
		f->entries[f->n].key = f->key;
		f->entries[f->n].keylen = f->keylen;
		f->entries[f->n].val = v;
		f->n++;
	}
}

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

static JlValue
jsonb_to_rule_value(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbIteratorToken tok;
	JsonbValue	jv;
	RuleFrame  *stack = NULL;
	int32		depth = 0;
	int32		cap = 0;
	bool		raw_scalar = false;
	JlValue		result = jl_undefined();

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
				if (depth == cap)
				{
					cap = cap ? cap * 2 : 16;
					stack = stack ? repalloc(stack, sizeof(RuleFrame) * cap)
						: palloc(sizeof(RuleFrame) * cap);
				}
				memset(&stack[depth], 0, sizeof(RuleFrame));
				stack[depth].is_array = (tok == WJB_BEGIN_ARRAY);
				depth++;
				break;
			case WJB_KEY:
				stack[depth - 1].key = (char *) rule_scalar(&jv).u.s;
				stack[depth - 1].keylen = jv.val.string.len;
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (raw_scalar && depth == 0)
					result = rule_scalar(&jv);
				else
					frame_add(&stack[depth - 1], rule_scalar(&jv));
				break;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				if (raw_scalar && depth == 0)
					break;
				{
					RuleFrame  *f = &stack[--depth];
					JlValue		v = jl_undefined();

					if (f->is_array)
					{
						JlArray    *a = palloc(sizeof(JlArray));

						a->len = f->n;
						a->items = f->items;
						v.type = JL_ARRAY;
						v.u.a = a;
					}
					else
					{
						JlObject   *o = palloc(sizeof(JlObject));

						o->len = f->n;
						o->entries = f->entries;
						v.type = JL_OBJECT;
						v.u.o = o;
					}
					if (depth == 0)
						result = v;
					else
						frame_add(&stack[depth - 1], v);
				}
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
	if (n == floor(n) && fabs(n) < 9.2e18)
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

static Jsonb *
value_to_jsonb(JlValue v, Jsonb *data)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

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

/* The compiled form of the rule argument, from one of the caches. */
static JlRule *
get_compiled_rule(FunctionCallInfo fcinfo, Jsonb *rule)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	const char *bytes = VARDATA_ANY(rule);
	Size		len = VARSIZE_ANY_EXHDR(rule);
	CompiledRule *cc = (CompiledRule *) flinfo->fn_extra;

	if (len > (Size) rules_max_expression_length)
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_RULE_TOO_LONG),
				 errmsg("JsonLogic rule is too long"),
				 errdetail("The rule takes %zu bytes as jsonb; lowcode.rules_max_expression_length is %d.",
						   len, rules_max_expression_length)));

	if (cc != NULL && cc->len == len && memcmp(cc->bytes, bytes, len) == 0)
		return cc->rule;

	if (get_fn_expr_arg_stable(flinfo, 0))
	{
		CompiledRule *fresh = compile_rule(rule, bytes, len, 0);

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
	Jsonb	   *rule;
	Jsonb	   *data = NULL;
	JlRule	   *compiled;
	JlValue		root;
	JlValue		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	rule = PG_GETARG_JSONB_P(0);
	if (!PG_ARGISNULL(1))
		data = PG_GETARG_JSONB_P(1);

	compiled = get_compiled_rule(fcinfo, rule);
	jsonb_host.utf8 = (GetDatabaseEncoding() == PG_UTF8);
	root = data ? jsonb_root_value(data) : jl_null();
	result = jl_evaluate(compiled, root, &jsonb_host, rules_max_cost);
	PG_RETURN_JSONB_P(value_to_jsonb(result, data));
}
