/*-------------------------------------------------------------------------
 *
 * metrics_init.c
 *	  Entry point of the metrics component, called from _PG_init(): its
 *	  settings, its shared memory, and the request clock.
 *
 * A request's latency runs from the start of the statement that called
 * lowcode.pre_request() (PostgREST's db-pre-request hook) to the end of its
 * transaction, observed by a transaction callback: at commit as a finished
 * request, at abort as a failed one.  The shared memory is in
 * metrics_shmem.c, the SQL functions in metrics_sql.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "metrics/metrics.h"
#include "metrics/metrics_int.h"

int			metrics_max_tenants = 10000;
int			metrics_max_subjects = 10000;
int			metrics_top_n = 100;
bool		metrics_enabled = true;

/* The request in flight in this backend's transaction, if pre_request() admitted one. */
static bool request_active = false;
static pg_uuid_t request_tenant;
static TimestampTz request_start;

void
metrics_request_admitted(const pg_uuid_t *tenant)
{
	if (metrics_shared == NULL || !metrics_enabled || request_active)
		return;
	metrics_count_admitted(tenant);
	memcpy(&request_tenant, tenant, sizeof(pg_uuid_t));
	request_start = GetCurrentStatementStartTimestamp();
	request_active = true;
}

bool
metrics_request_tenant(pg_uuid_t *tenant)
{
	if (!request_active)
		return false;
	memcpy(tenant, &request_tenant, sizeof(pg_uuid_t));
	return true;
}

static void
metrics_xact_callback(XactEvent event, void *arg)
{
	if (!request_active)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			request_active = false;
			metrics_observe_request(&request_tenant,
									GetCurrentTimestamp() - request_start,
									event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT);
			break;
		default:
			break;
	}
}

void
metrics_init(void)
{
	/* PGC_POSTMASTER settings can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("lowcode.metrics_max_tenants",
								"Number of tenants the metrics table in shared memory holds.",
								"Once full, new tenants are counted together under tenant \"other\".",
								&metrics_max_tenants,
								10000, 100, 10000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("lowcode.metrics_max_subjects",
								"Number of (tenant, subject) pairs the validation metrics hold.",
								"Once full, new pairs are counted together under tenant and subject \"other\".",
								&metrics_max_subjects,
								10000, 100, 10000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
	DefineCustomBoolVariable("lowcode.metrics",
							 "Count per-tenant metrics in shared memory.",
							 "Off counts nothing (used by the benchmarks to measure the cost).",
							 &metrics_enabled,
							 true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.metrics_top_n",
							"Tenants shown per metric by lowcode.metrics and lowcode.metrics_prometheus() (0: all).",
							"The others are summed under tenant \"other\", so that sums stay exact.",
							&metrics_top_n,
							100, 0, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
	{
		metrics_shmem_init();
		RegisterXactCallback(metrics_xact_callback, NULL);
	}
}
