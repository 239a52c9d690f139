/*-------------------------------------------------------------------------
 *
 * pg_shim.h
 *	  Interface of the backend shim of the stand-alone fuzz build.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_SHIM_H
#define PG_SHIM_H

#include <setjmp.h>

extern sigjmp_buf *shim_error_jmp;	/* where ereport(ERROR) jumps */
extern char shim_last_error[256];
extern char *shim_stack_base;		/* for check_stack_depth() */

/* free everything palloc'd since the last reset */
extern void shim_reset(void);

#endif							/* PG_SHIM_H */
