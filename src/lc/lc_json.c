/*-------------------------------------------------------------------------
 *
 * lc_json.c
 *	  One top-level field of a JSON object, read with PostgreSQL's JSON
 *	  lexer (no jsonb built), and a uuid parser that does not raise.
 *
 * pre_request() reads claims and headers from PostgREST's settings on every
 * request: the JWT claims (keys matched exactly) and the request headers
 * (HTTP header names are case-insensitive).  Both go through here.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "lc/lc_hex.h"
#include "lc/lc_json.h"

/*
 * JSON semantic actions return void before PostgreSQL 16 and an error code
 * from 16 on.
 */
#if PG_VERSION_NUM >= 160000
#define JSON_ACTION_TYPE JsonParseErrorType
#define JSON_ACTION_OK return JSON_SUCCESS
#else
#define JSON_ACTION_TYPE void
#define JSON_ACTION_OK return
#endif

typedef struct FieldParseState
{
	JsonLexContext *lex;
	const char *key;
	bool		case_insensitive;
	bool		in_key;			/* the current top-level field is "key" */
	bool		found;
	bool		not_string;
	char	   *value;
} FieldParseState;

static JSON_ACTION_TYPE
field_start(void *state, char *fname, bool isnull)
{
	FieldParseState *st = state;

	st->in_key = (st->lex->lex_level == 1 &&
				  (st->case_insensitive ? pg_strcasecmp(fname, st->key) : strcmp(fname, st->key)) == 0);
	JSON_ACTION_OK;
}

static JSON_ACTION_TYPE
field_scalar(void *state, char *token, JsonTokenType tokentype)
{
	FieldParseState *st = state;

	if (st->in_key && st->lex->lex_level == 1)
	{
		/* A repeated key: the last one wins, as in jsonb. */
		st->found = (tokentype != JSON_TOKEN_NULL);
		st->not_string = (tokentype != JSON_TOKEN_STRING && tokentype != JSON_TOKEN_NULL);
		st->value = (tokentype == JSON_TOKEN_STRING) ? token : NULL;
		st->in_key = false;
	}
	JSON_ACTION_OK;
}

static JSON_ACTION_TYPE
field_nested_start(void *state)
{
	FieldParseState *st = state;

	/* An object or array as the value of the key. */
	if (st->in_key && st->lex->lex_level == 1)
	{
		st->found = true;
		st->not_string = true;
		st->value = NULL;
		st->in_key = false;
	}
	JSON_ACTION_OK;
}

/*
 * The value of top-level field "key" of the JSON text "json" (NULL or empty:
 * absent).  The string is palloc'd in the current memory context.
 */
LcJsonFieldStatus
lc_json_top_field(const char *json, const char *key, bool case_insensitive, char **value)
{
	JsonLexContext *lex;
	JsonSemAction sem;
	FieldParseState st;

	*value = NULL;
	if (json == NULL || json[0] == '\0')
		return LC_JSON_ABSENT;

	memset(&st, 0, sizeof(st));
	memset(&sem, 0, sizeof(sem));
	lex = makeJsonLexContextCstringLen((char *) json, strlen(json), GetDatabaseEncoding(), true);
	st.lex = lex;
	st.key = key;
	st.case_insensitive = case_insensitive;
	sem.semstate = &st;
	sem.object_field_start = field_start;
	sem.scalar = field_scalar;
	sem.object_start = field_nested_start;
	sem.array_start = field_nested_start;

	if (pg_parse_json(lex, &sem) != JSON_SUCCESS)
		return LC_JSON_NOT_JSON;
	if (!st.found)
		return LC_JSON_ABSENT;
	if (st.not_string)
		return LC_JSON_NOT_STRING;
	*value = st.value;
	return LC_JSON_STRING;
}

/*
 * Parse a uuid in the forms uuid_in accepts for claims (32 hex digits,
 * hyphens after the 4th, 6th, 8th and 10th byte, optional braces) without
 * raising an error (uuid_in would).
 */
bool
lc_parse_uuid(const char *s, pg_uuid_t *out)
{
	const char *p = s;
	int			i;

	if (*p == '{')
		p++;
	for (i = 0; i < UUID_LEN; i++)
	{
		int			hi,
					lo;

		if ((i == 4 || i == 6 || i == 8 || i == 10) && *p == '-')
			p++;
		hi = lc_hex_digit((unsigned char) p[0]);
		if (hi < 0)
			return false;
		lo = lc_hex_digit((unsigned char) p[1]);
		if (lo < 0)
			return false;
		out->data[i] = (unsigned char) ((hi << 4) | lo);
		p += 2;
	}
	if (*s == '{')
	{
		if (*p != '}')
			return false;
		p++;
	}
	return *p == '\0';
}
