/*-------------------------------------------------------------------------
 *
 * pre_request.c
 *	  lowcode.pre_request(): PostgREST's db-pre-request hook.
 *
 * src/request/ is the request pipeline: the top layer, above the
 * components.  It owns no policy of its own: it reads the request, then
 * calls each component's step, in order, from the component's own header
 * (session.h, tenancy.h, quota.h; on Citus, the registry's message language
 * for the workers, registry.h).  See pre_request.h for the order.  Every
 * rejection is an HTTP error in PostgREST's PGRST form, listed in
 * docs/errors.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/uuid.h"

#include "metrics/metrics.h"
#include "quota/quota.h"
#include "registry/registry.h"
#include "request/pre_request.h"
#include "session/session.h"
#include "tenancy/tenancy.h"

/* Read a request.* setting, "" when unset. */
static const char *
pre_request_setting(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return v ? v : "";
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
	req.storage_limits.max_rows = -1;
	req.storage_limits.max_storage_bytes = -1;

	session_pre_request(&req);
	tenancy_pre_request(&req);
	quota_pre_request(&req);
	if (tenancy_publish_context(&req.tenant.id, &req.storage_limits))
		registry_publish_locale();	/* Citus: the message language, for the workers */
	metrics_request_admitted(&req.tenant.id);

	PG_RETURN_VOID();
}
