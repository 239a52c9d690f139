/*-------------------------------------------------------------------------
 *
 * session.h
 *	  Sessions: the parts the worker component and the SQL glue call.
 *
 * A session's row lives in lowcode.sessions; its last-seen time lives in a
 * fixed-size shared hash (lowcode.max_tracked_sessions entries) written by
 * pre_request() on every request and flushed to the table by the database
 * worker every lowcode.sweep_interval.  Validity (state, expiry) is always
 * read from the table, so a revocation is seen by the very next request of
 * any backend once its transaction has committed.
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#ifndef SESSION_H
#define SESSION_H

#include "access/xact.h"
#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* Settings (GUCs), defined in session_init.c. */
extern int	session_max_tracked;		/* lowcode.max_tracked_sessions */
extern char *session_token_header;		/* lowcode.session_token_header */

/* One last-seen time to write to lowcode.sessions. */
typedef struct SessionTouch
{
	pg_uuid_t	tenant;
	pg_uuid_t	id;
	TimestampTz last_seen;
} SessionTouch;

/* Shared memory (session_shmem.c). */
extern void session_shmem_request(void);
extern void session_shmem_startup(void);
extern bool session_shmem_ready(void);

/*
 * Record that a session of this database was seen at "now".  Never fails:
 * when the table is full and nothing can be evicted the touch is counted in
 * dropped_touches and forgotten.
 */
extern void session_shmem_touch(const pg_uuid_t *tenant, const pg_uuid_t *id, TimestampTz now);

/* The last-seen time kept in shared memory, 0 when not tracked. */
extern TimestampTz session_shmem_last_seen(Oid dbid, const pg_uuid_t *id);

/*
 * Collect up to "max" entries of database "dbid" whose last-seen time was
 * not flushed yet.  Returns the number written to "out".
 */
extern int	session_shmem_collect_dirty(Oid dbid, SessionTouch *out, int max);

/* After a flush committed: these times are now in the table. */
extern void session_shmem_mark_flushed(Oid dbid, const SessionTouch *touches, int n);

/* Forget one session, or every session of a database (InvalidOid: none). */
extern void session_shmem_forget(Oid dbid, const pg_uuid_t *id);
extern void session_shmem_forget_database(Oid dbid);

extern void session_shmem_stats(int64 *capacity, int64 *entries, int64 *dropped, int64 *evictions);

/* Tokens (session_token.c). */
#define SESSION_TOKEN_HASH_LEN 32	/* SHA-256 */
/*
 * A session's secrets (issue 13): the token T; its proof P = SHA-256(T),
 * which a JWT may carry in claim "sid_proof" as "lcp_" + base64url(P); the
 * stored token_hash H = SHA-256(P).  Only the holder of T (or of a JWT
 * made from it) has P; a copy of the table has H only.
 */
extern void session_sha256(const uint8 *data, size_t len, uint8 *out);
extern void session_token_hash(const char *token, size_t len, uint8 *out);	/* T -> H */
extern bool session_parse_proof(const char *text, uint8 *proof);	/* "lcp_..." -> P */

/* lowcode.session_proof: whether a "sid" claim needs its "sid_proof". */
#define SESSION_PROOF_REQUIRED 0
#define SESSION_PROOF_OPTIONAL 1
extern int	session_proof_mode;

/*
 * Sweep steps (session_sweep.c).  Each runs inside the caller's
 * transaction, through SPI, and returns how many rows it changed.
 */
extern int64 session_sweep_flush(SessionTouch *touches, int n);
/* Returns the sessions expired; *candidates says how many were looked at. */
extern int64 session_sweep_expire(TimestampTz now, int limit, int64 *candidates);
extern int64 session_sweep_delete_ended(TimestampTz now, int limit, int64 *timers);
extern int64 session_sweep_reconcile_timers(TimestampTz now);
extern int64 session_sweep_delete_events(TimestampTz now, int limit);

/* Sweep settings (GUCs), defined in session_init.c. */
extern int	session_sweep_batch_size;	/* lowcode.sweep_batch_size */
extern int	session_retention_s;		/* lowcode.session_retention */

/*
 * session_request.c: forgets, at the end of every transaction, the session
 * pre_request() validated (registered by session_init()).
 */
extern void session_request_xact_callback(XactEvent event, void *arg);

/*
 * The session step of lowcode.pre_request() (session_request.c): find and
 * validate the request's session, bind its tenant (see
 * request/pre_request.h).
 */
struct PreRequest;
extern void session_pre_request(struct PreRequest *req);

#endif							/* SESSION_H */
