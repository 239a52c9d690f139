/*-------------------------------------------------------------------------
 *
 * rules.h
 *	  Settings shared by the rule engines (CEL and JsonLogic).
 *
 * Both engines bound what one call may do, whatever a tenant writes: the
 * nesting depth of an expression, its length, and the runtime cost (one
 * unit per node evaluated, per element visited by a comprehension, per
 * byte copied into a new string or list, ...).
 *
 * src/rules/ holds the settings both rule engines (src/cel, src/jsonlogic)
 * share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RULES_H
#define RULES_H

extern int	rules_max_depth;		/* lowcode.rules_max_depth, default 250 */
extern int	rules_max_cost;			/* lowcode.rules_max_cost, default 1000000 */
extern int	rules_max_expression_length;	/* lowcode.rules_max_expression_length, bytes */
extern int	rules_cache_size;		/* lowcode.rules_cache_size, compiled rules per backend */

#endif							/* RULES_H */
