/*-------------------------------------------------------------------------
 *
 * registry_sql.c
 *	  SQL functions of the schema registry written in C.
 *
 * lowcode.schema_diff(old, new, refs) exposes the compatibility diff
 * (registry_diff.c); the registry's SQL (sql/60_registry.sql) combines its
 * changes with the subject's compatibility mode.  Also: the end user and
 * the trace id of the current request, cached per request.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "lc/lc_trace.h"
#include "registry/registry_diff.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(lowcode_schema_diff);

Datum
lowcode_schema_diff(PG_FUNCTION_ARGS)
{
	Jsonb	   *old_schema = PG_GETARG_JSONB_P(0);
	Jsonb	   *new_schema = PG_GETARG_JSONB_P(1);
	Jsonb	   *refs = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);

	PG_RETURN_JSONB_P(reg_changes_to_jsonb(reg_schema_diff(old_schema, new_schema, refs)));
}

/* ---------------------------------------------------------------------
 * Who and which trace, cached per request.
 *
 * Submissions and audit rows record the end user (the JWT "sub" claim) and
 * the W3C trace id of the request.  Both come from JSON text in settings
 * (request.jwt.claims, request.headers) that stays the same for a whole
 * request, so each is parsed once and reused while the setting's text is
 * unchanged (a changed text, even within a transaction, is parsed again).
 * The trace id is lc_trace_id()'s (src/lc/lc_trace.c).
 * --------------------------------------------------------------------- */

typedef struct TopKeyState
{
	const char *key;
	int			depth;
	bool		in_key;
	bool		found;
	char	   *value;			/* the string value, palloc'd; NULL if not a string */
} TopKeyState;

static void
tk_object_start(void *arg)
{
	((TopKeyState *) arg)->depth++;
}

static void
tk_object_end(void *arg)
{
	((TopKeyState *) arg)->depth--;
}

static void
tk_array_start(void *arg)
{
	((TopKeyState *) arg)->depth++;
}

static void
tk_array_end(void *arg)
{
	((TopKeyState *) arg)->depth--;
}

static void
tk_field_start(void *arg, char *fname, bool isnull)
{
	TopKeyState *st = arg;

	st->in_key = (st->depth == 1 && strcmp(fname, st->key) == 0);
}

static void
tk_scalar(void *arg, char *token, JsonTokenType tokentype)
{
	TopKeyState *st = arg;

	if (st->in_key && st->depth == 1)
	{
		st->found = true;
		st->value = tokentype == JSON_TOKEN_STRING ? pstrdup(token) : NULL;
		st->in_key = false;
	}
}

/* the top-level string value of "key" in a JSON object text, or NULL */
static char *
json_top_string(const char *json, const char *key)
{
	JsonLexContext *lex;
	JsonSemAction sem;
	TopKeyState st;

	if (json == NULL || json[0] == '\0')
		return NULL;
	memset(&st, 0, sizeof(st));
	memset(&sem, 0, sizeof(sem));
	st.key = key;
	sem.semstate = &st;
	sem.object_start = tk_object_start;
	sem.object_end = tk_object_end;
	sem.array_start = tk_array_start;
	sem.array_end = tk_array_end;
	sem.object_field_start = tk_field_start;
	sem.scalar = tk_scalar;
	lex = makeJsonLexContextCstringLen((char *) json, strlen(json), GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS || !st.found)
		return NULL;
	return st.value;
}

typedef struct CachedSetting
{
	char	   *text;			/* the setting's text the value was computed from */
	char	   *value;			/* NULL: none */
	bool		valid;
} CachedSetting;

static CachedSetting sub_cache;
static CachedSetting language_cache;

static bool
cache_hit(CachedSetting *c, const char *text)
{
	return c->valid && ((text == NULL && c->text == NULL) ||
						(text != NULL && c->text != NULL && strcmp(text, c->text) == 0));
}

static void
cache_store(CachedSetting *c, const char *text, const char *value)
{
	if (c->text)
		pfree(c->text);
	if (c->value)
		pfree(c->value);
	c->text = text ? MemoryContextStrdup(TopMemoryContext, text) : NULL;
	c->value = value ? MemoryContextStrdup(TopMemoryContext, value) : NULL;
	c->valid = true;
}

const char *
registry_actor_sub(void)
{
	const char *claims = GetConfigOption("request.jwt.claims", true, false);

	if (!cache_hit(&sub_cache, claims))
	{
		const char *p = claims;

		while (p && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		cache_store(&sub_cache, claims, (p && *p == '{') ? json_top_string(claims, "sub") : NULL);
	}
	return sub_cache.value;
}

/* The W3C trace id of the request: lc_trace_id(), shared with events and HTTP errors. */
const char *
registry_trace_id(void)
{
	return lc_trace_id();
}

/* the request's Accept-Language header (PostgREST passes headers lower-cased), or NULL */
const char *
registry_accept_language(void)
{
	const char *headers = GetConfigOption("request.headers", true, false);

	if (!cache_hit(&language_cache, headers))
	{
		const char *p = headers;

		while (p && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		cache_store(&language_cache, headers,
					(p && *p == '{') ? json_top_string(headers, "accept-language") : NULL);
	}
	return language_cache.value;
}

/* PostgREST's role (SET ROLE), else the login role; as lowcode.registry_actor_role() */
const char *
registry_actor_role(void)
{
	const char *role = GetConfigOption("role", true, false);

	if (role && role[0] != '\0' && strcmp(role, "none") != 0)
		return role;
	return GetUserNameFromId(GetSessionUserId(), false);
}

PG_FUNCTION_INFO_V1(lowcode_registry_actor_sub);

Datum
lowcode_registry_actor_sub(PG_FUNCTION_ARGS)
{
	const char *v = registry_actor_sub();

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(v));
}

PG_FUNCTION_INFO_V1(lowcode_registry_trace_id);

Datum
lowcode_registry_trace_id(PG_FUNCTION_ARGS)
{
	const char *v = registry_trace_id();

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(v));
}
