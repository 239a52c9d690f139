/*-------------------------------------------------------------------------
 *
 * quota_shmem.c
 *	  The quota component's shared memory: per-tenant entries (token
 *	  buckets, usage counters, storage figures), and the per-transaction
 *	  bookkeeping that makes work counters count at commit only.
 *
 * Entries are created on first use.  When the table is full, entries with
 * nothing left to flush are evicted, least recently used first; their
 * limits and storage figures are reloaded from the tables when the tenant
 * comes back, their bucket starts full again.  When no entry can be evicted
 * (every one holds unflushed counters: no worker is flushing), requests are
 * admitted without a rate check and counted in "overflows" (see
 * docs/quotas.md): never an error for the user.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "common/hashfn.h"
#include "utils/memutils.h"

#include "pg_lowcode.h"
#include "quota/quota.h"
#include "quota/quota_int.h"
#include "tenancy/tenancy.h"

const char *const quota_counter_names[QC_NUM] = {
	"requests", "rejected_rate", "rejected_rows", "rejected_storage",
	"rejected_sessions", "validations", "validation_failures",
	"rule_evaluations", "rows_inserted", "rows_deleted", "bytes_written"
};

QuotaShared *quota_shared = NULL;

/*
 * The table: nbuckets buckets of QUOTA_BUCKET_SLOTS entries each, with
 * 2 * quota_max_tenants entries in all.  A tenant's key hashes to one
 * bucket; the bucket's tags (one cache line: 32 bits of the hash, 0 for an
 * empty slot) say which of its slots may hold the key.  A lookup therefore
 * reads one tag line and the entry itself: at 100,000 tenants, when most
 * lookups miss the CPU caches, that is about half the memory accesses of a
 * chained hash table.  The partition lock of a bucket is
 * bucket % QUOTA_PARTITIONS.
 */
typedef struct QuotaBucket
{
	uint32		tags[QUOTA_BUCKET_SLOTS];
} QuotaBucket;

static QuotaBucket *quota_buckets = NULL;
static QuotaEntry *quota_slots = NULL;
static uint64 quota_nbuckets = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static uint64
nbuckets_for(int max_tenants)
{
	/* twice the slots needed: a bucket rarely fills up before the table */
	return (2 * (uint64) max_tenants + QUOTA_BUCKET_SLOTS - 1) / QUOTA_BUCKET_SLOTS;
}

static Size
quota_shmem_size(void)
{
	uint64		nb = nbuckets_for(quota_max_tenants);
	Size		size = MAXALIGN(sizeof(QuotaShared));

	size = add_size(size, PG_CACHE_LINE_SIZE);
	size = add_size(size, mul_size(nb, sizeof(QuotaBucket)));
	size = add_size(size, mul_size(mul_size(nb, QUOTA_BUCKET_SLOTS), sizeof(QuotaEntry)));
	return size;
}

static void
quota_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(quota_shmem_size());
	RequestNamedLWLockTranche("pg_lowcode_quota", QUOTA_PARTITIONS);
}

static void
quota_shmem_startup(void)
{
	bool		found;
	char	   *base;
	char	   *p;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	quota_nbuckets = nbuckets_for(quota_max_tenants);
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	base = ShmemInitStruct("pg_lowcode quota", quota_shmem_size(), &found);
	quota_shared = (QuotaShared *) base;
	p = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, base + MAXALIGN(sizeof(QuotaShared)));
	quota_buckets = (QuotaBucket *) p;
	quota_slots = (QuotaEntry *) (p + quota_nbuckets * sizeof(QuotaBucket));
	if (!found)
	{
		quota_shared->locks = GetNamedLWLockTranche("pg_lowcode_quota");
		pg_atomic_init_u64(&quota_shared->limits_generation, 1);
		pg_atomic_init_u64(&quota_shared->overflows, 0);
		pg_atomic_init_u64(&quota_shared->evictions, 0);
		memset(quota_buckets, 0, quota_nbuckets * sizeof(QuotaBucket));
	}
	LWLockRelease(AddinShmemInitLock);
}

void
quota_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = quota_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = quota_shmem_startup;
}

void
quota_lock_all(LWLockMode mode)
{
	for (int i = 0; i < QUOTA_PARTITIONS; i++)
		LWLockAcquire(&quota_shared->locks[i].lock, mode);
}

void
quota_unlock_all(void)
{
	for (int i = QUOTA_PARTITIONS - 1; i >= 0; i--)
		LWLockRelease(&quota_shared->locks[i].lock);
}

/* Entries in use, in slot order; the caller holds every partition lock. */
void
quota_iter_init(QuotaIter *it)
{
	it->next = 0;
}

QuotaEntry *
quota_iter_next(QuotaIter *it)
{
	uint64		nslots = quota_nbuckets * QUOTA_BUCKET_SLOTS;

	while (it->next < nslots)
	{
		uint64		i = it->next++;

		if (quota_buckets[i / QUOTA_BUCKET_SLOTS].tags[i % QUOTA_BUCKET_SLOTS] != 0)
			return &quota_slots[i];
	}
	return NULL;
}

/* Capacity (slots) of the table. */
int64
quota_capacity(void)
{
	return (int64) (quota_nbuckets * QUOTA_BUCKET_SLOTS);
}

/* True when an entry holds nothing that would be lost by evicting it. */
static bool
entry_evictable(QuotaEntry *e)
{
	if (e->inflight_rows != 0 || e->inflight_bytes != 0 ||
		e->unflushed_rows != 0 || e->unflushed_bytes != 0)
		return false;
	for (int i = 0; i < QC_NUM; i++)
		if (E_UNFLUSHED(e, i) != 0)
			return false;
	return true;
}

static inline QuotaEntry *
bucket_find(uint64 b, uint32 tag, const QuotaKey *key)
{
	QuotaBucket *bucket = &quota_buckets[b];

	for (int i = 0; i < QUOTA_BUCKET_SLOTS; i++)
		if (bucket->tags[i] == tag)
		{
			QuotaEntry *e = &quota_slots[b * QUOTA_BUCKET_SLOTS + i];

			if (memcmp(&e->key, key, sizeof(QuotaKey)) == 0)
				return e;
		}
	return NULL;
}

/*
 * Find the entry of "tenant" in this database.  On success the entry's
 * partition lock is held (*lock; shared, or exclusive when the entry was
 * just created) and the caller releases it after its spinlock section.
 * NULL (no lock held) when there is none and create is false, or when the
 * tenant's bucket is full of entries that cannot be evicted (they all hold
 * unflushed counters).  A full bucket evicts its least recently used
 * evictable entry.
 */
QuotaEntry *
quota_entry_lookup(const pg_uuid_t *tenant, bool create, LWLock **lock)
{
	return quota_entry_lookup_kind(QUOTA_KIND_TENANT, tenant, create, lock);
}

QuotaEntry *
quota_entry_lookup_kind(uint32 kind, const pg_uuid_t *tenant, bool create, LWLock **lock)
{
	QuotaKey	key;
	uint64		h;
	uint64		b;
	uint32		tag;
	LWLock	   *plock;
	QuotaEntry *e;
	QuotaBucket *bucket;
	int			slot = -1;
	TimestampTz oldest = 0;
	bool		evicting = false;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.kind = kind;
	memcpy(&key.tenant, tenant, sizeof(pg_uuid_t));
	h = hash_bytes_extended((const unsigned char *) &key, sizeof(key), 0);
	b = h % quota_nbuckets;
	tag = (uint32) (h >> 32) | 1;
	plock = &quota_shared->locks[b % QUOTA_PARTITIONS].lock;

	LWLockAcquire(plock, LW_SHARED);
	e = bucket_find(b, tag, &key);
	if (e || !create)
	{
		if (e)
			*lock = plock;
		else
			LWLockRelease(plock);
		return e;
	}
	LWLockRelease(plock);

	LWLockAcquire(plock, LW_EXCLUSIVE);
	e = bucket_find(b, tag, &key);
	if (e)
	{
		*lock = plock;
		return e;
	}
	bucket = &quota_buckets[b];
	for (int i = 0; i < QUOTA_BUCKET_SLOTS; i++)
		if (bucket->tags[i] == 0)
		{
			slot = i;
			break;
		}
	if (slot < 0)
	{
		for (int i = 0; i < QUOTA_BUCKET_SLOTS; i++)
		{
			QuotaEntry *c = &quota_slots[b * QUOTA_BUCKET_SLOTS + i];
			bool		ok;
			TimestampTz used;

			SpinLockAcquire(&c->mutex);
			ok = entry_evictable(c);
			used = c->last_used;
			SpinLockRelease(&c->mutex);
			if (ok && (slot < 0 || used < oldest))
			{
				slot = i;
				oldest = used;
			}
		}
		evicting = true;
	}
	if (slot < 0)
	{
		LWLockRelease(plock);
		pg_atomic_fetch_add_u64(&quota_shared->overflows, 1);
		return NULL;
	}
	if (evicting)
		pg_atomic_fetch_add_u64(&quota_shared->evictions, 1);

	/* nobody else can hold its spinlock: that needs the partition lock */
	e = &quota_slots[b * QUOTA_BUCKET_SLOTS + slot];
	memset(e, 0, sizeof(QuotaEntry));
	e->key = key;
	SpinLockInit(&e->mutex);
	e->last_used = GetCurrentTimestamp();
	bucket->tags[slot] = tag;
	*lock = plock;
	return e;
}

/* Count one event of "tenant" at once (not transactional). */
void
quota_count_now(const pg_uuid_t *tenant, QuotaCounter c)
{
	LWLock	   *lock;
	QuotaEntry *e;

	if (!quota_shared)
		return;
	e = quota_entry_lookup(tenant, true, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	E_TOTAL(e, c)++;
	E_UNFLUSHED(e, c)++;
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
}

/* ---------------------------------------------------------------------
 * Per-transaction bookkeeping
 * ---------------------------------------------------------------------
 */

/* Work counted by the current transaction for one tenant at one nesting level. */
typedef struct PendingCount
{
	pg_uuid_t	tenant;
	int			level;			/* transaction nesting level that counted it */
	int64		counters[QC_NUM];
	int64		rows_inserted;
	int64		rows_deleted;
	int64		bytes_added;
	int64		bytes_removed;
	int64		reserved_rows;	/* reserved as inflight in shared memory */
	int64		reserved_bytes;
} PendingCount;

/* Counters taken out of shared memory by a flush, put back if it aborts. */
typedef struct FlushedCount
{
	pg_uuid_t	tenant;
	int			level;			/* transaction nesting level of the flush */
	int64		counters[QC_NUM];
	int64		rows;
	int64		bytes;
} FlushedCount;

static PendingCount *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;
static bool pending_applied = false;	/* added to shared memory at pre-commit */

static FlushedCount *flushed = NULL;
static int	nflushed = 0;
static int	maxflushed = 0;

static bool limits_changed = false;
static bool storage_reset = false;

static PendingCount *
pending_for(const pg_uuid_t *tenant)
{
	int			level = GetCurrentTransactionNestLevel();

	for (int i = npending - 1; i >= 0; i--)
		if (pending[i].level == level &&
			memcmp(&pending[i].tenant, tenant, sizeof(pg_uuid_t)) == 0)
			return &pending[i];
	if (npending == maxpending)
	{
		maxpending = maxpending ? maxpending * 2 : 8;
		if (pending)
			pending = repalloc(pending, sizeof(PendingCount) * maxpending);
		else
			pending = MemoryContextAlloc(TopMemoryContext, sizeof(PendingCount) * maxpending);
	}
	memset(&pending[npending], 0, sizeof(PendingCount));
	memcpy(&pending[npending].tenant, tenant, sizeof(pg_uuid_t));
	pending[npending].level = level;
	return &pending[npending++];
}

/* Add (sign = 1) or take back (sign = -1) the inflight reservation of p. */
static void
adjust_inflight(const PendingCount *p, int sign)
{
	LWLock	   *lock;
	QuotaEntry *e;

	if (p->reserved_rows == 0 && p->reserved_bytes == 0)
		return;
	e = quota_entry_lookup(&p->tenant, false, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	e->inflight_rows += sign * p->reserved_rows;
	e->inflight_bytes += sign * p->reserved_bytes;
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
}

/* Make p's counts final (sign = 1), or undo that (sign = -1). */
static void
apply_pending(const PendingCount *p, int sign)
{
	LWLock	   *lock;
	QuotaEntry *e;
	int64		drows = p->rows_inserted - p->rows_deleted;
	int64		dbytes = p->bytes_added - p->bytes_removed;

	e = quota_entry_lookup(&p->tenant, sign > 0, &lock);
	if (!e)
		return;
	SpinLockAcquire(&e->mutex);
	for (int i = 0; i < QC_NUM; i++)
	{
		E_TOTAL(e, i) += sign * p->counters[i];
		E_UNFLUSHED(e, i) += sign * p->counters[i];
	}
	e->unflushed_rows += sign * drows;
	e->unflushed_bytes += sign * dbytes;
	if (sign > 0)
	{
		/*
		 * The reservation becomes final usage.  (Undoing a pre-commit
		 * application after all does not reserve again: the transaction is
		 * over.)
		 */
		e->inflight_rows -= p->reserved_rows;
		e->inflight_bytes -= p->reserved_bytes;
	}
	e->last_used = GetCurrentTimestamp();
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
}

/* Put back what flushes at nesting level >= min_level took out. */
static void
restore_flushed(int min_level)
{
	int			j = 0;

	for (int i = 0; i < nflushed; i++)
	{
		FlushedCount *f = &flushed[i];

		if (f->level < min_level)
		{
			flushed[j++] = *f;
			continue;
		}
		LWLock	   *lock;
		QuotaEntry *e = quota_entry_lookup(&f->tenant, true, &lock);

		if (!e)
			continue;
		SpinLockAcquire(&e->mutex);
		for (int c = 0; c < QC_NUM; c++)
			E_UNFLUSHED(e, c) += f->counters[c];
		e->unflushed_rows += f->rows;
		e->unflushed_bytes += f->bytes;
		e->base_rows -= f->rows;
		e->base_bytes -= f->bytes;
		SpinLockRelease(&e->mutex);
		LWLockRelease(lock);
	}
	nflushed = j;
}

/* At commit of a reconciliation: reload storage figures from the table. */
static void
reset_storage(void)
{
	QuotaIter	it;
	QuotaEntry *e;

	quota_lock_all(LW_SHARED);
	quota_iter_init(&it);
	while ((e = quota_iter_next(&it)) != NULL)
	{
		if (e->key.dbid != MyDatabaseId || e->key.kind != QUOTA_KIND_TENANT)
			continue;
		SpinLockAcquire(&e->mutex);
		e->storage_loaded = false;
		e->unflushed_rows = 0;
		e->unflushed_bytes = 0;
		e->base_rows = 0;
		e->base_bytes = 0;
		SpinLockRelease(&e->mutex);
	}
	quota_unlock_all();
}

static void
reset_xact_state(void)
{
	npending = 0;
	pending_applied = false;
	nflushed = 0;
	limits_changed = false;
	storage_reset = false;
}

static void
quota_xact_callback(XactEvent event, void *arg)
{
	if (!quota_shared)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:

			/*
			 * Counted before the commit becomes visible, so that a storage
			 * reconciliation whose snapshot sees this commit also sees its
			 * counts; undone below if the commit fails after all.
			 */
			for (int i = 0; i < npending; i++)
				apply_pending(&pending[i], 1);
			pending_applied = true;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			if (limits_changed)
				pg_atomic_fetch_add_u64(&quota_shared->limits_generation, 1);
			if (storage_reset)
				reset_storage();
			reset_xact_state();
			break;
		case XACT_EVENT_ABORT:
			for (int i = 0; i < npending; i++)
			{
				if (pending_applied)
					apply_pending(&pending[i], -1);
				else
					adjust_inflight(&pending[i], -1);
			}
			restore_flushed(0);
			reset_xact_state();
			break;
		default:
			break;
	}
}

static void
quota_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level;
	int			j;

	if (!quota_shared || (npending == 0 && nflushed == 0))
		return;
	level = GetCurrentTransactionNestLevel();
	/* a flush in a rolled-back subtransaction wrote nothing: put it back */
	if (event == SUBXACT_EVENT_ABORT_SUB)
		restore_flushed(level);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (int i = 0; i < nflushed; i++)
			if (flushed[i].level >= level)
				flushed[i].level = level - 1;
	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			j = 0;
			for (int i = 0; i < npending; i++)
			{
				if (pending[i].level >= level)
					adjust_inflight(&pending[i], -1);
				else
					pending[j++] = pending[i];
			}
			npending = j;
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			/* hand the subtransaction's counts over to its parent */
			for (int i = 0; i < npending; i++)
			{
				PendingCount *p = &pending[i];

				if (p->level < level)
					continue;
				p->level = level - 1;
				/* merge into an earlier record of the parent, if any */
				for (int k = 0; k < i; k++)
				{
					PendingCount *q = &pending[k];

					if (q->level == level - 1 &&
						memcmp(&q->tenant, &p->tenant, sizeof(pg_uuid_t)) == 0)
					{
						for (int c = 0; c < QC_NUM; c++)
							q->counters[c] += p->counters[c];
						q->rows_inserted += p->rows_inserted;
						q->rows_deleted += p->rows_deleted;
						q->bytes_added += p->bytes_added;
						q->bytes_removed += p->bytes_removed;
						q->reserved_rows += p->reserved_rows;
						q->reserved_bytes += p->reserved_bytes;
						p->level = -1;	/* merged: dropped below */
						break;
					}
				}
			}
			j = 0;
			for (int i = 0; i < npending; i++)
				if (pending[i].level >= 0)
					pending[j++] = pending[i];
			npending = j;
			break;
		default:
			break;
	}
}

void
quota_xact_init(void)
{
	RegisterXactCallback(quota_xact_callback, NULL);
	RegisterSubXactCallback(quota_subxact_callback, NULL);
}

void
quota_note_limits_changed(void)
{
	limits_changed = true;
}

void
quota_note_storage_reset(void)
{
	storage_reset = true;
}

/* Remember what a flush took out of shared memory, to restore it at abort. */
void
quota_note_flushed(const pg_uuid_t *tenant, const int64 *counters, int64 rows, int64 bytes)
{
	if (nflushed == maxflushed)
	{
		maxflushed = maxflushed ? maxflushed * 2 : 64;
		if (flushed)
			flushed = repalloc(flushed, sizeof(FlushedCount) * maxflushed);
		else
			flushed = MemoryContextAlloc(TopMemoryContext, sizeof(FlushedCount) * maxflushed);
	}
	memcpy(&flushed[nflushed].tenant, tenant, sizeof(pg_uuid_t));
	memcpy(flushed[nflushed].counters, counters, sizeof(int64) * QC_NUM);
	flushed[nflushed].rows = rows;
	flushed[nflushed].level = GetCurrentTransactionNestLevel();
	flushed[nflushed].bytes = bytes;
	nflushed++;
}

/* Rows and bytes this transaction deleted for tenant, not yet committed. */
bool
quota_pending_deleted(const pg_uuid_t *tenant, int64 *rows, int64 *bytes)
{
	*rows = 0;
	*bytes = 0;
	for (int i = 0; i < npending; i++)
		if (memcmp(&pending[i].tenant, tenant, sizeof(pg_uuid_t)) == 0)
		{
			*rows += pending[i].rows_deleted;
			*bytes += pending[i].bytes_removed;
		}
	return *rows != 0 || *bytes != 0;
}

/* ---------------------------------------------------------------------
 * Counting API (quota.h)
 * ---------------------------------------------------------------------
 */
void
quota_count_rows(const pg_uuid_t *tenant, int64 rows_inserted, int64 rows_deleted,
				 int64 bytes_added, int64 bytes_removed)
{
	PendingCount *p;

	if (!quota_shared)
		return;
	p = pending_for(tenant);
	p->rows_inserted += rows_inserted;
	p->rows_deleted += rows_deleted;
	p->bytes_added += bytes_added;
	p->bytes_removed += bytes_removed;
	p->counters[QC_ROWS_INSERTED] += rows_inserted;
	p->counters[QC_ROWS_DELETED] += rows_deleted;
	p->counters[QC_BYTES_WRITTEN] += bytes_added;

	/* reserve the inserts at once, so that concurrent checks see them */
	if (rows_inserted || bytes_added)
	{
		LWLock	   *lock;
		QuotaEntry *e = quota_entry_lookup(tenant, true, &lock);

		if (e)
		{
			SpinLockAcquire(&e->mutex);
			e->inflight_rows += rows_inserted;
			e->inflight_bytes += bytes_added;
			SpinLockRelease(&e->mutex);
			LWLockRelease(lock);
			p->reserved_rows += rows_inserted;
			p->reserved_bytes += bytes_added;
		}
	}
}

static void
count_current(QuotaCounter c, int64 n)
{
	pg_uuid_t	tenant;

	if (!quota_shared || !IsTransactionState())
		return;
	if (!tenancy_current_tenant(&tenant))
		return;
	pending_for(&tenant)->counters[c] += n;
}

void
quota_count_validation(bool ok)
{
	count_current(QC_VALIDATIONS, 1);
	if (!ok)
		count_current(QC_VALIDATION_FAILURES, 1);
}

void
quota_count_rule_evaluation(void)
{
	count_current(QC_RULE_EVALUATIONS, 1);
}
