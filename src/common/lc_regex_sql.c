/*-------------------------------------------------------------------------
 *
 * lc_regex_sql.c
 *	  SQL entry points to the regex translator and the format checkers.
 *
 * lowcode.regex_test(dialect, pattern, subject) and
 * lowcode.regex_translate(dialect, pattern) show users (and tests) how a
 * JSON Schema or CEL pattern behaves and what ARE text it becomes;
 * lowcode.format_check(format, value) runs one JSON Schema format check.
 * Text arrives in the database encoding and is converted to UTF-8, which
 * is what lc_regex and js_format work on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/lc_regex.h"
#include "fmgr.h"
#include "jsonschema/js_format.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(lc_regex_test_sql);
PG_FUNCTION_INFO_V1(lc_regex_translate_sql);
PG_FUNCTION_INFO_V1(lc_format_check_sql);

/* text argument as UTF-8; *len set */
static char *
text_to_utf8(text *t, int *len)
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
	char	   *pattern = text_to_utf8(PG_GETARG_TEXT_PP(1), &plen);
	char	   *subject = text_to_utf8(PG_GETARG_TEXT_PP(2), &slen);
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
	char	   *pattern = text_to_utf8(PG_GETARG_TEXT_PP(1), &plen);
	char	   *msg = NULL;
	char	   *are = lc_regex_translate(dialect, pattern, plen, &msg);

	if (!are)
		pattern_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), msg);
	PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(are, strlen(are), PG_UTF8)));
}

Datum
lc_format_check_sql(PG_FUNCTION_ARGS)
{
	char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			len;
	char	   *value = text_to_utf8(PG_GETARG_TEXT_PP(1), &len);
	bool		known = true;
	bool		ok = js_format_check(format, value, len, &known);

	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown format \"%s\"", format),
				 errhint("Known formats: date-time, date, time, duration, email, idn-email, hostname, idn-hostname, ipv4, ipv6, uri, uri-reference, iri, iri-reference, uri-template, uuid, regex, json-pointer, relative-json-pointer.")));
	PG_RETURN_BOOL(ok);
}
