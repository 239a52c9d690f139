/*-------------------------------------------------------------------------
 *
 * tenancy.h
 *	  The tenant context: which tenant the current request belongs to.
 *
 * The context comes from one of two sources, chosen by the superuser-only
 * setting lowcode.tenant_context:
 *	- claims:  the "tenant_id" key of PostgREST's request.jwt.claims, which
 *			   PostgREST sets after verifying the JWT;
 *	- session: a tenant bound in backend memory by pre_request() after it
 *			   validated a session.  The binding cannot be set from SQL and is
 *			   cleared at the end of every transaction.
 * A suspended or unknown tenant gives no context: every policy then denies.
 *
 * src/tenancy/ is the tenancy component: the tenant context every row-level
 * security policy reads, the tenant claim, and the tenancy step of
 * pre_request().
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANCY_H
#define TENANCY_H

#include "access/attnum.h"
#include "utils/uuid.h"

typedef enum TenantContextSource
{
	TENANT_CONTEXT_CLAIMS,
	TENANT_CONTEXT_SESSION
} TenantContextSource;

extern int	tenancy_context_source;

/* What lowcode.tenants says about one tenant. */
typedef struct TenantInfo
{
	pg_uuid_t	id;
	bool		active;			/* status = 'active' */
	char		tier[NAMEDATALEN];
} TenantInfo;

/* Outcome of reading the tenant claim from request.jwt.claims. */
typedef enum ClaimStatus
{
	CLAIM_ABSENT,				/* no claims, or no tenant_id key */
	CLAIM_OK,
	CLAIM_NOT_JSON,				/* request.jwt.claims is not valid JSON */
	CLAIM_MALFORMED				/* the claim is not a string, or not a uuid */
} ClaimStatus;

/*
 * Find a tenant by id.  Reads lowcode.tenants directly (no RLS, no ACL
 * check): this is the extension's own lookup.  False when the tenant does
 * not exist or the extension is not installed in this database.
 */
extern bool tenancy_lookup(const pg_uuid_t *id, TenantInfo *info);

/*
 * Read a claim from request.jwt.claims: "key" must be a top-level string
 * key.  On CLAIM_OK *value is a palloc'd copy; on CLAIM_MALFORMED *why says
 * what is wrong.
 */
extern ClaimStatus tenancy_read_claim(const char *key, char **value, const char **why);

/* The tenant claim of the current request, parsed as a uuid. */
extern ClaimStatus tenancy_claim_tenant(pg_uuid_t *tenant, const char **why);

/* Bind the tenant of a validated session for the rest of this transaction. */
extern void tenancy_bind_session_tenant(const pg_uuid_t *tenant);

/* The tenant bound by the session source, if any, in this transaction. */
extern bool tenancy_bound_session_tenant(pg_uuid_t *tenant);

/*
 * Pin the tenant pre_request() validated from the claims, for the rest of
 * the transaction: later set_config() of request.jwt.claims by the
 * request's own statements no longer changes the context.
 */
extern void tenancy_pin_claims_tenant(const pg_uuid_t *tenant);

/* The current tenant context; false when there is none. */
extern bool tenancy_current_tenant(pg_uuid_t *tenant);

/*
 * The signed tenant context (tenancy_context.c, issue 17): how the tenant
 * reaches the workers of a Citus cluster.  publish: SET LOCAL
 * lowcode.context to the signed tenant and its storage limits (only with
 * lowcode.context_secret set; true when it did).  tenant: the verified tenant of
 * lowcode.context, false when it is empty; an invalid context raises LT012.
 * limits: the storage limits signed with the verified context of "tenant",
 * false when there is no such context (then the node's own tables decide).
 */
typedef struct TenantContextLimits
{
	int64		max_rows;		/* -1: no limit */
	int64		max_storage_bytes;	/* -1: no limit */
} TenantContextLimits;

extern char *tenancy_context_value;
extern void tenancy_context_init(void);
extern bool tenancy_publish_context(const pg_uuid_t *tenant, const TenantContextLimits *limits);
/*
 * SET LOCAL name = value as a utility statement, which Citus forwards to
 * the workers of the transaction (tenancy_context.c).
 */
extern void tenancy_set_local_forwarded(const char *name, const char *value);
/* A backend Citus opened from another node (its application_name says so). */
extern bool tenancy_citus_internal_backend(void);
extern bool tenancy_context_tenant(pg_uuid_t *tenant);
extern bool tenancy_context_limits(const pg_uuid_t *tenant, TenantContextLimits *limits);

/* Router plans on Citus: the planner hook (tenancy_router.c, issue 17). */
extern void tenancy_router_init(void);
/* Whether relid is a Citus table; its hash distribution column (tenancy_router.c). */
extern bool tenancy_citus_table(Oid relid, AttrNumber *hash_attnum);

/* The tenancy step of lowcode.pre_request() (tenancy_request.c). */
struct PreRequest;
extern void tenancy_pre_request(struct PreRequest *req);

#endif							/* TENANCY_H */
