/*-------------------------------------------------------------------------
 *
 * js_jsonb.c
 *	  Reading jsonb containers in place, and JSON equality.
 *
 * The validator visits every value of an instance; JsonbIterator and
 * findJsonbValueFromContainer allocate for each step, so this file reads
 * the JEntry arrays directly (the layout documented in utils/jsonb.h) and
 * fills caller-owned JsonbValues that point into the container.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "jsonschema/js_internal.h"

/* offset of child "index" in the data area (as jsonb_util.c computes it) */
static uint32
child_offset(const JsonbContainer *jc, int index)
{
	uint32		offset = 0;
	int			i;

	for (i = index - 1; i >= 0; i--)
	{
		offset += JBE_OFFLENFLD(jc->children[i]);
		if (JBE_HAS_OFF(jc->children[i]))
			break;
	}
	return offset;
}

static inline uint32
child_length(const JsonbContainer *jc, int index, uint32 offset)
{
	JEntry		e = jc->children[index];

	if (JBE_HAS_OFF(e))
		return JBE_OFFLENFLD(e) - offset;
	return JBE_OFFLENFLD(e);
}

static inline void
fill_value(const JsonbContainer *jc, int index, char *base, uint32 offset,
		   uint32 len, JsonbValue *r)
{
	JEntry		e = jc->children[index];

	if (JBE_ISNULL(e))
		r->type = jbvNull;
	else if (JBE_ISSTRING(e))
	{
		r->type = jbvString;
		r->val.string.val = base + offset;
		r->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(e))
	{
		r->type = jbvNumeric;
		r->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(e))
	{
		r->type = jbvBool;
		r->val.boolean = true;
	}
	else if (JBE_ISBOOL_FALSE(e))
	{
		r->type = jbvBool;
		r->val.boolean = false;
	}
	else
	{
		r->type = jbvBinary;
		r->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		r->val.binary.len = len - (INTALIGN(offset) - offset);
	}
}

void
js_iter_init(JsIter *it, JsonbContainer *jc)
{
	int			n = JsonContainerSize(jc);

	it->jc = jc;
	it->n = n;
	it->i = 0;
	it->off = 0;
	if (JsonContainerIsObject(jc))
	{
		it->base = (char *) &jc->children[n * 2];
		it->voff = child_offset(jc, n);
	}
	else
	{
		it->base = (char *) &jc->children[n];
		it->voff = 0;
	}
}

bool
js_iter_next_elem(JsIter *it, JsonbValue *elem)
{
	uint32		len;

	if (it->i >= it->n)
		return false;
	len = child_length(it->jc, it->i, it->off);
	fill_value(it->jc, it->i, it->base, it->off, len, elem);
	it->off += len;
	it->i++;
	return true;
}

bool
js_iter_next_pair(JsIter *it, JsonbValue *key, JsonbValue *val)
{
	uint32		len;

	if (it->i >= it->n)
		return false;
	len = child_length(it->jc, it->i, it->off);
	key->type = jbvString;
	key->val.string.val = it->base + it->off;
	key->val.string.len = len;
	it->off += len;
	len = child_length(it->jc, it->i + it->n, it->voff);
	fill_value(it->jc, it->i + it->n, it->base, it->voff, len, val);
	it->voff += len;
	it->i++;
	return true;
}

/* keys of a jsonb object are sorted by length, then bytes */
static inline int
key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

bool
js_object_find(JsonbContainer *jc, const char *key, int len, JsonbValue *val)
{
	int			n = JsonContainerSize(jc);
	char	   *base = (char *) &jc->children[n * 2];
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		uint32		off = child_offset(jc, mid);
		uint32		klen = child_length(jc, mid, off);
		int			c = key_cmp(base + off, klen, key, len);

		if (c == 0)
		{
			if (val)
			{
				uint32		voff = child_offset(jc, mid + n);

				fill_value(jc, mid + n, base, voff,
						   child_length(jc, mid + n, voff), val);
			}
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
js_array_get(JsonbContainer *jc, int index, JsonbValue *elem)
{
	int			n = JsonContainerSize(jc);
	uint32		off;

	if (index < 0 || index >= n)
		return false;
	off = child_offset(jc, index);
	fill_value(jc, index, (char *) &jc->children[n], off,
			   child_length(jc, index, off), elem);
	return true;
}

/* the top-level value of a jsonb datum; scalars are unwrapped */
void
js_root_value(Jsonb *jb, JsonbValue *v)
{
	if (JB_ROOT_IS_SCALAR(jb))
		js_array_get(&jb->root, 0, v);
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = &jb->root;
		v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
}

bool
js_is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

bool
js_is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/*
 * Numerics read in place.  The on-disk layout of numeric (numeric.c, fixed
 * by pg_upgrade compatibility): after the varlena header a uint16 header;
 * its top bits say short (10), long positive (00), long negative (01) or
 * special (11: NaN, infinities).  A short numeric keeps sign, display scale
 * and a 7-bit weight in that header; a long one has an int16 weight next.
 * Then the base-10000 digits (int16), normally without leading or trailing
 * zero digits (make_result strips them; the code does not rely on it).
 */
#define JS_NUM_FLAGS(h)			((h) & 0xC000)
#define JS_NUM_SHORT			0x8000
#define JS_NUM_NEG				0x4000
#define JS_NUM_SPECIAL			0xC000
#define JS_NUM_SHORT_NEG		0x2000
#define JS_NUM_SHORT_WSIGN		0x0040
#define JS_NUM_SHORT_WMASK		0x003F

typedef struct JsNumParts
{
	bool		special;
	bool		neg;
	int			weight;			/* of the first digit, in base-10000 places */
	int			ndigits;
	const char *digits;			/* int16 each, maybe unaligned */
} JsNumParts;

static inline void
num_parts(Numeric n, JsNumParts *p)
{
	const char *d = VARDATA_ANY(n);
	int			size = VARSIZE_ANY_EXHDR(n);
	uint16		h;

	memcpy(&h, d, sizeof(h));
	p->special = JS_NUM_FLAGS(h) == JS_NUM_SPECIAL;
	if (JS_NUM_FLAGS(h) == JS_NUM_SHORT)
	{
		p->neg = (h & JS_NUM_SHORT_NEG) != 0;
		p->weight = (h & JS_NUM_SHORT_WSIGN) ? (int) (~JS_NUM_SHORT_WMASK | (h & JS_NUM_SHORT_WMASK))
			: (int) (h & JS_NUM_SHORT_WMASK);
		p->digits = d + sizeof(uint16);
		p->ndigits = (size - (int) sizeof(uint16)) / (int) sizeof(int16);
	}
	else
	{
		int16		w;

		memcpy(&w, d + sizeof(uint16), sizeof(w));
		p->neg = JS_NUM_FLAGS(h) == JS_NUM_NEG;
		p->weight = w;
		p->digits = d + 2 * sizeof(uint16);
		p->ndigits = (size - 2 * (int) sizeof(uint16)) / (int) sizeof(int16);
	}
}

/* an integral numeric below 10^16 in magnitude as int64 */
static inline bool
num_small_int(Numeric n, int64 *out)
{
	JsNumParts	p;
	int64		v = 0;

	num_parts(n, &p);
	if (p.special)
		return false;
	if (p.ndigits == 0)
	{
		*out = 0;
		return true;
	}
	if (p.weight < 0 || p.weight > 3 || p.ndigits > p.weight + 1)
		return false;			/* (a fraction, or not normalized: the slow way) */
	for (int i = 0; i <= p.weight; i++)
	{
		int16		dig = 0;

		if (i < p.ndigits)
			memcpy(&dig, p.digits + i * sizeof(int16), sizeof(dig));
		v = v * 10000 + dig;
	}
	*out = p.neg ? -v : v;
	return true;
}

int
js_numeric_cmp(Numeric a, Numeric b)
{
	int64		x,
				y;

	/* the common case of forms (ages, quantities, limits): no fmgr call */
	if (num_small_int(a, &x) && num_small_int(b, &y))
		return x < y ? -1 : x > y ? 1 : 0;
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(a),
											 NumericGetDatum(b)));
}

int
js_numeric_sign(Numeric n)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return js_numeric_cmp(n, zero);
}

/* 1.0 is an integer in JSON Schema: ask for the minimum scale, not dscale */
bool
js_numeric_is_integral(Numeric n)
{
	JsNumParts	p;

	/* no digit after the point: every stored digit lies left of it */
	num_parts(n, &p);
	if (p.special)
		return false;
	/* (digits past the point are zero when a value was not normalized) */
	for (int i = Max(p.weight + 1, 0); i < p.ndigits; i++)
	{
		int16		dig;

		memcpy(&dig, p.digits + i * sizeof(int16), sizeof(dig));
		if (dig != 0)
			return false;
	}
	return true;
}

/* length in characters (code points in UTF-8 databases) */
int
js_utf8_length(const char *s, int len)
{
	int			n = 0;
	int			i;

	if (GetDatabaseEncoding() != PG_UTF8)
		return pg_mbstrlen_with_len(s, len);
	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* JSON equality: numbers by value (1 == 1.0), objects regardless of order */
bool
js_json_equal(const JsonbValue *a, const JsonbValue *b)
{
	check_stack_depth();

	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val,
					   a->val.string.len) == 0;
		case jbvNumeric:
			return js_numeric_cmp(a->val.numeric, b->val.numeric) == 0;
		case jbvBinary:
			{
				JsonbContainer *ca = a->val.binary.data;
				JsonbContainer *cb = b->val.binary.data;
				JsIter		ia,
							ib;
				JsonbValue	ka,
							va,
							kb,
							vb;

				if (JsonContainerIsObject(ca) != JsonContainerIsObject(cb) ||
					JsonContainerSize(ca) != JsonContainerSize(cb))
					return false;
				js_iter_init(&ia, ca);
				js_iter_init(&ib, cb);
				if (JsonContainerIsObject(ca))
				{
					/* same key set means same key order */
					while (js_iter_next_pair(&ia, &ka, &va) &&
						   js_iter_next_pair(&ib, &kb, &vb))
					{
						if (!js_json_equal(&ka, &kb) || !js_json_equal(&va, &vb))
							return false;
					}
				}
				else
				{
					while (js_iter_next_elem(&ia, &va) &&
						   js_iter_next_elem(&ib, &vb))
					{
						if (!js_json_equal(&va, &vb))
							return false;
					}
				}
				return true;
			}
		default:
			return false;
	}
}

/*
 * A hash consistent with js_json_equal: equal values hash alike (numbers by
 * value, as hash_numeric ignores trailing zeros; objects in jsonb's key order,
 * which is the same for the same key set).  uniqueItems uses it to compare
 * only items whose hashes match.
 */
uint32
js_json_hash(const JsonbValue *v)
{
	check_stack_depth();

	switch (v->type)
	{
		case jbvNull:
			return 0x9e3779b9;
		case jbvBool:
			return v->val.boolean ? 0x85ebca6b : 0xc2b2ae35;
		case jbvString:
			return hash_bytes((const unsigned char *) v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetUInt32(DirectFunctionCall1(hash_numeric,
													  NumericGetDatum(v->val.numeric)));
		case jbvBinary:
			{
				JsonbContainer *c = v->val.binary.data;
				JsIter		it;
				JsonbValue	k,
							e;
				uint32		h = hash_uint32(JsonContainerSize(c)) ^
					(JsonContainerIsObject(c) ? 0x27d4eb2f : 0x165667b1);

				CHECK_FOR_INTERRUPTS();
				js_iter_init(&it, c);
				if (JsonContainerIsObject(c))
				{
					while (js_iter_next_pair(&it, &k, &e))
					{
						h = hash_combine(h, js_json_hash(&k));
						h = hash_combine(h, js_json_hash(&e));
					}
				}
				else
				{
					while (js_iter_next_elem(&it, &e))
						h = hash_combine(h, js_json_hash(&e));
				}
				return h;
			}
		default:
			return 0;
	}
}

/* append a value as JSON text */
void
js_value_to_json(StringInfo buf, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		case jbvString:
			{
				char	   *s = pnstrdup(v->val.string.val, v->val.string.len);

				escape_json(buf, s);
				pfree(s);
				break;
			}
		case jbvNumeric:
			appendStringInfoString(buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBinary:
			(void) JsonbToCString(buf, v->val.binary.data, v->val.binary.len);
			break;
		default:
			appendStringInfoString(buf, "null");
			break;
	}
}
