/*-------------------------------------------------------------------------
 *
 * session_request.c
 *	  The session step of lowcode.pre_request(), and current_session_id().
 *
 * The session step runs first in pre_request() (see request/pre_request.h).
 * It finds the session proven by the JWT claim "sid_proof" (the token's
 * proof; a "sid" beside it must name the same session) or, when the JWT
 * has no session claim, by the opaque token in the request header named by
 * lowcode.session_token_header.  A "sid" without its proof is refused
 * unless lowcode.session_proof = optional (the id is not a secret).  It rejects an unknown, expired or revoked one
 * with HTTP 401, binds its tenant for the transaction and records in shared
 * memory that it was seen.
 *
 * Why revocation is checked against the table and not a shared memory flag:
 * the row is read by a direct index scan under the request's snapshot, so
 * a revocation is visible to the very next request in every backend as soon
 * as it committed, a revocation that rolls back has no effect, and there is
 * no second copy of the state to keep coherent (after a crash, across
 * standbys, after DROP/CREATE EXTENSION).  The index scan costs a few
 * microseconds, well within the 30 us budget (docs/benchmarks.md).
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "parser/parse_relation.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lc/lc_http.h"
#include "lc/lc_json.h"
#include "pg_lowcode.h"
#include "session/session.h"
#include "request/pre_request.h"

/* The session validated by pre_request(), valid in one transaction only. */
static bool current_bound = false;
static LocalTransactionId current_lxid = InvalidLocalTransactionId;
static pg_uuid_t current_session;

#define WWW_AUTH_INVALID "{\"WWW-Authenticate\":\"Bearer error=\\\"invalid_token\\\"\"}"

void
session_request_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			current_bound = false;
			current_lxid = InvalidLocalTransactionId;
			break;
		default:
			break;
	}
}

/* ---------------------------------------------------------------------
 * Reading the request
 * ---------------------------------------------------------------------
 */

/* The value of a header in request.headers, NULL when absent or unreadable. */
static char *
request_header(const char *name)
{
	char	   *value;

	if (name == NULL || name[0] == '\0')
		return NULL;
	/* HTTP header names are case-insensitive. */
	if (lc_json_top_field(GetConfigOption("request.headers", true, false), name, true, &value) != LC_JSON_STRING)
		return NULL;
	return value;
}

/* ---------------------------------------------------------------------
 * Reading a session row
 * ---------------------------------------------------------------------
 */
typedef struct SessionRow
{
	pg_uuid_t	tenant;
	pg_uuid_t	id;
	char		state[16];
	TimestampTz last_seen;
	TimestampTz absolute_expires;
	int64		idle_us;
} SessionRow;

/* Attribute numbers of lowcode.sessions, resolved once per relation. */
static Oid	cached_relid = InvalidOid;
static AttrNumber att_tenant,
			att_id,
			att_state,
			att_last_seen,
			att_idle,
			att_absolute;

static void
resolve_attnums(Relation rel)
{
	if (cached_relid == RelationGetRelid(rel))
		return;
	att_tenant = attnameAttNum(rel, "tenant_id", false);
	att_id = attnameAttNum(rel, "id", false);
	att_state = attnameAttNum(rel, "state", false);
	att_last_seen = attnameAttNum(rel, "last_seen_at", false);
	att_idle = attnameAttNum(rel, "idle_timeout", false);
	att_absolute = attnameAttNum(rel, "absolute_expires_at", false);
	cached_relid = RelationGetRelid(rel);
}

static int64
interval_usecs(const Interval *iv)
{
	return iv->time + (int64) iv->day * USECS_PER_DAY +
		(int64) iv->month * DAYS_PER_MONTH * USECS_PER_DAY;
}

/*
 * Find the session by id (by_token false, key a uuid) or by token hash (key
 * a bytea).  Reads the table directly, with no RLS and no ACL check: this is
 * the extension's own lookup, like tenancy_lookup().  Returns how many rows
 * matched (0, 1, or 2 meaning "more than one").
 */
static int
session_lookup(bool by_token, Datum key, SessionRow *row)
{
	Oid			nsp;
	Oid			relid;
	Oid			indexid;
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData skey;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	int			found = 0;

	nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	if (!OidIsValid(nsp))
		return 0;
	relid = get_relname_relid("sessions", nsp);
	indexid = get_relname_relid(by_token ? "sessions_token_hash_idx" : "sessions_id_idx", nsp);
	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return 0;

	rel = table_open(relid, AccessShareLock);
	idx = index_open(indexid, AccessShareLock);
	resolve_attnums(rel);
	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber,
				by_token ? F_BYTEAEQ : F_UUID_EQ, key);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	while (found < 2 && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d;

		found++;
		if (found > 1)
			break;
		d = slot_getattr(slot, att_tenant, &isnull);
		memcpy(&row->tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		d = slot_getattr(slot, att_id, &isnull);
		memcpy(&row->id, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		d = slot_getattr(slot, att_state, &isnull);
		text_to_cstring_buffer(DatumGetTextPP(d), row->state, sizeof(row->state));
		d = slot_getattr(slot, att_last_seen, &isnull);
		row->last_seen = DatumGetTimestampTz(d);
		d = slot_getattr(slot, att_absolute, &isnull);
		row->absolute_expires = DatumGetTimestampTz(d);
		d = slot_getattr(slot, att_idle, &isnull);
		row->idle_us = interval_usecs(DatumGetIntervalP(d));
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* Whether the installed SQL has session proofs (0.3.0 or later). */
static bool
sql_has_proofs(void)
{
	Oid			argtypes[1] = {TEXTOID};

	return OidIsValid(LookupFuncName(list_make2(makeString(LOWCODE_SCHEMA), makeString("session_proof")),
									 1, argtypes, true));
}

static void
reject(const char *code, const char *message, const char *details)
{
	lc_raise_http(401, code, message, details,
				  "Sign in again to obtain a new session.", WWW_AUTH_INVALID);
}

/* ---------------------------------------------------------------------
 * The session step of pre_request()
 * ---------------------------------------------------------------------
 */
void
session_pre_request(PreRequest *req)
{
	char	   *sid_text = NULL;
	const char *why = NULL;
	SessionRow	row;
	int			n;
	TimestampTz now;
	TimestampTz seen;
	bool		by_token = false;
	pg_uuid_t	sid;
	uint8		hash[SESSION_TOKEN_HASH_LEN];
	bytea	   *hash_datum = NULL;

	ClaimStatus sid_status;
	char	   *proof_text = NULL;
	bool		check_sid = false;

	sid_status = tenancy_read_claim("sid", &sid_text, &why);
	if (sid_status == CLAIM_NOT_JSON)
		return;					/* the tenancy step reports malformed claims */
	if (sid_status == CLAIM_MALFORMED)
		reject("LS401", "invalid session claim", why);
	if (sid_status == CLAIM_OK && !lc_parse_uuid(sid_text, &sid))
		reject("LS401", "invalid session claim", "claim \"sid\" is not a uuid");

	/*
	 * A session is proven by a secret, never by its id alone (issue 13): the
	 * id is in JWTs, session_info() and events.  The JWT carries the token's
	 * proof in "sid_proof"; the row is found by the proof's hash, and a "sid"
	 * beside it must name the same session.
	 */
	switch (tenancy_read_claim("sid_proof", &proof_text, &why))
	{
		case CLAIM_NOT_JSON:
			return;
		case CLAIM_MALFORMED:
			reject("LS401", "invalid session proof", why);
			break;
		case CLAIM_OK:
			{
				uint8		proof[SESSION_TOKEN_HASH_LEN];

				if (!session_parse_proof(proof_text, proof))
					reject("LS401", "invalid session proof",
						   "claim \"sid_proof\" is not \"lcp_\" followed by 43 base64url characters");
				session_sha256(proof, sizeof(proof), hash);
				explicit_bzero(proof, sizeof(proof));
				by_token = true;
				check_sid = (sid_status == CLAIM_OK);
			}
			break;
		case CLAIM_ABSENT:
			if (sid_status == CLAIM_OK)
			{
				if (session_proof_mode == SESSION_PROOF_REQUIRED)
					reject("LS401", "session claim without proof",
						   "claim \"sid\" names a session but claim \"sid_proof\" is missing: a session id is not a secret");
				break;			/* lowcode.session_proof = optional: the id alone (0.2.0) */
			}
			{
				char	   *token = request_header(session_token_header);

				if (token == NULL || token[0] == '\0')
					return;		/* no session: the tenancy step decides */
				session_token_hash(token, strlen(token), hash);
				by_token = true;
			}
			break;
	}
	if (by_token)
	{
		hash_datum = palloc(VARHDRSZ + SESSION_TOKEN_HASH_LEN);
		SET_VARSIZE(hash_datum, VARHDRSZ + SESSION_TOKEN_HASH_LEN);
		memcpy(VARDATA(hash_datum), hash, SESSION_TOKEN_HASH_LEN);
	}

	/* Last-seen times need the shared hash: no silent half-working sessions. */
	lowcode_require_preload("session validation in lowcode.pre_request()");

	n = session_lookup(by_token,
					   by_token ? PointerGetDatum(hash_datum) : UUIDPGetDatum(&sid),
					   &row);
	if (n == 0 && by_token && !sql_has_proofs())
	{
		/*
		 * This library with the SQL of 0.2.0 or older, before ALTER EXTENSION
		 * UPDATE: the table holds the token's SHA-256 (the proof itself).
		 * Never once the SQL is 0.3.0: a stored hash must not be a proof.
		 */
		if (proof_text != NULL)
		{
			uint8		proof[SESSION_TOKEN_HASH_LEN];

			(void) session_parse_proof(proof_text, proof);
			memcpy(VARDATA(hash_datum), proof, SESSION_TOKEN_HASH_LEN);
			explicit_bzero(proof, sizeof(proof));
		}
		else
		{
			char	   *token = request_header(session_token_header);

			session_sha256((const uint8 *) token, strlen(token), (uint8 *) VARDATA(hash_datum));
		}
		n = session_lookup(true, PointerGetDatum(hash_datum), &row);
	}
	if (n != 1)
		reject("LS401", "unknown session",
			   proof_text ? "no session has this proof" :
			   by_token ? "no session has this token" : "no session has this id");
	if (check_sid && memcmp(&row.id, &sid, sizeof(pg_uuid_t)) != 0)
		reject("LS401", "unknown session", "claim \"sid\" names another session than claim \"sid_proof\"");

	if (strcmp(row.state, "revoked") == 0)
		reject("LS441", "session revoked", "the session was revoked");
	if (strcmp(row.state, "active") != 0)
		reject("LS440", "session expired", "the session has expired");

	now = GetCurrentTimestamp();
	if (now >= row.absolute_expires)
		reject("LS440", "session expired", "the session has reached its maximum lifetime");
	seen = session_shmem_last_seen(MyDatabaseId, &row.id);
	if (seen < row.last_seen)
		seen = row.last_seen;
	if (now >= seen + row.idle_us)
		reject("LS440", "session expired", "the session has been idle for longer than its idle timeout");

	if (tenancy_context_source == TENANT_CONTEXT_CLAIMS)
	{
		pg_uuid_t	claimed;
		const char *why2;

		if (tenancy_claim_tenant(&claimed, &why2) == CLAIM_OK &&
			memcmp(&claimed, &row.tenant, sizeof(pg_uuid_t)) != 0)
			reject("LS442", "session of another tenant",
				   "the session does not belong to the tenant named by the \"tenant_id\" claim");
	}

	tenancy_bind_session_tenant(&row.tenant);
	session_shmem_touch(&row.tenant, &row.id, now);

	memcpy(&current_session, &row.id, sizeof(pg_uuid_t));
	current_bound = true;
	current_lxid = MyProc->lxid;
	req->has_session = true;
	memcpy(&req->session_id, &row.id, sizeof(pg_uuid_t));
}

/* ---------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(lowcode_current_session_id);

/* lowcode.current_session_id() RETURNS uuid */
Datum
lowcode_current_session_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *result;

	if (!current_bound || current_lxid != MyProc->lxid)
		PG_RETURN_NULL();
	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &current_session, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}
