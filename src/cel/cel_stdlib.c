/*-------------------------------------------------------------------------
 *
 * cel_stdlib.c
 *	  CEL's standard definitions: operators, conversions, string functions,
 *	  optional values, dispatch to the extension libraries.
 *
 * Arithmetic on int and uint reports overflow as an error (never wraps),
 * division and modulo by zero are errors, and there is no implicit numeric
 * conversion: 1 + 1.0 has no matching overload, as the specification says.
 * Comparisons (<, <=, >, >=, ==, !=) do work across int, uint and double.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "cel/cel_int.h"
#include "lc/lc_host.h"

enum
{
	FN_SIZE = CEL_FN_FIRST_NAMED,
	FN_INT,
	FN_UINT,
	FN_DOUBLE,
	FN_STRING,
	FN_BYTES,
	FN_BOOL,
	FN_DYN,
	FN_TYPE,
	FN_TIMESTAMP,
	FN_DURATION,
	FN_MATCHES,
	FN_CONTAINS,
	FN_STARTS_WITH,
	FN_ENDS_WITH,
	FN_TIME_ACCESSOR,
	FN_OPT_OF,
	FN_OPT_NONE,
	FN_OPT_OF_NON_ZERO,
	FN_OPT_HAS_VALUE,
	FN_OPT_VALUE,
	FN_OPT_OR,
	FN_OPT_OR_VALUE,
	FN_EXTENSION				/* strings / math extension: dispatched by name */
};

typedef struct FnEntry
{
	const char *name;
	int			id;
	int			kind;			/* 0 global, 1 method, 2 both */
} FnEntry;

static const FnEntry functions[] = {
	{"size", FN_SIZE, 2},
	{"int", FN_INT, 0},
	{"uint", FN_UINT, 0},
	{"double", FN_DOUBLE, 0},
	{"string", FN_STRING, 0},
	{"bytes", FN_BYTES, 0},
	{"bool", FN_BOOL, 0},
	{"dyn", FN_DYN, 0},
	{"type", FN_TYPE, 0},
	{"timestamp", FN_TIMESTAMP, 0},
	{"google.protobuf.Timestamp", FN_TIMESTAMP, 0},
	{"duration", FN_DURATION, 0},
	{"google.protobuf.Duration", FN_DURATION, 0},
	{"matches", FN_MATCHES, 2},
	{"contains", FN_CONTAINS, 1},
	{"startsWith", FN_STARTS_WITH, 1},
	{"endsWith", FN_ENDS_WITH, 1},
	{"getFullYear", FN_TIME_ACCESSOR, 1},
	{"getMonth", FN_TIME_ACCESSOR, 1},
	{"getDate", FN_TIME_ACCESSOR, 1},
	{"getDayOfMonth", FN_TIME_ACCESSOR, 1},
	{"getDayOfWeek", FN_TIME_ACCESSOR, 1},
	{"getDayOfYear", FN_TIME_ACCESSOR, 1},
	{"getHours", FN_TIME_ACCESSOR, 1},
	{"getMinutes", FN_TIME_ACCESSOR, 1},
	{"getSeconds", FN_TIME_ACCESSOR, 1},
	{"getMilliseconds", FN_TIME_ACCESSOR, 1},
	{"optional.of", FN_OPT_OF, 0},
	{"optional.none", FN_OPT_NONE, 0},
	{"optional.ofNonZeroValue", FN_OPT_OF_NON_ZERO, 0},
	{"hasValue", FN_OPT_HAS_VALUE, 1},
	{"value", FN_OPT_VALUE, 1},
	{"or", FN_OPT_OR, 1},
	{"orValue", FN_OPT_OR_VALUE, 1},
	/* strings extension */
	{"charAt", FN_EXTENSION, 1},
	{"indexOf", FN_EXTENSION, 1},
	{"lastIndexOf", FN_EXTENSION, 1},
	{"lowerAscii", FN_EXTENSION, 1},
	{"upperAscii", FN_EXTENSION, 1},
	{"replace", FN_EXTENSION, 1},
	{"split", FN_EXTENSION, 1},
	{"substring", FN_EXTENSION, 1},
	{"trim", FN_EXTENSION, 1},
	{"join", FN_EXTENSION, 1},
	{"reverse", FN_EXTENSION, 1},
	{"format", FN_EXTENSION, 1},
	{"strings.quote", FN_EXTENSION, 0},
	/* encoders extension */
	{"base64.encode", FN_EXTENSION, 0},
	{"base64.decode", FN_EXTENSION, 0},
	/* math extension */
	{"math.greatest", FN_EXTENSION, 0},
	{"math.least", FN_EXTENSION, 0},
	{"math.ceil", FN_EXTENSION, 0},
	{"math.floor", FN_EXTENSION, 0},
	{"math.round", FN_EXTENSION, 0},
	{"math.trunc", FN_EXTENSION, 0},
	{"math.abs", FN_EXTENSION, 0},
	{"math.sign", FN_EXTENSION, 0},
	{"math.isNaN", FN_EXTENSION, 0},
	{"math.isInf", FN_EXTENSION, 0},
	{"math.isFinite", FN_EXTENSION, 0},
	{"math.bitAnd", FN_EXTENSION, 0},
	{"math.bitOr", FN_EXTENSION, 0},
	{"math.bitXor", FN_EXTENSION, 0},
	{"math.bitNot", FN_EXTENSION, 0},
	{"math.bitShiftLeft", FN_EXTENSION, 0},
	{"math.bitShiftRight", FN_EXTENSION, 0},
	{"math.sqrt", FN_EXTENSION, 0},
	{NULL, 0, 0}
};

int
cel_lookup_function(const char *name, bool is_method, int nargs)
{
	const FnEntry *f;

	for (f = functions; f->name; f++)
	{
		if (strcmp(f->name, name) == 0)
		{
			if (f->kind == 2 || (f->kind == 1) == is_method)
				return f->id;
		}
	}
	return CEL_FN_UNKNOWN;
}

static void
no_overload(CelValue *out, const char *fname, int nargs, const CelValue *args)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < nargs; i++)
	{
		if (i)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, cel_type_name(&args[i]));
	}
	cel_make_error(out, CEL_ERR_NO_OVERLOAD, "found no matching overload for '%s' applied to '(%s)'",
				   fname, buf.data);
}

static inline void
set_bool(CelValue *out, bool b)
{
	out->kind = CEL_BOOL;
	out->v.b = b;
}

static inline void
set_int(CelValue *out, int64 i)
{
	out->kind = CEL_INT;
	out->v.i = i;
}

static inline void
set_uint(CelValue *out, uint64 u)
{
	out->kind = CEL_UINT;
	out->v.u = u;
}

static inline void
set_double(CelValue *out, double d)
{
	out->kind = CEL_DOUBLE;
	out->v.d = d;
}

static void
overflow(CelValue *out)
{
	cel_make_error(out, CEL_ERR_OVERFLOW, "integer overflow");
}

/* Normalize and range-check a duration (seconds, nanos). */
static void
make_duration(CelValue *out, int64 sec, int64 nanos)
{
	sec += nanos / 1000000000;
	nanos %= 1000000000;
	if (sec > 0 && nanos < 0)
	{
		sec--;
		nanos += 1000000000;
	}
	else if (sec < 0 && nanos > 0)
	{
		sec++;
		nanos -= 1000000000;
	}
	if (!cel_duration_in_range(sec, (int32) nanos))
	{
		cel_make_error(out, CEL_ERR_OVERFLOW, "duration out of range");
		return;
	}
	out->kind = CEL_DURATION;
	out->v.t.sec = sec;
	out->v.t.nanos = (int32) nanos;
}

static void
make_timestamp(CelValue *out, int64 sec, int64 nanos)
{
	sec += nanos / 1000000000;
	nanos %= 1000000000;
	if (nanos < 0)
	{
		sec--;
		nanos += 1000000000;
	}
	if (!cel_timestamp_in_range(sec))
	{
		cel_make_error(out, CEL_ERR_OVERFLOW, "timestamp out of range");
		return;
	}
	out->kind = CEL_TIMESTAMP;
	out->v.t.sec = sec;
	out->v.t.nanos = (int32) nanos;
}

static void
concat(CelEnv *env, const CelValue *a, const CelValue *b, CelValue *out)
{
	Size		n = (Size) a->v.s.len + b->v.s.len;
	char	   *buf;

	cel_check_alloc(n, a->kind == CEL_STRING ? "string" : "bytes");
	cel_charge(env, n / 64);
	buf = palloc(n + 1);
	memcpy(buf, a->v.s.data, a->v.s.len);
	memcpy(buf + a->v.s.len, b->v.s.data, b->v.s.len);
	buf[n] = '\0';
	out->kind = a->kind;
	out->v.s.data = buf;
	out->v.s.len = (int) n;
}

static void
op_add(CelEnv *env, CelValue *args, CelValue *out)
{
	CelValue   *a = &args[0],
			   *b = &args[1];

	if (a->kind == CEL_INT && b->kind == CEL_INT)
	{
		int64		r;

		if (pg_add_s64_overflow(a->v.i, b->v.i, &r))
			overflow(out);
		else
			set_int(out, r);
	}
	else if (a->kind == CEL_UINT && b->kind == CEL_UINT)
	{
		uint64		r;

		if (pg_add_u64_overflow(a->v.u, b->v.u, &r))
			overflow(out);
		else
			set_uint(out, r);
	}
	else if (a->kind == CEL_DOUBLE && b->kind == CEL_DOUBLE)
		set_double(out, a->v.d + b->v.d);
	else if ((a->kind == CEL_STRING && b->kind == CEL_STRING) ||
			 (a->kind == CEL_BYTES && b->kind == CEL_BYTES))
		concat(env, a, b, out);
	else if (a->kind == CEL_LIST && b->kind == CEL_LIST)
	{
		int			na = cel_list_size(a->v.list),
					nb = cel_list_size(b->v.list),
					i;
		CelValue   *items;

		cel_check_alloc(((Size) na + nb) * sizeof(CelValue), "list");
		cel_charge(env, (na + nb) / 8);
		items = palloc(Max(na + nb, 1) * sizeof(CelValue));
		for (i = 0; i < na; i++)
			cel_list_get(a->v.list, i, &items[i]);
		for (i = 0; i < nb; i++)
			cel_list_get(b->v.list, i, &items[na + i]);
		cel_make_list(out, na + nb, items);
	}
	else if (a->kind == CEL_TIMESTAMP && b->kind == CEL_DURATION)
		make_timestamp(out, a->v.t.sec + b->v.t.sec, (int64) a->v.t.nanos + b->v.t.nanos);
	else if (a->kind == CEL_DURATION && b->kind == CEL_TIMESTAMP)
		make_timestamp(out, a->v.t.sec + b->v.t.sec, (int64) a->v.t.nanos + b->v.t.nanos);
	else if (a->kind == CEL_DURATION && b->kind == CEL_DURATION)
		make_duration(out, a->v.t.sec + b->v.t.sec, (int64) a->v.t.nanos + b->v.t.nanos);
	else
		no_overload(out, "_+_", 2, args);
}

static void
op_sub(CelValue *args, CelValue *out)
{
	CelValue   *a = &args[0],
			   *b = &args[1];

	if (a->kind == CEL_INT && b->kind == CEL_INT)
	{
		int64		r;

		if (pg_sub_s64_overflow(a->v.i, b->v.i, &r))
			overflow(out);
		else
			set_int(out, r);
	}
	else if (a->kind == CEL_UINT && b->kind == CEL_UINT)
	{
		uint64		r;

		if (pg_sub_u64_overflow(a->v.u, b->v.u, &r))
			overflow(out);
		else
			set_uint(out, r);
	}
	else if (a->kind == CEL_DOUBLE && b->kind == CEL_DOUBLE)
		set_double(out, a->v.d - b->v.d);
	else if (a->kind == CEL_TIMESTAMP && b->kind == CEL_TIMESTAMP)
	{
		int64		sec = a->v.t.sec - b->v.t.sec;
		int64		nanos = (int64) a->v.t.nanos - b->v.t.nanos;
		int64		total;

		/* the difference must fit a 64-bit count of nanoseconds, as in cel-go */
		if (pg_mul_s64_overflow(sec, 1000000000, &total) ||
			pg_add_s64_overflow(total, nanos, &total))
			cel_make_error(out, CEL_ERR_OVERFLOW, "duration out of range");
		else
			make_duration(out, sec, nanos);
	}
	else if (a->kind == CEL_TIMESTAMP && b->kind == CEL_DURATION)
		make_timestamp(out, a->v.t.sec - b->v.t.sec, (int64) a->v.t.nanos - b->v.t.nanos);
	else if (a->kind == CEL_DURATION && b->kind == CEL_DURATION)
		make_duration(out, a->v.t.sec - b->v.t.sec, (int64) a->v.t.nanos - b->v.t.nanos);
	else
		no_overload(out, "_-_", 2, args);
}

static void
op_muldivmod(int op, CelValue *args, CelValue *out)
{
	CelValue   *a = &args[0],
			   *b = &args[1];
	const char *name = op == CEL_OP_MUL ? "_*_" : (op == CEL_OP_DIV ? "_/_" : "_%_");

	if (a->kind == CEL_INT && b->kind == CEL_INT)
	{
		int64		r;

		if (op == CEL_OP_MUL)
		{
			if (pg_mul_s64_overflow(a->v.i, b->v.i, &r))
				overflow(out);
			else
				set_int(out, r);
			return;
		}
		if (b->v.i == 0)
		{
			cel_make_error(out, CEL_ERR_DIVISION_BY_ZERO, op == CEL_OP_DIV ? "division by zero" : "modulus by zero");
			return;
		}
		if (a->v.i == PG_INT64_MIN && b->v.i == -1)
		{
			overflow(out);
			return;
		}
		set_int(out, op == CEL_OP_DIV ? a->v.i / b->v.i : a->v.i % b->v.i);
	}
	else if (a->kind == CEL_UINT && b->kind == CEL_UINT)
	{
		uint64		r;

		if (op == CEL_OP_MUL)
		{
			if (pg_mul_u64_overflow(a->v.u, b->v.u, &r))
				overflow(out);
			else
				set_uint(out, r);
			return;
		}
		if (b->v.u == 0)
		{
			cel_make_error(out, CEL_ERR_DIVISION_BY_ZERO, op == CEL_OP_DIV ? "division by zero" : "modulus by zero");
			return;
		}
		set_uint(out, op == CEL_OP_DIV ? a->v.u / b->v.u : a->v.u % b->v.u);
	}
	else if (a->kind == CEL_DOUBLE && b->kind == CEL_DOUBLE && op != CEL_OP_MOD)
		set_double(out, op == CEL_OP_MUL ? a->v.d * b->v.d : a->v.d / b->v.d);
	else
		no_overload(out, name, 2, args);
}

static void
op_compare(int op, CelValue *args, CelValue *out)
{
	bool		ok;
	int			c;
	CelKind		ka = args[0].kind,
				kb = args[1].kind;
	bool		na = (ka == CEL_INT || ka == CEL_UINT || ka == CEL_DOUBLE);
	bool		nb = (kb == CEL_INT || kb == CEL_UINT || kb == CEL_DOUBLE);

	c = cel_compare(&args[0], &args[1], &ok);
	if (!ok)
	{
		if (na && nb)
		{
			/* NaN compares false with everything */
			set_bool(out, false);
			return;
		}
		no_overload(out, op == CEL_OP_LT ? "_<_" : op == CEL_OP_LE ? "_<=_" :
					op == CEL_OP_GT ? "_>_" : "_>=_", 2, args);
		return;
	}
	switch (op)
	{
		case CEL_OP_LT:
			set_bool(out, c < 0);
			break;
		case CEL_OP_LE:
			set_bool(out, c <= 0);
			break;
		case CEL_OP_GT:
			set_bool(out, c > 0);
			break;
		default:
			set_bool(out, c >= 0);
			break;
	}
}

static void
op_in(CelValue *args, CelValue *out)
{
	CelValue   *x = &args[0],
			   *c = &args[1];

	if (c->kind == CEL_LIST)
	{
		int			n = cel_list_size(c->v.list),
					i;

		for (i = 0; i < n; i++)
		{
			CelValue	item;

			cel_list_get(c->v.list, i, &item);
			if (cel_equal(&item, x))
			{
				set_bool(out, true);
				return;
			}
		}
		set_bool(out, false);
	}
	else if (c->kind == CEL_MAP)
	{
		CelValue	dummy;

		if (!cel_valid_map_key(x) && x->kind != CEL_DOUBLE)
			set_bool(out, false);
		else
			set_bool(out, cel_map_lookup(c->v.map, x, &dummy));
	}
	else
		no_overload(out, "@in", 2, args);
}

/* ---- conversions ---- */

static bool
parse_int64(const char *s, int len, int64 *out)
{
	char		buf[32];
	char	   *end;

	if (len == 0 || len >= (int) sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!(buf[0] == '-' || buf[0] == '+' || (buf[0] >= '0' && buf[0] <= '9')))
		return false;
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
parse_uint64(const char *s, int len, uint64 *out)
{
	char		buf[32];
	char	   *end;

	if (len == 0 || len >= (int) sizeof(buf) || !(s[0] >= '0' && s[0] <= '9'))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

static void
conv_int(CelValue *a, CelValue *out)
{
	switch (a->kind)
	{
		case CEL_INT:
			*out = *a;
			return;
		case CEL_UINT:
			if (a->v.u > (uint64) PG_INT64_MAX)
				cel_make_error(out, CEL_ERR_OVERFLOW, "range error converting %s to int", "uint");
			else
				set_int(out, (int64) a->v.u);
			return;
		case CEL_DOUBLE:
			/* the open range (-2^63, 2^63): the endpoints are rejected as cel-go does */
			if (isnan(a->v.d) || a->v.d <= -9223372036854775808.0 || a->v.d >= 9223372036854775807.0)
				cel_make_error(out, CEL_ERR_OVERFLOW, "range error converting double to int");
			else
				set_int(out, (int64) a->v.d);
			return;
		case CEL_STRING:
			{
				int64		i;

				if (parse_int64(a->v.s.data, a->v.s.len, &i))
					set_int(out, i);
				else
					cel_make_error(out, CEL_ERR_CONVERSION, "cannot convert string to int");
				return;
			}
		case CEL_TIMESTAMP:
			set_int(out, a->v.t.sec);
			return;
		default:
			no_overload(out, "int", 1, a);
	}
}

static void
conv_uint(CelValue *a, CelValue *out)
{
	switch (a->kind)
	{
		case CEL_UINT:
			*out = *a;
			return;
		case CEL_INT:
			if (a->v.i < 0)
				cel_make_error(out, CEL_ERR_OVERFLOW, "range error converting int to uint");
			else
				set_uint(out, (uint64) a->v.i);
			return;
		case CEL_DOUBLE:
			if (isnan(a->v.d) || a->v.d <= -1.0 || a->v.d >= 18446744073709551615.0)
				cel_make_error(out, CEL_ERR_OVERFLOW, "range error converting double to uint");
			else
				set_uint(out, (uint64) a->v.d);
			return;
		case CEL_STRING:
			{
				uint64		u;

				if (parse_uint64(a->v.s.data, a->v.s.len, &u))
					set_uint(out, u);
				else
					cel_make_error(out, CEL_ERR_CONVERSION, "cannot convert string to uint");
				return;
			}
		default:
			no_overload(out, "uint", 1, a);
	}
}

static bool
parse_double(const char *s, int len, double *out)
{
	char	   *buf = pnstrdup(s, len);
	char	   *end;

	if (len == 0)
		return false;
	if (pg_strcasecmp(buf, "nan") == 0)
	{
		*out = NAN;
		return true;
	}
	if (pg_strcasecmp(buf, "inf") == 0 || pg_strcasecmp(buf, "+inf") == 0 ||
		pg_strcasecmp(buf, "infinity") == 0 || pg_strcasecmp(buf, "+infinity") == 0)
	{
		*out = INFINITY;
		return true;
	}
	if (pg_strcasecmp(buf, "-inf") == 0 || pg_strcasecmp(buf, "-infinity") == 0)
	{
		*out = -INFINITY;
		return true;
	}
	/* strtod also takes hex floats and "nan(...)": refuse what Go refuses */
	for (int i = 0; i < len; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.' || buf[i] == 'e' ||
			  buf[i] == 'E' || buf[i] == '+' || buf[i] == '-'))
			return false;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && end != buf;
}

static void
conv_double(CelValue *a, CelValue *out)
{
	switch (a->kind)
	{
		case CEL_DOUBLE:
			*out = *a;
			return;
		case CEL_INT:
			set_double(out, (double) a->v.i);
			return;
		case CEL_UINT:
			set_double(out, (double) a->v.u);
			return;
		case CEL_STRING:
			{
				double		d;

				if (parse_double(a->v.s.data, a->v.s.len, &d))
					set_double(out, d);
				else
					cel_make_error(out, CEL_ERR_CONVERSION, "cannot convert string to double");
				return;
			}
		default:
			no_overload(out, "double", 1, a);
	}
}

static void
conv_string(CelValue *a, CelValue *out)
{
	StringInfoData buf;

	switch (a->kind)
	{
		case CEL_STRING:
			*out = *a;
			return;
		case CEL_BYTES:
			if (!cel_utf8_valid(a->v.s.data, a->v.s.len))
				cel_make_error(out, CEL_ERR_CONVERSION, "invalid UTF-8 in bytes converted to string");
			else
				cel_make_string(out, a->v.s.data, a->v.s.len);
			return;
		case CEL_INT:
		case CEL_UINT:
		case CEL_DOUBLE:
		case CEL_BOOL:
			initStringInfo(&buf);
			if (a->kind == CEL_INT)
				appendStringInfo(&buf, INT64_FORMAT, a->v.i);
			else if (a->kind == CEL_UINT)
				appendStringInfo(&buf, UINT64_FORMAT, a->v.u);
			else if (a->kind == CEL_DOUBLE)
				cel_format_double(&buf, a->v.d);
			else
				appendStringInfoString(&buf, a->v.b ? "true" : "false");
			cel_make_string(out, buf.data, buf.len);
			return;
		case CEL_TIMESTAMP:
			initStringInfo(&buf);
			cel_format_timestamp(&buf, a->v.t.sec, a->v.t.nanos);
			cel_make_string(out, buf.data, buf.len);
			return;
		case CEL_DURATION:
			initStringInfo(&buf);
			cel_format_duration(&buf, a->v.t.sec, a->v.t.nanos);
			cel_make_string(out, buf.data, buf.len);
			return;
		default:
			no_overload(out, "string", 1, a);
	}
}

static void
conv_bool(CelValue *a, CelValue *out)
{
	if (a->kind == CEL_BOOL)
	{
		*out = *a;
		return;
	}
	if (a->kind == CEL_STRING)
	{
		static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True", NULL};
		static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False", NULL};
		int			i;

		for (i = 0; t[i]; i++)
		{
			if ((int) strlen(t[i]) == a->v.s.len && memcmp(t[i], a->v.s.data, a->v.s.len) == 0)
			{
				set_bool(out, true);
				return;
			}
			if ((int) strlen(f[i]) == a->v.s.len && memcmp(f[i], a->v.s.data, a->v.s.len) == 0)
			{
				set_bool(out, false);
				return;
			}
		}
		cel_make_error(out, CEL_ERR_CONVERSION, "Type conversion error: cannot convert string to bool");
		return;
	}
	no_overload(out, "bool", 1, a);
}

/* ---- strings ---- */

static bool
bytes_contains(const char *h, int hl, const char *n, int nl)
{
	int			i;

	if (nl == 0)
		return true;
	for (i = 0; i + nl <= hl; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
			return true;
	return false;
}

static void
string_pred(int fn, CelValue *args, CelValue *out)
{
	CelValue   *s = &args[0],
			   *x = &args[1];

	if (s->kind != CEL_STRING || x->kind != CEL_STRING)
	{
		no_overload(out, fn == FN_CONTAINS ? "contains" : fn == FN_STARTS_WITH ? "startsWith" : "endsWith",
					2, args);
		return;
	}
	if (fn == FN_CONTAINS)
		set_bool(out, bytes_contains(s->v.s.data, s->v.s.len, x->v.s.data, x->v.s.len));
	else if (x->v.s.len > s->v.s.len)
		set_bool(out, false);
	else if (fn == FN_STARTS_WITH)
		set_bool(out, memcmp(s->v.s.data, x->v.s.data, x->v.s.len) == 0);
	else
		set_bool(out, memcmp(s->v.s.data + s->v.s.len - x->v.s.len, x->v.s.data, x->v.s.len) == 0);
}

static void
do_matches(CelValue *args, CelValue *out)
{
	char	   *errmsg = NULL;
	int			r;

	if (args[0].kind != CEL_STRING || args[1].kind != CEL_STRING)
	{
		no_overload(out, "matches", 2, args);
		return;
	}
	r = lc_engine_host->regex_match(LC_REGEX_RE2, args[1].v.s.data, args[1].v.s.len,
								   args[0].v.s.data, args[0].v.s.len, &errmsg);
	if (r < 0)
		cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "invalid regular expression: %s",
					   errmsg ? errmsg : "unsupported");
	else
		set_bool(out, r == 1);
}

/* ---- dispatch ---- */

/* The operators (_+_, -_, !_, ==, <, in, ...): false when e->fn is none. */
static bool
call_operator(CelEnv *env, const CelExpr *e, CelValue *args, CelValue *out)
{
	switch (e->fn)
	{
		case CEL_OP_ADD:
			op_add(env, args, out);
			return true;
		case CEL_OP_SUB:
			op_sub(args, out);
			return true;
		case CEL_OP_MUL:
		case CEL_OP_DIV:
		case CEL_OP_MOD:
			op_muldivmod(e->fn, args, out);
			return true;
		case CEL_OP_NEG:
			if (args[0].kind == CEL_INT)
			{
				if (args[0].v.i == PG_INT64_MIN)
					overflow(out);
				else
					set_int(out, -args[0].v.i);
			}
			else if (args[0].kind == CEL_DOUBLE)
				set_double(out, -args[0].v.d);
			else if (args[0].kind == CEL_DURATION)
				make_duration(out, -args[0].v.t.sec, -(int64) args[0].v.t.nanos);
			else
				no_overload(out, "-_", 1, args);
			return true;
		case CEL_OP_NOT:
			if (args[0].kind == CEL_BOOL)
				set_bool(out, !args[0].v.b);
			else
				no_overload(out, "!_", 1, args);
			return true;
		case CEL_OP_EQ:
			set_bool(out, cel_equal(&args[0], &args[1]));
			return true;
		case CEL_OP_NE:
			set_bool(out, !cel_equal(&args[0], &args[1]));
			return true;
		case CEL_OP_LT:
		case CEL_OP_LE:
		case CEL_OP_GT:
		case CEL_OP_GE:
			op_compare(e->fn, args, out);
			return true;
		case CEL_OP_IN:
			op_in(args, out);
			return true;
		default:
			return false;
	}
}

/*
 * A function the builtin library does not know: the strings and math
 * extensions, then the host's registered functions (env->call_hook).
 */
static void
call_extension(CelEnv *env, const CelExpr *e, bool is_method, int nargs,
			   CelValue *args, CelValue *out)
{
	if (e->fn == FN_EXTENSION)
	{
		if (cel_strings_ext_call(env, e->name, is_method, nargs, args, out))
			return;
		if (cel_math_ext_call(env, e->name, is_method, nargs, args, out))
			return;
	}
	if (!is_method && env->call_hook &&
		env->call_hook(env->hook_ctx, e->name, nargs, args, out))
		return;
	if (e->fn == FN_EXTENSION)
		no_overload(out, e->name, nargs, args);
	else
		cel_make_error(out, CEL_ERR_UNKNOWN_FUNCTION, "unbound function: %s", e->name);
}

/* Conversions, size() and type(): false when no overload fits. */
static bool
call_conversion(const CelExpr *e, int nargs, CelValue *args, CelValue *out)
{
	switch (e->fn)
	{
		case FN_SIZE:
			if (nargs != 1)
				return false;
			switch (args[0].kind)
			{
				case CEL_STRING:
					set_int(out, cel_utf8_length(args[0].v.s.data, args[0].v.s.len));
					return true;
				case CEL_BYTES:
					set_int(out, args[0].v.s.len);
					return true;
				case CEL_LIST:
					set_int(out, cel_list_size(args[0].v.list));
					return true;
				case CEL_MAP:
					set_int(out, cel_map_size(args[0].v.map));
					return true;
				default:
					return false;
			}
		case FN_INT:
			if (nargs != 1)
				return false;
			conv_int(&args[0], out);
			return true;
		case FN_UINT:
			if (nargs != 1)
				return false;
			conv_uint(&args[0], out);
			return true;
		case FN_DOUBLE:
			if (nargs != 1)
				return false;
			conv_double(&args[0], out);
			return true;
		case FN_STRING:
			if (nargs != 1)
				return false;
			conv_string(&args[0], out);
			return true;
		case FN_BYTES:
			if (nargs != 1)
				return false;
			if (args[0].kind == CEL_BYTES)
				*out = args[0];
			else if (args[0].kind == CEL_STRING)
				cel_make_bytes(out, args[0].v.s.data, args[0].v.s.len);
			else
				return false;
			return true;
		case FN_BOOL:
			if (nargs != 1)
				return false;
			conv_bool(&args[0], out);
			return true;
		case FN_DYN:
			if (nargs != 1)
				return false;
			*out = args[0];
			return true;
		case FN_TYPE:
			if (nargs != 1)
				return false;
			cel_make_type(out, cel_type_name(&args[0]));
			return true;
		case FN_TIMESTAMP:
			if (nargs != 1)
				return false;
			if (args[0].kind == CEL_TIMESTAMP)
				*out = args[0];
			else if (args[0].kind == CEL_INT)
				make_timestamp(out, args[0].v.i, 0);
			else if (args[0].kind == CEL_STRING)
			{
				int64		sec;
				int32		nanos;

				if (!cel_parse_timestamp(args[0].v.s.data, args[0].v.s.len, &sec, &nanos))
					cel_make_error(out, CEL_ERR_CONVERSION, "cannot parse timestamp \"%.*s\" (RFC 3339 expected)",
								   Min(args[0].v.s.len, 100), args[0].v.s.data);
				else
					make_timestamp(out, sec, nanos);
			}
			else
				return false;
			return true;
		case FN_DURATION:
			if (nargs != 1)
				return false;
			if (args[0].kind == CEL_DURATION)
				*out = args[0];
			else if (args[0].kind == CEL_STRING)
			{
				int64		sec;
				int32		nanos;

				if (!cel_parse_duration(args[0].v.s.data, args[0].v.s.len, &sec, &nanos))
					cel_make_error(out, CEL_ERR_CONVERSION, "cannot parse duration \"%.*s\"",
								   Min(args[0].v.s.len, 100), args[0].v.s.data);
				else
					make_duration(out, sec, nanos);
			}
			else
				return false;
			return true;
		default:
			return false;
	}
}

/* String predicates, matches() and the time accessors: false when no overload fits. */
static bool
call_string_or_time(const CelExpr *e, int nargs, CelValue *args, CelValue *out)
{
	switch (e->fn)
	{
		case FN_MATCHES:
			if (nargs != 2)
				return false;
			do_matches(args, out);
			return true;
		case FN_CONTAINS:
		case FN_STARTS_WITH:
		case FN_ENDS_WITH:
			if (nargs != 2)
				return false;
			string_pred(e->fn, args, out);
			return true;
		case FN_TIME_ACCESSOR:
			if (nargs != 1 && nargs != 2)
				return false;
			if (args[0].kind != CEL_TIMESTAMP && args[0].kind != CEL_DURATION)
				return false;
			if (nargs == 2 && (args[0].kind != CEL_TIMESTAMP || args[1].kind != CEL_STRING))
				return false;
			cel_time_accessor(e->name, &args[0], nargs == 2 ? &args[1] : NULL, out);
			return true;
		default:
			return false;
	}
}

/* The optional-value functions: false when no overload fits. */
static bool
call_optional(const CelExpr *e, int nargs, CelValue *args, CelValue *out)
{
	switch (e->fn)
	{
		case FN_OPT_OF:
		case FN_OPT_OF_NON_ZERO:
			if (nargs != 1)
				return false;
			out->kind = CEL_OPTIONAL;
			if (e->fn == FN_OPT_OF_NON_ZERO && cel_is_zero_value(&args[0]))
				out->v.opt = NULL;
			else
			{
				out->v.opt = palloc(sizeof(CelValue));
				*out->v.opt = args[0];
			}
			return true;
		case FN_OPT_NONE:
			if (nargs != 0)
				return false;
			out->kind = CEL_OPTIONAL;
			out->v.opt = NULL;
			return true;
		case FN_OPT_HAS_VALUE:
			if (nargs != 1 || args[0].kind != CEL_OPTIONAL)
				return false;
			set_bool(out, args[0].v.opt != NULL);
			return true;
		case FN_OPT_VALUE:
			if (nargs != 1 || args[0].kind != CEL_OPTIONAL)
				return false;
			if (args[0].v.opt == NULL)
				cel_make_error(out, CEL_ERR_NO_SUCH_KEY, "optional.none() dereference");
			else
				*out = *args[0].v.opt;
			return true;
		case FN_OPT_OR:
			if (nargs != 2 || args[0].kind != CEL_OPTIONAL || args[1].kind != CEL_OPTIONAL)
				return false;
			*out = args[0].v.opt ? args[0] : args[1];
			return true;
		case FN_OPT_OR_VALUE:
			if (nargs != 2 || args[0].kind != CEL_OPTIONAL)
				return false;
			*out = args[0].v.opt ? *args[0].v.opt : args[1];
			return true;
		default:
			return false;
	}
}

void
cel_call_function(CelEnv *env, const CelExpr *e, int nargs, CelValue *args, CelValue *out)
{
	bool		is_method = (e->target != NULL);

	if (call_operator(env, e, args, out))
		return;
	if (e->fn == CEL_FN_UNKNOWN || e->fn == FN_EXTENSION)
	{
		call_extension(env, e, is_method, nargs, args, out);
		return;
	}
	if (call_conversion(e, nargs, args, out) ||
		call_string_or_time(e, nargs, args, out) ||
		call_optional(e, nargs, args, out))
		return;
	no_overload(out, e->name, nargs, args);
}
