/*-------------------------------------------------------------------------
 *
 * events_id.c
 *	  lowcode.new_id(): the ids of events, audit rows and submissions.
 *
 * What an id must be:
 *	- unique in the cluster, without a sequence (a nextval locks one shared
 *	  buffer, and the gap between two of a tenant's ids from one sequence is
 *	  everybody's volume: issue 13.7);
 *	- ordered by time, to the millisecond;
 *	- exact in JavaScript: front ends read ids from PostgREST's JSON as
 *	  numbers, and a number beyond 2^53 is rounded (two submissions would
 *	  share an id in the browser and a PATCH by id would miss).
 *
 * The scheme: milliseconds since 2000-01-01 (PostgreSQL's epoch) in the
 * high 41 bits, a 12-bit slot below: 2^53 is reached in September 2069,
 * and ids stay unique (and int64) long after.  One shared 64-bit word,
 * (millisecond << 12 | count), is advanced by compare-and-swap: the first
 * id of a new millisecond takes count 0, the next ones count 1, 2, ...;
 * after 4,096 ids in one millisecond the word borrows the next millisecond
 * (4 million ids a second, beyond what one PostgreSQL server writes).
 * The word starts at the current time when the server starts.
 *
 * The slot is not the count itself: the count of an id is how many ids the
 * whole cluster made earlier in that millisecond, which would tell a tenant
 * other tenants' rate.  The slot is the count through a keyed permutation
 * of 12 bits (a four-round Feistel network over 6-bit halves, keyed by a
 * random key made at server start and by the millisecond), so it looks
 * random and two ids of one millisecond never collide.
 *
 * Without shared memory (pg_lowcode not in shared_preload_libraries) each
 * backend makes (millisecond << 12 | PGPROC number mod 4096), strictly
 * increasing per backend: unique while fewer than 4,096 processes write at
 * once and no backend writes more than 1,000 ids a second for long (it
 * then runs ahead of the clock, and an id of a later backend with the
 * same PGPROC number could repeat one).  Preloading is the supported
 * configuration.
 *
 * src/events/ is the events component: the event outbox's notifications on
 * per-tenant channels, and identifiers that reveal nothing about other
 * tenants' volume.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "events/events.h"

#define ID_SLOT_BITS	12
#define ID_SLOT_MASK	((1 << ID_SLOT_BITS) - 1)
#define ID_HALF_BITS	(ID_SLOT_BITS / 2)
#define ID_HALF_MASK	((1 << ID_HALF_BITS) - 1)

typedef struct IdShared
{
	pg_atomic_uint64 last;		/* millisecond << 12 | count of the last id */
	uint32		key[4];			/* the permutation's key, random per start */
} IdShared;

static IdShared *id_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* without shared memory: this backend's last id */
static int64 backend_last_id = 0;

static int64
now_ms(void)
{
	return GetCurrentTimestamp() / 1000;
}

static void
id_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(sizeof(IdShared));
}

static void
id_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	id_shared = ShmemInitStruct("pg_lowcode ids", sizeof(IdShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&id_shared->last, (uint64) now_ms() << ID_SLOT_BITS);
		if (!pg_strong_random(id_shared->key, sizeof(id_shared->key)))
			ereport(FATAL,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("pg_lowcode: could not generate the key of lowcode.new_id()")));
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from events_init() while the library is preloaded. */
void
events_id_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = id_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = id_shmem_startup;
}

/* The slot of the count-th id of millisecond ms: a bijection of 0..4095. */
static uint32
id_slot(uint32 count, int64 ms)
{
	uint32		seed = hash_bytes_uint32((uint32) ms ^ id_shared->key[0]) ^
		hash_bytes_uint32((uint32) ((uint64) ms >> 32) ^ id_shared->key[1]);
	uint32		left = count >> ID_HALF_BITS;
	uint32		right = count & ID_HALF_MASK;

	for (uint32 round = 0; round < 4; round++)
	{
		uint32		f = hash_bytes_uint32(seed ^ id_shared->key[2 + (round & 1)] ^
										  (right << 8) ^ round) & ID_HALF_MASK;
		uint32		next_right = left ^ f;

		left = right;
		right = next_right;
	}
	return (left << ID_HALF_BITS) | right;
}

int64
events_new_id(void)
{
	uint64		old,
				next;
	int64		ms;

	if (id_shared == NULL)
	{
		int64		id = (now_ms() << ID_SLOT_BITS) |
			(int64) (MyProc ? MyProc->pgprocno & ID_SLOT_MASK : 0);

		if (id <= backend_last_id)
			id = backend_last_id + (1 << ID_SLOT_BITS); /* same low bits: still this backend's */
		backend_last_id = id;
		return id;
	}

	ms = now_ms();
	old = pg_atomic_read_u64(&id_shared->last);
	for (;;)
	{
		int64		last_ms = (int64) (old >> ID_SLOT_BITS);

		if (ms > last_ms)
			next = (uint64) ms << ID_SLOT_BITS;
		else if ((old & ID_SLOT_MASK) < ID_SLOT_MASK)
			next = old + 1;
		else
			next = (uint64) (last_ms + 1) << ID_SLOT_BITS;	/* borrow the next millisecond */
		/* on failure old is reloaded with the current value */
		if (pg_atomic_compare_exchange_u64(&id_shared->last, &old, next))
			break;
	}
	ms = (int64) (next >> ID_SLOT_BITS);
	return (ms << ID_SLOT_BITS) | id_slot((uint32) (next & ID_SLOT_MASK), ms);
}
