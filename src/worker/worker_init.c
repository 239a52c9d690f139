/*-------------------------------------------------------------------------
 *
 * worker_init.c
 *	  Entry point of the worker component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"

void
worker_init(void)
{
}
