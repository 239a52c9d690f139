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
