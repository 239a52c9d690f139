/*-------------------------------------------------------------------------
 *
 * registry_init.c
 *	  Entry point of the registry component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
registry_init(void)
{
}
