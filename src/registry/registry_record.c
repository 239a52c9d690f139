/*-------------------------------------------------------------------------
 *
 * registry_record.c
 *	  The audit row and the outbox event of each submission, written by a C
 *	  row trigger on lowcode.submissions (AFTER INSERT OR UPDATE).
 *
 * It writes what the PL/pgSQL statement trigger lowcode.submissions_record()
 * wrote before issue 21, row for row: a registry_audit row (actor role, JWT
 * sub, action submission_created / submission_updated, subject, version,
 * details {"id","status"}, trace id) and a lowcode.events row (type
 * registry.<action>, payload {"subject","version","id","status"}), both in
 * the submitting transaction, so that a submission, its audit row and its
 * event commit together or not at all; then it queues the event's
 * notification for the commit (src/events/events.c).  The PL/pgSQL trigger
 * cost about 250 us per submission (a transition table, three queries, a
 * SECURITY DEFINER call with its search_path switch); this one is one saved
 * plan (both inserts in one statement) executed as the owner of
 * lowcode.events, with the ids made in C (lowcode.new_id's scheme, no
 * sequence) and no name resolved through the caller's search_path: the
 * statement names only schema-qualified tables and parameters.
 *
 * Rows written without a tenant context (pg_restore by a superuser) are not
 * new submissions and are not recorded, as before.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "events/events.h"
#include "lc/lc_errcodes.h"
#include "registry/registry.h"
#include "tenancy/tenancy.h"


static SPIPlanPtr record_plan = NULL;

#define RECORD_NARGS 10
static const char *record_sql =
"WITH a AS ("
" INSERT INTO lowcode.registry_audit (tenant_id, id, actor_role, actor_sub, action, subject, version, details, trace_id)"
" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))"
" INSERT INTO lowcode.events (tenant_id, id, type, payload, trace_id)"
" VALUES ($1, $10, 'registry.' OPERATOR(pg_catalog.||) $5, $8 OPERATOR(pg_catalog.||) "
"pg_catalog.jsonb_build_object('subject', $6, 'version', $7), $9)";

static int
attno_of(TupleDesc td, const char *name)
{
	int			n = SPI_fnumber(td, name);

	if (n <= 0)
		elog(ERROR, "lowcode.submissions has no column %s", name);
	return n;
}

PG_FUNCTION_INFO_V1(lowcode_submissions_record_row);

Datum
lowcode_submissions_record_row(PG_FUNCTION_ARGS)
{
	TriggerData *tg = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	td;
	pg_uuid_t	ctx;
	bool		isnull;
	Datum		tenant,
				sub_id,
				version,
				status,
				subject;
	bool		version_null;
	const char *action;
	const char *actor_sub;
	const char *trace;
	StringInfoData details;
	Datum		args[RECORD_NARGS];
	char		nulls[RECORD_NARGS];
	int64		audit_id,
				event_id;
	Oid			save_user;
	int			save_sec;
	Oid			owner;
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(tg->tg_event) || !TRIGGER_FIRED_FOR_ROW(tg->tg_event))
		elog(ERROR, "lowcode_submissions_record_row: not called as an AFTER ROW trigger");
	/* rows written by a superuser without a tenant context (pg_restore) are not new submissions */
	if (!tenancy_current_tenant(&ctx))
		return PointerGetDatum(NULL);

	if (TRIGGER_FIRED_BY_INSERT(tg->tg_event))
	{
		tup = tg->tg_trigtuple;
		action = "submission_created";
	}
	else
	{
		tup = tg->tg_newtuple;
		action = "submission_updated";
	}
	td = RelationGetDescr(tg->tg_relation);
	tenant = heap_getattr(tup, attno_of(td, "tenant_id"), td, &isnull);
	sub_id = heap_getattr(tup, attno_of(td, "id"), td, &isnull);
	subject = heap_getattr(tup, attno_of(td, "subject"), td, &isnull);
	version = heap_getattr(tup, attno_of(td, "version"), td, &version_null);
	status = heap_getattr(tup, attno_of(td, "status"), td, &isnull);

	/* details: {"id": <id>, "status": <status>} */
	initStringInfo(&details);
	appendStringInfo(&details, "{\"id\": " INT64_FORMAT ", \"status\": ", DatumGetInt64(sub_id));
	escape_json(&details, TextDatumGetCString(status));
	appendStringInfoChar(&details, '}');

	actor_sub = registry_actor_sub();
	trace = registry_trace_id();
	audit_id = events_new_id();
	event_id = events_new_id();

	memset(nulls, ' ', sizeof(nulls));
	args[0] = tenant;
	args[1] = Int64GetDatum(audit_id);
	args[2] = CStringGetTextDatum(registry_actor_role());
	args[3] = actor_sub ? CStringGetTextDatum(actor_sub) : (Datum) 0;
	nulls[3] = actor_sub ? ' ' : 'n';
	args[4] = CStringGetTextDatum(action);
	args[5] = subject;
	args[6] = version;
	nulls[6] = version_null ? 'n' : ' ';
	args[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(details.data));
	args[8] = trace ? CStringGetTextDatum(trace) : (Datum) 0;
	nulls[8] = trace ? ' ' : 'n';
	args[9] = Int64GetDatum(event_id);

	/* as the owner of the outbox (the extension's owner), as the SECURITY DEFINER trigger did */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	owner = InvalidOid;
	{
		Oid			nsp = get_namespace_oid("lowcode", false);
		Oid			events_rel = get_relname_relid("events", nsp);

		if (!OidIsValid(events_rel))
			elog(ERROR, "lowcode.events is missing");
		HeapTuple	rt = SearchSysCache1(RELOID, ObjectIdGetDatum(events_rel));

		if (!HeapTupleIsValid(rt))
			elog(ERROR, "cache lookup failed for relation %u", events_rel);
		owner = ((Form_pg_class) GETSTRUCT(rt))->relowner;
		ReleaseSysCache(rt);
	}
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		if (record_plan == NULL)
		{
			Oid			types[RECORD_NARGS] = {UUIDOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
			INT4OID, JSONBOID, TEXTOID, INT8OID};
			SPIPlanPtr	p = SPI_prepare(record_sql, RECORD_NARGS, types);

			if (p == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
			if (SPI_keepplan(p) != 0)
				elog(ERROR, "SPI_keepplan failed");
			record_plan = p;
		}
		ret = SPI_execute_plan(record_plan, args, nulls, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "recording a submission failed: %s", SPI_result_code_string(ret));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();

	/* the event's notification, sent after the commit */
	events_queue(DatumGetUUIDP(tenant), event_id, psprintf("registry.%s", action));
	return PointerGetDatum(NULL);
}

/*
 * lowcode.submit(subject, data, version): the INSERT into lowcode.submissions
 * and its result, as the SQL function did, from a plan saved once per
 * backend (issue 21: a LANGUAGE sql function parses and plans its INSERT
 * again in every statement that calls it, about 40 us per submission).  It
 * runs as the caller, so row security and the submissions triggers apply as
 * before; the statement names only qualified objects and parameters.
 */
static SPIPlanPtr submit_plan = NULL;

PG_FUNCTION_INFO_V1(lowcode_submit);

Datum
lowcode_submit(PG_FUNCTION_ARGS)
{
	Datum		args[3];
	char		nulls[3];
	int			ret;
	bool		isnull;
	Datum		result;
	pg_uuid_t	tenant;

	/* A submission always belongs to a tenant: say so (issue 13, item 8). */
	if (!tenancy_current_tenant(&tenant))
		ereport(ERROR,
				(errcode(ERRCODE_LG_NO_REGISTRY_SCOPE),
				 errmsg("lowcode.submit() needs a tenant context"),
				 errdetail("lowcode.current_tenant() is NULL: there is no tenant of the request (outside pre_request(), or after the transaction that ran it ended)."),
				 errhint("Call it in a request with a tenant (pre_request() in the same transaction).")));

	for (int i = 0; i < 3; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (submit_plan == NULL)
	{
		Oid			types[3] = {TEXTOID, JSONBOID, INT4OID};
		SPIPlanPtr	p = SPI_prepare("INSERT INTO lowcode.submissions (subject, data, version) VALUES ($1, $2, $3)"
									" RETURNING pg_catalog.jsonb_build_object('id', id, 'subject', subject,"
									" 'version', version, 'status', status, 'created_at', created_at)",
									3, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		submit_plan = p;
	}
	ret = SPI_execute_plan(submit_plan, args, nulls, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "submit: the insert returned %s", SPI_result_code_string(ret));
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
