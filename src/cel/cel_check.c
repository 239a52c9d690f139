/*-------------------------------------------------------------------------
 *
 * cel_check.c
 *	  Static information about a parsed CEL expression: the variables it
 *	  reads and the functions it calls that do not exist (for rule_check and
 *	  editors), and constant folding of literal
 *	  lists and maps, so that `c in ["x", "y"]` does not rebuild its list
 *	  for every row.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "cel/cel_int.h"

typedef struct Scope
{
	const char *names[64];
	int			n;
	int			overflow;		/* names beyond 64 (deep nesting): not tracked */
} Scope;

static bool
in_scope(Scope *s, const char *name)
{
	int			i;

	for (i = s->n - 1; i >= 0; i--)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static void
add_var(CelProgram *prog, int *cap, const char *name)
{
	int			i;

	for (i = 0; i < prog->nvars; i++)
		if (strcmp(prog->vars[i], name) == 0)
			return;
	if (prog->nvars == *cap)
	{
		*cap = *cap ? *cap * 2 : 8;
		prog->vars = prog->vars ? repalloc(prog->vars, *cap * sizeof(char *)) :
			palloc(*cap * sizeof(char *));
	}
	prog->vars[prog->nvars++] = name;
}

static const char *const builtin_idents[] = {
	"int", "uint", "double", "bool", "string", "bytes", "list", "map",
	"null_type", "type", "optional_type", NULL
};

static void
walk(CelProgram *prog, int *cap, Scope *scope, const CelExpr *e)
{
	int			i;

	if (e == NULL)
		return;
	check_stack_depth();
	switch (e->kind)
	{
		case EX_IDENT:
			if (!in_scope(scope, e->name))
			{
				const char *const *b;

				for (b = builtin_idents; *b; b++)
					if (strcmp(*b, e->name) == 0)
						return;
				add_var(prog, cap, e->name);
			}
			return;
		case EX_COMPREHENSION:
			{
				int			saved = scope->n;

				walk(prog, cap, scope, e->target);
				if (scope->n < 63)
				{
					scope->names[scope->n++] = e->var1;
					if (e->var2)
						scope->names[scope->n++] = e->var2;
				}
				walk(prog, cap, scope, e->filter);
				walk(prog, cap, scope, e->body);
				scope->n = saved;
				return;
			}
		default:
			break;
	}
	walk(prog, cap, scope, e->target);
	for (i = 0; i < e->nargs; i++)
	{
		if (e->args)
			walk(prog, cap, scope, e->args[i]);
		if (e->vals)
			walk(prog, cap, scope, e->vals[i]);
	}
}

void
cel_collect_variables(CelProgram *prog)
{
	Scope		scope;
	int			cap = 0;

	scope.n = 0;
	prog->nvars = 0;
	prog->vars = NULL;
	if (prog->root)
		walk(prog, &cap, &scope, prog->root);
	prog->is_constant = (prog->nvars == 0);
}

/*
 * Replace list and map literals whose elements are all constants by one
 * constant, so that evaluation does not rebuild them (c in ["x", "y"]).
 * Maps with repeated or invalid keys are left alone: evaluation reports them.
 */
void
cel_fold_constants(CelExpr *e)
{
	int			i;

	if (e == NULL)
		return;
	check_stack_depth();
	cel_fold_constants(e->target);
	cel_fold_constants(e->filter);
	cel_fold_constants(e->body);
	for (i = 0; i < e->nargs; i++)
	{
		if (e->args)
			cel_fold_constants(e->args[i]);
		if (e->vals)
			cel_fold_constants(e->vals[i]);
	}
	if (e->kind == EX_LIST)
	{
		CelValue   *items;

		for (i = 0; i < e->nargs; i++)
			if (e->args[i]->kind != EX_CONST || (e->optional && e->optional[i]))
				return;
		items = palloc(Max(e->nargs, 1) * sizeof(CelValue));
		for (i = 0; i < e->nargs; i++)
			items[i] = e->args[i]->cval;
		cel_make_list(&e->cval, e->nargs, items);
		e->kind = EX_CONST;
	}
	else if (e->kind == EX_MAP)
	{
		CelValue   *keys,
				   *vals;

		for (i = 0; i < e->nargs; i++)
		{
			if (e->args[i]->kind != EX_CONST || e->vals[i]->kind != EX_CONST ||
				e->optional[i] || !cel_valid_map_key(&e->args[i]->cval))
				return;
			for (int j = 0; j < i; j++)
				if (cel_equal(&e->args[j]->cval, &e->args[i]->cval))
					return;
		}
		keys = palloc(Max(e->nargs, 1) * sizeof(CelValue));
		vals = palloc(Max(e->nargs, 1) * sizeof(CelValue));
		for (i = 0; i < e->nargs; i++)
		{
			keys[i] = e->args[i]->cval;
			vals[i] = e->vals[i]->cval;
		}
		cel_make_map(&e->cval, e->nargs, keys, vals);
		e->kind = EX_CONST;
	}
}

/*
 * Static check for editors (rule_check): calls of functions that are neither
 * built in nor known to is_known (the registered SQL functions), methods that
 * do not exist, and message construction.  Problems are appended to
 * *errors (grown with repalloc), *nerrors counts them.
 */
typedef struct CheckState
{
	CelKnownFunction is_known;
	void	   *ctx;
	CelParseError *errors;
	int			n;
	int			cap;
} CheckState;

static void
add_problem(CheckState *cs, int pos, char *message)
{
	if (cs->n == cs->cap)
	{
		cs->cap = cs->cap ? cs->cap * 2 : 4;
		cs->errors = cs->errors ? repalloc(cs->errors, cs->cap * sizeof(CelParseError)) :
			palloc(cs->cap * sizeof(CelParseError));
	}
	cs->errors[cs->n].pos = pos;
	cs->errors[cs->n].message = message;
	cs->errors[cs->n].too_deep = false;
	cs->n++;
}

static void
check_calls(const CelExpr *e, CheckState *cs)
{
	int			i;

	if (e == NULL)
		return;
	check_stack_depth();
	if (e->kind == EX_CALL && e->fn == CEL_FN_UNKNOWN)
	{
		if (e->target)
			add_problem(cs, e->pos, psprintf("unknown method '%s'", e->name));
		else if (!cs->is_known || !cs->is_known(cs->ctx, e->name))
			add_problem(cs, e->pos, psprintf(strchr(e->name, '.') ? "unknown function or method '%s'" :
											 "unknown function '%s'", e->name));
	}
	if (e->kind == EX_STRUCT)
		add_problem(cs, e->pos, psprintf("message construction (%s{...}) is not supported", e->name));
	check_calls(e->target, cs);
	check_calls(e->filter, cs);
	check_calls(e->body, cs);
	for (i = 0; i < e->nargs; i++)
	{
		if (e->args)
			check_calls(e->args[i], cs);
		if (e->vals)
			check_calls(e->vals[i], cs);
	}
}

int
cel_check_calls(CelProgram *prog, CelKnownFunction is_known, void *ctx, CelParseError **errors)
{
	CheckState	cs = {is_known, ctx, NULL, 0, 0};

	check_calls(prog->root, &cs);
	*errors = cs.errors;
	return cs.n;
}

/* ---- optional type check against declared variable types ---- */

typedef struct TypeState
{
	const CelTypeEnv *env;
	CheckState	problems;
	int			nlocals;
	const char *local_names[64];
	CelDeclType local_types[64];
} TypeState;

static const char *const tag_names[] = {
	"dyn", "null", "bool", "int", "uint", "double", "number", "string", "bytes",
	"list", "map", "timestamp", "duration", "type"
};

const char *
cel_type_tag_name(CelTypeTag t)
{
	return tag_names[t];
}

/* kinds that operators tell apart; 0: dyn (anything goes) */
static int
family(CelTypeTag t)
{
	switch (t)
	{
		case CT_INT:
		case CT_UINT:
		case CT_DOUBLE:
		case CT_NUMBER:
			return 1;
		case CT_DYN:
			return 0;
		default:
			return 2 + (int) t;
	}
}

static CelDeclType
ty(CelTypeTag tag)
{
	CelDeclType t;

	t.tag = tag;
	t.handle = NULL;
	t.max_size = -1;
	return t;
}

/* costs: -1 is "unbounded"; saturating */
static int64
cost_add(int64 a, int64 b)
{
	if (a < 0 || b < 0)
		return -1;
	return (a > PG_INT64_MAX / 2 || b > PG_INT64_MAX / 2) ? PG_INT64_MAX / 2 : a + b;
}

static int64
cost_mul(int64 a, int64 b)
{
	if (a < 0 || b < 0)
		return -1;
	if (a != 0 && b > (PG_INT64_MAX / 2) / a)
		return PG_INT64_MAX / 2;
	return a * b;
}

static CelDeclType tcheck(TypeState *ts, const CelExpr *e, int64 *cost);

static void
want(TypeState *ts, const CelExpr *e, CelDeclType t, CelTypeTag tag, const char *what)
{
	if (t.tag != CT_DYN && t.tag != tag)
		add_problem(&ts->problems, e->pos, psprintf("%s must be %s, not %s", what,
													tag_names[tag], tag_names[t.tag]));
}

static CelDeclType
local_type(TypeState *ts, const char *name, bool *found)
{
	for (int i = ts->nlocals - 1; i >= 0; i--)
		if (strcmp(ts->local_names[i], name) == 0)
		{
			*found = true;
			return ts->local_types[i];
		}
	*found = false;
	return ty(CT_DYN);
}

static CelDeclType
select_field(TypeState *ts, const CelExpr *e, CelDeclType t)
{
	CelDeclType out = ty(CT_DYN);
	int			r;

	if (t.tag == CT_DYN)
		return out;
	if (t.tag != CT_MAP)
	{
		add_problem(&ts->problems, e->pos, psprintf("'%s' is selected from a %s, which has no fields",
													e->name, tag_names[t.tag]));
		return out;
	}
	if (t.handle == NULL || ts->env->field == NULL)
		return out;
	r = ts->env->field(ts->env->ctx, &t, e->name, &out);
	if (r == 0)
		add_problem(&ts->problems, e->pos, psprintf("no such field '%s' in the schema", e->name));
	return r == 1 ? out : ty(CT_DYN);
}

/* the result type of a named function or method (a small table; dyn otherwise) */
static CelTypeTag
named_result(const char *name)
{
	static const char *const to_bool[] = {"startsWith", "endsWith", "contains", "matches", "bool", NULL};
	static const char *const to_int[] = {"size", "int", "indexOf", "lastIndexOf", "getFullYear",
	"getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes",
	"getSeconds", "getMilliseconds", NULL};
	static const char *const to_string[] = {"string", "lowerAscii", "upperAscii", "trim", "replace",
	"substring", "format", "join", "charAt", NULL};

	for (int i = 0; to_bool[i]; i++)
		if (strcmp(name, to_bool[i]) == 0)
			return CT_BOOL;
	for (int i = 0; to_int[i]; i++)
		if (strcmp(name, to_int[i]) == 0)
			return CT_INT;
	for (int i = 0; to_string[i]; i++)
		if (strcmp(name, to_string[i]) == 0)
			return CT_STRING;
	if (strcmp(name, "double") == 0)
		return CT_DOUBLE;
	if (strcmp(name, "uint") == 0)
		return CT_UINT;
	if (strcmp(name, "timestamp") == 0)
		return CT_TIMESTAMP;
	if (strcmp(name, "duration") == 0)
		return CT_DURATION;
	return CT_DYN;
}

static const char *
op_text(int fn)
{
	switch (fn)
	{
		case CEL_OP_ADD: return "+";
		case CEL_OP_SUB: return "-";
		case CEL_OP_MUL: return "*";
		case CEL_OP_DIV: return "/";
		case CEL_OP_MOD: return "%";
		case CEL_OP_EQ: return "==";
		case CEL_OP_NE: return "!=";
		case CEL_OP_LT: return "<";
		case CEL_OP_LE: return "<=";
		case CEL_OP_GT: return ">";
		case CEL_OP_GE: return ">=";
		default: return "?";
	}
}

static bool
is_time(CelTypeTag t)
{
	return t == CT_TIMESTAMP || t == CT_DURATION;
}

static CelDeclType
check_arith(TypeState *ts, const CelExpr *e, CelDeclType l, CelDeclType r)
{
	int			fl = family(l.tag),
				fr = family(r.tag);

	if (fl == 0 || fr == 0)
		return ty(fl == 1 || fr == 1 ? CT_DYN : CT_DYN);
	if (e->fn == CEL_OP_ADD)
	{
		if (fl == fr && (l.tag == CT_STRING || l.tag == CT_BYTES || l.tag == CT_LIST))
			return ty(l.tag);
		if (is_time(l.tag) && is_time(r.tag) && !(l.tag == CT_TIMESTAMP && r.tag == CT_TIMESTAMP))
			return ty(l.tag == CT_TIMESTAMP || r.tag == CT_TIMESTAMP ? CT_TIMESTAMP : CT_DURATION);
	}
	if (e->fn == CEL_OP_SUB && is_time(l.tag) && is_time(r.tag) &&
		!(l.tag == CT_DURATION && r.tag == CT_TIMESTAMP))
		return ty(l.tag == r.tag ? CT_DURATION : CT_TIMESTAMP);
	if (fl == 1 && fr == 1)
	{
		/* int and double do not mix in CEL arithmetic (a JSON number may be either) */
		if (l.tag != CT_NUMBER && r.tag != CT_NUMBER && l.tag != r.tag)
			add_problem(&ts->problems, e->pos,
						psprintf("no matching overload for '%s' applied to (%s, %s): convert one side with %s()",
								 op_text(e->fn), tag_names[l.tag], tag_names[r.tag],
								 l.tag == CT_DOUBLE || r.tag == CT_DOUBLE ? "double" : "int"));
		if (l.tag == r.tag)
			return ty(l.tag);
		return ty(CT_NUMBER);
	}
	add_problem(&ts->problems, e->pos, psprintf("no matching overload for '%s' applied to (%s, %s)",
												op_text(e->fn), tag_names[l.tag], tag_names[r.tag]));
	return ty(CT_DYN);
}

static void
check_compare(TypeState *ts, const CelExpr *e, CelDeclType l, CelDeclType r)
{
	int			fl = family(l.tag),
				fr = family(r.tag);
	bool		equality = (e->fn == CEL_OP_EQ || e->fn == CEL_OP_NE);

	if (fl == 0 || fr == 0)
		return;
	/* anything may be compared with null for equality */
	if (equality && (l.tag == CT_NULL || r.tag == CT_NULL))
		return;
	if (fl != fr)
		add_problem(&ts->problems, e->pos,
					psprintf("'%s' compares %s with %s", op_text(e->fn),
							 tag_names[l.tag], tag_names[r.tag]));
	else if (!equality && (l.tag == CT_LIST || l.tag == CT_MAP || l.tag == CT_NULL))
		add_problem(&ts->problems, e->pos,
					psprintf("'%s' does not order values of type %s", op_text(e->fn), tag_names[l.tag]));
}

static CelDeclType
check_call(TypeState *ts, const CelExpr *e, int64 *cost)
{
	CelDeclType a[2] = {{CT_DYN, NULL, -1}, {CT_DYN, NULL, -1}};
	CelDeclType recv = ty(CT_DYN);
	int64		c = 1;

	if (e->target)
	{
		int64		tc = 0;

		recv = tcheck(ts, e->target, &tc);
		c = cost_add(c, tc);
		/* linear in the receiver's length (strings, lists) when it is bounded */
		if (recv.max_size > 0)
			c = cost_add(c, recv.max_size);
	}
	for (int i = 0; i < e->nargs; i++)
	{
		int64		ac = 0;
		CelDeclType t = tcheck(ts, e->args[i], &ac);

		if (i < 2)
			a[i] = t;
		c = cost_add(c, ac);
	}
	*cost = c;
	switch (e->fn)
	{
		case CEL_OP_ADD:
		case CEL_OP_SUB:
		case CEL_OP_MUL:
		case CEL_OP_DIV:
		case CEL_OP_MOD:
			if (e->nargs == 2)
				return check_arith(ts, e, a[0], a[1]);
			return ty(CT_DYN);
		case CEL_OP_NEG:
			if (family(a[0].tag) > 1 && a[0].tag != CT_DURATION)
				add_problem(&ts->problems, e->pos, psprintf("'-' does not negate a %s", tag_names[a[0].tag]));
			return a[0];
		case CEL_OP_NOT:
			want(ts, e, a[0], CT_BOOL, "the operand of '!'");
			return ty(CT_BOOL);
		case CEL_OP_EQ:
		case CEL_OP_NE:
		case CEL_OP_LT:
		case CEL_OP_LE:
		case CEL_OP_GT:
		case CEL_OP_GE:
			if (e->nargs == 2)
				check_compare(ts, e, a[0], a[1]);
			return ty(CT_BOOL);
		case CEL_OP_IN:
			if (a[1].tag != CT_DYN && a[1].tag != CT_LIST && a[1].tag != CT_MAP)
				add_problem(&ts->problems, e->pos, psprintf("'in' needs a list or a map on its right, not %s",
															tag_names[a[1].tag]));
			return ty(CT_BOOL);
		case CEL_OP_INDEX:
		case CEL_OP_OPT_INDEX:
			if (e->fn == CEL_OP_INDEX && a[0].tag == CT_LIST && ts->env->elem)
			{
				CelDeclType el = ty(CT_DYN);

				ts->env->elem(ts->env->ctx, &a[0], &el);
				return el;
			}
			if (e->fn == CEL_OP_INDEX && a[0].tag == CT_MAP && e->nargs == 2 &&
				e->args[1]->kind == EX_CONST && e->args[1]->cval.kind == CEL_STRING &&
				a[0].handle && ts->env->field)
			{
				CelDeclType f = ty(CT_DYN);
				char	   *name = pnstrdup(e->args[1]->cval.v.s.data, e->args[1]->cval.v.s.len);
				int			r = ts->env->field(ts->env->ctx, &a[0], name, &f);

				if (r == 0)
					add_problem(&ts->problems, e->args[1]->pos, psprintf("no such field '%s' in the schema", name));
				return r == 1 ? f : ty(CT_DYN);
			}
			if (a[0].tag != CT_DYN && a[0].tag != CT_LIST && a[0].tag != CT_MAP)
				add_problem(&ts->problems, e->pos, psprintf("a %s cannot be indexed", tag_names[a[0].tag]));
			return ty(CT_DYN);
		default:
			break;
	}
	if (e->target && e->name &&
		(strcmp(e->name, "startsWith") == 0 || strcmp(e->name, "endsWith") == 0 ||
		 strcmp(e->name, "matches") == 0 || strcmp(e->name, "lowerAscii") == 0 ||
		 strcmp(e->name, "upperAscii") == 0 || strcmp(e->name, "trim") == 0))
	{
		want(ts, e, recv, CT_STRING, psprintf("the receiver of %s()", e->name));
		if (e->nargs >= 1 && strcmp(e->name, "trim") != 0 && strcmp(e->name, "lowerAscii") != 0 &&
			strcmp(e->name, "upperAscii") != 0)
			want(ts, e->args[0], a[0], CT_STRING, psprintf("the argument of %s()", e->name));
	}
	if (e->name && strcmp(e->name, "size") == 0)
	{
		CelDeclType of = e->target ? recv : a[0];

		if (family(of.tag) != 0 && of.tag != CT_STRING && of.tag != CT_BYTES &&
			of.tag != CT_LIST && of.tag != CT_MAP)
			add_problem(&ts->problems, e->pos, psprintf("size() of a %s", tag_names[of.tag]));
	}
	return ty(e->name ? named_result(e->name) : CT_DYN);
}

static CelDeclType
tcheck(TypeState *ts, const CelExpr *e, int64 *cost)
{
	CelDeclType t = ty(CT_DYN);
	int64		c1 = 0,
				c2 = 0,
				c3 = 0;

	*cost = 1;
	if (e == NULL)
		return t;
	check_stack_depth();
	switch (e->kind)
	{
		case EX_CONST:
			switch (e->cval.kind)
			{
				case CEL_NULL: return ty(CT_NULL);
				case CEL_BOOL: return ty(CT_BOOL);
				case CEL_INT: return ty(CT_INT);
				case CEL_UINT: return ty(CT_UINT);
				case CEL_DOUBLE: return ty(CT_DOUBLE);
				case CEL_STRING: return ty(CT_STRING);
				case CEL_BYTES: return ty(CT_BYTES);
				case CEL_LIST: return ty(CT_LIST);
				case CEL_MAP: return ty(CT_MAP);
				default: return t;
			}
		case EX_IDENT:
			{
				bool		found;
				const char *const *b;

				t = local_type(ts, e->name, &found);
				if (found)
					return t;
				for (b = builtin_idents; *b; b++)
					if (strcmp(*b, e->name) == 0)
						return ty(CT_TYPE);
				if (ts->env->variable && !ts->env->variable(ts->env->ctx, e->name, &t))
				{
					add_problem(&ts->problems, e->pos, psprintf("undeclared reference to '%s'", e->name));
					return ty(CT_DYN);
				}
				return t;
			}
		case EX_SELECT:
			t = tcheck(ts, e->target, &c1);
			*cost = cost_add(1, c1);
			if (e->opt_select)
				return ty(CT_DYN);
			t = select_field(ts, e, t);
			return e->test_only ? ty(CT_BOOL) : t;
		case EX_CALL:
			return check_call(ts, e, cost);
		case EX_AND:
		case EX_OR:
			{
				int64		c = 1;

				for (int i = 0; i < e->nargs; i++)
				{
					CelDeclType a = tcheck(ts, e->args[i], &c1);

					want(ts, e->args[i], a, CT_BOOL, e->kind == EX_AND ? "an operand of '&&'" : "an operand of '||'");
					c = cost_add(c, c1);
				}
				if (e->target)
				{
					CelDeclType a = tcheck(ts, e->target, &c1);

					want(ts, e->target, a, CT_BOOL, e->kind == EX_AND ? "an operand of '&&'" : "an operand of '||'");
					c = cost_add(c, c1);
				}
				*cost = c;
				return ty(CT_BOOL);
			}
		case EX_COND:
			{
				CelDeclType cnd = tcheck(ts, e->target, &c1);
				CelDeclType a = tcheck(ts, e->args[0], &c2);
				CelDeclType b = tcheck(ts, e->args[1], &c3);

				want(ts, e->target, cnd, CT_BOOL, "the condition of '?:'");
				*cost = cost_add(1, cost_add(c1, Max(c2, c3) < 0 || c2 < 0 || c3 < 0 ? -1 : Max(c2, c3)));
				return a.tag == b.tag ? a : ty(CT_DYN);
			}
		case EX_LIST:
		case EX_MAP:
			{
				int64		c = 1;

				for (int i = 0; i < e->nargs; i++)
				{
					if (e->args)
					{
						(void) tcheck(ts, e->args[i], &c1);
						c = cost_add(c, c1);
					}
					if (e->vals)
					{
						(void) tcheck(ts, e->vals[i], &c1);
						c = cost_add(c, c1);
					}
				}
				*cost = c;
				return ty(e->kind == EX_LIST ? CT_LIST : CT_MAP);
			}
		case EX_COMPREHENSION:
			{
				CelDeclType range = tcheck(ts, e->target, &c1);
				CelDeclType v1 = ty(CT_DYN),
							v2 = ty(CT_DYN);
				int			saved = ts->nlocals;
				CelDeclType body;

				if (range.tag == CT_LIST)
				{
					if (ts->env->elem)
						ts->env->elem(ts->env->ctx, &range, &v1);
					if (e->var2)
					{
						v2 = v1;
						v1 = ty(CT_INT);
					}
				}
				else if (range.tag == CT_MAP)
					v1 = ty(CT_STRING);
				else if (range.tag != CT_DYN)
					add_problem(&ts->problems, e->pos, psprintf("a comprehension needs a list or a map, not %s",
																tag_names[range.tag]));
				if (ts->nlocals < 62)
				{
					ts->local_names[ts->nlocals] = e->var1;
					ts->local_types[ts->nlocals++] = v1;
					if (e->var2)
					{
						ts->local_names[ts->nlocals] = e->var2;
						ts->local_types[ts->nlocals++] = v2;
					}
				}
				if (e->filter)
				{
					CelDeclType f = tcheck(ts, e->filter, &c2);

					if (e->macro != MACRO_MAP && e->macro != MACRO_TRANSFORM_LIST && e->macro != MACRO_TRANSFORM_MAP)
						want(ts, e->filter, f, CT_BOOL, "the predicate");
				}
				body = tcheck(ts, e->body, &c3);
				ts->nlocals = saved;
				if (e->macro == MACRO_ALL || e->macro == MACRO_EXISTS || e->macro == MACRO_EXISTS_ONE ||
					e->macro == MACRO_FILTER)
					want(ts, e->body, body, CT_BOOL, "the predicate");
				/* the body runs once per element: bounded when the range is */
				*cost = cost_add(1, cost_add(c1, cost_mul(range.max_size < 0 ? -1 : range.max_size,
														  cost_add(c2, c3))));
				switch (e->macro)
				{
					case MACRO_ALL:
					case MACRO_EXISTS:
					case MACRO_EXISTS_ONE:
						return ty(CT_BOOL);
					case MACRO_FILTER:
						return range;
					case MACRO_MAP:
					case MACRO_TRANSFORM_LIST:
						return ty(CT_LIST);
					case MACRO_TRANSFORM_MAP:
						return ty(CT_MAP);
					default:
						return ty(CT_DYN);
				}
			}
		case EX_STRUCT:
		default:
			return t;
	}
}

int
cel_check_types(CelProgram *prog, const CelTypeEnv *env, bool want_bool,
				CelParseError **problems, int64 *cost)
{
	TypeState	ts;
	CelDeclType t;
	int64		c = 0;

	memset(&ts, 0, sizeof(ts));
	ts.env = env;
	t = tcheck(&ts, prog->root, &c);
	if (want_bool && t.tag != CT_DYN && t.tag != CT_BOOL)
		add_problem(&ts.problems, 0, psprintf("a rule must give a bool, this one gives %s", tag_names[t.tag]));
	if (!want_bool && t.tag != CT_DYN && t.tag != CT_STRING)
		add_problem(&ts.problems, 0, psprintf("a messageExpression must give a string, this one gives %s",
											  tag_names[t.tag]));
	*problems = ts.problems.errors;
	if (cost)
		*cost = c;
	return ts.problems.n;
}
