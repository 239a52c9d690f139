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
#include "access/genam.h"
#include "access/stratnum.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "nodes/primnodes.h"
#include "nodes/parsenodes.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "lc/lc_inval.h"
#include "events/events.h"
#include "lc/lc_errcodes.h"
#include "quota/quota.h"
#include "registry/registry.h"
#include "tenancy/tenancy.h"
#include "workflow/workflow.h"


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


/*
 * The audit row and the event of one submission (tup: the row as stored in
 * rel, lowcode.submissions; ctx: the current tenant), then the event's
 * notification queued for the commit.  The AFTER trigger below calls it for
 * the rows the executor wrote, lowcode.submit()'s direct path for the rows
 * it wrote itself: one copy of what recording a submission means.
 */
static void
record_submission(Relation rel, HeapTuple tup, const char *action, const pg_uuid_t *ctx)
{
	TupleDesc	td = RelationGetDescr(rel);
	bool		isnull;
	Datum		tenant,
				sub_id,
				version,
				status,
				subject;
	bool		version_null;
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
	if (memcmp(DatumGetUUIDP(tenant), ctx, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("new row violates row-level security policy for table \"%s\"",
						RelationGetRelationName(rel))));

	if (record_direct(args, nulls, psprintf("registry.%s", action), DatumGetInt64(sub_id), status))
	{
		events_queue(DatumGetUUIDP(tenant), event_id, psprintf("registry.%s", action));
		return;
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
}

PG_FUNCTION_INFO_V1(lowcode_submissions_record_row);

Datum
lowcode_submissions_record_row(PG_FUNCTION_ARGS)
{
	TriggerData *tg = (TriggerData *) fcinfo->context;
	pg_uuid_t	ctx;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(tg->tg_event) || !TRIGGER_FIRED_FOR_ROW(tg->tg_event))
		elog(ERROR, "lowcode_submissions_record_row: not called as an AFTER ROW trigger");
	/* rows written by a superuser without a tenant context (pg_restore) are not new submissions */
	if (!tenancy_current_tenant(&ctx))
		return PointerGetDatum(NULL);

	if (TRIGGER_FIRED_BY_INSERT(tg->tg_event))
		record_submission(tg->tg_relation, tg->tg_trigtuple, "submission_created", &ctx);
	else
		record_submission(tg->tg_relation, tg->tg_newtuple, "submission_updated", &ctx);
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

/* ---------------------------------------------------------------------
 * lowcode.submit(subject, data, version)
 *
 * What it means: the statement
 *   INSERT INTO lowcode.submissions (subject, data, version) VALUES ($1, $2, $3)
 *   RETURNING id, subject, version, status, created_at
 * run as the caller, its result as jsonb.  The SQL path runs exactly that,
 * from a plan saved once per backend (a LANGUAGE sql function parsed and
 * planned it again in every statement).
 *
 * The direct path (issue 21, session 7) writes the same row without SPI or
 * the executor: their start-up, the WITH CHECK expression, the trigger
 * machinery and the workflow WHEN were about a quarter of a submission's
 * instructions.  It does what the executor would do, in the executor's
 * order, calling the code the triggers call:
 *   1. the privileges the executor checks at its start (INSERT, and SELECT
 *      for RETURNING) and whether row security applies (check_enable_rls);
 *   2. the columns' defaults: tenant_id = current_tenant(), id = new_id(),
 *      status = 'submitted', created_at = now();
 *   3. the BEFORE triggers, in name order: submissions_validate
 *      (registry_submission_row(), the trigger's own code) and
 *      submissions_workflow_insert, whose WHEN (workflow_subject_governed())
 *      is asked first, as it reads nothing the validation changes: when a
 *      workflow governs the subject, or the gate is unsure, the SQL path
 *      runs, so that the workflow trigger does;
 *   4. row security's WITH CHECK (the policies say tenant_id =
 *      current_tenant(), for INSERT and, because of RETURNING, SELECT);
 *   5. NOT NULL and the status CHECK (lowcode.submission_status_ok());
 *   6. the heap insert and every index's entry, the primary key's
 *      uniqueness checked there (ExecInsertIndexTuples, as the executor);
 *   7. the AFTER triggers, in name order, on the row as stored: the quota
 *      accounting (quota_row_inserted()) and the audit row and event
 *      (record_submission());
 *   8. the RETURNING values.
 * Errors are the ones the SQL path raises, from the same code, and are
 * raised inside the caller's transaction: an error after the heap insert
 * aborts the submission with its audit row and event.  Only the CONTEXT
 * line naming the INSERT statement is gone (no such statement runs).
 *
 * Publications do not matter to it: logical decoding reads the heap insert
 * from the WAL whichever path wrote it, and the executor checks a
 * publication's replica identity for UPDATE and DELETE only.  Statement-level
 * hooks (pg_stat_statements with track = all) no longer see a nested INSERT.
 *
 * When it runs.  Only when lowcode.submissions is exactly as the extension
 * made it (submit_verdict() below: the known columns, defaults, CHECK,
 * policies and triggers, a plain table that Citus does not distribute) and
 * nothing in the session changes what the executor would do (a
 * session_replication_role other than origin, a read-only transaction, a
 * row security hook, an ExecutorCheckPerms_hook -- an auditing extension --,
 * row_security = off, a missing privilege).  Otherwise the SQL path runs and
 * gives what it always gave, errors included; the decision is made before
 * anything is written or counted.  The verdict on the table is cached per
 * backend and dropped by a relcache invalidation of the table (any ALTER,
 * trigger, policy, constraint or default change queues one) or a change of
 * any function (CREATE OR REPLACE of one the verdict relies on).
 * lowcode.submit_stats() says which path ran and why (tests, operators).
 * --------------------------------------------------------------------- */

/* the columns of lowcode.submissions, in table order */
enum
{
	SC_TENANT, SC_ID, SC_SUBJECT, SC_VERSION, SC_DATA, SC_STATUS, SC_CREATED_BY, SC_CREATED_AT,
	SC_UPDATED_AT, SC_TRACE, SC_NCOLS
};
static const char *const sub_cols[SC_NCOLS] = {
	"tenant_id", "id", "subject", "version", "data", "status", "created_by", "created_at", "updated_at", "trace_id"
};
static const Oid sub_types[SC_NCOLS] = {
	UUIDOID, INT8OID, TEXTOID, INT4OID, JSONBOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID
};

typedef struct SubmitTarget
{
	bool		relid_known;	/* relid is set */
	Oid			relid;
	bool		known;			/* the verdict below is the table's */
	bool		ok;				/* the direct path may write it */
	const char *why;			/* when not: why (a constant) */
	bool		has_quota;		/* the quota row trigger is there */
	AttrNumber	att[SC_NCOLS];	/* attribute numbers of sub_cols */
	Datum		status_default; /* 'submitted', in TopMemoryContext */
} SubmitTarget;

static SubmitTarget submit_target;
static bool submit_callbacks_registered = false;
static void *submit_site = NULL;	/* the validation's memo of its cache entry */
static int64 submit_direct_n = 0;
static int64 submit_sql_n = 0;
static const char *submit_last_why = NULL;

static void
submit_target_inval(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == submit_target.relid)
		submit_target.relid_known = submit_target.known = false;
}

static void
submit_proc_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	submit_target.known = false;
}

/*
 * Is funcid lowcode.<name>()?  csym: for a C function, the symbol it must
 * run in this library (a CREATE OR REPLACE FUNCTION could point it elsewhere).
 */
static bool
proc_is(Oid funcid, Oid nsp, const char *name, const char *csym)
{
	HeapTuple	pt = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc pf;
	bool		ok;

	if (!HeapTupleIsValid(pt))
		return false;
	pf = (Form_pg_proc) GETSTRUCT(pt);
	ok = pf->pronamespace == nsp && strcmp(NameStr(pf->proname), name) == 0;
	if (ok && csym)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, pt, Anum_pg_proc_prosrc, &isnull);
		Datum		bin;

		ok = pf->prolang == ClanguageId && !isnull && strcmp(TextDatumGetCString(src), csym) == 0;
		bin = SysCacheGetAttr(PROCOID, pt, Anum_pg_proc_probin, &isnull);
		ok = ok && !isnull && strstr(TextDatumGetCString(bin), "pg_lowcode") != NULL;
	}
	ReleaseSysCache(pt);
	return ok;
}

/* a call of lowcode.<name>() without arguments (a column default, the policies' subquery) */
static bool
is_call_of(Node *n, Oid nsp, const char *name, const char *csym)
{
	return n && IsA(n, FuncExpr) && ((FuncExpr *) n)->args == NIL &&
		proc_is(((FuncExpr *) n)->funcid, nsp, name, csym);
}

static bool
is_var(Node *n, Index varno, AttrNumber attno)
{
	return n && IsA(n, Var) && ((Var *) n)->varno == varno && ((Var *) n)->varattno == attno &&
		((Var *) n)->varlevelsup == 0;
}

/* the policies' expression: tenant_id = (SELECT lowcode.current_tenant()) */
static bool
is_tenant_predicate(Node *n, Oid nsp, AttrNumber a_tenant)
{
	OpExpr	   *op;
	SubLink    *sl;
	Query	   *q;
	TargetEntry *te;

	if (n == NULL || !IsA(n, OpExpr))
		return false;
	op = (OpExpr *) n;
	if (list_length(op->args) != 2 || get_opcode(op->opno) != F_UUID_EQ ||
		!is_var(linitial(op->args), 1, a_tenant))
		return false;
	sl = (SubLink *) lsecond(op->args);
	if (!IsA(sl, SubLink) || sl->subLinkType != EXPR_SUBLINK || sl->testexpr != NULL ||
		!IsA(sl->subselect, Query))
		return false;
	q = (Query *) sl->subselect;
	if (q->commandType != CMD_SELECT || q->rtable != NIL || q->jointree == NULL ||
		q->jointree->fromlist != NIL || q->jointree->quals != NULL || q->havingQual != NULL ||
		q->cteList != NIL || q->setOperations != NULL || q->groupClause != NIL || q->limitCount != NULL ||
		q->limitOffset != NULL || list_length(q->targetList) != 1)
		return false;
	te = linitial_node(TargetEntry, q->targetList);
	return !te->resjunk && is_call_of((Node *) te->expr, nsp, "current_tenant", "lowcode_current_tenant");
}

/* policies for PUBLIC only, as the extension makes them */
static bool
policy_for_public(RowSecurityPolicy *p)
{
	return p->roles && ARR_NDIM(p->roles) == 1 && ARR_DIMS(p->roles)[0] == 1 &&
		((Oid *) ARR_DATA_PTR(p->roles))[0] == ACL_ID_PUBLIC && p->permissive;
}

/* The verdict on lowcode.submissions (rel, open): NULL when the direct path may write it, else why not. */
static const char *
submit_verdict(Relation rel, SubmitTarget *st)
{
	TupleDesc	td = RelationGetDescr(rel);
	TupleConstr *constr = td->constr;
	Oid			nsp = RelationGetNamespace(rel);
	int			ncols = 0;
	bool		seen_validate = false,
				seen_record = false;
	AttrNumber	citus_attnum;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition)
		return "not a plain table";
	if (rel->rd_rel->relhasrules)
		return "a rule";
	if (tenancy_citus_table(RelationGetRelid(rel), &citus_attnum))
		return "a Citus table";

	/* the columns: the known ones, of their types, none generated or identity */
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);
		int			c;

		if (att->attisdropped)
			continue;
		for (c = 0; c < SC_NCOLS; c++)
			if (strcmp(NameStr(att->attname), sub_cols[c]) == 0)
				break;
		if (c == SC_NCOLS || att->atttypid != sub_types[c])
			return "a column";
		if (att->attgenerated || att->attidentity)
			return "a generated or identity column";
		st->att[c] = att->attnum;
		ncols++;
	}
	if (ncols != SC_NCOLS)
		return "a column";

	/* the defaults: exactly tenant_id, id, status and created_at's */
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);
		Node	   *def = NULL;

		if (att->attisdropped || !att->atthasdef)
			continue;
		for (int d = 0; constr && d < constr->num_defval; d++)
			if (constr->defval[d].adnum == att->attnum)
				def = stringToNode(constr->defval[d].adbin);
		if (att->attnum == st->att[SC_TENANT])
		{
			if (!is_call_of(def, nsp, "current_tenant", "lowcode_current_tenant"))
				return "a default";
		}
		else if (att->attnum == st->att[SC_ID])
		{
			if (!is_call_of(def, nsp, "new_id", "lowcode_new_id"))
				return "a default";
		}
		else if (att->attnum == st->att[SC_CREATED_AT])
		{
			if (!(def && IsA(def, FuncExpr) && ((FuncExpr *) def)->funcid == F_NOW && ((FuncExpr *) def)->args == NIL))
				return "a default";
		}
		else if (att->attnum == st->att[SC_STATUS])
		{
			Const	   *c = (Const *) def;
			text	   *t;

			if (!(c && IsA(c, Const) && c->consttype == TEXTOID && !c->constisnull))
				return "a default";
			t = DatumGetTextPP(c->constvalue);
			if (VARSIZE_ANY_EXHDR(t) != 9 || memcmp(VARDATA_ANY(t), "submitted", 9) != 0)
				return "a default";
		}
		else
			return "a default";
	}
	for (int c = 0; c < SC_NCOLS; c++)
	{
		bool		needs = c == SC_TENANT || c == SC_ID || c == SC_STATUS || c == SC_CREATED_AT;

		if (needs != TupleDescAttr(td, st->att[c] - 1)->atthasdef)
			return "a default";
	}

	/* the one CHECK: submission_status_ok(status) */
	if (constr && constr->has_generated_stored)
		return "a generated column";
	if (!constr || constr->num_check != 1 || strcmp(constr->check[0].ccname, "submissions_status_check") != 0)
		return "a CHECK constraint";
	{
		Node	   *ck = stringToNode(constr->check[0].ccbin);

		if (!(ck && IsA(ck, FuncExpr) && list_length(((FuncExpr *) ck)->args) == 1 &&
			  is_var(linitial(((FuncExpr *) ck)->args), 1, st->att[SC_STATUS]) &&
			  proc_is(((FuncExpr *) ck)->funcid, nsp, "submission_status_ok", "lowcode_submission_status_ok")))
			return "a CHECK constraint";
	}

	/*
	 * The policies an INSERT ... RETURNING applies: INSERT's WITH CHECK and
	 * SELECT's USING (ALL's both): exactly the extension's two.  UPDATE and
	 * DELETE policies do not apply to it.
	 */
	if (rel->rd_rsdesc)
	{
		ListCell   *lc;

		foreach(lc, rel->rd_rsdesc->policies)
		{
			RowSecurityPolicy *p = (RowSecurityPolicy *) lfirst(lc);

			if (p->polcmd == ACL_INSERT_CHR && strcmp(p->policy_name, "submissions_insert") == 0 &&
				policy_for_public(p) && p->qual == NULL &&
				is_tenant_predicate((Node *) p->with_check_qual, nsp, st->att[SC_TENANT]))
				continue;
			if (p->polcmd == ACL_SELECT_CHR && strcmp(p->policy_name, "submissions_select") == 0 &&
				policy_for_public(p) && p->with_check_qual == NULL &&
				is_tenant_predicate((Node *) p->qual, nsp, st->att[SC_TENANT]))
				continue;
			if (p->polcmd == ACL_UPDATE_CHR || p->polcmd == ACL_DELETE_CHR)
				continue;
			return "a policy";
		}
	}

	/* the triggers: the extension's, each with its function, enabled as made */
	st->has_quota = false;
	for (int i = 0; rel->trigdesc && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &rel->trigdesc->triggers[i];
		int16		ty = t->tgtype;

		if (t->tgenabled != TRIGGER_FIRES_ON_ORIGIN || t->tgisinternal || OidIsValid(t->tgconstraint) ||
			t->tgoldtable || t->tgnewtable)
			return "a trigger";
		if (strcmp(t->tgname, "submissions_validate") == 0)
		{
			if (ty != (TRIGGER_TYPE_ROW | TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE) ||
				t->tgqual || t->tgnattr != 0 || t->tgnargs != 1 || strcmp(t->tgargs[0], "submissions") != 0 ||
				!proc_is(t->tgfoid, nsp, "registry_validate_trigger", "lowcode_registry_validate_trigger"))
				return "a trigger";
			seen_validate = true;
		}
		else if (strcmp(t->tgname, "submissions_record") == 0)
		{
			if (ty != (TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE) || t->tgqual ||
				t->tgnattr != 0 || t->tgnargs != 0 ||
				!proc_is(t->tgfoid, nsp, "submissions_record", "lowcode_submissions_record_row"))
				return "a trigger";
			seen_record = true;
		}
		else if (strcmp(t->tgname, "lowcode_quota") == 0)
		{
			if (ty != (TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE | TRIGGER_TYPE_DELETE) ||
				t->tgqual || t->tgnattr != 0 || t->tgnargs != 0 ||
				!proc_is(t->tgfoid, nsp, "quota_row_trigger", "lowcode_quota_row_trigger"))
				return "a trigger";
			st->has_quota = true;
		}
		else if (strcmp(t->tgname, "submissions_workflow_insert") == 0)
		{
			/* WHEN (lowcode.workflow_subject_governed(NEW.tenant_id, NEW.subject)) */
			Node	   *w = t->tgqual ? stringToNode(t->tgqual) : NULL;
			FuncExpr   *f = (FuncExpr *) w;

			if (ty != (TRIGGER_TYPE_ROW | TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_INSERT) || t->tgnattr != 0 ||
				!proc_is(t->tgfoid, nsp, "workflow_trigger", NULL) ||
				!(f && IsA(f, FuncExpr) && list_length(f->args) == 2 &&
				  is_var(linitial(f->args), PRS2_NEW_VARNO, st->att[SC_TENANT]) &&
				  is_var(lsecond(f->args), PRS2_NEW_VARNO, st->att[SC_SUBJECT]) &&
				  proc_is(f->funcid, nsp, "workflow_subject_governed", "lowcode_workflow_subject_governed")))
				return "a trigger";
		}
		else if (strcmp(t->tgname, "submissions_workflow_update") == 0 ||
				 strcmp(t->tgname, "submissions_workflow_delete") == 0 ||
				 strcmp(t->tgname, "lowcode_quota_truncate") == 0)
		{
			/* they do not fire on INSERT; they are still the extension's */
			if (TRIGGER_FOR_INSERT(ty) ||
				!proc_is(t->tgfoid, nsp, strcmp(t->tgname, "lowcode_quota_truncate") == 0 ?
						 "quota_truncate_trigger" : "workflow_trigger", NULL))
				return "a trigger";
		}
		else
			return "a trigger";
	}
	if (!seen_validate || !seen_record)
		return "a trigger";
	return NULL;
}

/*
 * Why the direct path must not write this submission now (NULL: it may).
 * rel: lowcode.submissions, open.  Decided before anything is written.
 */
static const char *
submit_direct_refusal(Relation rel, pg_uuid_t *tenant, bool subject_null, Datum subject, bool data_null,
					  int *rls)
{
	SubmitTarget *st = &submit_target;
	Oid			relid = RelationGetRelid(rel);

	if (!st->known)
	{
		/* what the verdict reads (expression trees, names) is garbage after it: the caller's context */
		st->why = submit_verdict(rel, st);
		st->ok = st->why == NULL;
		if (st->status_default == (Datum) 0)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			st->status_default = CStringGetTextDatum("submitted");
			MemoryContextSwitchTo(old);
		}
		st->known = true;
	}
	if (!st->ok)
		return st->why;
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		return "session_replication_role";
	if (XactReadOnly || IsInParallelMode())
		return "a read-only transaction";
	if (ExecutorCheckPerms_hook || row_security_policy_hook_permissive || row_security_policy_hook_restrictive)
		return "a permission or row security hook";
	/* what the executor checks at its start: INSERT, and SELECT for the RETURNING columns */
	if (pg_class_aclmask(relid, GetUserId(), ACL_INSERT | ACL_SELECT, ACLMASK_ALL) != (ACL_INSERT | ACL_SELECT))
		return "privileges";
	*rls = check_enable_rls(relid, InvalidOid, true);
	if (*rls == RLS_ENABLED && !row_security)
		return "row_security = off";
	/* the NOT NULL errors, and the gate's "unsure", are the SQL path's */
	if (subject_null || data_null)
		return "a NULL subject or data";
	if (workflow_subject_governed(tenant, subject))
		return "a workflow";
	return NULL;
}

/* the result: jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status, 'created_at', created_at) */
static Datum
submit_result(const Datum *v, const bool *n)
{
	JbObj		o;

	jb_begin(&o);
	jb_int(&o, "id", n[0] ? 0 : DatumGetInt64(v[0]), n[0]);
	jb_text(&o, "subject", v[1], n[1]);
	jb_int(&o, "version", n[2] ? 0 : DatumGetInt32(v[2]), n[2]);
	jb_text(&o, "status", v[3], n[3]);
	if (n[4])
		jb_int(&o, "created_at", 0, true);
	else
		jb_timestamptz(&o, "created_at", v[4]);
	return jb_end(&o);
}

/* The direct path's writing (steps 2 to 8 above); rel open with RowExclusiveLock. */
static Datum
submit_direct(Relation rel, const pg_uuid_t *tenant, Datum subject, Datum data, bool version_null, Datum version,
			  int rls)
{
	SubmitTarget *st = &submit_target;
	TupleDesc	td = RelationGetDescr(rel);
	Datum	   *values = palloc0(td->natts * sizeof(Datum));
	bool	   *nulls = palloc(td->natts * sizeof(bool));
	pg_uuid_t  *tcopy = palloc(sizeof(pg_uuid_t));
	HeapTuple	tup;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot,
			   *stored_slot;
	HeapTuple	stored;
	Datum		rv[5];
	bool		rn[5];

	/* 2. the defaults, in column order (current_tenant() is the tenant checked by the caller) */
	for (int a = 0; a < td->natts; a++)
		nulls[a] = true;
	memcpy(tcopy, tenant, sizeof(pg_uuid_t));
	values[st->att[SC_TENANT] - 1] = UUIDPGetDatum(tcopy);
	nulls[st->att[SC_TENANT] - 1] = false;
	values[st->att[SC_ID] - 1] = Int64GetDatum(events_new_id());
	nulls[st->att[SC_ID] - 1] = false;
	values[st->att[SC_SUBJECT] - 1] = subject;
	nulls[st->att[SC_SUBJECT] - 1] = false;
	values[st->att[SC_VERSION] - 1] = version;
	nulls[st->att[SC_VERSION] - 1] = version_null;
	values[st->att[SC_DATA] - 1] = data;
	nulls[st->att[SC_DATA] - 1] = false;
	values[st->att[SC_STATUS] - 1] = st->status_default;
	nulls[st->att[SC_STATUS] - 1] = false;
	values[st->att[SC_CREATED_AT] - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	nulls[st->att[SC_CREATED_AT] - 1] = false;
	tup = heap_form_tuple(td, values, nulls);

	/* 3. submissions_validate (the gate of submissions_workflow_insert said no: the caller asked it) */
	tup = registry_submission_row(rel, NULL, tup, &submit_site, TopMemoryContext);
	heap_deform_tuple(tup, td, values, nulls);

	/* 4. row security's WITH CHECK: the row is the current tenant's */
	if (rls == RLS_ENABLED &&
		(nulls[st->att[SC_TENANT] - 1] ||
		 memcmp(DatumGetUUIDP(values[st->att[SC_TENANT] - 1]), tenant, sizeof(pg_uuid_t)) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("new row violates row-level security policy for table \"%s\"",
						RelationGetRelationName(rel))));

	/*
	 * 5. NOT NULL and the status CHECK.  Neither can fail here (the caller
	 * took the SQL path for a NULL subject or data, the defaults and the
	 * validation set the rest, status is the default the verdict checked):
	 * they are checked so that a change of the code above cannot store a
	 * row the table refuses; their messages are the executor's, without its
	 * "Failing row" detail.
	 */
	for (int a = 0; a < td->natts; a++)
		if (TupleDescAttr(td, a)->attnotnull && nulls[a])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(TupleDescAttr(td, a)->attname), RelationGetRelationName(rel)),
					 errtablecol(rel, a + 1)));
	if (!DatumGetBool(DirectFunctionCall1(lowcode_submission_status_ok, values[st->att[SC_STATUS] - 1])))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
						RelationGetRelationName(rel), "submissions_status_check"),
				 errtableconstraint(rel, "submissions_status_check")));

	/* 6. the heap insert, then each index's entry (the primary key's uniqueness checked there) */
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	CheckValidResultRel(rri, CMD_INSERT);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, td, &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tup, slot, false);
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	if (rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL));

	/* 7. the AFTER triggers' work, in their name order, on the row as stored (as they fetch it) */
	stored_slot = table_slot_create(rel, &estate->es_tupleTable);
	if (!table_tuple_fetch_row_version(rel, &slot->tts_tid, SnapshotAny, stored_slot))
		elog(ERROR, "lowcode.submit: the new submission cannot be read back");
	stored = ExecFetchSlotHeapTuple(stored_slot, false, NULL);
	if (st->has_quota)
		quota_row_inserted(rel, stored);	/* lowcode_quota */
	record_submission(rel, stored, "submission_created", tenant);	/* submissions_record */

	/* 8. RETURNING id, subject, version, status, created_at */
	rv[0] = heap_getattr(tup, st->att[SC_ID], td, &rn[0]);
	rv[1] = heap_getattr(tup, st->att[SC_SUBJECT], td, &rn[1]);
	rv[2] = heap_getattr(tup, st->att[SC_VERSION], td, &rn[2]);
	rv[3] = heap_getattr(tup, st->att[SC_STATUS], td, &rn[3]);
	rv[4] = heap_getattr(tup, st->att[SC_CREATED_AT], td, &rn[4]);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	return submit_result(rv, rn);
}

static SPIPlanPtr submit_plan = NULL;

PG_FUNCTION_INFO_V1(lowcode_submit);

Datum
lowcode_submit(PG_FUNCTION_ARGS)
{
	Datum		args[3];
	char		nulls[3];
	int			ret;
	Datum		result = (Datum) 0;
	pg_uuid_t	tenant;
	MemoryContext caller = CurrentMemoryContext;
	SubmitTarget *st = &submit_target;
	Relation	rel = NULL;
	const char *why = NULL;
	int			rls = RLS_NONE;

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

	if (!submit_callbacks_registered)
	{
		lc_register_relcache_callback(submit_target_inval, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, submit_proc_inval, (Datum) 0);
		submit_callbacks_registered = true;
	}

	/*
	 * As SPI runs a statement that writes: a new snapshot (READ COMMITTED
	 * sees what committed since the calling statement began) and a new
	 * command id, so both paths read what the SQL path read.
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	CommandCounterIncrement();
	UpdateActiveSnapshotCommandId();
	if (!st->relid_known)
	{
		Oid			nsp = get_namespace_oid("lowcode", false);

		st->relid = get_relname_relid("submissions", nsp);
		st->known = false;
		st->relid_known = OidIsValid(st->relid);
	}
	/* the executor's lock; opening it processes invalidations, which may drop the verdict */
	rel = st->relid_known ? try_relation_open(st->relid, RowExclusiveLock) : NULL;
	if (rel == NULL || !st->relid_known)
		why = "the table was not found";
	else
		why = submit_direct_refusal(rel, &tenant, PG_ARGISNULL(0), args[0], PG_ARGISNULL(1), &rls);
	if (why == NULL)
	{
		submit_direct_n++;		/* counted when chosen: tests tell the path of a failed one too */
		result = submit_direct(rel, &tenant, args[0], args[1], PG_ARGISNULL(2), args[2], rls);
	}
	if (rel)
		table_close(rel, NoLock);
	/* an error above leaves the snapshot to the abort's clean-up, as SPI does */
	PopActiveSnapshot();
	if (why == NULL)
	{
		CommandCounterIncrement();
		PG_RETURN_DATUM(result);
	}
	submit_sql_n++;
	submit_last_why = why;

	/* the SQL path: the statement itself */
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
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	rd = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		Datum		rv[5];
		bool		rn[5];

		for (int i = 0; i < 5; i++)
			rv[i] = SPI_getbinval(row, rd, i + 1, &rn[i]);
		result = submit_result(rv, rn);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * lowcode.submit_stats(): how this backend's submissions were written --
 * {"direct": n, "sql": n, "last_sql_reason": why the last SQL-path one did
 * not take the direct path, or null}, counted when the path is chosen (a
 * submission that then fails counts; one refused for want of a tenant
 * context does not).  Tests use it to tell the paths apart;
 * an operator, to see why submissions take the slower path.
 */
PG_FUNCTION_INFO_V1(lowcode_submit_stats);

Datum
lowcode_submit_stats(PG_FUNCTION_ARGS)
{
	JbObj		o;
	JsonbValue	v;

	jb_begin(&o);
	jb_int(&o, "direct", submit_direct_n, false);
	jb_int(&o, "sql", submit_sql_n, false);
	jb_key(&o, "last_sql_reason");
	if (submit_last_why)
	{
		v.type = jbvString;
		v.val.string.val = (char *) submit_last_why;
		v.val.string.len = strlen(submit_last_why);
	}
	else
		v.type = jbvNull;
	pushJsonbValue(&o.st, WJB_VALUE, &v);
	PG_RETURN_DATUM(jb_end(&o));
}
