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
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lc/lc_inval.h"
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


/* ---------------------------------------------------------------------
 * Small jsonb objects built in place (issue 21): details, payload and the
 * result of submit were JSON texts parsed by jsonb_in, or jsonb_build_object
 * calls that look up each argument's output function; the same values.
 * --------------------------------------------------------------------- */
typedef struct JbObj
{
	JsonbParseState *st;
} JbObj;

static void
jb_begin(JbObj *o)
{
	o->st = NULL;
	pushJsonbValue(&o->st, WJB_BEGIN_OBJECT, NULL);
}

static void
jb_key(JbObj *o, const char *k)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) k;
	v.val.string.len = strlen(k);
	pushJsonbValue(&o->st, WJB_KEY, &v);
}

static void
jb_text(JbObj *o, const char *k, Datum t, bool isnull)
{
	JsonbValue	v;

	jb_key(o, k);
	if (isnull)
		v.type = jbvNull;
	else
	{
		text	   *tt = DatumGetTextPP(t);

		v.type = jbvString;
		v.val.string.val = VARDATA_ANY(tt);
		v.val.string.len = VARSIZE_ANY_EXHDR(tt);
	}
	pushJsonbValue(&o->st, WJB_VALUE, &v);
}

static void
jb_int(JbObj *o, const char *k, int64 i, bool isnull)
{
	JsonbValue	v;

	jb_key(o, k);
	if (isnull)
		v.type = jbvNull;
	else
	{
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(i);
	}
	pushJsonbValue(&o->st, WJB_VALUE, &v);
}

static void
jb_timestamptz(JbObj *o, const char *k, Datum ts)
{
	JsonbValue	v;

	jb_key(o, k);
	v.type = jbvString;
	v.val.string.val = JsonEncodeDateTime(NULL, ts, TIMESTAMPTZOID, NULL);
	v.val.string.len = strlen(v.val.string.val);
	pushJsonbValue(&o->st, WJB_VALUE, &v);
}

static Datum
jb_end(JbObj *o)
{
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&o->st, WJB_END_OBJECT, NULL)));
}

/* ---------------------------------------------------------------------
 * Writing the two rows without the executor (issue 21)
 *
 * The saved plan above cost the executor's start-up of two ModifyTable
 * nodes per submission (projections, the CHECK constraint's expression
 * rebuilt from its text and a regular expression run on a type this code
 * chose itself).  The rows are written here as catalog code writes its
 * rows: table_tuple_insert() and, for each index, ExecInsertIndexTuples()
 * over a ResultRelInfo of a minimal EState (as logical replication's
 * ExecSimpleRelationInsert does).
 *
 * Why that is safe.  Both tables belong to the extension and only trusted
 * code writes them: tenants have SELECT policies only (forced row security
 * with no INSERT policy: they cannot write a row at all), and the SQL path
 * wrote them as the tables' owner, a superuser, to whom row security never
 * applied.  Skipping the executor skips what did not apply anyway (row
 * security, privilege checks) and what this code does itself:
 *  - tenant_id comes from the submission row, which the validation trigger
 *    (BEFORE) and the submissions policies checked against the current
 *    tenant; it is checked again below;
 *  - NOT NULL: every column with attnotnull is checked here;
 *  - the CHECK of events.type (a dot-separated lowercase name) is checked
 *    here in C (event_type_ok, the same language as the regular expression);
 *    the CHECK stays on the table for every other writer (emit_event, an
 *    operator's INSERT: test/sql/registry_submit_direct.sql);
 *  - defaults: the values the columns' defaults give (now(), now() + 7
 *    days, the ids of lowcode.new_id's scheme) are computed here.
 * Whatever this code does not know about makes it fall back to the saved
 * plan: a trigger or rule on either table, another CHECK constraint, a
 * generated column, a column of another type, an unknown NOT NULL column
 * without a value, a relation that is not a plain table (Citus).
 * --------------------------------------------------------------------- */

#define AUDIT_NCOLS 10
static const char *const audit_cols[AUDIT_NCOLS] = {
	"tenant_id", "id", "created_at", "actor_role", "actor_sub", "action", "subject", "version", "details", "trace_id"
};
static const Oid audit_types[AUDIT_NCOLS] = {
	UUIDOID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, JSONBOID, TEXTOID
};

#define EVENT_NCOLS REGISTRY_EVENT_NCOLS
static const char *const event_cols[EVENT_NCOLS] = {
	"tenant_id", "id", "type", "payload", "trace_id", "created_at", "deadline"
};
static const Oid event_types[EVENT_NCOLS] = {
	UUIDOID, INT8OID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID
};

/* the CHECK of lowcode.events.type: ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$ */
bool
registry_event_type_ok(const char *t)
{
	int			parts = 0;

	for (;;)
	{
		if (!(*t >= 'a' && *t <= 'z'))
			return false;
		t++;
		while ((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_')
			t++;
		parts++;
		if (*t == '\0')
			return parts >= 2;
		if (*t != '.')
			return false;
		t++;
	}
}

/* the CHECK's error, as the constraint words it (with the type in the detail) */
static void
event_type_check(const char *type)
{
	if (!registry_event_type_ok(type))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("new row for relation \"events\" violates check constraint \"events_type_check\""),
				 errdetail("\"%s\" is not an event type.", type)));
}

/*
 * Can rows of rel be written directly with these columns?  On success fills
 * map[i] with the attribute number of names[i].  known_check: the name of
 * the one CHECK constraint this code checks itself, or NULL.
 */
bool
registry_direct_insert_ok(Relation rel, int ncols, const char *const *names, const Oid *types,
						  const char *known_check, AttrNumber *map)
{
	TupleDesc	td = RelationGetDescr(rel);
	TupleConstr *constr = td->constr;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->trigdesc != NULL || rel->rd_rel->relhasrules)
		return false;
	if (constr)
	{
		if (constr->has_generated_stored)
			return false;
		for (int i = 0; i < constr->num_check; i++)
			if (known_check == NULL || strcmp(constr->check[i].ccname, known_check) != 0)
				return false;
	}
	for (int i = 0; i < ncols; i++)
	{
		map[i] = InvalidAttrNumber;
		for (int a = 0; a < td->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(td, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), names[i]) == 0)
			{
				if (att->atttypid != types[i])
					return false;
				map[i] = att->attnum;
				break;
			}
		}
		if (map[i] == InvalidAttrNumber)
			return false;
	}
	return true;
}

/*
 * Write one row: values[i] / nulls[i] for names[i] (map from direct_insert_ok),
 * other columns NULL.  The relation is open with RowExclusiveLock; estate is
 * the caller's (one for both rows of a submission).
 */
void
registry_direct_insert(EState *estate, Relation rel, int ncols, const AttrNumber *map, const Datum *values,
					   const bool *nulls)
{
	TupleDesc	td = RelationGetDescr(rel);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = table_slot_create(rel, &estate->es_tupleTable);
	ExecClearTuple(slot);
	for (int a = 0; a < td->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (int i = 0; i < ncols; i++)
	{
		slot->tts_values[map[i] - 1] = values[i];
		slot->tts_isnull[map[i] - 1] = nulls[i];
	}
	/* NOT NULL, as ExecConstraints words it */
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);

		if (att->attnotnull && slot->tts_isnull[a])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errtablecol(rel, a + 1)));
	}
	ExecStoreVirtualTuple(slot);
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	if (rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL));
	ExecCloseIndices(rri);
	MemoryContextSwitchTo(old);
}

/*
 * The two tables, looked up once per backend (issue 21, session 6: the
 * schema and both names were resolved through the catalog caches, and both
 * tables' columns matched by name, at every submission).  A relcache
 * invalidation of either table (ALTER, DROP, a new trigger or constraint,
 * an upgrade) or of every relation forgets them: the next submission looks
 * again and decides again between the direct path and the saved plan.
 */
typedef struct DirectTargets
{
	bool		known;			/* the fields below are set */
	Oid			audit_rel;
	Oid			events_rel;
	bool		checked;		/* ok and the maps below are set */
	bool		ok;				/* both tables fit the direct path */
	AttrNumber	amap[AUDIT_NCOLS];
	AttrNumber	emap[EVENT_NCOLS];
} DirectTargets;

static DirectTargets direct_targets;
static bool direct_callback_registered = false;

static void
direct_targets_inval(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == direct_targets.audit_rel || relid == direct_targets.events_rel)
		direct_targets.known = direct_targets.checked = false;
}

/* Can lowcode.events (open) be written by registry_event_direct_insert()?  Fills emap. */
bool
registry_event_direct_ok(Relation re, AttrNumber *emap)
{
	return registry_direct_insert_ok(re, EVENT_NCOLS, event_cols, event_types, "events_type_check", emap);
}

/*
 * One lowcode.events row (emap from registry_event_direct_ok): its CHECK on
 * the type and its defaults (created_at, deadline) done here.  Used for the
 * submissions' events and workflow transitions' (src/workflow).
 */
void
registry_event_direct_insert(EState *estate, Relation re, const AttrNumber *emap, Datum tenant, int64 id,
							 const char *type, Datum payload, Datum trace, bool trace_null)
{
	/* the column's default: now() + interval '7 days' (in the session's time zone, as SQL does) */
	static Interval seven_days = {0, 7, 0};
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	Datum		v[EVENT_NCOLS];
	bool		n[EVENT_NCOLS] = {false, false, false, false, false, false, false};

	event_type_check(type);
	/* tenant_id, id, type, payload, trace_id, created_at, deadline */
	v[0] = tenant;
	v[1] = Int64GetDatum(id);
	v[2] = CStringGetTextDatum(type);
	v[3] = payload;
	v[4] = trace;
	n[4] = trace_null;
	v[5] = now;
	v[6] = DirectFunctionCall2(timestamptz_pl_interval, now, IntervalPGetDatum(&seven_days));
	registry_direct_insert(estate, re, EVENT_NCOLS, emap, v, n);
}

/*
 * The audit row and the event, written directly; false (nothing written)
 * when either table is not as this code knows it: the caller then runs the
 * saved plan.
 */
static bool
record_direct(Datum *args, char *spi_nulls, const char *event_type, int64 sub_id, Datum status)
{
	DirectTargets *dt = &direct_targets;
	const AttrNumber *amap = dt->amap;
	const AttrNumber *emap = dt->emap;
	Relation	ra,
				re;
	Datum		v[AUDIT_NCOLS];
	bool		n[AUDIT_NCOLS];
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	Datum		payload;
	bool		ok;

	/* first: the saved plan, if it is the one to run, gives the same error */
	event_type_check(event_type);
	if (!direct_callback_registered)
	{
		lc_register_relcache_callback(direct_targets_inval, (Datum) 0);
		direct_callback_registered = true;
	}
	for (int attempt = 0;; attempt++)
	{
		if (!dt->known)
		{
			Oid			nsp = get_namespace_oid("lowcode", false);

			dt->audit_rel = get_relname_relid("registry_audit", nsp);
			dt->events_rel = get_relname_relid("events", nsp);
			if (!OidIsValid(dt->audit_rel) || !OidIsValid(dt->events_rel))
				elog(ERROR, "lowcode.registry_audit or lowcode.events is missing");
			dt->ok = false;
			dt->checked = false;
			dt->known = true;
		}
		/* opening them processes pending invalidations, which may forget them */
		ra = try_relation_open(dt->audit_rel, RowExclusiveLock);
		re = ra ? try_relation_open(dt->events_rel, RowExclusiveLock) : NULL;
		if (ra && re && dt->known)
			break;
		if (re)
			table_close(re, RowExclusiveLock);
		if (ra)
			table_close(ra, RowExclusiveLock);
		dt->known = false;
		if (attempt >= 2)
			elog(ERROR, "lowcode.registry_audit or lowcode.events changed while a submission was recorded");
	}
	if (!dt->checked)
	{
		dt->ok = registry_direct_insert_ok(ra, AUDIT_NCOLS, audit_cols, audit_types, NULL, dt->amap) &&
			registry_event_direct_ok(re, dt->emap);
		dt->checked = true;
	}
	ok = dt->ok;
	if (ok)
	{
		EState	   *estate = CreateExecutorState();

		/* tenant_id, id, created_at, actor_role, actor_sub, action, subject, version, details, trace_id */
		v[0] = args[0];
		n[0] = false;
		v[1] = args[1];
		n[1] = false;
		v[2] = now;
		n[2] = false;
		for (int i = 3; i <= 7; i++)
		{
			v[i] = args[i - 1];
			n[i] = spi_nulls[i - 1] == 'n';
		}
		v[8] = args[7];
		n[8] = false;
		v[9] = args[8];
		n[9] = spi_nulls[8] == 'n';
		registry_direct_insert(estate, ra, AUDIT_NCOLS, amap, v, n);

		/* payload: details || {"subject", "version"} (what the SQL's jsonb concatenation gives) */
		{
			JbObj		o;

			jb_begin(&o);
			jb_int(&o, "id", sub_id, false);
			jb_text(&o, "status", status, false);
			jb_text(&o, "subject", args[5], false);
			jb_int(&o, "version", spi_nulls[6] == 'n' ? 0 : DatumGetInt32(args[6]), spi_nulls[6] == 'n');
			payload = jb_end(&o);
		}
		registry_event_direct_insert(estate, re, emap, args[0], DatumGetInt64(args[9]), event_type, payload,
									 args[8], spi_nulls[8] == 'n');
		ExecResetTupleTable(estate->es_tupleTable, false);
		FreeExecutorState(estate);
	}
	table_close(re, NoLock);
	table_close(ra, NoLock);
	return ok;
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
	Datum		details;
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
	{
		JbObj		o;

		jb_begin(&o);
		jb_int(&o, "id", DatumGetInt64(sub_id), false);
		jb_text(&o, "status", status, false);
		details = jb_end(&o);
	}

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
	args[7] = details;
	args[8] = trace ? CStringGetTextDatum(trace) : (Datum) 0;
	nulls[8] = trace ? ' ' : 'n';
	args[9] = Int64GetDatum(event_id);

	/* the row is the current tenant's (the validation trigger and the policies said so) */
	if (memcmp(DatumGetUUIDP(tenant), &ctx, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("new row violates row-level security policy for table \"%s\"",
						RelationGetRelationName(tg->tg_relation))));

	if (record_direct(args, nulls, psprintf("registry.%s", action), DatumGetInt64(sub_id), status))
	{
		events_queue(DatumGetUUIDP(tenant), event_id, psprintf("registry.%s", action));
		return PointerGetDatum(NULL);
	}

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
 * lowcode.submission_status_ok(status): the CHECK of lowcode.submissions.status,
 * ^[a-z][a-z0-9_]{0,62}$ in C (issue 21: the regular expression cost a
 * submission about 5% of its CPU, its expression tree rebuilt at every
 * executor start and the string converted to wide characters to run it).
 */
PG_FUNCTION_INFO_V1(lowcode_submission_status_ok);

Datum
lowcode_submission_status_ok(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *p = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len < 1 || len > 63 || !(p[0] >= 'a' && p[0] <= 'z'))
		PG_RETURN_BOOL(false);
	for (int i = 1; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
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
	MemoryContext caller = CurrentMemoryContext;

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
									" RETURNING id, subject, version, status, created_at",
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
	{
		/* jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status, 'created_at', created_at) */
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	rd = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		JbObj		o;
		Datum		d;

		jb_begin(&o);
		d = SPI_getbinval(row, rd, 1, &isnull);
		jb_int(&o, "id", isnull ? 0 : DatumGetInt64(d), isnull);
		d = SPI_getbinval(row, rd, 2, &isnull);
		jb_text(&o, "subject", d, isnull);
		d = SPI_getbinval(row, rd, 3, &isnull);
		jb_int(&o, "version", isnull ? 0 : DatumGetInt32(d), isnull);
		d = SPI_getbinval(row, rd, 4, &isnull);
		jb_text(&o, "status", d, isnull);
		d = SPI_getbinval(row, rd, 5, &isnull);
		if (isnull)
			jb_int(&o, "created_at", 0, true);
		else
			jb_timestamptz(&o, "created_at", d);
		result = jb_end(&o);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}
