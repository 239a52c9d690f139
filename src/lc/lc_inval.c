/*-------------------------------------------------------------------------
 *
 * lc_inval.c
 *	  One relcache invalidation callback for all of pg_lowcode (lc_inval.h
 *	  says why).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"

#include "lc/lc_inval.h"

/* pg_lowcode's caches that watch relations (9 in 0.3.0) */
#define LC_RELCACHE_CALLBACKS 16

static struct
{
	LcRelcacheCallback fn;
	Datum		arg;
}			callbacks[LC_RELCACHE_CALLBACKS];
static int	n_callbacks = 0;

static void
dispatch(Datum arg, Oid relid)
{
	for (int i = 0; i < n_callbacks; i++)
		callbacks[i].fn(callbacks[i].arg, relid);
}

void
lc_register_relcache_callback(LcRelcacheCallback fn, Datum arg)
{
	for (int i = 0; i < n_callbacks; i++)
		if (callbacks[i].fn == fn && callbacks[i].arg == arg)
			return;
	if (n_callbacks >= LC_RELCACHE_CALLBACKS)
		elog(ERROR, "pg_lowcode: more than %d relcache callbacks", LC_RELCACHE_CALLBACKS);
	/* PostgreSQL's slot first: if that fails (FATAL), nothing of ours is half registered */
	if (n_callbacks == 0)
		CacheRegisterRelcacheCallback(dispatch, (Datum) 0);
	callbacks[n_callbacks].fn = fn;
	callbacks[n_callbacks].arg = arg;
	n_callbacks++;
}

/*
 * The statement trigger of a table whose rows backends keep in a cache
 * (lowcode.event_secret_changed() on lowcode.event_secret,
 * lowcode.workflow_subjects_changed() on lowcode.workflow_subjects): queues
 * a relcache invalidation of the table, sent at commit to every backend,
 * where the cache's callback above empties it.  A row change alone sends
 * no relcache invalidation, hence the trigger.
 */
PG_FUNCTION_INFO_V1(lowcode_relcache_changed);

Datum
lowcode_relcache_changed(PG_FUNCTION_ARGS)
{
	TriggerData *tg = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(tg->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(tg->tg_event))
		elog(ERROR, "lowcode_relcache_changed: not called as an AFTER STATEMENT trigger");
	CacheInvalidateRelcache(tg->tg_relation);
	return PointerGetDatum(NULL);
}
