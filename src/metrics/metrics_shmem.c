/*-------------------------------------------------------------------------
 *
 * metrics_shmem.c
 *	  The metrics component's shared memory: a partitioned hash of tenants,
 *	  one of (tenant, subject) pairs, and the worker sweeps per database;
 *	  and the counting calls of metrics.h.
 *
 * Locking rules (as in contrib/pg_stat_statements, with atomics instead of
 * a spinlock per entry):
 *	- each table has METRICS_PARTITIONS LWLocks; an entry lives in the
 *	  partition of its key's hash code;
 *	- counting looks the entry up with its partition lock held in shared
 *	  mode and adds to the entry's atomic counters under that lock, so that
 *	  any number of backends count at once;
 *	- a missing entry is created with the partition lock held in exclusive
 *	  mode (looked up again first: another backend may have created it);
 *	- reading every entry (the view) takes every lock in shared mode;
 *	  removing entries (metrics_reset) takes every lock in exclusive mode.
 *	  Locks are always taken in increasing order.
 * The tables are bounded (lowcode.metrics_max_tenants and
 * lowcode.metrics_max_subjects): once full, a new tenant's events are
 * counted under the reserved tenant "other" (and in "overflows"), never
 * refused, so that counting never fails a request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "lc/lc_errcodes.h"
#include "metrics/metrics.h"
#include "metrics/metrics_int.h"
#include "tenancy/tenancy.h"

MetricsShared *metrics_shared = NULL;
HTAB	   *metrics_tenants = NULL;
HTAB	   *metrics_subjects = NULL;

const pg_uuid_t metrics_tenant_none = {{0}};
const pg_uuid_t metrics_tenant_other = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

const char *const metrics_status_labels[METRICS_STATUS_NUM] = {
	"400", "401", "403", "404", "409", "413", "422", "429", "4xx", "5xx", "other"
};

/* 0.5 ms to 10 s: a PostgREST request is a few ms; a statement_timeout is seconds */
const int64 metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
metrics_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(MetricsShared));

	/* + 1: the reserved tenants "none" and "other", the subject overflow entry */
	size = add_size(size, hash_estimate_size(metrics_max_tenants + 2, sizeof(MetricsTenant)));
	size = add_size(size, hash_estimate_size(metrics_max_subjects + 1, sizeof(MetricsSubject)));
	return size;
}

static void
metrics_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(metrics_shmem_size());
	RequestNamedLWLockTranche("pg_lowcode_metrics", 2 * METRICS_PARTITIONS);
}

static void
init_tenant(MetricsTenant *e)
{
	for (int i = 0; i < METRIC_NUM; i++)
		pg_atomic_init_u64(&e->counters[i], 0);
	for (int i = 0; i < METRICS_STATUS_NUM; i++)
		pg_atomic_init_u64(&e->refused[i], 0);
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
		pg_atomic_init_u64(&e->latency[i], 0);
	pg_atomic_init_u64(&e->latency_sum_us, 0);
}

static void
init_subject(MetricsSubject *e)
{
	pg_atomic_init_u64(&e->validations, 0);
	pg_atomic_init_u64(&e->failures, 0);
}

static void
subject_key(MetricsSubjectKey *key, const pg_uuid_t *tenant, const char *subject)
{
	memset(key, 0, sizeof(*key));
	memcpy(&key->tenant, tenant, sizeof(pg_uuid_t));
	if (subject)
		strlcpy(key->subject, subject, sizeof(key->subject));
}

/* the reserved entries; the caller holds every lock exclusively (or is the startup) */
static void
create_reserved(void)
{
	bool		found;
	MetricsSubjectKey skey;
	MetricsTenant *t;
	MetricsSubject *s;

	t = hash_search(metrics_tenants, &metrics_tenant_none, HASH_ENTER, &found);
	if (!found)
		init_tenant(t);
	t = hash_search(metrics_tenants, &metrics_tenant_other, HASH_ENTER, &found);
	if (!found)
		init_tenant(t);
	subject_key(&skey, &metrics_tenant_other, "");
	s = hash_search(metrics_subjects, &skey, HASH_ENTER, &found);
	if (!found)
		init_subject(s);
}

static void
metrics_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	metrics_shared = ShmemInitStruct("pg_lowcode metrics", sizeof(MetricsShared), &found);
	if (!found)
	{
		metrics_shared->locks = GetNamedLWLockTranche("pg_lowcode_metrics");
		pg_atomic_init_u32(&metrics_shared->n_tenants, 0);
		pg_atomic_init_u32(&metrics_shared->n_subjects, 0);
		pg_atomic_init_u64(&metrics_shared->overflows, 0);
		metrics_shared->reset_at = GetCurrentTimestamp();
		SpinLockInit(&metrics_shared->worker_mutex);
		memset(metrics_shared->workers, 0, sizeof(metrics_shared->workers));
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(pg_uuid_t);
	info.entrysize = sizeof(MetricsTenant);
	info.num_partitions = METRICS_PARTITIONS;
	metrics_tenants = ShmemInitHash("pg_lowcode metrics tenants",
									metrics_max_tenants + 2, metrics_max_tenants + 2, &info,
									HASH_ELEM | HASH_BLOBS | HASH_PARTITION | HASH_FIXED_SIZE);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(MetricsSubjectKey);
	info.entrysize = sizeof(MetricsSubject);
	info.num_partitions = METRICS_PARTITIONS;
	metrics_subjects = ShmemInitHash("pg_lowcode metrics subjects",
									 metrics_max_subjects + 1, metrics_max_subjects + 1, &info,
									 HASH_ELEM | HASH_BLOBS | HASH_PARTITION | HASH_FIXED_SIZE);
	if (!found)
		create_reserved();
	LWLockRelease(AddinShmemInitLock);
}

void
metrics_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = metrics_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = metrics_shmem_startup;
}

void
metrics_require_shmem(const char *what)
{
	lowcode_require_preload(what);
	if (!metrics_shared)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s: the metrics shared memory is not initialised", what)));
}

void
metrics_lock_all(LWLockMode mode)
{
	for (int i = 0; i < 2 * METRICS_PARTITIONS; i++)
		LWLockAcquire(&metrics_shared->locks[i].lock, mode);
}

void
metrics_unlock_all(void)
{
	for (int i = 2 * METRICS_PARTITIONS - 1; i >= 0; i--)
		LWLockRelease(&metrics_shared->locks[i].lock);
}

/* ---------------------------------------------------------------------
 * Lookup.  Each returns the entry with its partition lock held (in *lock),
 * shared when the entry existed, exclusive when it was just created; the
 * caller adds to the counters and releases the lock.
 * --------------------------------------------------------------------- */

/*
 * One table's lookup: "locks" are its partition locks, "used" and "max" its
 * bound, "init" makes a new entry's counters, "overflow" is the key of the
 * entry that counts when the table is full (always there).
 */
typedef struct MetricsTable
{
	HTAB	   *htab;
	int			lock_base;
	pg_atomic_uint32 *used;
	int			max;
	void		(*init) (void *entry);
} MetricsTable;

static void *
table_entry(const MetricsTable *t, const void *key, const void *overflow, LWLock **lock)
{
	uint32		hash = get_hash_value(t->htab, key);
	LWLock	   *l = &metrics_shared->locks[t->lock_base + hash % METRICS_PARTITIONS].lock;
	void	   *e;

	LWLockAcquire(l, LW_SHARED);
	e = hash_search_with_hash_value(t->htab, key, hash, HASH_FIND, NULL);
	if (e == NULL)
	{
		LWLockRelease(l);
		LWLockAcquire(l, LW_EXCLUSIVE);
		e = hash_search_with_hash_value(t->htab, key, hash, HASH_FIND, NULL);
		if (e == NULL)
		{
			/* reserve a place first: partitions fill concurrently */
			if (pg_atomic_fetch_add_u32(t->used, 1) < (uint32) t->max)
			{
				bool		found;

				e = hash_search_with_hash_value(t->htab, key, hash, HASH_ENTER_NULL, &found);
				if (e != NULL && !found)
					t->init(e);
			}
			if (e == NULL)
			{
				pg_atomic_fetch_sub_u32(t->used, 1);
				LWLockRelease(l);
				pg_atomic_fetch_add_u64(&metrics_shared->overflows, 1);
				return table_entry(t, overflow, overflow, lock);
			}
		}
	}
	*lock = l;
	return e;
}

static void
init_tenant_entry(void *e)
{
	init_tenant((MetricsTenant *) e);
}

static void
init_subject_entry(void *e)
{
	init_subject((MetricsSubject *) e);
}

static MetricsTenant *
tenant_entry(const pg_uuid_t *tenant, LWLock **lock)
{
	MetricsTable t = {metrics_tenants, 0, &metrics_shared->n_tenants, metrics_max_tenants, init_tenant_entry};

	return table_entry(&t, tenant, &metrics_tenant_other, lock);
}

static MetricsSubject *
subject_entry(const MetricsSubjectKey *key, LWLock **lock)
{
	MetricsTable t = {metrics_subjects, METRICS_PARTITIONS, &metrics_shared->n_subjects, metrics_max_subjects,
	init_subject_entry};
	MetricsSubjectKey other;

	subject_key(&other, &metrics_tenant_other, "");
	return table_entry(&t, key, &other, lock);
}

/* ---------------------------------------------------------------------
 * Counting (metrics.h)
 * --------------------------------------------------------------------- */

static inline bool
counting(void)
{
	return metrics_shared != NULL && metrics_enabled;
}

/*
 * The tenant an event is counted for: the request's (set by pre_request()),
 * else the tenant context, else "none".  Only a tenant that exists and is
 * active has a context, so made-up tenant ids in JWTs cannot fill the table.
 */
static void
event_tenant(const pg_uuid_t *given, pg_uuid_t *out)
{
	if (given)
		memcpy(out, given, sizeof(pg_uuid_t));
	else if (!metrics_request_tenant(out) &&
			 !(IsTransactionState() && tenancy_current_tenant(out)))
		memcpy(out, &metrics_tenant_none, sizeof(pg_uuid_t));
}

void
metrics_count(const pg_uuid_t *tenant, MetricId metric, int64 n)
{
	pg_uuid_t	t;
	LWLock	   *lock;
	MetricsTenant *e;

	if (!counting() || n <= 0 || metric < 0 || metric >= METRIC_NUM)
		return;
	event_tenant(tenant, &t);
	e = tenant_entry(&t, &lock);
	pg_atomic_fetch_add_u64(&e->counters[metric], (uint64) n);
	LWLockRelease(lock);
}

void
metrics_count_validation(const char *subject, bool valid)
{
	pg_uuid_t	t;
	LWLock	   *lock;
	MetricsTenant *e;
	MetricsSubject *s;
	MetricsSubjectKey key;

	if (!counting())
		return;
	event_tenant(NULL, &t);
	e = tenant_entry(&t, &lock);
	pg_atomic_fetch_add_u64(&e->counters[METRIC_VALIDATIONS], 1);
	if (!valid)
		pg_atomic_fetch_add_u64(&e->counters[METRIC_VALIDATION_FAILURES], 1);
	LWLockRelease(lock);

	subject_key(&key, &t, subject ? subject : "");
	s = subject_entry(&key, &lock);
	pg_atomic_fetch_add_u64(&s->validations, 1);
	if (!valid)
		pg_atomic_fetch_add_u64(&s->failures, 1);
	LWLockRelease(lock);
}

static int
status_slot(int status)
{
	switch (status)
	{
		case 400:
			return 0;
		case 401:
			return 1;
		case 403:
			return 2;
		case 404:
			return 3;
		case 409:
			return 4;
		case 413:
			return 5;
		case 422:
			return 6;
		case 429:
			return 7;
		default:
			if (status >= 400 && status < 500)
				return 8;
			if (status >= 500 && status < 600)
				return 9;
			return 10;
	}
}

void
metrics_count_refusal(int status)
{
	pg_uuid_t	t;
	LWLock	   *lock;
	MetricsTenant *e;

	if (!counting())
		return;
	event_tenant(NULL, &t);
	e = tenant_entry(&t, &lock);
	pg_atomic_fetch_add_u64(&e->refused[status_slot(status)], 1);
	LWLockRelease(lock);
}

void
metrics_observe_request(const pg_uuid_t *tenant, int64 elapsed_us, bool failed)
{
	LWLock	   *lock;
	MetricsTenant *e;
	int			b = 0;

	if (metrics_shared == NULL)
		return;
	if (elapsed_us < 0)
		elapsed_us = 0;
	while (b < METRICS_LATENCY_BUCKETS - 1 && elapsed_us > metrics_latency_bounds_us[b])
		b++;
	e = tenant_entry(tenant, &lock);
	pg_atomic_fetch_add_u64(&e->latency[b], 1);
	pg_atomic_fetch_add_u64(&e->latency_sum_us, (uint64) elapsed_us);
	if (failed)
		pg_atomic_fetch_add_u64(&e->counters[METRIC_REQUESTS_FAILED], 1);
	LWLockRelease(lock);
}

void
metrics_count_admitted(const pg_uuid_t *tenant)
{
	LWLock	   *lock;
	MetricsTenant *e;

	e = tenant_entry(tenant, &lock);
	pg_atomic_fetch_add_u64(&e->counters[METRIC_REQUESTS_ADMITTED], 1);
	LWLockRelease(lock);
}

void
metrics_worker_sweep(Oid dboid, TimestampTz started, TimestampTz finished, bool ok)
{
	MetricsWorker *free_slot = NULL;
	MetricsWorker *w = NULL;

	if (metrics_shared == NULL)
		return;
	SpinLockAcquire(&metrics_shared->worker_mutex);
	for (int i = 0; i < METRICS_MAX_DATABASES && w == NULL; i++)
	{
		if (metrics_shared->workers[i].dboid == dboid)
			w = &metrics_shared->workers[i];
		else if (free_slot == NULL && metrics_shared->workers[i].dboid == InvalidOid)
			free_slot = &metrics_shared->workers[i];
	}
	if (w == NULL && free_slot != NULL)
	{
		w = free_slot;
		memset(w, 0, sizeof(*w));
		w->dboid = dboid;
	}
	if (w != NULL)
	{
		w->sweeps++;
		if (!ok)
			w->failures++;
		w->last_start = started;
		w->last_end = finished;
		w->last_duration_us = finished - started;
	}
	SpinLockRelease(&metrics_shared->worker_mutex);
}

void
metrics_reset_all(void)
{
	HASH_SEQ_STATUS seq;
	MetricsTenant *t;
	MetricsSubject *s;

	metrics_lock_all(LW_EXCLUSIVE);
	hash_seq_init(&seq, metrics_tenants);
	while ((t = hash_seq_search(&seq)) != NULL)
		hash_search(metrics_tenants, &t->key, HASH_REMOVE, NULL);
	hash_seq_init(&seq, metrics_subjects);
	while ((s = hash_seq_search(&seq)) != NULL)
		hash_search(metrics_subjects, &s->key, HASH_REMOVE, NULL);
	pg_atomic_write_u32(&metrics_shared->n_tenants, 0);
	pg_atomic_write_u32(&metrics_shared->n_subjects, 0);
	pg_atomic_write_u64(&metrics_shared->overflows, 0);
	metrics_shared->reset_at = GetCurrentTimestamp();
	create_reserved();
	metrics_unlock_all();
	SpinLockAcquire(&metrics_shared->worker_mutex);
	memset(metrics_shared->workers, 0, sizeof(metrics_shared->workers));
	SpinLockRelease(&metrics_shared->worker_mutex);
}
