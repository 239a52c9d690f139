/*-------------------------------------------------------------------------
 *
 * quota.h
 *	  Quotas, rate limits and usage accounting: the parts other components call.
 *
 * Usage counters live in shared memory, one entry per (database, tenant).
 * Work counters (validations, rule evaluations, rows, bytes) are counted
 * per transaction in backend memory and added to shared memory at commit
 * only: a rolled-back transaction (or subtransaction) counts nothing.
 * Requests and rejections are counted at once: the request happened even
 * when its transaction fails.  The database worker flushes the counters
 * into lowcode.tenant_usage (per-minute buckets) once per sweep.
 *
 * Every function here is a no-op when the library was not preloaded (no
 * shared memory), so callers need not check.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#ifndef QUOTA_H
#define QUOTA_H

#include "access/htup.h"
#include "utils/relcache.h"
#include "utils/uuid.h"

/*
 * Called by the database worker once per sweep, inside a transaction of
 * the worker's database: flush usage counters from shared memory to
 * lowcode.tenant_usage and storage deltas to lowcode.tenant_storage.  If
 * that transaction aborts, the counters are put back and flushed next time.
 * Must not raise an error for ordinary conditions.
 */
extern void quota_worker_sweep(void);

/* One JSON Schema validation of the current tenant; ok = document valid. */
extern void quota_count_validation(bool ok);

/* One rule evaluation (CEL or JsonLogic) of the current tenant. */
extern void quota_count_rule_evaluation(void);

/*
 * Rows and bytes written for "tenant" (the row quota trigger calls this;
 * a component writing tenant data without that trigger may call it too).
 * Inserted rows and added bytes are reserved in shared memory at once, so
 * concurrent transactions see each other's uncommitted inserts when they
 * check the quotas; everything is final at commit and released at abort.
 */
extern void quota_count_rows(const pg_uuid_t *tenant, int64 rows_inserted,
							 int64 rows_deleted, int64 bytes_added,
							 int64 bytes_removed);

/*
 * The row trigger's accounting of one inserted row (tup as stored) of rel,
 * a table with a uuid tenant_id: counts it and enforces the row and storage
 * quotas (ERROR past them).  For lowcode.submit()'s direct path, which
 * writes a submission without the executor and its AFTER triggers.
 */
extern void quota_row_inserted(Relation rel, HeapTuple tup);

/*
 * The quota step of lowcode.pre_request() (quota_rate.c): tier settings and
 * rate limits of the request's tenant (see request/pre_request.h).
 */
struct PreRequest;
extern void quota_pre_request(struct PreRequest *req);

#endif							/* QUOTA_H */
