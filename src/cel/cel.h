/*-------------------------------------------------------------------------
 *
 * cel.h
 *	  The CEL engine's public interface: values, parsing, checking and
 *	  evaluation, as the SQL glue (cel_sql.c, cel_jsonb.c) and the fuzz
 *	  harness use them.
 *
 * src/cel/ is the CEL component: the engine core (pure) and its SQL glue
 * (cel_sql.c: the lowcode.cel_* functions and the rule cache; cel_jsonb.c:
 * jsonb <-> CEL values).  The syntax tree, the lexer and the function
 * library are private to the component (cel_int.h).
 *
 * The core (cel_lex.c, cel_parse.c, cel_eval.c, cel_value.c, cel_stdlib.c,
 * cel_time.c, cel_strings_ext.c, cel_math_ext.c) depends only on palloc,
 * StringInfo, ereport and lc_regex.h: it never opens a table and never sees
 * jsonb, so the fuzz harness in test/fuzz can drive it stand-alone.  Data
 * reaches the evaluator through a variable resolver callback and through
 * "external" lists and maps (CelContainerOps) that cel_jsonb.c implements
 * lazily over jsonb containers.
 *
 * Evaluation errors of the language (no such key, overflow, ...) are values
 * of kind CEL_ERROR, because CEL's && and || absorb them.  Only resource
 * limits (cost, depth, allocation size) and query cancellation raise
 * PostgreSQL errors directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CEL_H
#define CEL_H

#include "lib/stringinfo.h"

typedef enum CelKind
{
	CEL_NULL,
	CEL_BOOL,
	CEL_INT,
	CEL_UINT,
	CEL_DOUBLE,
	CEL_STRING,
	CEL_BYTES,
	CEL_LIST,
	CEL_MAP,
	CEL_TIMESTAMP,
	CEL_DURATION,
	CEL_TYPE,
	CEL_OPTIONAL,
	CEL_ERROR
} CelKind;

/* Error codes of evaluation; each maps to one SQLSTATE (docs/errors.md). */
typedef enum CelErrorCode
{
	CEL_ERR_GENERIC = 0,
	CEL_ERR_NO_SUCH_KEY,		/* LR010 */
	CEL_ERR_OVERFLOW,			/* LR011 */
	CEL_ERR_DIVISION_BY_ZERO,	/* LR012 */
	CEL_ERR_NO_OVERLOAD,		/* LR013 */
	CEL_ERR_UNKNOWN_VARIABLE,	/* LR014 */
	CEL_ERR_INDEX_OUT_OF_RANGE, /* LR015 */
	CEL_ERR_CONVERSION,			/* LR016 */
	CEL_ERR_INVALID_ARGUMENT,	/* LR017 */
	CEL_ERR_UNKNOWN_FUNCTION,	/* LR018 */
	CEL_ERR_FUNCTION_FAILED		/* LR019: a registered SQL function */
} CelErrorCode;

typedef struct CelError
{
	CelErrorCode code;
	char	   *message;
} CelError;

typedef struct CelList CelList;
typedef struct CelMap CelMap;
typedef struct CelValue CelValue;

struct CelValue
{
	CelKind		kind;
	union
	{
		bool		b;
		int64		i;
		uint64		u;
		double		d;
		struct
		{
			const char *data;	/* UTF-8 for strings; not terminated */
			int			len;
		}			s;
		CelList    *list;
		CelMap	   *map;
		struct
		{
			int64		sec;	/* seconds since the Unix epoch, or length */
			int32		nanos;	/* same sign as sec for durations */
		}			t;
		const char *type_name;	/* CEL_TYPE */
		CelValue   *opt;		/* CEL_OPTIONAL: NULL means none */
		CelError   *err;
	}			v;
};

/*
 * Lists and maps are either materialized (arrays) or external (ops != NULL:
 * read through callbacks, converted one element at a time on access).
 */
typedef struct CelContainerOps
{
	int			(*size) (void *src);
	/* list: element i (0 <= i < size) */
	void		(*list_get) (void *src, int i, CelValue *out);
	/* map: lookup by key; false when absent or key of an unsupported type */
	bool		(*map_get) (void *src, const CelValue *key, CelValue *out);
	/* map: the i-th entry, in storage order */
	void		(*map_entry) (void *src, int i, CelValue *key, CelValue *val);
} CelContainerOps;

struct CelList
{
	int			n;
	CelValue   *items;
	const CelContainerOps *ops;
	void	   *src;
};

struct CelMap
{
	int			n;
	CelValue   *keys;
	CelValue   *vals;
	const CelContainerOps *ops;
	void	   *src;
};

/* the syntax tree (cel_int.h) */
typedef struct CelExpr CelExpr;

typedef struct CelParseError
{
	int			pos;			/* byte offset */
	char	   *message;
	bool		too_deep;		/* the nesting depth limit, not the syntax */
} CelParseError;

typedef struct CelProgram
{
	CelExpr    *root;
	const char *source;
	int			source_len;
	CelParseError *error;		/* NULL when the parse succeeded */
	/* top-level identifiers the expression reads (for rule_check) */
	int			nvars;
	const char **vars;
	bool		is_constant;	/* no variable reference at all */
} CelProgram;

/* Parse; never throws for syntax errors (they go to prog->error). */
extern CelProgram *cel_parse(const char *src, int len, int max_depth);

/* rule_check's static check of function names (cel_check.c): the number of problems */
typedef bool (*CelKnownFunction) (void *ctx, const char *name);
extern int	cel_check_calls(CelProgram *prog, CelKnownFunction is_known, void *ctx,
							CelParseError **errors);

/* The top-level variables an expression reads: fills prog->vars (cel_check.c). */
extern void cel_collect_variables(CelProgram *prog);

/* Format a parse error with a caret line under the expression. */
extern char *cel_format_parse_error(const CelProgram *prog, int *line, int *column);

/* ---- evaluation ---- */

/* Resolver of top-level variables; returns false when unbound. */
typedef bool (*CelResolver) (void *ctx, const char *name, int len, CelValue *out);

/*
 * Extension functions (registered SQL functions): the glue resolves a name
 * to a handle at evaluation time and calls it with evaluated arguments.
 */
typedef bool (*CelFunctionHook) (void *ctx, const char *name, int nargs,
								 CelValue *args, CelValue *result);

/*
 * Optional fast path for a chain of field selections on a variable (a.b.c):
 * names[0] is the variable, the rest are fields.  Returns false when any
 * step is missing or not a map; the evaluator then takes the general path,
 * which produces the right error.
 */
typedef bool (*CelPathResolver) (void *ctx, const char *const *names, const int *lens,
								 int n, CelValue *out);

typedef struct CelEnv
{
	CelResolver resolve;
	CelPathResolver resolve_path;	/* optional */
	void	   *resolve_ctx;
	CelFunctionHook call_hook;
	void	   *hook_ctx;
	/* CEL container (namespace) for name resolution, or NULL (the SQL functions) */
	const char *container;
	int64		max_cost;
	int64		cost;
	/* local variables of comprehensions, innermost last */
	int			nlocals;
	int			maxlocals;
	const char **local_names;
	CelValue   *local_vals;
} CelEnv;

extern void cel_env_init(CelEnv *env, CelResolver resolve, void *ctx, int64 max_cost);
extern void cel_eval(CelEnv *env, const CelExpr *e, CelValue *out);

/* ---- values (cel_value.c) ---- */

extern void cel_make_error(CelValue *out, CelErrorCode code, const char *fmt,...) pg_attribute_printf(3, 4);
extern void cel_make_string(CelValue *out, const char *data, int len);
extern void cel_make_bytes(CelValue *out, const char *data, int len);
extern void cel_make_list(CelValue *out, int n, CelValue *items);
extern void cel_make_map(CelValue *out, int n, CelValue *keys, CelValue *vals);
extern void cel_make_type(CelValue *out, const char *name);
extern const char *cel_type_name(const CelValue *v);
extern int	cel_list_size(const CelList *l);
extern void cel_list_get(const CelList *l, int i, CelValue *out);
extern int	cel_map_size(const CelMap *m);
extern void cel_map_entry(const CelMap *m, int i, CelValue *key, CelValue *val);
extern bool cel_map_lookup(const CelMap *m, const CelValue *key, CelValue *out);
extern bool cel_valid_map_key(const CelValue *key);
/* CEL equality: returns false for different types; NaN != NaN */
extern bool cel_equal(const CelValue *a, const CelValue *b);
/* ordering: -1/0/1, or 2 when the values are not comparable (NaN, types) */
extern int	cel_compare(const CelValue *a, const CelValue *b, bool *ok);
extern bool cel_is_zero_value(const CelValue *v);
/* a readable representation (for error messages and tests) */
extern void cel_value_out(StringInfo buf, const CelValue *v);
/* format a double as CEL's string() does */
extern void cel_format_double(StringInfo buf, double d);
/* timestamps and durations as CEL's string() writes them (cel_time.c) */
extern void cel_format_timestamp(StringInfo buf, int64 sec, int32 nanos);
extern void cel_format_duration(StringInfo buf, int64 sec, int32 nanos);

#endif							/* CEL_H */
