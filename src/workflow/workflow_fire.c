/*-------------------------------------------------------------------------
 *
 * workflow_fire.c
 *	  The hot path of workflows in C (issue 19): lowcode.fire(),
 *	  lowcode.workflow_fire_record(), lowcode.workflow_step() and
 *	  lowcode.workflow_actor().
 *
 * One event on one instance, as the PL/pgSQL step did it (sql/80_workflow.sql
 * keeps the definitions, the triggers, the timers' loop, migrations and the
 * writes of the rarer parts of a step), without its costs:
 *
 * - The definition of a (tenant, workflow, version) is read once per backend
 *   and compiled into C structures: states, the transitions of each state
 *   and event in order, actions, and every CEL expression parsed once.  A
 *   statement trigger on workflow_versions, workflow_states,
 *   workflow_transitions and workflow_tables (lowcode.workflow_cache_inval())
 *   sends a relcache invalidation of its table; every backend's callback then
 *   drops its compiled definitions and table descriptions.
 * - Each governed table has saved SPI plans (its record's SELECT ... FOR NO
 *   KEY UPDATE, and its UPDATE per set of changed columns), cached per
 *   backend by relation OID and dropped by the relcache invalidation of the
 *   table (ALTER TABLE, attach_workflow's triggers) or of workflow_tables.
 *   The SQL texts the step runs for every event (the instance's UPDATE, the
 *   history row with the outbox event in one statement) are saved plans too.
 * - The history row, the outbox event and the instance's UPDATE are written
 *   without the executor (history_direct(), instance_update_direct(): the
 *   registry's direct insert, registry.h), falling back to those SQL texts
 *   when a table has something that code does not know; a transition that
 *   arms, calls and emits nothing then runs two statements: the lock of the
 *   instance and the record, and the record's UPDATE.  The notification is
 *   queued for the worker (events_queue()).
 * - Guards and action expressions are evaluated by the CEL engine directly.
 *   Its errors of the language are values (CEL_ERROR); what it raises itself
 *   (the cost and depth limits) is caught without a subtransaction, as the
 *   engine is pure (no locks, buffers or catalog state to undo: only palloc'd
 *   memory in the current context).  An expression that calls registered SQL
 *   functions runs in a subtransaction, as those can do anything.
 * - The plan of a step (changed fields, events to emit, timers, calls) is C
 *   arrays; only when it holds timers, calls or emits is it handed, as the
 *   jsonb the SQL expects, to lowcode.workflow_apply_plan().
 *
 * Errors and their codes are those of the PL/pgSQL version (LW404, LW409,
 * LW422, LW423, LW424, LQ435/LQ436 through lowcode.workflow_count()), with
 * the same messages and details.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_relation.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "storage/itemptr.h"
#include "utils/uuid.h"
#include "utils/varlena.h"

#include "lc/lc_inval.h"
#include "pg_lowcode.h"
#include "cel/cel.h"
#include "cel/cel_jsonb.h"
#include "events/events.h"
#include "lc/lc_errcodes.h"
#include "lc/lc_http.h"
#include "lc/lc_trusted.h"
#include "registry/registry.h"
#include "tenancy/tenancy.h"
#include "workflow/workflow.h"

/* an error of the rule engines' class LR */
#define ERRCODE_IS_LR(c) (ERRCODE_TO_CATEGORY(c) == ERRCODE_TO_CATEGORY(ERRCODE_CEL_PARSE))

/* ---- compiled definitions ---- */

typedef struct WfExpr
{
	char	   *src;			/* NULL: no expression */
	CelProgram *prog;			/* NULL when it did not parse (parse_error) */
	char	   *parse_error;
	bool		calls_sql;
} WfExpr;

typedef enum WfActionType
{
	WA_SET,
	WA_EMIT,
	WA_START,
	WA_CANCEL,
	WA_CALL
} WfActionType;

typedef struct WfAction
{
	WfActionType type;
	/* set */
	int			nfields;
	char	  **cols;
	WfExpr	   *exprs;
	/* emit: event, payload; startTimer: id, event, payload (a jsonb), seconds or at; cancel: id; call: function, args */
	char	   *event;
	char	   *id;
	char	   *function;
	WfExpr		expr;			/* emit payload, startTimer at, call args */
	Jsonb	   *payload;		/* startTimer: its payload, or NULL */
	bool		has_seconds;
	double		seconds;
} WfAction;

typedef struct WfActions
{
	int			n;
	WfAction   *a;
	bool		calls_sql;		/* some expression calls registered SQL functions */
} WfActions;

typedef struct WfState
{
	char	   *name;
	bool		final;
	WfActions	entry;
	WfActions	exit;
	int			ntimers;
	WfAction   *timers;			/* type WA_START */
	Jsonb	   *schema;			/* NULL: none */
} WfState;

typedef struct WfTrans
{
	char	   *state;
	char	   *event;
	int			ord;
	char	   *target;			/* NULL: targetless */
	WfExpr		guard;
	char	   *message;
	WfActions	actions;
} WfTrans;

typedef struct WfDefKey
{
	pg_uuid_t	tenant;
	int32		version;
	char		name[132];
} WfDefKey;

typedef struct WfDef
{
	WfDefKey	key;
	MemoryContext cxt;
	bool		valid;
	int			nstates;
	WfState    *states;
	int			ntrans;
	WfTrans    *trans;
	struct WfDef *next_garbage;
} WfDef;

typedef struct WfDefEntry
{
	WfDefKey	key;
	WfDef	   *def;
} WfDefEntry;

/* ---- governed tables ---- */

#define WF_MAX_UPDATE_PLANS 8

/* the record's UPDATE: alone, or in write_history()'s statement with the instance's (and the history's) */
typedef enum WfUpdateKind
{
	WU_ALONE,
	WU_MERGED,					/* with the instance, history and event (SQL) */
	WU_MERGED_DIRECT,			/* with the instance; history and event written directly */
	WU_NKINDS
} WfUpdateKind;

typedef struct WfUpdatePlan
{
	char	   *cols;			/* "a,b": the changed columns, sorted */
	SPIPlanPtr	plan[WU_NKINDS];
} WfUpdatePlan;

typedef struct WfTable
{
	Oid			rel;
	bool		valid;
	bool		governed;
	bool		submissions;
	char	   *relname;		/* regclass text, as the SQL printed it */
	char	   *state_col;
	char	   *key_col;
	char	   *key_type;
	bool		has_tenant;
	int			nset;
	char	  **set_columns;
	char	   *set_columns_json;	/* for LW424's details */
	SPIPlanPtr	select_plan;
	SPIPlanPtr	join_plan;
	int			nupdate;
	WfUpdatePlan update[WF_MAX_UPDATE_PLANS];
	struct WfTable *next_garbage;
} WfTable;

typedef struct WfTableEntry
{
	Oid			rel;
	WfTable    *tbl;
} WfTableEntry;

static HTAB *def_cache = NULL;
static HTAB *table_cache = NULL;
static WfDef *def_garbage = NULL;
static WfTable *table_garbage = NULL;
static int	step_depth = 0;
static bool callbacks_registered = false;

/* the relations whose invalidation flushes everything (looked up at each step) */
static Oid	versions_relid = InvalidOid;
static Oid	states_relid = InvalidOid;
static Oid	transitions_relid = InvalidOid;
static Oid	tables_relid = InvalidOid;
/* where write_history() writes directly (refreshed with them), and the history's id sequence */
static Oid	history_relid = InvalidOid;
static Oid	events_relid = InvalidOid;
static Oid	instances_relid = InvalidOid;
static Oid	history_seq = InvalidOid;

/* saved plans of the statements every step runs */
static SPIPlanPtr plan_instance_update = NULL;
static SPIPlanPtr plan_history_event = NULL;
static SPIPlanPtr plan_step_write = NULL;
static SPIPlanPtr plan_instance_write = NULL;
static SPIPlanPtr plan_exit_timers = NULL;
static SPIPlanPtr plan_count = NULL;
static SPIPlanPtr plan_states = NULL;
static SPIPlanPtr plan_transitions = NULL;
static SPIPlanPtr plan_table = NULL;
static SPIPlanPtr plan_apply = NULL;
static Oid	plan_apply_type = InvalidOid;
static SPIPlanPtr plan_inst_by_id[2] = {NULL, NULL};	/* [0] any tenant, [1] the tenant's */
static SPIPlanPtr plan_inst_by_key[2] = {NULL, NULL};

/* lowcode.workflow_fire_record, called by fire() */
static FmgrInfo fire_record_finfo;
static Oid	fire_record_oid = InvalidOid;
static MemoryContext fire_record_cxt = NULL;

static void
invalidate_all(void)
{
	HASH_SEQ_STATUS st;

	if (def_cache)
	{
		WfDefEntry *e;

		hash_seq_init(&st, def_cache);
		while ((e = hash_seq_search(&st)) != NULL)
			e->def->valid = false;
	}
	if (table_cache)
	{
		WfTableEntry *e;

		hash_seq_init(&st, table_cache);
		while ((e = hash_seq_search(&st)) != NULL)
			e->tbl->valid = false;
	}
}

static void
workflow_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == history_relid)
		history_seq = InvalidOid;
	if (relid == InvalidOid || relid == versions_relid || relid == states_relid ||
		relid == transitions_relid || relid == tables_relid)
	{
		invalidate_all();
		return;
	}
	if (table_cache)
	{
		WfTableEntry *e = hash_search(table_cache, &relid, HASH_FIND, NULL);

		if (e)
			e->tbl->valid = false;
	}
}

static void
workflow_proc_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	fire_record_oid = InvalidOid;
}

static void
workflow_fire_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		step_depth = 0;
}

static void
ensure_caches(void)
{
	HASHCTL		ctl;

	if (!callbacks_registered)
	{
		lc_register_relcache_callback(workflow_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, workflow_proc_callback, (Datum) 0);
		RegisterXactCallback(workflow_fire_xact_callback, NULL);
		callbacks_registered = true;
	}
	if (def_cache == NULL)
	{
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(WfDefKey);
		ctl.entrysize = sizeof(WfDefEntry);
		ctl.hcxt = TopMemoryContext;
		def_cache = hash_create("pg_lowcode workflow definitions", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (table_cache == NULL)
	{
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(WfTableEntry);
		ctl.hcxt = TopMemoryContext;
		table_cache = hash_create("pg_lowcode workflow tables", 32, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
}

/* the workflow tables' OIDs (a re-created extension has new ones: start afresh) */
static void
refresh_relids(void)
{
	Oid			nsp = get_namespace_oid(LOWCODE_SCHEMA, true);
	Oid			v = OidIsValid(nsp) ? get_relname_relid("workflow_versions", nsp) : InvalidOid;
	Oid			t = OidIsValid(nsp) ? get_relname_relid("workflow_tables", nsp) : InvalidOid;

	if (v != versions_relid || t != tables_relid)
	{
		invalidate_all();
		versions_relid = v;
		tables_relid = t;
		states_relid = OidIsValid(nsp) ? get_relname_relid("workflow_states", nsp) : InvalidOid;
		transitions_relid = OidIsValid(nsp) ? get_relname_relid("workflow_transitions", nsp) : InvalidOid;
		history_relid = OidIsValid(nsp) ? get_relname_relid("workflow_history", nsp) : InvalidOid;
		events_relid = OidIsValid(nsp) ? get_relname_relid("events", nsp) : InvalidOid;
		instances_relid = OidIsValid(nsp) ? get_relname_relid("workflow_instances", nsp) : InvalidOid;
		history_seq = InvalidOid;
	}
}

static void
free_table(WfTable *t)
{
	if (t->select_plan)
		SPI_freeplan(t->select_plan);
	if (t->join_plan)
		SPI_freeplan(t->join_plan);
	for (int i = 0; i < t->nupdate; i++)
		for (int k = 0; k < WU_NKINDS; k++)
			if (t->update[i].plan[k])
				SPI_freeplan(t->update[i].plan[k]);
	if (t->relname)
		pfree(t->relname);
	if (t->state_col)
		pfree(t->state_col);
	if (t->key_col)
		pfree(t->key_col);
	if (t->key_type)
		pfree(t->key_type);
	for (int i = 0; i < t->nset; i++)
		pfree(t->set_columns[i]);
	if (t->set_columns)
		pfree(t->set_columns);
	if (t->set_columns_json)
		pfree(t->set_columns_json);
	for (int i = 0; i < t->nupdate; i++)
		pfree(t->update[i].cols);
	pfree(t);
}

/* free what invalidations left behind, when no step is using it */
static void
collect_garbage(void)
{
	if (step_depth > 0)
		return;
	while (def_garbage)
	{
		WfDef	   *d = def_garbage;

		def_garbage = d->next_garbage;
		MemoryContextDelete(d->cxt);
	}
	while (table_garbage)
	{
		WfTable    *t = table_garbage;

		table_garbage = t->next_garbage;
		free_table(t);
	}
}

/* ---- SPI helpers ---- */

static SPIPlanPtr
prepare_saved(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	if (p == NULL)
		elog(ERROR, "pg_lowcode workflow: SPI_prepare failed (%s) for: %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(p) != 0)
		elog(ERROR, "pg_lowcode workflow: SPI_keepplan failed");
	return p;
}

static void
exec_plan(SPIPlanPtr p, Datum *values, const char *nulls, bool read_only, long count, int expect)
{
	int			rc = SPI_execute_plan(p, values, nulls, read_only, count);

	if (rc != expect)
		elog(ERROR, "pg_lowcode workflow: SPI_execute_plan returned %s",
			 SPI_result_code_string(rc));
}

static Datum
uuid_datum(const pg_uuid_t *u)
{
	pg_uuid_t  *c = palloc(sizeof(pg_uuid_t));

	*c = *u;
	return UUIDPGetDatum(c);
}

static char *
get_text(HeapTuple tup, TupleDesc td, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static Jsonb *
get_jsonb(HeapTuple tup, TupleDesc td, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/* ---- jsonb helpers ---- */

static void
jb_key(JsonbParseState **st, const char *k)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) k;
	v.val.string.len = strlen(k);
	pushJsonbValue(st, WJB_KEY, &v);
}

static void
jb_str(JsonbParseState **st, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	pushJsonbValue(st, tok, &v);
}

static void
jb_int(JsonbParseState **st, JsonbIteratorToken tok, int64 i)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(i);
	pushJsonbValue(st, tok, &v);
}

static void
jb_jsonb(JsonbParseState **st, JsonbIteratorToken tok, Jsonb *j)
{
	JsonbValue	v;

	if (j == NULL)
	{
		v.type = jbvNull;
		pushJsonbValue(st, tok, &v);
		return;
	}
	v.type = jbvBinary;
	v.val.binary.data = &j->root;
	v.val.binary.len = VARSIZE(j) - VARHDRSZ;
	pushJsonbValue(st, tok, &v);
}

static Jsonb *
jb_finish(JsonbParseState **st, JsonbIteratorToken tok)
{
	return JsonbValueToJsonb(pushJsonbValue(st, tok, NULL));
}

/*
 * A member of an object built by jb_object(): a string, a jsonb (NULL for
 * both: null) or an integer.  One shape for the plan's timers, calls and
 * emits, the events' payloads and the errors' details.
 */
typedef struct JbMember
{
	const char *key;
	char		kind;			/* 's', 'j', 'i' */
	const char *str;
	Jsonb	   *jb;
	int64		i;
} JbMember;

#define JB_S(k, v) {(k), 's', (v), NULL, 0}
#define JB_J(k, v) {(k), 'j', NULL, (v), 0}
#define JB_I(k, v) {(k), 'i', NULL, NULL, (v)}

/* {members} pushed (as the next element or value); the value made when it is the outermost */
static JsonbValue *
jb_object(JsonbParseState **st, const JbMember *m, int n)
{
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		jb_key(st, m[i].key);
		if (m[i].kind == 'j')
			jb_jsonb(st, WJB_VALUE, m[i].jb);
		else if (m[i].kind == 'i')
			jb_int(st, WJB_VALUE, m[i].i);
		else
			jb_str(st, WJB_VALUE, m[i].str);
	}
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

static Jsonb *
jb_object_jsonb(const JbMember *m, int n)
{
	JsonbParseState *st = NULL;

	return JsonbValueToJsonb(jb_object(&st, m, n));
}

static char *
jb_text(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

static bool
jb_is_object(Jsonb *j)
{
	return j && JB_ROOT_IS_OBJECT(j) && !JB_ROOT_IS_SCALAR(j);
}

/* a member of a jsonb object as a palloc'd C string (strings only), or NULL */
static char *
jb_member_string(JsonbContainer *obj, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL || v.type != jbvString)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

static bool
jb_member(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL;
}

static Jsonb *
jbv_to_jsonb(JsonbValue *v)
{
	return JsonbValueToJsonb(v);
}

/* the root of a Jsonb as a JsonbValue (scalars unwrapped) */
static JsonbValue *
jb_root_value(Jsonb *j)
{
	JsonbValue *v = palloc(sizeof(JsonbValue));

	if (JB_ROOT_IS_SCALAR(j))
	{
		if (!JsonbExtractScalar(&j->root, v))
			elog(ERROR, "pg_lowcode workflow: bad scalar jsonb");
		return v;
	}
	v->type = jbvBinary;
	v->val.binary.data = &j->root;
	v->val.binary.len = VARSIZE(j) - VARHDRSZ;
	return v;
}

/* ---- compiling a definition ---- */

static void
compile_expr(WfExpr *e, const char *src, int len)
{
	MemoryContext cxt = CurrentMemoryContext;

	memset(e, 0, sizeof(*e));
	if (src == NULL)
		return;
	e->src = pnstrdup(src, len);
	PG_TRY();
	{
		CelProgram *prog = cel_sql_parse(e->src, len);
		CelParseError *problems = NULL;

		if (prog->error)
		{
			int			line,
						col;
			char	   *msg = cel_format_parse_error(prog, &line, &col);
			char	   *nl = strchr(msg, '\n');

			e->parse_error = psprintf("invalid CEL expression: %s", nl ? pnstrdup(msg, nl - msg) : msg);
		}
		else
		{
			e->prog = prog;
			e->calls_sql = cel_sql_unknown_calls(prog, false, &problems) > 0;
		}
	}
	PG_CATCH();
	{
		/* too long for today's limit: fails when evaluated, as rule_test would */
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!ERRCODE_IS_LR(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		e->prog = NULL;
		e->parse_error = pstrdup(edata->message);
	}
	PG_END_TRY();
}

static void
compile_expr_jbv(WfExpr *e, JsonbValue *v)
{
	if (v->type == jbvString)
		compile_expr(e, v->val.string.val, v->val.string.len);
	else
		memset(e, 0, sizeof(*e));
}

static void
compile_timer(WfAction *a, JsonbContainer *obj)
{
	JsonbValue	v;

	a->type = WA_START;
	a->id = jb_member_string(obj, "id");
	a->event = jb_member_string(obj, "event");
	if (jb_member(obj, "payload", &v) && v.type != jbvNull)
		a->payload = jbv_to_jsonb(&v);
	if (jb_member(obj, "seconds", &v) && v.type == jbvNumeric)
	{
		a->has_seconds = true;
		a->seconds = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v.val.numeric)));
	}
	else if (jb_member(obj, "at", &v))
		compile_expr_jbv(&a->expr, &v);
}

/* normalised actions (workflow_compile_actions) */
static void
compile_actions(WfActions *acts, Jsonb *j)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n;
	int			i = 0;

	memset(acts, 0, sizeof(*acts));
	if (j == NULL || !JB_ROOT_IS_ARRAY(j) || JB_ROOT_IS_SCALAR(j))
		return;
	n = JB_ROOT_COUNT(j);
	if (n == 0)
		return;
	acts->a = palloc0(sizeof(WfAction) * n);
	it = JsonbIteratorInit(&j->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		WfAction   *a;
		JsonbContainer *obj;
		char	   *type;
		JsonbValue	f;

		if (tok != WJB_ELEM || v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			continue;
		obj = v.val.binary.data;
		type = jb_member_string(obj, "type");
		if (type == NULL)
			continue;
		a = &acts->a[i];
		if (strcmp(type, "set") == 0 && jb_member(obj, "fields", &f) && f.type == jbvBinary &&
			JsonContainerIsObject(f.val.binary.data))
		{
			JsonbIterator *fit = JsonbIteratorInit(f.val.binary.data);
			JsonbValue	k;
			int			nf = JsonContainerSize(f.val.binary.data);
			int			fi = 0;

			a->type = WA_SET;
			a->cols = palloc0(sizeof(char *) * Max(nf, 1));
			a->exprs = palloc0(sizeof(WfExpr) * Max(nf, 1));
			while ((tok = JsonbIteratorNext(&fit, &k, true)) != WJB_DONE)
			{
				if (tok != WJB_KEY)
					continue;
				a->cols[fi] = pnstrdup(k.val.string.val, k.val.string.len);
				tok = JsonbIteratorNext(&fit, &k, true);
				compile_expr_jbv(&a->exprs[fi], &k);
				acts->calls_sql |= a->exprs[fi].calls_sql;
				fi++;
			}
			a->nfields = fi;
		}
		else if (strcmp(type, "emit") == 0)
		{
			a->type = WA_EMIT;
			a->event = jb_member_string(obj, "event");
			if (jb_member(obj, "payload", &f))
				compile_expr_jbv(&a->expr, &f);
		}
		else if (strcmp(type, "startTimer") == 0)
			compile_timer(a, obj);
		else if (strcmp(type, "cancelTimer") == 0)
		{
			a->type = WA_CANCEL;
			a->id = jb_member_string(obj, "id");
		}
		else if (strcmp(type, "call") == 0)
		{
			a->type = WA_CALL;
			a->function = jb_member_string(obj, "function");
			if (jb_member(obj, "args", &f))
				compile_expr_jbv(&a->expr, &f);
		}
		else
			continue;
		acts->calls_sql |= a->expr.calls_sql;
		i++;
	}
	acts->n = i;
}

static void
compile_timers(WfState *s, Jsonb *j)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n;

	s->ntimers = 0;
	if (j == NULL || !JB_ROOT_IS_ARRAY(j) || JB_ROOT_IS_SCALAR(j) || JB_ROOT_COUNT(j) == 0)
		return;
	n = JB_ROOT_COUNT(j);
	s->timers = palloc0(sizeof(WfAction) * n);
	it = JsonbIteratorInit(&j->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM || v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			continue;
		compile_timer(&s->timers[s->ntimers++], v.val.binary.data);
	}
}

static WfDef *
load_def(const pg_uuid_t *tenant, const char *name, int32 version)
{
	WfDefKey	key;
	WfDefEntry *e;
	bool		found;
	WfDef	   *def;
	MemoryContext old;
	Datum		args[3];
	Oid			types[3] = {UUIDOID, TEXTOID, INT4OID};

	memset(&key, 0, sizeof(key));
	key.tenant = *tenant;
	key.version = version;
	strlcpy(key.name, name, sizeof(key.name));
	e = hash_search(def_cache, &key, HASH_FIND, NULL);
	if (e && e->def->valid)
		return e->def;
	if (e)
	{
		e->def->next_garbage = def_garbage;
		def_garbage = e->def;
		hash_search(def_cache, &key, HASH_REMOVE, NULL);
	}

	if (plan_states == NULL)
		plan_states = prepare_saved("SELECT s.state, s.final, s.entry, s.exit, s.timers, s.schema "
									"FROM lowcode.workflow_states s "
									"WHERE s.tenant_id = $1 AND s.name = $2 AND s.version = $3", 3, types);
	if (plan_transitions == NULL)
		plan_transitions = prepare_saved("SELECT t.state, t.event, t.ord, t.target, t.guard, t.message, t.actions "
										 "FROM lowcode.workflow_transitions t "
										 "WHERE t.tenant_id = $1 AND t.name = $2 AND t.version = $3 "
										 "ORDER BY t.ord", 3, types);
	args[0] = uuid_datum(tenant);
	args[1] = CStringGetTextDatum(name);
	args[2] = Int32GetDatum(version);

	def = MemoryContextAllocZero(TopMemoryContext, sizeof(WfDef));
	def->cxt = AllocSetContextCreate(TopMemoryContext, "pg_lowcode workflow definition",
									 ALLOCSET_SMALL_SIZES);
	def->key = key;

	PG_TRY();
	{
		exec_plan(plan_states, args, NULL, false, 0, SPI_OK_SELECT);
		old = MemoryContextSwitchTo(def->cxt);
		def->nstates = SPI_processed;
		def->states = palloc0(sizeof(WfState) * Max(def->nstates, 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			WfState    *s = &def->states[i];
			bool		isnull;

			s->name = get_text(tup, td, 1);
			s->final = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
			compile_actions(&s->entry, get_jsonb(tup, td, 3));
			compile_actions(&s->exit, get_jsonb(tup, td, 4));
			compile_timers(s, get_jsonb(tup, td, 5));
			s->schema = get_jsonb(tup, td, 6);
			if (s->schema && JB_ROOT_IS_SCALAR(s->schema))
			{
				JsonbValue	sv;

				if (JsonbExtractScalar(&s->schema->root, &sv) && sv.type == jbvNull)
					s->schema = NULL;
			}
		}
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);

		exec_plan(plan_transitions, args, NULL, false, 0, SPI_OK_SELECT);
		old = MemoryContextSwitchTo(def->cxt);
		def->ntrans = SPI_processed;
		def->trans = palloc0(sizeof(WfTrans) * Max(def->ntrans, 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			WfTrans    *t = &def->trans[i];
			bool		isnull;
			char	   *guard;

			t->state = get_text(tup, td, 1);
			t->event = get_text(tup, td, 2);
			t->ord = DatumGetInt32(SPI_getbinval(tup, td, 3, &isnull));
			t->target = get_text(tup, td, 4);
			guard = get_text(tup, td, 5);
			if (guard)
				compile_expr(&t->guard, guard, strlen(guard));
			t->message = get_text(tup, td, 6);
			compile_actions(&t->actions, get_jsonb(tup, td, 7));
		}
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
	}
	PG_CATCH();
	{
		MemoryContextDelete(def->cxt);
		pfree(def);
		PG_RE_THROW();
	}
	PG_END_TRY();

	def->valid = true;
	e = hash_search(def_cache, &key, HASH_ENTER, &found);
	e->def = def;
	return def;
}

static WfState *
def_state(WfDef *def, const char *name)
{
	for (int i = 0; i < def->nstates; i++)
		if (strcmp(def->states[i].name, name) == 0)
			return &def->states[i];
	return NULL;
}

/* ---- governed tables ---- */

static char *
set_columns_json(WfTable *t)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '[');
	for (int i = 0; i < t->nset; i++)
	{
		if (i)
			appendStringInfoString(&b, ", ");
		escape_json(&b, t->set_columns[i]);
	}
	appendStringInfoChar(&b, ']');
	return b.data;
}

static WfTable *
load_table(Oid rel)
{
	WfTableEntry *e;
	WfTable    *t;
	bool		found;
	Datum		arg = ObjectIdGetDatum(rel);
	Oid			type = REGCLASSOID;
	MemoryContext old;

	e = hash_search(table_cache, &rel, HASH_FIND, NULL);
	if (e && e->tbl->valid)
		return e->tbl;
	if (e)
	{
		e->tbl->next_garbage = table_garbage;
		table_garbage = e->tbl;
		hash_search(table_cache, &rel, HASH_REMOVE, NULL);
	}
	if (plan_table == NULL)
		plan_table = prepare_saved("SELECT t.rel, t.state_col, t.key_col, t.key_type, t.has_tenant, t.set_columns "
								   "FROM lowcode.workflow_table($1) t", 1, &type);
	exec_plan(plan_table, &arg, NULL, false, 0, SPI_OK_SELECT);

	t = MemoryContextAllocZero(TopMemoryContext, sizeof(WfTable));
	t->rel = rel;
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (SPI_processed >= 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;

		(void) SPI_getbinval(tup, td, 1, &isnull);
		if (!isnull)
		{
			Datum		d;
			ArrayType  *arr;
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			t->governed = true;
			t->submissions = (rel == get_relname_relid("submissions", get_namespace_oid(LOWCODE_SCHEMA, false)));
			t->state_col = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tup, td, 2, &isnull))));
			t->key_col = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tup, td, 3, &isnull))));
			t->key_type = get_text(tup, td, 4);
			t->has_tenant = DatumGetBool(SPI_getbinval(tup, td, 5, &isnull));
			d = SPI_getbinval(tup, td, 6, &isnull);
			arr = DatumGetArrayTypeP(d);
			deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
			t->set_columns = palloc0(sizeof(char *) * Max(n, 1));
			for (int i = 0; i < n; i++)
				if (!nulls[i])
					t->set_columns[t->nset++] = pstrdup(NameStr(*DatumGetName(elems[i])));
			t->set_columns_json = set_columns_json(t);
			t->relname = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(rel)));
		}
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	t->valid = true;
	e = hash_search(table_cache, &rel, HASH_ENTER, &found);
	e->tbl = t;
	return t;
}

static SPIPlanPtr
table_select_plan(WfTable *t)
{
	if (t->select_plan == NULL)
	{
		StringInfoData q;
		Oid			types[2] = {TEXTOID, UUIDOID};

		initStringInfo(&q);
		appendStringInfo(&q, "SELECT to_jsonb(t) FROM %s t WHERE t.%s = $1::%s%s FOR NO KEY UPDATE",
						 t->relname, quote_identifier(t->key_col), t->key_type,
						 t->has_tenant ? " AND t.tenant_id = $2" : "");
		t->select_plan = prepare_saved(q.data, 2, types);
	}
	return t->select_plan;
}

/* fire_record's statement for a record of this table: its instance and the record, locked in that order */
static SPIPlanPtr
table_join_plan(WfTable *t)
{
	if (t->join_plan == NULL)
	{
		StringInfoData q;
		Oid			types[3] = {UUIDOID, REGCLASSOID, TEXTOID};

		initStringInfo(&q);
		appendStringInfo(&q, "SELECT i, to_jsonb(t), i.ctid FROM lowcode.workflow_instances i JOIN %s t "
						 "ON t.%s = i.record_key::%s%s "
						 "WHERE i.tenant_id = $1 AND i.rel = $2 AND i.record_key = $3 "
						 "FOR NO KEY UPDATE OF i, t",
						 t->relname, quote_identifier(t->key_col), t->key_type,
						 t->has_tenant ? " AND t.tenant_id = $1" : "");
		t->join_plan = prepare_saved(q.data, 3, types);
	}
	return t->join_plan;
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static const char *const history_sql =
	"h AS (INSERT INTO lowcode.workflow_history (tenant_id, instance_id, workflow, version, event, "
	"from_state, to_state, outcome, payload, actor_role, actor_principal, trace_id, rel, record_key) "
	"SELECT $1, $2, $3, $4, $5, $6, $7, 'transition', $8, $9, $10, lowcode.registry_trace_id(), $11, $12%s "
	"RETURNING id), "
	"e AS (INSERT INTO lowcode.events (tenant_id, type, payload, trace_id) "
	"SELECT $1, 'workflow.transition', jsonb_build_object('instance', $2, 'workflow', $3, 'version', $4, "
	"'table', $11::text, 'key', $12, 'event', $5, 'from', $6, 'to', $7, 'history', h.id), "
	"lowcode.registry_trace_id() FROM h RETURNING id) "
	"SELECT h.id, e.id FROM h, e";

static const char *const instance_update_sql =
	"u AS (UPDATE lowcode.workflow_instances i "
	"SET state = coalesce($13, i.state), snapshot = $14, "
	"transitions = i.transitions + 1, updated_at = now() "
	"WHERE i.tenant_id = $1 AND i.id = $2 RETURNING 1)";

/*
 * The UPDATE of the record for this set of columns (sorted): alone ($1 the
 * changes, $2 the key, $3 the tenant), or merged into write_history()'s
 * statement after the instance's UPDATE (its parameters, $15 the changes),
 * with the history row and the event (WU_MERGED) or without them
 * (WU_MERGED_DIRECT: written directly after it).
 */
static SPIPlanPtr
table_update_plan(WfTable *t, char **cols, int ncols, WfUpdateKind kind, bool *transient)
{
	StringInfoData key;
	StringInfoData set;
	char	   *q;
	Oid			types[3] = {JSONBOID, TEXTOID, UUIDOID};
	Oid			mtypes[15] = {UUIDOID, INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
	TEXTOID, TEXTOID, REGCLASSOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID};
	SPIPlanPtr	p;
	WfUpdatePlan *slot = NULL;

	initStringInfo(&key);
	for (int i = 0; i < ncols; i++)
	{
		if (i)
			appendStringInfoChar(&key, ',');
		appendStringInfoString(&key, cols[i]);
	}
	*transient = false;
	for (int i = 0; i < t->nupdate; i++)
		if (strcmp(t->update[i].cols, key.data) == 0)
		{
			slot = &t->update[i];
			if (slot->plan[kind])
				return slot->plan[kind];
		}
	initStringInfo(&set);
	appendStringInfo(&set, "UPDATE %s t SET (", t->relname);
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&set, "%s%s", i ? ", " : "", quote_identifier(cols[i]));
	appendStringInfoString(&set, ") = (SELECT ");
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&set, "%sr.%s", i ? ", " : "", quote_identifier(cols[i]));
	if (kind == WU_ALONE)
		q = psprintf("%s FROM jsonb_populate_record(NULL::%s, $1) r) WHERE t.%s = $2::%s%s",
					 set.data, t->relname, quote_identifier(t->key_col), t->key_type,
					 t->has_tenant ? " AND t.tenant_id = $3" : "");
	else
		q = psprintf("WITH %s, w AS (%s FROM jsonb_populate_record(NULL::%s, $15) r) FROM u "
					 "WHERE t.%s = $12::%s%s RETURNING 1)%s%s",
					 instance_update_sql, set.data, t->relname, quote_identifier(t->key_col), t->key_type,
					 t->has_tenant ? " AND t.tenant_id = $1" : "",
					 kind == WU_MERGED_DIRECT ? "" : ", ",
					 kind == WU_MERGED_DIRECT ?
					 /* w runs whether or not the answer reads it (and a BEFORE trigger may skip its row) */
					 " SELECT 1 FROM u" :
					 /* w runs before h (h reads it), and h writes its row even when a BEFORE trigger skipped w's */
					 psprintf(history_sql, " FROM u, (SELECT count(*) FROM w) wc"));
	if (slot == NULL && t->nupdate >= WF_MAX_UPDATE_PLANS)
	{
		p = SPI_prepare(q, kind == WU_ALONE ? 3 : 15, kind == WU_ALONE ? types : mtypes);
		if (p == NULL)
			elog(ERROR, "pg_lowcode workflow: SPI_prepare failed for: %s", q);
		*transient = true;
		return p;
	}
	p = prepare_saved(q, kind == WU_ALONE ? 3 : 15, kind == WU_ALONE ? types : mtypes);
	if (slot == NULL)
	{
		slot = &t->update[t->nupdate++];
		slot->cols = MemoryContextStrdup(TopMemoryContext, key.data);
		memset(slot->plan, 0, sizeof(slot->plan));
	}
	slot->plan[kind] = p;
	return p;
}

/* ---- a step ---- */

typedef struct WfStart
{
	char	   *timer;
	char	   *event;
	Jsonb	   *payload;
	char	   *due_at;			/* the timestamp as JSON writes it, NULL: null */
	char	   *state;			/* NULL: an action's timer */
} WfStart;

typedef struct WfEmit
{
	char	   *type;
	Jsonb	   *payload;
} WfEmit;

typedef struct WfCall
{
	char	   *function;
	Jsonb	   *args;			/* NULL: null */
} WfCall;

typedef struct WfStep
{
	/* the variables of CEL */
	Jsonb	   *self;
	Jsonb	   *old_self;
	Jsonb	   *payload;
	Jsonb	   *actor;
	const char *event;
	const char *state;
	char	   *now;
	const char *wf_name;
	int32		wf_version;
	int64		instance;
	/* the plan */
	int			nchanges;
	int			maxchanges;
	char	  **change_cols;
	Jsonb	  **change_vals;
	int			nstarts,
				maxstarts;
	WfStart    *starts;
	int			ncancels,
				maxcancels;
	char	  **cancels;
	int			nemits,
				maxemits;
	WfEmit	   *emits;
	int			ncalls,
				maxcalls;
	WfCall	   *calls;
	const char *scope;			/* the state entry actions' timers belong to */
	WfTable    *tbl;
} WfStep;

#define GROW(arr, n, max) \
	do { \
		if ((n) >= (max)) \
		{ \
			(max) = (max) ? (max) * 2 : 4; \
			(arr) = (arr) ? repalloc((arr), sizeof(*(arr)) * (max)) : palloc(sizeof(*(arr)) * (max)); \
		} \
	} while (0)

static bool
step_resolve(void *ctx, const char *name, int len, CelValue *out)
{
	WfStep	   *s = (WfStep *) ctx;

#define IS(lit) (len == (int) sizeof(lit) - 1 && memcmp(name, lit, len) == 0)
	if (IS("self"))
		cel_from_jsonb_value(jb_root_value(s->self), out);
	else if (IS("oldSelf"))
	{
		if (s->old_self)
			cel_from_jsonb_value(jb_root_value(s->old_self), out);
		else
			out->kind = CEL_NULL;
	}
	else if (IS("payload"))
		cel_from_jsonb_value(jb_root_value(s->payload), out);
	else if (IS("actor"))
	{
		if (s->actor)
			cel_from_jsonb_value(jb_root_value(s->actor), out);
		else
			out->kind = CEL_NULL;
	}
	else if (IS("event"))
	{
		if (s->event)
			cel_make_string(out, s->event, strlen(s->event));
		else
			out->kind = CEL_NULL;
	}
	else if (IS("state"))
	{
		if (s->state)
			cel_make_string(out, s->state, strlen(s->state));
		else
			out->kind = CEL_NULL;
	}
	else if (IS("now"))
		cel_make_string(out, s->now, strlen(s->now));
	else if (IS("workflow"))
	{
		CelValue   *keys = palloc(sizeof(CelValue) * 3);
		CelValue   *vals = palloc(sizeof(CelValue) * 3);

		/* jsonb's key order: shortest first */
		cel_make_string(&keys[0], "name", 4);
		cel_make_string(&vals[0], s->wf_name, strlen(s->wf_name));
		cel_make_string(&keys[1], "version", 7);
		vals[1].kind = CEL_INT;
		vals[1].v.i = s->wf_version;
		cel_make_string(&keys[2], "instance", 8);
		vals[2].kind = CEL_INT;
		vals[2].v.i = s->instance;
		cel_make_map(out, 3, keys, vals);
	}
	else
		return false;
#undef IS
	return true;
}

/*
 * Evaluate an expression.  Returns NULL on success (*out set), else the
 * error text PL/pgSQL's SQLERRM would have shown; *sqlstate gets the
 * error's SQLSTATE.  Errors of classes other than LR (cancellation, out
 * of memory, a registered function's own error) go on up.
 */
static char *
eval_expr(WfStep *s, WfExpr *e, CelValue *out, int *sqlstate)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;
	char	   *err = NULL;

	*sqlstate = 0;
	if (e->prog == NULL)
	{
		*sqlstate = ERRCODE_CEL_PARSE;
		return e->parse_error ? e->parse_error : "invalid CEL expression";
	}
	if (e->calls_sql)
		edata = cel_sql_eval_isolated(e->prog, step_resolve, s, out);
	else
	{
		/* the engine is pure: its own errors need no subtransaction */
		PG_TRY();
		{
			cel_sql_eval(e->prog, step_resolve, s, out);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
		}
		PG_END_TRY();
	}
	if (edata)
	{
		if (!ERRCODE_IS_LR(edata->sqlerrcode))
			ReThrowError(edata);
		*sqlstate = edata->sqlerrcode;
		err = edata->message ? edata->message : "CEL evaluation failed";
	}
	if (err == NULL && out->kind == CEL_ERROR)
	{
		*sqlstate = cel_error_sqlstate(out->v.err->code);
		err = psprintf("CEL evaluation error: %s", out->v.err->message);
	}
	return err;
}

/* a CEL value as jsonb (as rule_eval returns it); NULL with *err on failure */
static Jsonb *
value_jsonb(CelValue *v, char **err, int *sqlstate)
{
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *res = NULL;

	*err = NULL;
	PG_TRY();
	{
		res = cel_to_jsonb(v);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!ERRCODE_IS_LR(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		*sqlstate = edata->sqlerrcode;
		*err = edata->message;
	}
	PG_END_TRY();
	return res;
}

static char *
sqlstate_text(int code)
{
	return pstrdup(unpack_sql_state(code));
}

static pg_attribute_noreturn() void
raise_jsonb(int status, const char *code, const char *message, Jsonb *details)
{
	lc_raise_http(status, code, message, details ? jb_text(details) : NULL, NULL, NULL);
}

/* LW424 for an expression that failed: "action %s failed: %s" */
static pg_attribute_noreturn() void
raise_action_failed(const char *cur, const char *err, int sqlstate)
{
	JbMember	m[] = {JB_S("action", cur), JB_S("sqlstate", sqlstate_text(sqlstate)), JB_S("error", err)};

	raise_jsonb(422, "LW424", psprintf("action %s failed: %s", cur, err), jb_object_jsonb(m, lengthof(m)));
}

/* an expression's value as jsonb, or LW424 */
static Jsonb *
eval_action_expr(WfStep *s, WfExpr *e, const char *cur)
{
	CelValue	v;
	int			sqlstate;
	char	   *err = eval_expr(s, e, &v, &sqlstate);
	Jsonb	   *res;

	if (err)
		raise_action_failed(cur, err, sqlstate);
	res = value_jsonb(&v, &err, &sqlstate);
	if (err)
		raise_action_failed(cur, err, sqlstate);
	return res;
}

/* now() + make_interval(secs => seconds) */
static TimestampTz
due_after(double seconds)
{
	Datum		iv = DirectFunctionCall7(make_interval, Int32GetDatum(0), Int32GetDatum(0), Int32GetDatum(0),
										 Int32GetDatum(0), Int32GetDatum(0), Int32GetDatum(0),
										 Float8GetDatum(seconds));

	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   iv));
}

/* (text)::timestamptz, or false with *err */
static bool
parse_timestamptz(const char *s, TimestampTz *out, char **err)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		ok = true;

	PG_TRY();
	{
		*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
													   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			PG_RE_THROW();
		FlushErrorState();
		if (err)
			*err = edata->message;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* val #>> '{}' */
static char *
jsonb_scalar_text(Jsonb *j, bool *is_string)
{
	JsonbValue	v;

	*is_string = false;
	if (!JB_ROOT_IS_SCALAR(j))
		return jb_text(j);
	if (!JsonbExtractScalar(&j->root, &v))
		return NULL;
	switch (v.type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			*is_string = true;
			return pnstrdup(v.val.string.val, v.val.string.len);
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		default:
			return jb_text(j);
	}
}

static void
add_change(WfStep *s, const char *col, Jsonb *val)
{
	JsonbParseState *st = NULL;

	for (int i = 0; i < s->nchanges; i++)
		if (strcmp(s->change_cols[i], col) == 0)
		{
			s->change_vals[i] = val;
			goto self;
		}
	if (s->nchanges >= s->maxchanges)
	{
		s->maxchanges = s->maxchanges ? s->maxchanges * 2 : 8;
		s->change_cols = s->change_cols ? repalloc(s->change_cols, sizeof(char *) * s->maxchanges) :
			palloc(sizeof(char *) * s->maxchanges);
		s->change_vals = s->change_vals ? repalloc(s->change_vals, sizeof(Jsonb *) * s->maxchanges) :
			palloc(sizeof(Jsonb *) * s->maxchanges);
	}
	s->change_cols[s->nchanges] = pstrdup(col);
	s->change_vals[s->nchanges] = val;
	s->nchanges++;
self:
	/* self || {col: val} */
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, col);
	jb_jsonb(&st, WJB_VALUE, val);
	s->self = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(s->self),
												 JsonbPGetDatum(jb_finish(&st, WJB_END_OBJECT))));
}

static void
add_start(WfStep *s, const char *timer, const char *event, Jsonb *payload, TimestampTz *due,
		  const char *state)
{
	WfStart    *t;

	GROW(s->starts, s->nstarts, s->maxstarts);
	t = &s->starts[s->nstarts++];
	t->timer = (char *) timer;
	t->event = (char *) event;
	t->payload = payload;
	t->due_at = due ? JsonEncodeDateTime(NULL, TimestampTzGetDatum(*due), TIMESTAMPTZOID, NULL) : NULL;
	t->state = (char *) state;
}

static bool
is_set_column(WfTable *t, const char *col)
{
	for (int i = 0; i < t->nset; i++)
		if (strcmp(t->set_columns[i], col) == 0)
			return true;
	return false;
}

/* workflow_eval_actions: evaluate a list of actions into the plan */
static void
eval_actions(WfStep *s, WfActions *acts, const char *path)
{
	for (int i = 0; i < acts->n; i++)
	{
		WfAction   *a = &acts->a[i];
		char	   *cur = psprintf("%s/%d", path, i);

		CHECK_FOR_INTERRUPTS();
		switch (a->type)
		{
			case WA_SET:
				for (int f = 0; f < a->nfields; f++)
				{
					cur = psprintf("%s/%d/fields/%s", path, i, a->cols[f]);
					if (!is_set_column(s->tbl, a->cols[f]))
					{
						JbMember	m[] = {JB_S("action", cur),
						JB_J("columns", DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																		   CStringGetDatum(s->tbl->set_columns_json))))};

						raise_jsonb(422, "LW424",
									psprintf("action %s: column %s of %s cannot be set by a workflow",
											 cur, a->cols[f], s->tbl->relname),
									jb_object_jsonb(m, lengthof(m)));
					}
					add_change(s, a->cols[f], eval_action_expr(s, &a->exprs[f], cur));
				}
				break;
			case WA_EMIT:
				{
					Jsonb	   *val;

					if (a->expr.src)
						val = eval_action_expr(s, &a->expr, cur);
					else
						val = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
					if (!jb_is_object(val))
						lc_raise_http(422, "LW424",
									  psprintf("action %s: the payload of an emit action must be a map", cur),
									  NULL, NULL, NULL);
					GROW(s->emits, s->nemits, s->maxemits);
					s->emits[s->nemits].type = a->event;
					s->emits[s->nemits].payload = val;
					s->nemits++;
				}
				break;
			case WA_START:
				{
					TimestampTz due;

					if (a->has_seconds)
						due = due_after(a->seconds);
					else
					{
						Jsonb	   *val = eval_action_expr(s, &a->expr, cur);
						bool		is_string;
						char	   *txt = jsonb_scalar_text(val, &is_string);

						if (txt == NULL || !parse_timestamptz(txt, &due, NULL) || !is_string)
						{
							char	   *vt = jb_text(val);

							lc_raise_http(422, "LW424",
										  psprintf("action %s: \"at\" must give a timestamp, not %s", cur,
												   pnstrdup(vt, pg_mbcharcliplen(vt, strlen(vt), 100))),
										  NULL, NULL, NULL);
						}
					}
					add_start(s, a->id, a->event, a->payload, &due, s->scope);
				}
				break;
			case WA_CANCEL:
				GROW(s->cancels, s->ncancels, s->maxcancels);
				s->cancels[s->ncancels++] = a->id;
				break;
			case WA_CALL:
				GROW(s->calls, s->ncalls, s->maxcalls);
				s->calls[s->ncalls].function = a->function;
				s->calls[s->ncalls].args = a->expr.src ? eval_action_expr(s, &a->expr, cur) : NULL;
				s->ncalls++;
				break;
		}
	}
}

/* workflow_eval_state_timers */
static void
eval_state_timers(WfStep *s, WfState *st)
{
	for (int i = 0; i < st->ntimers; i++)
	{
		WfAction   *t = &st->timers[i];
		TimestampTz due;
		bool		have_due = true;

		if (t->has_seconds)
			due = due_after(t->seconds);
		else
		{
			CelValue	v;
			int			sqlstate;
			char	   *err = eval_expr(s, &t->expr, &v, &sqlstate);
			Jsonb	   *val = NULL;

			if (err == NULL)
				val = value_jsonb(&v, &err, &sqlstate);
			if (err == NULL)
			{
				bool		is_string;
				char	   *txt = jsonb_scalar_text(val, &is_string);

				if (txt == NULL)
					have_due = false;	/* SQL's NULL: the timer's insert refuses it */
				else
					(void) parse_timestamptz(txt, &due, &err);
			}
			if (err)
				lc_raise_http(422, "LW424",
							  psprintf("timer %s of state %s: \"at\" did not give a timestamp: %s",
									   t->id, st->name, err),
							  NULL, NULL, NULL);
		}
		add_start(s, t->id, t->event, t->payload, have_due ? &due : NULL, st->name);
	}
}

/* the plan as workflow_apply_plan() reads it */
static Jsonb *
plan_jsonb(WfStep *s, const char *target)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "vars");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "self");
	jb_jsonb(&st, WJB_VALUE, s->self);
	jb_key(&st, "event");
	jb_str(&st, WJB_VALUE, s->event);
	jb_key(&st, "payload");
	jb_jsonb(&st, WJB_VALUE, s->payload);
	jb_key(&st, "actor");
	jb_jsonb(&st, WJB_VALUE, s->actor);
	jb_key(&st, "state");
	jb_str(&st, WJB_VALUE, s->state);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	jb_key(&st, "target");
	jb_str(&st, WJB_VALUE, target);
	jb_key(&st, "cancels");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < s->ncancels; i++)
		jb_str(&st, WJB_ELEM, s->cancels[i]);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb_key(&st, "starts");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < s->nstarts; i++)
	{
		WfStart    *t = &s->starts[i];
		JbMember	m[] = {JB_S("timer", t->timer), JB_S("event", t->event), JB_J("payload", t->payload),
		JB_S("due_at", t->due_at), JB_S("state", t->state)};

		jb_object(&st, m, lengthof(m));
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb_key(&st, "calls");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < s->ncalls; i++)
	{
		JbMember	m[] = {JB_S("function", s->calls[i].function), JB_J("args", s->calls[i].args)};

		jb_object(&st, m, lengthof(m));
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb_key(&st, "emits");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < s->nemits; i++)
	{
		JbMember	m[] = {JB_S("type", s->emits[i].type), JB_J("payload", s->emits[i].payload)};

		jb_object(&st, m, lengthof(m));
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	return jb_finish(&st, WJB_END_OBJECT);
}

/* the fields of a lowcode.workflow_instances row */
typedef struct WfInst
{
	Datum		datum;
	Oid			type;
	pg_uuid_t	tenant;
	int64		id;
	Oid			rel;
	char	   *record_key;
	char	   *workflow;
	pg_uuid_t	wf_tenant;
	int32		version;
	char	   *state;
	Jsonb	   *snapshot;
	bool		has_tid;		/* tid: where fire_record's statement found (and locked) the row */
	ItemPointerData tid;
} WfInst;

static Datum
inst_field(HeapTupleHeader h, const char *name, bool required)
{
	bool		isnull;
	Datum		d = GetAttributeByName(h, name, &isnull);

	if (isnull)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("workflow_step: the instance has no %s", name)));
		return (Datum) 0;
	}
	return d;
}

static void
read_inst(Datum d, WfInst *inst)
{
	HeapTupleHeader h = DatumGetHeapTupleHeader(d);
	Datum		snap;

	inst->datum = d;
	inst->has_tid = false;
	inst->type = HeapTupleHeaderGetTypeId(h);
	inst->tenant = *DatumGetUUIDP(inst_field(h, "tenant_id", true));
	inst->id = DatumGetInt64(inst_field(h, "id", true));
	inst->rel = DatumGetObjectId(inst_field(h, "rel", true));
	inst->record_key = TextDatumGetCString(inst_field(h, "record_key", true));
	inst->workflow = TextDatumGetCString(inst_field(h, "workflow", true));
	inst->wf_tenant = *DatumGetUUIDP(inst_field(h, "wf_tenant", true));
	inst->version = DatumGetInt32(inst_field(h, "version", true));
	inst->state = TextDatumGetCString(inst_field(h, "state", true));
	snap = inst_field(h, "snapshot", false);
	inst->snapshot = snap ? DatumGetJsonbP(snap) : NULL;
}

static void
count_timers(const pg_uuid_t *tenant, int64 d)
{
	Datum		args[2];

	if (d == 0)
		return;
	if (plan_count == NULL)
	{
		Oid			types[2] = {UUIDOID, INT8OID};

		plan_count = prepare_saved("SELECT lowcode.workflow_count($1, 0, $2)", 2, types);
	}
	args[0] = uuid_datum(tenant);
	args[1] = Int64GetDatum(d);
	exec_plan(plan_count, args, NULL, false, 0, SPI_OK_SELECT);
}

/*
 * The history row and the outbox event written without the executor, as
 * the registry writes a submission's audit row and event (registry.h,
 * registry_record.c): both tables belong to the extension and only its
 * SECURITY DEFINER code writes them (tenants have read policies only, under
 * forced row security), as their owner, to whom row security never applied;
 * the tenant is the locked instance's.  What the SQL did besides is done
 * here: the identity's nextval, now(), the CHECK of outcome (a constant
 * here) and of events.type, NOT NULL.  Anything else on either table (a
 * trigger, a rule, another CHECK, a generated column, a column of another
 * type, Citus) makes write_history() use the SQL statement instead.
 */
#define HIST_NCOLS 16
static const char *const hist_cols[HIST_NCOLS] = {
	"tenant_id", "id", "instance_id", "workflow", "version", "event", "from_state", "to_state", "outcome",
	"payload", "actor_role", "actor_principal", "trace_id", "rel", "record_key", "created_at"
};
static const Oid hist_types[HIST_NCOLS] = {
	UUIDOID, INT8OID, INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	JSONBOID, TEXTOID, TEXTOID, TEXTOID, REGCLASSOID, TEXTOID, TIMESTAMPTZOID
};

static bool
history_direct_ok(Relation rh, Relation re, AttrNumber *hmap, AttrNumber *emap)
{
	if (!registry_direct_insert_ok(rh, HIST_NCOLS, hist_cols, hist_types, "workflow_history_outcome_check", hmap) ||
		TupleDescAttr(RelationGetDescr(rh), hmap[1] - 1)->attidentity != ATTRIBUTE_IDENTITY_ALWAYS ||
		!registry_event_direct_ok(re, emap))
		return false;
	if (!OidIsValid(history_seq))
		history_seq = getIdentitySequence(RelationGetRelid(rh), hmap[1], false);
	return true;
}

/*
 * The two rows (args: write_history()'s parameters); returns the history
 * row's id, *event_id the event's.
 */
static int64
history_direct(Relation rh, Relation re, const AttrNumber *hmap, const AttrNumber *emap, const Datum *args,
			   const char *nulls, WfInst *inst, const char *event, const char *target, const char *relname,
			   int64 *event_id)
{
	Datum		v[HIST_NCOLS];
	bool		n[HIST_NCOLS];
	const char *trace = registry_trace_id();
	Datum		tr = trace ? CStringGetTextDatum(trace) : (Datum) 0;
	int64		hist = nextval_internal(history_seq, false);
	EState	   *estate;

	/* tenant_id, id, instance_id, workflow, version, event, from_state, to_state (args 0, -, 1..6) */
	memset(n, false, sizeof(n));
	v[0] = args[0];
	v[1] = Int64GetDatum(hist);
	for (int i = 1; i <= 6; i++)
		v[i + 1] = args[i];
	v[8] = CStringGetTextDatum("transition");
	/* payload, actor_role, actor_principal (args 7..9), trace_id, rel, record_key (args 10, 11), created_at */
	for (int i = 7; i <= 9; i++)
	{
		v[i + 2] = args[i];
		n[i + 2] = nulls[i] == 'n';
	}
	v[12] = tr;
	n[12] = trace == NULL;
	v[13] = args[10];
	v[14] = args[11];
	v[15] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	estate = CreateExecutorState();
	registry_direct_insert(estate, rh, HIST_NCOLS, hmap, v, n);

	/* the payload jsonb_build_object() made */
	{
		JbMember	m[] = {JB_I("instance", inst->id), JB_S("workflow", inst->workflow),
			JB_I("version", inst->version), JB_S("table", relname), JB_S("key", inst->record_key),
			JB_S("event", event), JB_S("from", inst->state), JB_S("to", target ? target : inst->state),
		JB_I("history", hist)};

		*event_id = events_new_id();
		registry_event_direct_insert(estate, re, emap, args[0], *event_id, "workflow.transition",
									 JsonbPGetDatum(jb_object_jsonb(m, lengthof(m))), tr, trace == NULL);
	}
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	return hist;
}

/*
 * The instance's UPDATE (instance_update_sql) without the executor, as
 * logical replication's ExecSimpleRelationUpdate() does it: the row
 * fire_record's statement locked (inst->tid), its state, snapshot,
 * transitions and updated_at replaced, then heap_update() and, when it was
 * not a HOT update, the indexes.  Safe for the reasons history_direct() is
 * (the extension's own table, written only by its SECURITY DEFINER code, as
 * its owner).  False (nothing written) when the row is not where it was
 * locked (this transaction changed it since) or the table is not as this
 * code knows it (a trigger, a rule, a CHECK, a generated column, Citus): the
 * caller runs the SQL instead.
 */
static bool
instance_update_direct(WfInst *inst, const char *target, Jsonb *snapshot)
{
	Relation	r;
	TupleDesc	td;
	AttrNumber	a_state,
				a_snapshot,
				a_transitions,
				a_updated;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *oldslot;
	TupleTableSlot *newslot;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	bool		update_indexes;
	TM_Result	res;
	bool		ok = false;

	if (!inst->has_tid || !OidIsValid(instances_relid))
		return false;
	r = table_open(instances_relid, RowExclusiveLock);
	td = RelationGetDescr(r);
	a_state = attnameAttNum(r, "state", false);
	a_snapshot = attnameAttNum(r, "snapshot", false);
	a_transitions = attnameAttNum(r, "transitions", false);
	a_updated = attnameAttNum(r, "updated_at", false);
	if (r->rd_rel->relkind != RELKIND_RELATION || r->rd_rel->relam != HEAP_TABLE_AM_OID ||
		r->trigdesc != NULL || r->rd_rel->relhasrules ||
		(td->constr && (td->constr->num_check > 0 || td->constr->has_generated_stored)) ||
		a_state <= 0 || a_snapshot <= 0 || a_transitions <= 0 || a_updated <= 0 ||
		TupleDescAttr(td, a_state - 1)->atttypid != TEXTOID ||
		TupleDescAttr(td, a_snapshot - 1)->atttypid != JSONBOID ||
		TupleDescAttr(td, a_transitions - 1)->atttypid != INT4OID ||
		TupleDescAttr(td, a_updated - 1)->atttypid != TIMESTAMPTZOID)
	{
		table_close(r, NoLock);
		return false;
	}
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, r, 0, NULL, 0);
	oldslot = table_slot_create(r, &estate->es_tupleTable);
	newslot = table_slot_create(r, &estate->es_tupleTable);
	if (table_tuple_fetch_row_version(r, &inst->tid, SnapshotAny, oldslot))
	{
		HeapTuple	ht = ExecFetchSlotHeapTuple(oldslot, false, NULL);
		AttrNumber	a_id = attnameAttNum(r, "id", false);
		bool		isnull = true;
		Datum		id = a_id > 0 ? slot_getattr(oldslot, a_id, &isnull) : (Datum) 0;

		slot_getallattrs(oldslot);
		/* the instance it was, and the latest version (not changed by this transaction since it was locked) */
		if (!isnull && TupleDescAttr(td, a_id - 1)->atttypid == INT8OID && DatumGetInt64(id) == inst->id &&
			ItemPointerEquals(&ht->t_data->t_ctid, &inst->tid))
		{
			ExecClearTuple(newslot);
			memcpy(newslot->tts_values, oldslot->tts_values, sizeof(Datum) * td->natts);
			memcpy(newslot->tts_isnull, oldslot->tts_isnull, sizeof(bool) * td->natts);
			if (target)
				newslot->tts_values[a_state - 1] = CStringGetTextDatum(target);
			newslot->tts_values[a_snapshot - 1] = JsonbPGetDatum(snapshot);
			newslot->tts_isnull[a_snapshot - 1] = false;
			newslot->tts_values[a_transitions - 1] =
				Int32GetDatum(DatumGetInt32(oldslot->tts_values[a_transitions - 1]) + 1);
			newslot->tts_values[a_updated - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			newslot->tts_isnull[a_updated - 1] = false;
			ExecStoreVirtualTuple(newslot);
			res = table_tuple_update(r, &inst->tid, newslot, GetCurrentCommandId(true), GetActiveSnapshot(),
									 InvalidSnapshot, true, &tmfd, &lockmode, &update_indexes);
			if (res != TM_Ok)
				elog(ERROR, "pg_lowcode workflow: the locked instance %lld could not be updated (%d)",
					 (long long) inst->id, (int) res);
			if (update_indexes)
			{
				ExecOpenIndices(rri, false);
				if (rri->ri_NumIndices > 0)
					list_free(ExecInsertIndexTuples(rri, newslot, estate, true, false, NULL, NIL));
				ExecCloseIndices(rri);
			}
			/* its new place, should this step write it again */
			inst->tid = newslot->tts_tid;
			ok = true;
		}
	}
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(r, NoLock);
	return ok;
}

/*
 * The history row of a transition and its outbox event, with the
 * instance's UPDATE when with_instance (and the record's, for changes: its
 * changed columns cols), and the event's notification; returns the history
 * row's id.  One statement for the updates; the two rows written directly
 * before it (history_direct), else by the same statement.
 */
static int64
write_history(WfInst *inst, WfTable *tbl, const char *event, const char *target, Jsonb *payload, Jsonb *actor,
			  bool with_instance, Jsonb *snapshot, char **cols, int ncols, Jsonb *changes)
{
	static const Oid types[14] = {UUIDOID, INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
	TEXTOID, TEXTOID, REGCLASSOID, TEXTOID, TEXTOID, JSONBOID};
	Datum		args[15];
	char		nulls[15];
	bool		isnull;
	int64		hist = 0;
	int64		event_id = 0;
	Relation	rh = NULL;
	Relation	re = NULL;
	AttrNumber	hmap[HIST_NCOLS];
	AttrNumber	emap[REGISTRY_EVENT_NCOLS];
	bool		direct = false;
	bool		instance_done = false;
	bool		transient = false;
	SPIPlanPtr	plan = NULL;

	if (OidIsValid(history_relid) && OidIsValid(events_relid))
	{
		rh = table_open(history_relid, RowExclusiveLock);
		re = table_open(events_relid, RowExclusiveLock);
		direct = history_direct_ok(rh, re, hmap, emap);
	}
	memset(nulls, ' ', sizeof(nulls));
	args[0] = uuid_datum(&inst->tenant);
	args[1] = Int64GetDatum(inst->id);
	args[2] = CStringGetTextDatum(inst->workflow);
	args[3] = Int32GetDatum(inst->version);
	args[4] = CStringGetTextDatum(event);
	args[5] = CStringGetTextDatum(inst->state);
	args[6] = CStringGetTextDatum(target ? target : inst->state);
	args[7] = JsonbPGetDatum(payload);
	{
		char	   *role = NULL;
		char	   *principal = NULL;

		if (jb_is_object(actor))
		{
			JsonbValue	v;

			if (jb_member(&actor->root, "role", &v))
				role = v.type == jbvString ? pnstrdup(v.val.string.val, v.val.string.len) :
					jsonb_scalar_text(jbv_to_jsonb(&v), &isnull);
			if (jb_member(&actor->root, "principal", &v))
				principal = v.type == jbvString ? pnstrdup(v.val.string.val, v.val.string.len) :
					jsonb_scalar_text(jbv_to_jsonb(&v), &isnull);
		}
		args[8] = role ? CStringGetTextDatum(role) : (Datum) 0;
		nulls[8] = role ? ' ' : 'n';
		args[9] = principal ? CStringGetTextDatum(principal) : (Datum) 0;
		nulls[9] = principal ? ' ' : 'n';
	}
	args[10] = ObjectIdGetDatum(inst->rel);
	args[11] = CStringGetTextDatum(inst->record_key);
	args[12] = target ? CStringGetTextDatum(target) : (Datum) 0;
	nulls[12] = target ? ' ' : 'n';
	args[13] = snapshot ? JsonbPGetDatum(snapshot) : (Datum) 0;
	nulls[13] = snapshot ? ' ' : 'n';
	args[14] = changes ? JsonbPGetDatum(changes) : (Datum) 0;
	nulls[14] = changes ? ' ' : 'n';

	/* first, so that the record's AFTER triggers see the history row, as they did in the statement */
	if (direct)
		hist = history_direct(rh, re, hmap, emap, args, nulls, inst, event, target, tbl->relname, &event_id);
	if (direct && with_instance && snapshot)
		instance_done = instance_update_direct(inst, target, snapshot);
	if (changes && instance_done)
		plan = table_update_plan(tbl, cols, ncols, WU_ALONE, &transient);
	else if (changes)
		plan = table_update_plan(tbl, cols, ncols, direct ? WU_MERGED_DIRECT : WU_MERGED, &transient);
	else if (instance_done)
		plan = NULL;
	else if (with_instance && direct)
	{
		if (plan_instance_write == NULL)
			plan_instance_write = prepare_saved(psprintf("WITH %s SELECT 1 FROM u", instance_update_sql),
												14, (Oid *) types);
		plan = plan_instance_write;
	}
	else if (with_instance)
	{
		if (plan_step_write == NULL)
			plan_step_write = prepare_saved(psprintf("WITH %s, %s", instance_update_sql,
													 psprintf(history_sql, " FROM u")), 14, (Oid *) types);
		plan = plan_step_write;
	}
	else if (!direct)
	{
		if (plan_history_event == NULL)
			plan_history_event = prepare_saved(psprintf("WITH %s", psprintf(history_sql, "")), 12, (Oid *) types);
		plan = plan_history_event;
	}

	if (plan && instance_done)
	{
		/* the record's UPDATE alone ($1 the changes, $2 the key, $3 the tenant) */
		Datum		rargs[3] = {args[14], args[11], args[0]};

		exec_plan(plan, rargs, NULL, false, 0, SPI_OK_UPDATE);
		if (transient)
			SPI_freeplan(plan);
	}
	else if (plan)
	{
		exec_plan(plan, args, nulls, false, 0, SPI_OK_SELECT);
		if (transient)
			SPI_freeplan(plan);
		if (SPI_processed != 1)
			elog(ERROR, "pg_lowcode workflow: the history row was not written");
	}
	if (!direct)
	{
		hist = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		event_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (plan)
		SPI_freetuptable(SPI_tuptable);
	if (rh)
	{
		table_close(re, NoLock);
		table_close(rh, NoLock);
	}
	/* its notification on the tenant's channel, sent after the commit (as emit_event's) */
	events_queue(&inst->tenant, event_id, "workflow.transition");
	return hist;
}

/*
 * One event on one locked instance (workflow_step): raises LW404, LW409,
 * LW422, LW423, LW424; otherwise writes everything and returns the result.
 * Runs inside SPI_connect().
 */
static Jsonb *
step(WfInst *inst, const char *event, Jsonb *payload, Jsonb *actor, Jsonb *locked_rec, MemoryContext rcxt)
{
	WfTable    *tbl;
	WfDef	   *def;
	WfState    *from_st;
	WfState    *to_st = NULL;
	WfTrans    *chosen = NULL;
	WfStep		s;
	Jsonb	   *rec;
	JsonbParseState *refusals = NULL;
	int			nrefusals = 0;
	char	   *first_message = NULL;
	const char *target;
	Datum		args[12];
	char		nulls[12];
	int64		hist;
	bool		isnull;
	bool		need_apply;
	bool		merged;
	char	  **cols = NULL;
	Jsonb	   *changes = NULL;
	Jsonb	   *result;

	tbl = load_table(inst->rel);
	def = load_def(&inst->wf_tenant, inst->workflow, inst->version);
	from_st = def_state(def, inst->state);
	if (!tbl->governed || from_st == NULL)
		lc_raise_http(404, "LW404", "the record is no longer governed by a workflow", NULL, NULL, NULL);

	/* the record, locked (by fire_record's statement that locked the instance, or here) */
	rec = locked_rec;
	if (rec == NULL)
	{
		args[0] = CStringGetTextDatum(inst->record_key);
		args[1] = uuid_datum(&inst->tenant);
		exec_plan(table_select_plan(tbl), args, NULL, false, 0, SPI_OK_SELECT);
		if (SPI_processed >= 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				rec = DatumGetJsonbPCopy(d);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	if (rec == NULL)
		lc_raise_http(404, "LW404", psprintf("record %s of %s not found", inst->record_key, tbl->relname),
					  NULL, NULL, NULL);
	if (from_st->final)
	{
		JbMember	m[] = {JB_S("state", inst->state), JB_S("event", event),
		JB_J("allowed", DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"))))};

		raise_jsonb(409, "LW409", psprintf("the record is in final state %s: no event is allowed", inst->state),
					jb_object_jsonb(m, lengthof(m)));
	}

	memset(&s, 0, sizeof(s));
	s.self = rec;
	s.old_self = inst->snapshot;
	s.payload = payload;
	s.actor = actor;
	s.event = event;
	s.state = inst->state;
	{
		char		buf[MAXDATELEN + 1];

		JsonEncodeDateTime(buf, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), TIMESTAMPTZOID, NULL);
		s.now = pstrdup(buf);
	}
	s.wf_name = inst->workflow;
	s.wf_version = inst->version;
	s.instance = inst->id;
	s.tbl = tbl;

	/* the guards, in order */
	for (int i = 0; i < def->ntrans; i++)
	{
		WfTrans    *tr = &def->trans[i];
		CelValue	v;
		int			sqlstate;
		char	   *err = NULL;
		char	   *message;

		if (strcmp(tr->state, inst->state) != 0 || strcmp(tr->event, event) != 0)
			continue;
		if (tr->guard.src == NULL)
		{
			chosen = tr;
			break;
		}
		CHECK_FOR_INTERRUPTS();
		err = eval_expr(&s, &tr->guard, &v, &sqlstate);
		if (err == NULL)
		{
			if (v.kind == CEL_BOOL && v.v.b)
			{
				chosen = tr;
				break;
			}
			if (v.kind != CEL_BOOL)
				err = psprintf("CEL rule returned %s, not bool", cel_type_name(&v));
		}
		message = tr->message ? tr->message : psprintf("guard %s refused the event", tr->guard.src);
		if (nrefusals == 0)
		{
			first_message = message;
			pushJsonbValue(&refusals, WJB_BEGIN_ARRAY, NULL);
		}
		nrefusals++;
		{
			JbMember	m[] = {JB_S("guard", tr->guard.src), JB_S("message", message), JB_S("error", err)};

			jb_object(&refusals, m, err ? 3 : 2);
		}
	}
	if (chosen == NULL)
	{
		if (nrefusals == 0)
		{
			Datum		a[4];
			Oid			types[4] = {UUIDOID, TEXTOID, INT4OID, TEXTOID};
			Jsonb	   *allowed;

			a[0] = uuid_datum(&inst->wf_tenant);
			a[1] = CStringGetTextDatum(inst->workflow);
			a[2] = Int32GetDatum(inst->version);
			a[3] = CStringGetTextDatum(inst->state);
			if (SPI_execute_with_args("SELECT coalesce(jsonb_agg(DISTINCT t.event), '[]') "
									  "FROM lowcode.workflow_transitions t WHERE t.tenant_id = $1 AND t.name = $2 "
									  "AND t.version = $3 AND t.state = $4", 4, types, a, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "pg_lowcode workflow: allowed events query failed");
			allowed = get_jsonb(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			{
				JbMember	m[] = {JB_S("state", inst->state), JB_S("event", event), JB_J("allowed", allowed)};

				raise_jsonb(409, "LW409", psprintf("event %s is not allowed in state %s", event, inst->state),
							jb_object_jsonb(m, lengthof(m)));
			}
		}
		{
			JbMember	m[] = {JB_S("state", inst->state), JB_S("event", event),
			JB_J("guards", jb_finish(&refusals, WJB_END_ARRAY))};

			raise_jsonb(422, "LW422", first_message, jb_object_jsonb(m, lengthof(m)));
		}
	}

	/* the plan */
	target = chosen->target;
	if (target)
		eval_actions(&s, &from_st->exit, psprintf("/states/%s/exit", inst->state));
	eval_actions(&s, &chosen->actions, psprintf("/states/%s/on/%s/%d/actions", inst->state, event, chosen->ord));
	if (target)
	{
		to_st = def_state(def, target);
		if (to_st == NULL)
			lc_raise_http(404, "LW404", "the record is no longer governed by a workflow", NULL, NULL, NULL);
		s.scope = target;
		eval_actions(&s, &to_st->entry, psprintf("/states/%s/entry", target));
		eval_state_timers(&s, to_st);
		{
			JsonbValue	jv;
			Jsonb	   *tv;

			jv.type = jbvString;
			jv.val.string.val = (char *) target;
			jv.val.string.len = strlen(target);
			tv = JsonbValueToJsonb(&jv);
			add_change(&s, tbl->state_col, tv);
		}
		if (to_st->schema)
		{
			Datum		a[3];
			Oid			types[3] = {JSONBOID, TEXTOID, JSONBOID};
			char		n[3] = {' ', ' ', ' '};
			Jsonb	   *doc = s.self;

			if (tbl->submissions)
			{
				JsonbValue	dv;

				if (jb_is_object(s.self) && jb_member(&s.self->root, "data", &dv))
					doc = JsonbValueToJsonb(&dv);
				else
					doc = NULL;
			}
			a[0] = JsonbPGetDatum(to_st->schema);
			a[1] = CStringGetTextDatum(target);
			a[2] = doc ? JsonbPGetDatum(doc) : (Datum) 0;
			if (doc == NULL)
				n[2] = 'n';
			if (SPI_execute_with_args("SELECT lowcode.workflow_check_state_schema($1, $2, $3)", 3, types, a, n,
									  false, 1) != SPI_OK_SELECT)
				elog(ERROR, "pg_lowcode workflow: schema check failed");
		}
	}

	/*
	 * The writes: the instance first (the record's trigger checks the state
	 * against it).  Without timers, calls or emits (whose events come before
	 * the transition's), the history row and the outbox event are written by
	 * the same statement as the instance.
	 */
	need_apply = s.nstarts > 0 || s.ncancels > 0 || s.ncalls > 0 || s.nemits > 0 || (to_st && to_st->final);
	/* the record's UPDATE joins that statement when the state stays (the state trigger does not fire) */
	merged = !need_apply && target == NULL && s.nchanges > 0;
	if (s.nchanges > 0)
	{
		JsonbParseState *cst = NULL;

		cols = palloc(sizeof(char *) * s.nchanges);
		memcpy(cols, s.change_cols, sizeof(char *) * s.nchanges);
		qsort(cols, s.nchanges, sizeof(char *), cmp_cstr);
		pushJsonbValue(&cst, WJB_BEGIN_OBJECT, NULL);
		for (int i = 0; i < s.nchanges; i++)
		{
			jb_key(&cst, s.change_cols[i]);
			jb_jsonb(&cst, WJB_VALUE, s.change_vals[i]);
		}
		changes = jb_finish(&cst, WJB_END_OBJECT);
	}
	if (merged)
		hist = write_history(inst, tbl, event, target, payload, actor, true, s.self, cols, s.nchanges, changes);
	else if (!need_apply)
		hist = write_history(inst, tbl, event, target, payload, actor, true, s.self, NULL, 0, NULL);
	else
	{
		if (plan_instance_update == NULL)
		{
			Oid			types[4] = {UUIDOID, INT8OID, TEXTOID, JSONBOID};

			plan_instance_update = prepare_saved("UPDATE lowcode.workflow_instances i "
												 "SET state = coalesce($3, i.state), snapshot = $4, "
												 "transitions = i.transitions + 1, updated_at = now() "
												 "WHERE i.tenant_id = $1 AND i.id = $2", 4, types);
		}
		memset(nulls, ' ', sizeof(nulls));
		args[0] = uuid_datum(&inst->tenant);
		args[1] = Int64GetDatum(inst->id);
		args[2] = target ? CStringGetTextDatum(target) : (Datum) 0;
		nulls[2] = target ? ' ' : 'n';
		args[3] = JsonbPGetDatum(s.self);
		exec_plan(plan_instance_update, args, nulls, false, 0, SPI_OK_UPDATE);
	}

	if (s.nchanges > 0 && !merged)
	{
		bool		transient;
		SPIPlanPtr	p = table_update_plan(tbl, cols, s.nchanges, WU_ALONE, &transient);

		memset(nulls, ' ', sizeof(nulls));
		args[0] = JsonbPGetDatum(changes);
		args[1] = CStringGetTextDatum(inst->record_key);
		args[2] = uuid_datum(&inst->tenant);
		exec_plan(p, args, nulls, false, 0, SPI_OK_UPDATE);
		if (transient)
			SPI_freeplan(p);
	}

	/* timers, calls, emits: the SQL of workflow_apply_plan(), when there are any */
	if (need_apply)
	{
		Oid			types[4];

		if (plan_apply == NULL || plan_apply_type != inst->type)
		{
			if (plan_apply)
				SPI_freeplan(plan_apply);
			plan_apply = NULL;
			types[0] = inst->type;
			types[1] = JSONBOID;
			types[2] = TEXTOID;
			types[3] = BOOLOID;
			plan_apply = prepare_saved("SELECT lowcode.workflow_apply_plan($1, $2, $3, $4)", 4, types);
			plan_apply_type = inst->type;
		}
		memset(nulls, ' ', sizeof(nulls));
		args[0] = inst->datum;
		args[1] = JsonbPGetDatum(plan_jsonb(&s, target));
		args[2] = target ? CStringGetTextDatum(inst->state) : (Datum) 0;
		nulls[2] = target ? ' ' : 'n';
		args[3] = BoolGetDatum(to_st ? to_st->final : false);
		exec_plan(plan_apply, args, nulls, false, 0, SPI_OK_SELECT);
	}
	else if (target)
	{
		/* the timers of the state left */
		if (plan_exit_timers == NULL)
		{
			Oid			types[3] = {UUIDOID, INT8OID, TEXTOID};

			plan_exit_timers = prepare_saved("DELETE FROM lowcode.workflow_timers w "
											 "WHERE w.tenant_id = $1 AND w.instance_id = $2 AND w.state = $3",
											 3, types);
		}
		args[0] = uuid_datum(&inst->tenant);
		args[1] = Int64GetDatum(inst->id);
		args[2] = CStringGetTextDatum(inst->state);
		exec_plan(plan_exit_timers, args, NULL, false, 0, SPI_OK_DELETE);
		count_timers(&inst->tenant, -(int64) SPI_processed);
	}

	if (need_apply)
		hist = write_history(inst, tbl, event, target, payload, actor, false, NULL, NULL, 0, NULL);

	/* the answer */
	{
		MemoryContext old = MemoryContextSwitchTo(rcxt);
		JbMember	m[] = {JB_I("instance", inst->id), JB_S("workflow", inst->workflow),
			JB_I("version", inst->version), JB_S("event", event), JB_S("from", inst->state),
		JB_S("to", target ? target : inst->state), JB_I("history", hist), JB_J("record", s.self)};

		result = jb_object_jsonb(m, lengthof(m));
		MemoryContextSwitchTo(old);
	}
	return result;
}

/* the step with its set-up: SPI, the trusted search_path, the caches */
static Jsonb *
run_step(WfInst *inst, const char *event, Jsonb *payload, Jsonb *actor)
{
	MemoryContext rcxt = CurrentMemoryContext;
	LcTrusted	tr;
	Jsonb	   *res;

	ensure_caches();
	refresh_relids();
	collect_garbage();
	lc_trusted_begin(&tr, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	step_depth++;
	res = step(inst, event, payload, actor, NULL, rcxt);
	step_depth--;
	SPI_finish();
	lc_trusted_end(&tr);
	return res;
}

/*
 * lowcode.workflow_step(inst lowcode.workflow_instances, event text,
 * payload jsonb, actor jsonb) RETURNS jsonb
 */
PG_FUNCTION_INFO_V1(lowcode_workflow_step);

Datum
lowcode_workflow_step(PG_FUNCTION_ARGS)
{
	WfInst		inst;
	Jsonb	   *payload;
	Jsonb	   *actor;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		lc_raise_http(404, "LW404", "the record is no longer governed by a workflow", NULL, NULL, NULL);
	read_inst(PG_GETARG_DATUM(0), &inst);
	payload = PG_ARGISNULL(2) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
		PG_GETARG_JSONB_P(2);
	actor = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	PG_RETURN_JSONB_P(run_step(&inst, text_to_cstring(PG_GETARG_TEXT_PP(1)), payload, actor));
}

/* ---- the actor ---- */

static Jsonb *
actor_jsonb(void)
{
	const char *raw = GetConfigOption("request.jwt.claims", true, false);
	Jsonb	   *claims = NULL;
	const char *role = registry_actor_role();
	const char *sub = registry_actor_sub();
	JsonbParseState *st = NULL;

	if (raw && raw[0] != '\0')
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			claims = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(raw)));
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
				edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
				PG_RE_THROW();
			FlushErrorState();
			claims = NULL;		/* not JSON: no claims (pre_request() refuses such requests anyway) */
		}
		PG_END_TRY();
	}
	if (!jb_is_object(claims))
		claims = NULL;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "role");
	jb_str(&st, WJB_VALUE, role);
	jb_key(&st, "principal");
	jb_str(&st, WJB_VALUE, sub ? sub : role);
	jb_key(&st, "claims");
	if (claims)
		jb_jsonb(&st, WJB_VALUE, claims);
	else
	{
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	return jb_finish(&st, WJB_END_OBJECT);
}

/* lowcode.workflow_actor() RETURNS jsonb: {"role", "principal", "claims"} */
PG_FUNCTION_INFO_V1(lowcode_workflow_actor);

Datum
lowcode_workflow_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(actor_jsonb());
}

/* ---- fire ---- */

static bool
valid_event_name(const char *e)
{
	int			n = 0;

	if (e == NULL)
		return false;
	if (!((e[0] >= 'A' && e[0] <= 'Z') || (e[0] >= 'a' && e[0] <= 'z') || e[0] == '_'))
		return false;
	for (const char *p = e + 1; *p; p++)
	{
		char		c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
		if (++n > 127)
			return false;
	}
	return true;
}

static SPIPlanPtr
inst_plan(bool by_id, bool with_tenant)
{
	SPIPlanPtr *slot = by_id ? &plan_inst_by_id[with_tenant] : &plan_inst_by_key[with_tenant];

	if (*slot == NULL)
	{
		Oid			types[3] = {UUIDOID, INT8OID, REGCLASSOID};
		Oid			ktypes[3] = {UUIDOID, REGCLASSOID, TEXTOID};
		const char *tcond = with_tenant ? "i.tenant_id = $1" : "$1 IS NULL";

		if (by_id)
			*slot = prepare_saved(psprintf("SELECT i, i.ctid FROM lowcode.workflow_instances i WHERE %s AND i.id = $2 "
										   "FOR NO KEY UPDATE", tcond), 3, types);
		else
			*slot = prepare_saved(psprintf("SELECT i, i.ctid FROM lowcode.workflow_instances i WHERE %s AND i.rel = $2 "
										   "AND i.record_key = $3 FOR NO KEY UPDATE", tcond), 3, ktypes);
	}
	return *slot;
}

static bool
sql_bool(const char *q)
{
	bool		isnull;
	bool		r;

	if (SPI_execute(q, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_lowcode workflow: %s failed", q);
	r = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return !isnull && r;
}

/*
 * lowcode.workflow_fire_record(rel regclass, record_key text, instance
 * bigint, event text, payload jsonb) RETURNS jsonb: fire() after the
 * record reference is resolved (SECURITY DEFINER: writes the workflow
 * tables; filters by the caller's tenant).
 */
PG_FUNCTION_INFO_V1(lowcode_workflow_fire_record);

Datum
lowcode_workflow_fire_record(PG_FUNCTION_ARGS)
{
	MemoryContext rcxt = CurrentMemoryContext;
	pg_uuid_t	tenant;
	bool		have_tenant = tenancy_current_tenant(&tenant);
	const char *role = registry_actor_role();
	char	   *event = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	Jsonb	   *payload;
	LcTrusted	tr;
	WfInst		inst;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	Datum		instd = (Datum) 0;
	Jsonb	   *rec = NULL;
	Jsonb	   *res;
	ItemPointerData tid;
	bool		has_tid = false;

	lc_trusted_begin(&tr, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!have_tenant && !sql_bool("SELECT lowcode.registry_is_operator()"))
	{
		SPI_execute("SELECT lowcode.workflow_scope()", false, 1);	/* raises LW006 */
		elog(ERROR, "pg_lowcode workflow: no tenant context");
	}
	if (!valid_event_name(event))
	{
		char	   *shown;

		if (event)
		{
			StringInfoData b;
			char	   *cut = pnstrdup(event, pg_mbcharcliplen(event, strlen(event), 200));

			initStringInfo(&b);
			appendStringInfoString(&b, quote_literal_cstr(cut));
			shown = b.data;
		}
		else
			shown = "NULL";
		ereport(ERROR,
				(errcode(ERRCODE_LW_INVALID_WORKFLOW_USE),
				 errmsg("invalid event name %s", shown),
				 errhint("An event name is a letter or \"_\", then up to 127 letters, digits, \"_\", \".\", \":\" or \"-\".")));
	}
	if (PG_ARGISNULL(4))
		payload = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	else
		payload = PG_GETARG_JSONB_P(4);
	if (!jb_is_object(payload))
		ereport(ERROR,
				(errcode(ERRCODE_LW_INVALID_WORKFLOW_USE),
				 errmsg("the payload of an event must be a JSON object")));

	ensure_caches();
	refresh_relids();
	collect_garbage();

	args[0] = have_tenant ? uuid_datum(&tenant) : (Datum) 0;
	nulls[0] = have_tenant ? ' ' : 'n';
	if (PG_ARGISNULL(2) && !PG_ARGISNULL(0) && !PG_ARGISNULL(1) && have_tenant)
	{
		/*
		 * A record of a table: the instance and the record locked by one
		 * statement, in that order (LockRows takes the row marks in the
		 * order of FOR NO KEY UPDATE OF); when it finds no row, the two
		 * statements below say which is missing.
		 */
		WfTable    *tbl = load_table(DatumGetObjectId(PG_GETARG_DATUM(0)));

		if (tbl->governed)
		{
			args[1] = PG_GETARG_DATUM(0);
			args[2] = PG_GETARG_DATUM(1);
			exec_plan(table_join_plan(tbl), args, nulls, false, 0, SPI_OK_SELECT);
			if (SPI_processed >= 1)
			{
				bool		rnull;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
				Datum		r = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &rnull);

				if (!isnull && !rnull)
				{
					instd = datumCopy(d, false, -1);
					rec = DatumGetJsonbPCopy(r);
					tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3,
															  &isnull));
					has_tid = !isnull;
				}
			}
			SPI_freetuptable(SPI_tuptable);
		}
	}
	if (instd != (Datum) 0)
	{
		/* found both */
	}
	else if (!PG_ARGISNULL(2))
	{
		args[1] = PG_GETARG_DATUM(2);
		args[2] = (Datum) 0;
		nulls[2] = 'n';
		exec_plan(inst_plan(true, have_tenant), args, nulls, false, 0, SPI_OK_SELECT);
	}
	else
	{
		args[1] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
		nulls[1] = PG_ARGISNULL(0) ? 'n' : ' ';
		args[2] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
		nulls[2] = PG_ARGISNULL(1) ? 'n' : ' ';
		exec_plan(inst_plan(false, have_tenant), args, nulls, false, 0, SPI_OK_SELECT);
	}
	if (instd == (Datum) 0 && SPI_processed >= 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			instd = datumCopy(d, false, -1);
			tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			has_tid = !isnull;
		}
	}
	if (instd == (Datum) 0)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		if (!PG_ARGISNULL(0))
		{
			jb_key(&st, "table");
			jb_str(&st, WJB_VALUE, DatumGetCString(DirectFunctionCall1(regclassout, PG_GETARG_DATUM(0))));
		}
		if (!PG_ARGISNULL(1))
		{
			jb_key(&st, "key");
			jb_str(&st, WJB_VALUE, text_to_cstring(PG_GETARG_TEXT_PP(1)));
		}
		if (!PG_ARGISNULL(2))
		{
			jb_key(&st, "instance");
			jb_int(&st, WJB_VALUE, PG_GETARG_INT64(2));
		}
		raise_jsonb(404, "LW404", "no workflow instance for this record", jb_finish(&st, WJB_END_OBJECT));
	}
	read_inst(instd, &inst);
	inst.has_tid = has_tid;
	inst.tid = tid;
	/* firing writes the record: the caller must be allowed to */
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(inst.rel)) &&
		pg_class_aclcheck(inst.rel, get_role_oid(role, false), ACL_UPDATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to fire events on %s",
						DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(inst.rel))))));

	step_depth++;
	res = step(&inst, event, payload, actor_jsonb(), rec, rcxt);
	step_depth--;
	SPI_finish();
	lc_trusted_end(&tr);
	PG_RETURN_JSONB_P(res);
}

static pg_attribute_noreturn() void
bad_record(Jsonb *record)
{
	if (record == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_LW_INVALID_WORKFLOW_USE),
				 errmsg("fire: the record is {\"table\": <name>, \"id\": <key>}, {\"submission\": <id>} or {\"instance\": <id>}")));
	{
		char	   *t = jb_text(record);

		ereport(ERROR,
				(errcode(ERRCODE_LW_INVALID_WORKFLOW_USE),
				 errmsg("fire: the record is {\"table\": <name>, \"id\": <key>}, {\"submission\": <id>} or {\"instance\": <id>}"),
				 errdetail("got %s", pnstrdup(t, pg_mbcharcliplen(t, strlen(t), 200)))));
	}
}

/* ^[0-9]{1,19}$ and at most 9223372036854775807 */
static bool
parse_id(const char *s, int64 *out)
{
	int			n = strlen(s);
	uint64		v = 0;

	if (n < 1 || n > 19)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > (uint64) PG_INT64_MAX)
		return false;
	*out = (int64) v;
	return true;
}

/* record ->> key */
static char *
member_text(Jsonb *record, const char *key, enum jbvType *type)
{
	JsonbValue	v;

	if (!jb_member(&record->root, key, &v))
	{
		*type = jbvNull;
		return NULL;
	}
	*type = v.type;
	switch (v.type)
	{
		case jbvString:
			return pnstrdup(v.val.string.val, v.val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		case jbvNull:
			return NULL;
		default:
			return jb_text(jbv_to_jsonb(&v));
	}
}

static Datum
call_fire_record(FunctionCallInfo outer, Datum rel, bool rel_null, char *key, int64 instance, bool inst_null)
{
	LOCAL_FCINFO(fcinfo, 5);
	Datum		res;

	if (!OidIsValid(fire_record_oid))
	{
		Oid			argtypes[5] = {REGCLASSOID, TEXTOID, INT8OID, TEXTOID, JSONBOID};
		Oid			fn = LookupFuncName(list_make2(makeString(LOWCODE_SCHEMA), makeString("workflow_fire_record")),
										5, argtypes, false);

		if (fire_record_cxt == NULL)
			fire_record_cxt = AllocSetContextCreate(TopMemoryContext, "pg_lowcode fire_record",
													ALLOCSET_SMALL_SIZES);
		MemoryContextReset(fire_record_cxt);
		fmgr_info_cxt(fn, &fire_record_finfo, fire_record_cxt);
		fire_record_oid = fn;
	}
	InitFunctionCallInfoData(*fcinfo, &fire_record_finfo, 5, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = rel;
	fcinfo->args[0].isnull = rel_null;
	fcinfo->args[1].value = key ? CStringGetTextDatum(key) : (Datum) 0;
	fcinfo->args[1].isnull = key == NULL;
	fcinfo->args[2].value = Int64GetDatum(instance);
	fcinfo->args[2].isnull = inst_null;
	fcinfo->args[3].value = outer->args[1].value;
	fcinfo->args[3].isnull = outer->args[1].isnull;
	fcinfo->args[4].value = outer->args[2].value;
	fcinfo->args[4].isnull = outer->args[2].isnull;
	res = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "pg_lowcode workflow: workflow_fire_record returned NULL");
	return res;
}

/*
 * lowcode.fire(record jsonb, event text, payload jsonb DEFAULT '{}')
 * RETURNS jsonb.  Runs as the caller, so that a table name resolves in the
 * caller's search_path; the rest is workflow_fire_record (SECURITY DEFINER).
 */
PG_FUNCTION_INFO_V1(lowcode_fire);

Datum
lowcode_fire(PG_FUNCTION_ARGS)
{
	Jsonb	   *record = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	char	   *txt;
	enum jbvType type;
	int64		id;

	if (!jb_is_object(record))
		bad_record(NULL);
	txt = member_text(record, "instance", &type);
	if (type == jbvNumeric && parse_id(txt, &id))
		return call_fire_record(fcinfo, (Datum) 0, true, NULL, id, false);
	txt = member_text(record, "submission", &type);
	if ((type == jbvNumeric || type == jbvString) && parse_id(txt, &id))
		return call_fire_record(fcinfo,
								ObjectIdGetDatum(get_relname_relid("submissions",
																   get_namespace_oid(LOWCODE_SCHEMA, false))),
								false, txt, 0, true);
	{
		enum jbvType ttype,
					itype;
		char	   *table = member_text(record, "table", &ttype);
		char	   *key = member_text(record, "id", &itype);

		if (ttype == jbvString && (itype == jbvNumeric || itype == jbvString) && strlen(table) <= 200)
		{
			Oid			rel = InvalidOid;
			MemoryContext cxt = CurrentMemoryContext;

			/* to_regclass(), any error (a malformed name) taken as no table */
			PG_TRY();
			{
				List	   *names = stringToQualifiedNameList(table);

				rel = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				MemoryContextSwitchTo(cxt);
				edata = CopyErrorData();
				if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
					edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
					PG_RE_THROW();
				FlushErrorState();
				rel = InvalidOid;
			}
			PG_END_TRY();
			if (!OidIsValid(rel))
				lc_raise_http(404, "LW404", psprintf("no table %s", quote_literal_cstr(table)), NULL, NULL, NULL);
			return call_fire_record(fcinfo, ObjectIdGetDatum(rel), false, key, 0, true);
		}
	}
	bad_record(record);
}

/* ---- invalidation ---- */

/*
 * lowcode.workflow_cache_inval(): statement trigger on the definition
 * tables and workflow_tables: every backend drops its compiled definitions
 * and table descriptions (at the commit, or at once in this one).
 */
PG_FUNCTION_INFO_V1(lowcode_workflow_cache_inval);

Datum
lowcode_workflow_cache_inval(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workflow_cache_inval() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * lowcode.workflow_cache_stats() RETURNS jsonb: this backend's cached
 * definitions and tables (tests).
 */
PG_FUNCTION_INFO_V1(lowcode_workflow_cache_stats);

Datum
lowcode_workflow_cache_stats(PG_FUNCTION_ARGS)
{
	int			defs = 0,
				tables = 0,
				plans = 0;
	HASH_SEQ_STATUS st;
	StringInfoData b;

	if (def_cache)
	{
		WfDefEntry *e;

		hash_seq_init(&st, def_cache);
		while ((e = hash_seq_search(&st)) != NULL)
			defs += e->def->valid;
	}
	if (table_cache)
	{
		WfTableEntry *e;

		hash_seq_init(&st, table_cache);
		while ((e = hash_seq_search(&st)) != NULL)
			if (e->tbl->valid)
			{
				tables++;
			{
				plans += (e->tbl->select_plan != NULL) + (e->tbl->join_plan != NULL);
				for (int i = 0; i < e->tbl->nupdate; i++)
					for (int k = 0; k < WU_NKINDS; k++)
						plans += e->tbl->update[i].plan[k] != NULL;
			}
			}
	}
	initStringInfo(&b);
	appendStringInfo(&b, "{\"definitions\": %d, \"tables\": %d, \"table_plans\": %d}", defs, tables, plans);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}
