/*-------------------------------------------------------------------------
 *
 * quota_rate.c
 *	  The quota component's step of lowcode.pre_request(): tier settings and
 *	  the rate limit.
 *
 * The rate limit is a token bucket per tenant in shared memory: it holds
 * at most request_burst tokens, refills at requests_per_second, and each
 * admitted request takes one token.  Tokens are counted in millionths and
 * time in microseconds, so the refill (elapsed_us * rate) is exact integer
 * arithmetic: over T seconds a tenant is admitted at most
 * burst + rate * T requests, whatever the number of concurrent backends.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "lc/lc_http.h"
#include "pg_lowcode.h"
#include "quota/quota.h"
#include "quota/quota_int.h"
#include "request/pre_request.h"

bool		quota_rate_limiting = true;
bool		quota_apply_settings = true;
bool		quota_enabled = true;
int			quota_session_rate = 0;
int			quota_session_burst = 0;

/*
 * Take one token from the entry's bucket; called with its spinlock held.
 * Returns true when admitted; otherwise *wait_us is how long until a token
 * is available.
 */
static inline bool
bucket_take(QuotaEntry *e, TimestampTz now, int64 *wait_us)
{
	int64		rate = e->rate;
	int64		cap;

	if (rate <= 0 || e->burst <= 0)
		return true;			/* unlimited */
	cap = e->burst * QUOTA_TOKEN;
	if (e->last_refill == 0)
	{
		e->tokens = cap;
		e->last_refill = now;
	}
	else if (now > e->last_refill)
	{
		int64		elapsed = now - e->last_refill;

		/* compare before multiplying: elapsed * rate could overflow */
		if (elapsed >= (cap - e->tokens) / rate + 1)
			e->tokens = cap;
		else
			e->tokens += elapsed * rate;
		e->last_refill = now;
	}
	if (e->tokens > cap)
		e->tokens = cap;		/* the burst was lowered */
	if (e->tokens >= QUOTA_TOKEN)
	{
		e->tokens -= QUOTA_TOKEN;
		return true;
	}
	*wait_us = (QUOTA_TOKEN - e->tokens + rate - 1) / rate;
	return false;
}

/*
 * The rate check of one request of "tenant", counting it (admitted or
 * rejected).  *limits receives the tenant's effective limits.  Returns true
 * when admitted.  This is the hot path: one hash lookup, one spinlock.
 */
static bool
rate_check(const pg_uuid_t *tenant, QuotaLimits *limits, int64 *wait_us, bool enforce)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		LWLock	   *lock;
		QuotaEntry *e;
		uint64		gen = pg_atomic_read_u64(&quota_shared->limits_generation);
		bool		admitted = true;
		TimestampTz now;

		e = quota_entry_lookup(tenant, true, &lock);
		if (!e)
		{
			/* no room: admitted unchecked (counted in overflows) */
			if (limits)
				quota_load_limits(tenant, limits);
			return true;
		}
		now = GetCurrentTimestamp();
		SpinLockAcquire(&e->mutex);
		/*
		 * A change of the tenant's tier bumps the generation too (trigger
		 * on lowcode.tenants), so the generation alone says whether the
		 * cached limits are current.
		 */
		if (attempt == 0 && !(e->limits_valid && e->limits_generation == gen))
		{
			SpinLockRelease(&e->mutex);
			LWLockRelease(lock);
			/* (re)load, then check with what was loaded */
			quota_load_limits(tenant, limits);
			e = quota_entry_lookup(tenant, true, &lock);
			if (!e)
				return true;	/* *limits was just loaded */
			SpinLockAcquire(&e->mutex);
			quota_entry_set_limits(e, limits, gen);
		}
		if (enforce)
			admitted = bucket_take(e, now, wait_us);
		if (admitted)
		{
			E_TOTAL(e, QC_REQUESTS)++;
			E_UNFLUSHED(e, QC_REQUESTS)++;
		}
		else
		{
			E_TOTAL(e, QC_REJECTED_RATE)++;
			E_UNFLUSHED(e, QC_REJECTED_RATE)++;
		}
		e->last_used = now;
		if (limits)
			*limits = e->limits;
		SpinLockRelease(&e->mutex);
		LWLockRelease(lock);
		return admitted;
	}
	return true;
}

static void
apply_setting(const char *name, int64 value, int current)
{
	char		buf[32];

	if (value < 0 || value == current)
		return;
	snprintf(buf, sizeof(buf), INT64_FORMAT, value);
	/* like set_config(name, value, true): for this transaction only */
	(void) set_config_option(name, buf, superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/* Raise HTTP 429 with a Retry-After header (whole seconds, at least 1). */
static void
raise_rate_limited(const char *code, const char *message, const char *details, int64 wait_us)
{
	int64		secs = (wait_us + 999999) / 1000000;
	char		headers[64];

	if (secs < 1)
		secs = 1;
	snprintf(headers, sizeof(headers), "{\"Retry-After\":\"" INT64_FORMAT "\"}", secs);
	lc_raise_http(429, code, message, details,
				  "Retry after the number of seconds in the Retry-After header.", headers);
}

/* The per-session bucket: true when admitted. */
static bool
session_check(const pg_uuid_t *session, int64 *wait_us)
{
	LWLock	   *lock;
	QuotaEntry *e;
	bool		admitted;
	TimestampTz now;

	e = quota_entry_lookup_kind(QUOTA_KIND_SESSION, session, true, &lock);
	if (!e)
		return true;			/* no room: admitted unchecked (overflows) */
	now = GetCurrentTimestamp();
	SpinLockAcquire(&e->mutex);
	e->rate = quota_session_rate;
	e->burst = quota_session_burst > 0 ? quota_session_burst : quota_session_rate;
	admitted = bucket_take(e, now, wait_us);
	e->last_used = now;
	SpinLockRelease(&e->mutex);
	LWLockRelease(lock);
	return admitted;
}

/*
 * The quota step of pre_request(): rate limit, then the tier's settings for
 * this transaction.  Without shared memory (library not preloaded) there is
 * no rate limit and no cached limits: the step does nothing.
 */
void
quota_pre_request(PreRequest *req)
{
	QuotaLimits limits;
	int64		wait_us = 0;

	if (!quota_shared || !quota_enabled)
		return;
	/*
	 * The session's own bucket first, so that a request it rejects takes no
	 * token of the tenant.
	 */
	if (quota_rate_limiting && quota_session_rate > 0 && req->has_session &&
		!session_check(&req->session_id, &wait_us))
	{
		quota_count_now(&req->tenant.id, QC_REJECTED_RATE);
		raise_rate_limited("LQ430", "session rate limit exceeded",
						   psprintf("a session may make %d requests per second with a burst of %d",
									quota_session_rate, quota_session_burst > 0 ? quota_session_burst : quota_session_rate),
						   wait_us);
	}
	if (!rate_check(&req->tenant.id, &limits, &wait_us, quota_rate_limiting))
		raise_rate_limited("LQ429", "rate limit exceeded",
						   psprintf("the tenant's limit is " INT64_FORMAT " requests per second with a burst of " INT64_FORMAT,
									limits.requests_per_second, limits.request_burst),
						   wait_us);
	/* signed into the context for a cluster's workers (pre_request.c) */
	req->storage_limits.max_rows = limits.max_rows < 0 ? -1 : limits.max_rows;
	req->storage_limits.max_storage_bytes = limits.max_storage_bytes < 0 ? -1 : limits.max_storage_bytes;
	if (quota_apply_settings)
	{
		apply_setting("statement_timeout", limits.statement_timeout_ms, StatementTimeout);
		apply_setting("work_mem", limits.work_mem_kb, work_mem);
		/* and the request may not raise them again (quota_guard.c) */
		quota_guard_arm(limits.statement_timeout_ms, limits.work_mem_kb);
	}
}

/* The rate check alone, for the cost benchmark (quota_sql.c). */
bool
quota_rate_check_for_bench(const pg_uuid_t *tenant, int64 *wait_us)
{
	QuotaLimits limits;

	return rate_check(tenant, &limits, wait_us, true);
}
