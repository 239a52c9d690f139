/*-------------------------------------------------------------------------
 *
 * tenancy_request.c
 *	  The tenancy step of lowcode.pre_request() (see request/pre_request.h):
 *	  establish the tenant context of the request, or reject it.
 *
 * src/tenancy/ is the tenancy component: the tenant context that every
 * row-level security policy reads (lowcode.current_tenant()), the tenant
 * claim of PostgREST's JWT, and this request step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/uuid.h"

#include "lc/lc_http.h"
#include "request/pre_request.h"
#include "tenancy/tenancy.h"

/* The tenancy step: establish the tenant context or reject the request. */
void
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
	/* the signed context for a Citus cluster's workers: pre_request.c */
}
