/*-------------------------------------------------------------------------
 *
 * quota_guard.c
 *	  Tier settings a request cannot lift: statement_timeout, work_mem and
 *	  hash_mem_multiplier after pre_request() applied the tenant's tier.
 *
 * These are PGC_USERSET parameters: any role may SET LOCAL them, so a
 * request could undo its tier's limits right after pre_request() (issue
 * 13).  PostgreSQL has no privilege for a parameter of that kind, so for
 * the rest of the transaction in which pre_request() applied the limits we
 * refuse, for non-superusers:
 *   - any new value above the limit (for statement_timeout also 0, "none"),
 *     through a check hook added to the parameter: it sees SET, SET LOCAL,
 *     set_config() and ALTER ... SET alike;
 *   - RESET and SET ... TO DEFAULT of these parameters, which install the
 *     reset value without calling check hooks, in ProcessUtility (RESET
 *     ALL too).
 * Lower values stay allowed.  A statement that raises the value fails with
 * LQ434; nothing else changes.  Once the transaction ends the guard is off:
 * the next request runs pre_request() again.
 *
 * The hook is chained in front of whatever check hook the parameter has
 * (none, in PostgreSQL 15), found through get_guc_variables().
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "lc/lc_errcodes.h"
#include "quota/quota_int.h"


/* The limits in force, valid in the transaction that armed them only. */
static LocalTransactionId guard_lxid = InvalidLocalTransactionId;
static int	guard_timeout_ms = 0;	/* 0: no limit to keep */
static int	guard_work_mem_kb = 0;	/* 0: no limit to keep */
static double guard_hash_mem = 0;	/* 0: no limit to keep */

static GucIntCheckHook prev_timeout_check = NULL;
static GucIntCheckHook prev_work_mem_check = NULL;
static GucRealCheckHook prev_hash_mem_check = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static bool guard_installed = false;

static bool
guard_active(void)
{
	return MyProc != NULL && guard_lxid != InvalidLocalTransactionId &&
		guard_lxid == MyProc->lxid && IsTransactionState() && !superuser();
}

static bool
refuse(const char *name, const char *limit)
{
	GUC_check_errcode(ERRCODE_LQ_TIER_SETTING_RAISED);
	GUC_check_errmsg("%s cannot be raised above the tenant's limit of %s in this request", name, limit);
	GUC_check_errdetail("lowcode.pre_request() applied the limits of the tenant's tier for this transaction.");
	GUC_check_errhint("A lower value is allowed; the tier's values are in lowcode.tiers.");
	return false;
}

static bool
timeout_check(int *newval, void **extra, GucSource source)
{
	if (prev_timeout_check && !prev_timeout_check(newval, extra, source))
		return false;
	if (guard_timeout_ms > 0 && guard_active() && (*newval == 0 || *newval > guard_timeout_ms))
		return refuse("statement_timeout", psprintf("%d ms", guard_timeout_ms));
	return true;
}

static bool
work_mem_check(int *newval, void **extra, GucSource source)
{
	if (prev_work_mem_check && !prev_work_mem_check(newval, extra, source))
		return false;
	if (guard_work_mem_kb > 0 && guard_active() && *newval > guard_work_mem_kb)
		return refuse("work_mem", psprintf("%d kB", guard_work_mem_kb));
	return true;
}

static bool
hash_mem_check(double *newval, void **extra, GucSource source)
{
	if (prev_hash_mem_check && !prev_hash_mem_check(newval, extra, source))
		return false;
	if (guard_hash_mem > 0 && guard_active() && *newval > guard_hash_mem)
		return refuse("hash_mem_multiplier", psprintf("%g", guard_hash_mem));
	return true;
}

static bool
guarded_name(const char *name)
{
	return name == NULL ||		/* RESET ALL */
		pg_strcasecmp(name, "statement_timeout") == 0 ||
		pg_strcasecmp(name, "work_mem") == 0 ||
		pg_strcasecmp(name, "hash_mem_multiplier") == 0 ||
		pg_strcasecmp(name, "all") == 0;
}

static void
guard_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, VariableSetStmt))
	{
		VariableSetStmt *stmt = (VariableSetStmt *) parsetree;

		if ((stmt->kind == VAR_RESET || stmt->kind == VAR_SET_DEFAULT || stmt->kind == VAR_RESET_ALL) &&
			guarded_name(stmt->kind == VAR_RESET_ALL ? NULL : stmt->name) && guard_active())
			ereport(ERROR,
					(errcode(ERRCODE_LQ_TIER_SETTING_RAISED),
					 errmsg("%s cannot be reset in this request",
							stmt->kind == VAR_RESET_ALL ? "RESET ALL: statement_timeout, work_mem and hash_mem_multiplier" : stmt->name),
					 errdetail("lowcode.pre_request() applied the limits of the tenant's tier for this transaction."),
					 errhint("A lower value is allowed; the tier's values are in lowcode.tiers.")));
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* Chain our check hooks in front of the parameters' own; once per backend. */
void
quota_guard_init(void)
{
	struct config_generic **vars;
	int			n;

	if (guard_installed)
		return;
	vars = get_guc_variables();
	n = GetNumConfigOptions();
	for (int i = 0; i < n; i++)
	{
		struct config_generic *g = vars[i];

		if (g->vartype == PGC_INT && strcmp(g->name, "statement_timeout") == 0)
		{
			prev_timeout_check = ((struct config_int *) g)->check_hook;
			((struct config_int *) g)->check_hook = timeout_check;
		}
		else if (g->vartype == PGC_INT && strcmp(g->name, "work_mem") == 0)
		{
			prev_work_mem_check = ((struct config_int *) g)->check_hook;
			((struct config_int *) g)->check_hook = work_mem_check;
		}
		else if (g->vartype == PGC_REAL && strcmp(g->name, "hash_mem_multiplier") == 0)
		{
			prev_hash_mem_check = ((struct config_real *) g)->check_hook;
			((struct config_real *) g)->check_hook = hash_mem_check;
		}
	}
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = guard_process_utility;
	guard_installed = true;
}

/*
 * Called by pre_request() once the tier's settings are applied: the tier's
 * values (negative: none) are the most this transaction may use, and
 * hash_mem_multiplier may not grow past its current value.
 */
void
quota_guard_arm(int64 timeout_ms, int64 work_mem_kb)
{
	guard_timeout_ms = (timeout_ms > 0 && timeout_ms <= INT_MAX) ? (int) timeout_ms : 0;
	guard_work_mem_kb = (work_mem_kb > 0 && work_mem_kb <= INT_MAX) ? (int) work_mem_kb : 0;
	guard_hash_mem = (guard_timeout_ms > 0 || guard_work_mem_kb > 0) ? hash_mem_multiplier : 0;
	guard_lxid = MyProc->lxid;
}
