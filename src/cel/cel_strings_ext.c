/*-------------------------------------------------------------------------
 *
 * cel_strings_ext.c
 *	  The CEL strings extension library (as cel-go's ext.Strings): charAt,
 *	  indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
 *	  substring, trim, join, reverse, format and strings.quote; and the
 *	  encoders library (ext.Encoders): base64.encode, base64.decode.
 *
 * Indexes count Unicode code points, not bytes.  Every function that builds
 * a string checks the size against the host's allocation limit (lc_host.h)
 * and charges cost.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/base64.h"
#include "miscadmin.h"
#include "cel/cel_int.h"

/* byte offsets of the code points of s: offs[i] for i in 0..n (offs[n] = len) */
static int *
cp_offsets(const char *s, int len, int *n)
{
	int		   *offs = palloc((len + 1) * sizeof(int));
	int			k = 0,
				i;

	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			offs[k++] = i;
	offs[k] = len;
	*n = k;
	return offs;
}

static void
set_int(CelValue *out, int64 v)
{
	out->kind = CEL_INT;
	out->v.i = v;
}

static void
no_overload(CelValue *out, const char *name)
{
	cel_make_error(out, CEL_ERR_NO_OVERLOAD, "no such overload for '%s'", name);
}

static char *
dup_bytes(const char *s, int len)
{
	char	   *r = palloc(len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

static int
find_bytes(const char *h, int hl, const char *n, int nl, int from)
{
	int			i;

	for (i = from; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return i;
	return -1;
}

/* code point index of byte offset b */
static int
cp_index(const int *offs, int n, int b)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (offs[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
is_unicode_space(uint32 c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
		(c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
		c == 0x205F || c == 0x3000;
}

static uint32
decode_cp(const char *s, int len)
{
	unsigned char c = (unsigned char) s[0];

	if (c < 0x80 || len < 2)
		return c;
	if ((c & 0xE0) == 0xC0)
		return ((c & 0x1F) << 6) | (s[1] & 0x3F);
	if ((c & 0xF0) == 0xE0 && len >= 3)
		return ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
	if (len >= 4)
		return ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
	return c;
}

/* ---- format ---- */

static bool format_value_as_string(StringInfo buf, const CelValue *v, CelValue *err);

static int
cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
format_double_s(StringInfo buf, double d)
{
	if (isnan(d))
		appendStringInfoString(buf, "NaN");
	else if (isinf(d))
		appendStringInfoString(buf, d > 0 ? "Infinity" : "-Infinity");
	else
		cel_format_double(buf, d);
}

static bool
format_value_as_string(StringInfo buf, const CelValue *v, CelValue *err)
{
	check_stack_depth();
	switch (v->kind)
	{
		case CEL_STRING:
		case CEL_BYTES:
			appendBinaryStringInfo(buf, v->v.s.data, v->v.s.len);
			return true;
		case CEL_INT:
			appendStringInfo(buf, INT64_FORMAT, v->v.i);
			return true;
		case CEL_UINT:
			appendStringInfo(buf, UINT64_FORMAT, v->v.u);
			return true;
		case CEL_DOUBLE:
			format_double_s(buf, v->v.d);
			return true;
		case CEL_BOOL:
			appendStringInfoString(buf, v->v.b ? "true" : "false");
			return true;
		case CEL_NULL:
			appendStringInfoString(buf, "null");
			return true;
		case CEL_TYPE:
			appendStringInfoString(buf, v->v.type_name);
			return true;
		case CEL_TIMESTAMP:
			cel_format_timestamp(buf, v->v.t.sec, v->v.t.nanos);
			return true;
		case CEL_DURATION:
			cel_format_duration(buf, v->v.t.sec, v->v.t.nanos);
			return true;
		case CEL_LIST:
			{
				int			n = cel_list_size(v->v.list),
							i;

				appendStringInfoChar(buf, '[');
				for (i = 0; i < n; i++)
				{
					CelValue	x;

					if (i)
						appendStringInfoString(buf, ", ");
					cel_list_get(v->v.list, i, &x);
					if (!format_value_as_string(buf, &x, err))
						return false;
				}
				appendStringInfoChar(buf, ']');
				return true;
			}
		case CEL_MAP:
			{
				int			n = cel_map_size(v->v.map),
							i;
				char	  **ents = palloc(Max(n, 1) * sizeof(char *));

				for (i = 0; i < n; i++)
				{
					CelValue	k,
								x;
					StringInfoData e;

					cel_map_entry(v->v.map, i, &k, &x);
					initStringInfo(&e);
					if (!format_value_as_string(&e, &k, err))
						return false;
					appendStringInfoString(&e, ": ");
					if (!format_value_as_string(&e, &x, err))
						return false;
					ents[i] = e.data;
				}
				qsort(ents, n, sizeof(char *), cmp_strings);
				appendStringInfoChar(buf, '{');
				for (i = 0; i < n; i++)
				{
					if (i)
						appendStringInfoString(buf, ", ");
					appendStringInfoString(buf, ents[i]);
				}
				appendStringInfoChar(buf, '}');
				return true;
			}
		default:
			cel_make_error(err, CEL_ERR_INVALID_ARGUMENT,
						   "error during formatting: string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given %s",
						   cel_type_name(v));
			return false;
	}
}

static void
append_radix(StringInfo buf, uint64 u, int base, bool upper)
{
	char		tmp[70];
	int			n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	if (u == 0)
		tmp[n++] = '0';
	while (u > 0)
	{
		tmp[n++] = digits[u % base];
		u /= base;
	}
	while (n > 0)
		appendStringInfoChar(buf, tmp[--n]);
}

static void
do_format(CelEnv *env, const CelValue *fmt, const CelValue *list, CelValue *out)
{
	StringInfoData buf;
	const char *s = fmt->v.s.data;
	int			len = fmt->v.s.len,
				i,
				argi = 0;
	int			nargs = cel_list_size(list->v.list);

	initStringInfo(&buf);
	for (i = 0; i < len; i++)
	{
		int			prec = -1;
		char		c;
		CelValue	arg;

		if (s[i] != '%')
		{
			appendStringInfoChar(&buf, s[i]);
			continue;
		}
		i++;
		if (i >= len)
		{
			cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "could not parse formatting clause: unexpected end of string");
			return;
		}
		if (s[i] == '%')
		{
			appendStringInfoChar(&buf, '%');
			continue;
		}
		if (s[i] == '.')
		{
			prec = 0;
			i++;
			while (i < len && s[i] >= '0' && s[i] <= '9' && prec < 1000)
				prec = prec * 10 + (s[i++] - '0');
			if (i >= len)
			{
				cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "could not parse formatting clause: unexpected end of string");
				return;
			}
		}
		c = s[i];
		if (strchr("sdfebxXo", c) == NULL)
		{
			cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
						   "could not parse formatting clause: unrecognized formatting clause \"%c\"", c);
			return;
		}
		if (argi >= nargs)
		{
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index %d out of range", argi);
			return;
		}
		cel_list_get(list->v.list, argi++, &arg);
		cel_charge(env, 1);
		switch (c)
		{
			case 's':
				if (!format_value_as_string(&buf, &arg, out))
					return;
				break;
			case 'd':
				if (arg.kind == CEL_INT)
					appendStringInfo(&buf, INT64_FORMAT, arg.v.i);
				else if (arg.kind == CEL_UINT)
					appendStringInfo(&buf, UINT64_FORMAT, arg.v.u);
				else if (arg.kind == CEL_DOUBLE && (isnan(arg.v.d) || isinf(arg.v.d)))
					format_double_s(&buf, arg.v.d);
				else
				{
					cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
								   "error during formatting: decimal clause can only be used on integers, was given %s",
								   cel_type_name(&arg));
					return;
				}
				break;
			case 'f':
			case 'e':
				{
					double		d;

					if (arg.kind == CEL_DOUBLE)
						d = arg.v.d;
					else if (arg.kind == CEL_INT)
						d = (double) arg.v.i;
					else if (arg.kind == CEL_UINT)
						d = (double) arg.v.u;
					else
					{
						cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
									   "error during formatting: %s clause can only be used on doubles, was given %s",
									   c == 'f' ? "fixed-point" : "scientific", cel_type_name(&arg));
						return;
					}
					if (isnan(d) || isinf(d))
						format_double_s(&buf, d);
					else
						appendStringInfo(&buf, c == 'f' ? "%.*f" : "%.*e", prec < 0 ? 6 : Min(prec, 100), d);
					break;
				}
			case 'b':
			case 'o':
				if (arg.kind == CEL_INT || arg.kind == CEL_UINT || (c == 'b' && arg.kind == CEL_BOOL))
				{
					uint64		u;

					if (arg.kind == CEL_BOOL)
						u = arg.v.b ? 1 : 0;
					else if (arg.kind == CEL_UINT)
						u = arg.v.u;
					else if (arg.v.i < 0)
					{
						appendStringInfoChar(&buf, '-');
						u = (uint64) (-(arg.v.i + 1)) + 1;
					}
					else
						u = (uint64) arg.v.i;
					append_radix(&buf, u, c == 'b' ? 2 : 8, false);
				}
				else
				{
					if (c == 'b')
						cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
									   "error during formatting: only integers and bools can be formatted as binary, was given %s",
									   cel_type_name(&arg));
					else
						cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
									   "error during formatting: octal clause can only be used on integers, was given %s",
									   cel_type_name(&arg));
					return;
				}
				break;
			case 'x':
			case 'X':
				if (arg.kind == CEL_INT || arg.kind == CEL_UINT)
				{
					uint64		u;

					if (arg.kind == CEL_UINT)
						u = arg.v.u;
					else if (arg.v.i < 0)
					{
						appendStringInfoChar(&buf, '-');
						u = (uint64) (-(arg.v.i + 1)) + 1;
					}
					else
						u = (uint64) arg.v.i;
					append_radix(&buf, u, 16, c == 'X');
				}
				else if (arg.kind == CEL_STRING || arg.kind == CEL_BYTES)
				{
					const char *digits = c == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";

					cel_check_alloc((Size) buf.len + 2 * (Size) arg.v.s.len, "string");
					for (int k = 0; k < arg.v.s.len; k++)
					{
						unsigned char b = (unsigned char) arg.v.s.data[k];

						appendStringInfoChar(&buf, digits[b >> 4]);
						appendStringInfoChar(&buf, digits[b & 15]);
					}
				}
				else
				{
					cel_make_error(out, CEL_ERR_INVALID_ARGUMENT,
								   "error during formatting: only integers, byte buffers, and strings can be formatted as hex, was given %s",
								   cel_type_name(&arg));
					return;
				}
				break;
		}
		cel_check_alloc(buf.len, "string");
	}
	cel_make_string(out, buf.data, buf.len);
}

static void
do_quote(const CelValue *s, CelValue *out)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (i = 0; i < s->v.s.len; i++)
	{
		unsigned char c = (unsigned char) s->v.s.data[i];

		switch (c)
		{
			case '\a':
				appendStringInfoString(&buf, "\\a");
				break;
			case '\b':
				appendStringInfoString(&buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(&buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(&buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(&buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(&buf, "\\t");
				break;
			case '\v':
				appendStringInfoString(&buf, "\\v");
				break;
			case '\\':
				appendStringInfoString(&buf, "\\\\");
				break;
			case '"':
				appendStringInfoString(&buf, "\\\"");
				break;
			default:
				if (c < 0x20 || c == 0x7f)
					appendStringInfo(&buf, "\\x%02x", c);
				else
					appendStringInfoChar(&buf, (char) c);
		}
	}
	appendStringInfoChar(&buf, '"');
	cel_check_alloc(buf.len, "string");
	cel_make_string(out, buf.data, buf.len);
}

bool
cel_strings_ext_call(CelEnv *env, const char *name, bool is_method,
					 int nargs, CelValue *args, CelValue *out)
{
	CelValue   *s = &args[0];

	if (strcmp(name, "base64.encode") == 0)
	{
		/* bytes -> string, the standard alphabet with padding (PostgreSQL's encoder) */
		if (nargs != 1 || s->kind != CEL_BYTES)
			no_overload(out, name);
		else
		{
			int			enclen = pg_b64_enc_len(s->v.s.len);
			char	   *enc;
			int			n;

			cel_check_alloc(enclen, "string");
			enc = palloc(enclen + 1);
			n = pg_b64_encode(s->v.s.data, s->v.s.len, enc, enclen);
			cel_make_string(out, enc, Max(n, 0));
		}
		return true;
	}
	if (strcmp(name, "base64.decode") == 0)
	{
		/* string -> bytes; as cel-go, padding may be left out */
		if (nargs != 1 || s->kind != CEL_STRING)
			no_overload(out, name);
		else
		{
			int			len = s->v.s.len;
			char	   *padded = palloc(len + 4);
			int			dlen;
			char	   *dec;
			int			n;

			memcpy(padded, s->v.s.data, len);
			if (len % 4 == 2 || len % 4 == 3)
				while (len % 4 != 0)
					padded[len++] = '=';
			dlen = pg_b64_dec_len(len);
			dec = palloc(dlen + 1);
			n = (len % 4 == 0) ? pg_b64_decode(padded, len, dec, dlen) : -1;
			if (n < 0)
				cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "base64.decode: invalid base64 text");
			else
				cel_make_bytes(out, dec, n);
		}
		return true;
	}
	if (strcmp(name, "strings.quote") == 0)
	{
		if (nargs != 1 || s->kind != CEL_STRING)
			no_overload(out, name);
		else
			do_quote(s, out);
		return true;
	}
	if (!is_method)
		return false;

	if (strcmp(name, "join") == 0)
	{
		StringInfoData buf;
		int			n,
					i;

		if (s->kind != CEL_LIST || nargs > 2 || (nargs == 2 && args[1].kind != CEL_STRING))
		{
			no_overload(out, name);
			return true;
		}
		n = cel_list_size(s->v.list);
		initStringInfo(&buf);
		for (i = 0; i < n; i++)
		{
			CelValue	x;

			cel_list_get(s->v.list, i, &x);
			if (x.kind != CEL_STRING)
			{
				no_overload(out, name);
				return true;
			}
			if (i && nargs == 2)
				appendBinaryStringInfo(&buf, args[1].v.s.data, args[1].v.s.len);
			cel_check_alloc((Size) buf.len + x.v.s.len, "string");
			appendBinaryStringInfo(&buf, x.v.s.data, x.v.s.len);
		}
		cel_charge(env, buf.len / 64);
		cel_make_string(out, buf.data, buf.len);
		return true;
	}
	if (strcmp(name, "format") == 0)
	{
		if (nargs != 2 || s->kind != CEL_STRING || args[1].kind != CEL_LIST)
			no_overload(out, name);
		else
			do_format(env, s, &args[1], out);
		return true;
	}

	if (s->kind != CEL_STRING)
	{
		no_overload(out, name);
		return true;
	}

	if (strcmp(name, "charAt") == 0)
	{
		int			n;
		int		   *offs;
		int64		i;

		if (nargs != 2 || args[1].kind != CEL_INT)
		{
			no_overload(out, name);
			return true;
		}
		offs = cp_offsets(s->v.s.data, s->v.s.len, &n);
		i = args[1].v.i;
		if (i < 0 || i > n)
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index out of range: " INT64_FORMAT, i);
		else if (i == n)
			cel_make_string(out, "", 0);
		else
			cel_make_string(out, s->v.s.data + offs[i], offs[i + 1] - offs[i]);
		return true;
	}
	if (strcmp(name, "indexOf") == 0 || strcmp(name, "lastIndexOf") == 0)
	{
		bool		last = (name[0] == 'l');
		int			n,
					b;
		int		   *offs;
		int64		start;
		CelValue   *sub = &args[1];

		if (nargs < 2 || nargs > 3 || sub->kind != CEL_STRING ||
			(nargs == 3 && args[2].kind != CEL_INT))
		{
			no_overload(out, name);
			return true;
		}
		offs = cp_offsets(s->v.s.data, s->v.s.len, &n);
		start = nargs == 3 ? args[2].v.i : (last ? n : 0);
		if (start < 0 || start > n)
		{
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index out of range: " INT64_FORMAT, start);
			return true;
		}
		if (!last)
		{
			b = find_bytes(s->v.s.data, s->v.s.len, sub->v.s.data, sub->v.s.len, offs[start]);
			set_int(out, b < 0 ? -1 : cp_index(offs, n, b));
		}
		else
		{
			int			from = offs[start];
			int			found = -1;

			/* last occurrence beginning at or before code point start */
			for (b = Min(from, s->v.s.len - sub->v.s.len); b >= 0; b--)
			{
				if (memcmp(s->v.s.data + b, sub->v.s.data, sub->v.s.len) == 0 &&
					((unsigned char) s->v.s.data[b] & 0xC0) != 0x80)
				{
					found = b;
					break;
				}
			}
			set_int(out, found < 0 ? -1 : cp_index(offs, n, found));
		}
		return true;
	}
	if (strcmp(name, "lowerAscii") == 0 || strcmp(name, "upperAscii") == 0)
	{
		char	   *r;
		int			i;

		if (nargs != 1)
		{
			no_overload(out, name);
			return true;
		}
		r = dup_bytes(s->v.s.data, s->v.s.len);
		for (i = 0; i < s->v.s.len; i++)
		{
			if (name[0] == 'l' && r[i] >= 'A' && r[i] <= 'Z')
				r[i] += 'a' - 'A';
			else if (name[0] == 'u' && r[i] >= 'a' && r[i] <= 'z')
				r[i] -= 'a' - 'A';
		}
		cel_make_string(out, r, s->v.s.len);
		return true;
	}
	if (strcmp(name, "replace") == 0)
	{
		StringInfoData buf;
		int64		limit = -1;
		int			p = 0,
					count = 0;
		CelValue   *from = &args[1],
				   *to = &args[2];

		if (nargs < 3 || nargs > 4 || from->kind != CEL_STRING || to->kind != CEL_STRING ||
			(nargs == 4 && args[3].kind != CEL_INT))
		{
			no_overload(out, name);
			return true;
		}
		if (nargs == 4)
			limit = args[3].v.i;
		initStringInfo(&buf);
		while (p <= s->v.s.len)
		{
			int			b;

			if (limit >= 0 && count >= limit)
				b = -1;
			else if (from->v.s.len == 0)
				b = p;
			else
				b = find_bytes(s->v.s.data, s->v.s.len, from->v.s.data, from->v.s.len, p);
			if (b < 0)
			{
				appendBinaryStringInfo(&buf, s->v.s.data + p, s->v.s.len - p);
				break;
			}
			appendBinaryStringInfo(&buf, s->v.s.data + p, b - p);
			cel_check_alloc((Size) buf.len + to->v.s.len, "string");
			appendBinaryStringInfo(&buf, to->v.s.data, to->v.s.len);
			count++;
			cel_charge(env, 1);
			if (from->v.s.len == 0)
			{
				/* empty pattern: insert between code points */
				int			next = b;

				if (b >= s->v.s.len)
					break;
				next++;
				while (next < s->v.s.len && ((unsigned char) s->v.s.data[next] & 0xC0) == 0x80)
					next++;
				appendBinaryStringInfo(&buf, s->v.s.data + b, next - b);
				p = next;
			}
			else
				p = b + from->v.s.len;
		}
		cel_make_string(out, buf.data, buf.len);
		return true;
	}
	if (strcmp(name, "split") == 0)
	{
		int64		limit = -1;
		CelValue   *sep = &args[1];
		CelValue   *items;
		int			cap = 8,
					cnt = 0,
					p = 0;

		if (nargs < 2 || nargs > 3 || sep->kind != CEL_STRING ||
			(nargs == 3 && args[2].kind != CEL_INT))
		{
			no_overload(out, name);
			return true;
		}
		if (nargs == 3)
			limit = args[2].v.i;
		items = palloc(cap * sizeof(CelValue));
		if (limit == 0)
		{
			cel_make_list(out, 0, items);
			return true;
		}
		for (;;)
		{
			int			b;

			if (cnt == cap)
			{
				cap *= 2;
				cel_check_alloc((Size) cap * sizeof(CelValue), "list");
				items = repalloc(items, cap * sizeof(CelValue));
			}
			cel_charge(env, 1);
			if (limit > 0 && cnt == limit - 1)
				b = -1;
			else if (sep->v.s.len == 0)
			{
				/* split into code points */
				if (p >= s->v.s.len)
					break;
				b = p + 1;
				while (b < s->v.s.len && ((unsigned char) s->v.s.data[b] & 0xC0) == 0x80)
					b++;
				if (b >= s->v.s.len)
					b = -1;
				else
				{
					cel_make_string(&items[cnt++], s->v.s.data + p, b - p);
					p = b;
					continue;
				}
			}
			else
				b = find_bytes(s->v.s.data, s->v.s.len, sep->v.s.data, sep->v.s.len, p);
			if (b < 0)
			{
				cel_make_string(&items[cnt++], s->v.s.data + p, s->v.s.len - p);
				break;
			}
			cel_make_string(&items[cnt++], s->v.s.data + p, b - p);
			p = b + sep->v.s.len;
		}
		cel_make_list(out, cnt, items);
		return true;
	}
	if (strcmp(name, "substring") == 0)
	{
		int			n;
		int		   *offs;
		int64		start,
					end;

		if (nargs < 2 || nargs > 3 || args[1].kind != CEL_INT || (nargs == 3 && args[2].kind != CEL_INT))
		{
			no_overload(out, name);
			return true;
		}
		offs = cp_offsets(s->v.s.data, s->v.s.len, &n);
		start = args[1].v.i;
		end = nargs == 3 ? args[2].v.i : n;
		if (start < 0 || start > n)
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index out of range: " INT64_FORMAT, start);
		else if (end < 0 || end > n)
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE, "index out of range: " INT64_FORMAT, end);
		else if (start > end)
			cel_make_error(out, CEL_ERR_INDEX_OUT_OF_RANGE,
						   "invalid substring range. start: " INT64_FORMAT ", end: " INT64_FORMAT, start, end);
		else
			cel_make_string(out, s->v.s.data + offs[start], offs[end] - offs[start]);
		return true;
	}
	if (strcmp(name, "trim") == 0)
	{
		int			n,
					a = 0,
					z;
		int		   *offs;

		if (nargs != 1)
		{
			no_overload(out, name);
			return true;
		}
		offs = cp_offsets(s->v.s.data, s->v.s.len, &n);
		z = n;
		while (a < z && is_unicode_space(decode_cp(s->v.s.data + offs[a], offs[a + 1] - offs[a])))
			a++;
		while (z > a && is_unicode_space(decode_cp(s->v.s.data + offs[z - 1], offs[z] - offs[z - 1])))
			z--;
		cel_make_string(out, s->v.s.data + offs[a], offs[z] - offs[a]);
		return true;
	}
	if (strcmp(name, "reverse") == 0)
	{
		int			n,
					i,
					p = 0;
		int		   *offs;
		char	   *r;

		if (nargs != 1)
		{
			no_overload(out, name);
			return true;
		}
		offs = cp_offsets(s->v.s.data, s->v.s.len, &n);
		r = palloc(s->v.s.len + 1);
		for (i = n - 1; i >= 0; i--)
		{
			memcpy(r + p, s->v.s.data + offs[i], offs[i + 1] - offs[i]);
			p += offs[i + 1] - offs[i];
		}
		cel_make_string(out, r, p);
		return true;
	}
	return false;
}
