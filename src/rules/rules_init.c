/*-------------------------------------------------------------------------
 *
 * rules_init.c
 *	  Entry point of the rules component: the settings both engines share.
 *
 * src/rules/ holds the settings both rule engines (src/cel, src/jsonlogic)
 * share.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"

#include "pg_lowcode.h"
#include "rules/rules.h"

int			rules_max_depth = 250;
int			rules_max_cost = 1000000;
int			rules_max_expression_length = 100000;
int			rules_cache_size = 1024;

void
rules_init(void)
{
	DefineCustomIntVariable("lowcode.rules_max_depth",
							"Maximum nesting depth of a CEL expression or JsonLogic rule.",
							NULL, &rules_max_depth, 250, 1, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.rules_max_cost",
							"Maximum runtime cost units one rule evaluation may spend.",
							NULL, &rules_max_cost, 1000000, 1, PG_INT32_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.rules_max_expression_length",
							"Maximum length in bytes of a CEL expression or JsonLogic rule.",
							NULL, &rules_max_expression_length, 100000, 1, MaxAllocSize / 2,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.rules_cache_size",
							"Number of compiled rules each backend keeps.",
							NULL, &rules_cache_size, 1024, 0, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
}
