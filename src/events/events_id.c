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
 * high 41 bits and a 12-bit lane below: 2^53 is reached in September
 * 2069, and ids stay unique (and int64) long after.  A lane belongs to one
 * backend at a time: its own lane is its PGPROC number (unique among live
 * processes), so an id is (millisecond, lane) and no two backends can make
 * the same one.  A backend makes one id per millisecond per lane, in
 * increasing order (ORDER BY id is the order in which one session made
 * its rows, as with a sequence); a backend that makes more than one per
 * millisecond runs ahead of the clock.  To keep that bounded, a backend
 * more than LANE_AHEAD_MS ahead takes an extra lane from the spare ones
 * (numbers above every PGPROC number), each one more id per millisecond,
 * used in increasing order within the millisecond; with no spare lane left
 * it waits until it is no more than LANE_MAX_AHEAD_MS ahead.
 *
 * Lanes outlive their backends: the last millisecond used on each lane is
 * in shared memory, and the next backend with that lane starts after it.
 * After a server start (or crash restart) every lane starts
 * LANE_MAX_AHEAD_MS in the future, beyond any id made before.
 *
 * Nothing in an id counts other tenants' activity: the lane is a process
 * number, the millisecond the time (a shared sequence told every tenant
 * everybody's volume; a count of the ids made in a millisecond would too).
 *
 * Without shared memory (pg_lowcode not in shared_preload_libraries) a
 * backend makes (millisecond, PGPROC number) the same way, but with no
 * spare lanes and no memory of a lane's last millisecond: unique while no
 * backend sustains more than 1,000 ids a second (it then runs ahead of the
 * clock, and a later backend with the same PGPROC number could repeat an
 * id).  Preloading is the supported configuration.
 *
 * src/events/ is the events component: the event outbox's notifications on
 * per-tenant channels, and identifiers that reveal nothing about other
 * tenants' volume.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "events/events.h"

#define LANE_BITS			12
#define LANE_COUNT			(1 << LANE_BITS)
#define LANE_MAX_HELD		256		/* lanes one backend may hold: 256,000 ids a second */
#define LANE_AHEAD_MS		20		/* ahead of the clock: take a spare lane */
#define LANE_MAX_AHEAD_MS	100		/* ahead of the clock: wait (and the start offset) */

typedef struct IdShared
{
	int			base_lanes;		/* lanes 0 .. base_lanes-1 are PGPROC numbers */
	pg_atomic_uint32 owner[LANE_COUNT];	/* spare lanes: 0 free, else PGPROC number + 1 */
	pg_atomic_uint64 last_ms[LANE_COUNT];	/* last millisecond used on the lane */
} IdShared;

static IdShared *id_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's lanes (ascending), the millisecond in use and the next lane in it. */
static int	held[LANE_MAX_HELD];
static int	nheld = 0;
static int64 cur_ms = 0;
static int	cur_lane = 0;
static int64 floor_ms = 0;		/* first millisecond of this backend's own lane */
static bool exit_callback_set = false;

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
		/* beyond every id of the previous run, whose backends were at most this far ahead */
		int64		start = now_ms() + LANE_MAX_AHEAD_MS;

		id_shared->base_lanes = Min(MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts, LANE_COUNT);
		for (int i = 0; i < LANE_COUNT; i++)
		{
			pg_atomic_init_u32(&id_shared->owner[i], 0);
			pg_atomic_init_u64(&id_shared->last_ms[i], (uint64) start);
		}
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

/* Note the millisecond in use on every held lane (monotonic: never lowers it). */
static void
note_lanes(int64 ms)
{
	for (int i = 0; i < nheld; i++)
	{
		pg_atomic_uint64 *last = &id_shared->last_ms[held[i]];
		uint64		old = pg_atomic_read_u64(last);

		while (old < (uint64) ms && !pg_atomic_compare_exchange_u64(last, &old, (uint64) ms))
			;
	}
}

/* On exit: the lanes' last milliseconds are noted; the spare lanes are free again. */
static void
release_lanes(int code, Datum arg)
{
	if (id_shared == NULL || nheld == 0)
		return;
	note_lanes(cur_ms);
	for (int i = 0; i < nheld; i++)
		if (held[i] >= id_shared->base_lanes)
			pg_atomic_write_u32(&id_shared->owner[held[i]], 0);
	nheld = 0;
}

/* The lane's first usable millisecond for a new holder. */
static int64
lane_start(int lane)
{
	return (int64) pg_atomic_read_u64(&id_shared->last_ms[lane]) + 1;
}

/*
 * Take a spare lane usable from millisecond ms on, keeping held[] sorted;
 * false when none is free.  Spare lanes are numbered above every PGPROC
 * number, so they sort after the backend's own.
 */
static bool
take_spare_lane(int64 ms)
{
	int			nspare = LANE_COUNT - id_shared->base_lanes;
	int			first;

	if (nspare <= 0 || nheld >= LANE_MAX_HELD)
		return false;
	first = (int) (MyProc->pgprocno % nspare);
	for (int k = 0; k < nspare; k++)
	{
		int			lane = id_shared->base_lanes + (first + k) % nspare;
		uint32		expected = 0;

		if (pg_atomic_read_u32(&id_shared->owner[lane]) != 0)
			continue;
		if (!pg_atomic_compare_exchange_u32(&id_shared->owner[lane], &expected,
											(uint32) MyProc->pgprocno + 1))
			continue;
		if (lane_start(lane) > ms)
		{
			/* used later than ms by its last holder: not usable yet */
			pg_atomic_write_u32(&id_shared->owner[lane], 0);
			continue;
		}
		{
			int			i = nheld++;

			while (i > 0 && held[i - 1] > lane)
			{
				held[i] = held[i - 1];
				i--;
			}
			held[i] = lane;
		}
		return true;
	}
	return false;
}

/* Move to the next millisecond this backend may use, taking a lane or waiting when far ahead. */
static void
next_millisecond(void)
{
	int64		now = now_ms();
	int64		ms = Max(cur_ms + 1, now);

	/*
	 * Ahead because of this backend's own rate (not because its lane
	 * started in the future, as every lane does just after a start).
	 */
	if (ms - Max(now, floor_ms) > LANE_AHEAD_MS)
		(void) take_spare_lane(ms);
	while (ms - now > LANE_MAX_AHEAD_MS)
	{
		/* no spare lane helped: let the clock catch up */
		pg_usleep((ms - now - LANE_MAX_AHEAD_MS) * 1000L);
		CHECK_FOR_INTERRUPTS();
		now = now_ms();
	}
	cur_ms = ms;
	cur_lane = 0;
	note_lanes(ms);
}

int64
events_new_id(void)
{
	int64		id;

	if (id_shared == NULL || MyProc == NULL)
	{
		/* no shared memory: (millisecond, PGPROC number), increasing in this backend */
		int			lane = MyProc ? MyProc->pgprocno % LANE_COUNT : 0;

		cur_ms = Max(cur_ms + 1, now_ms());
		return (cur_ms << LANE_BITS) | lane;
	}
	if (nheld == 0)
	{
		if (MyProc->pgprocno >= id_shared->base_lanes)
			elog(ERROR, "pg_lowcode: PGPROC number %d has no id lane", MyProc->pgprocno);
		held[nheld++] = MyProc->pgprocno;
		floor_ms = lane_start(MyProc->pgprocno);
		cur_ms = floor_ms - 1;
		cur_lane = nheld;		/* the first call moves to a millisecond */
		if (!exit_callback_set)
		{
			before_shmem_exit(release_lanes, (Datum) 0);
			exit_callback_set = true;
		}
	}
	if (cur_lane >= nheld)
		next_millisecond();
	id = (cur_ms << LANE_BITS) | held[cur_lane++];
	return id;
}
