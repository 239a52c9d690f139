/*-------------------------------------------------------------------------
 *
 * pre_request.h
 *	  lowcode.pre_request(), PostgREST's db-pre-request hook, as a pipeline.
 *
 * pre_request() runs once per HTTP request, inside the request's
 * transaction, before the request's own statement.  Each component adds its
 * step, declared in its own header and defined in its own folder:
 *	1. session_pre_request() (session.h, session_request.c): find and
 *	   validate the session, bind its tenant;
 *	2. tenancy_pre_request() (tenancy.h, tenancy_request.c): establish the
 *	   tenant context, reject a request without a tenant, or with an unknown
 *	   or suspended one;
 *	3. quota_pre_request() (quota.h, quota_rate.c): tier settings, rate
 *	   limits; fills the tenant's storage limits;
 *	4. tenancy_publish_context() (tenancy.h, tenancy_context.c): on a Citus
 *	   cluster (lowcode.context_secret set), the signed context of the
 *	   tenant and its storage limits, which Citus forwards to the workers;
 *	5. metrics_request_admitted() (metrics.h, metrics_init.c): count the
 *	   admitted request and start its latency clock (refusals are counted
 *	   by lc_raise_http()).
 * This header holds only the request the steps share.
 * A step rejects a request by raising lc_raise_http().  pre_request() never
 * writes a table: GET requests run in READ ONLY transactions.
 *
 * src/request/ is the request pipeline, the top layer: lowcode.pre_request()
 * calls the session, tenancy and quota steps in order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PRE_REQUEST_H
#define PRE_REQUEST_H

#include "tenancy/tenancy.h"

typedef struct PreRequest
{
	const char *method;			/* request.method, "" when unset */
	const char *path;			/* request.path, "" when unset */
	bool		read_only;		/* GET / HEAD */

	/* Filled by the session step when a session was validated. */
	bool		has_session;
	pg_uuid_t	session_id;

	/* Filled by the tenancy step. */
	TenantInfo	tenant;

	/* Filled by the quota step; -1 (no limit) without quotas. */
	TenantContextLimits storage_limits;
} PreRequest;

#endif							/* PRE_REQUEST_H */
