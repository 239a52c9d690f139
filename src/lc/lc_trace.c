/*-------------------------------------------------------------------------
 *
 * lc_trace.c
 *	  The W3C trace context of the current request: the trace id of the
 *	  traceparent header PostgREST puts in request.headers (issue 20).
 *
 * traceparent is "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
 * (https://www.w3.org/TR/trace-context/); any case and surrounding blanks
 * are accepted, an all-zero trace id is invalid.  Header names are
 * case-insensitive.  When the header is absent or invalid there is no
 * trace id (NULL), as before this issue; malformed headers give NULL too,
 * never an error: the trace id must not fail a request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"

#include "lc/lc_trace.h"

char *
lc_trace_id_of(const char *tp)
{
	char		buf[56];
	int			len;
	int			start = 0;

	if (tp == NULL)
		return NULL;
	while (tp[start] == ' ' || tp[start] == '\t' || tp[start] == '\n' || tp[start] == '\r')
		start++;
	len = strlen(tp + start);
	while (len > 0 && (tp[start + len - 1] == ' ' || tp[start + len - 1] == '\t' ||
					   tp[start + len - 1] == '\n' || tp[start + len - 1] == '\r'))
		len--;
	if (len != 55)
		return NULL;
	for (int i = 0; i < 55; i++)
	{
		char		ch = pg_ascii_tolower((unsigned char) tp[start + i]);

		if (i == 2 || i == 35 || i == 52)
		{
			if (ch != '-')
				return NULL;
		}
		else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return NULL;
		buf[i] = ch;
	}
	buf[55] = '\0';
	if (strncmp(buf + 3, "00000000000000000000000000000000", 32) == 0)
		return NULL;
	return pnstrdup(buf + 3, 32);
}

/*
 * The first top-level string value of key "traceparent" (any case) in a
 * JSON object text, palloc'd, or NULL.  A scanner that only tracks strings
 * and nesting depth, without recursion and without building anything:
 * headers nested a million levels deep or holding escapes jsonb refuses
 * must give no trace id rather than an error (the SQL version before this
 * file read it with a regular expression for the same reason).  With
 * repeated keys the first one counts.  A key or value with escapes is not
 * a traceparent.
 */
static char *
find_traceparent(const char *json)
{
	const char *p = json;
	int			depth = 0;
	bool		expect_key = false;

	if (json == NULL)
		return NULL;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p != '{')
		return NULL;
	for (; *p; p++)
	{
		switch (*p)
		{
			case '{':
				depth++;
				expect_key = (depth == 1);
				break;
			case '[':
				depth++;
				break;
			case '}':
			case ']':
				depth--;
				if (depth <= 0)
					return NULL;	/* the end of the object */
				break;
			case ',':
				expect_key = (depth == 1);
				break;
			case '"':
				{
					const char *start = ++p;
					bool		escaped = false;

					while (*p && *p != '"')
					{
						if (*p == '\\')
						{
							escaped = true;
							if (*++p == '\0')
								return NULL;
						}
						p++;
					}
					if (*p == '\0')
						return NULL;
					if (depth == 1 && expect_key)
					{
						const char *q = p + 1;

						expect_key = false;
						if (escaped || p - start != 11 || pg_strncasecmp(start, "traceparent", 11) != 0)
							break;
						while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
							q++;
						if (*q++ != ':')
							return NULL;
						while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
							q++;
						if (*q != '"')
							return NULL;	/* not a string */
						start = ++q;
						while (*q && *q != '"' && *q != '\\')
							q++;
						if (*q != '"')
							return NULL;
						return pnstrdup(start, q - start);
					}
				}
				break;
			default:
				break;
		}
	}
	return NULL;
}

/* the request.headers text the cached trace id was read from */
static char *cached_headers = NULL;
static char *cached_trace = NULL;
static bool cached = false;

const char *
lc_trace_id(void)
{
	const char *headers = GetConfigOption("request.headers", true, false);
	char	   *id;

	if (cached && ((headers == NULL && cached_headers == NULL) ||
				   (headers != NULL && cached_headers != NULL && strcmp(headers, cached_headers) == 0)))
		return cached_trace;

	id = lc_trace_id_of(find_traceparent(headers));
	if (cached_headers)
		pfree(cached_headers);
	if (cached_trace)
		pfree(cached_trace);
	cached_headers = headers ? MemoryContextStrdup(TopMemoryContext, headers) : NULL;
	cached_trace = id ? MemoryContextStrdup(TopMemoryContext, id) : NULL;
	cached = true;
	return cached_trace;
}
