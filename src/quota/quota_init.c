/*-------------------------------------------------------------------------
 *
 * quota_init.c
 *	  Entry point of the quota component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"
#include "tenancy/pre_request.h"
#include "quota/quota.h"

void
quota_init(void)
{
}

/*
 * The quota step of pre_request(): nothing yet; the quota component applies
 * tier settings and rate limits here.
 */
void
quota_pre_request(PreRequest *req)
{
}

/* Nothing to flush until the quota component keeps counters. */
void
quota_worker_sweep(void)
{
}
