/*-------------------------------------------------------------------------
 *
 * js_store.c
 *	  Loader registry and invalidation generation of the JSON Schema
 *	  document store (see jsonschema.h for the design).
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "lc/lc_inval.h"
#include "jsonschema/js_internal.h"
#include "lc/lc_trusted.h"

#define MAX_LOADERS		8
#define MAX_WATCHED		8

typedef struct LoaderSlot
{
	const char *name;
	JsStoreLoader fn;
	void	   *arg;
} LoaderSlot;

typedef struct WatchedRel
{
	char	   *nspname;
	char	   *relname;
	Oid			relid;			/* InvalidOid until resolved */
} WatchedRel;

static LoaderSlot loaders[MAX_LOADERS];
static int	n_loaders = 0;
static WatchedRel watched[MAX_WATCHED];
static int	n_watched = 0;
static uint64 generation = 1;

void
js_store_register_loader(const char *name, JsStoreLoader loader, void *arg)
{
	int			i;

	for (i = 0; i < n_loaders; i++)
		if (strcmp(loaders[i].name, name) == 0)
		{
			loaders[i].fn = loader;
			loaders[i].arg = arg;
			return;
		}
	if (n_loaders >= MAX_LOADERS)
		elog(ERROR, "too many JSON Schema document loaders");
	loaders[n_loaders].name = MemoryContextStrdup(TopMemoryContext, name);
	loaders[n_loaders].fn = loader;
	loaders[n_loaders].arg = arg;
	n_loaders++;
	generation++;
}

void
js_store_watch_relation(const char *nspname, const char *relname)
{
	if (n_watched >= MAX_WATCHED)
		elog(ERROR, "too many JSON Schema store relations");
	watched[n_watched].nspname = MemoryContextStrdup(TopMemoryContext, nspname);
	watched[n_watched].relname = MemoryContextStrdup(TopMemoryContext, relname);
	watched[n_watched].relid = InvalidOid;
	n_watched++;
}

/* resolve watched relation names (needs a transaction: not in the callback) */
static void
resolve_watched(void)
{
	int			i;

	for (i = 0; i < n_watched; i++)
	{
		if (watched[i].relid == InvalidOid)
		{
			Oid			nsp = get_namespace_oid(watched[i].nspname, true);

			if (OidIsValid(nsp))
				watched[i].relid = get_relname_relid(watched[i].relname, nsp);
		}
	}
}

Jsonb *
js_store_load(const char *uri, void *arg)
{
	int			i;

	resolve_watched();
	for (i = 0; i < n_loaders; i++)
	{
		Jsonb	   *doc = loaders[i].fn(uri, loaders[i].arg);

		if (doc)
			return doc;
	}
	return NULL;
}

uint64
js_store_generation(void)
{
	return generation;
}

void
js_store_invalidate(void)
{
	generation++;
}

static void
store_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	if (relid == InvalidOid)
	{
		/* cache reset: anything may have changed; names may point elsewhere */
		for (i = 0; i < n_watched; i++)
			watched[i].relid = InvalidOid;
		generation++;
		return;
	}
	for (i = 0; i < n_watched; i++)
	{
		if (watched[i].relid == relid)
		{
			watched[i].relid = InvalidOid;	/* dropped and recreated: look again */
			generation++;
		}
	}
}

void
js_store_init(void)
{
	lc_register_relcache_callback(store_relcache_callback, (Datum) 0);
}

/*
 * The body of a loader backed by a table: run "query" (one text parameter,
 * $1 = the URI; read-only, at most one row, one jsonb column) through SPI
 * and return its jsonb, copied into the caller's memory context, or NULL
 * when there is no row or the value is NULL.  The documents are cached for
 * the backend, so the query never runs under the caller's search_path
 * (lc_trusted.h).
 */
Jsonb *
js_store_query_document(const char *query, const char *uri)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	Jsonb	   *result = NULL;
	int			ret;
	LcTrusted	trusted;

	values[0] = CStringGetTextDatum(uri);
	lc_trusted_begin(&trusted, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(query, 1, argtypes, values, NULL, true, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			result = DatumGetJsonbPCopy(d);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	lc_trusted_end(&trusted);
	return result;
}
