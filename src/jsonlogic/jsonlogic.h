/*-------------------------------------------------------------------------
 *
 * jsonlogic.h
 *	  The JsonLogic engine's public interface: its JavaScript value model,
 *	  the rule compiler and the evaluator, as the SQL glue
 *	  (jsonlogic_sql.c) and the fuzz harness use them.
 *
 * src/jsonlogic/ is the JsonLogic component: the engine core (pure:
 * jsonlogic_engine.c, jsonlogic_value.c) and its SQL glue (jsonlogic_sql.c:
 * lowcode.jsonlogic_* and the rule cache).  The evaluation context and the
 * ECMAScript abstract operations are private (jsonlogic_int.h).
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

#include "lc/lc_errcodes.h"

/* SQLSTATEs of JsonLogic errors: LR1xx of lc/lc_errcodes.h (CEL uses LR0xx) */

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

/*
 * Building an engine value tree (arrays and objects owned by the engine)
 * from a stream of begin / key / value / end events, without recursion, so
 * that any nesting depth builds: the SQL glue feeds it a jsonb iterator's
 * tokens (rules), the fuzz harness its JSON reader.  Everything is
 * palloc'd in CurrentMemoryContext; keys and strings are not copied.
 */
typedef struct JlBuildFrame JlBuildFrame;

typedef struct JlBuilder
{
	JlBuildFrame *stack;
	int32		depth;
	int32		cap;
	JlValue		result;			/* the top-level value, once complete */
} JlBuilder;

extern void jl_build_init(JlBuilder *b);
/* open an array or an object */
extern void jl_build_begin(JlBuilder *b, bool is_array);
/* the key of the next member of the innermost object */
extern void jl_build_key(JlBuilder *b, const char *key, int32 keylen);
/* a scalar value; true when it was the whole (top-level) value */
extern bool jl_build_value(JlBuilder *b, JlValue v);
/* close the innermost container; true when it was the top-level one */
extern bool jl_build_end(JlBuilder *b);
/* inside an object whose next member's key has not come yet? */
extern bool jl_build_wants_key(const JlBuilder *b);
/* is the innermost open container an array? */
extern bool jl_build_in_array(const JlBuilder *b);

/* Number -> string as JavaScript's Number::toString; buf >= 32 bytes. */
extern int	jl_format_number(double n, char *buf);

#endif							/* JSONLOGIC_H */
