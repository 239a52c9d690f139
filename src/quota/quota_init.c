/*-------------------------------------------------------------------------
 *
 * quota_init.c
 *	  Entry point of the quota component, called from _PG_init(): its
 *	  settings and its shared memory.
 *
 * The rate limiter and the pre_request() step are in quota_rate.c, the
 * shared memory table in quota_shmem.c, the limits in quota_limits.c and
 * the SQL functions in quota_sql.c.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "pg_lowcode.h"
#include "quota/quota.h"
#include "quota/quota_int.h"

int			quota_max_tenants = 10000;

void
quota_init(void)
{
	/* a PGC_POSTMASTER setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("lowcode.quota_max_tenants",
								"Number of tenants the quota table in shared memory is sized for (it holds twice as many entries).",
								"A full bucket evicts its least recently used entry that has nothing left to flush.",
								&quota_max_tenants,
								10000, 100, 10000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("lowcode.rate_limiting",
							 "Enforce the per-tenant request rate limit in lowcode.pre_request().",
							 NULL,
							 &quota_rate_limiting,
							 true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("lowcode.quotas_enabled",
							 "Run the quota step of lowcode.pre_request(): rate limit, tier settings, request counting.",
							 "Off skips the whole step (used by the benchmarks to measure its cost).",
							 &quota_enabled,
							 true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.session_requests_per_second",
							"Per-session rate limit in lowcode.pre_request(), on top of the tenant's (0: none).",
							"Each session of a tenant then has its own token bucket, so that one session cannot use up the tenant's rate.",
							&quota_session_rate,
							0, 0, 1000000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.session_request_burst",
							"Burst of the per-session token bucket (0: as many as lowcode.session_requests_per_second).",
							NULL,
							&quota_session_burst,
							0, 0, 1000000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("lowcode.apply_tier_settings",
							 "Apply the tenant's statement_timeout and work_mem in lowcode.pre_request().",
							 NULL,
							 &quota_apply_settings,
							 true,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
		quota_shmem_init();
	quota_xact_init();
	quota_guard_init();
}

