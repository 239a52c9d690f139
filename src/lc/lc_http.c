/*-------------------------------------------------------------------------
 *
 * lc_http.c
 *	  Raise errors in the form PostgREST maps to HTTP responses, from C and
 *	  from SQL (lowcode.raise_http).
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "lc/lc_http.h"
#include "lc/lc_trace.h"
#include "metrics/metrics.h"

static void
append_json_field(StringInfo buf, const char *key, const char *value, bool first)
{
	if (!first)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

void
lc_raise_http(int status, const char *code, const char *message,
			  const char *details, const char *hint, const char *headers_json)
{
	StringInfoData body;
	StringInfoData detail;
	const char *trace = lc_trace_id();

	initStringInfo(&body);
	appendStringInfoChar(&body, '{');
	append_json_field(&body, "code", code, true);
	append_json_field(&body, "message", message, false);
	append_json_field(&body, "details", details, false);
	append_json_field(&body, "hint", hint, false);
	/* PostgREST reads the four keys above and ignores others: the trace id is for logs and SQL clients */
	if (trace)
		append_json_field(&body, "trace_id", trace, false);
	appendStringInfoChar(&body, '}');

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"status\":%d,\"headers\":", status);
	if (trace)
	{
		/* HTTP clients get it as a response header, so that a front end can report it */
		const char *h = headers_json ? headers_json : "{}";

		while (*h == ' ' || *h == '\t' || *h == '\n' || *h == '\r')
			h++;
		appendStringInfo(&detail, "{\"X-Trace-Id\":\"%s\"", trace);
		if (*h == '{')
			h++;
		while (*h == ' ' || *h == '\t' || *h == '\n' || *h == '\r')
			h++;
		if (*h != '}' && *h != '\0')
			appendStringInfoChar(&detail, ',');
		appendStringInfoString(&detail, h);	/* with its closing brace */
	}
	else
		appendStringInfoString(&detail, headers_json ? headers_json : "{}");
	appendStringInfoChar(&detail, '}');

	metrics_count_refusal(status);
	ereport(ERROR,
			(errcode(ERRCODE_PGRST),
			 errmsg_internal("%s", body.data),
			 errdetail_internal("%s", detail.data)));
	pg_unreachable();
}

PG_FUNCTION_INFO_V1(lowcode_raise_http);

/*
 * lowcode.raise_http(status int, code text, message text, details text,
 *					  hint text, headers jsonb) RETURNS void
 */
Datum
lowcode_raise_http(PG_FUNCTION_ARGS)
{
	int			status;
	char	   *code;
	char	   *message;
	char	   *details = NULL;
	char	   *hint = NULL;
	char	   *headers = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("raise_http: status, code and message must not be NULL")));
	status = PG_GETARG_INT32(0);
	if (status < 100 || status > 599)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("raise_http: %d is not an HTTP status", status)));
	code = text_to_cstring(PG_GETARG_TEXT_PP(1));
	message = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		details = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
		hint = text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (!PG_ARGISNULL(5))
	{
		Jsonb	   *h = PG_GETARG_JSONB_P(5);

		if (!JB_ROOT_IS_OBJECT(h) || JB_ROOT_IS_SCALAR(h))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("raise_http: headers must be a JSON object")));
		headers = JsonbToCString(NULL, &h->root, VARSIZE(h));
	}
	lc_raise_http(status, code, message, details, hint, headers);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_current_trace_id);

/* lowcode.current_trace_id() RETURNS text: lc_trace_id(), or NULL */
Datum
lowcode_current_trace_id(PG_FUNCTION_ARGS)
{
	const char *v = lc_trace_id();

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(v));
}
