/*-------------------------------------------------------------------------
 *
 * jsonlogic.h
 *	  Core of the JsonLogic engine: its JavaScript value model, the rule
 *	  compiler and the evaluator.
 *
 * JsonLogic (jsonlogic.com) is defined by its reference implementation,
 * json-logic-js, so its semantics are JavaScript's: numbers are doubles,
 * truthiness and loose equality (==) follow the ECMAScript abstract
 * operations, strings are indexed in UTF-16 code units.  That is why this
 * engine has its own small value type instead of sharing CEL's (whose
 * integers, heterogeneous equality and errors-as-values are different).
 *
 * The core is pure: it depends only on palloc, StringInfo, ereport,
 * CHECK_FOR_INTERRUPTS and check_stack_depth, never on the catalog, jsonb or
 * numeric.  Values held by the caller (the "host": jsonb documents in the
 * server, a plain JSON tree in the fuzz harness) are read lazily through
 * JlHost callbacks, so a rule that looks at one field of a large document
 * converts only that field.  jsonlogic_sql.c is the server glue;
 * test/fuzz/jsonlogic_fuzz.c drives the same core without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef JSONLOGIC_H
#define JSONLOGIC_H

#include "lib/stringinfo.h"

/* SQLSTATEs of JsonLogic errors (class LR, codes LR1xx; CEL uses LR0xx). */
#define ERRCODE_JSONLOGIC_UNKNOWN_OPERATOR	MAKE_SQLSTATE('L','R','1','0','1')
#define ERRCODE_JSONLOGIC_TOO_DEEP			MAKE_SQLSTATE('L','R','1','0','2')
#define ERRCODE_JSONLOGIC_COST_EXCEEDED		MAKE_SQLSTATE('L','R','1','0','3')
#define ERRCODE_JSONLOGIC_RULE_TOO_LONG		MAKE_SQLSTATE('L','R','1','0','4')
#define ERRCODE_JSONLOGIC_TYPE_ERROR		MAKE_SQLSTATE('L','R','1','0','5')
#define ERRCODE_JSONLOGIC_VALUE_TOO_LARGE	MAKE_SQLSTATE('L','R','1','0','6')

/* JavaScript types a JsonLogic value can have. */
typedef enum JlType
{
	JL_UNDEFINED = 0,
	JL_NULL,
	JL_BOOL,
	JL_NUMBER,
	JL_STRING,
	JL_ARRAY,
	JL_OBJECT
} JlType;

typedef struct JlArray JlArray;
typedef struct JlObject JlObject;

/*
 * A value, passed around by value (16 bytes).  Strings are UTF-8 byte ranges
 * (not NUL-terminated) that are never modified once made, so they may point
 * into the host's document.  Arrays and objects are either the engine's own
 * (ext = false) or the host's (ext = true, u.h is the host's handle, read
 * through JlHost).  For === the identity of an array or object is its
 * JlArray/JlObject pointer or its host handle, as JavaScript compares object
 * references.
 */
typedef struct JlValue
{
	uint8		type;			/* JlType */
	bool		ext;			/* array/object held by the host */
	int32		len;			/* JL_STRING: length in bytes */
	union
	{
		bool		b;
		double		n;
		const char *s;
		JlArray    *a;
		JlObject   *o;
		const void *h;
	}			u;
} JlValue;

struct JlArray
{
	int32		len;
	JlValue    *items;
};

typedef struct JlObjectEntry
{
	const char *key;
	int32		keylen;
	JlValue		val;
} JlObjectEntry;

struct JlObject
{
	int32		len;
	JlObjectEntry *entries;
};

/*
 * Access to the host's arrays and objects.  Every callback may palloc in
 * CurrentMemoryContext.  Values returned for nested arrays/objects must carry
 * the same handle each time they are fetched (identity for ===).
 */
typedef struct JlHost
{
	bool		utf8;			/* strings are UTF-8 (else: one byte = one unit) */
	int32		(*array_len) (const void *h);
	void		(*array_get) (const void *h, int32 i, JlValue *out);
	/* false when there is no such key */
	bool		(*object_get) (const void *h, const char *key, int32 keylen,
							   JlValue *out);
	/* append the JSON text of an array or object (for "log") */
	void		(*to_json) (const void *h, StringInfo out);
} JlHost;

/* A compiled rule (opaque). */
typedef struct JlRule JlRule;

/*
 * Compile a rule given as an engine value tree (no host values).  The result
 * points into "rule", so both must live in the same memory context.
 * max_depth bounds the JSON nesting of the rule (lowcode.rules_max_depth).
 */
extern JlRule *jl_compile(const JlValue *rule, int max_depth);

/* Evaluate a compiled rule over data, spending at most max_cost units. */
extern JlValue jl_evaluate(const JlRule *rule, JlValue data,
						   const JlHost *host, int64 max_cost);

/* ---- value helpers (jsonlogic_value.c) ---- */

static inline JlValue
jl_undefined(void)
{
	JlValue		v;

	v.type = JL_UNDEFINED;
	v.ext = false;
	v.len = 0;
	v.u.h = NULL;
	return v;
}

static inline JlValue
jl_null(void)
{
	JlValue		v = jl_undefined();

	v.type = JL_NULL;
	return v;
}

static inline JlValue
jl_bool(bool b)
{
	JlValue		v = jl_undefined();

	v.type = JL_BOOL;
	v.u.b = b;
	return v;
}

static inline JlValue
jl_number(double n)
{
	JlValue		v = jl_undefined();

	v.type = JL_NUMBER;
	v.u.n = n;
	return v;
}

static inline JlValue
jl_string(const char *s, int32 len)
{
	JlValue		v = jl_undefined();

	v.type = JL_STRING;
	v.u.s = s;
	v.len = len;
	return v;
}

/* Evaluation state shared by the helpers below. */
typedef struct JlContext
{
	const JlHost *host;
	int64		cost;
	int64		max_cost;
} JlContext;

/* Charge cost units; raises LR103 past the limit. */
extern void jl_charge_slow(JlContext *cx, int64 units);

static inline void
jl_charge(JlContext *cx, int64 units)
{
	cx->cost += units;
	if (unlikely(cx->cost > cx->max_cost))
		jl_charge_slow(cx, 0);
}

/* Arrays, whoever holds them. */
extern int32 jl_array_len(JlContext *cx, JlValue arr);
extern JlValue jl_array_get(JlContext *cx, JlValue arr, int32 i);
extern JlValue jl_new_array(JlContext *cx, int32 len, JlValue **items);

/* ECMAScript abstract operations (with JsonLogic's truthiness). */
extern bool jl_truthy(JlContext *cx, JlValue v);
extern bool jl_js_falsy(JlValue v);		/* plain JavaScript !v */
extern double jl_to_number(JlContext *cx, JlValue v);
extern double jl_parse_float(JlContext *cx, JlValue v);
extern JlValue jl_to_string(JlContext *cx, JlValue v);
extern void jl_append_string(JlContext *cx, StringInfo buf, JlValue v);
extern bool jl_strict_equals(JlValue a, JlValue b);
extern bool jl_loose_equals(JlContext *cx, JlValue a, JlValue b);
/* IsLessThan-based comparison: -1, 0, 1, or JL_CMP_UNDEFINED (NaN involved) */
#define JL_CMP_UNDEFINED 2
extern int	jl_compare(JlContext *cx, JlValue a, JlValue b);
extern JlValue jl_js_add(JlContext *cx, JlValue a, JlValue b);
extern int32 jl_utf16_length(const JlHost *host, const char *s, int32 len);
extern JlValue jl_utf16_substring(JlContext *cx, JlValue str, int64 from, int64 to);
extern JlValue jl_get_property(JlContext *cx, JlValue obj, const char *key,
							   int32 keylen);

/* Number -> string as JavaScript's Number::toString; buf >= 32 bytes. */
extern int	jl_format_number(double n, char *buf);

/* JSON.stringify (undefined in an array becomes null; NaN/Infinity null). */
extern void jl_to_json(JlContext *cx, JlValue v, StringInfo out);
extern void jl_append_json_string(StringInfo out, const char *s, int32 len);

/* Guard a size about to be allocated; raises LR106 past MaxAllocSize. */
extern void jl_check_size(Size size, const char *what);

#endif							/* JSONLOGIC_H */
