/*-------------------------------------------------------------------------
 *
 * tenancy_router.c
 *	  Router plans on Citus: a tenant's query reaches the one shard that
 *	  holds the tenant's rows (issue 17).
 *
 * A tenant table's policies say tenant_id = lowcode.current_tenant(), but
 * Citus prunes shards only by values it knows while planning, and a STABLE
 * function in a SELECT is never evaluated on the coordinator: every
 * PostgREST read fanned out to all shards.  This planner hook, which runs
 * before Citus' planner, adds "tenant_id = '<the current tenant>'" to the
 * WHERE clause of every query level for each tenant table that Citus
 * distributes by tenant_id (listed in the FROM list of that level, or the
 * target of an UPDATE or DELETE, or under an inner join), so that Citus'
 * router planner sends the query to one shard.  The qual restates what the
 * policies already demand (RLS still applies on the shard, with the tenant
 * verified there), so it changes no answer.  Queries with an outer join are
 * left alone (see outer_join_walker).
 *
 * Why a constant and not a parameter: Citus defers pruning on a parameter
 * only for its "fast path" (one table, no CTE, no sub-query), and
 * PostgREST's reads are CTEs; on any other shape an unbound parameter makes
 * Citus refuse the plan.  A constant in a cached generic plan would route
 * the next tenant's request to the wrong shard (and, through RLS, return
 * nothing), so every plan that holds one gets a plan-invalidation item, and
 * at the end of each transaction that made such a plan the item is fired
 * in this backend only (CallSyscacheCallbacks): the next transaction
 * re-plans for its own tenant.  That is what a custom plan costs, which
 * Citus' planner needs on most PostgREST statements anyway.
 *
 * On a single node (no Citus, or no distributed tenant table) the hook
 * returns at its first test: nothing changes.
 *
 * src/tenancy/ is the tenancy component: the tenant context every
 * row-level security policy reads, the tenant claim, and the tenancy step
 * of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_oper.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "rewrite/rowsecurity.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "lc/lc_inval.h"
#include "tenancy/tenancy.h"

static planner_hook_type prev_planner_hook = NULL;

/* lowcode.citus_router: off leaves every query to Citus as it is (fan-out). */
static bool router_enabled = true;

/* Is Citus loaded in this backend?  0 unknown, 1 yes, -1 no. */
static int	citus_loaded = 0;

/* relid -> is it a tenant table Citus distributes by tenant_id? */
typedef struct RouterTableEntry
{
	Oid			relid;			/* hash key */
	bool		routable;
	AttrNumber	tenant_attnum;
} RouterTableEntry;

static HTAB *router_tables = NULL;

/* The uuid = uuid operator, looked up once. */
static Oid	uuid_eq_opno = InvalidOid;

/* Did this transaction make a plan that holds a tenant constant? */
static bool planned_tenant_constant = false;

/* The invalidation item of such plans: lowcode.current_tenant()'s pg_proc entry. */
static uint32 router_inval_hash = 0;

static void
router_relcache_callback(Datum arg, Oid relid)
{
	if (router_tables == NULL)
		return;
	if (!OidIsValid(relid))
	{
		hash_destroy(router_tables);
		router_tables = NULL;
	}
	else
		(void) hash_search(router_tables, &relid, HASH_REMOVE, NULL);
}

static void
router_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			if (planned_tenant_constant)
			{
				planned_tenant_constant = false;
				/* this backend's cached plans made for this transaction's tenant */
				CallSyscacheCallbacks(PROCOID, router_inval_hash);
			}
			break;
		default:
			break;
	}
}

/*
 * Whether relid is a Citus table of any kind (distributed, reference,
 * Citus-managed local), read from pg_dist_partition (Citus' catalog; no link
 * to Citus' code).  *hash_attnum: the distribution column of a
 * hash-distributed table, else InvalidAttrNumber.  When Citus' catalog is
 * there but not as known (its index missing), the answer is true with no
 * column: callers then take their careful path (no routing; the SQL path).
 */
bool
tenancy_citus_table(Oid relid, AttrNumber *hash_attnum)
{
	Oid			catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			index;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found;

	*hash_attnum = InvalidAttrNumber;
	if (!OidIsValid(catalog))
		return false;
	index = get_relname_relid("pg_dist_partition_logical_relid_index", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(index))
		return true;
	rel = table_open(catalog, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	found = HeapTupleIsValid(tuple);
	if (found)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		AttrNumber	method_att = attnameAttNum(rel, "partmethod", false);
		AttrNumber	key_att = attnameAttNum(rel, "partkey", false);
		bool		isnull;
		Datum		method = heap_getattr(tuple, method_att, desc, &isnull);

		if (!isnull && DatumGetChar(method) == 'h')
		{
			Datum		partkey = heap_getattr(tuple, key_att, desc, &isnull);

			if (!isnull)
			{
				Node	   *node = stringToNode(TextDatumGetCString(partkey));

				if (node && IsA(node, Var))
					*hash_attnum = ((Var *) node)->varattno;
			}
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* The distribution column of a hash-distributed Citus table, else InvalidAttrNumber. */
static AttrNumber
citus_distribution_attnum(Oid relid)
{
	AttrNumber	attnum;

	(void) tenancy_citus_table(relid, &attnum);
	return attnum;
}

/* Does the relation have lowcode's tenant policies? */
static bool
has_tenant_policies(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	bool		found = false;
	ListCell   *lc;

	if (rel->rd_rsdesc != NULL)
	{
		foreach(lc, rel->rd_rsdesc->policies)
		{
			RowSecurityPolicy *p = (RowSecurityPolicy *) lfirst(lc);

			if (strcmp(p->policy_name, "lowcode_tenant_select") == 0)
			{
				found = true;
				break;
			}
		}
	}
	table_close(rel, AccessShareLock);
	return found;
}

static RouterTableEntry *
router_table(Oid relid)
{
	RouterTableEntry *entry;
	bool		found;

	if (router_tables == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RouterTableEntry);
		router_tables = hash_create("lowcode router tables", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(router_tables, &relid, HASH_ENTER, &found);
	if (!found)
	{
		AttrNumber	tenant = get_attnum(relid, "tenant_id");

		entry->routable = false;
		entry->tenant_attnum = tenant;
		if (tenant != InvalidAttrNumber &&
			get_atttype(relid, tenant) == UUIDOID &&
			citus_distribution_attnum(relid) == tenant &&
			has_tenant_policies(relid))
			entry->routable = true;
	}
	return entry;
}

typedef struct RouterContext
{
	Const	   *tenant;
	bool		added;
} RouterContext;

/* tenant_id = '<tenant>' for range table entry rtindex of query. */
static void
add_tenant_qual(Query *query, int rtindex, RouterContext *ctx)
{
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	RouterTableEntry *entry;
	Var		   *var;
	Expr	   *qual;

	if (rte->rtekind != RTE_RELATION || (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
		return;
	entry = router_table(rte->relid);
	if (!entry->routable)
		return;
	if (!OidIsValid(uuid_eq_opno))
		uuid_eq_opno = LookupOperName(NULL, list_make1(makeString("=")), UUIDOID, UUIDOID, false, -1);
	var = makeVar(rtindex, entry->tenant_attnum, UUIDOID, -1, InvalidOid, 0);
	qual = make_opclause(uuid_eq_opno, BOOLOID, false, (Expr *) var,
						 (Expr *) copyObject(ctx->tenant), InvalidOid, InvalidOid);
	((OpExpr *) qual)->opfuncid = get_opcode(uuid_eq_opno);
	if (query->jointree == NULL)
		query->jointree = makeFromExpr(NIL, NULL);
	query->jointree->quals = make_and_qual(query->jointree->quals, (Node *) qual);
	ctx->added = true;
}

static bool router_walker(Node *node, RouterContext *ctx);

/* The tables of a FROM item, through inner joins (route_walker keeps outer joins out). */
static void
route_from_item(Query *query, Node *item, RouterContext *ctx)
{
	if (IsA(item, RangeTblRef))
		add_tenant_qual(query, ((RangeTblRef *) item)->rtindex, ctx);
	else if (IsA(item, JoinExpr) && ((JoinExpr *) item)->jointype == JOIN_INNER)
	{
		route_from_item(query, ((JoinExpr *) item)->larg, ctx);
		route_from_item(query, ((JoinExpr *) item)->rarg, ctx);
	}
}

/*
 * Does the query have an outer join at any level?  The added qual and the
 * policy's "tenant_id = current_tenant()" make a pseudo-constant qual
 * (current_tenant() = '<tenant>'), and Citus refuses outer joins with
 * pseudo-constant quals on PostgreSQL 15 and 16: such queries are left to
 * fan out (PostgREST's embeddings among them; docs/scale-out.md).
 */
static bool
outer_join_walker(Node *node, void *arg)
{
	if (node == NULL)
		return false;
	if (IsA(node, JoinExpr) && ((JoinExpr *) node)->jointype != JOIN_INNER)
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, outer_join_walker, arg, 0);
	return expression_tree_walker(node, outer_join_walker, arg);
}

/* One query level: the tables of its FROM list, and its UPDATE/DELETE target. */
static void
route_query(Query *query, RouterContext *ctx)
{
	ListCell   *lc;

	if (query->commandType != CMD_SELECT && query->commandType != CMD_UPDATE &&
		query->commandType != CMD_DELETE)
		return;
	if (query->jointree != NULL)
	{
		foreach(lc, query->jointree->fromlist)
			route_from_item(query, lfirst(lc), ctx);
	}
	if (query->commandType != CMD_SELECT && query->resultRelation > 0)
		add_tenant_qual(query, query->resultRelation, ctx);
}

static bool
router_walker(Node *node, RouterContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		bool		r = query_tree_walker(query, router_walker, ctx, 0);

		/* after the walk: our quals hold no sub-query to walk into */
		route_query(query, ctx);
		return r;
	}
	return expression_tree_walker(node, router_walker, ctx);
}

static PlannedStmt *
tenancy_router_planner(Query *parse, const char *query_string, int cursorOptions,
					   ParamListInfo boundParams)
{
	PlannedStmt *result;
	bool		routed = false;
	pg_uuid_t	tenant;

	if (citus_loaded == 0)
		citus_loaded = GetConfigOption("citus.propagate_set_commands", true, false) != NULL ? 1 : -1;

	if (citus_loaded > 0 && router_enabled && parse->commandType != CMD_UTILITY && IsTransactionState() &&
		tenancy_current_tenant(&tenant))
	{
		RouterContext ctx;
		pg_uuid_t  *value = palloc(sizeof(pg_uuid_t));

		memcpy(value, &tenant, sizeof(pg_uuid_t));
		ctx.tenant = makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, UUIDPGetDatum(value), false, false);
		ctx.added = false;
		if (!outer_join_walker((Node *) parse, NULL))
			(void) router_walker((Node *) parse, &ctx);
		routed = ctx.added;
	}

	if (prev_planner_hook)
		result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions, boundParams);

	if (routed)
	{
		PlanInvalItem *item = makeNode(PlanInvalItem);

		item->cacheId = PROCOID;
		item->hashValue = router_inval_hash;
		result->invalItems = lappend(result->invalItems, item);
		planned_tenant_constant = true;
	}
	return result;
}

void
tenancy_router_init(void)
{
	DefineCustomBoolVariable("lowcode.citus_router",
							 "Route a tenant's queries on Citus distributed tenant tables to the tenant's shard.",
							 "Adds tenant_id = <the current tenant> to queries on tenant tables Citus distributes by tenant_id.",
							 &router_enabled,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	prev_planner_hook = planner_hook;
	planner_hook = tenancy_router_planner;
	lc_register_relcache_callback(router_relcache_callback, (Datum) 0);
	RegisterXactCallback(router_xact_callback, NULL);

	/*
	 * Any hash value serves, as long as the items and the callback agree: a
	 * fixed one, so that the plans of every transaction share it.  (A real
	 * change to a pg_proc row with this hash also re-plans them: harmless.)
	 */
	router_inval_hash = 0x4c430017;
}
