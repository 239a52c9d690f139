/*-------------------------------------------------------------------------
 *
 * rules_init.c
 *	  Entry point of the rules component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
rules_init(void)
{
}
