/*-------------------------------------------------------------------------
 *
 * cel_strings_ext.c
 *	  The CEL strings extension library (cel-go ext/strings.go).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "rules/cel_value.h"

bool
cel_strings_ext_call(CelEnv *env, const char *name, bool is_method,
					 int nargs, CelValue *args, CelValue *out)
{
	return false;
}
