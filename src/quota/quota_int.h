/*-------------------------------------------------------------------------
 *
 * quota_int.h
 *	  Internals of the quota component, shared by its source files only.
 *
 * Shared memory holds one QuotaEntry per (database, tenant) in a bucketed
 * hash table of 2 * lowcode.quota_max_tenants entries (quota_shmem.c).  A
 * partition LWLock protects the table's structure (held shared for a lookup,
 * exclusive to add or evict an entry); a spinlock in each entry protects its
 * fields.  Every operation of the hot path (one pre_request) is therefore one
 * hash computation, one shared LWLock acquisition and one short spinlock
 * section.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#ifndef QUOTA_INT_H
#define QUOTA_INT_H

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#define QUOTA_PARTITIONS	16
#define QUOTA_BUCKET_SLOTS	16

/* Usage counters, in the order of lowcode.tenant_usage's columns. */
typedef enum QuotaCounter
{
	QC_REQUESTS,
	QC_REJECTED_RATE,
	QC_REJECTED_ROWS,
	QC_REJECTED_STORAGE,
	QC_REJECTED_SESSIONS,
	QC_VALIDATIONS,
	QC_VALIDATION_FAILURES,
	QC_RULE_EVALUATIONS,
	QC_ROWS_INSERTED,
	QC_ROWS_DELETED,
	QC_BYTES_WRITTEN,
	QC_NUM
} QuotaCounter;

extern const char *const quota_counter_names[QC_NUM];

/* A limit's value when there is none. */
#define QUOTA_UNLIMITED		(-1)

/* Effective limits of one tenant (tier values with overrides applied). */
typedef struct QuotaLimits
{
	int64		requests_per_second;
	int64		request_burst;
	int64		max_rows;			/* QUOTA_UNLIMITED: none */
	int64		max_storage_bytes;	/* QUOTA_UNLIMITED: none */
	int64		max_sessions;		/* QUOTA_UNLIMITED: none */
	int64		statement_timeout_ms;	/* 0: none */
	int64		work_mem_kb;
	char		tier[NAMEDATALEN];
} QuotaLimits;

/* What an entry is for: a tenant, or one session (optional per-session bucket). */
#define QUOTA_KIND_TENANT	0
#define QUOTA_KIND_SESSION	1

typedef struct QuotaKey
{
	Oid			dbid;
	uint32		kind;			/* QUOTA_KIND_* */
	pg_uuid_t	tenant;			/* the tenant, or the session */
} QuotaKey;

/* One microtoken: the token bucket counts in millionths of a request. */
#define QUOTA_TOKEN		INT64CONST(1000000)

/*
 * The fields the rate check touches come first, so that a check reads the
 * entry's first two cache lines only (this matters with 100,000 entries,
 * when most lookups miss the CPU caches).
 */
typedef struct QuotaEntry
{
	QuotaKey	key;			/* hash key: must be first */
	slock_t		mutex;			/* protects everything below */
	bool		limits_valid;	/* limits below are loaded... */
	uint64		limits_generation;	/* ... as of this generation */

	/* token bucket, in microtokens; refilled at rate per second */
	int64		tokens;
	TimestampTz last_refill;	/* 0: bucket not started (full) */
	int64		rate;			/* = limits.requests_per_second */
	int64		burst;			/* = limits.request_burst */
	TimestampTz last_used;

	/* usage counters: [c][0] since server start, [c][1] not yet flushed */
	int64		counts[QC_NUM][2];

	QuotaLimits limits;			/* cached effective limits */

	/*
	 * Storage.  base_* mirrors lowcode.tenant_storage (loaded on first use,
	 * kept equal to it by the flush); unflushed_* are committed deltas not
	 * yet written there; inflight_* are inserts of open transactions.  The
	 * tenant's usage is base + unflushed (+ inflight when checking a quota).
	 */
	bool		storage_loaded;
	int64		base_rows;
	int64		base_bytes;
	int64		unflushed_rows;
	int64		unflushed_bytes;
	int64		inflight_rows;
	int64		inflight_bytes;
} QuotaEntry;

#define E_TOTAL(e, c)		((e)->counts[(c)][0])
#define E_UNFLUSHED(e, c)	((e)->counts[(c)][1])

/* Store loaded limits in an entry; called with its spinlock held. */
static inline void
quota_entry_set_limits(QuotaEntry *e, const QuotaLimits *limits, uint64 generation)
{
	e->limits = *limits;
	e->rate = limits->requests_per_second;
	e->burst = limits->request_burst;
	e->limits_valid = true;
	e->limits_generation = generation;
}

typedef struct QuotaShared
{
	LWLockPadded *locks;		/* QUOTA_PARTITIONS partition locks */
	pg_atomic_uint64 limits_generation; /* bumped when limits change */
	pg_atomic_uint64 overflows; /* entries that could not be created */
	pg_atomic_uint64 evictions;
} QuotaShared;

extern QuotaShared *quota_shared;
extern int	quota_max_tenants;
extern bool quota_rate_limiting;
extern bool quota_apply_settings;	/* lowcode.apply_tier_settings */
extern bool quota_enabled;			/* lowcode.quotas_enabled */
extern int	quota_session_rate;		/* lowcode.session_requests_per_second */
extern int	quota_session_burst;	/* lowcode.session_request_burst */

/* quota_shmem.c */
extern void quota_shmem_init(void);
extern QuotaEntry *quota_entry_lookup(const pg_uuid_t *tenant, bool create, LWLock **lock);
extern QuotaEntry *quota_entry_lookup_kind(uint32 kind, const pg_uuid_t *id, bool create, LWLock **lock);
extern void quota_lock_all(LWLockMode mode);
extern void quota_unlock_all(void);
typedef struct QuotaIter
{
	uint64		next;
} QuotaIter;
extern void quota_iter_init(QuotaIter *it);
extern QuotaEntry *quota_iter_next(QuotaIter *it);
extern int64 quota_capacity(void);
extern void quota_count_now(const pg_uuid_t *tenant, QuotaCounter c);
extern void quota_xact_init(void);
extern void quota_guard_init(void);
extern void quota_guard_arm(int64 timeout_ms, int64 work_mem_kb);
extern void quota_note_limits_changed(void);
extern void quota_note_storage_reset(void);
extern void quota_note_flushed(const pg_uuid_t *tenant, const int64 *counters,
							   int64 rows, int64 bytes);
extern bool quota_pending_deleted(const pg_uuid_t *tenant, int64 *rows, int64 *bytes);

/* quota_rate.c */
extern bool quota_rate_check_for_bench(const pg_uuid_t *tenant, int64 *wait_us);

/* quota_limits.c */
extern bool quota_load_limits(const pg_uuid_t *tenant, QuotaLimits *limits);
extern bool quota_entry_limits(const pg_uuid_t *tenant, QuotaLimits *limits);
extern void quota_load_storage(const pg_uuid_t *tenant);

#endif							/* QUOTA_INT_H */
