/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Per-tenant metrics in shared memory, for Prometheus (issue 20).
 *
 * Other components report what happens with one-line calls declared here;
 * the metrics component keeps the counters in shared memory and exposes
 * them as the view lowcode.metrics and as Prometheus text
 * (lowcode.metrics_prometheus()).  See docs/operations.md.
 *
 * Every call is a no-op when the library was not preloaded, so that the
 * callers never need to check.  Counters count when the event happens, not
 * at commit: a refused request aborts its transaction and must still be
 * counted (the quota component's usage counters, which are billing figures,
 * count at commit instead).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LOWCODE_METRICS_H
#define LOWCODE_METRICS_H

#include "utils/timestamp.h"
#include "utils/uuid.h"

/* Per-tenant counters. */
typedef enum MetricId
{
	METRIC_REQUESTS_ADMITTED,	/* pre_request() let the request through */
	METRIC_REQUESTS_FAILED,		/* an admitted request whose transaction aborted */
	METRIC_VALIDATIONS,			/* registry validations (also per subject) */
	METRIC_VALIDATION_FAILURES, /* ... that found the instance invalid */
	METRIC_RULE_EVALUATIONS,	/* cross-field rules evaluated */
	METRIC_RULE_BUDGET_EXHAUSTED,	/* ... that ran out of cost or depth budget */
	METRIC_SESSIONS_CREATED,
	METRIC_SESSIONS_EXPIRED,
	METRIC_SESSIONS_REVOKED,
	METRIC_NUM
} MetricId;

/* Count n events of one metric for a tenant (NULL: the current tenant context). */
extern void metrics_count(const pg_uuid_t *tenant, MetricId metric, int64 n);

/* Count one validation of a subject for the current tenant. */
extern void metrics_count_validation(const char *subject, bool valid);

/*
 * Count a request refused with an HTTP status, for the current tenant
 * context (none yet for a 401: counted under tenant "none").  Called by
 * lc_raise_http(), the one place every refusal goes through.
 */
extern void metrics_count_refusal(int status);

/* pre_request() admitted a request of this tenant: counts it, starts its latency clock. */
extern void metrics_request_admitted(const pg_uuid_t *tenant);

/* A database worker finished one sweep (ok: without an error). */
extern void metrics_worker_sweep(Oid dboid, TimestampTz started, TimestampTz finished, bool ok);

/* Called from _PG_init(). */
extern void metrics_init(void);

#endif							/* LOWCODE_METRICS_H */
