/*-------------------------------------------------------------------------
 *
 * tenancy_context.c
 *	  The signed tenant context: how the tenant of a request reaches the
 *	  other nodes of a Citus cluster (issue 17).
 *
 * On one node the tenant context lives in backend memory (a session bound
 * by pre_request()) or in request.jwt.claims, which PostgREST sets with
 * set_config().  Neither reaches a Citus worker: a worker runs the shard
 * queries in backends of its own, opened by the coordinator as the same
 * role, and Citus forwards only SET LOCAL commands
 * (citus.propagate_set_commands = 'local') to them.
 *
 * So once pre_request() has established the tenant on the coordinator, it
 * runs SET LOCAL lowcode.context =
 * 'v1:<tenant>:<expiry>:<max_rows>:<max_storage_bytes>:<hmac>' through
 * ProcessUtility, where hmac is HMAC-SHA-256 of everything before it, keyed
 * by lowcode.context_secret, a superuser-only setting that every node of the
 * cluster holds in its postgresql.conf.  Citus sends that SET LOCAL to
 * every worker connection of the transaction, and current_tenant() on the
 * worker verifies the signature and the expiry before it answers.
 *
 * The two limits are the tenant's row and storage quotas as the
 * coordinator knows them (-1: none).  The quota trigger fires on the shard,
 * on the worker that holds the tenant's rows, whose copies of the limit
 * tables are empty: it enforces the signed limits instead (quota_sql.c).
 *
 * lowcode.context is an ordinary user setting (Citus opens the worker
 * connections as the request's role, which must be able to run the SET
 * there), so anyone can set it: the signature is what makes it unspoofable.
 * A context that does not verify is an error (LT012), never an empty or a
 * different tenant.  The context is not bound to one transaction: the role
 * can read its own context and set it again later, which gives it its own
 * tenant and the limits it had then only, until the expiry
 * (lowcode.context_lifetime).  The
 * coordinator checked that the tenant is active when it signed; workers
 * trust that (they need no copy of lowcode.tenants).
 *
 * Nothing here runs on a single node unless lowcode.context_secret is set.
 *
 * src/tenancy/ is the tenancy component: the tenant context every
 * row-level security policy reads, the tenant claim, and the tenancy step
 * of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lc/lc_errcodes.h"
#include "lc/lc_json.h"
#include "tenancy/tenancy.h"

#define CONTEXT_VERSION "v1"
#define CONTEXT_HMAC_LEN PG_SHA256_DIGEST_LENGTH

char	   *tenancy_context_value = NULL;	/* lowcode.context */
static char *context_secret = NULL; /* lowcode.context_secret */
static int	context_lifetime = 3600;	/* lowcode.context_lifetime, seconds */

/* Per-transaction cache of the last verified context. */
static LocalTransactionId verified_lxid = InvalidLocalTransactionId;
static char *verified_text = NULL;	/* in TopMemoryContext */
static pg_uuid_t verified_tenant;
static TenantContextLimits verified_limits;

void
tenancy_context_init(void)
{
	DefineCustomStringVariable("lowcode.context",
							   "The signed tenant context of the request (set by lowcode.pre_request() on a Citus cluster).",
							   "v1:<tenant>:<expiry>:<max_rows>:<max_storage_bytes>:<hmac>. Citus forwards it to the workers as a SET LOCAL; "
							   "current_tenant() verifies it with lowcode.context_secret.",
							   &tenancy_context_value,
							   "",
							   PGC_USERSET, GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("lowcode.context_secret",
							   "Key of the signed tenant context; the same on every node of a Citus cluster.",
							   "Empty: pre_request() publishes no signed context (a single node needs none).",
							   &context_secret,
							   "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.context_lifetime",
							"How long a signed tenant context stays valid after the transaction that signed it started.",
							NULL,
							&context_lifetime,
							3600, 1, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* HMAC-SHA-256 of text under the context secret. */
static void
context_hmac(const char *text, uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL ||
		pg_hmac_init(ctx, (const uint8 *) context_secret, strlen(context_secret)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) text, strlen(text)) < 0 ||
		pg_hmac_final(ctx, out, CONTEXT_HMAC_LEN) < 0)
	{
		const char *why = ctx ? pg_hmac_error(ctx) : "out of memory";

		if (ctx)
			pg_hmac_free(ctx);
		elog(ERROR, "could not compute the tenant context's HMAC: %s", why);
	}
	pg_hmac_free(ctx);
}

/* Lowercase hex of the MAC, NUL-terminated (PostgreSQL's hex_encode). */
static void
mac_hex(const uint8 *mac, char *out)
{
	uint64		n = hex_encode((const char *) mac, CONTEXT_HMAC_LEN, out);

	out[n] = '\0';
}

/* The signed context of a tenant, valid until now + lifetime. */
static char *
context_sign(const pg_uuid_t *tenant, const TenantContextLimits *limits)
{
	char	   *uuid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(tenant)));
	int64		expiry = (int64) (timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()) + context_lifetime);
	char	   *payload = psprintf(CONTEXT_VERSION ":%s:" INT64_FORMAT ":" INT64_FORMAT ":" INT64_FORMAT,
								   uuid, expiry, limits->max_rows, limits->max_storage_bytes);
	uint8		mac[CONTEXT_HMAC_LEN];
	char		hex[2 * CONTEXT_HMAC_LEN + 1];

	context_hmac(payload, mac);
	mac_hex(mac, hex);
	return psprintf("%s:%s", payload, hex);
}

/*
 * Publish the tenant to the nodes of the cluster: SET LOCAL lowcode.context
 * as a utility statement, so that Citus' utility hook sees it and forwards
 * it.  Only when a secret is configured.
 */
bool
tenancy_publish_context(const pg_uuid_t *tenant, const TenantContextLimits *limits)
{
	char	   *signed_context;

	if (context_secret == NULL || context_secret[0] == '\0')
		return false;
	signed_context = context_sign(tenant, limits);
	tenancy_set_local_forwarded("lowcode.context", signed_context);

	/* we signed it: no need to verify it again in this transaction */
	if (verified_text)
		pfree(verified_text);
	verified_text = MemoryContextStrdup(TopMemoryContext, signed_context);
	memcpy(&verified_tenant, tenant, sizeof(pg_uuid_t));
	verified_limits = *limits;
	verified_lxid = MyProc->lxid;
	return true;
}

void
tenancy_set_local_forwarded(const char *name, const char *setting)
{
	char	   *sql;
	A_Const    *value;
	VariableSetStmt *stmt;
	PlannedStmt *wrapper;

	/*
	 * Citus forwards SET LOCAL only with citus.propagate_set_commands =
	 * 'local'; set it for this transaction so that a node configured
	 * without it still routes the context (the setting is Citus' own and
	 * absent without Citus).
	 */
	if (GetConfigOption("citus.propagate_set_commands", true, false) != NULL)
		(void) set_config_option("citus.propagate_set_commands", "local",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);

	/*
	 * The statement goes through ProcessUtility, as SPI would send it, but
	 * without parsing it: Citus' utility hook sees the VariableSetStmt and
	 * forwards the text.
	 */
	sql = psprintf("SET LOCAL %s = %s", name, quote_literal_cstr(setting));
	value = makeNode(A_Const);
	value->val.sval.type = T_String;
	value->val.sval.sval = pstrdup(setting);
	value->location = -1;
	stmt = makeNode(VariableSetStmt);
	stmt->kind = VAR_SET_VALUE;
	stmt->name = pstrdup(name);
	stmt->args = list_make1(value);
	stmt->is_local = true;
	wrapper = makeNode(PlannedStmt);
	wrapper->commandType = CMD_UTILITY;
	wrapper->canSetTag = false;
	wrapper->utilityStmt = (Node *) stmt;
	wrapper->stmt_location = 0;
	wrapper->stmt_len = strlen(sql);
	ProcessUtility(wrapper, sql, false, PROCESS_UTILITY_QUERY, NULL, NULL, None_Receiver, NULL);
}

static void
context_invalid(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_LT_INVALID_TENANT_CONTEXT),
			 errmsg("invalid tenant context in lowcode.context"),
			 errdetail("%s", why),
			 errhint("lowcode.context is set by lowcode.pre_request(); do not set it yourself. "
					 "Every node of a cluster needs the same lowcode.context_secret.")));
}

/* A limit field of the context: an integer >= -1. */
static int64
context_limit(const char *field, const char *name)
{
	char	   *end;
	int64		v;

	errno = 0;
	v = strtoi64(field, &end, 10);
	if (errno != 0 || *end != '\0' || end == field || v < -1)
		context_invalid(psprintf("its %s is not an integer of at least -1", name));
	return v;
}

#define CONTEXT_FIELDS 6		/* version, tenant, expiry, 2 limits, MAC */

/*
 * The tenant of the signed context, verified; false when lowcode.context is
 * empty.  A context that is set but does not verify raises LT012.
 */
bool
tenancy_context_tenant(pg_uuid_t *tenant)
{
	const char *text = tenancy_context_value;
	char	   *copy;
	char	   *fields[CONTEXT_FIELDS];
	char	   *p;
	int			n = 0;
	char	   *sig;
	uint8		mac[CONTEXT_HMAC_LEN];
	char		hex[2 * CONTEXT_HMAC_LEN + 1];
	int			diff = 0;
	int64		expiry;
	char	   *end;
	TenantContextLimits limits;

	if (text == NULL || text[0] == '\0')
		return false;
	if (verified_lxid == MyProc->lxid && verified_text != NULL && strcmp(verified_text, text) == 0)
	{
		memcpy(tenant, &verified_tenant, sizeof(pg_uuid_t));
		return true;
	}
	if (context_secret == NULL || context_secret[0] == '\0')
		context_invalid("this node has no lowcode.context_secret to verify it with");

	copy = pstrdup(text);
	for (p = copy; n < CONTEXT_FIELDS; n++)
	{
		fields[n] = p;
		p = strchr(p, ':');
		if (p == NULL)
		{
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != CONTEXT_FIELDS || p != NULL || strcmp(fields[0], CONTEXT_VERSION) != 0)
		context_invalid("it is not of the form v1:<tenant>:<expiry>:<max_rows>:<max_storage_bytes>:<signature>");
	if (!lc_parse_uuid(fields[1], tenant))
		context_invalid("its tenant is not a uuid");
	errno = 0;
	expiry = strtoi64(fields[2], &end, 10);
	if (errno != 0 || *end != '\0' || end == fields[2])
		context_invalid("its expiry is not a number");
	limits.max_rows = context_limit(fields[3], "max_rows");
	limits.max_storage_bytes = context_limit(fields[4], "max_storage_bytes");
	sig = fields[CONTEXT_FIELDS - 1];
	if (strlen(sig) != 2 * CONTEXT_HMAC_LEN)
		context_invalid("its signature does not match");

	/* the MAC covers the text up to its last colon */
	context_hmac(pnstrdup(text, sig - copy - 1), mac);
	mac_hex(mac, hex);
	/* constant time: do not tell how many leading characters were right */
	for (int i = 0; i < 2 * CONTEXT_HMAC_LEN; i++)
		diff |= hex[i] ^ sig[i];
	if (diff != 0)
		context_invalid("its signature does not match");
	if (timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()) > expiry)
		context_invalid("it has expired");

	if (verified_text)
		pfree(verified_text);
	verified_text = MemoryContextStrdup(TopMemoryContext, text);
	memcpy(&verified_tenant, tenant, sizeof(pg_uuid_t));
	verified_limits = limits;
	verified_lxid = MyProc->lxid;
	return true;
}

/*
 * The storage limits signed with the verified context, when its tenant is
 * "tenant"; false when lowcode.context is empty or names another tenant.
 */
bool
tenancy_context_limits(const pg_uuid_t *tenant, TenantContextLimits *limits)
{
	pg_uuid_t	context_tenant;

	if (!tenancy_context_tenant(&context_tenant) ||
		memcmp(&context_tenant, tenant, sizeof(pg_uuid_t)) != 0)
		return false;
	*limits = verified_limits;
	return true;
}
