/*-------------------------------------------------------------------------
 *
 * tenancy.c
 *	  The tenant context and lowcode.current_tenant().
 *
 * current_tenant() is called from every row-level security policy of every
 * tenant table, usually as an InitPlan once per statement, but also per row
 * where a planner cannot hoist it.  So the answer is computed once per
 * transaction and cached: the claims JSON is parsed once, the tenant's row
 * in lowcode.tenants is read once.  The cache is keyed by the transaction
 * and by the exact claims text, so a set_config() of other claims within
 * the same transaction is seen.
 *
 * The tenant row is read by a direct index scan, not through SPI: policies
 * on lowcode.tenants itself call current_tenant(), and a query through the
 * executor would recurse into them.
 *
 * src/tenancy/ is the tenancy component: the tenant context every row-level
 * security policy reads, the tenant claim, and the tenancy step of
 * pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "parser/parse_relation.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "lc/lc_errcodes.h"
#include "lc/lc_json.h"
#include "pg_lowcode.h"
#include "tenancy/tenancy.h"

int			tenancy_context_source = TENANT_CONTEXT_CLAIMS;

static const struct config_enum_entry tenant_context_options[] = {
	{"claims", TENANT_CONTEXT_CLAIMS, false},
	{"session", TENANT_CONTEXT_SESSION, false},
	{NULL, 0, false}
};

/* Session binding: valid only within the transaction that set it. */
static bool session_bound = false;
static pg_uuid_t session_tenant;

/* Per-transaction cache of the claims mode answer. */
static LocalTransactionId cache_lxid = InvalidLocalTransactionId;
static char *cache_claims = NULL;	/* in TopMemoryContext */
static bool cache_has_tenant = false;
static pg_uuid_t cache_tenant;

/* Tenant pinned by pre_request() in claims mode, for one transaction. */
static LocalTransactionId pinned_lxid = InvalidLocalTransactionId;
static pg_uuid_t pinned_tenant;

/* Per-transaction cache of the session mode answer. */
static LocalTransactionId session_cache_lxid = InvalidLocalTransactionId;
static bool session_cache_has_tenant = false;

static void
tenancy_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			session_bound = false;
			memset(&session_tenant, 0, sizeof(session_tenant));
			cache_lxid = InvalidLocalTransactionId;
			session_cache_lxid = InvalidLocalTransactionId;
			pinned_lxid = InvalidLocalTransactionId;
			break;
		default:
			break;
	}
}

void
tenancy_init(void)
{
	DefineCustomEnumVariable("lowcode.tenant_context",
							 "Where the tenant of a request comes from: JWT claims or a validated session.",
							 "claims: PostgREST's request.jwt.claims key tenant_id. "
							 "session: only a tenant bound by lowcode.pre_request() after validating a session.",
							 &tenancy_context_source,
							 TENANT_CONTEXT_CLAIMS,
							 tenant_context_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	tenancy_context_init();
	tenancy_router_init();
	RegisterXactCallback(tenancy_xact_callback, NULL);
}

/* ---------------------------------------------------------------------
 * Tenant lookup
 * ---------------------------------------------------------------------
 */
bool
tenancy_lookup(const pg_uuid_t *id, TenantInfo *info)
{
	Oid			nsp;
	Oid			relid;
	Oid			indexid;
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	bool		found = false;
	Snapshot	snapshot;

	nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	if (!OidIsValid(nsp))
		return false;
	relid = get_relname_relid("tenants", nsp);
	indexid = get_relname_relid("tenants_pkey", nsp);
	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return false;

	rel = table_open(relid, AccessShareLock);
	idx = index_open(indexid, AccessShareLock);
	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(id));
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		AttrNumber	status_att = attnameAttNum(rel, "status", false);
		AttrNumber	tier_att = attnameAttNum(rel, "tier", false);
		bool		isnull;
		Datum		d;

		found = true;
		memcpy(&info->id, id, sizeof(pg_uuid_t));
		info->active = false;
		info->tier[0] = '\0';
		(void) desc;
		d = slot_getattr(slot, status_att, &isnull);
		if (!isnull)
		{
			char	   *s = TextDatumGetCString(d);

			info->active = (strcmp(s, "active") == 0);
			pfree(s);
		}
		d = slot_getattr(slot, tier_att, &isnull);
		if (!isnull)
			text_to_cstring_buffer(DatumGetTextPP(d), info->tier, NAMEDATALEN);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* ---------------------------------------------------------------------
 * Claims
 * ---------------------------------------------------------------------
 */
ClaimStatus
tenancy_read_claim(const char *key, char **value, const char **why)
{
	const char *claims = GetConfigOption("request.jwt.claims", true, false);

	switch (lc_json_top_field(claims, key, false, value))
	{
		case LC_JSON_ABSENT:
			return CLAIM_ABSENT;
		case LC_JSON_NOT_JSON:
			*why = "request.jwt.claims is not valid JSON";
			return CLAIM_NOT_JSON;
		case LC_JSON_NOT_STRING:
			*why = psprintf("claim \"%s\" is not a string", key);
			return CLAIM_MALFORMED;
		case LC_JSON_STRING:
			break;
	}
	return CLAIM_OK;
}

ClaimStatus
tenancy_claim_tenant(pg_uuid_t *tenant, const char **why)
{
	char	   *value;
	ClaimStatus status = tenancy_read_claim("tenant_id", &value, why);

	if (status != CLAIM_OK)
		return status;
	if (!lc_parse_uuid(value, tenant))
	{
		*why = "claim \"tenant_id\" is not a uuid";
		return CLAIM_MALFORMED;
	}
	return CLAIM_OK;
}

/* ---------------------------------------------------------------------
 * Session binding
 * ---------------------------------------------------------------------
 */
void
tenancy_bind_session_tenant(const pg_uuid_t *tenant)
{
	if (!IsTransactionState())
		elog(ERROR, "tenant binding outside a transaction");
	memcpy(&session_tenant, tenant, sizeof(pg_uuid_t));
	session_bound = true;
	session_cache_lxid = InvalidLocalTransactionId;
}

bool
tenancy_bound_session_tenant(pg_uuid_t *tenant)
{
	if (!session_bound)
		return false;
	memcpy(tenant, &session_tenant, sizeof(pg_uuid_t));
	return true;
}

void
tenancy_pin_claims_tenant(const pg_uuid_t *tenant)
{
	memcpy(&pinned_tenant, tenant, sizeof(pg_uuid_t));
	pinned_lxid = MyProc->lxid;
}

/* ---------------------------------------------------------------------
 * The current tenant
 * ---------------------------------------------------------------------
 */
static bool
tenant_is_active(const pg_uuid_t *id)
{
	TenantInfo	info;

	return tenancy_lookup(id, &info) && info.active;
}

bool
tenancy_citus_internal_backend(void)
{
	return application_name != NULL &&
		strncmp(application_name, "citus_internal gpid=", strlen("citus_internal gpid=")) == 0;
}

bool
tenancy_current_tenant(pg_uuid_t *tenant)
{
	LocalTransactionId lxid = MyProc->lxid;

	/*
	 * The pinned or bound tenant lives in the leader's memory: a parallel
	 * worker would see no session tenant (silently empty answers) and, in
	 * claims mode, would read the claims GUC again, which the request may
	 * have changed after pre_request().  current_tenant() is PARALLEL
	 * RESTRICTED, so the planner evaluates it in the leader (policies call
	 * it as an InitPlan whose value is passed to the workers); reaching this
	 * point in a worker means a wrapper declared PARALLEL SAFE wrongly, and
	 * we refuse rather than answer from the wrong state (issue 13).
	 */
	if (IsParallelWorker())
		ereport(ERROR,
				(errcode(ERRCODE_LT_CONTEXT_IN_PARALLEL_WORKER),
				 errmsg("lowcode.current_tenant() cannot run in a parallel worker"),
				 errdetail("The tenant context lives in the leader process of the query."),
				 errhint("Do not wrap lowcode.current_tenant() in a function declared PARALLEL SAFE; "
						 "declare the wrapper PARALLEL RESTRICTED.")));

	if (tenancy_context_source == TENANT_CONTEXT_SESSION)
	{
		/*
		 * A Citus worker has no session binding: the coordinator's
		 * pre_request() sent it the signed context (tenancy_context.c).
		 */
		if (!session_bound)
			return tenancy_context_tenant(tenant);
		if (session_cache_lxid != lxid)
		{
			session_cache_has_tenant = tenant_is_active(&session_tenant);
			session_cache_lxid = lxid;
		}
		if (session_cache_has_tenant)
			memcpy(tenant, &session_tenant, sizeof(pg_uuid_t));
		return session_cache_has_tenant;
	}
	else if (pinned_lxid == lxid)
	{
		memcpy(tenant, &pinned_tenant, sizeof(pg_uuid_t));
		return true;
	}
	else if (tenancy_context_value != NULL && tenancy_context_value[0] != '\0')
	{
		/* the signed context of a coordinator's pre_request() (issue 17) */
		return tenancy_context_tenant(tenant);
	}
	else if (tenancy_citus_internal_backend())
	{
		/*
		 * A worker backend opened by Citus trusts only the signed context:
		 * request.jwt.claims could have been forwarded as a SET LOCAL that
		 * no pre_request() checked.  (application_name can be spoofed, but
		 * only to lose the claims.)
		 */
		return false;
	}
	else
	{
		const char *claims = GetConfigOption("request.jwt.claims", true, false);

		if (claims == NULL)
			claims = "";
		if (cache_lxid != lxid || cache_claims == NULL || strcmp(cache_claims, claims) != 0)
		{
			const char *why;
			pg_uuid_t	id;

			cache_has_tenant = (tenancy_claim_tenant(&id, &why) == CLAIM_OK &&
								tenant_is_active(&id));
			if (cache_has_tenant)
				memcpy(&cache_tenant, &id, sizeof(pg_uuid_t));
			if (cache_claims)
				pfree(cache_claims);
			cache_claims = MemoryContextStrdup(TopMemoryContext, claims);
			cache_lxid = lxid;
		}
		if (cache_has_tenant)
			memcpy(tenant, &cache_tenant, sizeof(pg_uuid_t));
		return cache_has_tenant;
	}
}

PG_FUNCTION_INFO_V1(lowcode_current_tenant);

/* lowcode.current_tenant() RETURNS uuid, NULL when there is no context. */
Datum
lowcode_current_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *result = palloc(sizeof(pg_uuid_t));

	if (!tenancy_current_tenant(result))
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(result);
}
