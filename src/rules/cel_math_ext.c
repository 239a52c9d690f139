/*-------------------------------------------------------------------------
 *
 * cel_math_ext.c
 *	  The CEL math extension library (cel-go ext/math.go).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "rules/cel_value.h"

bool
cel_math_ext_call(CelEnv *env, const char *name, bool is_method,
				  int nargs, CelValue *args, CelValue *out)
{
	return false;
}
