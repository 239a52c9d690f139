/*-------------------------------------------------------------------------
 *
 * session_init.c
 *	  Entry point of the session component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
session_init(void)
{
}
