/*-------------------------------------------------------------------------
 *
 * pre_request.h
 *	  lowcode.pre_request(), PostgREST's db-pre-request hook, as a pipeline.
 *
 * pre_request() runs once per HTTP request, inside the request's
 * transaction, before the request's own statement.  Each component adds its
 * step here:
 *	1. session_pre_request():  find and validate the session (sessions issue),
 *							   bind its tenant;
 *	2. the tenancy step:	   establish the tenant context, reject a request
 *							   without a tenant, or with an unknown or
 *							   suspended one;
 *	3. quota_pre_request():	   tier settings, rate limits (quota issue).
 * A step rejects a request by raising lc_raise_http().  pre_request() never
 * writes a table: GET requests run in READ ONLY transactions.
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
} PreRequest;

extern void session_pre_request(PreRequest *req);
extern void quota_pre_request(PreRequest *req);

/* Read a request.* setting, "" when unset. */
extern const char *pre_request_setting(const char *name);

#endif							/* PRE_REQUEST_H */
