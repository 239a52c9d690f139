/*-------------------------------------------------------------------------
 *
 * jsonschema_init.c
 *	  Entry point of the jsonschema component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
jsonschema_init(void)
{
}
