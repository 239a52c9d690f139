/*-------------------------------------------------------------------------
 *
 * cel_parse.c
 *	  Hand-written recursive descent parser of CEL (doc/langdef.md grammar).
 *
 *	  Expr           = ConditionalOr ["?" ConditionalOr ":" Expr]
 *	  ConditionalOr  = [ConditionalOr "||"] ConditionalAnd
 *	  ConditionalAnd = [ConditionalAnd "&&"] Relation
 *	  Relation       = [Relation Relop] Addition
 *	  Addition       = [Addition ("+" | "-")] Multiplication
 *	  Multiplication = [Multiplication ("*" | "/" | "%")] Unary
 *	  Unary          = Member | "!" {"!"} Member | "-" {"-"} Member
 *	  Member         = Primary | Member "." SELECTOR ["(" [ExprList] ")"]
 *	                 | Member "[" Expr "]"
 *	  Primary        = ["."] IDENT ["(" [ExprList] ")"] | "(" Expr ")"
 *	                 | "[" [ExprList] [","] "]" | "{" [MapInits] [","] "}"
 *	                 | ["."] SELECTOR { "." SELECTOR } "{" [FieldInits] "}"
 *	                 | LITERAL
 *
 * plus the optional syntax (a.?b, a[?b], [?x], {?k: v}).  Macros (has, all,
 * exists, exists_one, map, filter, the two-variable forms, optMap,
 * optFlatMap, cel.bind) are expanded here into comprehension nodes.
 *
 * Safety: no backtracking; every recursion level counts against max_depth
 * (lowcode.rules_max_depth) and so does the height of the tree built by
 * left-associative chains, so that the evaluator's recursion is bounded
 * too.  check_stack_depth() guards against a depth setting too large for
 * the stack.  Syntax errors never throw: the first one is kept with its
 * byte position and parsing stops.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "cel/cel_int.h"

typedef struct Parser
{
	CelLexer	lx;
	CelToken	tok;			/* current token */
	int			depth;
	int			max_depth;
	CelParseError *error;
} Parser;

static CelExpr *parse_expr(Parser *p);

static void
set_error(Parser *p, int pos, const char *msg)
{
	if (p->error)
		return;
	p->error = palloc0(sizeof(CelParseError));
	p->error->pos = pos;
	p->error->message = pstrdup(msg);
}

#define FAILED(p) ((p)->error != NULL)

/* the text of a token for messages: 'x', or its first 20 characters */
static char *
token_text(Parser *p, const CelToken *t)
{
	int			len = t->end - t->pos;

	if (t->tok == T_EOF)
		return pstrdup("end of expression");
	if (len <= 0)
		return pstrdup("token");
	if (len > 20)
	{
		len = 20;
		while (len > 0 && ((unsigned char) p->lx.src[t->pos + len] & 0xC0) == 0x80)
			len--;
		return psprintf("'%.*s...'", len, p->lx.src + t->pos);
	}
	return psprintf("'%.*s'", len, p->lx.src + t->pos);
}

static void
advance(Parser *p)
{
	cel_lex_next(&p->lx, &p->tok);
	if (p->tok.tok == T_ERROR)
		set_error(p, p->tok.pos, p->tok.str);
}

static bool
expect(Parser *p, CelTok tok, const char *what)
{
	if (FAILED(p))
		return false;
	if (p->tok.tok != tok)
	{
		if (p->tok.tok == T_EOF)
			set_error(p, p->tok.pos, psprintf("syntax error: expected %s, found end of expression", what));
		else
			set_error(p, p->tok.pos, psprintf("syntax error: expected %s, found %s", what, token_text(p, &p->tok)));
		return false;
	}
	advance(p);
	return true;
}

static CelExpr *
new_expr(Parser *p, CelExprKind kind, int pos)
{
	CelExpr    *e = palloc0(sizeof(CelExpr));

	e->kind = kind;
	e->pos = pos;
	e->height = 1;
	return e;
}

/* Record that child hangs below e; reject trees taller than max_depth. */
static void
add_height(Parser *p, CelExpr *e, const CelExpr *child)
{
	if (child && child->height + 1 > e->height)
	{
		e->height = child->height + 1;
		if (e->height > p->max_depth && !p->error)
		{
			set_error(p, e->pos,
					  psprintf("expression nesting exceeds the maximum depth of %d (lowcode.rules_max_depth)",
							   p->max_depth));
			p->error->too_deep = true;
		}
	}
}

static bool
enter(Parser *p)
{
	if (FAILED(p))
		return false;
	check_stack_depth();
	if (++p->depth > p->max_depth)
	{
		set_error(p, p->tok.pos,
				  psprintf("expression nesting exceeds the maximum depth of %d (lowcode.rules_max_depth)",
						   p->max_depth));
		p->error->too_deep = true;
		return false;
	}
	return true;
}

static CelExpr *
make_call(Parser *p, int pos, const char *name, int fn, CelExpr *target, int nargs, CelExpr **args)
{
	CelExpr    *e = new_expr(p, EX_CALL, pos);
	int			i;

	e->name = name;
	e->fn = fn;
	e->target = target;
	e->nargs = nargs;
	e->args = args;
	add_height(p, e, target);
	for (i = 0; i < nargs; i++)
		add_height(p, e, args[i]);
	return e;
}

static CelExpr *
make_binary(Parser *p, int pos, const char *name, int fn, CelExpr *l, CelExpr *r)
{
	CelExpr   **args = palloc(2 * sizeof(CelExpr *));

	args[0] = l;
	args[1] = r;
	return make_call(p, pos, name, fn, NULL, 2, args);
}

/* Build a balanced tree for chains of && or ||, as cel-go does. */
static CelExpr *
balance(Parser *p, CelExprKind kind, CelExpr **terms, int *ops, int lo, int hi)
{
	CelExpr    *e;
	int			mid;

	if (lo == hi)
		return terms[lo];
	mid = (lo + hi + 1) / 2;
	e = new_expr(p, kind, ops[mid - 1]);
	e->nargs = 2;
	e->args = palloc(2 * sizeof(CelExpr *));
	e->args[0] = balance(p, kind, terms, ops, lo, mid - 1);
	e->args[1] = balance(p, kind, terms, ops, mid, hi);
	add_height(p, e, e->args[0]);
	add_height(p, e, e->args[1]);
	return e;
}

/* ---- macros ---- */

static const char *
macro_var(Parser *p, CelExpr *arg)
{
	if (arg->kind != EX_IDENT)
	{
		set_error(p, arg->pos, "argument must be a simple name");
		return NULL;
	}
	return arg->name;
}

static CelExpr *
make_comprehension(Parser *p, int pos, CelMacroKind kind, CelExpr *target,
				   const char *v1, const char *v2, CelExpr *filter, CelExpr *body)
{
	CelExpr    *e = new_expr(p, EX_COMPREHENSION, pos);

	e->macro = kind;
	e->target = target;
	e->var1 = v1;
	e->var2 = v2;
	e->filter = filter;
	e->body = body;
	add_height(p, e, target);
	add_height(p, e, filter);
	add_height(p, e, body);
	return e;
}

/*
 * Try to expand a method call target.name(args) as a macro; NULL when it
 * is an ordinary call.
 */
static CelExpr *
try_macro(Parser *p, int pos, CelExpr *target, const char *name, int nargs, CelExpr **args)
{
	CelMacroKind kind;
	const char *v1 = NULL,
			   *v2 = NULL;

	if ((strcmp(name, "all") == 0 || strcmp(name, "exists") == 0 ||
		 strcmp(name, "exists_one") == 0 || strcmp(name, "existsOne") == 0) &&
		(nargs == 2 || nargs == 3))
	{
		kind = name[0] == 'a' ? MACRO_ALL :
			(strcmp(name, "exists") == 0 ? MACRO_EXISTS : MACRO_EXISTS_ONE);
		v1 = macro_var(p, args[0]);
		if (nargs == 3)
			v2 = macro_var(p, args[1]);
		if (FAILED(p))
			return NULL;
		if (v2 && strcmp(v1, v2) == 0)
		{
			set_error(p, args[1]->pos, "duplicate variable name in macro");
			return NULL;
		}
		return make_comprehension(p, pos, kind, target, v1, v2, NULL, args[nargs - 1]);
	}
	if ((strcmp(name, "map") == 0 && (nargs == 2 || nargs == 3)) ||
		(strcmp(name, "filter") == 0 && nargs == 2))
	{
		v1 = macro_var(p, args[0]);
		if (FAILED(p))
			return NULL;
		if (name[0] == 'f')
			return make_comprehension(p, pos, MACRO_FILTER, target, v1, NULL, args[1], NULL);
		if (nargs == 3)
			return make_comprehension(p, pos, MACRO_MAP, target, v1, NULL, args[1], args[2]);
		return make_comprehension(p, pos, MACRO_MAP, target, v1, NULL, NULL, args[1]);
	}
	if ((strcmp(name, "transformList") == 0 || strcmp(name, "transformMap") == 0) &&
		(nargs == 3 || nargs == 4))
	{
		kind = strcmp(name, "transformList") == 0 ? MACRO_TRANSFORM_LIST : MACRO_TRANSFORM_MAP;
		v1 = macro_var(p, args[0]);
		v2 = FAILED(p) ? NULL : macro_var(p, args[1]);
		if (FAILED(p))
			return NULL;
		if (strcmp(v1, v2) == 0)
		{
			set_error(p, args[1]->pos, "duplicate variable name in macro");
			return NULL;
		}
		return make_comprehension(p, pos, kind, target, v1, v2,
								  nargs == 4 ? args[2] : NULL, args[nargs - 1]);
	}
	/* cel.bind(x, init, e): e with x bound to the value of init (cel-go's bindings extension) */
	if (strcmp(name, "bind") == 0 && nargs == 3 && target && target->kind == EX_IDENT &&
		strcmp(target->name, "cel") == 0)
	{
		v1 = macro_var(p, args[0]);
		if (FAILED(p))
			return NULL;
		return make_comprehension(p, pos, MACRO_BIND, args[1], v1, NULL, NULL, args[2]);
	}
	if ((strcmp(name, "optMap") == 0 || strcmp(name, "optFlatMap") == 0) && nargs == 2)
	{
		v1 = macro_var(p, args[0]);
		if (FAILED(p))
			return NULL;
		return make_comprehension(p, pos, name[3] == 'M' ? MACRO_OPT_MAP : MACRO_OPT_FLAT_MAP,
								  target, v1, NULL, NULL, args[1]);
	}
	return NULL;
}

/* "a.b.c" when e is a chain of identifiers and field selections */
static char *
qualified_name(const CelExpr *e)
{
	if (e->kind == EX_IDENT)
		return pstrdup(e->name);
	if (e->kind == EX_SELECT && !e->test_only && !e->opt_select && e->qualname)
		return pstrdup(e->qualname);
	return NULL;
}

/* ---- grammar ---- */

static CelExpr **
parse_expr_list(Parser *p, CelTok close, int *n, bool **optional, int *npos_hint)
{
	int			cap = 4,
				cnt = 0;
	CelExpr   **items = palloc(cap * sizeof(CelExpr *));
	bool	   *opt = optional ? palloc0(cap * sizeof(bool)) : NULL;

	while (!FAILED(p) && p->tok.tok != close)
	{
		bool		is_opt = false;

		if (optional && p->tok.tok == T_QUESTION)
		{
			is_opt = true;
			advance(p);
		}
		if (cnt == cap)
		{
			cap *= 2;
			items = repalloc(items, cap * sizeof(CelExpr *));
			if (opt)
				opt = repalloc(opt, cap * sizeof(bool));
		}
		if (opt)
			opt[cnt] = is_opt;
		items[cnt++] = parse_expr(p);
		if (FAILED(p))
			break;
		if (p->tok.tok == T_COMMA)
		{
			advance(p);
			continue;
		}
		if (p->tok.tok != close)
		{
			set_error(p, p->tok.pos, close == T_RPAREN ? "syntax error: expected ',' or ')'" :
					  "syntax error: expected ',' or ']'");
			break;
		}
	}
	*n = cnt;
	if (optional)
		*optional = opt;
	return items;
}

static CelExpr *
parse_call_or_ident(Parser *p, int pos, const char *name, bool leading_dot)
{
	CelExpr    *e;

	if (p->tok.tok == T_LPAREN)
	{
		int			nargs;
		CelExpr   **args;

		advance(p);
		args = parse_expr_list(p, T_RPAREN, &nargs, NULL, NULL);
		if (!expect(p, T_RPAREN, "')'"))
			return NULL;
		if (strcmp(name, "has") == 0 && !leading_dot)
		{
			CelExpr    *sel;

			if (nargs != 1 || args[0]->kind != EX_SELECT || args[0]->test_only)
			{
				set_error(p, pos, "invalid argument to has() macro");
				return NULL;
			}
			sel = palloc(sizeof(CelExpr));
			*sel = *args[0];
			sel->test_only = true;
			sel->qualname = NULL;
			return sel;
		}
		e = make_call(p, pos, name, cel_lookup_function(name, false, nargs), NULL, nargs, args);
		return e;
	}
	e = new_expr(p, EX_IDENT, pos);
	e->name = name;
	e->namelen = strlen(name);
	return e;
}

static CelExpr *
parse_map_or_struct(Parser *p, int pos, const char *type_name)
{
	int			cap = 4,
				cnt = 0;
	CelExpr    *e = new_expr(p, type_name ? EX_STRUCT : EX_MAP, pos);

	e->name = type_name;
	e->args = palloc(cap * sizeof(CelExpr *));
	e->vals = palloc(cap * sizeof(CelExpr *));
	e->optional = palloc0(cap * sizeof(bool));
	while (!FAILED(p) && p->tok.tok != T_RBRACE)
	{
		bool		is_opt = false;
		CelExpr    *k,
				   *v;

		if (p->tok.tok == T_QUESTION)
		{
			is_opt = true;
			advance(p);
		}
		if (type_name)
		{
			if (p->tok.tok != T_IDENT)
			{
				set_error(p, p->tok.pos, "syntax error: expected a field name");
				return NULL;
			}
			k = new_expr(p, EX_CONST, p->tok.pos);
			cel_make_string(&k->cval, p->tok.str, strlen(p->tok.str));
			advance(p);
		}
		else
			k = parse_expr(p);
		if (!expect(p, T_COLON, "':'"))
			return NULL;
		v = parse_expr(p);
		if (FAILED(p))
			return NULL;
		if (cnt == cap)
		{
			cap *= 2;
			e->args = repalloc(e->args, cap * sizeof(CelExpr *));
			e->vals = repalloc(e->vals, cap * sizeof(CelExpr *));
			e->optional = repalloc(e->optional, cap * sizeof(bool));
		}
		e->args[cnt] = k;
		e->vals[cnt] = v;
		e->optional[cnt] = is_opt;
		add_height(p, e, k);
		add_height(p, e, v);
		cnt++;
		if (p->tok.tok == T_COMMA)
		{
			advance(p);
			continue;
		}
		if (p->tok.tok != T_RBRACE)
		{
			set_error(p, p->tok.pos, "syntax error: expected ',' or '}'");
			return NULL;
		}
	}
	e->nargs = cnt;
	expect(p, T_RBRACE, "'}'");
	return e;
}

static CelExpr *
parse_primary(Parser *p)
{
	CelToken	t = p->tok;
	CelExpr    *e;

	if (FAILED(p))
		return NULL;
	switch (t.tok)
	{
		case T_INT:
			if (t.int_too_big)
			{
				set_error(p, t.pos, "integer literal is out of range");
				return NULL;
			}
			e = new_expr(p, EX_CONST, t.pos);
			e->cval.kind = CEL_INT;
			e->cval.v.i = t.i;
			advance(p);
			return e;
		case T_UINT:
			e = new_expr(p, EX_CONST, t.pos);
			e->cval.kind = CEL_UINT;
			e->cval.v.u = t.u;
			advance(p);
			return e;
		case T_DOUBLE:
			e = new_expr(p, EX_CONST, t.pos);
			e->cval.kind = CEL_DOUBLE;
			e->cval.v.d = t.d;
			advance(p);
			return e;
		case T_STRING:
			e = new_expr(p, EX_CONST, t.pos);
			cel_make_string(&e->cval, t.str, t.len);
			advance(p);
			return e;
		case T_BYTES:
			e = new_expr(p, EX_CONST, t.pos);
			cel_make_bytes(&e->cval, t.str, t.len);
			advance(p);
			return e;
		case T_TRUE:
		case T_FALSE:
			e = new_expr(p, EX_CONST, t.pos);
			e->cval.kind = CEL_BOOL;
			e->cval.v.b = (t.tok == T_TRUE);
			advance(p);
			return e;
		case T_NULL:
			e = new_expr(p, EX_CONST, t.pos);
			e->cval.kind = CEL_NULL;
			advance(p);
			return e;
		case T_DOT:
		case T_IDENT:
			{
				bool		leading_dot = false;
				char	   *name;
				int			pos = t.pos;

				if (t.tok == T_DOT)
				{
					leading_dot = true;
					advance(p);
					if (FAILED(p) || p->tok.tok != T_IDENT)
					{
						set_error(p, p->tok.pos, "syntax error: expected an identifier after '.'");
						return NULL;
					}
				}
				name = p->tok.str;
				advance(p);
				if (FAILED(p))
					return NULL;
				/* Message{...}: the type name may be qualified, a.b.Msg{} */
				if (p->tok.tok == T_LBRACE)
				{
					advance(p);
					return parse_map_or_struct(p, pos, name);
				}
				e = parse_call_or_ident(p, pos, name, leading_dot);
				if (e && e->kind == EX_IDENT)
					e->absolute = leading_dot;
				return e;
			}
		case T_LPAREN:
			{
				advance(p);
				e = parse_expr(p);
				if (!expect(p, T_RPAREN, "')'"))
					return NULL;
				return e;
			}
		case T_LBRACKET:
			{
				int			i;

				advance(p);
				e = new_expr(p, EX_LIST, t.pos);
				e->args = parse_expr_list(p, T_RBRACKET, &e->nargs, &e->optional, NULL);
				for (i = 0; !FAILED(p) && i < e->nargs; i++)
					add_height(p, e, e->args[i]);
				if (!expect(p, T_RBRACKET, "']'"))
					return NULL;
				return e;
			}
		case T_LBRACE:
			advance(p);
			return parse_map_or_struct(p, t.pos, NULL);
		case T_EOF:
			set_error(p, t.pos, "syntax error: unexpected end of expression");
			return NULL;
		case T_RESERVED:
			set_error(p, t.pos, psprintf("reserved identifier '%s'", t.str));
			return NULL;
		default:
			set_error(p, t.pos, psprintf("syntax error: unexpected %s", token_text(p, &t)));
			return NULL;
	}
}

static CelExpr *
parse_member(Parser *p)
{
	CelExpr    *e = parse_primary(p);

	while (!FAILED(p))
	{
		int			pos = p->tok.pos;

		if (p->tok.tok == T_DOT)
		{
			bool		opt = false;
			bool		quoted;
			char	   *name;

			advance(p);
			if (p->tok.tok == T_QUESTION)
			{
				opt = true;
				advance(p);
			}
			if (FAILED(p))
				return NULL;
			if (p->tok.tok != T_IDENT && p->tok.tok != T_RESERVED && p->tok.tok != T_QIDENT)
			{
				set_error(p, p->tok.pos, "syntax error: expected a field name after '.'");
				return NULL;
			}
			name = p->tok.str;
			quoted = (p->tok.tok == T_QIDENT);
			advance(p);
			if (FAILED(p))
				return NULL;
			if (p->tok.tok == T_LPAREN && !opt && !quoted)
			{
				int			nargs;
				CelExpr   **args;
				CelExpr    *m;
				char	   *qual;

				advance(p);
				args = parse_expr_list(p, T_RPAREN, &nargs, NULL, NULL);
				if (!expect(p, T_RPAREN, "')'"))
					return NULL;
				m = try_macro(p, pos, e, name, nargs, args);
				if (FAILED(p))
					return NULL;
				if (m)
				{
					e = m;
					continue;
				}
				/* namespaced global function: optional.of(), math.abs(), ... */
				qual = qualified_name(e);
				if (qual)
				{
					char	   *full = psprintf("%s.%s", qual, name);
					int			fn = cel_lookup_function(full, false, nargs);

					/*
					 * A known namespaced function, or an unknown one on a
					 * dotted name (a registered SQL function like
					 * dates.addDays()): there are no user-defined methods.
					 */
					if (fn != CEL_FN_UNKNOWN ||
						cel_lookup_function(name, true, nargs) == CEL_FN_UNKNOWN)
					{
						e = make_call(p, e->pos, full, fn, NULL, nargs, args);
						continue;
					}
				}
				e = make_call(p, pos, name, cel_lookup_function(name, true, nargs), e, nargs, args);
				continue;
			}
			if (p->tok.tok == T_LBRACE && !opt && !quoted && qualified_name(e))
			{
				/* a.b.Msg{...} */
				advance(p);
				e = parse_map_or_struct(p, e->pos, psprintf("%s.%s", qualified_name(e), name));
				continue;
			}
			{
				CelExpr    *s = new_expr(p, EX_SELECT, pos);
				char	   *qual = (opt || quoted) ? NULL : qualified_name(e);

				s->target = e;
				s->name = name;
				s->namelen = strlen(name);
				s->opt_select = opt;
				if (qual)
					s->qualname = psprintf("%s.%s", qual, name);
				add_height(p, s, e);
				e = s;
			}
			continue;
		}
		if (p->tok.tok == T_LBRACKET)
		{
			bool		opt = false;
			CelExpr    *idx;

			advance(p);
			if (p->tok.tok == T_QUESTION)
			{
				opt = true;
				advance(p);
			}
			idx = parse_expr(p);
			if (!expect(p, T_RBRACKET, "']'"))
				return NULL;
			e = make_binary(p, pos, opt ? "_[?_]" : "_[_]", opt ? CEL_OP_OPT_INDEX : CEL_OP_INDEX, e, idx);
			continue;
		}
		break;
	}
	return e;
}

static CelExpr *
parse_unary(Parser *p)
{
	int			pos = p->tok.pos;

	if (p->tok.tok == T_NOT)
	{
		CelExpr    *operand;
		CelExpr   **args;

		if (!enter(p))
			return NULL;
		advance(p);
		operand = parse_unary(p);
		p->depth--;
		if (FAILED(p))
			return NULL;
		args = palloc(sizeof(CelExpr *));
		args[0] = operand;
		return make_call(p, pos, "!_", CEL_OP_NOT, NULL, 1, args);
	}
	if (p->tok.tok == T_MINUS)
	{
		CelExpr    *operand;
		CelExpr   **args;

		if (!enter(p))
			return NULL;
		advance(p);
		if (FAILED(p))
			return NULL;
		/* a negative numeric literal, so that INT64_MIN can be written */
		if (p->tok.tok == T_INT || p->tok.tok == T_DOUBLE)
		{
			CelToken	t = p->tok;
			CelExpr    *lit;

			if (t.tok == T_INT)
			{
				lit = new_expr(p, EX_CONST, pos);
				lit->cval.kind = CEL_INT;
				lit->cval.v.i = (t.u == (uint64) PG_INT64_MAX + 1) ? PG_INT64_MIN : -t.i;
			}
			else
			{
				lit = new_expr(p, EX_CONST, pos);
				lit->cval.kind = CEL_DOUBLE;
				lit->cval.v.d = -t.d;
			}
			advance(p);
			/* the literal may take member suffixes: -1.abs() is not common */
			p->depth--;
			return lit;
		}
		operand = parse_unary(p);
		p->depth--;
		if (FAILED(p))
			return NULL;
		args = palloc(sizeof(CelExpr *));
		args[0] = operand;
		return make_call(p, pos, "-_", CEL_OP_NEG, NULL, 1, args);
	}
	return parse_member(p);
}

static CelExpr *
parse_multiplication(Parser *p)
{
	CelExpr    *e = parse_unary(p);

	while (!FAILED(p) && (p->tok.tok == T_STAR || p->tok.tok == T_SLASH || p->tok.tok == T_PERCENT))
	{
		CelTok		op = p->tok.tok;
		int			pos = p->tok.pos;
		CelExpr    *r;

		advance(p);
		r = parse_unary(p);
		if (FAILED(p))
			return NULL;
		if (op == T_STAR)
			e = make_binary(p, pos, "_*_", CEL_OP_MUL, e, r);
		else if (op == T_SLASH)
			e = make_binary(p, pos, "_/_", CEL_OP_DIV, e, r);
		else
			e = make_binary(p, pos, "_%_", CEL_OP_MOD, e, r);
	}
	return e;
}

static CelExpr *
parse_addition(Parser *p)
{
	CelExpr    *e = parse_multiplication(p);

	while (!FAILED(p) && (p->tok.tok == T_PLUS || p->tok.tok == T_MINUS))
	{
		CelTok		op = p->tok.tok;
		int			pos = p->tok.pos;
		CelExpr    *r;

		advance(p);
		r = parse_multiplication(p);
		if (FAILED(p))
			return NULL;
		e = op == T_PLUS ? make_binary(p, pos, "_+_", CEL_OP_ADD, e, r) :
			make_binary(p, pos, "_-_", CEL_OP_SUB, e, r);
	}
	return e;
}

static CelExpr *
parse_relation(Parser *p)
{
	CelExpr    *e = parse_addition(p);

	while (!FAILED(p))
	{
		CelTok		op = p->tok.tok;
		int			pos = p->tok.pos;
		int			fn;
		const char *name;
		CelExpr    *r;

		switch (op)
		{
			case T_EQ:
				fn = CEL_OP_EQ;
				name = "_==_";
				break;
			case T_NE:
				fn = CEL_OP_NE;
				name = "_!=_";
				break;
			case T_LT:
				fn = CEL_OP_LT;
				name = "_<_";
				break;
			case T_LE:
				fn = CEL_OP_LE;
				name = "_<=_";
				break;
			case T_GT:
				fn = CEL_OP_GT;
				name = "_>_";
				break;
			case T_GE:
				fn = CEL_OP_GE;
				name = "_>=_";
				break;
			case T_IN:
				fn = CEL_OP_IN;
				name = "@in";
				break;
			default:
				return e;
		}
		advance(p);
		r = parse_addition(p);
		if (FAILED(p))
			return NULL;
		e = make_binary(p, pos, name, fn, e, r);
	}
	return e;
}

static CelExpr *
parse_chain(Parser *p, CelTok optok, CelExprKind kind)
{
	int			cap = 4,
				n = 0;
	CelExpr   **terms;
	int		   *ops;
	CelExpr    *first;

	first = (kind == EX_AND) ? parse_relation(p) : parse_chain(p, T_AND, EX_AND);
	if (FAILED(p) || p->tok.tok != optok)
		return first;
	terms = palloc(cap * sizeof(CelExpr *));
	ops = palloc(cap * sizeof(int));
	terms[n++] = first;
	while (!FAILED(p) && p->tok.tok == optok)
	{
		CelExpr    *t;

		if (n == cap)
		{
			cap *= 2;
			terms = repalloc(terms, cap * sizeof(CelExpr *));
			ops = repalloc(ops, cap * sizeof(int));
		}
		ops[n - 1] = p->tok.pos;
		advance(p);
		t = (kind == EX_AND) ? parse_relation(p) : parse_chain(p, T_AND, EX_AND);
		if (FAILED(p))
			return NULL;
		terms[n++] = t;
	}
	return balance(p, kind, terms, ops, 0, n - 1);
}

static CelExpr *
parse_expr(Parser *p)
{
	CelExpr    *cond,
			   *e;

	if (!enter(p))
		return NULL;
	cond = parse_chain(p, T_OR, EX_OR);
	if (!FAILED(p) && p->tok.tok == T_QUESTION)
	{
		int			pos = p->tok.pos;
		CelExpr    *a,
				   *b;

		advance(p);
		a = parse_chain(p, T_OR, EX_OR);
		if (!expect(p, T_COLON, "':'"))
			return NULL;
		b = parse_expr(p);
		if (FAILED(p))
			return NULL;
		e = new_expr(p, EX_COND, pos);
		e->target = cond;
		e->nargs = 2;
		e->args = palloc(2 * sizeof(CelExpr *));
		e->args[0] = a;
		e->args[1] = b;
		add_height(p, e, cond);
		add_height(p, e, a);
		add_height(p, e, b);
		cond = e;
	}
	p->depth--;
	return FAILED(p) ? NULL : cond;
}

CelProgram *
cel_parse(const char *src, int len, int max_depth)
{
	Parser		p;
	CelProgram *prog = palloc0(sizeof(CelProgram));

	memset(&p, 0, sizeof(p));
	p.lx.src = src;
	p.lx.len = len;
	p.max_depth = max_depth;
	prog->source = src;
	prog->source_len = len;
	if (!cel_utf8_valid(src, len))
		set_error(&p, 0, "expression is not valid UTF-8");
	else
	{
		advance(&p);
		prog->root = parse_expr(&p);
		if (!FAILED(&p) && p.tok.tok != T_EOF)
			set_error(&p, p.tok.pos, psprintf("syntax error: unexpected %s after the end of the expression",
											  token_text(&p, &p.tok)));
	}
	prog->error = p.error;
	if (prog->error)
		prog->root = NULL;
	else
		cel_fold_constants(prog->root);
	return prog;
}

/*
 * The message of a parse error, with the line of the expression and a caret
 * under the position:
 *
 *	  syntax error: expected ')' at line 1, column 5
 *	  | (1 + 2
 *	  | .....^
 */
char *
cel_format_parse_error(const CelProgram *prog, int *line_out, int *col_out)
{
	StringInfoData buf;
	const char *s = prog->source;
	int			pos = prog->error->pos;
	int			line = 1,
				col = 1,
				line_start = 0,
				line_end,
				i;

	for (i = 0; i < pos && i < prog->source_len; i++)
	{
		if (s[i] == '\n')
		{
			line++;
			col = 1;
			line_start = i + 1;
		}
		else if (((unsigned char) s[i] & 0xC0) != 0x80)
			col++;
	}
	line_end = line_start;
	while (line_end < prog->source_len && s[line_end] != '\n')
		line_end++;
	if (line_out)
		*line_out = line;
	if (col_out)
		*col_out = col;
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s at line %d, column %d\n | ", prog->error->message, line, col);
	/* show at most 200 bytes of the line around the position */
	{
		int			from = line_start,
					to = line_end;

		if (pos - from > 160)
			from = pos - 160;
		while (from > line_start && ((unsigned char) s[from] & 0xC0) == 0x80)
			from--;
		if (to - from > 200)
			to = from + 200;
		while (to < line_end && to > from && ((unsigned char) s[to] & 0xC0) == 0x80)
			to--;
		appendBinaryStringInfo(&buf, s + from, to - from);
		appendStringInfoString(&buf, "\n | ");
		for (i = from; i < pos && i < to; i++)
			if (((unsigned char) s[i] & 0xC0) != 0x80)
				appendStringInfoChar(&buf, '.');
		appendStringInfoChar(&buf, '^');
	}
	return buf.data;
}
