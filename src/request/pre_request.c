/*-------------------------------------------------------------------------
 *
 * pre_request.c
 *	  lowcode.pre_request(): PostgREST's db-pre-request hook.
 *
 * See pre_request.h for the pipeline.  Every rejection is an HTTP error in
 * PostgREST's PGRST form, listed in docs/errors.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/uuid.h"

#include "lc/lc_http.h"
#include "metrics/metrics.h"
#include "pg_lowcode.h"
#include "request/pre_request.h"

const char *
pre_request_setting(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return v ? v : "";
}

/* The tenancy step: establish the tenant context or reject the request. */
static void
tenancy_pre_request(PreRequest *req)
{
	pg_uuid_t	tenant;

	if (tenancy_context_source == TENANT_CONTEXT_SESSION)
	{
		if (!tenancy_bound_session_tenant(&tenant))
			lc_raise_http(401, "LT401", "no session for this request",
						  "lowcode.tenant_context is 'session' and the request carries no valid session",
						  "Sign in to obtain a session and send its id in the JWT claim \"sid\".",
						  "{\"WWW-Authenticate\":\"Bearer error=\\\"invalid_token\\\"\"}");
	}
	else
	{
		const char *why = NULL;

		switch (tenancy_claim_tenant(&tenant, &why))
		{
			case CLAIM_ABSENT:
				lc_raise_http(401, "LT401", "no tenant for this request",
							  "the JWT has no \"tenant_id\" claim",
							  "Issue JWTs with a \"tenant_id\" claim holding the tenant's uuid.",
							  "{\"WWW-Authenticate\":\"Bearer error=\\\"invalid_token\\\"\"}");
				break;
			case CLAIM_NOT_JSON:
			case CLAIM_MALFORMED:
				lc_raise_http(400, "LT400", "malformed tenant claim", why,
							  "\"tenant_id\" must be a string holding a uuid.", NULL);
				break;
			case CLAIM_OK:
				break;
		}
	}

	if (!tenancy_lookup(&tenant, &req->tenant))
		lc_raise_http(403, "LT403", "unknown tenant",
					  "the request's tenant does not exist", NULL, NULL);
	if (!req->tenant.active)
		lc_raise_http(403, "LT423", "tenant suspended",
					  "the request's tenant is suspended",
					  "Contact the platform operator.", NULL);
	if (tenancy_context_source == TENANT_CONTEXT_CLAIMS)
		tenancy_pin_claims_tenant(&tenant);
}

PG_FUNCTION_INFO_V1(lowcode_pre_request);

/* lowcode.pre_request() RETURNS void */
Datum
lowcode_pre_request(PG_FUNCTION_ARGS)
{
	PreRequest	req;

	memset(&req, 0, sizeof(req));
	req.method = pre_request_setting("request.method");
	req.path = pre_request_setting("request.path");
	req.read_only = (strcmp(req.method, "GET") == 0 || strcmp(req.method, "HEAD") == 0);

	session_pre_request(&req);
	tenancy_pre_request(&req);
	quota_pre_request(&req);
	metrics_request_admitted(&req.tenant.id);

	PG_RETURN_VOID();
}
