/*-------------------------------------------------------------------------
 *
 * js_format_sql.c
 *	  SQL entry point to the JSON Schema format checkers.
 *
 * lowcode.format_check(format, value) runs one JSON Schema format check
 * (js_format.c).  Text arrives in the database encoding and is converted to
 * UTF-8, which is what js_format works on.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "jsonschema/js_internal.h"
#include "lc/lc_regex.h"

PG_FUNCTION_INFO_V1(lc_format_check_sql);

Datum
lc_format_check_sql(PG_FUNCTION_ARGS)
{
	char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			len;
	char	   *value = lc_text_to_utf8(PG_GETARG_TEXT_PP(1), &len);
	bool		known = true;
	bool		ok = js_format_check(format, value, len, &known);

	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown format \"%s\"", format),
				 errhint("Known formats: date-time, date, time, duration, email, idn-email, hostname, idn-hostname, ipv4, ipv6, uri, uri-reference, iri, iri-reference, uri-template, uuid, regex, json-pointer, relative-json-pointer.")));
	PG_RETURN_BOOL(ok);
}
