/*-------------------------------------------------------------------------
 *
 * cel_value.c
 *	  CEL values: construction, equality, ordering, containers, output.
 *
 * Equality follows the CEL specification: values of different types are
 * unequal (not an error), except that int, uint and double compare by
 * their numeric value ("heterogeneous equality"); lists and maps compare
 * element-wise; NaN is unequal to everything.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "cel/cel_int.h"
#include "lc/lc_errcodes.h"
#include "lc/lc_host.h"

void
cel_make_error(CelValue *out, CelErrorCode code, const char *fmt,...)
{
	va_list		args;
	StringInfoData buf;
	CelError   *err = palloc(sizeof(CelError));

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	err->code = code;
	err->message = buf.data;
	out->kind = CEL_ERROR;
	out->v.err = err;
}

void
cel_make_string(CelValue *out, const char *data, int len)
{
	out->kind = CEL_STRING;
	out->v.s.data = data;
	out->v.s.len = len;
}

void
cel_make_bytes(CelValue *out, const char *data, int len)
{
	out->kind = CEL_BYTES;
	out->v.s.data = data;
	out->v.s.len = len;
}

void
cel_make_list(CelValue *out, int n, CelValue *items)
{
	CelList    *l = palloc0(sizeof(CelList));

	l->n = n;
	l->items = items;
	out->kind = CEL_LIST;
	out->v.list = l;
}

void
cel_make_map(CelValue *out, int n, CelValue *keys, CelValue *vals)
{
	CelMap	   *m = palloc0(sizeof(CelMap));

	m->n = n;
	m->keys = keys;
	m->vals = vals;
	out->kind = CEL_MAP;
	out->v.map = m;
}

void
cel_make_type(CelValue *out, const char *name)
{
	out->kind = CEL_TYPE;
	out->v.type_name = name;
}

const char *
cel_type_name(const CelValue *v)
{
	switch (v->kind)
	{
		case CEL_NULL:
			return "null_type";
		case CEL_BOOL:
			return "bool";
		case CEL_INT:
			return "int";
		case CEL_UINT:
			return "uint";
		case CEL_DOUBLE:
			return "double";
		case CEL_STRING:
			return "string";
		case CEL_BYTES:
			return "bytes";
		case CEL_LIST:
			return "list";
		case CEL_MAP:
			return "map";
		case CEL_TIMESTAMP:
			return "google.protobuf.Timestamp";
		case CEL_DURATION:
			return "google.protobuf.Duration";
		case CEL_TYPE:
			return "type";
		case CEL_OPTIONAL:
			return "optional_type";
		case CEL_ERROR:
			return "error";
	}
	return "unknown";
}

int
cel_list_size(const CelList *l)
{
	return l->ops ? l->ops->size(l->src) : l->n;
}

void
cel_list_get(const CelList *l, int i, CelValue *out)
{
	if (l->ops)
		l->ops->list_get(l->src, i, out);
	else
		*out = l->items[i];
}

int
cel_map_size(const CelMap *m)
{
	return m->ops ? m->ops->size(m->src) : m->n;
}

void
cel_map_entry(const CelMap *m, int i, CelValue *key, CelValue *val)
{
	if (m->ops)
		m->ops->map_entry(m->src, i, key, val);
	else
	{
		if (key)
			*key = m->keys[i];
		if (val)
			*val = m->vals[i];
	}
}

bool
cel_valid_map_key(const CelValue *key)
{
	return key->kind == CEL_INT || key->kind == CEL_UINT ||
		key->kind == CEL_BOOL || key->kind == CEL_STRING;
}

/*
 * Map lookup.  Numeric keys match across int, uint and double with the same
 * value (a double key is looked up only when integral).
 */
bool
cel_map_lookup(const CelMap *m, const CelValue *key, CelValue *out)
{
	int			i;

	if (m->ops)
		return m->ops->map_get(m->src, key, out);
	for (i = 0; i < m->n; i++)
	{
		if (cel_equal(&m->keys[i], key))
		{
			*out = m->vals[i];
			return true;
		}
	}
	return false;
}

/* ---- numeric comparison across int, uint, double ---- */

static int
cmp_int_uint(int64 a, uint64 b)
{
	if (a < 0)
		return -1;
	if ((uint64) a < b)
		return -1;
	return (uint64) a > b ? 1 : 0;
}

/*
 * int/uint against double: the integer is converted to double, as cel-go
 * does (so 9223372036854775807 == 9223372036854775808.0).
 */
static int
cmp_double(double a, double b, bool *ok)
{
	*ok = true;
	if (isnan(a) || isnan(b))
	{
		*ok = false;
		return 0;
	}
	return a < b ? -1 : (a > b ? 1 : 0);
}

static int
cmp_bytes(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static bool
is_numeric(CelKind k)
{
	return k == CEL_INT || k == CEL_UINT || k == CEL_DOUBLE;
}

/*
 * Ordering of two values.  *ok is false when they cannot be ordered (different
 * non-numeric types, NaN, or unordered types such as lists).
 */
int
cel_compare(const CelValue *a, const CelValue *b, bool *ok)
{
	*ok = true;
	if (is_numeric(a->kind) && is_numeric(b->kind))
	{
		if (a->kind == CEL_INT && b->kind == CEL_INT)
			return a->v.i < b->v.i ? -1 : (a->v.i > b->v.i ? 1 : 0);
		if (a->kind == CEL_UINT && b->kind == CEL_UINT)
			return a->v.u < b->v.u ? -1 : (a->v.u > b->v.u ? 1 : 0);
		if (a->kind == CEL_DOUBLE && b->kind == CEL_DOUBLE)
		{
			if (isnan(a->v.d) || isnan(b->v.d))
			{
				*ok = false;
				return 0;
			}
			return a->v.d < b->v.d ? -1 : (a->v.d > b->v.d ? 1 : 0);
		}
		if (a->kind == CEL_INT && b->kind == CEL_UINT)
			return cmp_int_uint(a->v.i, b->v.u);
		if (a->kind == CEL_UINT && b->kind == CEL_INT)
			return -cmp_int_uint(b->v.i, a->v.u);
		return cmp_double(a->kind == CEL_INT ? (double) a->v.i :
						  a->kind == CEL_UINT ? (double) a->v.u : a->v.d,
						  b->kind == CEL_INT ? (double) b->v.i :
						  b->kind == CEL_UINT ? (double) b->v.u : b->v.d, ok);
	}
	if (a->kind != b->kind)
	{
		*ok = false;
		return 0;
	}
	switch (a->kind)
	{
		case CEL_BOOL:
			return (int) a->v.b - (int) b->v.b;
		case CEL_STRING:
		case CEL_BYTES:
			return cmp_bytes(a->v.s.data, a->v.s.len, b->v.s.data, b->v.s.len);
		case CEL_TIMESTAMP:
		case CEL_DURATION:
			if (a->v.t.sec != b->v.t.sec)
				return a->v.t.sec < b->v.t.sec ? -1 : 1;
			return a->v.t.nanos < b->v.t.nanos ? -1 : (a->v.t.nanos > b->v.t.nanos ? 1 : 0);
		default:
			*ok = false;
			return 0;
	}
}

bool
cel_equal(const CelValue *a, const CelValue *b)
{
	if (a->kind == CEL_STRING && b->kind == CEL_STRING)
		return a->v.s.len == b->v.s.len &&
			memcmp(a->v.s.data, b->v.s.data, a->v.s.len) == 0;
	if (is_numeric(a->kind) && is_numeric(b->kind))
	{
		bool		ok;
		int			c = cel_compare(a, b, &ok);

		return ok && c == 0;
	}
	if (a->kind != b->kind)
		return false;
	switch (a->kind)
	{
		case CEL_NULL:
			return true;
		case CEL_BOOL:
			return a->v.b == b->v.b;
		case CEL_STRING:
		case CEL_BYTES:
			return a->v.s.len == b->v.s.len &&
				memcmp(a->v.s.data, b->v.s.data, a->v.s.len) == 0;
		case CEL_TIMESTAMP:
		case CEL_DURATION:
			return a->v.t.sec == b->v.t.sec && a->v.t.nanos == b->v.t.nanos;
		case CEL_TYPE:
			return strcmp(a->v.type_name, b->v.type_name) == 0;
		case CEL_OPTIONAL:
			if (a->v.opt == NULL || b->v.opt == NULL)
				return a->v.opt == b->v.opt;
			check_stack_depth();
			return cel_equal(a->v.opt, b->v.opt);
		case CEL_LIST:
			{
				int			n = cel_list_size(a->v.list),
							i;

				check_stack_depth();
				if (n != cel_list_size(b->v.list))
					return false;
				for (i = 0; i < n; i++)
				{
					CelValue	x,
								y;

					cel_list_get(a->v.list, i, &x);
					cel_list_get(b->v.list, i, &y);
					if (!cel_equal(&x, &y))
						return false;
				}
				return true;
			}
		case CEL_MAP:
			{
				int			n = cel_map_size(a->v.map),
							i;

				check_stack_depth();
				if (n != cel_map_size(b->v.map))
					return false;
				for (i = 0; i < n; i++)
				{
					CelValue	k,
								x,
								y;

					cel_map_entry(a->v.map, i, &k, &x);
					if (!cel_map_lookup(b->v.map, &k, &y))
						return false;
					if (!cel_equal(&x, &y))
						return false;
				}
				return true;
			}
		default:
			return false;
	}
}

bool
cel_is_zero_value(const CelValue *v)
{
	switch (v->kind)
	{
		case CEL_NULL:
			return true;
		case CEL_BOOL:
			return !v->v.b;
		case CEL_INT:
			return v->v.i == 0;
		case CEL_UINT:
			return v->v.u == 0;
		case CEL_DOUBLE:
			return v->v.d == 0;
		case CEL_STRING:
		case CEL_BYTES:
			return v->v.s.len == 0;
		case CEL_LIST:
			return cel_list_size(v->v.list) == 0;
		case CEL_MAP:
			return cel_map_size(v->v.map) == 0;
		case CEL_TIMESTAMP:
		case CEL_DURATION:
			return v->v.t.sec == 0 && v->v.t.nanos == 0;
		case CEL_OPTIONAL:
			return v->v.opt == NULL;
		default:
			return false;
	}
}

/* The cost-exceeded error (cel_charge's slow path). */
void
cel_cost_exceeded(CelEnv *env)
{
	if (lc_engine_host->budget_exhausted)
		lc_engine_host->budget_exhausted();
	ereport(ERROR,
			(errcode(ERRCODE_CEL_COST_EXCEEDED),
			 errmsg("CEL expression exceeded the cost limit of " INT64_FORMAT " units",
					env->max_cost),
			 errhint("Simplify the rule or raise lowcode.rules_max_cost.")));
	pg_unreachable();
}

/* Refuse to build a string or list of n bytes beyond the host's allocation limit. */
void
cel_check_alloc(Size n, const char *what)
{
	if (n >= lc_engine_host->max_alloc / 2)
		ereport(ERROR,
				(errcode(ERRCODE_CEL_VALUE_TOO_LARGE),
				 errmsg("CEL %s would exceed the maximum allocation size", what)));
}

bool
cel_utf8_valid(const char *s, int len)
{
	int			i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			n;
		uint32		cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
		{
			n = 2;
			cp = c & 0x1F;
		}
		else if ((c & 0xF0) == 0xE0)
		{
			n = 3;
			cp = c & 0x0F;
		}
		else if ((c & 0xF8) == 0xF0)
		{
			n = 4;
			cp = c & 0x07;
		}
		else
			return false;
		if (i + n > len)
			return false;
		for (int k = 1; k < n; k++)
		{
			unsigned char d = (unsigned char) s[i + k];

			if ((d & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (d & 0x3F);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

int
cel_utf8_length(const char *s, int len)
{
	int			n = 0,
				i;

	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * Shortest representation that reads back to the same double, as Go's
 * strconv.FormatFloat(f, 'g', -1, 64) with CEL's exponent style.
 */
void
cel_format_double(StringInfo buf, double d)
{
	char		tmp[64];
	int			prec;

	if (isnan(d))
	{
		appendStringInfoString(buf, "NaN");
		return;
	}
	if (isinf(d))
	{
		appendStringInfoString(buf, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* exponents come out with at least two digits (1e+21, 1e-07), as in Go */
	appendStringInfoString(buf, tmp);
}

static void
out_string_literal(StringInfo buf, const char *s, int len)
{
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
		{
			appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, c);
		}
		else if (c == '\n')
			appendStringInfoString(buf, "\\n");
		else if (c < 0x20)
			appendStringInfo(buf, "\\x%02x", c);
		else
			appendStringInfoChar(buf, c);
	}
	appendStringInfoChar(buf, '"');
}

void
cel_value_out(StringInfo buf, const CelValue *v)
{
	check_stack_depth();
	switch (v->kind)
	{
		case CEL_NULL:
			appendStringInfoString(buf, "null");
			break;
		case CEL_BOOL:
			appendStringInfoString(buf, v->v.b ? "true" : "false");
			break;
		case CEL_INT:
			appendStringInfo(buf, INT64_FORMAT, v->v.i);
			break;
		case CEL_UINT:
			appendStringInfo(buf, UINT64_FORMAT "u", v->v.u);
			break;
		case CEL_DOUBLE:
			cel_format_double(buf, v->v.d);
			break;
		case CEL_STRING:
			out_string_literal(buf, v->v.s.data, v->v.s.len);
			break;
		case CEL_BYTES:
			appendStringInfoChar(buf, 'b');
			out_string_literal(buf, v->v.s.data, v->v.s.len);
			break;
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
					cel_value_out(buf, &x);
				}
				appendStringInfoChar(buf, ']');
				break;
			}
		case CEL_MAP:
			{
				int			n = cel_map_size(v->v.map),
							i;

				appendStringInfoChar(buf, '{');
				for (i = 0; i < n; i++)
				{
					CelValue	k,
								x;

					if (i)
						appendStringInfoString(buf, ", ");
					cel_map_entry(v->v.map, i, &k, &x);
					cel_value_out(buf, &k);
					appendStringInfoString(buf, ": ");
					cel_value_out(buf, &x);
				}
				appendStringInfoChar(buf, '}');
				break;
			}
		case CEL_TIMESTAMP:
			appendStringInfoString(buf, "timestamp(\"");
			cel_format_timestamp(buf, v->v.t.sec, v->v.t.nanos);
			appendStringInfoString(buf, "\")");
			break;
		case CEL_DURATION:
			appendStringInfoString(buf, "duration(\"");
			cel_format_duration(buf, v->v.t.sec, v->v.t.nanos);
			appendStringInfoString(buf, "\")");
			break;
		case CEL_TYPE:
			appendStringInfoString(buf, v->v.type_name);
			break;
		case CEL_OPTIONAL:
			if (v->v.opt)
			{
				appendStringInfoString(buf, "optional.of(");
				cel_value_out(buf, v->v.opt);
				appendStringInfoChar(buf, ')');
			}
			else
				appendStringInfoString(buf, "optional.none()");
			break;
		case CEL_ERROR:
			appendStringInfo(buf, "error(%s)", v->v.err->message);
			break;
	}
}
