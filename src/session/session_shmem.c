/*-------------------------------------------------------------------------
 *
 * session_shmem.c
 *	  The shared hash of session last-seen times.
 *
 * Every request of a session touches its entry: pre_request() must not
 * write a table (GET requests run READ ONLY), so the time goes here and the
 * database worker flushes it.  The hash is cluster-wide: the key is
 * (database, session id).
 *
 * Locking follows pg_stat_statements: a lookup of an existing entry takes
 * the LWLock shared and updates the entry under its spinlock; only a new
 * entry takes the lock exclusively.  An entry stays after it was flushed
 * (flushed_seen == last_seen, "clean") so an active session keeps taking the
 * shared path.
 *
 * When the hash is full a new session evicts a clean entry (nothing is lost:
 * its time is in the table).  When no clean entry is found within a short
 * scan, the touch is dropped and counted (lowcode.session_memory_stats()):
 * the request still succeeds; the worker's next flush makes entries clean
 * again.  A dropped touch only means the session's last_seen_at lags, so it
 * can expire up to one idle timeout early if all of its touches are dropped.
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "pg_lowcode.h"
#include "session/session.h"

typedef struct SessionKey
{
	Oid			dbid;
	pg_uuid_t	id;
} SessionKey;

typedef struct SessionEntry
{
	SessionKey	key;			/* hash key: must be first */
	pg_uuid_t	tenant;
	slock_t		mutex;			/* protects the two times */
	TimestampTz last_seen;
	TimestampTz flushed_seen;	/* last_seen as of the last flush */
} SessionEntry;

typedef struct SessionShared
{
	LWLock	   *lock;
	pg_atomic_uint64 dropped;
	pg_atomic_uint64 evictions;
} SessionShared;

/* How many entries a full table scans for a clean one to evict. */
#define EVICTION_SCAN_LIMIT 256

static SessionShared *shared = NULL;
static HTAB *session_hash = NULL;

static Size
session_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(SessionShared)),
					hash_estimate_size(session_max_tracked, sizeof(SessionEntry)));
}

void
session_shmem_request(void)
{
	RequestAddinShmemSpace(session_shmem_size());
	RequestNamedLWLockTranche("pg_lowcode sessions", 1);
}

void
session_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	shared = NULL;
	session_hash = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pg_lowcode sessions", sizeof(SessionShared), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("pg_lowcode sessions"))->lock;
		pg_atomic_init_u64(&shared->dropped, 0);
		pg_atomic_init_u64(&shared->evictions, 0);
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(SessionKey);
	info.entrysize = sizeof(SessionEntry);
	session_hash = ShmemInitHash("pg_lowcode session last-seen",
								 session_max_tracked, session_max_tracked,
								 &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

bool
session_shmem_ready(void)
{
	return shared != NULL && session_hash != NULL;
}

static inline void
make_key(SessionKey *key, Oid dbid, const pg_uuid_t *id)
{
	memset(key, 0, sizeof(*key));
	key->dbid = dbid;
	memcpy(&key->id, id, sizeof(pg_uuid_t));
}

/* Under the exclusive lock: remove one clean entry, if one is found soon. */
static bool
evict_one_clean(void)
{
	HASH_SEQ_STATUS status;
	SessionEntry *e;
	int			scanned = 0;
	SessionKey	victim;
	bool		found = false;

	hash_seq_init(&status, session_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		/* No spinlock needed: writers of the times hold the lock shared. */
		if (e->last_seen == e->flushed_seen)
		{
			victim = e->key;
			found = true;
			hash_seq_term(&status);
			break;
		}
		if (++scanned >= EVICTION_SCAN_LIMIT)
		{
			hash_seq_term(&status);
			break;
		}
	}
	if (found)
	{
		hash_search(session_hash, &victim, HASH_REMOVE, NULL);
		pg_atomic_fetch_add_u64(&shared->evictions, 1);
	}
	return found;
}

void
session_shmem_touch(const pg_uuid_t *tenant, const pg_uuid_t *id, TimestampTz now)
{
	SessionKey	key;
	SessionEntry *e;
	bool		found;

	if (!session_shmem_ready())
		return;
	make_key(&key, MyDatabaseId, id);

	LWLockAcquire(shared->lock, LW_SHARED);
	e = hash_search(session_hash, &key, HASH_FIND, NULL);
	if (e)
	{
		SpinLockAcquire(&e->mutex);
		if (now > e->last_seen)
			e->last_seen = now;
		SpinLockRelease(&e->mutex);
		LWLockRelease(shared->lock);
		return;
	}
	LWLockRelease(shared->lock);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(session_hash) >= session_max_tracked &&
		hash_search(session_hash, &key, HASH_FIND, NULL) == NULL &&
		!evict_one_clean())
	{
		LWLockRelease(shared->lock);
		pg_atomic_fetch_add_u64(&shared->dropped, 1);
		return;
	}
	e = hash_search(session_hash, &key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		LWLockRelease(shared->lock);
		pg_atomic_fetch_add_u64(&shared->dropped, 1);
		return;
	}
	if (!found)
	{
		memcpy(&e->tenant, tenant, sizeof(pg_uuid_t));
		SpinLockInit(&e->mutex);
		e->last_seen = now;
		e->flushed_seen = 0;
	}
	else if (now > e->last_seen)
		e->last_seen = now;		/* exclusive lock: no spinlock needed */
	LWLockRelease(shared->lock);
}

TimestampTz
session_shmem_last_seen(Oid dbid, const pg_uuid_t *id)
{
	SessionKey	key;
	SessionEntry *e;
	TimestampTz result = 0;

	if (!session_shmem_ready())
		return 0;
	make_key(&key, dbid, id);
	LWLockAcquire(shared->lock, LW_SHARED);
	e = hash_search(session_hash, &key, HASH_FIND, NULL);
	if (e)
	{
		SpinLockAcquire(&e->mutex);
		result = e->last_seen;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(shared->lock);
	return result;
}

int
session_shmem_collect_dirty(Oid dbid, SessionTouch *out, int max)
{
	HASH_SEQ_STATUS status;
	SessionEntry *e;
	int			n = 0;

	if (!session_shmem_ready() || max <= 0)
		return 0;
	LWLockAcquire(shared->lock, LW_SHARED);
	hash_seq_init(&status, session_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		TimestampTz seen,
					flushed;

		if (e->key.dbid != dbid)
			continue;
		SpinLockAcquire(&e->mutex);
		seen = e->last_seen;
		flushed = e->flushed_seen;
		SpinLockRelease(&e->mutex);
		if (seen == flushed)
			continue;
		memcpy(&out[n].tenant, &e->tenant, sizeof(pg_uuid_t));
		memcpy(&out[n].id, &e->key.id, sizeof(pg_uuid_t));
		out[n].last_seen = seen;
		if (++n >= max)
		{
			hash_seq_term(&status);
			break;
		}
	}
	LWLockRelease(shared->lock);
	return n;
}

void
session_shmem_mark_flushed(Oid dbid, const SessionTouch *touches, int n)
{
	int			i;

	if (!session_shmem_ready())
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (i = 0; i < n; i++)
	{
		SessionKey	key;
		SessionEntry *e;

		make_key(&key, dbid, &touches[i].id);
		e = hash_search(session_hash, &key, HASH_FIND, NULL);
		if (e == NULL)
			continue;
		SpinLockAcquire(&e->mutex);
		if (touches[i].last_seen > e->flushed_seen)
			e->flushed_seen = touches[i].last_seen;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(shared->lock);
}

void
session_shmem_forget(Oid dbid, const pg_uuid_t *id)
{
	SessionKey	key;

	if (!session_shmem_ready())
		return;
	make_key(&key, dbid, id);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_search(session_hash, &key, HASH_REMOVE, NULL);
	LWLockRelease(shared->lock);
}

void
session_shmem_forget_database(Oid dbid)
{
	HASH_SEQ_STATUS status;
	SessionEntry *e;

	if (!session_shmem_ready())
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&status, session_hash);
	/* Removing the entry just returned is allowed during a seq scan. */
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (e->key.dbid == dbid)
			hash_search(session_hash, &e->key, HASH_REMOVE, NULL);
	}
	LWLockRelease(shared->lock);
}

void
session_shmem_stats(int64 *capacity, int64 *entries, int64 *dropped, int64 *evictions)
{
	*capacity = session_max_tracked;
	*entries = 0;
	*dropped = 0;
	*evictions = 0;
	if (!session_shmem_ready())
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	*entries = hash_get_num_entries(session_hash);
	LWLockRelease(shared->lock);
	*dropped = (int64) pg_atomic_read_u64(&shared->dropped);
	*evictions = (int64) pg_atomic_read_u64(&shared->evictions);
}
