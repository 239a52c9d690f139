/*-------------------------------------------------------------------------
 *
 * jsonlogic_value.c
 *	  JavaScript value semantics for the JsonLogic engine: conversions
 *	  (ToNumber, ToString, parseFloat), equality (== and ===), relational
 *	  comparison, Number::toString formatting, UTF-16 string indexing,
 *	  JSON.stringify, and the builder of value trees.
 *
 * Everything follows the ECMAScript abstract operations that json-logic-js
 * relies on, so a rule gives here what it gives in a browser.  Strings are
 * UTF-8 but indexed and compared in UTF-16 code units, as in JavaScript; a
 * cut through a surrogate pair yields U+FFFD, since PostgreSQL text cannot
 * hold a lone surrogate.
 *
 * Pure code: palloc, StringInfo, ereport only.
 *
 * src/jsonlogic/ is the JsonLogic component: the pure engine core and its SQL
 * glue (jsonlogic_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "jsonlogic/jsonlogic_int.h"
#include "lc/lc_host.h"

void
jl_charge_slow(JlContext *cx, int64 units)
{
	cx->cost += units;
	if (cx->cost > cx->max_cost)
	{
		if (lc_engine_host->budget_exhausted)
			lc_engine_host->budget_exhausted();
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_COST_EXCEEDED),
				 errmsg("JsonLogic rule exceeded its cost limit of " INT64_FORMAT " units",
						cx->max_cost),
				 errhint("Simplify the rule or the data, or raise lowcode.rules_max_cost.")));
	}
}

void
jl_check_size(Size size, const char *what)
{
	if (size > lc_engine_host->max_alloc)
		ereport(ERROR,
				(errcode(ERRCODE_JSONLOGIC_VALUE_TOO_LARGE),
				 errmsg("JsonLogic %s would exceed the maximum allocation size", what),
				 errdetail("%zu bytes requested, at most %zu allowed.",
						   size, lc_engine_host->max_alloc)));
}

/* ---------------------------------------------------------------- arrays */

int32
jl_array_len(JlContext *cx, JlValue arr)
{
	Assert(arr.type == JL_ARRAY);
	if (arr.ext)
		return cx->host->array_len(arr.u.h);
	return arr.u.a->len;
}

JlValue
jl_array_get(JlContext *cx, JlValue arr, int32 i)
{
	Assert(arr.type == JL_ARRAY);
	if (arr.ext)
	{
		JlValue		out;

		cx->host->array_get(arr.u.h, i, &out);
		return out;
	}
	return arr.u.a->items[i];
}

/* A fresh array of len items (charged one unit per item). */
JlValue
jl_new_array(JlContext *cx, int32 len, JlValue **items)
{
	JlValue		v = jl_undefined();
	JlArray    *a;

	jl_check_size((Size) len * sizeof(JlValue), "array");
	jl_charge(cx, len);
	a = palloc(sizeof(JlArray));
	a->len = len;
	a->items = len > 0 ? palloc(sizeof(JlValue) * len) : NULL;
	v.type = JL_ARRAY;
	v.u.a = a;
	if (items)
		*items = a->items;
	return v;
}

/* ------------------------------------------------------------ truthiness */

/* JavaScript's ToBoolean. */
static bool
js_to_boolean(JlValue v)
{
	switch ((JlType) v.type)
	{
		case JL_UNDEFINED:
		case JL_NULL:
			return false;
		case JL_BOOL:
			return v.u.b;
		case JL_NUMBER:
			return !(v.u.n == 0 || isnan(v.u.n));
		case JL_STRING:
			return v.len > 0;
		case JL_ARRAY:
		case JL_OBJECT:
			return true;
	}
	return false;
}

bool
jl_js_falsy(JlValue v)
{
	return !js_to_boolean(v);
}

/* JsonLogic's truthiness: JavaScript's, except that [] is false. */
bool
jl_truthy(JlContext *cx, JlValue v)
{
	if (v.type == JL_ARRAY)
		return jl_array_len(cx, v) > 0;
	return js_to_boolean(v);
}

/* ------------------------------------------------------- number -> string */

/*
 * Parse a decimal representation ("-1.2345e+20", "0.00012", "123") into its
 * significant digits (no leading or trailing zeros) and the position of the
 * decimal point: value = 0.digits * 10^point.  Returns the digit count.
 */
static int
parse_decimal_repr(const char *p, char *digits, int maxdigits, int *point,
				   bool *neg)
{
	int			k = 0;
	bool		seen_point = false;
	bool		leading = true;

	*point = 0;
	*neg = false;
	if (*p == '-')
	{
		*neg = true;
		p++;
	}
	for (; *p; p++)
	{
		if (*p == '.')
			seen_point = true;
		else if (*p >= '0' && *p <= '9')
		{
			if (leading && *p == '0')
			{
				/* a zero before the first significant digit */
				if (seen_point)
					(*point)--;
				continue;
			}
			leading = false;
			if (k < maxdigits)
				digits[k++] = *p;
			if (!seen_point)
				(*point)++;
		}
		else if (*p == 'e' || *p == 'E')
		{
			*point += atoi(p + 1);
			break;
		}
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	return k;
}

/* Does x printed with p significant digits read back as x? */
static bool
round_trips(double x, int p, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%.*e", p - 1, x);
	return strtod(buf, NULL) == x;
}

/*
 * Number::toString (ECMA-262 6.1.6.1.20): the fewest significant digits that
 * read back as the same double (the closest such digits when there are
 * several), laid out as plain decimals for exponents -7 < n <= 21, else as
 * d.ddde+n.
 *
 * PostgreSQL's Ryu formatter gives digits that round trip, but it is built
 * without Ryu's "strictly shortest" mode and sometimes gives more digits
 * than needed (3.839731728e20 comes out as 3.8397317279999997e+20).  Since a
 * number printed correctly rounded to p digits round trips for every p from
 * the shortest up, one check of p = k - 1 shows whether the k digits are the
 * shortest, and a binary search finds the shortest otherwise.
 */
int
jl_format_number(double n, char *buf)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN + 16];
	char		digits[32];
	int			k;				/* number of significant digits */
	int			point;			/* value = 0.digits * 10^point */
	bool		neg;
	char	   *o = buf;

	if (isnan(n))
		return sprintf(buf, "NaN");
	if (isinf(n))
		return sprintf(buf, n > 0 ? "Infinity" : "-Infinity");
	if (n == 0)
		return sprintf(buf, "0");
	/* integers below 2^53: their exact digits are the shortest */
	if (n == floor(n) && fabs(n) < 9007199254740992.0)
		return sprintf(buf, "%lld", (long long) n);

	double_to_shortest_decimal_buf(n, tmp);
	k = parse_decimal_repr(tmp, digits, (int) sizeof(digits) - 1, &point, &neg);
	if (k > 1 && round_trips(n, k - 1, tmp, sizeof(tmp)))
	{
		int			lo = 1,
					hi = k - 1;	/* hi round trips */

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (round_trips(n, mid, tmp, sizeof(tmp)))
				hi = mid;
			else
				lo = mid + 1;
		}
		snprintf(tmp, sizeof(tmp), "%.*e", hi - 1, n);
		k = parse_decimal_repr(tmp, digits, (int) sizeof(digits) - 1, &point, &neg);
	}

	if (neg)
		*o++ = '-';
	if (k <= point && point <= 21)
	{
		memcpy(o, digits, k);
		o += k;
		for (int i = 0; i < point - k; i++)
			*o++ = '0';
	}
	else if (0 < point && point <= 21)
	{
		memcpy(o, digits, point);
		o += point;
		*o++ = '.';
		memcpy(o, digits + point, k - point);
		o += k - point;
	}
	else if (-6 < point && point <= 0)
	{
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -point; i++)
			*o++ = '0';
		memcpy(o, digits, k);
		o += k;
	}
	else
	{
		int			e = point - 1;

		*o++ = digits[0];
		if (k > 1)
		{
			*o++ = '.';
			memcpy(o, digits + 1, k - 1);
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
	}
	*o = '\0';
	return (int) (o - buf);
}

/* ------------------------------------------------------- string -> number */

/* Length of the UTF-8 sequence at s (1 for an invalid byte). */
static inline int
utf8_seq_len(const unsigned char *s, const unsigned char *end)
{
	unsigned char c = *s;
	int			n;

	if (c < 0x80)
		return 1;
	else if ((c & 0xE0) == 0xC0)
		n = 2;
	else if ((c & 0xF0) == 0xE0)
		n = 3;
	else if ((c & 0xF8) == 0xF0)
		n = 4;
	else
		return 1;
	if (end - s < n)
		return 1;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

static inline uint32
utf8_decode(const unsigned char *s, int n)
{
	switch (n)
	{
		case 2:
			return ((s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		case 3:
			return ((s[0] & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		case 4:
			return ((s[0] & 0x07) << 18) | ((s[1] & 0x3F) << 12) |
				((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		default:
			return s[0];
	}
}

/* JavaScript's WhiteSpace and LineTerminator code points. */
static bool
is_js_space(uint32 c)
{
	switch (c)
	{
		case 0x09:
		case 0x0A:
		case 0x0B:
		case 0x0C:
		case 0x0D:
		case 0x20:
		case 0xA0:
		case 0x1680:
		case 0x2028:
		case 0x2029:
		case 0x202F:
		case 0x205F:
		case 0x3000:
		case 0xFEFF:
			return true;
		default:
			return c >= 0x2000 && c <= 0x200A;
	}
}

/* Bytes of JavaScript white space at s (forward). */
static int32
skip_space_forward(const char *s, int32 len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		int			n = utf8_seq_len(p, end);

		if (!is_js_space(n == 1 ? *p : utf8_decode(p, n)))
			break;
		p += n;
	}
	return (int32) (p - (const unsigned char *) s);
}

/* New length of s after dropping trailing JavaScript white space. */
static int32
trim_space_backward(const char *s, int32 len)
{
	while (len > 0)
	{
		int32		start = len - 1;
		const unsigned char *u = (const unsigned char *) s;
		int			n;

		/* step back to the start of the last UTF-8 sequence */
		while (start > 0 && len - start < 4 && (u[start] & 0xC0) == 0x80)
			start--;
		n = utf8_seq_len(u + start, u + len);
		if (start + n != len)
		{
			start = len - 1;
			n = 1;
		}
		if (!is_js_space(n == 1 ? u[start] : utf8_decode(u + start, n)))
			break;
		len = start;
	}
	return len;
}

/*
 * Length of the longest StrDecimalLiteral prefix of s ([+-] digits [. digits]
 * [e [+-] digits], or "Infinity" with a sign), 0 if none.  *is_inf is set
 * for Infinity.
 */
static int32
scan_decimal(const char *s, int32 len, bool *is_inf)
{
	int32		i = 0;
	int32		mant_digits = 0;
	int32		end;

	*is_inf = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (len - i >= 8 && memcmp(s + i, "Infinity", 8) == 0)
	{
		*is_inf = true;
		return i + 8;
	}
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, mant_digits++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, mant_digits++;
	}
	if (mant_digits == 0)
		return 0;
	end = i;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		int32		j = i + 1;
		int32		exp_digits = 0;

		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++, exp_digits++;
		if (exp_digits > 0)
			end = j;
	}
	return end;
}

/* strtod over a validated decimal literal of n bytes. */
static double
decimal_value(const char *s, int32 n, bool is_inf)
{
	char		small[64];
	char	   *copy;
	double		d;

	if (is_inf)
		return s[0] == '-' ? -INFINITY : INFINITY;
	copy = (n < (int32) sizeof(small)) ? small : palloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	d = strtod(copy, NULL);
	if (copy != small)
		pfree(copy);
	return d;
}

/* StringToNumber (ECMA-262 7.1.4.1.1). */
static double
string_to_number(const char *s, int32 len)
{
	int32		start = skip_space_forward(s, len);
	int32		end;
	int32		n;
	bool		is_inf;

	s += start;
	len -= start;
	len = trim_space_backward(s, len);
	if (len == 0)
		return 0;
	/* 0x, 0o, 0b literals (no sign allowed) */
	if (len > 2 && s[0] == '0' &&
		(s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'O' ||
		 s[1] == 'b' || s[1] == 'B'))
	{
		int			base = (s[1] == 'x' || s[1] == 'X') ? 16 :
		(s[1] == 'o' || s[1] == 'O') ? 8 : 2;
		int			bits = (base == 16) ? 4 : (base == 8) ? 3 : 1;
		uint64		m = 0;		/* the first 64 significant bits */
		int			shift = 0;	/* bits beyond them */
		bool		sticky = false; /* a 1 among those */

		for (int32 i = 2; i < len; i++)
		{
			int			dv;
			char		c = s[i];

			if (c >= '0' && c <= '9')
				dv = c - '0';
			else if (c >= 'a' && c <= 'f')
				dv = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				dv = c - 'A' + 10;
			else
				return NAN;
			if (dv >= base)
				return NAN;
			for (int b = bits - 1; b >= 0; b--)
			{
				int			bit = (dv >> b) & 1;

				if ((m >> 63) == 0)
					m = (m << 1) | bit;
				else
				{
					shift++;
					sticky |= bit;
				}
			}
		}
		/*
		 * Exactly rounded like JavaScript: bit 0 lies below the 53 bits kept,
		 * so setting it for the dropped ones decides ties correctly.
		 */
		if (sticky)
			m |= 1;
		return ldexp((double) m, shift);
	}
	end = scan_decimal(s, len, &is_inf);
	n = end;
	if (n != len)
		return NAN;
	return decimal_value(s, n, is_inf);
}

/* ---------------------------------------------------------- ToString etc. */

/* Append ToString(v) to buf, charging one unit per byte. */
void
jl_append_string(JlContext *cx, StringInfo buf, JlValue v)
{
	char		nbuf[40];
	int			n;

	switch ((JlType) v.type)
	{
		case JL_UNDEFINED:
			appendBinaryStringInfo(buf, "undefined", 9);
			break;
		case JL_NULL:
			appendBinaryStringInfo(buf, "null", 4);
			break;
		case JL_BOOL:
			if (v.u.b)
				appendBinaryStringInfo(buf, "true", 4);
			else
				appendBinaryStringInfo(buf, "false", 5);
			break;
		case JL_NUMBER:
			n = jl_format_number(v.u.n, nbuf);
			appendBinaryStringInfo(buf, nbuf, n);
			break;
		case JL_STRING:
			jl_check_size((Size) buf->len + v.len + 1, "string");
			jl_charge(cx, v.len);
			appendBinaryStringInfo(buf, v.u.s, v.len);
			break;
		case JL_ARRAY:
			{
				/* Array.prototype.join(","): null and undefined are empty */
				int32		len = jl_array_len(cx, v);

				check_stack_depth();
				for (int32 i = 0; i < len; i++)
				{
					JlValue		e = jl_array_get(cx, v, i);

					CHECK_FOR_INTERRUPTS();
					jl_charge(cx, 1);
					if (i > 0)
					{
						jl_check_size((Size) buf->len + 2, "string");
						appendStringInfoChar(buf, ',');
					}
					if (e.type != JL_UNDEFINED && e.type != JL_NULL)
						jl_append_string(cx, buf, e);
				}
			}
			break;
		case JL_OBJECT:
			appendBinaryStringInfo(buf, "[object Object]", 15);
			break;
	}
}

JlValue
jl_to_string(JlContext *cx, JlValue v)
{
	StringInfoData buf;

	if (v.type == JL_STRING)
		return v;
	initStringInfo(&buf);
	jl_append_string(cx, &buf, v);
	return jl_string(buf.data, buf.len);
}

/* ToPrimitive: arrays and objects become their ToString. */
static inline JlValue
to_primitive(JlContext *cx, JlValue v)
{
	if (v.type == JL_ARRAY || v.type == JL_OBJECT)
		return jl_to_string(cx, v);
	return v;
}

double
jl_to_number(JlContext *cx, JlValue v)
{
	switch ((JlType) v.type)
	{
		case JL_UNDEFINED:
			return NAN;
		case JL_NULL:
			return 0;
		case JL_BOOL:
			return v.u.b ? 1 : 0;
		case JL_NUMBER:
			return v.u.n;
		case JL_STRING:
			return string_to_number(v.u.s, v.len);
		case JL_ARRAY:
		case JL_OBJECT:
			{
				JlValue		s = to_primitive(cx, v);

				return string_to_number(s.u.s, s.len);
			}
	}
	return NAN;
}

/* parseFloat(ToString(v)): the longest decimal prefix, else NaN. */
double
jl_parse_float(JlContext *cx, JlValue v)
{
	JlValue		s;
	int32		start;
	int32		n;
	bool		is_inf;

	if (v.type == JL_NUMBER)
		return v.u.n == 0 ? 0 : v.u.n;	/* "-0" does not survive ToString */
	s = jl_to_string(cx, v);
	start = skip_space_forward(s.u.s, s.len);
	n = scan_decimal(s.u.s + start, s.len - start, &is_inf);
	if (n == 0)
		return NAN;
	return decimal_value(s.u.s + start, n, is_inf);
}

/* ---------------------------------------------------------- equality */

static inline const void *
identity(JlValue v)
{
	if (v.ext)
		return v.u.h;
	return v.type == JL_ARRAY ? (const void *) v.u.a : (const void *) v.u.o;
}

bool
jl_strict_equals(JlValue a, JlValue b)
{
	if (a.type != b.type)
		return false;
	switch ((JlType) a.type)
	{
		case JL_UNDEFINED:
		case JL_NULL:
			return true;
		case JL_BOOL:
			return a.u.b == b.u.b;
		case JL_NUMBER:
			return a.u.n == b.u.n;	/* NaN != NaN, 0 == -0 */
		case JL_STRING:
			return a.len == b.len && memcmp(a.u.s, b.u.s, a.len) == 0;
		case JL_ARRAY:
		case JL_OBJECT:
			return a.ext == b.ext && identity(a) == identity(b);
	}
	return false;
}

/* IsLooselyEqual (ECMA-262 7.2.14). */
bool
jl_loose_equals(JlContext *cx, JlValue a, JlValue b)
{
	for (;;)
	{
		bool		a_obj = (a.type == JL_ARRAY || a.type == JL_OBJECT);
		bool		b_obj = (b.type == JL_ARRAY || b.type == JL_OBJECT);

		if (a.type == b.type || (a_obj && b_obj))
			return jl_strict_equals(a, b);
		if ((a.type == JL_NULL || a.type == JL_UNDEFINED) &&
			(b.type == JL_NULL || b.type == JL_UNDEFINED))
			return true;
		if (a.type == JL_NUMBER && b.type == JL_STRING)
			return a.u.n == jl_to_number(cx, b);
		if (a.type == JL_STRING && b.type == JL_NUMBER)
			return jl_to_number(cx, a) == b.u.n;
		if (a.type == JL_BOOL)
		{
			a = jl_number(a.u.b ? 1 : 0);
			continue;
		}
		if (b.type == JL_BOOL)
		{
			b = jl_number(b.u.b ? 1 : 0);
			continue;
		}
		if ((a.type == JL_NUMBER || a.type == JL_STRING) && b_obj)
		{
			b = to_primitive(cx, b);
			continue;
		}
		if (a_obj && (b.type == JL_NUMBER || b.type == JL_STRING))
		{
			a = to_primitive(cx, a);
			continue;
		}
		return false;
	}
}

/* ------------------------------------------------------- UTF-16 strings */

/* First UTF-16 code unit and the count of units of the character at p. */
static inline uint32
utf16_units(const unsigned char *p, int n, uint32 *second, int *count)
{
	uint32		c = (n == 1) ? *p : utf8_decode(p, n);

	if (c >= 0x10000)
	{
		*count = 2;
		*second = 0xDC00 + ((c - 0x10000) & 0x3FF);
		return 0xD800 + ((c - 0x10000) >> 10);
	}
	*count = 1;
	*second = 0;
	return c;
}

int32
jl_utf16_length(const JlHost *host, const char *s, int32 len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	int32		units = 0;

	if (!host->utf8)
		return len;
	while (p < end)
	{
		int			n = utf8_seq_len(p, end);

		units += (n == 4) ? 2 : 1;
		p += n;
	}
	return units;
}

/*
 * The UTF-16 units [from, to) of str as a new UTF-8 string; a surrogate pair
 * cut in half gives U+FFFD for the half that is kept.
 */
JlValue
jl_utf16_substring(JlContext *cx, JlValue str, int64 from, int64 to)
{
	const unsigned char *p = (const unsigned char *) str.u.s;
	const unsigned char *end = p + str.len;
	const unsigned char *copy_start = NULL;
	StringInfoData buf;
	int64		pos = 0;

	if (from >= to)
		return jl_string("", 0);
	if (!cx->host->utf8)
	{
		if (from < 0)
			from = 0;
		if (to > str.len)
			to = str.len;
		if (from >= to)
			return jl_string("", 0);
		jl_charge(cx, to - from);
		return jl_string(str.u.s + from, (int32) (to - from));
	}
	/* strings are immutable: a whole-character range can share the bytes */
	initStringInfo(&buf);
	while (p < end && pos < to)
	{
		int			n = utf8_seq_len(p, end);
		int			units = (n == 4) ? 2 : 1;

		if (units == 2 && (pos + 1 == from || pos + 1 == to))
		{
			/* the pair is cut: keep U+FFFD for the half inside the range */
			if (copy_start)
				appendBinaryStringInfo(&buf, (const char *) copy_start, p - copy_start);
			copy_start = NULL;
			appendBinaryStringInfo(&buf, "\xEF\xBF\xBD", 3);
		}
		else if (pos >= from)
		{
			if (!copy_start)
				copy_start = p;
		}
		pos += units;
		p += n;
	}
	if (copy_start)
		appendBinaryStringInfo(&buf, (const char *) copy_start, p - copy_start);
	jl_charge(cx, buf.len);
	return jl_string(buf.data, buf.len);
}

/* Compare two strings by UTF-16 code units, as JavaScript's < does. */
static int
compare_utf16(const JlHost *host, JlValue a, JlValue b)
{
	const unsigned char *pa = (const unsigned char *) a.u.s;
	const unsigned char *ea = pa + a.len;
	const unsigned char *pb = (const unsigned char *) b.u.s;
	const unsigned char *eb = pb + b.len;

	if (!host->utf8)
	{
		int			c = memcmp(a.u.s, b.u.s, Min(a.len, b.len));

		if (c != 0)
			return c;
		return (a.len > b.len) - (a.len < b.len);
	}
	while (pa < ea && pb < eb)
	{
		int			na = utf8_seq_len(pa, ea);
		int			nb = utf8_seq_len(pb, eb);

		if (na == nb && memcmp(pa, pb, na) == 0)
		{
			pa += na;
			pb += nb;
			continue;
		}
		else
		{
			uint32		sa,
						sb;
			int			ca,
						cb;
			uint32		ua = utf16_units(pa, na, &sa, &ca);
			uint32		ub = utf16_units(pb, nb, &sb, &cb);

			if (ua != ub)
				return ua < ub ? -1 : 1;
			if (ca != cb)		/* cannot happen for valid UTF-8 */
				return ca < cb ? -1 : 1;
			if (sa != sb)
				return sa < sb ? -1 : 1;
			/* same character written differently (invalid bytes) */
			pa += na;
			pb += nb;
		}
	}
	if (pa < ea)
		return 1;
	if (pb < eb)
		return -1;
	return 0;
}

/*
 * Compare a and b per IsLessThan (ECMA-262 7.2.13): strings compare as
 * strings (UTF-16 units), anything else as numbers; NaN gives
 * JL_CMP_UNDEFINED, for which <, <=, > and >= are all false.
 */
int
jl_compare(JlContext *cx, JlValue a, JlValue b)
{
	double		x,
				y;

	if (a.type == JL_NUMBER && b.type == JL_NUMBER)
	{
		x = a.u.n;
		y = b.u.n;
		if (isnan(x) || isnan(y))
			return JL_CMP_UNDEFINED;
		return (x > y) - (x < y);
	}
	a = to_primitive(cx, a);
	b = to_primitive(cx, b);
	if (a.type == JL_STRING && b.type == JL_STRING)
	{
		int			c = compare_utf16(cx->host, a, b);

		return (c > 0) - (c < 0);
	}
	x = jl_to_number(cx, a);
	y = jl_to_number(cx, b);
	if (isnan(x) || isnan(y))
		return JL_CMP_UNDEFINED;
	return (x > y) - (x < y);
}

/* JavaScript's binary + (string concatenation or numeric addition). */
JlValue
jl_js_add(JlContext *cx, JlValue a, JlValue b)
{
	a = to_primitive(cx, a);
	b = to_primitive(cx, b);
	if (a.type == JL_STRING || b.type == JL_STRING)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		jl_append_string(cx, &buf, a);
		jl_append_string(cx, &buf, b);
		return jl_string(buf.data, buf.len);
	}
	return jl_number(jl_to_number(cx, a) + jl_to_number(cx, b));
}

/* ------------------------------------------------------- property access */

/* The array index a canonical numeric string denotes, or -1. */
static int64
canonical_index(const char *key, int32 keylen)
{
	int64		v = 0;

	if (keylen == 0 || keylen > 10)
		return -1;
	if (key[0] == '0')
		return keylen == 1 ? 0 : -1;
	for (int32 i = 0; i < keylen; i++)
	{
		if (key[i] < '0' || key[i] > '9')
			return -1;
		v = v * 10 + (key[i] - '0');
	}
	return v < 4294967295LL ? v : -1;
}

/*
 * obj[key] for a JSON-ish value: own keys of objects, indexes and "length"
 * of arrays and strings; undefined otherwise (prototype properties such as
 * "toString" are not modelled).
 */
JlValue
jl_get_property(JlContext *cx, JlValue obj, const char *key, int32 keylen)
{
	switch ((JlType) obj.type)
	{
		case JL_OBJECT:
			if (obj.ext)
			{
				JlValue		out;

				if (cx->host->object_get(obj.u.h, key, keylen, &out))
					return out;
			}
			else
			{
				for (int32 i = 0; i < obj.u.o->len; i++)
				{
					JlObjectEntry *e = &obj.u.o->entries[i];

					if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
						return e->val;
				}
			}
			return jl_undefined();
		case JL_ARRAY:
			{
				int32		len = jl_array_len(cx, obj);
				int64		idx;

				if (keylen == 6 && memcmp(key, "length", 6) == 0)
					return jl_number(len);
				idx = canonical_index(key, keylen);
				if (idx >= 0 && idx < len)
					return jl_array_get(cx, obj, (int32) idx);
				return jl_undefined();
			}
		case JL_STRING:
			{
				int32		len = jl_utf16_length(cx->host, obj.u.s, obj.len);
				int64		idx;

				if (keylen == 6 && memcmp(key, "length", 6) == 0)
					return jl_number(len);
				idx = canonical_index(key, keylen);
				if (idx >= 0 && idx < len)
					return jl_utf16_substring(cx, obj, idx, idx + 1);
				return jl_undefined();
			}
		default:
			return jl_undefined();
	}
}

/* ---------------------------------------------------------- JSON.stringify */

void
jl_append_json_string(StringInfo out, const char *s, int32 len)
{
	appendStringInfoChar(out, '"');
	for (int32 i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				appendBinaryStringInfo(out, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(out, "\\\\", 2);
				break;
			case '\b':
				appendBinaryStringInfo(out, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(out, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(out, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(out, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(out, "\\t", 2);
				break;
			default:
				if (c < 0x20)
					appendStringInfo(out, "\\u%04x", c);
				else
					appendStringInfoChar(out, (char) c);
		}
	}
	appendStringInfoChar(out, '"');
}

static void
to_json_rec(JlContext *cx, JlValue v, StringInfo out, bool in_array)
{
	char		nbuf[40];
	int			n;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	jl_charge(cx, 1);
	jl_check_size((Size) out->len + 64, "string");
	switch ((JlType) v.type)
	{
		case JL_UNDEFINED:
			appendStringInfoString(out, in_array ? "null" : "undefined");
			break;
		case JL_NULL:
			appendStringInfoString(out, "null");
			break;
		case JL_BOOL:
			appendStringInfoString(out, v.u.b ? "true" : "false");
			break;
		case JL_NUMBER:
			if (isnan(v.u.n) || isinf(v.u.n))
				appendStringInfoString(out, "null");
			else
			{
				n = jl_format_number(v.u.n, nbuf);
				appendBinaryStringInfo(out, nbuf, n);
			}
			break;
		case JL_STRING:
			jl_check_size((Size) out->len + (Size) v.len * 6 + 2, "string");
			jl_charge(cx, v.len);
			jl_append_json_string(out, v.u.s, v.len);
			break;
		case JL_ARRAY:
			if (v.ext)
				cx->host->to_json(v.u.h, out);
			else
			{
				appendStringInfoChar(out, '[');
				for (int32 i = 0; i < v.u.a->len; i++)
				{
					if (i > 0)
						appendStringInfoChar(out, ',');
					to_json_rec(cx, v.u.a->items[i], out, true);
				}
				appendStringInfoChar(out, ']');
			}
			break;
		case JL_OBJECT:
			if (v.ext)
				cx->host->to_json(v.u.h, out);
			else
			{
				bool		first = true;

				appendStringInfoChar(out, '{');
				for (int32 i = 0; i < v.u.o->len; i++)
				{
					JlObjectEntry *e = &v.u.o->entries[i];

					if (e->val.type == JL_UNDEFINED)
						continue;	/* JSON.stringify drops undefined members */
					if (!first)
						appendStringInfoChar(out, ',');
					first = false;
					jl_check_size((Size) out->len + (Size) e->keylen * 6 + 2, "string");
					jl_append_json_string(out, e->key, e->keylen);
					appendStringInfoChar(out, ':');
					to_json_rec(cx, e->val, out, false);
				}
				appendStringInfoChar(out, '}');
			}
			break;
	}
}

void
jl_to_json(JlContext *cx, JlValue v, StringInfo out)
{
	to_json_rec(cx, v, out, false);
}

/* ------------------------------------------------------- building trees */

struct JlBuildFrame
{
	bool		is_array;
	int32		n;
	int32		cap;
	JlValue    *items;
	JlObjectEntry *entries;
	const char *key;			/* pending object key, NULL when none */
	int32		keylen;
};

void
jl_build_init(JlBuilder *b)
{
	memset(b, 0, sizeof(*b));
	b->result = jl_undefined();
}

static void
frame_add(JlBuildFrame *f, JlValue v)
{
	if (f->n == f->cap)
	{
		f->cap = f->cap ? f->cap * 2 : 4;
		if (f->is_array)
			f->items = f->items ? repalloc(f->items, sizeof(JlValue) * f->cap)
				: palloc(sizeof(JlValue) * f->cap);
		else
			f->entries = f->entries ? repalloc(f->entries, sizeof(JlObjectEntry) * f->cap)
				: palloc(sizeof(JlObjectEntry) * f->cap);
	}
	if (f->is_array)
		f->items[f->n++] = v;
	else
	{
		f->entries[f->n].key = f->key;
		f->entries[f->n].keylen = f->keylen;
		f->entries[f->n].val = v;
		f->n++;
		f->key = NULL;
	}
}

void
jl_build_begin(JlBuilder *b, bool is_array)
{
	if (b->depth == b->cap)
	{
		b->cap = b->cap ? b->cap * 2 : 16;
		b->stack = b->stack ? repalloc(b->stack, sizeof(JlBuildFrame) * b->cap)
			: palloc(sizeof(JlBuildFrame) * b->cap);
	}
	memset(&b->stack[b->depth], 0, sizeof(JlBuildFrame));
	b->stack[b->depth].is_array = is_array;
	b->depth++;
}

void
jl_build_key(JlBuilder *b, const char *key, int32 keylen)
{
	Assert(b->depth > 0 && !b->stack[b->depth - 1].is_array);
	b->stack[b->depth - 1].key = key;
	b->stack[b->depth - 1].keylen = keylen;
}

bool
jl_build_value(JlBuilder *b, JlValue v)
{
	if (b->depth == 0)
	{
		b->result = v;
		return true;
	}
	frame_add(&b->stack[b->depth - 1], v);
	return false;
}

bool
jl_build_end(JlBuilder *b)
{
	JlBuildFrame *f;
	JlValue		v = jl_undefined();

	Assert(b->depth > 0);
	f = &b->stack[--b->depth];
	if (f->is_array)
	{
		JlArray    *a = palloc(sizeof(JlArray));

		a->len = f->n;
		a->items = f->items;
		v.type = JL_ARRAY;
		v.u.a = a;
	}
	else
	{
		JlObject   *o = palloc(sizeof(JlObject));

		o->len = f->n;
		o->entries = f->entries;
		v.type = JL_OBJECT;
		v.u.o = o;
	}
	return jl_build_value(b, v);
}

bool
jl_build_wants_key(const JlBuilder *b)
{
	return b->depth > 0 && !b->stack[b->depth - 1].is_array &&
		b->stack[b->depth - 1].key == NULL;
}

bool
jl_build_in_array(const JlBuilder *b)
{
	return b->depth > 0 && b->stack[b->depth - 1].is_array;
}
