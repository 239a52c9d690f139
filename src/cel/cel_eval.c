/*-------------------------------------------------------------------------
 *
 * cel_eval.c
 *	  Tree-walking evaluator of CEL expressions.
 *
 * Errors of the language are values (CEL_ERROR) so that && and || can
 * absorb them in either order, as the specification requires: "false &&
 * error" and "error && false" are both false.  Every node evaluated costs
 * one unit, every comprehension step one more (cel_charge raises the
 * cost-exceeded error); comprehensions answer to query cancellation.  The
 * recursion is bounded by the tree height the parser allowed.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "cel/cel_int.h"

static const char *const type_names[] = {
	"int", "uint", "double", "bool", "string", "bytes", "list", "map",
	"null_type", "type", "optional_type",
	"google.protobuf.Timestamp", "google.protobuf.Duration", NULL
};

void
cel_env_init(CelEnv *env, CelResolver resolve, void *ctx, int64 max_cost)
{
	memset(env, 0, sizeof(*env));
	env->resolve = resolve;
	env->resolve_ctx = ctx;
	env->max_cost = max_cost;
}

static void
push_local(CelEnv *env, const char *name, const CelValue *val)
{
	if (env->nlocals == env->maxlocals)
	{
		int			newmax = env->maxlocals ? env->maxlocals * 2 : 8;

		if (env->maxlocals)
		{
			env->local_names = repalloc(env->local_names, newmax * sizeof(char *));
			env->local_vals = repalloc(env->local_vals, newmax * sizeof(CelValue));
		}
		else
		{
			env->local_names = palloc(newmax * sizeof(char *));
			env->local_vals = palloc(newmax * sizeof(CelValue));
		}
		env->maxlocals = newmax;
	}
	env->local_names[env->nlocals] = name;
	env->local_vals[env->nlocals] = *val;
	env->nlocals++;
}

static bool
find_local(CelEnv *env, const char *name, CelValue *out)
{
	int			i;

	for (i = env->nlocals - 1; i >= 0; i--)
	{
		if (strcmp(env->local_names[i], name) == 0)
		{
			*out = env->local_vals[i];
			return true;
		}
	}
	return false;
}

static bool
find_type_name(const char *name, CelValue *out)
{
	const char *const *t;

	for (t = type_names; *t; t++)
	{
		if (strcmp(*t, name) == 0)
		{
			cel_make_type(out, *t);
			return true;
		}
	}
	return false;
}

/*
 * Names in a container (namespace) "a.b": a.b.name, then a.name, then the
 * plain name (tried by the caller), as the specification's resolution rule.
 */
static bool
resolve_in_container(CelEnv *env, const char *name, CelValue *out)
{
	int			clen = strlen(env->container);

	while (clen > 0)
	{
		char	   *q = psprintf("%.*s.%s", clen, env->container, name);

		if (env->resolve(env->resolve_ctx, q, strlen(q), out))
			return true;
		while (clen > 0 && env->container[clen - 1] != '.')
			clen--;
		if (clen > 0)
			clen--;				/* drop the dot */
	}
	return false;
}

static bool
resolve_ident(CelEnv *env, const CelExpr *ident, CelValue *out)
{
	if (!ident->absolute && env->nlocals > 0 && find_local(env, ident->name, out))
		return true;
	if (env->container && !ident->absolute && env->resolve &&
		resolve_in_container(env, ident->name, out))
		return true;
	if (env->resolve && env->resolve(env->resolve_ctx, ident->name, ident->namelen, out))
		return true;
	return find_type_name(ident->name, out);
}

/* field selection (and has() when test_only) on an evaluated operand */
static void
select_field(const CelExpr *e, const CelValue *operand, CelValue *out)
{
	CelValue	key;

	cel_make_string(&key, e->name, strlen(e->name));
	switch (operand->kind)
	{
		case CEL_MAP:
			{
				CelValue	val;
				bool		found = cel_map_lookup(operand->v.map, &key, &val);

				if (e->test_only)
				{
					out->kind = CEL_BOOL;
					out->v.b = found;
				}
				else if (e->opt_select)
				{
					out->kind = CEL_OPTIONAL;
					if (found)
					{
						out->v.opt = palloc(sizeof(CelValue));
						*out->v.opt = val;
					}
					else
						out->v.opt = NULL;
				}
				else if (found)
					*out = val;
				else
					cel_make_error(out, CEL_ERR_NO_SUCH_KEY, "no such key: '%s'", e->name);
				return;
			}
		case CEL_OPTIONAL:
			{
				/* selection on an optional value propagates the optional */
				if (operand->v.opt == NULL)
				{
					if (e->test_only)
					{
						out->kind = CEL_BOOL;
						out->v.b = false;
					}
					else
						*out = *operand;
					return;
				}
				else
				{
					CelExpr		sub = *e;
					CelValue	inner;

					sub.opt_select = true;
					sub.test_only = e->test_only;
					select_field(&sub, operand->v.opt, &inner);
					*out = inner;
					return;
				}
			}
		case CEL_ERROR:
			*out = *operand;
			return;
		default:
			cel_make_error(out, CEL_ERR_NO_OVERLOAD,
						   "type '%s' does not support field selection", cel_type_name(operand));
			return;
	}
}

/*
 * A select chain on identifiers (a.b.c).  When the root identifier is bound,
 * the selections apply to its value (resolved once).  When it is unbound,
 * the dotted prefixes are tried as variable names, longest first, then as
 * type names (google.protobuf.Duration).
 */
static pg_noinline void
eval_qualified(CelEnv *env, const CelExpr *e, CelValue *out)
{
	const CelExpr *root = e;
	CelValue	val;
	int			depth = 0,
				i;
	const CelExpr *chain_buf[16];
	const CelExpr **chain = chain_buf;
	bool		bound;

	while (root->kind == EX_SELECT)
	{
		depth++;
		root = root->target;
	}
	if (depth > 16)
		chain = palloc(depth * sizeof(CelExpr *));
	/* fast path: a.b.c read straight from the data, when nothing shadows a */
	if (env->resolve_path && depth < 16 && !root->absolute &&
		(env->nlocals == 0 || !find_local(env, root->name, &val)))
	{
		const char *names[16];
		int			lens[16];
		const CelExpr *s = e;

		names[0] = root->name;
		lens[0] = root->namelen;
		for (i = depth; i >= 1; i--, s = s->target)
		{
			names[i] = s->name;
			lens[i] = s->namelen;
		}
		cel_charge(env, depth);
		if (env->resolve_path(env->resolve_ctx, names, lens, depth + 1, out))
			return;
	}
	i = 0;
	for (const CelExpr *s = e; s->kind == EX_SELECT; s = s->target)
		chain[i++] = s;
	/* chain[0] is e (longest), chain[depth-1] the select right above the root */
	bound = resolve_ident(env, root, &val);
	if (!bound || val.kind == CEL_TYPE)
	{
		CelValue	typeval;
		bool		is_type = bound;	/* the root names a type: int.x, google.… */
		bool		found = false;

		if (is_type)
			typeval = val;
		for (i = 0; i < depth; i++)
		{
			const CelExpr *s = chain[i];

			if ((env->resolve && env->resolve(env->resolve_ctx, s->qualname, strlen(s->qualname), &val)) ||
				find_type_name(s->qualname, &val))
			{
				found = true;
				break;
			}
		}
		if (!found)
		{
			if (is_type)
			{
				val = typeval;
				i = depth;
			}
			else
			{
				cel_make_error(out, CEL_ERR_UNKNOWN_VARIABLE,
							   "undeclared reference to '%s' (in container '')", root->name);
				return;
			}
		}
		/* apply the selections below chain[i] */
		for (int j = i - 1; j >= 0; j--)
		{
			CelValue	next;

			cel_charge(env, 1);
			select_field(chain[j], &val, &next);
			if (next.kind == CEL_ERROR)
			{
				*out = next;
				return;
			}
			val = next;
		}
		*out = val;
		return;
	}
	for (i = depth - 1; i >= 0; i--)
	{
		CelValue	next;

		cel_charge(env, 1);
		select_field(chain[i], &val, &next);
		if (next.kind == CEL_ERROR)
		{
			*out = next;
			return;
		}
		val = next;
	}
	*out = val;
}

static void
eval_index(const CelValue *c, const CelValue *idx, bool optional, CelValue *out)
{
	if (c->kind == CEL_OPTIONAL)
	{
		if (c->v.opt == NULL)
		{
			*out = *c;
			return;
		}
		eval_index(c->v.opt, idx, true, out);
		return;
	}
	if (c->kind == CEL_LIST)
	{
		int64		i;
		int			n = cel_list_size(c->v.list);

		if (idx->kind == CEL_INT)
			i = idx->v.i;
		else if (idx->kind == CEL_UINT)
			i = idx->v.u > (uint64) PG_INT64_MAX ? PG_INT64_MAX : (int64) idx->v.u;
		else if (idx->kind == CEL_DOUBLE && isfinite(idx->v.d) && idx->v.d == trunc(idx->v.d) &&
				 fabs(idx->v.d) < 9.2e18)
			i = (int64) idx->v.d;
		else
		{
			cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no matching overload for index of list with %s",
						   cel_type_name(idx));
			return;
		}
		if (i < 0 || i >= n)
		{
			if (optional)
			{
				out->kind = CEL_OPTIONAL;
				out->v.opt = NULL;
				return;
			}
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index out of range: " INT64_FORMAT, i);
			return;
		}
		if (optional)
		{
			out->kind = CEL_OPTIONAL;
			out->v.opt = palloc(sizeof(CelValue));
			cel_list_get(c->v.list, (int) i, out->v.opt);
			return;
		}
		cel_list_get(c->v.list, (int) i, out);
		return;
	}
	if (c->kind == CEL_MAP)
	{
		CelValue	val;

		if (!cel_valid_map_key(idx) && idx->kind != CEL_DOUBLE)
		{
			cel_make_error(out, CEL_ERR_NO_OVERLOAD, "unsupported key type: %s", cel_type_name(idx));
			return;
		}
		if (cel_map_lookup(c->v.map, idx, &val))
		{
			if (optional)
			{
				out->kind = CEL_OPTIONAL;
				out->v.opt = palloc(sizeof(CelValue));
				*out->v.opt = val;
			}
			else
				*out = val;
			return;
		}
		if (optional)
		{
			out->kind = CEL_OPTIONAL;
			out->v.opt = NULL;
			return;
		}
		{
			StringInfoData buf;

			initStringInfo(&buf);
			cel_value_out(&buf, idx);
			cel_make_error(out, CEL_ERR_NO_SUCH_KEY, "no such key: %s", buf.data);
		}
		return;
	}
	cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no matching overload for index of %s",
				   cel_type_name(c));
}

/* a growable list of values built by comprehensions */
typedef struct ValBuf
{
	int			n;
	int			cap;
	CelValue   *items;
} ValBuf;

static void
valbuf_add(ValBuf *b, const CelValue *v)
{
	if (b->n == b->cap)
	{
		b->cap = b->cap ? b->cap * 2 : 8;
		cel_check_alloc((Size) b->cap * sizeof(CelValue), "list");
		b->items = b->items ? repalloc(b->items, b->cap * sizeof(CelValue)) :
			palloc(b->cap * sizeof(CelValue));
	}
	b->items[b->n++] = *v;
}

/* what a comprehension has gathered so far */
typedef struct ComprehensionState
{
	CelValue	err;			/* all/exists: the first error, kept for the end */
	bool		have_err;
	int			count;			/* exists_one: elements that held */
	ValBuf		res;			/* map/filter/transform*: values */
	ValBuf		reskeys;		/* transformMap: keys */
} ComprehensionState;

/* optMap / optFlatMap: the body over the value of an optional, if any */
static void
eval_optional_macro(CelEnv *env, const CelExpr *e, const CelValue *range, CelValue *out)
{
	int			saved = env->nlocals;
	CelValue	r;

	if (range->kind != CEL_OPTIONAL)
	{
		cel_make_error(out, CEL_ERR_NO_OVERLOAD, "%s applies to optional values, not %s",
					   e->macro == MACRO_OPT_MAP ? "optMap" : "optFlatMap", cel_type_name(range));
		return;
	}
	if (range->v.opt == NULL)
	{
		*out = *range;
		return;
	}
	push_local(env, e->var1, range->v.opt);
	cel_eval(env, e->body, &r);
	env->nlocals = saved;
	if (r.kind == CEL_ERROR)
		*out = r;
	else if (e->macro == MACRO_OPT_MAP)
	{
		out->kind = CEL_OPTIONAL;
		out->v.opt = palloc(sizeof(CelValue));
		*out->v.opt = r;
	}
	else if (r.kind != CEL_OPTIONAL)
		cel_make_error(out, CEL_ERR_NO_OVERLOAD, "optFlatMap expression must return an optional value");
	else
		*out = r;
}

/*
 * One element of a comprehension, its variables bound: true when the
 * comprehension is decided (*out set, locals unbound), false to go on.
 */
static bool
comprehension_step(CelEnv *env, const CelExpr *e, const CelValue *v1, int saved,
				   ComprehensionState *st, CelValue *out)
{
	CelValue	r;

	switch (e->macro)
	{
		case MACRO_ALL:
		case MACRO_EXISTS:
			{
				bool		stop_on = (e->macro == MACRO_EXISTS);

				cel_eval(env, e->body, &r);
				if (r.kind == CEL_BOOL)
				{
					if (r.v.b == stop_on)
					{
						env->nlocals = saved;
						out->kind = CEL_BOOL;
						out->v.b = stop_on;
						return true;
					}
				}
				else if (!st->have_err)
				{
					if (r.kind == CEL_ERROR)
						st->err = r;
					else
						cel_make_error(&st->err, CEL_ERR_NO_OVERLOAD, "no matching overload: macro predicate is not a bool");
					st->have_err = true;
				}
				return false;
			}
		case MACRO_EXISTS_ONE:
			cel_eval(env, e->body, &r);
			if (r.kind != CEL_BOOL)
			{
				env->nlocals = saved;
				if (r.kind == CEL_ERROR)
					*out = r;
				else
					cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no matching overload: macro predicate is not a bool");
				return true;
			}
			if (r.v.b)
				st->count++;
			return false;
		case MACRO_MAP:
		case MACRO_FILTER:
		case MACRO_TRANSFORM_LIST:
		case MACRO_TRANSFORM_MAP:
			{
				const CelExpr *pred = e->filter;

				if (pred)
				{
					cel_eval(env, pred, &r);
					if (r.kind != CEL_BOOL)
					{
						env->nlocals = saved;
						if (r.kind == CEL_ERROR)
							*out = r;
						else
							cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no matching overload: macro predicate is not a bool");
						return true;
					}
					if (!r.v.b)
						return false;
				}
				if (e->macro == MACRO_FILTER)
				{
					valbuf_add(&st->res, v1);
					return false;
				}
				cel_eval(env, e->body, &r);
				if (r.kind == CEL_ERROR)
				{
					env->nlocals = saved;
					*out = r;
					return true;
				}
				valbuf_add(&st->res, &r);
				if (e->macro == MACRO_TRANSFORM_MAP)
					valbuf_add(&st->reskeys, v1);
				return false;
			}
		default:
			return false;
	}
}

/* the result of a comprehension that ran over every element */
static void
comprehension_result(const CelExpr *e, ComprehensionState *st, CelValue *out)
{
	switch (e->macro)
	{
		case MACRO_ALL:
		case MACRO_EXISTS:
			if (st->have_err)
				*out = st->err;
			else
			{
				out->kind = CEL_BOOL;
				out->v.b = (e->macro == MACRO_ALL);
			}
			return;
		case MACRO_EXISTS_ONE:
			out->kind = CEL_BOOL;
			out->v.b = (st->count == 1);
			return;
		case MACRO_TRANSFORM_MAP:
			cel_make_map(out, st->res.n, st->reskeys.items, st->res.items);
			return;
		default:
			cel_make_list(out, st->res.n, st->res.items);
			return;
	}
}

static pg_noinline void
eval_comprehension(CelEnv *env, const CelExpr *e, CelValue *out)
{
	CelValue	range;
	int			n,
				i;
	bool		is_map;
	int			saved = env->nlocals;
	ComprehensionState st;

	memset(&st, 0, sizeof(st));
	cel_eval(env, e->target, &range);
	if (range.kind == CEL_ERROR)
	{
		*out = range;
		return;
	}
	if (e->macro == MACRO_OPT_MAP || e->macro == MACRO_OPT_FLAT_MAP)
	{
		eval_optional_macro(env, e, &range, out);
		return;
	}
	if (e->macro == MACRO_BIND)
	{
		/* cel.bind: the body once, its variable bound to the initial value */
		push_local(env, e->var1, &range);
		cel_eval(env, e->body, out);
		env->nlocals = saved;
		return;
	}
	if (range.kind == CEL_LIST)
	{
		is_map = false;
		n = cel_list_size(range.v.list);
	}
	else if (range.kind == CEL_MAP)
	{
		is_map = true;
		n = cel_map_size(range.v.map);
	}
	else
	{
		cel_make_error(out, CEL_ERR_NO_OVERLOAD, "comprehension over %s is not supported",
					   cel_type_name(&range));
		return;
	}

	for (i = 0; i < n; i++)
	{
		CelValue	v1,
					v2;

		CHECK_FOR_INTERRUPTS();
		cel_charge(env, 1);
		if (is_map)
			cel_map_entry(range.v.map, i, &v1, &v2);
		else
		{
			cel_list_get(range.v.list, i, &v2);
			if (e->var2)
			{
				v1.kind = CEL_INT;
				v1.v.i = i;
			}
			else
				v1 = v2;
		}
		env->nlocals = saved;
		push_local(env, e->var1, &v1);
		if (e->var2)
			push_local(env, e->var2, &v2);

		if (comprehension_step(env, e, &v1, saved, &st, out))
			return;
	}
	env->nlocals = saved;
	comprehension_result(e, &st, out);
}

static void
eval_logic(CelEnv *env, const CelExpr *e, CelValue *out)
{
	bool		is_and = (e->kind == EX_AND);
	CelValue	l,
				r;

	cel_eval(env, e->args[0], &l);
	if (l.kind == CEL_BOOL && l.v.b != is_and)
	{
		*out = l;
		return;
	}
	cel_eval(env, e->args[1], &r);
	if (r.kind == CEL_BOOL && r.v.b != is_and)
	{
		*out = r;
		return;
	}
	if (l.kind == CEL_BOOL && r.kind == CEL_BOOL)
	{
		*out = l;
		return;
	}
	if (l.kind == CEL_ERROR)
		*out = l;
	else if (r.kind == CEL_ERROR)
		*out = r;
	else
		cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no matching overload for '%s' applied to (%s, %s)",
					   is_and ? "_&&_" : "_||_", cel_type_name(&l), cel_type_name(&r));
}

/* list literals (constant ones were folded at compile time) */
static pg_noinline void
eval_list(CelEnv *env, const CelExpr *e, CelValue *out)
{
	CelValue   *items;
	int			i,
				n = 0;

	cel_check_alloc((Size) e->nargs * sizeof(CelValue), "list");
	items = palloc(Max(e->nargs, 1) * sizeof(CelValue));
	for (i = 0; i < e->nargs; i++)
	{
		CelValue	v;

		cel_eval(env, e->args[i], &v);
		if (v.kind == CEL_ERROR)
		{
			*out = v;
			return;
		}
		if (e->optional && e->optional[i])
		{
			if (v.kind != CEL_OPTIONAL)
			{
				cel_make_error(out, CEL_ERR_NO_OVERLOAD, "optional list element is not an optional value");
				return;
			}
			if (v.v.opt == NULL)
				continue;
			v = *v.v.opt;
		}
		items[n++] = v;
	}
	cel_make_list(out, n, items);
	return;
}

/* map literals */
static pg_noinline void
eval_map(CelEnv *env, const CelExpr *e, CelValue *out)
{
	CelValue   *keys = palloc(Max(e->nargs, 1) * sizeof(CelValue));
	CelValue   *vals = palloc(Max(e->nargs, 1) * sizeof(CelValue));
	int			i,
				n = 0;

	for (i = 0; i < e->nargs; i++)
	{
		CelValue	k,
					v;

		cel_eval(env, e->args[i], &k);
		if (k.kind == CEL_ERROR)
		{
			*out = k;
			return;
		}
		cel_eval(env, e->vals[i], &v);
		if (v.kind == CEL_ERROR)
		{
			*out = v;
			return;
		}
		if (!cel_valid_map_key(&k))
		{
			cel_make_error(out, CEL_ERR_NO_OVERLOAD, "unsupported key type: %s", cel_type_name(&k));
			return;
		}
		if (e->optional[i])
		{
			if (v.kind != CEL_OPTIONAL)
			{
				cel_make_error(out, CEL_ERR_NO_OVERLOAD, "optional map entry is not an optional value");
				return;
			}
			if (v.v.opt == NULL)
				continue;
			v = *v.v.opt;
		}
		for (int j = 0; j < n; j++)
		{
			if (cel_equal(&keys[j], &k))
			{
				cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "repeated map key");
				return;
			}
		}
		keys[n] = k;
		vals[n] = v;
		n++;
	}
	cel_make_map(out, n, keys, vals);
	return;
}

/* calls other than binary operators (kept out of cel_eval to keep its frame small) */
static pg_noinline void
eval_call(CelEnv *env, const CelExpr *e, CelValue *out)
{
	CelValue	argbuf[4];
	CelValue   *args;
	int			nargs = e->nargs + (e->target ? 1 : 0);
	int			k = 0,
				i;

	args = nargs <= 4 ? argbuf : palloc(nargs * sizeof(CelValue));
	if (e->target)
		cel_eval(env, e->target, &args[k++]);
	for (i = 0; i < e->nargs; i++)
		cel_eval(env, e->args[i], &args[k++]);
	for (i = 0; i < nargs; i++)
	{
		if (args[i].kind == CEL_ERROR)
		{
			*out = args[i];
			return;
		}
	}
	if (e->fn == CEL_OP_INDEX || e->fn == CEL_OP_OPT_INDEX)
	{
		eval_index(&args[0], &args[1], e->fn == CEL_OP_OPT_INDEX, out);
		return;
	}
	cel_call_function(env, e, nargs, args, out);
	return;
}

void
cel_eval(CelEnv *env, const CelExpr *e, CelValue *out)
{
	/*
	 * Subtrees below height 16 cannot use much stack; every deep recursion
	 * passes through taller nodes, which check.
	 */
	if (e->height >= 16)
		check_stack_depth();
	cel_charge(env, 1);
	switch (e->kind)
	{
		case EX_CONST:
			*out = e->cval;
			return;
		case EX_IDENT:
			if (!resolve_ident(env, e, out))
				cel_make_error(out, CEL_ERR_UNKNOWN_VARIABLE,
							   "undeclared reference to '%s' (in container '')", e->name);
			return;
		case EX_SELECT:
			{
				CelValue	operand;

				if (e->qualname)
				{
					eval_qualified(env, e, out);
					return;
				}
				cel_eval(env, e->target, &operand);
				if (operand.kind == CEL_ERROR)
				{
					*out = operand;
					return;
				}
				select_field(e, &operand, out);
				return;
			}
		case EX_AND:
		case EX_OR:
			eval_logic(env, e, out);
			return;
		case EX_COND:
			{
				CelValue	c;

				cel_eval(env, e->target, &c);
				if (c.kind == CEL_BOOL)
					cel_eval(env, c.v.b ? e->args[0] : e->args[1], out);
				else if (c.kind == CEL_ERROR)
					*out = c;
				else
					cel_make_error(out, CEL_ERR_NO_OVERLOAD,
								   "no matching overload for '_?_:_' applied to %s", cel_type_name(&c));
				return;
			}
		case EX_LIST:
			eval_list(env, e, out);
			return;
		case EX_MAP:
			eval_map(env, e, out);
			return;
		case EX_STRUCT:
			cel_make_error(out, CEL_ERR_NO_OVERLOAD,
						   "message construction (%s{...}) is not supported: protobuf messages are out of scope",
						   e->name);
			return;
		case EX_COMPREHENSION:
			eval_comprehension(env, e, out);
			return;
		case EX_CALL:
			if (e->target == NULL && e->nargs == 2 && e->fn >= CEL_OP_ADD && e->fn <= CEL_OP_IN &&
				e->fn != CEL_OP_NEG && e->fn != CEL_OP_NOT)
			{
				/* binary operators: the common case of rules, without the argument loop */
				CelValue	args[2];

				cel_eval(env, e->args[0], &args[0]);
				if (args[0].kind == CEL_ERROR)
				{
					*out = args[0];
					return;
				}
				cel_eval(env, e->args[1], &args[1]);
				if (args[1].kind == CEL_ERROR)
				{
					*out = args[1];
					return;
				}
				cel_call_function(env, e, 2, args, out);
				return;
			}
			eval_call(env, e, out);
			return;
	}
	cel_make_error(out, CEL_ERR_GENERIC, "unsupported expression");
}
