/*-------------------------------------------------------------------------
 *
 * lc_regex_sql.c
 *	  SQL entry points to the regex translator.
 *
 * lowcode.regex_test(dialect, pattern, subject) and
 * lowcode.regex_translate(dialect, pattern) show users (and tests) how a
 * JSON Schema or CEL pattern behaves and what ARE text it becomes.
 * Text arrives in the database encoding and is converted to UTF-8, which
 * is what lc_regex works on.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_regex.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(lc_regex_test_sql);
PG_FUNCTION_INFO_V1(lc_regex_translate_sql);

/* text argument as UTF-8; *len set */
char *
lc_text_to_utf8(text *t, int *len)
{
	int			l = VARSIZE_ANY_EXHDR(t);
	char	   *s = pg_server_to_any(VARDATA_ANY(t), l, PG_UTF8);

	if (s != VARDATA_ANY(t))
		l = strlen(s);
	else
	{
		s = pnstrdup(s, l);
	}
	*len = l;
	return s;
}

static LcRegexDialect
dialect_arg(text *t)
{
	char	   *name = text_to_cstring(t);

	if (pg_strcasecmp(name, "ecma262") == 0 || pg_strcasecmp(name, "ecma") == 0 ||
		pg_strcasecmp(name, "jsonschema") == 0)
		return LC_REGEX_ECMA262;
	if (pg_strcasecmp(name, "re2") == 0 || pg_strcasecmp(name, "cel") == 0)
		return LC_REGEX_RE2;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown regular expression dialect \"%s\"", name),
			 errhint("Use \"ecma262\" (JSON Schema) or \"re2\" (CEL).")));
	return LC_REGEX_ECMA262;	/* not reached */
}

static void
pattern_error(const char *pattern, const char *msg)
{
	/* quote at most 60 characters of the pattern */
	int			len = strlen(pattern);
	int			cut = pg_mbcliplen(pattern, len, 60);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
			 errmsg("invalid regular expression \"%.*s%s\"", cut, pattern,
					cut < len ? "..." : ""),
			 errdetail("%s", msg)));
}

Datum
lc_regex_test_sql(PG_FUNCTION_ARGS)
{
	LcRegexDialect dialect = dialect_arg(PG_GETARG_TEXT_PP(0));
	int			plen,
				slen;
	char	   *pattern = lc_text_to_utf8(PG_GETARG_TEXT_PP(1), &plen);
	char	   *subject = lc_text_to_utf8(PG_GETARG_TEXT_PP(2), &slen);
	char	   *msg = NULL;
	int			r = lc_regex_match(dialect, pattern, plen, subject, slen, &msg);

	if (r < 0)
		pattern_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), msg);
	PG_RETURN_BOOL(r == 1);
}

Datum
lc_regex_translate_sql(PG_FUNCTION_ARGS)
{
	LcRegexDialect dialect = dialect_arg(PG_GETARG_TEXT_PP(0));
	int			plen;
	char	   *pattern = lc_text_to_utf8(PG_GETARG_TEXT_PP(1), &plen);
	char	   *msg = NULL;
	char	   *are = lc_regex_translate(dialect, pattern, plen, &msg);

	if (!are)
		pattern_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), msg);
	PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(are, strlen(are), PG_UTF8)));
}
