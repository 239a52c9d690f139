/*-------------------------------------------------------------------------
 *
 * fuzz_shim.h
 *	  What the CEL and JsonLogic fuzz harnesses see of their backend shim
 *	  (fuzz_shim.c): the error jump target, the last error, the arena.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_SHIM_H
#define FUZZ_SHIM_H

#include <setjmp.h>

extern sigjmp_buf *shim_error_jmp;	/* ereport(ERROR) jumps here */
extern int	shim_last_sqlstate;
extern char shim_last_message[512];
extern char *shim_stack_base;		/* check_stack_depth measures from here */
extern long shim_max_stack_bytes;
extern size_t shim_arena_bytes;

/* Free everything palloc'd since the last reset. */
extern void shim_reset_arena(void);

#endif							/* FUZZ_SHIM_H */
