/*-------------------------------------------------------------------------
 *
 * cel_math_ext.c
 *	  The CEL math extension library (as cel-go's ext.Math): greatest,
 *	  least, ceil, floor, round, trunc, abs, sign, isNaN, isInf, isFinite,
 *	  sqrt and the bit operations, all under the "math." namespace.
 *
 * greatest and least take numbers of mixed types (or one list of them) and
 * return the winning argument unchanged, compared with CEL's heterogeneous
 * numeric ordering.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cel/cel_int.h"

static void
no_overload(CelValue *out, const char *name, int nargs, CelValue *args)
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
				   name, buf.data);
}

static bool
is_number(const CelValue *v)
{
	return v->kind == CEL_INT || v->kind == CEL_UINT || v->kind == CEL_DOUBLE;
}

static void
set_double(CelValue *out, double d)
{
	out->kind = CEL_DOUBLE;
	out->v.d = d;
}

static void
set_bool(CelValue *out, bool b)
{
	out->kind = CEL_BOOL;
	out->v.b = b;
}

static void
extreme(const char *name, bool greatest, int nargs, CelValue *args, CelValue *out)
{
	CelValue   *vals = args;
	int			n = nargs,
				i,
				best = 0;

	if (nargs == 1 && args[0].kind == CEL_LIST)
	{
		n = cel_list_size(args[0].v.list);
		if (n == 0)
		{
			cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "%s(list) requires a non-empty list", name);
			return;
		}
		vals = palloc(n * sizeof(CelValue));
		for (i = 0; i < n; i++)
			cel_list_get(args[0].v.list, i, &vals[i]);
	}
	if (n == 0)
	{
		no_overload(out, name, nargs, args);
		return;
	}
	for (i = 0; i < n; i++)
	{
		if (!is_number(&vals[i]))
		{
			no_overload(out, name, nargs, args);
			return;
		}
	}
	for (i = 1; i < n; i++)
	{
		bool		ok;
		int			c = cel_compare(&vals[i], &vals[best], &ok);

		if (!ok)
		{
			/* NaN wins, as math.Max does */
			if (vals[i].kind == CEL_DOUBLE && isnan(vals[i].v.d))
				best = i;
			continue;
		}
		if ((greatest && c > 0) || (!greatest && c < 0))
			best = i;
	}
	*out = vals[best];
}

bool
cel_math_ext_call(CelEnv *env, const char *name, bool is_method,
				  int nargs, CelValue *args, CelValue *out)
{
	const char *f;
	CelValue   *a = &args[0];

	if (is_method || strncmp(name, "math.", 5) != 0)
		return false;
	f = name + 5;

	if (strcmp(f, "greatest") == 0 || strcmp(f, "least") == 0)
	{
		extreme(name, f[0] == 'g', nargs, args, out);
		return true;
	}
	if (nargs == 1 && (strcmp(f, "ceil") == 0 || strcmp(f, "floor") == 0 ||
					   strcmp(f, "round") == 0 || strcmp(f, "trunc") == 0 ||
					   strcmp(f, "isNaN") == 0 || strcmp(f, "isInf") == 0 ||
					   strcmp(f, "isFinite") == 0))
	{
		double		d;

		if (a->kind != CEL_DOUBLE)
		{
			no_overload(out, name, nargs, args);
			return true;
		}
		d = a->v.d;
		if (strcmp(f, "ceil") == 0)
			set_double(out, ceil(d));
		else if (strcmp(f, "floor") == 0)
			set_double(out, floor(d));
		else if (strcmp(f, "round") == 0)
			set_double(out, round(d));
		else if (strcmp(f, "trunc") == 0)
			set_double(out, trunc(d));
		else if (strcmp(f, "isNaN") == 0)
			set_bool(out, isnan(d));
		else if (strcmp(f, "isInf") == 0)
			set_bool(out, isinf(d));
		else
			set_bool(out, isfinite(d));
		return true;
	}
	if (nargs == 1 && strcmp(f, "sqrt") == 0)
	{
		if (a->kind == CEL_DOUBLE)
			set_double(out, sqrt(a->v.d));
		else if (a->kind == CEL_INT)
			set_double(out, sqrt((double) a->v.i));
		else if (a->kind == CEL_UINT)
			set_double(out, sqrt((double) a->v.u));
		else
			no_overload(out, name, nargs, args);
		return true;
	}
	if (nargs == 1 && strcmp(f, "abs") == 0)
	{
		if (a->kind == CEL_INT)
		{
			if (a->v.i == PG_INT64_MIN)
				cel_make_error(out, CEL_ERR_OVERFLOW, "integer overflow in math.abs");
			else
			{
				out->kind = CEL_INT;
				out->v.i = a->v.i < 0 ? -a->v.i : a->v.i;
			}
		}
		else if (a->kind == CEL_UINT)
			*out = *a;
		else if (a->kind == CEL_DOUBLE)
			set_double(out, fabs(a->v.d));
		else
			no_overload(out, name, nargs, args);
		return true;
	}
	if (nargs == 1 && strcmp(f, "sign") == 0)
	{
		if (a->kind == CEL_INT)
		{
			out->kind = CEL_INT;
			out->v.i = a->v.i > 0 ? 1 : (a->v.i < 0 ? -1 : 0);
		}
		else if (a->kind == CEL_UINT)
		{
			out->kind = CEL_UINT;
			out->v.u = a->v.u > 0 ? 1 : 0;
		}
		else if (a->kind == CEL_DOUBLE)
		{
			double		d = a->v.d;

			set_double(out, isnan(d) ? d : (d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0)));
		}
		else
			no_overload(out, name, nargs, args);
		return true;
	}
	if (nargs == 1 && strcmp(f, "bitNot") == 0)
	{
		if (a->kind == CEL_INT)
		{
			out->kind = CEL_INT;
			out->v.i = ~a->v.i;
		}
		else if (a->kind == CEL_UINT)
		{
			out->kind = CEL_UINT;
			out->v.u = ~a->v.u;
		}
		else
			no_overload(out, name, nargs, args);
		return true;
	}
	if (nargs == 2 && (strcmp(f, "bitAnd") == 0 || strcmp(f, "bitOr") == 0 || strcmp(f, "bitXor") == 0))
	{
		CelValue   *b = &args[1];
		uint64		x,
					y,
					r;

		if (!((a->kind == CEL_INT && b->kind == CEL_INT) || (a->kind == CEL_UINT && b->kind == CEL_UINT)))
		{
			no_overload(out, name, nargs, args);
			return true;
		}
		x = a->v.u;
		y = b->v.u;
		if (a->kind == CEL_INT)
		{
			x = (uint64) a->v.i;
			y = (uint64) b->v.i;
		}
		r = (f[3] == 'A') ? (x & y) : (f[3] == 'O') ? (x | y) : (x ^ y);
		out->kind = a->kind;
		if (a->kind == CEL_INT)
			out->v.i = (int64) r;
		else
			out->v.u = r;
		return true;
	}
	if (nargs == 2 && (strcmp(f, "bitShiftLeft") == 0 || strcmp(f, "bitShiftRight") == 0))
	{
		CelValue   *b = &args[1];
		uint64		x,
					r;
		bool		left = (f[8] == 'L');

		if (!(a->kind == CEL_INT || a->kind == CEL_UINT) || b->kind != CEL_INT)
		{
			no_overload(out, name, nargs, args);
			return true;
		}
		if (b->v.i < 0)
		{
			cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "math.%s() negative offset: " INT64_FORMAT, f, b->v.i);
			return true;
		}
		x = a->kind == CEL_INT ? (uint64) a->v.i : a->v.u;
		if (b->v.i >= 64)
			r = 0;
		else
			r = left ? (x << b->v.i) : (x >> b->v.i);
		out->kind = a->kind;
		if (a->kind == CEL_INT)
			out->v.i = (int64) r;
		else
			out->v.u = r;
		return true;
	}
	return false;
}
