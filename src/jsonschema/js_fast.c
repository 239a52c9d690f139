/*-------------------------------------------------------------------------
 *
 * js_fast.c
 *	  The validator's fast path: a per-schema "plan" compiled once with the
 *	  schema (js_compile.c keeps it in JsCompiled.fast) and run in flag mode
 *	  (valid or not, no error built) straight over the instance's jsonb
 *	  containers.
 *
 * The full validator (js_validate.c) is general: every schema it enters
 * pays for paths, scopes, titles, annotations and the JsonbValue of each
 * value.  A plan node holds only what a flag-mode answer needs, with the
 * numeric limits decoded once; values are read from the JEntry arrays of
 * their container (the layout of utils/jsonb.h: keys of an object first,
 * sorted by length then bytes, then the values in the same order; each
 * entry holds the end offset or the length of its datum, numerics and
 * containers int-aligned in the data area), so "properties", "required"
 * and "additionalProperties" are one merge over the sorted keys (and an
 * object with the same keys as the last one the node saw skips even that:
 * FShape); strings are compared in place; numerics are compared digit by
 * digit in their stored form, without allocating.
 *
 * A plan answers FAST_VALID, FAST_INVALID or FAST_UNKNOWN.  Keywords are
 * evaluated in the order the full validator evaluates them in flag mode
 * (so that an error it raises, such as a regex budget error or a deferred
 * $ref error, is raised here at the same point or not at all).
 * What a plan does not cover is a FULL node, whose subschema the full
 * validator evaluates in flag mode (js_eval_flag): $dynamicRef and
 * $recursiveRef (no plan when the schema uses dynamic scope at all),
 * unevaluatedProperties/Items, extension keywords (x-rules), deferred
 * errors, schemas without the validation vocabulary.  FAST_UNKNOWN (too
 * deep, an array too long for pairwise uniqueItems, a numeric we do not
 * read) sends the whole instance to the full validator.
 *
 * js_validate() uses the answer as is when no error is to be collected;
 * when errors are collected, a valid answer stands (the output of a valid
 * instance holds no error) and anything else runs the full validator,
 * which builds the errors: outputs never change.  The setting
 * lowcode.jsonschema_fast_path (on, off, check) turns it off, or runs both
 * and raises an internal error when they disagree (for tests).
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "jsonschema/js_internal.h"

int			js_fast_path_mode = JS_FAST_ON;

/* schema levels a plan descends before it leaves the instance to the full validator */
#define FAST_MAX_DEPTH 64
/* uniqueItems pairwise, as the full validator up to this size; longer arrays: unknown */
#define FAST_UNIQUE_MAX 64

typedef enum FKind
{
	FN_TRUE,					/* true, {} */
	FN_FALSE,					/* false */
	FN_FULL,					/* the full validator, flag mode */
	FN_PLAN
} FKind;

/* a numeric decoded: |value| = sum digits[i] * 10000^(weight - i); no leading/trailing zero digit */
typedef struct FNum
{
	bool		special;		/* NaN, infinity: not read here */
	int			sign;			/* -1, 0, 1 */
	int			weight;
	int			ndigits;
	const char *digits;			/* int16 each, maybe unaligned */
	bool		small;			/* an integer below 10^16 in magnitude: ival */
	int64		ival;
} FNum;

typedef struct FNode FNode;
typedef struct FShape FShape;

typedef struct FProp
{
	const char *name;
	int			len;
	bool		required;		/* also in "required" */
	uint64		w1,
				w2;				/* the name's bytes as words (key_words) */
	FNode	   *node;
} FProp;

typedef struct FPattern
{
	LcRegex    *re;
	FNode	   *node;
} FPattern;

typedef struct FConst
{
	JsonbValue *value;			/* in the compiled schema */
	FNum		num;			/* when a number */
} FConst;

/* FNode.flags: what a value meets, so that a leaf tests one word */
#define NF_REF			0x0001	/* $ref: first, then the rest (the general order) */
#define NF_INPLACE		0x0002	/* allOf, anyOf, oneOf, not, if: last */
#define NF_CONST		0x0004
#define NF_ENUM			0x0008
#define NF_STRING		0x0010	/* string keywords */
#define NF_NUMBER		0x0020	/* number keywords */
#define NF_OBJECT		0x0040	/* object keywords */
#define NF_ARRAY		0x0080	/* array keywords */
#define NF_INTEGER		0x0100	/* "type" takes integers but not all numbers */
#define NF_GENERAL		(NF_REF | NF_INPLACE)

struct FNode
{
	uint8		kind;
	uint8		tmask;			/* 1 << FType that "type" accepts as is (all when no "type") */
	uint16		flags;
	bool		draft4;
	bool		has_string_kw;
	bool		has_number_kw;
	bool		has_object_kw;
	bool		has_array_kw;
	bool		has_inplace;
	bool		walk_keys;		/* properties, patternProperties, additionalProperties, propertyNames */
	bool		simple_walk;	/* only properties (required among them) and additionalProperties */
	struct FShape *shape;		/* the keys of the last object seen (fx_simple_keys), or NULL */
	JsSchema   *s;				/* the schema (FN_FULL: what js_eval_flag evaluates) */
	uint32		types;
	FNode	   *ref;

	bool		has_const;
	FConst		cnst;
	int			n_enum;
	FConst	   *enums;

	/* strings */
	int64		min_len;
	int64		max_len;
	LcRegex    *pattern;
	const char *format;
	bool		format_assert;

	/* numbers */
	bool		has_min,
				has_max,
				has_exmin,
				has_exmax;
	FNum		min,
				max,
				exmin,
				exmax;
	Numeric		multiple_of;

	/* objects */
	int64		min_props;
	int64		max_props;
	int			n_props;
	FProp	   *props;
	bool		bsearch_props;	/* many properties: binary search for few keys */
	int			n_pattern;
	FPattern   *patterns;
	FNode	   *additional;
	FNode	   *property_names;
	int			n_required;
	JsString   *required;
	int			n_required_distinct;	/* props flagged required + extra_required */
	int			n_extra_required;	/* required names that are not properties, sorted */
	JsString   *extra_required;
	int			n_dep_schemas;
	FProp	   *dep_schemas;

	/* arrays */
	int64		min_items;
	int64		max_items;
	bool		unique;
	int			n_prefix;
	FNode	  **prefix;
	FNode	   *items;
	FNode	   *contains;
	int64		min_contains;
	int64		max_contains;

	/* in place */
	int			n_all_of;
	FNode	  **all_of;
	int			n_any_of;
	FNode	  **any_of;
	int			n_one_of;
	FNode	  **one_of;
	FNode	   *not;
	FNode	   *if_;
	FNode	   *then_;
	FNode	   *else_;
};

struct JsFastPlan
{
	FNode	   *root;
	int			n_nodes;
	int			n_full;
};

/* a value of the instance: where it is, what it is */
typedef enum FType
{
	FV_NULL, FV_TRUE, FV_FALSE, FV_STRING, FV_NUMERIC, FV_OBJECT, FV_ARRAY
} FType;

typedef struct FVal
{
	FType		t;
	const char *p;				/* string bytes, Numeric, or JsonbContainer */
	uint32		len;			/* string bytes; container bytes */
} FVal;

typedef struct FCtx
{
	const JsValidateOptions *o;
	int			depth;
	int			enc_max;		/* the longest character of the database encoding, bytes */
} FCtx;

/* ---------- numerics in place (the layout js_jsonb.c reads too) ---------- */

#define FN_NUM_FLAGS(h)			((h) & 0xC000)
#define FN_NUM_SHORT			0x8000
#define FN_NUM_NEG				0x4000
#define FN_NUM_SPECIAL			0xC000
#define FN_NUM_SHORT_NEG		0x2000
#define FN_NUM_SHORT_WSIGN		0x0040
#define FN_NUM_SHORT_WMASK		0x003F

static inline int16
fnum_digit(const FNum *p, int i)
{
	int16		d;

	memcpy(&d, p->digits + i * sizeof(int16), sizeof(d));
	return d;
}

static pg_attribute_always_inline void
fnum_decode(Numeric n, FNum *p)
{
	const char *d = VARDATA_ANY(n);
	int			size = VARSIZE_ANY_EXHDR(n);
	uint16		h;
	bool		neg;

	memcpy(&h, d, sizeof(h));
	p->special = FN_NUM_FLAGS(h) == FN_NUM_SPECIAL;
	if (p->special)
		return;
	if (FN_NUM_FLAGS(h) == FN_NUM_SHORT)
	{
		neg = (h & FN_NUM_SHORT_NEG) != 0;
		p->weight = (h & FN_NUM_SHORT_WSIGN) ? (int) (~FN_NUM_SHORT_WMASK | (h & FN_NUM_SHORT_WMASK))
			: (int) (h & FN_NUM_SHORT_WMASK);
		p->digits = d + sizeof(uint16);
		p->ndigits = (size - (int) sizeof(uint16)) / (int) sizeof(int16);
		/* the usual number of a form: one digit, 1 to 9999 */
		if (p->ndigits == 1 && p->weight == 0)
		{
			int16		d0 = fnum_digit(p, 0);

			if (d0 != 0)
			{
				p->sign = neg ? -1 : 1;
				p->small = true;
				p->ival = neg ? -d0 : d0;
				return;
			}
		}
	}
	else
	{
		int16		w;

		memcpy(&w, d + sizeof(uint16), sizeof(w));
		neg = FN_NUM_FLAGS(h) == FN_NUM_NEG;
		p->weight = w;
		p->digits = d + 2 * sizeof(uint16);
		p->ndigits = (size - 2 * (int) sizeof(uint16)) / (int) sizeof(int16);
	}
	/* numeric.c strips zero digits at both ends; not relied upon */
	while (p->ndigits > 0 && fnum_digit(p, 0) == 0)
	{
		p->digits += sizeof(int16);
		p->ndigits--;
		p->weight--;
	}
	while (p->ndigits > 0 && fnum_digit(p, p->ndigits - 1) == 0)
		p->ndigits--;
	if (p->ndigits == 0)
	{
		p->sign = 0;
		p->weight = 0;
		p->small = true;
		p->ival = 0;
	}
	else
	{
		p->sign = neg ? -1 : 1;
		/* integral (no digit right of the point) and at most 4 base-10000 digits */
		p->small = p->ndigits <= p->weight + 1 && p->weight <= 3;
		if (p->small)
		{
			int64		v = 0;

			for (int i = 0; i <= p->weight; i++)
				v = v * 10000 + (i < p->ndigits ? fnum_digit(p, i) : 0);
			p->ival = neg ? -v : v;
		}
	}
}

static inline int
fnum_cmp(const FNum *a, const FNum *b)
{
	int			m = 0;

	if (a->small && b->small)
		return a->ival < b->ival ? -1 : a->ival > b->ival ? 1 : 0;
	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	if (a->sign == 0)
		return 0;
	if (a->weight != b->weight)
		m = a->weight < b->weight ? -1 : 1;
	else
	{
		int			n = Min(a->ndigits, b->ndigits);

		for (int i = 0; i < n && m == 0; i++)
		{
			int16		x = fnum_digit(a, i),
						y = fnum_digit(b, i);

			if (x != y)
				m = x < y ? -1 : 1;
		}
		if (m == 0 && a->ndigits != b->ndigits)
			m = a->ndigits < b->ndigits ? -1 : 1;
	}
	return a->sign > 0 ? m : -m;
}

static inline bool
fnum_integral(const FNum *p)
{
	return p->sign == 0 || p->ndigits <= p->weight + 1;
}

/* an integral value below 10^16 in magnitude */
static bool
fnum_int64(const FNum *p, int64 *out)
{
	int64		v = 0;

	if (p->sign == 0)
	{
		*out = 0;
		return true;
	}
	if (!fnum_integral(p) || p->weight > 3)
		return false;
	for (int i = 0; i <= p->weight; i++)
		v = v * 10000 + (i < p->ndigits ? fnum_digit(p, i) : 0);
	*out = p->sign < 0 ? -v : v;
	return true;
}

/*
 * A name of up to 16 bytes as two words, so that a key equal to a property
 * is told by two comparisons: overlapping loads of the first and last bytes
 * (the length is compared first, so the overlap is the same on both sides).
 * Longer names: a filter, then memcmp.  Reads only the name's own bytes.
 */
static inline void
key_words(const char *k, int len, uint64 *w1, uint64 *w2)
{
	if (len >= 8)
	{
		memcpy(w1, k, 8);
		memcpy(w2, k + len - 8, 8);
	}
	else if (len >= 4)
	{
		uint32		a,
					b;

		memcpy(&a, k, 4);
		memcpy(&b, k + len - 4, 4);
		*w1 = a | ((uint64) b << 32);
		*w2 = 0;
	}
	else if (len > 0)
	{
		*w1 = (uint64) (unsigned char) k[0] | ((uint64) (unsigned char) k[len / 2] << 8) |
			((uint64) (unsigned char) k[len - 1] << 16);
		*w2 = 0;
	}
	else
		*w1 = *w2 = 0;
}

/* ---------- compiling a plan ---------- */

typedef struct PlanBuild
{
	JsFastPlan *plan;
	int			depth;
} PlanBuild;

static FNode *plan_node(PlanBuild *pb, JsSchema *s);

/* jsonb's key order: length, then bytes */
static int
jsstring_key_cmp(const void *a, const void *b)
{
	const JsString *x = a;
	const JsString *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

static FNode **
plan_nodes(PlanBuild *pb, JsSchema **arr, int n)
{
	FNode	  **r;

	if (n == 0)
		return NULL;
	r = palloc(sizeof(FNode *) * n);
	for (int i = 0; i < n; i++)
		r[i] = plan_node(pb, arr[i]);
	return r;
}

static void
plan_const(const JsonbValue *v, FConst *c)
{
	c->value = (JsonbValue *) v;
	if (v->type == jbvNumeric)
		fnum_decode(v->val.numeric, &c->num);
}

/* can this schema be a plan node (else the full validator evaluates it)? */
static bool
plan_covers(JsSchema *s)
{
	if (s->deferred_error || !s->validation || s->needs_eval || s->ext ||
		s->dynref || s->dynref_text || s->recursive_ref)
		return false;
	if (s->ref_text && s->ref == NULL)
		return false;
	return true;
}

static FNode *
plan_node(PlanBuild *pb, JsSchema *s)
{
	FNode	   *n;

	if (s == NULL)
		return NULL;
	if (s->fast)
		return (FNode *) s->fast;
	n = palloc0(sizeof(FNode));
	s->fast = n;				/* before the children: $ref cycles meet it */
	n->s = s;
	pb->plan->n_nodes++;
	if (s->is_bool)
	{
		n->kind = s->bool_value ? FN_TRUE : FN_FALSE;
		return n;
	}
	if (!plan_covers(s) || pb->depth > JS_MAX_DEPTH)
	{
		n->kind = FN_FULL;
		pb->plan->n_full++;
		return n;
	}
	check_stack_depth();
	pb->depth++;
	n->kind = FN_PLAN;
	n->draft4 = s->draft == JS_DRAFT4;
	n->types = s->types;
	n->has_string_kw = s->has_string_kw;
	n->has_number_kw = s->has_number_kw;
	n->has_object_kw = s->has_object_kw;
	n->has_array_kw = s->has_array_kw;
	n->has_inplace = s->has_inplace;
	if (s->ref)
		n->ref = plan_node(pb, s->ref);

	n->has_const = s->has_const;
	if (s->has_const)
		plan_const(&s->const_value, &n->cnst);
	n->n_enum = s->n_enum;		/* -1: "enum": [] accepts nothing */
	if (s->n_enum > 0)
	{
		n->enums = palloc(sizeof(FConst) * s->n_enum);
		for (int i = 0; i < s->n_enum; i++)
			plan_const(&s->enum_values[i], &n->enums[i]);
	}

	n->min_len = s->min_length;
	n->max_len = s->max_length;
	n->pattern = s->pattern;
	n->format = s->format;
	n->format_assert = s->format_assert;

	if ((n->has_min = s->minimum != NULL))
		fnum_decode(s->minimum, &n->min);
	if ((n->has_max = s->maximum != NULL))
		fnum_decode(s->maximum, &n->max);
	if ((n->has_exmin = s->exclusive_minimum != NULL))
		fnum_decode(s->exclusive_minimum, &n->exmin);
	if ((n->has_exmax = s->exclusive_maximum != NULL))
		fnum_decode(s->exclusive_maximum, &n->exmax);
	n->multiple_of = s->multiple_of;

	n->min_props = s->min_props;
	n->max_props = s->max_props;
	n->n_props = s->n_props;
	if (s->n_props)
	{
		n->props = palloc0(sizeof(FProp) * s->n_props);
		for (int i = 0; i < s->n_props; i++)
		{
			n->props[i].name = s->props[i].name.s;
			n->props[i].len = s->props[i].name.len;
			key_words(n->props[i].name, n->props[i].len, &n->props[i].w1, &n->props[i].w2);
			n->props[i].node = plan_node(pb, s->props[i].schema);
		}
	}
	n->bsearch_props = s->n_props > 16;
	n->n_pattern = s->n_pattern_props;
	if (s->n_pattern_props)
	{
		n->patterns = palloc(sizeof(FPattern) * s->n_pattern_props);
		for (int i = 0; i < s->n_pattern_props; i++)
		{
			n->patterns[i].re = s->pattern_props[i].re;
			n->patterns[i].node = plan_node(pb, s->pattern_props[i].schema);
		}
	}
	n->additional = plan_node(pb, s->additional_props);
	n->property_names = plan_node(pb, s->property_names);
	n->walk_keys = s->props || s->pattern_props || s->additional_props || s->property_names;
	n->n_required = s->n_required;
	n->required = s->required;
	/* "required" merged into the properties: one comparison per key at run time */
	if (s->n_required > 0)
	{
		n->extra_required = palloc(sizeof(JsString) * s->n_required);
		for (int r = 0; r < s->n_required; r++)
		{
			const JsString *q = &s->required[r];
			bool		in_props = false;
			bool		dup = false;

			for (int i = 0; i < n->n_props && !in_props; i++)
				if (n->props[i].len == q->len && memcmp(n->props[i].name, q->s, q->len) == 0)
				{
					in_props = true;
					if (!n->props[i].required)
						n->n_required_distinct++;
					n->props[i].required = true;
				}
			for (int i = 0; i < n->n_extra_required && !in_props && !dup; i++)
				dup = n->extra_required[i].len == q->len &&
					memcmp(n->extra_required[i].s, q->s, q->len) == 0;
			if (!in_props && !dup)
			{
				n->extra_required[n->n_extra_required++] = *q;
				n->n_required_distinct++;
			}
		}
		qsort(n->extra_required, n->n_extra_required, sizeof(JsString), jsstring_key_cmp);
	}
	n->simple_walk = n->n_pattern == 0 && n->property_names == NULL && n->n_extra_required == 0;
	n->n_dep_schemas = s->n_dep_schemas;
	if (s->n_dep_schemas)
	{
		n->dep_schemas = palloc0(sizeof(FProp) * s->n_dep_schemas);
		for (int i = 0; i < s->n_dep_schemas; i++)
		{
			n->dep_schemas[i].name = s->dep_schemas[i].name.s;
			n->dep_schemas[i].len = s->dep_schemas[i].name.len;
			n->dep_schemas[i].node = plan_node(pb, s->dep_schemas[i].schema);
		}
	}

	n->min_items = s->min_items;
	n->max_items = s->max_items;
	n->unique = s->unique_items;
	n->n_prefix = s->n_prefix_items;
	n->prefix = plan_nodes(pb, s->prefix_items, s->n_prefix_items);
	n->items = plan_node(pb, s->items);
	n->contains = plan_node(pb, s->contains);
	n->min_contains = s->min_contains >= 0 ? s->min_contains : 1;
	n->max_contains = s->max_contains;

	n->n_all_of = s->n_all_of;
	n->all_of = plan_nodes(pb, s->all_of, s->n_all_of);
	n->n_any_of = s->n_any_of;
	n->any_of = plan_nodes(pb, s->any_of, s->n_any_of);
	n->n_one_of = s->n_one_of;
	n->one_of = plan_nodes(pb, s->one_of, s->n_one_of);
	n->not = plan_node(pb, s->not);
	n->if_ = plan_node(pb, s->if_);
	n->then_ = plan_node(pb, s->then_);
	n->else_ = plan_node(pb, s->else_);

	n->flags = (s->ref ? NF_REF : 0) | (s->has_inplace ? NF_INPLACE : 0) |
		(s->has_const ? NF_CONST : 0) | (s->n_enum != 0 ? NF_ENUM : 0) |
		(s->has_string_kw ? NF_STRING : 0) | (s->has_number_kw ? NF_NUMBER : 0) |
		(s->has_object_kw ? NF_OBJECT : 0) | (s->has_array_kw ? NF_ARRAY : 0);
	if (s->types == 0)
		n->tmask = 0x7F;
	else
	{
		n->tmask = ((s->types & JS_T_NULL) ? 1 << FV_NULL : 0) |
			((s->types & JS_T_BOOLEAN) ? (1 << FV_TRUE) | (1 << FV_FALSE) : 0) |
			((s->types & JS_T_STRING) ? 1 << FV_STRING : 0) |
			((s->types & JS_T_NUMBER) ? 1 << FV_NUMERIC : 0) |
			((s->types & JS_T_OBJECT) ? 1 << FV_OBJECT : 0) |
			((s->types & JS_T_ARRAY) ? 1 << FV_ARRAY : 0);
		if ((s->types & JS_T_INTEGER) && !(s->types & JS_T_NUMBER))
			n->flags |= NF_INTEGER;
	}
	pb->depth--;
	return n;
}

JsFastPlan *
js_fast_compile(JsCompiled *c)
{
	PlanBuild	pb;

	/* the scope of $dynamicRef/$recursiveRef is the full validator's */
	if (c->uses_dynamic_scope || c->root == NULL)
		return NULL;
	pb.plan = palloc0(sizeof(JsFastPlan));
	pb.depth = 0;
	pb.plan->root = plan_node(&pb, c->root);
	if (pb.plan->root->kind == FN_FULL)
		return NULL;			/* nothing to gain */
	return pb.plan;
}

/* ---------- running a plan ---------- */

static inline int fx(FCtx *cx, const FNode *n, const FVal *v);

static inline void
fval_of(JEntry e, const char *base, uint32 off, uint32 len, FVal *v)
{
	switch (e & JENTRY_TYPEMASK)
	{
		case JENTRY_ISSTRING:
			v->t = FV_STRING;
			v->p = base + off;
			v->len = len;
			break;
		case JENTRY_ISNUMERIC:
			v->t = FV_NUMERIC;
			v->p = base + INTALIGN(off);
			v->len = len;
			break;
		case JENTRY_ISBOOL_TRUE:
			v->t = FV_TRUE;
			break;
		case JENTRY_ISBOOL_FALSE:
			v->t = FV_FALSE;
			break;
		case JENTRY_ISCONTAINER:
			v->p = base + INTALIGN(off);
			v->len = len - (INTALIGN(off) - off);
			v->t = JsonContainerIsObject((const JsonbContainer *) v->p) ? FV_OBJECT : FV_ARRAY;
			break;
		default:
			v->t = FV_NULL;
			break;
	}
}

static void
fval_to_jsonb(const FVal *v, JsonbValue *j)
{
	switch (v->t)
	{
		case FV_NULL:
			j->type = jbvNull;
			break;
		case FV_TRUE:
		case FV_FALSE:
			j->type = jbvBool;
			j->val.boolean = v->t == FV_TRUE;
			break;
		case FV_STRING:
			j->type = jbvString;
			j->val.string.val = (char *) v->p;
			j->val.string.len = v->len;
			break;
		case FV_NUMERIC:
			j->type = jbvNumeric;
			j->val.numeric = (Numeric) v->p;
			break;
		case FV_OBJECT:
		case FV_ARRAY:
			j->type = jbvBinary;
			j->val.binary.data = (JsonbContainer *) v->p;
			j->val.binary.len = v->len;
			break;
	}
}

/* the length of child i of a container whose previous children end at "off" */
static inline uint32
entry_len(JEntry e, uint32 off)
{
	return JBE_HAS_OFF(e) ? JBE_OFFLENFLD(e) - off : JBE_OFFLENFLD(e);
}

/* bytes equal (short strings: names, keys, enum values; no libc call) */
static inline bool
bytes_eq(const char *a, const char *b, int len)
{
	if (len > 16)
		return memcmp(a, b, len) == 0;
	for (int i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* jsonb key order: length first, then bytes */
static inline int
key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (alen > 16)
		return memcmp(a, b, alen);
	for (int i = 0; i < alen; i++)
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	return 0;
}

/* a property's name against a key (klen bytes, its words kw1, kw2), in jsonb key order */
static inline int
prop_cmp(const FProp *p, const char *k, int klen, uint64 kw1, uint64 kw2)
{
	if (p->len != klen)
		return p->len < klen ? -1 : 1;
	if (p->w1 == kw1 && p->w2 == kw2 && klen <= 16)
		return 0;
	return memcmp(p->name, k, klen);
}

/* const / enum: JSON equality, scalars in place; num: the decoded number (numerics) */
static bool
const_equal(const FConst *c, const FVal *v, const FNum *num)
{
	const JsonbValue *cv = c->value;

	switch (v->t)
	{
		case FV_NULL:
			return cv->type == jbvNull;
		case FV_TRUE:
		case FV_FALSE:
			return cv->type == jbvBool && cv->val.boolean == (v->t == FV_TRUE);
		case FV_STRING:
			return cv->type == jbvString && (uint32) cv->val.string.len == v->len &&
				bytes_eq(cv->val.string.val, v->p, v->len);
		case FV_NUMERIC:
			if (cv->type != jbvNumeric)
				return false;
			if (num->special || c->num.special)
				return js_numeric_cmp((Numeric) v->p, cv->val.numeric) == 0;
			return fnum_cmp(num, &c->num) == 0;
		default:
			{
				JsonbValue	j;

				if (cv->type != jbvBinary)
					return false;
				fval_to_jsonb(v, &j);
				return js_json_equal(cv, &j);
			}
	}
}

static pg_noinline int
fx_full(FCtx *cx, const FNode *n, const FVal *v)
{
	JsonbValue	j;

	fval_to_jsonb(v, &j);
	return js_eval_flag(n->s, &j, cx->o, cx->depth) ? FAST_VALID : FAST_INVALID;
}

static pg_noinline int
fx_string(FCtx *cx, const FNode *n, const FVal *v)
{
	if (n->min_len >= 0 || n->max_len >= 0)
	{
		/* characters lie between bytes / longest character and bytes */
		int64		hi = v->len;
		int64		lo = (v->len + cx->enc_max - 1) / cx->enc_max;

		if ((n->min_len >= 0 && lo < n->min_len) || (n->max_len >= 0 && hi > n->max_len))
		{
			int64		cps = js_utf8_length(v->p, v->len);

			if (n->min_len >= 0 && cps < n->min_len)
				return FAST_INVALID;
			if (n->max_len >= 0 && cps > n->max_len)
				return FAST_INVALID;
		}
	}
	if (n->pattern && !lc_regex_search(n->pattern, v->p, v->len))
		return FAST_INVALID;
	if (n->format && (cx->o->format_assert || n->format_assert))
	{
		bool		known = true;

		if (!js_format_check(n->format, v->p, v->len, &known))
			return FAST_INVALID;
	}
	return FAST_VALID;
}

static int
fx_number(const FNode *n, const FVal *v, const FNum *num)
{
	if (num->special)
		return FAST_UNKNOWN;
	if (n->has_min && fnum_cmp(num, &n->min) < 0)
		return FAST_INVALID;
	if (n->has_max && fnum_cmp(num, &n->max) > 0)
		return FAST_INVALID;
	if (n->has_exmin && fnum_cmp(num, &n->exmin) <= 0)
		return FAST_INVALID;
	if (n->has_exmax && fnum_cmp(num, &n->exmax) >= 0)
		return FAST_INVALID;
	if (n->multiple_of)
	{
		FNum		m;
		int64		x,
					y;
		bool		err = false;
		Numeric		rem;

		fnum_decode(n->multiple_of, &m);
		if (!m.special && fnum_int64(num, &x) && fnum_int64(&m, &y) && y != 0)
			return x % y == 0 ? FAST_VALID : FAST_INVALID;
		rem = numeric_mod_opt_error((Numeric) v->p, n->multiple_of, &err);
		if (err || rem == NULL || js_numeric_sign(rem) != 0)
			return FAST_INVALID;
	}
	return FAST_VALID;
}

/*
 * The keys of the last object a node saw (simple_walk nodes): documents of a
 * form repeat the same keys, so when an object's key entries and key bytes
 * are those of the last one, which property each key is, and how many
 * required names they cover, are known without comparing a name.
 */
#define SHAPE_MAX_KEYS	64
#define SHAPE_MAX_BYTES	1024

struct FShape
{
	int			cnt;			/* keys */
	uint32		keybytes;		/* bytes of the keys (where the values start) */
	uint32		hits;			/* objects that had these keys */
	uint32		misses;			/* objects that did not */
	int			found_required;
	int16		map[SHAPE_MAX_KEYS];	/* per key: its property, or -1 */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* the key JEntries, then the key bytes */
};

/*
 * An object of a node with only properties (required among them) and
 * additionalProperties: one pass over its keys, merged with the properties,
 * then "required" counted; or, keys as the last object's, the values alone.
 */
static pg_noinline int
fx_simple_keys(FCtx *cx, const FNode *n, const FVal *v, const JsonbContainer *jc, int cnt)
{
	const JEntry *ch = jc->children;
	const char *base = (const char *) &ch[cnt * 2];
	const FProp *props = n->props;
	int			np = n->n_props;
	FShape	   *sh = n->shape;
	uint32		koff = 0;
	uint32		voff = 0;
	int			j = 0;
	int			found_required = 0;
	int16		map[SHAPE_MAX_KEYS];
	int			r;

	if (sh && sh->cnt == cnt &&
		memcmp(sh->data, ch, sizeof(JEntry) * cnt) == 0 &&
		memcmp(sh->data + sizeof(JEntry) * cnt, base, sh->keybytes) == 0)
	{
		/*
		 * The same keys: the same properties, in the same order.  Copied
		 * first: an object below may be this node's too ($ref) and replace
		 * the shape.
		 */
		voff = sh->keybytes;
		sh->hits++;
		found_required = sh->found_required;
		memcpy(map, sh->map, sizeof(int16) * cnt);
		for (int i = 0; i < cnt; i++)
		{
			JEntry		ve = ch[cnt + i];
			uint32		vlen = entry_len(ve, voff);
			uint32		vo = voff;
			int			m = map[i];
			FVal		val;

			voff += vlen;
			if (m >= 0)
			{
				fval_of(ve, base, vo, vlen, &val);
				if ((r = fx(cx, props[m].node, &val)) != FAST_VALID)
					return r;
			}
			else if (n->additional)
			{
				if (n->additional->kind == FN_FALSE)
					return FAST_INVALID;
				fval_of(ve, base, vo, vlen, &val);
				if ((r = fx(cx, n->additional, &val)) != FAST_VALID)
					return r;
			}
		}
		goto required;
	}

	/* the values start where the last key ends */
	for (int i = cnt - 1; i >= 0; i--)
	{
		voff += JBE_OFFLENFLD(ch[i]);
		if (JBE_HAS_OFF(ch[i]))
			break;
	}
	for (int i = 0; i < cnt; i++)
	{
		uint32		klen = entry_len(ch[i], koff);
		const char *k = base + koff;
		JEntry		ve = ch[cnt + i];
		uint32		vlen = entry_len(ve, voff);
		uint32		vo = voff;
		int			c = 1;
		uint64		kw1,
					kw2;
		FVal		val;

		koff += klen;
		voff += vlen;
		key_words(k, klen, &kw1, &kw2);
		while (j < np && (c = prop_cmp(&props[j], k, klen, kw1, kw2)) < 0)
			j++;
		if (j < np && c == 0)
		{
			if (i < SHAPE_MAX_KEYS)
				map[i] = j;
			found_required += props[j].required;
			fval_of(ve, base, vo, vlen, &val);
			if ((r = fx(cx, props[j].node, &val)) != FAST_VALID)
				return r;
			j++;				/* keys are unique: the next one sorts after this property */
		}
		else
		{
			if (i < SHAPE_MAX_KEYS)
				map[i] = -1;
			if (n->additional)
			{
				if (n->additional->kind == FN_FALSE)
					return FAST_INVALID;
				fval_of(ve, base, vo, vlen, &val);
				if ((r = fx(cx, n->additional, &val)) != FAST_VALID)
					return r;
			}
		}
	}

	/*
	 * Remember these keys (koff: their bytes) for the next object; where
	 * the keys keep changing, only now and then.
	 */
	if (sh)
		sh->misses++;
	if (cnt <= SHAPE_MAX_KEYS && koff <= SHAPE_MAX_BYTES &&
		(sh == NULL || sh->hits >= sh->misses / 4 || (sh->misses & 15) == 0))
	{
		if (sh == NULL)
		{
			sh = MemoryContextAllocZero(GetMemoryChunkContext((void *) n),
										offsetof(FShape, data) + sizeof(JEntry) * SHAPE_MAX_KEYS + SHAPE_MAX_BYTES);
			((FNode *) n)->shape = sh;
		}
		sh->cnt = cnt;
		sh->keybytes = koff;
		sh->found_required = found_required;
		memcpy(sh->map, map, sizeof(int16) * cnt);
		memcpy(sh->data, ch, sizeof(JEntry) * cnt);
		memcpy(sh->data + sizeof(JEntry) * cnt, base, koff);
	}

required:
	/* required: counted above; jsonb keeps one of equal keys, so the count is exact */
	if (n->n_required > 0 && found_required < n->n_required_distinct)
		return FAST_INVALID;
	for (int i = 0; i < n->n_dep_schemas; i++)
	{
		if (!js_object_find((JsonbContainer *) jc, n->dep_schemas[i].name, n->dep_schemas[i].len, NULL))
			continue;
		if ((r = fx(cx, n->dep_schemas[i].node, v)) != FAST_VALID)
			return r;
	}
	return FAST_VALID;
}

/* are all of "required" (sorted in jsonb key order) among the object's keys? one merge */
static bool
fx_has_required(const FNode *n, const JsonbContainer *jc, int cnt)
{
	const JEntry *ch = jc->children;
	const char *base = (const char *) &ch[cnt * 2];
	uint32		koff = 0;
	int			rq = 0;

	if (cnt > 64)
	{
		/* a long object: binary searches */
		for (int i = 0; i < n->n_required; i++)
			if (!js_object_find((JsonbContainer *) jc, n->required[i].s, n->required[i].len, NULL))
				return false;
		return true;
	}
	for (int i = 0; i < cnt && rq < n->n_required; i++)
	{
		uint32		klen = entry_len(ch[i], koff);
		const char *k = base + koff;
		int			c;

		koff += klen;
		while (rq < n->n_required &&
			   (c = key_cmp(n->required[rq].s, n->required[rq].len, k, klen)) <= 0)
		{
			if (c < 0)
				return false;	/* sorts before this key and was not an earlier one */
			rq++;				/* found (and its repetitions) */
		}
	}
	return rq >= n->n_required;
}

static pg_noinline int
fx_object(FCtx *cx, const FNode *n, const FVal *v)
{
	const JsonbContainer *jc = (const JsonbContainer *) v->p;
	int			cnt = JsonContainerSize(jc);
	JsSchema   *s = n->s;
	int			found_required = 0;
	bool		counted = false;
	int			r;

	if (n->min_props >= 0 && cnt < n->min_props)
		return FAST_INVALID;
	if (n->max_props >= 0 && cnt > n->max_props)
		return FAST_INVALID;
	for (int i = 0; i < s->n_dep_required; i++)
	{
		JsDepRequired *d = &s->dep_required[i];

		if (!js_object_find((JsonbContainer *) jc, d->name.s, d->name.len, NULL))
			continue;
		for (int j = 0; j < d->n; j++)
			if (!js_object_find((JsonbContainer *) jc, d->required[j].s, d->required[j].len, NULL))
				return FAST_INVALID;
	}

	if (n->walk_keys && cnt > 0)
	{
		const JEntry *ch = jc->children;
		const char *base = (const char *) &ch[cnt * 2];
		uint32		koff = 0;
		uint32		voff = 0;
		int			j = 0;
		int			rq = 0;
		bool		bsearch = n->bsearch_props && n->n_props > 4 * cnt;

		counted = true;
		if (n->simple_walk && !bsearch)
			return fx_simple_keys(cx, n, v, jc, cnt);

		/* the values start where the last key ends */
		for (int i = cnt - 1; i >= 0; i--)
		{
			voff += JBE_OFFLENFLD(ch[i]);
			if (JBE_HAS_OFF(ch[i]))
				break;
		}
		for (int i = 0; i < cnt; i++)
		{
			uint32		klen = entry_len(ch[i], koff);
			const char *k = base + koff;
			JEntry		ve = ch[cnt + i];
			uint32		vlen = entry_len(ve, voff);
			uint32		vo = voff;
			bool		matched = false;
			int			c = 1;
			uint64		kw1,
						kw2;
			FVal		val;

			koff += klen;
			voff += vlen;
			key_words(k, klen, &kw1, &kw2);
			if (bsearch)
			{
				int			lo = j,
							hi = n->n_props;

				while (lo < hi)
				{
					int			mid = lo + (hi - lo) / 2;

					c = prop_cmp(&n->props[mid], k, klen, kw1, kw2);
					if (c == 0)
					{
						lo = mid;
						break;
					}
					if (c < 0)
						lo = mid + 1;
					else
						hi = mid;
				}
				j = lo;
				if (j >= n->n_props)
					c = 1;
			}
			else
			{
				while (j < n->n_props &&
					   (c = prop_cmp(&n->props[j], k, klen, kw1, kw2)) < 0)
					j++;
			}
			if (j < n->n_props && c == 0)
			{
				matched = true;
				found_required += n->props[j].required;
				fval_of(ve, base, vo, vlen, &val);
				if ((r = fx(cx, n->props[j].node, &val)) != FAST_VALID)
					return r;
				j++;			/* keys are unique: the next one sorts after this property */
			}
			else if (n->n_extra_required > 0)
			{
				/* required names that are no property: their own merge */
				while (rq < n->n_extra_required &&
					   key_cmp(n->extra_required[rq].s, n->extra_required[rq].len, k, klen) < 0)
					rq++;
				if (rq < n->n_extra_required &&
					key_cmp(n->extra_required[rq].s, n->extra_required[rq].len, k, klen) == 0)
				{
					rq++;
					found_required++;
				}
			}
			for (int p = 0; p < n->n_pattern; p++)
			{
				if (lc_regex_search(n->patterns[p].re, k, klen))
				{
					if (!matched)
						fval_of(ve, base, vo, vlen, &val);
					matched = true;
					if ((r = fx(cx, n->patterns[p].node, &val)) != FAST_VALID)
						return r;
				}
			}
			if (!matched && n->additional)
			{
				if (n->additional->kind == FN_FALSE)
					return FAST_INVALID;
				fval_of(ve, base, vo, vlen, &val);
				if ((r = fx(cx, n->additional, &val)) != FAST_VALID)
					return r;
			}
			if (n->property_names)
			{
				FVal		kv;

				kv.t = FV_STRING;
				kv.p = k;
				kv.len = klen;
				if ((r = fx(cx, n->property_names, &kv)) != FAST_VALID)
					return r;
			}
		}
	}

	/* required: counted by the pass above (keys are unique), else merged with the keys */
	if (n->n_required > 0 && !counted)
	{
		if (!fx_has_required(n, jc, cnt))
			return FAST_INVALID;
	}
	else if (n->n_required > 0 && found_required < n->n_required_distinct)
		return FAST_INVALID;	/* jsonb keeps one of equal keys: the count is exact */

	for (int i = 0; i < n->n_dep_schemas; i++)
	{
		if (!js_object_find((JsonbContainer *) jc, n->dep_schemas[i].name, n->dep_schemas[i].len, NULL))
			continue;
		if ((r = fx(cx, n->dep_schemas[i].node, v)) != FAST_VALID)
			return r;
	}
	return FAST_VALID;
}

/* uniqueItems, pairwise as the full validator (its own frame: the array of values) */
static pg_noinline int
fx_unique(const JsonbContainer *jc, int cnt)
{
	JsonbValue	items[FAST_UNIQUE_MAX];
	JsIter		it;
	int			k;

	if (cnt > FAST_UNIQUE_MAX)
		return FAST_UNKNOWN;
	js_iter_init(&it, (JsonbContainer *) jc);
	for (k = 0; k < cnt && js_iter_next_elem(&it, &items[k]); k++)
		;
	for (int i = k - 1; i > 0; i--)
	{
		CHECK_FOR_INTERRUPTS();
		for (int m = i - 1; m >= 0; m--)
			if (js_json_equal(&items[i], &items[m]))
				return FAST_INVALID;
	}
	return FAST_VALID;
}

static pg_noinline int
fx_array(FCtx *cx, const FNode *n, const FVal *v)
{
	const JsonbContainer *jc = (const JsonbContainer *) v->p;
	int			cnt = JsonContainerSize(jc);
	const JEntry *ch = jc->children;
	const char *base = (const char *) &ch[cnt];
	int			r;

	if (n->min_items >= 0 && cnt < n->min_items)
		return FAST_INVALID;
	if (n->max_items >= 0 && cnt > n->max_items)
		return FAST_INVALID;
	if (n->unique && cnt > 1 && (r = fx_unique(jc, cnt)) != FAST_VALID)
		return r;
	if (n->n_prefix || n->items)
	{
		uint32		off = 0;

		for (int i = 0; i < cnt; i++)
		{
			uint32		len = entry_len(ch[i], off);
			const FNode *in;
			FVal		e;

			if (i < n->n_prefix)
				in = n->prefix[i];
			else if (n->items)
				in = n->items;
			else
				break;
			fval_of(ch[i], base, off, len, &e);
			off += len;
			if ((r = fx(cx, in, &e)) != FAST_VALID)
				return r;
		}
	}
	if (n->contains)
	{
		/* every item is evaluated, as the full validator does */
		uint32		off = 0;
		int64		count = 0;
		int64		minc = n->min_contains;
		int64		maxc = n->max_contains;
		bool		asks = !(maxc < 0 && minc == 0);
		bool		impossible = maxc >= 0 && minc > maxc;

		for (int i = 0; i < cnt; i++)
		{
			uint32		len = entry_len(ch[i], off);
			FVal		e;

			fval_of(ch[i], base, off, len, &e);
			off += len;
			r = fx(cx, n->contains, &e);
			if (r == FAST_UNKNOWN)
				return r;
			if (r == FAST_VALID)
				count++;
		}
		if (asks && (impossible || count < minc || (maxc >= 0 && count > maxc)))
			return FAST_INVALID;
	}
	return FAST_VALID;
}

/* a container's keywords, one level deeper */
static pg_noinline int
fx_container(FCtx *cx, const FNode *n, const FVal *v)
{
	int			r;

	/* too deep, or too little stack left: the full validator says which error */
	if (cx->depth >= FAST_MAX_DEPTH || stack_is_too_deep())
		return FAST_UNKNOWN;
	CHECK_FOR_INTERRUPTS();
	cx->depth++;
	r = v->t == FV_OBJECT ? fx_object(cx, n, v) : fx_array(cx, n, v);
	cx->depth--;
	return r;
}

/* const, then enum */
static pg_noinline bool
fx_consts(const FNode *n, const FVal *v, const FNum *num)
{
	if ((n->flags & NF_CONST) && !const_equal(&n->cnst, v, num))
		return false;
	if (n->flags & NF_ENUM)
	{
		for (int i = 0; i < n->n_enum; i++)
			if (const_equal(&n->enums[i], v, num))
				return true;
		return false;
	}
	return true;
}

/* a number: type (integers), const, enum, the number keywords */
static pg_noinline int
fx_numeric(const FNode *n, const FVal *v)
{
	FNum		num;

	fnum_decode((Numeric) v->p, &num);
	if (!(n->tmask & (1 << FV_NUMERIC)))
	{
		/* integers: integral, and in draft 4 without decimal places */
		if (!(n->flags & NF_INTEGER) || num.special || !fnum_integral(&num))
			return FAST_INVALID;
		if (n->draft4 &&
			DatumGetInt32(DirectFunctionCall1(numeric_scale, PointerGetDatum(v->p))) != 0)
			return FAST_INVALID;
	}
	if ((n->flags & (NF_CONST | NF_ENUM)) && !fx_consts(n, v, &num))
		return FAST_INVALID;
	if (n->flags & NF_NUMBER)
		return fx_number(n, v, &num);
	return FAST_VALID;
}

/*
 * The keywords of one schema that the full validator evaluates between its
 * references and its in-place applicators: type, const, enum, then those of
 * the value's type.
 */
static inline int
fx_body(FCtx *cx, const FNode *n, const FVal *v)
{
	uint16		f = n->flags;

	if (v->t == FV_NUMERIC)
	{
		if (!(n->tmask & (1 << FV_NUMERIC)) || (f & (NF_CONST | NF_ENUM | NF_NUMBER)))
			return fx_numeric(n, v);
		return FAST_VALID;
	}
	if (!(n->tmask & (1 << v->t)))
		return FAST_INVALID;
	if ((f & (NF_CONST | NF_ENUM)) && !fx_consts(n, v, NULL))
		return FAST_INVALID;
	switch (v->t)
	{
		case FV_STRING:
			return (f & NF_STRING) ? fx_string(cx, n, v) : FAST_VALID;
		case FV_OBJECT:
			return (f & NF_OBJECT) ? fx_container(cx, n, v) : FAST_VALID;
		case FV_ARRAY:
			return (f & NF_ARRAY) ? fx_container(cx, n, v) : FAST_VALID;
		default:
			return FAST_VALID;
	}
}

/* $ref first, the body, then the in-place applicators (allOf ... if) */
static pg_noinline int
fx_general(FCtx *cx, const FNode *n, const FVal *v)
{
	int			r;

	if (cx->depth >= FAST_MAX_DEPTH || stack_is_too_deep())
		return FAST_UNKNOWN;
	cx->depth++;
	if (n->ref && (r = fx(cx, n->ref, v)) != FAST_VALID)
		goto out;
	if ((r = fx_body(cx, n, v)) != FAST_VALID || !(n->flags & NF_INPLACE))
		goto out;

	for (int i = 0; i < n->n_all_of; i++)
		if ((r = fx(cx, n->all_of[i], v)) != FAST_VALID)
			goto out;
	if (n->n_any_of)
	{
		r = FAST_INVALID;
		for (int i = 0; i < n->n_any_of; i++)
		{
			int			b = fx(cx, n->any_of[i], v);

			if (b == FAST_UNKNOWN)
			{
				r = b;
				goto out;
			}
			if (b == FAST_VALID)
			{
				r = FAST_VALID;
				break;
			}
		}
		if (r != FAST_VALID)
			goto out;
	}
	if (n->n_one_of)
	{
		int			valid = 0;

		for (int i = 0; i < n->n_one_of && valid < 2; i++)
		{
			int			b = fx(cx, n->one_of[i], v);

			if (b == FAST_UNKNOWN)
			{
				r = b;
				goto out;
			}
			if (b == FAST_VALID)
				valid++;
		}
		if (valid != 1)
		{
			r = FAST_INVALID;
			goto out;
		}
	}
	if (n->not)
	{
		int			b = fx(cx, n->not, v);

		if (b != FAST_INVALID)
		{
			r = b == FAST_VALID ? FAST_INVALID : b;
			goto out;
		}
	}
	if (n->if_)
	{
		int			b = fx(cx, n->if_, v);
		const FNode *branch;

		if (b == FAST_UNKNOWN)
		{
			r = b;
			goto out;
		}
		branch = b == FAST_VALID ? n->then_ : n->else_;
		if (branch)
			r = fx(cx, branch, v);
	}

out:
	cx->depth--;
	return r;
}

static pg_attribute_always_inline int
fx(FCtx *cx, const FNode *n, const FVal *v)
{
	if (likely(n->kind == FN_PLAN))
	{
		if (likely(!(n->flags & NF_GENERAL)))
			return fx_body(cx, n, v);
		return fx_general(cx, n, v);
	}
	switch (n->kind)
	{
		case FN_TRUE:
			return FAST_VALID;
		case FN_FALSE:
			return FAST_INVALID;
		default:
			return fx_full(cx, n, v);
	}
}

int
js_fast_validate(JsFastPlan *plan, Jsonb *instance, const JsValidateOptions *opts)
{
	FCtx		cx;
	FVal		root;
	const JsonbContainer *jc = &instance->root;

	cx.o = opts;
	cx.depth = 0;
	cx.enc_max = GetDatabaseEncoding() == PG_UTF8 ? 4 : pg_database_encoding_max_length();
	if (JsonContainerIsScalar(jc))
	{
		uint32		len = entry_len(jc->children[0], 0);

		fval_of(jc->children[0], (const char *) &jc->children[1], 0, len, &root);
	}
	else
	{
		root.t = JsonContainerIsObject(jc) ? FV_OBJECT : FV_ARRAY;
		root.p = (const char *) jc;
		root.len = VARSIZE(instance) - VARHDRSZ;
	}
	return fx(&cx, plan->root, &root);
}
