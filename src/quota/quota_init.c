/*-------------------------------------------------------------------------
 *
 * quota_init.c
 *	  Entry point of the quota component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
quota_init(void)
{
}
