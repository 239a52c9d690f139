/*-------------------------------------------------------------------------
 *
 * workflow_gate.c
 *	  lowcode.workflow_subject_governed(tenant, subject): the WHEN condition
 *	  of the workflow trigger on new submissions (issue 21).
 *
 * Every INSERT into lowcode.submissions ran the PL/pgSQL trigger
 * lowcode.workflow_trigger() (SECURITY DEFINER, its search_path set, the row
 * turned into jsonb, a query on lowcode.workflow_subjects) only to learn, for
 * almost every submission, that its subject is governed by no workflow:
 * about a third of the CPU of a submission.  This function answers that
 * question with one probe of workflow_subjects' primary key, so that the
 * trigger runs only for the submissions it has work for.
 *
 * It answers true (run the trigger, which decides as before) whenever it
 * cannot say "no workflow" for sure: no tenant context, a row of another
 * tenant than the current one (the trigger raises its error), a NULL, the
 * table or its key not as expected.  It reads only the current tenant's
 * attachment, so it tells a caller nothing it could not learn from its own
 * submission's status.  The probe uses the statement's snapshot, as the
 * trigger's query did.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "lc/lc_inval.h"
#include "tenancy/tenancy.h"
#include "workflow/workflow.h"

/*
 * The answers of the probe, per backend (issue 21, session 7: the probe cost
 * 12.5k instructions of a submission's 370k).  Rows of workflow_subjects
 * change only through attach_workflow_subject (and an operator's DML): a
 * statement trigger on the table (lowcode.workflow_subjects_changed(),
 * ENABLE ALWAYS) queues a relcache invalidation of it with every change,
 * which empties this cache in every backend before its next transaction,
 * and in the changing backend at its next command (so that its own attach
 * or detach, and its rollback, are seen at once).  The cache serves READ
 * COMMITTED only, whose snapshot is new at every statement: a REPEATABLE
 * READ transaction must answer from its own snapshot, so it probes.  Left
 * to chance: a commit between this statement's snapshot and the delivery of
 * its invalidation (microseconds), which the probe would have seen; an
 * attachment that commits just after a submission is no different.
 */
#define GATE_CACHE_MAX 4096
#define GATE_SUBJECT_MAX 128

typedef struct GateKey
{
	pg_uuid_t	tenant;
	char		subject[GATE_SUBJECT_MAX + 1];
} GateKey;

typedef struct GateEntry
{
	GateKey		key;
	bool		governed;
} GateEntry;

static HTAB *gate_cache = NULL;
static Oid	gate_relid = InvalidOid;
static bool gate_callback_registered = false;

static void
gate_cache_reset(void)
{
	if (gate_cache)
		hash_destroy(gate_cache);
	gate_cache = NULL;
}

static void
gate_inval(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == gate_relid)
		gate_cache_reset();
}

/*
 * The gate itself (tenant and subject not NULL): the SQL function below,
 * and lowcode.submit()'s direct path (src/registry/registry_record.c),
 * which asks it before writing a submission without the executor and takes
 * the trigger path when the answer is true.
 */
bool
workflow_subject_governed(pg_uuid_t *tenant, Datum subject)
{
	pg_uuid_t	current;
	Oid			nsp,
				relid,
				indexid;
	Relation	rel,
				irel;
	bool		found = true;
	bool		probed = false;
	text	   *st = DatumGetTextPP(subject);
	GateKey		key;
	bool		cacheable;
	GateEntry  *e;

	if (!tenancy_current_tenant(&current) || !ActiveSnapshotSet())
		return true;
	if (memcmp(tenant, &current, sizeof(pg_uuid_t)) != 0)
		return true;

	cacheable = !IsolationUsesXactSnapshot() && VARSIZE_ANY_EXHDR(st) <= GATE_SUBJECT_MAX;
	if (cacheable)
	{
		memset(&key, 0, sizeof(key));
		memcpy(&key.tenant, tenant, sizeof(pg_uuid_t));
		memcpy(key.subject, VARDATA_ANY(st), VARSIZE_ANY_EXHDR(st));
		if (gate_cache && (e = hash_search(gate_cache, &key, HASH_FIND, NULL)) != NULL)
			return e->governed;
	}

	nsp = get_namespace_oid("lowcode", true);
	relid = OidIsValid(nsp) ? get_relname_relid("workflow_subjects", nsp) : InvalidOid;
	indexid = OidIsValid(nsp) ? get_relname_relid("workflow_subjects_pkey", nsp) : InvalidOid;
	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return true;

	rel = table_open(relid, AccessShareLock);
	irel = index_open(indexid, AccessShareLock);
	/* the key must be (tenant_id uuid, subject text), in that order */
	if (irel->rd_index->indrelid == relid && irel->rd_index->indnkeyatts >= 2 &&
		irel->rd_rel->relam == BTREE_AM_OID &&
		irel->rd_index->indkey.values[0] > 0 && irel->rd_index->indkey.values[1] > 0 &&
		strcmp(get_attname(relid, irel->rd_index->indkey.values[0], false), "tenant_id") == 0 &&
		strcmp(get_attname(relid, irel->rd_index->indkey.values[1], false), "subject") == 0 &&
		TupleDescAttr(RelationGetDescr(irel), 0)->atttypid == UUIDOID &&
		TupleDescAttr(RelationGetDescr(irel), 1)->atttypid == TEXTOID)
	{
		ScanKeyData key[2];
		IndexScanDesc scan;
		TupleTableSlot *slot;

		ScanKeyEntryInitialize(&key[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
							   irel->rd_indcollation[0], F_UUID_EQ, UUIDPGetDatum(tenant));
		ScanKeyEntryInitialize(&key[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   irel->rd_indcollation[1], F_TEXTEQ, subject);
		slot = table_slot_create(rel, NULL);
		scan = index_beginscan(rel, irel, GetActiveSnapshot(), 2, 0);
		index_rescan(scan, key, 2, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, slot);
		index_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		probed = true;
	}
	index_close(irel, AccessShareLock);
	table_close(rel, AccessShareLock);

	/* keep what the probe said (not the "unsure" of a table not as expected) */
	if (cacheable && probed)
	{
		if (!gate_callback_registered)
		{
			lc_register_relcache_callback(gate_inval, (Datum) 0);
			gate_callback_registered = true;
		}
		if (gate_relid != relid)
		{
			gate_cache_reset();
			gate_relid = relid;
		}
		if (gate_cache && hash_get_num_entries(gate_cache) >= GATE_CACHE_MAX)
			gate_cache_reset();
		if (gate_cache == NULL)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(GateKey);
			ctl.entrysize = sizeof(GateEntry);
			ctl.hcxt = TopMemoryContext;
			gate_cache = hash_create("pg_lowcode workflow gate", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		e = hash_search(gate_cache, &key, HASH_ENTER, NULL);
		e->governed = found;
	}
	return found;
}

PG_FUNCTION_INFO_V1(lowcode_workflow_subject_governed);

Datum
lowcode_workflow_subject_governed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(workflow_subject_governed(PG_GETARG_UUID_P(0), PG_GETARG_DATUM(1)));
}
