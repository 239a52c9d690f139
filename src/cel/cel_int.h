/*-------------------------------------------------------------------------
 *
 * cel_int.h
 *	  Private header of the CEL engine (src/cel/): the syntax tree, the
 *	  lexer's tokens, cost and allocation guards, and the function library.
 *	  Only the engine's own files include it; others use cel.h.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CEL_INT_H
#define CEL_INT_H

#include "cel/cel.h"

/* ---- syntax tree ---- */

typedef enum CelExprKind
{
	EX_CONST,
	EX_IDENT,
	EX_SELECT,					/* operand.field, has(), ?. */
	EX_CALL,					/* functions, methods and operators */
	EX_AND,
	EX_OR,
	EX_COND,
	EX_LIST,
	EX_MAP,
	EX_STRUCT,					/* Msg{...}: protobuf messages, unsupported */
	EX_COMPREHENSION			/* macros */
} CelExprKind;

typedef enum CelMacroKind
{
	MACRO_ALL,
	MACRO_EXISTS,
	MACRO_EXISTS_ONE,
	MACRO_MAP,					/* map(x, e) and map(x, p, e) */
	MACRO_FILTER,
	MACRO_TRANSFORM_LIST,		/* transformList(i, v, [p,] e) */
	MACRO_TRANSFORM_MAP,
	MACRO_OPT_MAP,
	MACRO_OPT_FLAT_MAP,
	MACRO_BIND					/* cel.bind(x, init, e): target = init */
} CelMacroKind;

typedef struct CelExpr CelExpr;

struct CelExpr
{
	CelExprKind kind;
	int			pos;			/* byte offset in the source */
	int			height;			/* longest path to a leaf, bounded by max_depth */
	int			fn;				/* EX_CALL: builtin function id (cel_stdlib) */
	const char *name;			/* identifier, field or function name */
	int			namelen;		/* EX_IDENT, EX_SELECT: strlen(name) */
	const char *qualname;		/* EX_SELECT on identifiers only: "a.b.c" */
	int			nargs;			/* EX_CALL args, EX_LIST items, EX_MAP entries */
	CelExpr    *target;			/* method receiver, select operand */
	CelExpr   **args;			/* EX_CALL args, EX_LIST items, EX_MAP keys */
	CelExpr   **vals;			/* EX_MAP values */
	bool	   *optional;		/* EX_LIST/EX_MAP: ?-marked entries */
	bool		test_only;		/* EX_SELECT inside has() */
	bool		opt_select;		/* EX_SELECT ?. / EX_CALL [?] */
	bool		absolute;		/* EX_IDENT written .name: skips comprehension variables */
	CelValue	cval;			/* EX_CONST */
	/* EX_COMPREHENSION */
	CelMacroKind macro;
	const char *var1;			/* the element (or index/key for 2 vars) */
	const char *var2;			/* the value, for two-variable forms */
	CelExpr    *filter;			/* predicate of map/filter forms, or NULL */
	CelExpr    *body;
	/* EX_COND uses target ? args[0] : args[1] */
};

/* Fold literal lists and maps of constants (cel_check.c); cel_parse calls it. */
extern void cel_fold_constants(CelExpr *e);

/* ---- cost and allocation guards (cel_value.c) ---- */

extern void cel_cost_exceeded(CelEnv *env) pg_attribute_noreturn();

/* Spend cost units; past lowcode.rules_max_cost the evaluation stops (LR020). */
static inline void
cel_charge(CelEnv *env, int64 units)
{
	env->cost += units;
	if (unlikely(env->cost > env->max_cost))
		cel_cost_exceeded(env);
}
extern void cel_check_alloc(Size n, const char *what);
extern bool cel_utf8_valid(const char *s, int len);
extern int	cel_utf8_length(const char *s, int len);
/* ---- library (cel_stdlib.c, cel_time.c, extensions) ---- */

extern int	cel_lookup_function(const char *name, bool is_method, int nargs);
extern void cel_call_function(CelEnv *env, const CelExpr *e, int nargs,
							  CelValue *args, CelValue *out);

/* builtin operator ids used by the parser */
enum
{
	CEL_FN_UNKNOWN = 0,
	CEL_OP_ADD,
	CEL_OP_SUB,
	CEL_OP_MUL,
	CEL_OP_DIV,
	CEL_OP_MOD,
	CEL_OP_NEG,
	CEL_OP_NOT,
	CEL_OP_EQ,
	CEL_OP_NE,
	CEL_OP_LT,
	CEL_OP_LE,
	CEL_OP_GT,
	CEL_OP_GE,
	CEL_OP_IN,
	CEL_OP_INDEX,
	CEL_OP_OPT_INDEX,
	CEL_FN_FIRST_NAMED			/* named functions follow, see cel_stdlib.c */
};

/* time helpers (cel_time.c) */
extern bool cel_parse_timestamp(const char *s, int len, int64 *sec, int32 *nanos);
extern bool cel_parse_duration(const char *s, int len, int64 *sec, int32 *nanos);
extern bool cel_timestamp_in_range(int64 sec);
extern bool cel_duration_in_range(int64 sec, int32 nanos);
/* the accessor functions; out is an error value on a bad time zone */
extern void cel_time_accessor(const char *fname, const CelValue *ts, const CelValue *tz,
							  CelValue *out);

/* extension libraries: return false when "name" is not theirs */
extern bool cel_strings_ext_call(CelEnv *env, const char *name, bool is_method,
								 int nargs, CelValue *args, CelValue *out);
extern bool cel_math_ext_call(CelEnv *env, const char *name, bool is_method,
							  int nargs, CelValue *args, CelValue *out);


/* ---- lexer (cel_lex.c), used by the parser only ---- */

typedef enum CelTok
{
	T_EOF,
	T_ERROR,
	T_INT,
	T_UINT,
	T_DOUBLE,
	T_STRING,
	T_BYTES,
	T_IDENT,
	T_QIDENT,					/* `quoted field name` */
	T_TRUE,
	T_FALSE,
	T_NULL,
	T_IN,
	T_RESERVED,
	T_LPAREN,
	T_RPAREN,
	T_LBRACKET,
	T_RBRACKET,
	T_LBRACE,
	T_RBRACE,
	T_DOT,
	T_COMMA,
	T_COLON,
	T_QUESTION,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PERCENT,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_AND,
	T_OR
} CelTok;

typedef struct CelToken
{
	CelTok		tok;
	int			pos;
	int			end;
	/* literal values */
	int64		i;
	uint64		u;
	double		d;
	char	   *str;			/* T_STRING/T_BYTES data, T_IDENT name, T_ERROR msg */
	int			len;
	bool		int_too_big;	/* T_INT literal above INT64_MAX (maybe -MIN) */
} CelToken;

typedef struct CelLexer
{
	const char *src;
	int			len;
	int			pos;
} CelLexer;

extern void cel_lex_next(CelLexer *lx, CelToken *t);

#endif							/* CEL_INT_H */
