/*-------------------------------------------------------------------------
 *
 * metrics_int.h
 *	  The metrics component's shared memory, shared by its own files only
 *	  (other components use metrics.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LOWCODE_METRICS_INT_H
#define LOWCODE_METRICS_INT_H

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/hsearch.h"

#include "metrics/metrics.h"

/* HTTP statuses of refusals, one counter each; see metrics_status_slot(). */
#define METRICS_STATUS_NUM		11
extern const char *const metrics_status_labels[METRICS_STATUS_NUM];

/* Request latency histogram: upper bounds in microseconds, then +Inf. */
#define METRICS_LATENCY_BUCKETS	15
extern const int64 metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS - 1];

/* Subject names as the registry allows them (REG_SUBJECT_MAX). */
#define METRICS_SUBJECT_MAX		128

/* Worker sweeps are kept for this many databases (more are not reported). */
#define METRICS_MAX_DATABASES	64

/* Lock partitions of each hash table. */
#define METRICS_PARTITIONS		16

extern const char *const metrics_counter_names[METRIC_NUM];
extern const char *const metrics_counter_help[METRIC_NUM];

/*
 * One tenant's counters.  Reserved keys: the nil uuid ("none": no tenant
 * context, e.g. a 401) and the all-ones uuid ("other": tenants that found the
 * table full).  Every counter is an atomic, added to under the partition
 * lock held in shared mode: the lock only keeps the entry from being
 * removed (by metrics_reset) while it is updated.
 */
typedef struct MetricsTenant
{
	pg_uuid_t	key;
	pg_atomic_uint64 counters[METRIC_NUM];
	pg_atomic_uint64 refused[METRICS_STATUS_NUM];
	pg_atomic_uint64 latency[METRICS_LATENCY_BUCKETS];	/* not cumulative */
	pg_atomic_uint64 latency_sum_us;
} MetricsTenant;

typedef struct MetricsSubjectKey
{
	pg_uuid_t	tenant;
	char		subject[METRICS_SUBJECT_MAX + 1];	/* zero-padded: the key is hashed as bytes */
} MetricsSubjectKey;

typedef struct MetricsSubject
{
	MetricsSubjectKey key;
	pg_atomic_uint64 validations;
	pg_atomic_uint64 failures;
} MetricsSubject;

typedef struct MetricsWorker
{
	Oid			dboid;			/* InvalidOid: free */
	uint64		sweeps;
	uint64		failures;
	TimestampTz last_start;
	TimestampTz last_end;
	int64		last_duration_us;
} MetricsWorker;

typedef struct MetricsShared
{
	LWLockPadded *locks;		/* METRICS_PARTITIONS for tenants, then as many for subjects */
	pg_atomic_uint32 n_tenants; /* entries in use, reserved ones not counted */
	pg_atomic_uint32 n_subjects;
	pg_atomic_uint64 overflows; /* events counted under "other" because a table was full */
	TimestampTz reset_at;		/* under every lock */
	slock_t		worker_mutex;
	MetricsWorker workers[METRICS_MAX_DATABASES];
} MetricsShared;

extern MetricsShared *metrics_shared;
extern HTAB *metrics_tenants;
extern HTAB *metrics_subjects;
extern int	metrics_max_tenants;
extern int	metrics_max_subjects;
extern int	metrics_top_n;
extern bool metrics_enabled;

extern const pg_uuid_t metrics_tenant_none;
extern const pg_uuid_t metrics_tenant_other;

extern void metrics_shmem_init(void);
extern void metrics_lock_all(LWLockMode mode);
extern void metrics_unlock_all(void);
extern void metrics_require_shmem(const char *what);

/* The tenant pre_request() admitted in this transaction, if any (metrics_init.c). */
extern bool metrics_request_tenant(pg_uuid_t *tenant);
/* Count one admitted request (the clock is metrics_init.c's). */
extern void metrics_count_admitted(const pg_uuid_t *tenant);
/* One finished request: its latency, and whether it failed after admission. */
extern void metrics_observe_request(const pg_uuid_t *tenant, int64 elapsed_us, bool failed);
/* Remove every entry (the reserved ones start again at zero); takes every lock. */
extern void metrics_reset_all(void);

#endif							/* LOWCODE_METRICS_INT_H */
