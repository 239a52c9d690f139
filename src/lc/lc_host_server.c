/*-------------------------------------------------------------------------
 *
 * lc_host_server.c
 *	  The server's implementation of the engines' host interface
 *	  (lc_host.h): regular expressions through lc_regex on PostgreSQL's
 *	  regex engine, time zones through PostgreSQL's time zone library,
 *	  MaxAllocSize as the allocation limit, and budget errors counted in
 *	  the per-tenant metrics (lowcode_rule_budget_exhausted_total).
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgtime.h"
#include "utils/memutils.h"

#include "lc/lc_host.h"
#include "metrics/metrics.h"

static int
server_regex_match(LcRegexDialect dialect, const char *pattern, int plen,
				   const char *subject, int slen, char **errmsg)
{
	LcRegex    *re = lc_regex_compile(dialect, pattern, plen, errmsg);

	if (re == NULL)
		return -1;
	return lc_regex_search(re, subject, slen) ? 1 : 0;
}

static bool
server_zone_local_time(const char *zone, int64 sec, LcLocalTime *lt, char **err)
{
	pg_tz	   *tz = pg_tzset(zone);
	pg_time_t	t = (pg_time_t) sec;
	struct pg_tm *tm;

	if (tz == NULL)
	{
		*err = psprintf("unknown time zone \"%s\"", zone);
		return false;
	}
	tm = pg_localtime(&t, tz);
	if (tm == NULL)
	{
		*err = psprintf("timestamp out of range for time zone \"%s\"", zone);
		return false;
	}
	lt->year = (int64) tm->tm_year + 1900;
	lt->month = tm->tm_mon + 1;
	lt->mday = tm->tm_mday;
	lt->wday = tm->tm_wday;
	lt->yday = tm->tm_yday;
	lt->hour = tm->tm_hour;
	lt->minute = tm->tm_min;
	lt->second = tm->tm_sec;
	return true;
}

static void
server_budget_exhausted(void)
{
	metrics_count(NULL, METRIC_RULE_BUDGET_EXHAUSTED, 1);
}

static const LcEngineHost server_host = {
	.name = "server",
	.regex_match = server_regex_match,
	.zone_local_time = server_zone_local_time,
	.max_alloc = MaxAllocSize,
	.budget_exhausted = server_budget_exhausted,
};

const LcEngineHost *const lc_engine_host = &server_host;
