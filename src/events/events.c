/*-------------------------------------------------------------------------
 *
 * events.c
 *	  Event notifications without a NOTIFY per transaction, on per-tenant
 *	  channels, and identifiers that reveal nothing about other tenants.
 *
 * Why: a transaction that has called NOTIFY takes PostgreSQL's database-wide
 * notify lock at commit (PreCommit_Notify) and keeps it until its commit
 * record is flushed, so one NOTIFY per submission made every submitting
 * transaction wait for every other one's WAL flush (issue 21: 173
 * submissions/s at 64 clients).  And every listener of the one channel
 * lowcode_events saw every tenant's ids and activity (issue 13.7).
 *
 * How: lowcode.event_queue(tenant, id, type) -- called by emit_event and
 * the submissions trigger after they wrote the outbox row -- keeps the
 * notification in backend memory for the transaction (dropped with the
 * subtransaction or transaction that made it).  At pre-commit the
 * transaction reserves room in its database worker's queue in shared
 * memory; after the commit (XACT_EVENT_COMMIT: the rows are durable and
 * visible) it copies the notifications there and sets the worker's latch.
 * The worker (src/worker/db_worker.c) wakes and sends them in one
 * transaction per batch of up to EV_DELIVER_BATCH: one notify lock and one
 * WAL flush for the batch instead of one per submission.  A submission, its
 * audit row and its outbox row still commit together or not at all; the
 * notification follows the commit by one worker wake-up (measured by
 * bench/submit_scaling.sh).  When there is no worker for the database (not
 * preloaded, worker not running) or its queue is full, the transaction
 * sends its notifications itself with NOTIFY, as before: slower, never
 * lost.  What a crash between a commit and the delivery loses is the
 * wake-up, never the event: the outbox row is durable, and listeners read
 * the outbox from their last id after a reconnect (docs/tenancy.md).
 *
 * Channels: tenant T's notifications go to the channel
 * "lowcode_events_" + the first 32 hex digits of SHA-256(secret || T), and
 * every notification also to the operators' channel (SHA-256(secret ||
 * "all")).  PostgreSQL has no privileges on LISTEN, so a channel name is
 * the capability: lowcode.event_channel() gives a tenant its own, the
 * operator functions any.  The secret is 32 random bytes made at install
 * (lowcode.event_secret, readable by no API role), dumped with the
 * database.  The payload names only the tenant's own event:
 * {"tenant_id","id","type"}.
 *
 * Identifiers: lowcode.new_id() gives the ids of events, audit rows and
 * submissions, time-ordered, exact in JavaScript, and saying nothing about
 * other tenants' volume: see events_id.c.
 *
 * src/events/ is the events component: the event outbox's notifications on
 * per-tenant channels, and identifiers that reveal nothing about other
 * tenants' volume.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "lc/lc_hash.h"
#include "lc/lc_http.h"
#include "lc/lc_inval.h"
#include "pg_lowcode.h"
#include "events/events.h"
#include "tenancy/tenancy.h"
#include "worker/worker.h"

#define EV_TYPE_MAX 63			/* longer types are sent directly (NOTIFY) */
#define EV_RING_SIZE 8192		/* notifications queued per database worker */
#define EV_DELIVER_BATCH 1024	/* notifications per delivering transaction */
#define EV_SECRET_LEN 32
#define EV_CHANNEL_PREFIX "lowcode_events_"

typedef struct EventNote
{
	pg_uuid_t	tenant;
	int64		id;
	char		type[EV_TYPE_MAX + 1];
} EventNote;

/* The queue of one database worker slot (same index as WorkerShared.slots). */
typedef struct EventRing
{
	LWLock	   *lock;
	Oid			dboid;			/* database whose notifications it holds */
	Latch	   *latch;			/* the attached worker's, NULL when none */
	uint64		head;			/* next position written (monotonic) */
	uint64		tail;			/* next position delivered (monotonic) */
	uint32		reserved;		/* promised to transactions between pre-commit and commit */
	uint64		delivered;
	EventNote	notes[EV_RING_SIZE];
} EventRing;

typedef struct EventsShared
{
	int			nrings;
	EventRing	rings[FLEXIBLE_ARRAY_MEMBER];
} EventsShared;

static EventsShared *events_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This transaction's notifications. */
typedef struct PendingNote
{
	EventNote	note;
	int			level;			/* subtransaction nesting level that queued it */
} PendingNote;

static PendingNote *pending = NULL;	/* in TopTransactionContext */
static int	npending = 0;
static int	maxpending = 0;
static int	reserved_ring = -1;		/* ring reserved at pre-commit, -1: none */

static uint8 secret[EV_SECRET_LEN];
static bool secret_loaded = false;

/*
 * Whether the secret read is still the table's (issue 21, session 7): the
 * database worker re-read it at every delivery (10-14k instructions, about
 * half of a delivery of one event) because a restore may replace it.  A
 * statement trigger on lowcode.event_secret (lowcode.event_secret_changed(),
 * ENABLE ALWAYS: it fires in replica mode too) queues a relcache
 * invalidation of the table with every change, which every backend receives
 * before its next transaction; the callback below marks the secret stale.
 * A writer that bypasses the trigger (its triggers disabled) is caught by
 * reading the secret again at least every EV_SECRET_RECHECK_MS.
 */
#define EV_SECRET_RECHECK_MS 60000
static bool secret_current = false;
static Oid	secret_relid = InvalidOid;
static TimestampTz secret_read_at = 0;
static bool secret_callback_registered = false;

static void
secret_inval(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == secret_relid)
		secret_current = false;
}
static SPIPlanPtr secret_plan = NULL;

static Size
events_shmem_size(void)
{
	return add_size(offsetof(EventsShared, rings),
					mul_size(sizeof(EventRing), worker_max_database_workers));
}

static void
events_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(events_shmem_size());
	RequestNamedLWLockTranche("pg_lowcode events", worker_max_database_workers);
}

static void
events_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	events_shared = ShmemInitStruct("pg_lowcode events", events_shmem_size(), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("pg_lowcode events");

		events_shared->nrings = worker_max_database_workers;
		for (int i = 0; i < events_shared->nrings; i++)
		{
			EventRing  *r = &events_shared->rings[i];

			r->lock = &locks[i].lock;
			r->dboid = InvalidOid;
			r->latch = NULL;
			r->head = r->tail = r->delivered = 0;
			r->reserved = 0;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* ---------- secret and channels ---------- */

/*
 * Channel names, computed once per tenant and secret (issue 21, session 6):
 * the database worker hashed SHA-256(secret || tenant) and SHA-256(secret
 * || "all") for every notification it sent, a third of its CPU per event.
 * The cache belongs to the secret it was computed from: ensure_secret()
 * empties it when the secret it reads differs.  Bounded: emptied when it
 * holds EV_CHANNEL_CACHE_MAX tenants.
 */
#define EV_CHANNEL_CACHE_MAX 4096

typedef struct ChannelEntry
{
	pg_uuid_t	tenant;			/* hash key */
	char		name[NAMEDATALEN];
} ChannelEntry;

static HTAB *channel_cache = NULL;
static char all_channel[NAMEDATALEN];
static bool all_channel_ok = false;

static void
channel_cache_reset(void)
{
	if (channel_cache)
		hash_destroy(channel_cache);
	channel_cache = NULL;
	all_channel_ok = false;
}

/* Load the channel secret (lowcode.event_secret) once per backend, and for the worker's deliveries after each change (see secret_current); needs a transaction. */
static void
ensure_secret(bool reload)
{
	int			ret;
	bool		isnull;
	Datum		d;
	bytea	   *b;

	Oid			save_user;
	int			save_sec;

	/*
	 * Other callers than the worker's delivery keep what they read once per
	 * backend, as before (a session must not fail to queue its event because
	 * the secret is being replaced); the delivery reads it again only when
	 * something said it changed or the last read is older than the recheck
	 * interval.
	 */
	if (secret_loaded && !reload)
		return;
	if (secret_loaded && secret_current &&
		!TimestampDifferenceExceeds(secret_read_at, GetCurrentTransactionStartTimestamp(), EV_SECRET_RECHECK_MS))
		return;
	if (!secret_callback_registered)
	{
		lc_register_relcache_callback(secret_inval, (Datum) 0);
		secret_callback_registered = true;
	}
	/* current from here: an invalidation that arrives while it is read marks it stale again */
	secret_current = true;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * As the bootstrap superuser: the caller may be an API role, which must
	 * not read the table.  The statement names one qualified table and no
	 * operator, so the caller's search_path cannot change what it runs.
	 */
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		/*
		 * A plan saved once per backend (issues 19 and 21): the database
		 * worker reads the key at every delivery, which parsed and planned
		 * this statement at every wake-up (half of the worker's CPU under
		 * load).
		 */
		if (secret_plan == NULL)
		{
			SPIPlanPtr	p = SPI_prepare("SELECT key FROM lowcode.event_secret", 0, NULL);

			if (p == NULL || SPI_keepplan(p) != 0)
				elog(ERROR, "pg_lowcode events: cannot prepare the secret's query");
			secret_plan = p;
		}
		ret = SPI_execute_plan(secret_plan, NULL, NULL, true, 2);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
	{
		secret_current = false;	/* read it again next time: the error is not the state to keep */
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lowcode.event_secret must hold exactly one key"),
				 errhint("Reinstall or upgrade pg_lowcode; the table is made at install.")));
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	b = isnull ? NULL : DatumGetByteaPP(d);
	if (b == NULL || VARSIZE_ANY_EXHDR(b) != EV_SECRET_LEN)
	{
		secret_current = false;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lowcode.event_secret holds a key that is not %d bytes", EV_SECRET_LEN)));
	}
	if (!secret_loaded || memcmp(secret, VARDATA_ANY(b), EV_SECRET_LEN) != 0)
		channel_cache_reset();	/* the names came from the old secret */
	memcpy(secret, VARDATA_ANY(b), EV_SECRET_LEN);
	secret_loaded = true;
	secret_read_at = GetCurrentTransactionStartTimestamp();
	if (!OidIsValid(secret_relid))
	{
		Oid			nsp = get_namespace_oid("lowcode", true);

		secret_relid = OidIsValid(nsp) ? get_relname_relid("event_secret", nsp) : InvalidOid;
		if (!OidIsValid(secret_relid))
			secret_current = false;
	}
	SPI_finish();
}

/* The channel of a tenant (tenant != NULL) or the operators' channel: into buf[NAMEDATALEN]. */
static void
channel_name(const pg_uuid_t *tenant, char *buf)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";
	int			len;

	Assert(secret_loaded);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, secret, EV_SECRET_LEN) < 0 ||
		(tenant ? pg_cryptohash_update(ctx, tenant->data, UUID_LEN)
		 : pg_cryptohash_update(ctx, (const uint8 *) "all", 3)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute an event channel name");
	pg_cryptohash_free(ctx);
	len = strlen(EV_CHANNEL_PREFIX);
	memcpy(buf, EV_CHANNEL_PREFIX, len);
	for (int i = 0; i < 16; i++)
	{
		buf[len++] = hex[digest[i] >> 4];
		buf[len++] = hex[digest[i] & 15];
	}
	buf[len] = '\0';
}

/* channel_name() of a tenant, or of the operators (NULL), from the cache */
static const char *
channel_name_cached(const pg_uuid_t *tenant)
{
	ChannelEntry *e;
	bool		found;

	if (tenant == NULL)
	{
		if (!all_channel_ok)
		{
			channel_name(NULL, all_channel);
			all_channel_ok = true;
		}
		return all_channel;
	}
	if (channel_cache != NULL && hash_get_num_entries(channel_cache) >= EV_CHANNEL_CACHE_MAX)
	{
		hash_destroy(channel_cache);
		channel_cache = NULL;
	}
	if (channel_cache == NULL)
		channel_cache = lc_blob_hash_create("pg_lowcode event channels", 256, sizeof(pg_uuid_t),
											sizeof(ChannelEntry), TopMemoryContext);
	e = hash_search(channel_cache, tenant, HASH_FIND, &found);
	if (!found)
	{
		char		name[NAMEDATALEN];

		channel_name(tenant, name);		/* before the entry exists: an error leaves none */
		e = hash_search(channel_cache, tenant, HASH_ENTER, &found);
		memcpy(e->name, name, NAMEDATALEN);
	}
	return e->name;
}

/* NOTIFY one notification on its tenant's channel and the operators' one. */
static void
notify_now(const pg_uuid_t *tenant, int64 id, const char *type)
{
	char	   *tid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) tenant)));
	char	   *payload = psprintf("{\"tenant_id\":\"%s\",\"id\":" INT64_FORMAT ",\"type\":\"%s\"}",
								   tid, id, type);

	Async_Notify(channel_name_cached(tenant), payload);
	Async_Notify(channel_name_cached(NULL), payload);
	pfree(payload);
	pfree(tid);
}

/* ---------- the transaction's notifications ---------- */

static void
forget_pending(void)
{
	pending = NULL;
	npending = maxpending = 0;
	reserved_ring = -1;
}

/* The ring of this database's worker, attached and with room for n more: else -1. */
static int
reserve_ring(int n)
{
	if (events_shared == NULL || n > EV_RING_SIZE / 4)
		return -1;
	for (int i = 0; i < events_shared->nrings; i++)
	{
		EventRing  *r = &events_shared->rings[i];
		bool		ok = false;

		if (r->dboid != MyDatabaseId)	/* unlocked peek; checked again below */
			continue;
		LWLockAcquire(r->lock, LW_EXCLUSIVE);
		if (r->dboid == MyDatabaseId && r->latch != NULL &&
			r->head - r->tail + r->reserved + n <= EV_RING_SIZE)
		{
			r->reserved += n;
			ok = true;
		}
		LWLockRelease(r->lock);
		return ok ? i : -1;
	}
	return -1;
}

static void
events_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (npending == 0)
				break;
			reserved_ring = reserve_ring(npending);
			if (reserved_ring < 0)
			{
				/* no worker to hand them to: this transaction sends them itself */
				for (int i = 0; i < npending; i++)
					notify_now(&pending[i].note.tenant, pending[i].note.id, pending[i].note.type);
				npending = 0;
			}
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* as NOTIFY: PREPARE TRANSACTION refuses a transaction that notified */
			for (int i = 0; i < npending; i++)
				notify_now(&pending[i].note.tenant, pending[i].note.id, pending[i].note.type);
			npending = 0;
			break;
		case XACT_EVENT_COMMIT:
			if (reserved_ring >= 0 && npending > 0)
			{
				EventRing  *r = &events_shared->rings[reserved_ring];
				Latch	   *latch = NULL;

				LWLockAcquire(r->lock, LW_EXCLUSIVE);
				r->reserved -= Min(r->reserved, (uint32) npending);
				if (r->dboid == MyDatabaseId)
				{
					/*
					 * Wake the worker only when the queue was empty (issue 21,
					 * session 6): otherwise it has been woken already and has
					 * not emptied it yet -- events_deliver() takes batches
					 * until it finds the queue empty, under this lock -- so
					 * these are sent with the others.  Under load that saves
					 * each commit a signal and the worker a wake-up per commit.
					 */
					if (r->head == r->tail)
						latch = r->latch;
					for (int i = 0; i < npending; i++)
						r->notes[(r->head + i) % EV_RING_SIZE] = pending[i].note;
					r->head += npending;
				}
				LWLockRelease(r->lock);
				if (latch)
					SetLatch(latch);
			}
			forget_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (reserved_ring >= 0 && npending > 0)
			{
				EventRing  *r = &events_shared->rings[reserved_ring];

				LWLockAcquire(r->lock, LW_EXCLUSIVE);
				r->reserved -= Min(r->reserved, (uint32) npending);
				LWLockRelease(r->lock);
			}
			forget_pending();
			break;
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
			forget_pending();
			break;
		default:
			break;
	}
}

static void
events_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (npending > 0 && pending[npending - 1].level >= level)
			npending--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = npending - 1; i >= 0 && pending[i].level >= level; i--)
			pending[i].level = level - 1;
	}
}

void
events_init(void)
{
	RegisterXactCallback(events_xact_callback, NULL);
	RegisterSubXactCallback(events_subxact_callback, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	events_id_init();
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = events_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = events_shmem_startup;
}

/* ---------- the database worker's side ---------- */

void
events_worker_attach(int slotno)
{
	EventRing  *r;

	if (events_shared == NULL || slotno < 0 || slotno >= events_shared->nrings)
		return;
	r = &events_shared->rings[slotno];
	LWLockAcquire(r->lock, LW_EXCLUSIVE);
	if (r->dboid != MyDatabaseId)
	{
		/* the slot served another database: what it held is that one's, and lost */
		r->dboid = MyDatabaseId;
		r->head = r->tail = 0;
		r->reserved = 0;
	}
	r->latch = MyLatch;
	/* what is queued already woke nobody (commits wake the worker of an empty queue only) */
	if (r->head != r->tail)
		SetLatch(MyLatch);
	LWLockRelease(r->lock);
}

/* On the worker's exit: transactions send their own notifications until it is back. */
void
events_worker_detach(int slotno)
{
	EventRing  *r;

	if (events_shared == NULL || slotno < 0 || slotno >= events_shared->nrings)
		return;
	r = &events_shared->rings[slotno];
	LWLockAcquire(r->lock, LW_EXCLUSIVE);
	if (r->latch == MyLatch)
		r->latch = NULL;
	LWLockRelease(r->lock);
}

bool
events_pending(int slotno)
{
	EventRing  *r;
	bool		any;

	if (events_shared == NULL || slotno < 0 || slotno >= events_shared->nrings)
		return false;
	r = &events_shared->rings[slotno];
	LWLockAcquire(r->lock, LW_SHARED);
	any = r->head != r->tail && r->dboid == MyDatabaseId;
	LWLockRelease(r->lock);
	return any;
}

/*
 * Send what the queue holds, one transaction per batch.  Entries are only
 * dropped from the queue after their transaction committed: an error leaves
 * them for the next call.  The caller is outside any transaction.
 */
int64
events_deliver(int slotno)
{
	EventRing  *r;
	int64		total = 0;
	EventNote  *batch;

	if (events_shared == NULL || slotno < 0 || slotno >= events_shared->nrings)
		return 0;
	r = &events_shared->rings[slotno];
	batch = palloc(sizeof(EventNote) * EV_DELIVER_BATCH);
	for (;;)
	{
		uint64		t,
					h;
		int			n;

		LWLockAcquire(r->lock, LW_SHARED);
		t = r->tail;
		h = r->dboid == MyDatabaseId ? r->head : t;
		n = (int) Min(h - t, (uint64) EV_DELIVER_BATCH);
		/* [tail, head) is not written while it is queued: writers keep to free room */
		for (int i = 0; i < n; i++)
			batch[i] = r->notes[(t + i) % EV_RING_SIZE];
		LWLockRelease(r->lock);
		if (n == 0)
			break;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		ensure_secret(total == 0);	/* read again if it changed (a restore may replace it) */
		for (int i = 0; i < n; i++)
			notify_now(&batch[i].tenant, batch[i].id, batch[i].type);
		PopActiveSnapshot();
		CommitTransactionCommand();

		LWLockAcquire(r->lock, LW_EXCLUSIVE);
		r->tail = t + n;
		r->delivered += n;
		LWLockRelease(r->lock);
		total += n;
	}
	pfree(batch);
	return total;
}

/* ---------- SQL functions ---------- */

/* Queue the notification of an outbox row for the commit (the C form of lowcode.event_queue). */
void
events_queue(const pg_uuid_t *tenant, int64 id, const char *type)
{
	PendingNote *p;
	int			len = strlen(type);

	if (IsParallelWorker())
		elog(ERROR, "event_queue: cannot queue an event in a parallel worker");
	ensure_secret(false);		/* now, in a transaction: the pre-commit fallback needs it */
	if (len > EV_TYPE_MAX)
	{
		/* too long for the queue: sent by this transaction's own NOTIFY */
		notify_now(tenant, id, type);
		return;
	}
	if (npending >= maxpending)
	{
		int			newmax = Max(16, maxpending * 2);

		if (pending == NULL)
			pending = MemoryContextAlloc(TopTransactionContext, sizeof(PendingNote) * newmax);
		else
			pending = repalloc(pending, sizeof(PendingNote) * newmax);
		maxpending = newmax;
	}
	p = &pending[npending++];
	memcpy(&p->note.tenant, tenant, UUID_LEN);
	p->note.id = id;
	memcpy(p->note.type, type, len + 1);
	p->level = GetCurrentTransactionNestLevel();
}

PG_FUNCTION_INFO_V1(lowcode_event_queue);
/*
 * lowcode.event_queue(tenant uuid, id bigint, type text): notify listeners of
 * this outbox row when (and only if) the transaction commits.  Internal:
 * called by emit_event and the submissions trigger, EXECUTE revoked.
 */
Datum
lowcode_event_queue(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("event_queue: tenant, id and type must not be NULL")));
	events_queue(PG_GETARG_UUID_P(0), PG_GETARG_INT64(1), text_to_cstring(PG_GETARG_TEXT_PP(2)));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_event_channel);
/* lowcode.event_channel(): the current tenant's channel. */
Datum
lowcode_event_channel(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	char		chan[NAMEDATALEN];

	if (!tenancy_current_tenant(&tenant))
		lc_raise_http(401, "LT401", "no tenant for this request",
					  "lowcode.event_channel() names the current tenant's channel, and there is no tenant context",
					  "Call it in a request (after lowcode.pre_request()), or as an operator call event_channel(tenant).",
					  NULL);
	ensure_secret(false);
	channel_name(&tenant, chan);
	PG_RETURN_TEXT_P(cstring_to_text(chan));
}

PG_FUNCTION_INFO_V1(lowcode_event_channel_of);
/* lowcode.event_channel(tenant uuid): any tenant's channel, NULL: the operators' (operators only). */
Datum
lowcode_event_channel_of(PG_FUNCTION_ARGS)
{
	char		chan[NAMEDATALEN];

	ensure_secret(false);
	channel_name(PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0), chan);
	PG_RETURN_TEXT_P(cstring_to_text(chan));
}

PG_FUNCTION_INFO_V1(lowcode_new_id);
/* lowcode.new_id(): see events_id.c. */
Datum
lowcode_new_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(events_new_id());
}

PG_FUNCTION_INFO_V1(lowcode_event_queue_stats);
/* lowcode.event_queue_stats(): this database's queue (tests, monitoring). */
Datum
lowcode_event_queue_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4] = {0};
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = BoolGetDatum(false);
	if (events_shared != NULL)
	{
		for (int i = 0; i < events_shared->nrings; i++)
		{
			EventRing  *r = &events_shared->rings[i];

			LWLockAcquire(r->lock, LW_SHARED);
			if (r->dboid == MyDatabaseId)
			{
				values[0] = BoolGetDatum(r->latch != NULL);
				values[1] = Int64GetDatum((int64) (r->head - r->tail));
				values[2] = Int64GetDatum((int64) r->delivered);
				values[3] = Int64GetDatum((int64) r->reserved);
			}
			LWLockRelease(r->lock);
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

