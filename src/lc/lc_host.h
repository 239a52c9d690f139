/*-------------------------------------------------------------------------
 *
 * lc_host.h
 *	  The host interface of the pure engines: what CEL and JsonLogic need
 *	  from whoever runs them (regular expressions, time zones, the largest
 *	  allocation), named in one place.
 *
 * src/lc/ holds the project's shared libraries: JSON reading (lc_json),
 * HTTP helpers (lc_http), Unicode tables (lc_unicode), regular expressions
 * of other dialects on PostgreSQL's engine (lc_regex) and this interface.
 *
 * The engine cores never call SQL glue and never test a build flag: they
 * reach the services below through lc_engine_host only.  Exactly one
 * implementation is linked in: the server's (lc_host_server.c: lc_regex on
 * PostgreSQL's regex engine, PostgreSQL's time zone library, MaxAllocSize)
 * in the extension, the fuzz harness's (test/fuzz/fuzz_shim.c: no regular
 * expressions, UTC only) in the stand-alone fuzz builds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_HOST_H
#define LC_HOST_H

#include "lc/lc_regex.h"

/* Broken-down local time of an instant (fields as in struct tm, year in full). */
typedef struct LcLocalTime
{
	int64		year;
	int			month;			/* 1..12 */
	int			mday;			/* 1..31 */
	int			wday;			/* 0 = Sunday */
	int			yday;			/* 0-based */
	int			hour,
				minute,
				second;
} LcLocalTime;

typedef struct LcEngineHost
{
	const char *name;			/* "server", "fuzz": for messages */

	/*
	 * Search "subject" for "pattern" (both UTF-8, not NUL-terminated) in the
	 * given dialect: 1 for a match, 0 for none, -1 when the pattern is not
	 * valid or not available (*errmsg set, palloc'd).  Never raises an error
	 * for a bad pattern.
	 */
	int			(*regex_match) (LcRegexDialect dialect, const char *pattern, int plen,
								const char *subject, int slen, char **errmsg);

	/*
	 * The local time at "sec" (seconds since the Unix epoch) in the named
	 * time zone (NUL-terminated IANA name).  False with *err set (palloc'd)
	 * when the zone is unknown or the instant out of its range.
	 */
	bool		(*zone_local_time) (const char *zone, int64 sec, LcLocalTime *out,
									char **err);

	/* The largest single allocation an engine may ask for, in bytes. */
	Size		max_alloc;

	/*
	 * Called just before an engine raises its cost-exceeded error (CEL's
	 * LR020, JsonLogic's LR103), so that the host can count it without
	 * catching the error; NULL when the host counts nothing.  Must not
	 * raise an error.
	 */
	void		(*budget_exhausted) (void);
} LcEngineHost;

/* The host the engines run in: defined by the linked implementation. */
extern const LcEngineHost *const lc_engine_host;

#endif							/* LC_HOST_H */
