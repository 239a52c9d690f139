/*-------------------------------------------------------------------------
 *
 * jsonlogic_engine.c
 *	  JsonLogic compiler (rule value tree -> operator tree) and evaluator.
 *
 * A rule is compiled once: every one-key object becomes an operator node
 * (an unknown operator is an error at compile time, whichever branch it is
 * in), arrays become array constructors, everything else a constant.  The
 * evaluator then walks the node tree over the data, following json-logic-js
 * 2.x operator by operator: "if", "and", "or" and the array operators
 * (map, filter, reduce, all, none, some) control the evaluation of their
 * arguments; every other operator evaluates all its arguments first.
 *
 * Like json-logic-js, literal arrays are built afresh at each evaluation
 * (their identity matters to ===), while literal multi-key objects are the
 * same object each time.
 *
 * Pure code: palloc, StringInfo, ereport, CHECK_FOR_INTERRUPTS,
 * check_stack_depth only.
 *
 * src/jsonlogic/ is the JsonLogic component: the pure engine core and its SQL
 * glue (jsonlogic_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/elog.h"

#include "jsonlogic/jsonlogic_int.h"

typedef enum JlOp
{
	OP_CONST,
	OP_ARRAY,
	OP_VAR,
	OP_MISSING,
	OP_MISSING_SOME,
	OP_IF,
	OP_EQ,
	OP_STRICT_EQ,
	OP_NE,
	OP_STRICT_NE,
	OP_NOT,
	OP_NOTNOT,
	OP_OR,
	OP_AND,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_MAX,
	OP_MIN,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_IN,
	OP_CAT,
	OP_SUBSTR,
	OP_MERGE,
	OP_MAP,
	OP_FILTER,
	OP_REDUCE,
	OP_ALL,
	OP_NONE,
	OP_SOME,
	OP_LOG
} JlOp;

static const struct
{
	const char *name;
	JlOp		op;
}			jl_operators[] =
{
	{"var", OP_VAR},
	{"missing", OP_MISSING},
	{"missing_some", OP_MISSING_SOME},
	{"if", OP_IF},
	{"?:", OP_IF},
	{"==", OP_EQ},
	{"===", OP_STRICT_EQ},
	{"!=", OP_NE},
	{"!==", OP_STRICT_NE},
	{"!", OP_NOT},
	{"!!", OP_NOTNOT},
	{"or", OP_OR},
	{"and", OP_AND},
	{"<", OP_LT},
	{"<=", OP_LE},
	{">", OP_GT},
	{">=", OP_GE},
	{"max", OP_MAX},
	{"min", OP_MIN},
	{"+", OP_ADD},
	{"-", OP_SUB},
	{"*", OP_MUL},
	{"/", OP_DIV},
	{"%", OP_MOD},
	{"in", OP_IN},
	{"cat", OP_CAT},
	{"substr", OP_SUBSTR},
	{"merge", OP_MERGE},
	{"map", OP_MAP},
	{"filter", OP_FILTER},
	{"reduce", OP_REDUCE},
	{"all", OP_ALL},
	{"none", OP_NONE},
	{"some", OP_SOME},
	{"log", OP_LOG},
};

/* One segment of a dotted "var" path known at compile time. */
typedef struct JlPathSegment
{
	const char *key;
	int32		keylen;
} JlPathSegment;

typedef struct JlNode
{
	JlOp		op;
	int32		nargs;
	struct JlNode **args;
	JlValue		value;			/* OP_CONST; OP_ARRAY: its constant items */
	bool		const_items;	/* OP_ARRAY whose items are all scalars */
	bool		var_whole;		/* OP_VAR with "", null or no path */
	int32		var_nsegs;		/* OP_VAR with a constant path, else -1 */
	JlPathSegment *var_segs;
} JlNode;

struct JlRule
{
	JlNode	   *root;
};

/* ------------------------------------------------------------ compiling */

/* Where we are in the rule, for error messages: a chain on the C stack. */
typedef struct JlPathFrame
{
	const struct JlPathFrame *parent;
	const char *key;			/* object key, or NULL for an array index */
	int32		keylen;
	int32		index;
} JlPathFrame;

typedef struct JlCompiler
{
	int			max_depth;
	JlContext	cx;				/* for ToString of constant paths */
} JlCompiler;

static const JlHost jl_no_host = {true, NULL, NULL, NULL, NULL};

/* "$["and"][1]["var"]", at most the innermost 8 steps. */
static char *
format_path(const JlPathFrame *frame)
{
	const JlPathFrame *steps[8];
	int			n = 0;
	bool		truncated = false;
	StringInfoData buf;

	for (const JlPathFrame *f = frame; f; f = f->parent)
	{
		if (n == lengthof(steps))
		{
			truncated = true;
			break;
		}
		steps[n++] = f;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, truncated ? "$..." : "$");
	while (n-- > 0)
	{
		const JlPathFrame *f = steps[n];

		if (f->key)
		{
			int32		len = Min(f->keylen, 64);

			appendStringInfoChar(&buf, '[');
			jl_append_json_string(&buf, f->key, len);
			appendStringInfoChar(&buf, ']');
		}
		else
			appendStringInfo(&buf, "[%d]", f->index);
	}
	return buf.data;
}

static JlNode *
new_node(JlOp op, int32 nargs)
{
	JlNode	   *n = palloc0(sizeof(JlNode));

	n->op = op;
	n->nargs = nargs;
	n->args = nargs > 0 ? palloc(sizeof(JlNode *) * nargs) : NULL;
	n->var_nsegs = -1;
	return n;
}

static JlNode *compile_value(JlCompiler *c, const JlValue *v, int depth,
							 const JlPathFrame *where);

static void
check_depth(JlCompiler *c, int depth, const JlPathFrame *where)
{
	if (depth > c->max_depth)
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_TOO_DEEP),
				 errmsg("JsonLogic rule is nested more than %d levels deep",
						c->max_depth),
				 errdetail("The limit is exceeded at %s.", format_path(where)),
				 errhint("Flatten the rule or raise lowcode.rules_max_depth.")));
}

/* The nesting limit applies to literal data inside a rule too. */
static void
check_literal_depth(JlCompiler *c, const JlValue *v, int depth,
					const JlPathFrame *where)
{
	check_stack_depth();
	if (v->type == JL_ARRAY)
	{
		check_depth(c, depth + 1, where);
		for (int32 i = 0; i < v->u.a->len; i++)
		{
			JlPathFrame f = {where, NULL, 0, i};

			check_literal_depth(c, &v->u.a->items[i], depth + 1, &f);
		}
	}
	else if (v->type == JL_OBJECT)
	{
		check_depth(c, depth + 1, where);
		for (int32 i = 0; i < v->u.o->len; i++)
		{
			JlObjectEntry *e = &v->u.o->entries[i];
			JlPathFrame f = {where, e->key, e->keylen, 0};

			check_literal_depth(c, &e->val, depth + 1, &f);
		}
	}
}

/* Split a constant "var" path at the dots, once. */
static void
compile_var_path(JlCompiler *c, JlNode *n)
{
	JlValue		key = n->args[0]->value;
	JlValue		s;
	int32		nsegs = 1;
	int32		start = 0;

	if (key.type == JL_UNDEFINED || key.type == JL_NULL ||
		(key.type == JL_STRING && key.len == 0))
	{
		n->var_whole = true;
		return;
	}
	if (key.type != JL_STRING && key.type != JL_NUMBER && key.type != JL_BOOL)
		return;					/* resolved at run time */
	s = jl_to_string(&c->cx, key);
	for (int32 i = 0; i < s.len; i++)
		if (s.u.s[i] == '.')
			nsegs++;
	n->var_segs = palloc(sizeof(JlPathSegment) * nsegs);
	n->var_nsegs = nsegs;
	nsegs = 0;
	for (int32 i = 0; i <= s.len; i++)
	{
		if (i == s.len || s.u.s[i] == '.')
		{
			n->var_segs[nsegs].key = s.u.s + start;
			n->var_segs[nsegs].keylen = i - start;
			nsegs++;
			start = i + 1;
		}
	}
}

static JlNode *
compile_value(JlCompiler *c, const JlValue *v, int depth,
			  const JlPathFrame *where)
{
	JlNode	   *n;

	check_stack_depth();
	if (v->type == JL_ARRAY)
	{
		JlArray    *a = v->u.a;
		bool		all_scalar = true;

		Assert(!v->ext);
		check_depth(c, depth + 1, where);
		n = new_node(OP_ARRAY, a->len);
		for (int32 i = 0; i < a->len; i++)
		{
			JlPathFrame f = {where, NULL, 0, i};

			n->args[i] = compile_value(c, &a->items[i], depth + 1, &f);
			if (n->args[i]->op != OP_CONST ||
				n->args[i]->value.type == JL_OBJECT)
				all_scalar = false;
		}
		if (all_scalar)
		{
			/* items shared by every evaluation; only the header is fresh */
			n->const_items = true;
			n->value = *v;
		}
		return n;
	}
	if (v->type == JL_OBJECT && v->u.o->len == 1)
	{
		JlObjectEntry *e = &v->u.o->entries[0];
		JlPathFrame opframe = {where, e->key, e->keylen, 0};
		const JlValue *argv;
		int32		nargs;
		int			i;

		Assert(!v->ext);
		check_depth(c, depth + 1, where);
		for (i = 0; i < (int) lengthof(jl_operators); i++)
		{
			const char *name = jl_operators[i].name;

			if ((int32) strlen(name) == e->keylen &&
				memcmp(name, e->key, e->keylen) == 0)
				break;
		}
		if (i == (int) lengthof(jl_operators))
		{
			StringInfoData name;

			initStringInfo(&name);
			jl_append_json_string(&name, e->key, Min(e->keylen, 64));
			ereport(ERROR,
					(errcode(ERRCODE_JSONLOGIC_UNKNOWN_OPERATOR),
					 errmsg("unknown JsonLogic operator %s", name.data),
					 errdetail("An object with exactly one key is an operation; found at %s.",
							   format_path(where)),
					 errhint("The operators are those of json-logic-js 2.x: var, missing, missing_some, if, ?:, ==, ===, !=, !==, !, !!, or, and, <, <=, >, >=, max, min, +, -, *, /, %%, in, cat, substr, merge, map, filter, reduce, all, none, some, log.")));
		}
		/* {"op": x} is shorthand for {"op": [x]} */
		if (e->val.type == JL_ARRAY)
		{
			check_depth(c, depth + 2, &opframe);
			argv = e->val.u.a->items;
			nargs = e->val.u.a->len;
		}
		else
		{
			argv = &e->val;
			nargs = 1;
		}
		n = new_node(jl_operators[i].op, nargs);
		for (int32 j = 0; j < nargs; j++)
		{
			JlPathFrame f = {&opframe, NULL, 0, j};

			n->args[j] = compile_value(c, &argv[j],
									   depth + (e->val.type == JL_ARRAY ? 2 : 1),
									   e->val.type == JL_ARRAY ? &f : &opframe);
		}
		if (n->op == OP_VAR)
		{
			if (nargs == 0)
				n->var_whole = true;
			else if (n->args[0]->op == OP_CONST)
				compile_var_path(c, n);
		}
		return n;
	}
	/* scalars, and objects that are not operations, are data */
	if (v->type == JL_OBJECT)
		check_literal_depth(c, v, depth, where);
	n = new_node(OP_CONST, 0);
	n->value = *v;
	return n;
}

JlRule *
jl_compile(const JlValue *rule, int max_depth)
{
	JlCompiler	c;
	JlRule	   *r = palloc(sizeof(JlRule));

	c.max_depth = max_depth;
	c.cx.host = &jl_no_host;
	c.cx.cost = 0;
	c.cx.max_cost = PG_INT64_MAX;
	r->root = compile_value(&c, rule, 0, NULL);
	return r;
}

/* ------------------------------------------------------------ evaluating */

static JlValue eval_node(JlContext *cx, const JlNode *n, JlValue data);

static inline bool
is_nullish(JlValue v)
{
	return v.type == JL_NULL || v.type == JL_UNDEFINED;
}

/* Follow a dotted path from data; not_found when a step is missing. */
static JlValue
lookup_segments(JlContext *cx, JlValue data, const JlPathSegment *segs,
				int32 nsegs, JlValue not_found)
{
	JlValue		cur = data;

	for (int32 i = 0; i < nsegs; i++)
	{
		if (cur.type == JL_OBJECT && cur.ext)
		{
			/* the common step, a key of the host's object, done directly */
			if (!cx->host->object_get(cur.u.h, segs[i].key, segs[i].keylen, &cur))
				return not_found;
			continue;
		}
		if (is_nullish(cur))
			return not_found;
		cur = jl_get_property(cx, cur, segs[i].key, segs[i].keylen);
		if (cur.type == JL_UNDEFINED)
			return not_found;
	}
	return cur;
}

/* json-logic-js "var"(a, b) over data. */
static JlValue
var_lookup(JlContext *cx, JlValue data, JlValue a, JlValue b)
{
	JlValue		not_found = (b.type == JL_UNDEFINED) ? jl_null() : b;
	JlValue		s;
	JlValue		cur = data;
	int32		start = 0;

	if (is_nullish(a) || (a.type == JL_STRING && a.len == 0))
		return data;
	s = jl_to_string(cx, a);
	for (int32 i = 0; i <= s.len; i++)
	{
		if (i == s.len || s.u.s[i] == '.')
		{
			if (is_nullish(cur))
				return not_found;
			cur = jl_get_property(cx, cur, s.u.s + start, i - start);
			if (cur.type == JL_UNDEFINED)
				return not_found;
			start = i + 1;
		}
	}
	return cur;
}

static inline JlValue
arg_or_undefined(const JlValue *vals, int32 nvals, int32 i)
{
	return i < nvals ? vals[i] : jl_undefined();
}

/*
 * "missing": which keys have null or "" as value.  Like json-logic-js, a key
 * that is itself an array is read as the arguments of "var" (path, default).
 */
static JlValue
missing_keys(JlContext *cx, JlValue data, const JlValue *keys, int32 nkeys,
			 JlValue keyarr)
{
	JlValue	   *out;
	JlValue		result;
	int32		nout = 0;
	bool		from_array = (keyarr.type == JL_ARRAY);

	if (from_array)
		nkeys = jl_array_len(cx, keyarr);
	jl_check_size((Size) nkeys * sizeof(JlValue), "array");
	out = nkeys > 0 ? palloc(sizeof(JlValue) * nkeys) : NULL;
	for (int32 i = 0; i < nkeys; i++)
	{
		JlValue		key = from_array ? jl_array_get(cx, keyarr, i) : keys[i];
		JlValue		val;

		CHECK_FOR_INTERRUPTS();
		jl_charge(cx, 1);
		if (key.type == JL_ARRAY)
		{
			int32		klen = jl_array_len(cx, key);

			val = var_lookup(cx, data,
							 klen > 0 ? jl_array_get(cx, key, 0) : jl_undefined(),
							 klen > 1 ? jl_array_get(cx, key, 1) : jl_undefined());
		}
		else
			val = var_lookup(cx, data, key, jl_undefined());
		if (val.type == JL_NULL || (val.type == JL_STRING && val.len == 0))
			out[nout++] = key;
	}
	result = jl_new_array(cx, nout, NULL);
	if (nout > 0)
		memcpy(result.u.a->items, out, sizeof(JlValue) * nout);
	return result;
}

/* String.prototype.substr(start, length) over ToString(source). */
static JlValue
js_substr(JlContext *cx, JlValue str, JlValue start, JlValue length)
{
	int64		size = jl_utf16_length(cx->host, str.u.s, str.len);
	double		d;
	double		from;
	double		len;

	d = jl_to_number(cx, start);
	d = isnan(d) ? 0 : trunc(d);
	if (d < 0)
		from = Max(size + d, 0);
	else
		from = Min(d, (double) size);
	if (length.type == JL_UNDEFINED)
		len = (double) size;
	else
	{
		len = jl_to_number(cx, length);
		len = isnan(len) ? 0 : trunc(len);
		len = Min(Max(len, 0), (double) size);
	}
	return jl_utf16_substring(cx, str, (int64) from,
							  (int64) Min(from + len, (double) size));
}

static JlValue
eval_substr(JlContext *cx, const JlValue *vals, int32 nvals)
{
	JlValue		source = jl_to_string(cx, arg_or_undefined(vals, nvals, 0));
	JlValue		start = arg_or_undefined(vals, nvals, 1);
	JlValue		end = arg_or_undefined(vals, nvals, 2);

	if (jl_compare(cx, end, jl_number(0)) == -1)
	{
		/* negative length: drop that many units from the end (PHP-like) */
		JlValue		temp = js_substr(cx, source, start, jl_undefined());
		JlValue		keep = jl_js_add(cx,
									 jl_number(jl_utf16_length(cx->host, temp.u.s, temp.len)),
									 end);

		return js_substr(cx, temp, jl_number(0), keep);
	}
	return js_substr(cx, source, start, end);
}

static JlValue
eval_in(JlContext *cx, JlValue a, JlValue b)
{
	if (jl_js_falsy(b))
		return jl_bool(false);
	if (b.type == JL_STRING)
	{
		JlValue		needle = jl_to_string(cx, a);

		jl_charge(cx, b.len);
		if (needle.len == 0)
			return jl_bool(true);
		if (needle.len > b.len)
			return jl_bool(false);
		for (int32 i = 0; i + needle.len <= b.len; i++)
			if (b.u.s[i] == needle.u.s[0] &&
				memcmp(b.u.s + i, needle.u.s, needle.len) == 0)
				return jl_bool(true);
		return jl_bool(false);
	}
	if (b.type == JL_ARRAY)
	{
		int32		len = jl_array_len(cx, b);

		for (int32 i = 0; i < len; i++)
		{
			CHECK_FOR_INTERRUPTS();
			jl_charge(cx, 1);
			if (jl_strict_equals(jl_array_get(cx, b, i), a))
				return jl_bool(true);
		}
	}
	return jl_bool(false);
}

static JlValue
eval_merge(JlContext *cx, const JlValue *vals, int32 nvals)
{
	int64		total = 0;
	JlValue		result;
	JlValue    *items;
	int32		k = 0;

	for (int32 i = 0; i < nvals; i++)
		total += (vals[i].type == JL_ARRAY) ? jl_array_len(cx, vals[i]) : 1;
	jl_check_size((Size) total * sizeof(JlValue), "array");
	result = jl_new_array(cx, (int32) total, &items);
	for (int32 i = 0; i < nvals; i++)
	{
		if (vals[i].type == JL_ARRAY)
		{
			int32		len = jl_array_len(cx, vals[i]);

			for (int32 j = 0; j < len; j++)
			{
				CHECK_FOR_INTERRUPTS();
				items[k++] = jl_array_get(cx, vals[i], j);
			}
		}
		else
			items[k++] = vals[i];
	}
	return result;
}

static JlValue
eval_minmax(JlContext *cx, const JlValue *vals, int32 nvals, bool is_max)
{
	double		r = is_max ? -INFINITY : INFINITY;
	bool		nan = false;

	for (int32 i = 0; i < nvals; i++)
	{
		double		x = jl_to_number(cx, vals[i]);

		if (isnan(x))
			nan = true;
		else if (is_max ? (x > r || (x == 0 && r == 0 && !signbit(x)))
				 : (x < r || (x == 0 && r == 0 && signbit(x))))
			r = x;
	}
	return jl_number(nan ? NAN : r);
}

static JlValue
eval_missing_some(JlContext *cx, JlValue data, const JlValue *vals, int32 nvals)
{
	JlValue		need = arg_or_undefined(vals, nvals, 0);
	JlValue		options = arg_or_undefined(vals, nvals, 1);
	JlValue		are_missing;
	double		have = NAN;
	int			c;

	/* {"missing": options}: options are its arguments */
	if (options.type == JL_ARRAY && jl_array_len(cx, options) > 0 &&
		jl_array_get(cx, options, 0).type == JL_ARRAY)
		are_missing = missing_keys(cx, data, NULL, 0, jl_array_get(cx, options, 0));
	else if (options.type == JL_ARRAY)
		are_missing = missing_keys(cx, data, NULL, 0, options);
	else
		are_missing = missing_keys(cx, data, &options, 1, jl_undefined());

	/* options.length - are_missing.length >= need_count */
	if (options.type == JL_ARRAY)
		have = jl_array_len(cx, options);
	else if (options.type == JL_STRING)
		have = jl_utf16_length(cx->host, options.u.s, options.len);
	else if (is_nullish(options))
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_TYPE_ERROR),
				 errmsg("JsonLogic \"missing_some\" needs a list of keys as its second argument"),
				 errdetail("The second argument is %s.",
						   options.type == JL_NULL ? "null" : "missing")));
	c = jl_compare(cx, jl_number(have - are_missing.u.a->len), need);
	if (c == 1 || c == 0)
		return jl_new_array(cx, 0, NULL);
	return are_missing;
}

/* map, filter, reduce, all, none, some: the logic runs once per element */
static JlValue
eval_iteration(JlContext *cx, const JlNode *n, JlValue data)
{
	JlValue		scoped = n->nargs > 0 ? eval_node(cx, n->args[0], data) : jl_undefined();
	const JlNode *logic = n->nargs > 1 ? n->args[1] : NULL;
	int32		len;

#define APPLY(datum) (logic ? eval_node(cx, logic, (datum)) : jl_undefined())

	if (n->op == OP_REDUCE)
	{
		JlValue		acc = n->nargs > 2 ? eval_node(cx, n->args[2], data) : jl_null();

		if (scoped.type != JL_ARRAY)
			return acc;
		len = jl_array_len(cx, scoped);
		for (int32 i = 0; i < len; i++)
		{
			JlObject   *o = palloc(sizeof(JlObject));
			JlValue		scope = jl_undefined();

			CHECK_FOR_INTERRUPTS();
			jl_charge(cx, 1);
			o->len = 2;
			o->entries = palloc(sizeof(JlObjectEntry) * 2);
			o->entries[0].key = "current";
			o->entries[0].keylen = 7;
			o->entries[0].val = jl_array_get(cx, scoped, i);
			o->entries[1].key = "accumulator";
			o->entries[1].keylen = 11;
			o->entries[1].val = acc;
			scope.type = JL_OBJECT;
			scope.u.o = o;
			acc = APPLY(scope);
		}
		return acc;
	}

	if (scoped.type != JL_ARRAY)
	{
		if (n->op == OP_MAP || n->op == OP_FILTER)
			return jl_new_array(cx, 0, NULL);
		return jl_bool(n->op == OP_NONE);
	}
	len = jl_array_len(cx, scoped);
	switch (n->op)
	{
		case OP_MAP:
		case OP_FILTER:
			{
				JlValue    *items;
				JlValue		result;
				int32		k = 0;

				jl_check_size((Size) len * sizeof(JlValue), "array");
				items = len > 0 ? palloc(sizeof(JlValue) * len) : NULL;
				for (int32 i = 0; i < len; i++)
				{
					JlValue		datum = jl_array_get(cx, scoped, i);
					JlValue		r;

					CHECK_FOR_INTERRUPTS();
					jl_charge(cx, 1);
					r = APPLY(datum);
					if (n->op == OP_MAP)
						items[k++] = r;
					else if (jl_truthy(cx, r))
						items[k++] = datum;
				}
				result = jl_new_array(cx, k, NULL);
				if (k > 0)
					memcpy(result.u.a->items, items, sizeof(JlValue) * k);
				return result;
			}
		case OP_ALL:
		case OP_NONE:
		case OP_SOME:
			if (len == 0)
				return jl_bool(n->op == OP_NONE);
			for (int32 i = 0; i < len; i++)
			{
				bool		t;

				CHECK_FOR_INTERRUPTS();
				jl_charge(cx, 1);
				t = jl_truthy(cx, APPLY(jl_array_get(cx, scoped, i)));
				if (n->op == OP_ALL && !t)
					return jl_bool(false);
				if (n->op == OP_NONE && t)
					return jl_bool(false);
				if (n->op == OP_SOME && t)
					return jl_bool(true);
			}
			return jl_bool(n->op != OP_SOME);
		default:
			elog(ERROR, "unexpected JsonLogic iteration operator %d", (int) n->op);
	}
#undef APPLY
	return jl_undefined();		/* keep compiler quiet */
}

static JlValue
eval_node(JlContext *cx, const JlNode *n, JlValue data)
{
	JlValue		local[4];
	JlValue    *vals;
	int32		nvals = n->nargs;

	jl_charge(cx, 1);
	switch (n->op)
	{
		case OP_CONST:
			return n->value;
		case OP_VAR:
			if (n->var_whole && nvals <= 1)
				return data;
			if (n->var_nsegs >= 0 && nvals == 1)
				return lookup_segments(cx, data, n->var_segs, n->var_nsegs, jl_null());
			break;
		case OP_ARRAY:
			if (n->const_items)
			{
				/* a fresh array (identity), sharing the constant items */
				JlValue		v = jl_new_array(cx, 0, NULL);

				jl_charge(cx, n->nargs);
				v.u.a->len = n->value.u.a->len;
				v.u.a->items = n->value.u.a->items;
				return v;
			}
			break;
		case OP_IF:
			{
				int32		i;

				check_stack_depth();
				for (i = 0; i < nvals - 1; i += 2)
				{
					if (jl_truthy(cx, eval_node(cx, n->args[i], data)))
						return eval_node(cx, n->args[i + 1], data);
				}
				if (nvals == i + 1)
					return eval_node(cx, n->args[i], data);
				return jl_null();
			}
		case OP_AND:
		case OP_OR:
			{
				JlValue		cur = jl_undefined();

				check_stack_depth();
				for (int32 i = 0; i < nvals; i++)
				{
					cur = eval_node(cx, n->args[i], data);
					if (jl_truthy(cx, cur) == (n->op == OP_OR))
						return cur;
				}
				return cur;
			}
		case OP_MAP:
		case OP_FILTER:
		case OP_REDUCE:
		case OP_ALL:
		case OP_NONE:
		case OP_SOME:
			check_stack_depth();
			return eval_iteration(cx, n, data);
		case OP_IN:
			if (nvals == 2 && n->args[1]->op == OP_ARRAY && n->args[1]->const_items)
			{
				/* "in" over a literal list of scalars needs no fresh array */
				JlValue		a;

				check_stack_depth();
				a = eval_node(cx, n->args[0], data);
				return eval_in(cx, a, n->args[1]->value);
			}
			break;
		default:
			break;
	}

	/* everything else evaluates all its arguments first */
	check_stack_depth();
	vals = nvals <= (int32) lengthof(local) ? local : palloc(sizeof(JlValue) * nvals);
	for (int32 i = 0; i < nvals; i++)
		vals[i] = eval_node(cx, n->args[i], data);

#define ARG(i) arg_or_undefined(vals, nvals, (i))
	switch (n->op)
	{
		case OP_ARRAY:
			{
				JlValue    *items;
				JlValue		v = jl_new_array(cx, nvals, &items);

				if (nvals > 0)
					memcpy(items, vals, sizeof(JlValue) * nvals);
				return v;
			}
		case OP_VAR:
			if (n->var_whole)
				return data;
			if (n->var_nsegs >= 0)
				return lookup_segments(cx, data, n->var_segs, n->var_nsegs,
									   ARG(1).type == JL_UNDEFINED ? jl_null() : ARG(1));
			return var_lookup(cx, data, ARG(0), ARG(1));
		case OP_MISSING:
			if (nvals > 0 && vals[0].type == JL_ARRAY)
				return missing_keys(cx, data, NULL, 0, vals[0]);
			return missing_keys(cx, data, vals, nvals, jl_undefined());
		case OP_MISSING_SOME:
			return eval_missing_some(cx, data, vals, nvals);
		case OP_EQ:
			return jl_bool(jl_loose_equals(cx, ARG(0), ARG(1)));
		case OP_NE:
			return jl_bool(!jl_loose_equals(cx, ARG(0), ARG(1)));
		case OP_STRICT_EQ:
			return jl_bool(jl_strict_equals(ARG(0), ARG(1)));
		case OP_STRICT_NE:
			return jl_bool(!jl_strict_equals(ARG(0), ARG(1)));
		case OP_NOT:
			return jl_bool(!jl_truthy(cx, ARG(0)));
		case OP_NOTNOT:
			return jl_bool(jl_truthy(cx, ARG(0)));
		case OP_LT:
		case OP_LE:
			{
				bool		le = (n->op == OP_LE);
				int			c = jl_compare(cx, ARG(0), ARG(1));
				bool		r = le ? (c == -1 || c == 0) : (c == -1);

				/* the between form a < b < c, unless c is undefined */
				if (r && ARG(2).type != JL_UNDEFINED)
				{
					c = jl_compare(cx, ARG(1), ARG(2));
					r = le ? (c == -1 || c == 0) : (c == -1);
				}
				return jl_bool(r);
			}
		case OP_GT:
			return jl_bool(jl_compare(cx, ARG(0), ARG(1)) == 1);
		case OP_GE:
			{
				int			c = jl_compare(cx, ARG(0), ARG(1));

				return jl_bool(c == 1 || c == 0);
			}
		case OP_MAX:
		case OP_MIN:
			return eval_minmax(cx, vals, nvals, n->op == OP_MAX);
		case OP_ADD:
			{
				/* [].reduce((a, b) => parseFloat(a) + parseFloat(b), 0) */
				double		acc = 0;

				for (int32 i = 0; i < nvals; i++)
					acc = (acc == 0 ? 0 : acc) + jl_parse_float(cx, vals[i]);
				return jl_number(acc);
			}
		case OP_MUL:
			{
				/* [].reduce((a, b) => parseFloat(a) * parseFloat(b)) */
				JlValue		acc;

				if (nvals == 0)
					ereport(ERROR,
							(errcode(ERRCODE_JSONLOGIC_TYPE_ERROR),
							 errmsg("JsonLogic \"*\" needs at least one argument"),
							 errdetail("json-logic-js raises \"Reduce of empty array with no initial value\".")));
				acc = vals[0];
				for (int32 i = 1; i < nvals; i++)
					acc = jl_number(jl_parse_float(cx, acc) * jl_parse_float(cx, vals[i]));
				return acc;
			}
		case OP_SUB:
			if (ARG(1).type == JL_UNDEFINED)
				return jl_number(-jl_to_number(cx, ARG(0)));
			return jl_number(jl_to_number(cx, ARG(0)) - jl_to_number(cx, ARG(1)));
		case OP_DIV:
			return jl_number(jl_to_number(cx, ARG(0)) / jl_to_number(cx, ARG(1)));
		case OP_MOD:
			return jl_number(fmod(jl_to_number(cx, ARG(0)), jl_to_number(cx, ARG(1))));
		case OP_IN:
			return eval_in(cx, ARG(0), ARG(1));
		case OP_CAT:
			{
				StringInfoData buf;

				initStringInfo(&buf);
				for (int32 i = 0; i < nvals; i++)
					if (!is_nullish(vals[i]))
						jl_append_string(cx, &buf, vals[i]);
				return jl_string(buf.data, buf.len);
			}
		case OP_SUBSTR:
			return eval_substr(cx, vals, nvals);
		case OP_MERGE:
			return eval_merge(cx, vals, nvals);
		case OP_LOG:
			if (message_level_is_interesting(DEBUG1))
			{
				StringInfoData buf;

				initStringInfo(&buf);
				jl_to_json(cx, ARG(0), &buf);
				ereport(DEBUG1,
						(errmsg_internal("JsonLogic log: %s", buf.data)));
			}
			return ARG(0);
		default:
			elog(ERROR, "unexpected JsonLogic operator %d", (int) n->op);
	}
#undef ARG
	return jl_undefined();		/* keep compiler quiet */
}

JlValue
jl_evaluate(const JlRule *rule, JlValue data, const JlHost *host, int64 max_cost)
{
	JlContext	cx;

	cx.host = host;
	cx.cost = 0;
	cx.max_cost = max_cost;
	return eval_node(&cx, rule->root, data);
}
