/*-------------------------------------------------------------------------
 *
 * session_init.c
 *	  Entry point of the session component, called from _PG_init(): its
 *	  settings, its shared memory hooks, and the SQL functions over the
 *	  shared memory table of last-seen times.
 *
 * The session step of lowcode.pre_request() is in session_request.c, the
 * shared memory table in session_shmem.c, the expiry sweep in
 * session_sweep.c and the token hashing in session_token.c.
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lc/lc_http.h"
#include "lc/lc_json.h"
#include "pg_lowcode.h"
#include "session/session.h"

int			session_max_tracked = 65536;
char	   *session_token_header = NULL;
int			session_proof_mode = SESSION_PROOF_REQUIRED;

static const struct config_enum_entry session_proof_options[] = {
	{"required", SESSION_PROOF_REQUIRED, false},
	{"optional", SESSION_PROOF_OPTIONAL, false},
	{NULL, 0, false}
};
int			session_sweep_batch_size = 5000;
int			session_retention_s = 7 * 24 * 3600;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
session_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	session_shmem_request();
}

static void
session_shmem_startup_hook(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	session_shmem_startup();
}

void
session_init(void)
{
	DefineCustomStringVariable("lowcode.session_token_header",
							   "Request header (lower case, as PostgREST passes it) carrying an opaque session token.",
							   "Used by lowcode.pre_request() when the JWT has no \"sid\" claim. Empty: tokens in headers are ignored.",
							   &session_token_header,
							   "x-session-token",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("lowcode.session_proof",
							 "Whether a JWT naming a session (claim \"sid\") must prove it (claim \"sid_proof\").",
							 "optional accepts a sid alone, as 0.2.0 did: anyone who can set request.jwt.claims and knows a session id then acts as that session. For the migration only.",
							 &session_proof_mode, SESSION_PROOF_REQUIRED, session_proof_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.sweep_batch_size",
							"Rows the database worker changes per transaction when it flushes, expires or deletes.",
							NULL,
							&session_sweep_batch_size,
							5000, 1, 1000000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lowcode.session_retention",
							"How long expired and revoked sessions are kept before the database worker deletes them.",
							NULL,
							&session_retention_s,
							7 * 24 * 3600, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	RegisterXactCallback(session_request_xact_callback, NULL);

	/*
	 * A PGC_POSTMASTER setting can only be defined while preloading (a
	 * backend loading the library later would fail).
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("lowcode.max_tracked_sessions",
							"Size of the shared memory table of session last-seen times.",
							"Sessions active within one sweep interval should fit; when full, flushed entries are "
							"evicted and, failing that, a request's last-seen time is not recorded.",
							&session_max_tracked,
							65536, 128, 64 * 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = session_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = session_shmem_startup_hook;
}

/* ---------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(lowcode_session_last_seen);

/* lowcode.session_last_seen(tenant uuid, session_id uuid) RETURNS timestamptz */
Datum
lowcode_session_last_seen(PG_FUNCTION_ARGS)
{
	TimestampTz t;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	lowcode_require_preload("lowcode.session_last_seen()");
	t = session_shmem_last_seen(MyDatabaseId, PG_GETARG_UUID_P(1));
	if (t == 0)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(t);
}

PG_FUNCTION_INFO_V1(lowcode_session_forget);

/* lowcode.session_forget(tenant uuid, session_id uuid) RETURNS void */
Datum
lowcode_session_forget(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		PG_RETURN_VOID();
	lowcode_require_preload("lowcode.session_forget()");
	session_shmem_forget(MyDatabaseId, PG_GETARG_UUID_P(1));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_session_memory_stats);

/* lowcode.session_memory_stats(OUT capacity, OUT entries, OUT dropped_touches, OUT evictions) */
Datum
lowcode_session_memory_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int64		capacity,
				entries,
				dropped,
				evictions;

	lowcode_require_preload("lowcode.session_memory_stats()");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	session_shmem_stats(&capacity, &entries, &dropped, &evictions);
	values[0] = Int64GetDatum(capacity);
	values[1] = Int64GetDatum(entries);
	values[2] = Int64GetDatum(dropped);
	values[3] = Int64GetDatum(evictions);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
