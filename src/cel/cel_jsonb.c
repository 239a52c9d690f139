/*-------------------------------------------------------------------------
 *
 * cel_jsonb.c
 *	  The mapping between jsonb and CEL values.
 *
 * jsonb -> CEL (documented in docs/rules.md):
 *	  null -> null, true/false -> bool, string -> string,
 *	  number -> int when the value is integral and fits 64 bits (3, 3.0,
 *	  -7e2), otherwise double (3.5, 1e300, 18446744073709551616),
 *	  array -> list, object -> map with string keys.
 * Arrays and objects are not converted up front: they are wrapped as
 * external lists and maps whose elements are converted when read, so a
 * rule reading two fields of a large document touches only those fields.
 *
 * CEL -> jsonb (rule_eval's result):
 *	  int, uint, double -> number (NaN and infinities -> the strings "NaN",
 *	  "Infinity", "-Infinity"), string -> string, bytes -> base64 string,
 *	  bool, null, list -> array, map -> object (keys as their string form),
 *	  timestamp -> RFC 3339 string, duration -> "<seconds>s" string,
 *	  type -> its name, optional -> its value or null when empty.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/base64.h"
#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "cel/cel_jsonb.h"
#include "lc/lc_errcodes.h"

/* ---- numeric decoding ---- */

/*
 * The on-disk format of numeric (stable across versions, see numeric.c):
 * a 16-bit header, in the short form, or a 16-bit sign/dscale word and a
 * 16-bit weight in the long form, followed by base-10000 digits with
 * leading and trailing zero digits stripped.  Reading it directly lets us
 * recognize integral values without formatting the number as text.
 */
#define NUM_SIGN_MASK	0xC000
#define NUM_POS			0x0000
#define NUM_NEG			0x4000
#define NUM_SHORT		0x8000
#define NUM_SPECIAL		0xC000
#define NUM_SHORT_SIGN	0x2000
#define NUM_SHORT_WEIGHT_SIGN 0x0040
#define NUM_SHORT_WEIGHT_MASK 0x003F

static bool
numeric_to_int64_exact(Numeric num, int64 *out)
{
	const char *data = VARDATA_ANY(num);
	Size		size = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight,
				ndigits,
				i;
	bool		neg;
	const int16 *digits;
	uint64		acc = 0;

	if (size < sizeof(uint16))
		return false;
	memcpy(&header, data, sizeof(uint16));
	if ((header & NUM_SIGN_MASK) == NUM_SPECIAL)
		return false;
	if ((header & NUM_SIGN_MASK) == NUM_SHORT)
	{
		neg = (header & NUM_SHORT_SIGN) != 0;
		/* a 7-bit two's complement weight */
		weight = (header & NUM_SHORT_WEIGHT_SIGN) ?
			(int) (int16) (0xFFC0 | (header & NUM_SHORT_WEIGHT_MASK)) :
			(int) (header & NUM_SHORT_WEIGHT_MASK);
		digits = (const int16 *) (data + sizeof(uint16));
		ndigits = (int) ((size - sizeof(uint16)) / sizeof(int16));
	}
	else
	{
		int16		w;

		if (size < 2 * sizeof(uint16))
			return false;
		neg = (header & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = (const int16 *) (data + 2 * sizeof(uint16));
		ndigits = (int) ((size - 2 * sizeof(uint16)) / sizeof(int16));
	}
	if (ndigits == 0)
	{
		*out = 0;
		return true;
	}
	/* a digit below the units position means a fraction */
	if (ndigits > weight + 1 || weight > 4)
		return false;
	for (i = 0; i <= weight; i++)
	{
		int16		d;

		if (i < ndigits)
			memcpy(&d, &digits[i], sizeof(int16));
		else
			d = 0;
		if (acc > (PG_UINT64_MAX - d) / 10000)
			return false;
		acc = acc * 10000 + d;
	}
	if (neg)
	{
		if (acc > (uint64) PG_INT64_MAX + 1)
			return false;
		*out = (acc == (uint64) PG_INT64_MAX + 1) ? PG_INT64_MIN : -(int64) acc;
	}
	else
	{
		if (acc > (uint64) PG_INT64_MAX)
			return false;
		*out = (int64) acc;
	}
	return true;
}

/* ---- external containers over jsonb ---- */

typedef struct JsonbSrc
{
	JsonbContainer *jc;
	int			n;
	bool		materialized;
	CelValue   *keys;
	CelValue   *vals;
} JsonbSrc;

static int
jsrc_size(void *src)
{
	return ((JsonbSrc *) src)->n;
}

static void
jsrc_list_get(void *src, int i, CelValue *out)
{
	JsonbSrc   *s = src;
	JsonbValue *jv = getIthJsonbValueFromContainer(s->jc, (uint32) i);

	cel_from_jsonb_value(jv, out);
}

static bool
jsrc_map_get(void *src, const CelValue *key, CelValue *out)
{
	JsonbSrc   *s = src;
	JsonbValue	res;

	if (key->kind != CEL_STRING)
		return false;
	if (getKeyJsonValueFromContainer(s->jc, key->v.s.data, key->v.s.len, &res) == NULL)
		return false;
	cel_from_jsonb_value(&res, out);
	return true;
}

static void
jsrc_materialize(JsonbSrc *s)
{
	JsonbIterator *it = JsonbIteratorInit(s->jc);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i = 0;

	s->keys = palloc(Max(s->n, 1) * sizeof(CelValue));
	s->vals = palloc(Max(s->n, 1) * sizeof(CelValue));
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY && i < s->n)
			cel_make_string(&s->keys[i], v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE && i < s->n)
		{
			cel_from_jsonb_value(&v, &s->vals[i]);
			i++;
		}
	}
	s->materialized = true;
}

static void
jsrc_map_entry(void *src, int i, CelValue *key, CelValue *val)
{
	JsonbSrc   *s = src;

	if (!s->materialized)
		jsrc_materialize(s);
	if (key)
		*key = s->keys[i];
	if (val)
		*val = s->vals[i];
}

static const CelContainerOps jsonb_list_ops = {jsrc_size, jsrc_list_get, NULL, NULL};
static const CelContainerOps jsonb_map_ops = {jsrc_size, NULL, jsrc_map_get, jsrc_map_entry};

void
cel_from_jsonb_value(const JsonbValue *jv, CelValue *out)
{
	switch (jv->type)
	{
		case jbvNull:
			out->kind = CEL_NULL;
			return;
		case jbvBool:
			out->kind = CEL_BOOL;
			out->v.b = jv->val.boolean;
			return;
		case jbvString:
			cel_make_string(out, jv->val.string.val, jv->val.string.len);
			return;
		case jbvNumeric:
			{
				int64		i;

				if (numeric_to_int64_exact(jv->val.numeric, &i))
				{
					out->kind = CEL_INT;
					out->v.i = i;
				}
				else
				{
					out->kind = CEL_DOUBLE;
					out->v.d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																  NumericGetDatum(jv->val.numeric)));
				}
				return;
			}
		case jbvBinary:
			{
				JsonbContainer *jc = jv->val.binary.data;
				JsonbSrc   *s;

				if (JsonContainerIsScalar(jc))
				{
					JsonbValue	sc;

					JsonbExtractScalar(jc, &sc);
					cel_from_jsonb_value(&sc, out);
					return;
				}
				/* one allocation for the container and its source */
				if (JsonContainerIsArray(jc))
				{
					struct
					{
						CelList		l;
						JsonbSrc	s;
					}		   *both = palloc(sizeof(*both));

					s = &both->s;
					both->l.n = 0;
					both->l.items = NULL;
					both->l.ops = &jsonb_list_ops;
					both->l.src = s;
					out->kind = CEL_LIST;
					out->v.list = &both->l;
				}
				else
				{
					struct
					{
						CelMap		m;
						JsonbSrc	s;
					}		   *both = palloc(sizeof(*both));

					s = &both->s;
					both->m.n = 0;
					both->m.keys = NULL;
					both->m.vals = NULL;
					both->m.ops = &jsonb_map_ops;
					both->m.src = s;
					out->kind = CEL_MAP;
					out->v.map = &both->m;
				}
				s->jc = jc;
				s->n = JsonContainerSize(jc);
				s->materialized = false;
				s->keys = s->vals = NULL;
				return;
			}
		default:
			/* jbvArray/jbvObject in memory: not produced by container reads */
			out->kind = CEL_NULL;
			return;
	}
}

bool
cel_jsonb_resolver(void *ctx, const char *name, int len, CelValue *out)
{
	JsonbContainer *jc = ctx;
	JsonbValue	res;

	if (jc == NULL)
		return false;
	if (getKeyJsonValueFromContainer(jc, name, len, &res) == NULL)
		return false;
	cel_from_jsonb_value(&res, out);
	return true;
}

/* a.b.c straight from the jsonb object: no intermediate map values */
bool
cel_jsonb_path_resolver(void *ctx, const char *const *names, const int *lens, int n, CelValue *out)
{
	JsonbContainer *jc = ctx;
	JsonbValue	res;
	int			i;

	if (jc == NULL)
		return false;
	for (i = 0; i < n; i++)
	{
		if (getKeyJsonValueFromContainer(jc, names[i], lens[i], &res) == NULL)
			return false;
		if (i == n - 1)
			break;
		if (res.type != jbvBinary || !JsonContainerIsObject(res.val.binary.data))
			return false;
		jc = res.val.binary.data;
	}
	cel_from_jsonb_value(&res, out);
	return true;
}

/* ---- CEL -> jsonb ---- */

static void
push_string(JsonbParseState **state, JsonbIteratorToken tok, const char *s, int len)
{
	JsonbValue	jv;

	/*
	 * A CEL string may hold U+0000 ("\u0000", string(b"\x00")); PostgreSQL's
	 * jsonb and text never do, and a NUL inside a jsonb string is silently
	 * cut at output.  Refuse it as jsonb input refuses "\u0000".
	 */
	if (memchr(s, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("CEL string holds a NUL character (\\u0000), which jsonb cannot store")));
	jv.type = jbvString;
	jv.val.string.val = (char *) s;
	jv.val.string.len = len;
	pushJsonbValue(state, tok, &jv);
}

static void
value_to_text(StringInfo buf, const CelValue *v)
{
	switch (v->kind)
	{
		case CEL_STRING:
			appendBinaryStringInfo(buf, v->v.s.data, v->v.s.len);
			break;
		case CEL_INT:
			appendStringInfo(buf, INT64_FORMAT, v->v.i);
			break;
		case CEL_UINT:
			appendStringInfo(buf, UINT64_FORMAT, v->v.u);
			break;
		case CEL_BOOL:
			appendStringInfoString(buf, v->v.b ? "true" : "false");
			break;
		default:
			cel_value_out(buf, v);
	}
}

/*
 * A finite double as numeric, with the shortest decimal digits that read back
 * as the same double (Ryu, as float8out does).  float8_numeric keeps only
 * DBL_DIG (15) digits: 2^53 would come back as 9007199254740990.
 */
Numeric
cel_double_to_numeric(double d)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	Assert(!isnan(d) && !isinf(d));
	double_to_shortest_decimal_buf(d, buf);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

static void
push_value(JsonbParseState **state, JsonbIteratorToken tok, const CelValue *v)
{
	JsonbValue	jv;
	StringInfoData buf;

	check_stack_depth();
	switch (v->kind)
	{
		case CEL_NULL:
			jv.type = jbvNull;
			pushJsonbValue(state, tok, &jv);
			return;
		case CEL_BOOL:
			jv.type = jbvBool;
			jv.val.boolean = v->v.b;
			pushJsonbValue(state, tok, &jv);
			return;
		case CEL_INT:
			jv.type = jbvNumeric;
			jv.val.numeric = int64_to_numeric(v->v.i);
			pushJsonbValue(state, tok, &jv);
			return;
		case CEL_UINT:
			jv.type = jbvNumeric;
			jv.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																 CStringGetDatum(psprintf(UINT64_FORMAT, v->v.u)),
																 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
			pushJsonbValue(state, tok, &jv);
			return;
		case CEL_DOUBLE:
			if (isnan(v->v.d))
				push_string(state, tok, "NaN", 3);
			else if (isinf(v->v.d))
				push_string(state, tok, v->v.d > 0 ? "Infinity" : "-Infinity", v->v.d > 0 ? 8 : 9);
			else
			{
				jv.type = jbvNumeric;
				jv.val.numeric = cel_double_to_numeric(v->v.d);
				pushJsonbValue(state, tok, &jv);
			}
			return;
		case CEL_STRING:
			push_string(state, tok, v->v.s.data, v->v.s.len);
			return;
		case CEL_BYTES:
			{
				int			enclen = pg_b64_enc_len(v->v.s.len);
				char	   *enc = palloc(enclen + 1);
				int			n = pg_b64_encode(v->v.s.data, v->v.s.len, enc, enclen);

				push_string(state, tok, enc, Max(n, 0));
				return;
			}
		case CEL_TIMESTAMP:
			initStringInfo(&buf);
			cel_format_timestamp(&buf, v->v.t.sec, v->v.t.nanos);
			push_string(state, tok, buf.data, buf.len);
			return;
		case CEL_DURATION:
			initStringInfo(&buf);
			cel_format_duration(&buf, v->v.t.sec, v->v.t.nanos);
			push_string(state, tok, buf.data, buf.len);
			return;
		case CEL_TYPE:
			push_string(state, tok, v->v.type_name, strlen(v->v.type_name));
			return;
		case CEL_OPTIONAL:
			if (v->v.opt)
				push_value(state, tok, v->v.opt);
			else
			{
				jv.type = jbvNull;
				pushJsonbValue(state, tok, &jv);
			}
			return;
		case CEL_LIST:
			{
				int			n = cel_list_size(v->v.list),
							i;

				pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
				for (i = 0; i < n; i++)
				{
					CelValue	x;

					cel_list_get(v->v.list, i, &x);
					push_value(state, WJB_ELEM, &x);
				}
				pushJsonbValue(state, WJB_END_ARRAY, NULL);
				return;
			}
		case CEL_MAP:
			{
				int			n = cel_map_size(v->v.map),
							i;

				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				for (i = 0; i < n; i++)
				{
					CelValue	k,
								x;

					cel_map_entry(v->v.map, i, &k, &x);
					initStringInfo(&buf);
					value_to_text(&buf, &k);
					push_string(state, WJB_KEY, buf.data, buf.len);
					push_value(state, WJB_VALUE, &x);
				}
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
				return;
			}
		case CEL_ERROR:
			cel_raise_error(v, NULL);
	}
}

Jsonb *
cel_to_jsonb(const CelValue *v)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	if (v->kind == CEL_ERROR)
		cel_raise_error(v, NULL);
	if (v->kind == CEL_LIST || v->kind == CEL_MAP ||
		(v->kind == CEL_OPTIONAL && v->v.opt && (v->v.opt->kind == CEL_LIST || v->v.opt->kind == CEL_MAP)))
	{
		/* containers push themselves */
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		push_value(&state, WJB_ELEM, v);
		res = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		/* unwrap the one-element array */
		{
			Jsonb	   *arr = JsonbValueToJsonb(res);
			JsonbValue *elem = getIthJsonbValueFromContainer(&arr->root, 0);

			return JsonbValueToJsonb(elem);
		}
	}
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	push_value(&state, WJB_ELEM, v);
	res = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	{
		Jsonb	   *arr = JsonbValueToJsonb(res);
		JsonbValue *elem = getIthJsonbValueFromContainer(&arr->root, 0);

		return JsonbValueToJsonb(elem);
	}
}

/* ---- errors ---- */

int
cel_error_sqlstate(CelErrorCode code)
{
	switch (code)
	{
		case CEL_ERR_NO_SUCH_KEY:
			return ERRCODE_CEL_NO_SUCH_KEY;
		case CEL_ERR_OVERFLOW:
			return ERRCODE_CEL_OVERFLOW;
		case CEL_ERR_DIVISION_BY_ZERO:
			return ERRCODE_CEL_DIVISION_BY_ZERO;
		case CEL_ERR_NO_OVERLOAD:
			return ERRCODE_CEL_NO_MATCHING_OVERLOAD;
		case CEL_ERR_UNKNOWN_VARIABLE:
			return ERRCODE_CEL_UNKNOWN_VARIABLE;
		case CEL_ERR_INDEX_OUT_OF_RANGE:
			return ERRCODE_CEL_INDEX_OUT_OF_RANGE;
		case CEL_ERR_CONVERSION:
			return ERRCODE_CEL_CONVERSION_ERROR;
		case CEL_ERR_INVALID_ARGUMENT:
			return ERRCODE_CEL_INVALID_ARGUMENT;
		case CEL_ERR_UNKNOWN_FUNCTION:
			return ERRCODE_CEL_UNKNOWN_FUNCTION;
		case CEL_ERR_FUNCTION_FAILED:
			return ERRCODE_CEL_FUNCTION_FAILED;
		default:
			return ERRCODE_CEL_EVALUATION_ERROR;
	}
}

void
cel_raise_error(const CelValue *err, const char *expr)
{
	ereport(ERROR,
			(errcode(cel_error_sqlstate(err->v.err->code)),
			 errmsg("CEL evaluation error: %s", err->v.err->message),
			 expr ? errdetail("Expression: %s", expr) : 0));
	pg_unreachable();
}

/* ---- proto3 JSON of cel.expr.Value (conformance tests) ---- */

static const char *
jstr(JsonbValue *v, int *len)
{
	if (v->type != jbvString)
		return NULL;
	*len = v->val.string.len;
	return v->val.string.val;
}

static double
jnum(JsonbValue *v, bool *ok)
{
	*ok = true;
	if (v->type == jbvNumeric)
		return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);

		if (strcmp(s, "NaN") == 0)
			return NAN;
		if (strcmp(s, "Infinity") == 0)
			return INFINITY;
		if (strcmp(s, "-Infinity") == 0)
			return -INFINITY;
		return strtod(s, NULL);
	}
	*ok = false;
	return 0;
}

bool
cel_from_proto_json(JsonbValue *jv, CelValue *out, char **why)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (jv->type != jbvBinary || !JsonContainerIsObject(jv->val.binary.data))
	{
		*why = "value is not an object";
		return false;
	}
	it = JsonbIteratorInit(jv->val.binary.data);
	tok = JsonbIteratorNext(&it, &k, true);
	while ((tok = JsonbIteratorNext(&it, &k, true)) == WJB_KEY)
	{
		int			len;
		const char *s;

		key = pnstrdup(k.val.string.val, k.val.string.len);
		JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "int64_value") == 0)
		{
			out->kind = CEL_INT;
			if (v.type == jbvNumeric)
				out->v.i = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v.val.numeric)));
			else if ((s = jstr(&v, &len)))
				out->v.i = strtoll(pnstrdup(s, len), NULL, 10);
			return true;
		}
		if (strcmp(key, "uint64_value") == 0)
		{
			out->kind = CEL_UINT;
			if (v.type == jbvNumeric)
				out->v.u = (uint64) DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v.val.numeric)));
			else if ((s = jstr(&v, &len)))
				out->v.u = strtoull(pnstrdup(s, len), NULL, 10);
			return true;
		}
		if (strcmp(key, "double_value") == 0)
		{
			bool		ok;

			out->kind = CEL_DOUBLE;
			out->v.d = jnum(&v, &ok);
			return ok;
		}
		if (strcmp(key, "string_value") == 0 && (s = jstr(&v, &len)))
		{
			cel_make_string(out, s, len);
			return true;
		}
		if (strcmp(key, "bytes_value") == 0 && (s = jstr(&v, &len)))
		{
			int			dlen = pg_b64_dec_len(len);
			char	   *dec = palloc(dlen + 1);
			int			n = pg_b64_decode(s, len, dec, dlen);

			cel_make_bytes(out, dec, Max(n, 0));
			return true;
		}
		if (strcmp(key, "bool_value") == 0 && v.type == jbvBool)
		{
			out->kind = CEL_BOOL;
			out->v.b = v.val.boolean;
			return true;
		}
		if (strcmp(key, "null_value") == 0)
		{
			out->kind = CEL_NULL;
			return true;
		}
		if (strcmp(key, "type_value") == 0 && (s = jstr(&v, &len)))
		{
			cel_make_type(out, pnstrdup(s, len));
			return true;
		}
		if (strcmp(key, "list_value") == 0 && v.type == jbvBinary)
		{
			JsonbValue *vals = getKeyJsonValueFromContainer(v.val.binary.data, "values", 6, NULL);
			int			n = 0,
						i;
			CelValue   *items;

			if (vals && vals->type == jbvBinary)
				n = JsonContainerSize(vals->val.binary.data);
			items = palloc(Max(n, 1) * sizeof(CelValue));
			for (i = 0; i < n; i++)
				if (!cel_from_proto_json(getIthJsonbValueFromContainer(vals->val.binary.data, i), &items[i], why))
					return false;
			cel_make_list(out, n, items);
			return true;
		}
		if (strcmp(key, "map_value") == 0 && v.type == jbvBinary)
		{
			JsonbValue *ents = getKeyJsonValueFromContainer(v.val.binary.data, "entries", 7, NULL);
			int			n = 0,
						i;
			CelValue   *keys,
					   *vals;

			if (ents && ents->type == jbvBinary)
				n = JsonContainerSize(ents->val.binary.data);
			keys = palloc(Max(n, 1) * sizeof(CelValue));
			vals = palloc(Max(n, 1) * sizeof(CelValue));
			for (i = 0; i < n; i++)
			{
				JsonbValue *ent = getIthJsonbValueFromContainer(ents->val.binary.data, i);
				JsonbValue *ek = getKeyJsonValueFromContainer(ent->val.binary.data, "key", 3, NULL);
				JsonbValue *ev = getKeyJsonValueFromContainer(ent->val.binary.data, "value", 5, NULL);

				if (!ek || !ev || !cel_from_proto_json(ek, &keys[i], why) ||
					!cel_from_proto_json(ev, &vals[i], why))
					return false;
			}
			cel_make_map(out, n, keys, vals);
			return true;
		}
		*why = psprintf("unsupported value kind \"%s\"", key);
		return false;
	}
	*why = "empty value";
	return false;
}

static void
push_proto(JsonbParseState **state, JsonbIteratorToken tok, const CelValue *v)
{
	JsonbValue	jv;
	StringInfoData buf;

	check_stack_depth();
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	switch (v->kind)
	{
		case CEL_NULL:
			push_string(state, WJB_KEY, "null_value", 10);
			jv.type = jbvNull;
			pushJsonbValue(state, WJB_VALUE, &jv);
			break;
		case CEL_BOOL:
			push_string(state, WJB_KEY, "bool_value", 10);
			jv.type = jbvBool;
			jv.val.boolean = v->v.b;
			pushJsonbValue(state, WJB_VALUE, &jv);
			break;
		case CEL_INT:
			push_string(state, WJB_KEY, "int64_value", 11);
			initStringInfo(&buf);
			appendStringInfo(&buf, INT64_FORMAT, v->v.i);
			push_string(state, WJB_VALUE, buf.data, buf.len);
			break;
		case CEL_UINT:
			push_string(state, WJB_KEY, "uint64_value", 12);
			initStringInfo(&buf);
			appendStringInfo(&buf, UINT64_FORMAT, v->v.u);
			push_string(state, WJB_VALUE, buf.data, buf.len);
			break;
		case CEL_DOUBLE:
			push_string(state, WJB_KEY, "double_value", 12);
			if (isnan(v->v.d) || isinf(v->v.d))
				push_string(state, WJB_VALUE, isnan(v->v.d) ? "NaN" : v->v.d > 0 ? "Infinity" : "-Infinity",
							isnan(v->v.d) ? 3 : v->v.d > 0 ? 8 : 9);
			else
			{
				/* exact text so that -0.0 and all 17 digits survive */
				char		tmp[64];

				snprintf(tmp, sizeof(tmp), "%.17g", v->v.d);
				push_string(state, WJB_VALUE, pstrdup(tmp), strlen(tmp));
			}
			break;
		case CEL_STRING:
			if (memchr(v->v.s.data, '\0', v->v.s.len) == NULL)
			{
				push_string(state, WJB_KEY, "string_value", 12);
				push_string(state, WJB_VALUE, v->v.s.data, v->v.s.len);
				break;
			}
			/* jsonb cannot hold U+0000: the runner decodes this form */
			{
				int			enclen = pg_b64_enc_len(v->v.s.len);
				char	   *enc = palloc(enclen + 1);
				int			n = pg_b64_encode(v->v.s.data, v->v.s.len, enc, enclen);

				push_string(state, WJB_KEY, "string_value_base64", 19);
				push_string(state, WJB_VALUE, enc, Max(n, 0));
			}
			break;
		case CEL_BYTES:
			{
				int			enclen = pg_b64_enc_len(v->v.s.len);
				char	   *enc = palloc(enclen + 1);
				int			n = pg_b64_encode(v->v.s.data, v->v.s.len, enc, enclen);

				push_string(state, WJB_KEY, "bytes_value", 11);
				push_string(state, WJB_VALUE, enc, Max(n, 0));
				break;
			}
		case CEL_TYPE:
			push_string(state, WJB_KEY, "type_value", 10);
			push_string(state, WJB_VALUE, v->v.type_name, strlen(v->v.type_name));
			break;
		case CEL_LIST:
			{
				int			n = cel_list_size(v->v.list),
							i;

				push_string(state, WJB_KEY, "list_value", 10);
				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				push_string(state, WJB_KEY, "values", 6);
				pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
				for (i = 0; i < n; i++)
				{
					CelValue	x;

					cel_list_get(v->v.list, i, &x);
					push_proto(state, WJB_ELEM, &x);
				}
				pushJsonbValue(state, WJB_END_ARRAY, NULL);
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
				break;
			}
		case CEL_MAP:
			{
				int			n = cel_map_size(v->v.map),
							i;

				push_string(state, WJB_KEY, "map_value", 9);
				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				push_string(state, WJB_KEY, "entries", 7);
				pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
				for (i = 0; i < n; i++)
				{
					CelValue	k,
								x;

					cel_map_entry(v->v.map, i, &k, &x);
					pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
					push_string(state, WJB_KEY, "key", 3);
					push_proto(state, WJB_VALUE, &k);
					push_string(state, WJB_KEY, "value", 5);
					push_proto(state, WJB_VALUE, &x);
					pushJsonbValue(state, WJB_END_OBJECT, NULL);
				}
				pushJsonbValue(state, WJB_END_ARRAY, NULL);
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
				break;
			}
		default:
			/* timestamps, durations, optionals: their CEL text */
			push_string(state, WJB_KEY, "cel_text", 8);
			initStringInfo(&buf);
			cel_value_out(&buf, v);
			push_string(state, WJB_VALUE, buf.data, buf.len);
			break;
	}
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

Jsonb *
cel_to_proto_json(const CelValue *v)
{
	JsonbParseState *state = NULL;

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	push_proto(&state, WJB_ELEM, v);
	{
		JsonbValue *res = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		Jsonb	   *arr = JsonbValueToJsonb(res);

		return JsonbValueToJsonb(getIthJsonbValueFromContainer(&arr->root, 0));
	}
}
