/*-------------------------------------------------------------------------
 *
 * jsonlogic_int.h
 *	  Private header of the JsonLogic engine (src/jsonlogic/): the
 *	  evaluation context, cost and size guards, and the ECMAScript abstract
 *	  operations of jsonlogic_value.c.  Only the engine's own files (and the
 *	  fuzz harness, which tests them directly) include it.
 *
 * src/jsonlogic/ is the JsonLogic component: the pure engine core and its SQL
 * glue (jsonlogic_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef JSONLOGIC_INT_H
#define JSONLOGIC_INT_H

#include "jsonlogic/jsonlogic.h"

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

/* JSON.stringify (undefined in an array becomes null; NaN/Infinity null). */
extern void jl_to_json(JlContext *cx, JlValue v, StringInfo out);
extern void jl_append_json_string(StringInfo out, const char *s, int32 len);

/* Guard a size about to be allocated; raises LR106 past the host's max_alloc (lc_host.h). */
extern void jl_check_size(Size size, const char *what);

#endif							/* JSONLOGIC_INT_H */
