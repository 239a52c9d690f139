/*-------------------------------------------------------------------------
 *
 * js_uri.c
 *	  URI reference resolution (RFC 3986 section 5) for $id and $ref.
 *
 * Only what JSON Schema needs: split a reference into its components,
 * resolve it against a base, remove dot segments.  An empty base stands for
 * "no base URI" (a schema without $id): references then stay relative and
 * are still resolved against each other consistently.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "jsonschema/js_internal.h"
#include "lc/lc_hex.h"

typedef struct UriParts
{
	char	   *scheme;			/* NULL when absent; the others likewise */
	char	   *authority;
	char	   *path;			/* never NULL, may be "" */
	char	   *query;
	char	   *fragment;
} UriParts;

static void
uri_split(const char *s, UriParts *p)
{
	const char *c = s;
	const char *e;

	memset(p, 0, sizeof(*p));

	/* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if (isalpha((unsigned char) *c))
	{
		e = c;
		while (isalnum((unsigned char) *e) || *e == '+' || *e == '-' || *e == '.')
			e++;
		if (*e == ':')
		{
			p->scheme = pnstrdup(c, e - c);
			c = e + 1;
		}
	}
	if (c[0] == '/' && c[1] == '/')
	{
		c += 2;
		e = c + strcspn(c, "/?#");
		p->authority = pnstrdup(c, e - c);
		c = e;
	}
	e = c + strcspn(c, "?#");
	p->path = pnstrdup(c, e - c);
	c = e;
	if (*c == '?')
	{
		c++;
		e = c + strcspn(c, "#");
		p->query = pnstrdup(c, e - c);
		c = e;
	}
	if (*c == '#')
		p->fragment = pstrdup(c + 1);
}

/* RFC 3986 5.2.4 */
static char *
remove_dot_segments(const char *path)
{
	StringInfoData out;
	const char *in = path;

	initStringInfo(&out);
	while (*in)
	{
		if (strncmp(in, "../", 3) == 0)
			in += 3;
		else if (strncmp(in, "./", 2) == 0)
			in += 2;
		else if (strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0)
		{
			appendStringInfoChar(&out, '/');
			break;
		}
		else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0)
		{
			char	   *slash;
			bool		last = (in[3] == '\0');

			in += 3;
			slash = strrchr(out.data, '/');
			if (slash)
			{
				out.len = slash - out.data;
				out.data[out.len] = '\0';
			}
			else
				resetStringInfo(&out);
			if (last)
			{
				appendStringInfoChar(&out, '/');
				break;
			}
		}
		else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
			break;
		else
		{
			const char *e = in;

			if (*e == '/')
				e++;
			e += strcspn(e, "/");
			appendBinaryStringInfo(&out, in, e - in);
			in = e;
		}
	}
	return out.data;
}

static char *
uri_join(const UriParts *p)
{
	StringInfoData out;

	initStringInfo(&out);
	if (p->scheme)
		appendStringInfo(&out, "%s:", p->scheme);
	if (p->authority)
		appendStringInfo(&out, "//%s", p->authority);
	appendStringInfoString(&out, p->path);
	if (p->query)
		appendStringInfo(&out, "?%s", p->query);
	if (p->fragment)
		appendStringInfo(&out, "#%s", p->fragment);
	return out.data;
}

char *
js_uri_resolve(const char *base, const char *ref)
{
	UriParts	b,
				r,
				t;

	uri_split(ref, &r);
	if (base == NULL || base[0] == '\0')
	{
		if (r.path[0] == '/' || r.scheme || r.authority)
			r.path = remove_dot_segments(r.path);
		return uri_join(&r);
	}
	uri_split(base, &b);
	memset(&t, 0, sizeof(t));

	if (r.scheme)
	{
		t.scheme = r.scheme;
		t.authority = r.authority;
		t.path = remove_dot_segments(r.path);
		t.query = r.query;
	}
	else
	{
		if (r.authority)
		{
			t.authority = r.authority;
			t.path = remove_dot_segments(r.path);
			t.query = r.query;
		}
		else
		{
			if (r.path[0] == '\0')
			{
				t.path = b.path;
				t.query = r.query ? r.query : b.query;
			}
			else
			{
				if (r.path[0] == '/')
					t.path = remove_dot_segments(r.path);
				else
				{
					/* merge (5.2.3) */
					char	   *merged;

					if (b.authority && b.path[0] == '\0')
						merged = psprintf("/%s", r.path);
					else
					{
						char	   *slash = strrchr(b.path, '/');

						if (slash)
							merged = psprintf("%.*s%s", (int) (slash - b.path + 1),
											  b.path, r.path);
						else
							merged = pstrdup(r.path);
					}
					/* a URN-like base (no authority, no slash) keeps no path */
					t.path = remove_dot_segments(merged);
				}
				t.query = r.query;
			}
			t.authority = b.authority;
		}
		t.scheme = b.scheme;
	}
	t.fragment = r.fragment;
	return uri_join(&t);
}

/* the URI without its fragment; *fragment gets the fragment ("" if none) */
char *
js_uri_strip_fragment(const char *uri, char **fragment)
{
	const char *hash = strchr(uri, '#');

	if (hash == NULL)
	{
		if (fragment)
			*fragment = pstrdup("");
		return pstrdup(uri);
	}
	if (fragment)
		*fragment = pstrdup(hash + 1);
	return pnstrdup(uri, hash - uri);
}

char *
js_uri_percent_decode(const char *s)
{
	StringInfoData out;

	initStringInfo(&out);
	while (*s)
	{
		if (s[0] == '%' && lc_hex_digit((unsigned char) s[1]) >= 0 && lc_hex_digit((unsigned char) s[2]) >= 0)
		{
			appendStringInfoChar(&out, (char) (lc_hex_digit((unsigned char) s[1]) * 16 + lc_hex_digit((unsigned char) s[2])));
			s += 3;
		}
		else
			appendStringInfoChar(&out, *s++);
	}
	return out.data;
}

bool
js_uri_is_absolute(const char *uri)
{
	UriParts	p;

	uri_split(uri, &p);
	return p.scheme != NULL;
}
