/*-------------------------------------------------------------------------
 *
 * jsonlogic_fuzz.c
 *	  libFuzzer harness for the JsonLogic engine core (src/jsonlogic/
 *	  jsonlogic_value.c, jsonlogic_engine.c), built without a server against
 *	  test/fuzz/fuzz_shim.c.  See test/fuzz/README-jsonlogic.md and
 *	  test/fuzz/run_jsonlogic.sh.
 *
 * Input: a JSON rule, optionally followed by a JSON data document.  The
 * harness reads both with its own small JSON reader (iterative, so any
 * nesting depth reads), compiles the rule with a depth limit of 100,000,
 * evaluates it over the data, which the engine reads through JlHost
 * callbacks exactly as it reads jsonb in the server, and serializes the
 * result.  Errors raised with ereport are expected outcomes; a crash, a
 * sanitizer report, a leak or a timeout is a bug.
 *
 * LLVMFuzzerTestOneInput is the libFuzzer entry point; the standalone build
 * (-DJL_FUZZ_STANDALONE) instead runs each file named on the command line
 * once, for reproducing a crash without libFuzzer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "jsonlogic/jsonlogic_int.h"
#include "fuzz_shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---------------------------------------------------------- JSON reader */

typedef struct Reader
{
	const char *p;
	const char *end;
} Reader;

static void
skip_ws(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static void
put_utf8(StringInfo s, uint32 c)
{
	if (c < 0x80)
		appendStringInfoChar(s, (char) c);
	else if (c < 0x800)
	{
		appendStringInfoChar(s, (char) (0xC0 | (c >> 6)));
		appendStringInfoChar(s, (char) (0x80 | (c & 0x3F)));
	}
	else if (c < 0x10000)
	{
		appendStringInfoChar(s, (char) (0xE0 | (c >> 12)));
		appendStringInfoChar(s, (char) (0x80 | ((c >> 6) & 0x3F)));
		appendStringInfoChar(s, (char) (0x80 | (c & 0x3F)));
	}
	else
	{
		appendStringInfoChar(s, (char) (0xF0 | (c >> 18)));
		appendStringInfoChar(s, (char) (0x80 | ((c >> 12) & 0x3F)));
		appendStringInfoChar(s, (char) (0x80 | ((c >> 6) & 0x3F)));
		appendStringInfoChar(s, (char) (0x80 | (c & 0x3F)));
	}
}

static int
hex4(const char *p, const char *end)
{
	int			v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		char		c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* A string after its opening quote; raw bytes pass through unchecked. */
static bool
read_string(Reader *r, char **out, int32 *len)
{
	StringInfoData s;

	initStringInfo(&s);
	while (r->p < r->end && *r->p != '"')
	{
		char		c = *r->p++;

		if (c != '\\')
		{
			appendStringInfoChar(&s, c);
			continue;
		}
		if (r->p >= r->end)
			return false;
		c = *r->p++;
		switch (c)
		{
			case 'n':
				appendStringInfoChar(&s, '\n');
				break;
			case 't':
				appendStringInfoChar(&s, '\t');
				break;
			case 'r':
				appendStringInfoChar(&s, '\r');
				break;
			case 'b':
				appendStringInfoChar(&s, '\b');
				break;
			case 'f':
				appendStringInfoChar(&s, '\f');
				break;
			case 'u':
				{
					int			u = hex4(r->p, r->end);

					if (u < 0)
						return false;
					r->p += 4;
					if (u >= 0xD800 && u < 0xDC00 && r->end - r->p >= 6 &&
						r->p[0] == '\\' && r->p[1] == 'u')
					{
						int			lo = hex4(r->p + 2, r->end);

						if (lo >= 0xDC00 && lo < 0xE000)
						{
							r->p += 6;
							put_utf8(&s, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
							break;
						}
					}
					put_utf8(&s, (u >= 0xD800 && u < 0xE000) ? 0xFFFD : (uint32) u);
				}
				break;
			default:
				appendStringInfoChar(&s, c);
		}
	}
	if (r->p >= r->end)
		return false;
	r->p++;						/* closing quote */
	*out = s.data;
	*len = s.len;
	return true;
}

static bool
read_scalar(Reader *r, JlValue *v)
{
	if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0)
	{
		r->p += 4;
		*v = jl_null();
		return true;
	}
	if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0)
	{
		r->p += 4;
		*v = jl_bool(true);
		return true;
	}
	if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0)
	{
		r->p += 5;
		*v = jl_bool(false);
		return true;
	}
	if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
	{
		char		buf[64];
		int			n = 0;

		while (r->p < r->end && n < 63 &&
			   (strchr("+-.eE", *r->p) || (*r->p >= '0' && *r->p <= '9')))
			buf[n++] = *r->p++;
		buf[n] = '\0';
		*v = jl_number(strtod(buf, NULL));
		return true;
	}
	return false;
}

/*
 * One JSON value, iteratively (no recursion, so any depth reads), built
 * with the engine's own builder (jl_build_*), as the server builds rules.
 */
static bool
read_value(Reader *r, JlValue *out)
{
	JlBuilder	b;

	jl_build_init(&b);
	for (;;)
	{
		JlValue		v;

		skip_ws(r);
		if (r->p >= r->end)
			return false;
		if (jl_build_wants_key(&b))
		{
			char	   *key;
			int32		keylen;

			/* expecting a key or the end of an object */
			if (*r->p == '}')
			{
				r->p++;
				if (jl_build_end(&b))
					break;
				goto after_value;
			}
			if (*r->p != '"')
				return false;
			r->p++;
			if (!read_string(r, &key, &keylen))
				return false;
			jl_build_key(&b, key, keylen);
			skip_ws(r);
			if (r->p >= r->end || *r->p != ':')
				return false;
			r->p++;
			continue;
		}
		if (*r->p == '[' || *r->p == '{')
		{
			bool		is_array = (*r->p == '[');

			jl_build_begin(&b, is_array);
			r->p++;
			skip_ws(r);
			if (is_array && r->p < r->end && *r->p == ']')
			{
				r->p++;
				if (jl_build_end(&b))
					break;
				goto after_value;
			}
			continue;
		}
		if (*r->p == '"')
		{
			char	   *s;
			int32		len;

			r->p++;
			if (!read_string(r, &s, &len))
				return false;
			v = jl_string(s, len);
		}
		else if (!read_scalar(r, &v))
			return false;
		if (jl_build_value(&b, v))
			break;

after_value:
		/* inside a container: a comma, or the container's end */
		for (;;)
		{
			skip_ws(r);
			if (r->p >= r->end)
				return false;
			if (*r->p == ',')
			{
				r->p++;
				break;
			}
			if (*r->p == (jl_build_in_array(&b) ? ']' : '}'))
			{
				r->p++;
				if (jl_build_end(&b))
				{
					*out = b.result;
					return true;
				}
				continue;
			}
			return false;
		}
	}
	*out = b.result;
	return true;
}

/* ---------------------------------------------------------- host */

/* Host handles are pointers to the harness's own JlValue nodes. */
static void
wrap(const JlValue *v, JlValue *out)
{
	*out = *v;
	if (v->type == JL_ARRAY || v->type == JL_OBJECT)
	{
		out->ext = true;
		out->u.h = v;
	}
}

static int32
h_array_len(const void *h)
{
	return ((const JlValue *) h)->u.a->len;
}

static void
h_array_get(const void *h, int32 i, JlValue *out)
{
	const JlValue *arr = h;

	if (i < 0 || i >= arr->u.a->len)
		abort();				/* the engine must stay in bounds */
	wrap(&arr->u.a->items[i], out);
}

static bool
h_object_get(const void *h, const char *key, int32 keylen, JlValue *out)
{
	const JlObject *o = ((const JlValue *) h)->u.o;

	for (int32 i = 0; i < o->len; i++)
		if (o->entries[i].keylen == keylen && memcmp(o->entries[i].key, key, keylen) == 0)
		{
			wrap(&o->entries[i].val, out);
			return true;
		}
	return false;
}

static void
h_to_json(const void *h, StringInfo out)
{
	static const JlHost plain = {true, NULL, NULL, NULL, NULL};
	JlContext	cx = {&plain, 0, PG_INT64_MAX};

	jl_to_json(&cx, *(const JlValue *) h, out);
}

static const JlHost fuzz_host = {
	true, h_array_len, h_array_get, h_object_get, h_to_json
};

/* ---------------------------------------------------------- entry point */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf	jmp;
	char		base;
	volatile bool ok = false;

	shim_stack_base = &base;
	shim_error_jmp = &jmp;
	if (sigsetjmp(jmp, 0) == 0)
	{
		Reader		r = {(const char *) data, (const char *) data + size};
		JlValue    *rule = palloc(sizeof(JlValue));
		JlValue    *doc = palloc(sizeof(JlValue));
		JlValue		root;
		JlRule	   *compiled;
		JlValue		result;
		JlContext	cx = {&fuzz_host, 0, PG_INT64_MAX};
		StringInfoData out;

		if (read_value(&r, rule))
		{
			skip_ws(&r);
			if (r.p >= r.end || !read_value(&r, doc))
				*doc = jl_null();
			wrap(doc, &root);
			compiled = jl_compile(rule, 100000);
			result = jl_evaluate(compiled, root, &fuzz_host, 200000);
			initStringInfo(&out);
			jl_to_json(&cx, result, &out);
			ok = true;
		}
	}
	(void) ok;
	shim_error_jmp = NULL;
	shim_reset_arena();
	return 0;
}

#ifdef JL_FUZZ_STANDALONE
#undef printf
int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		FILE	   *f = fopen(argv[i], "rb");
		char	   *buf;
		long		n;

		if (!f)
		{
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(n + 1);
		if (fread(buf, 1, n, f) != (size_t) n)
			return 1;
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *) buf, n);
		printf("%s: ok (last error: %s)\n", argv[i], shim_last_message);
		free(buf);
	}
	return 0;
}
#endif
