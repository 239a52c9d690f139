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

#include "tenancy/tenancy.h"
#include "workflow/workflow.h"

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

	if (!tenancy_current_tenant(&current) || !ActiveSnapshotSet())
		return true;
	if (memcmp(tenant, &current, sizeof(pg_uuid_t)) != 0)
		return true;

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
	}
	index_close(irel, AccessShareLock);
	table_close(rel, AccessShareLock);
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
