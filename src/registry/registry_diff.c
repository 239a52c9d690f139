/*-------------------------------------------------------------------------
 *
 * registry_diff.c
 *	  Schema compatibility diff of the registry (see registry_diff.h).
 *
 * Both schemas are walked side by side.  At each schema location the
 * keywords are compared one family at a time (types, allowed values,
 * bounds, strings, objects, arrays, combinators, conditionals, cross-field
 * rules, annotations) and each difference becomes one RegChange naming what
 * changed, where (a JSON Pointer into the new schema), and whether old
 * instances stay valid (backward) and new instances were valid before
 * (forward).  Widening a constraint is backward compatible, narrowing it is
 * forward compatible; when the diff cannot tell which (two different regular
 * expressions, say) it reports neither.
 *
 * Inside "not" the directions swap: a narrower "not" is a wider schema.
 *
 * An absent subschema is the true schema; "additionalProperties",
 * "patternProperties" and "unevaluatedProperties" decide what a property
 * that one side declares and the other does not was (or becomes) allowed to
 * hold, so that a property added to an open content model is told apart from
 * one added to a closed model.
 *
 * "$ref"s are followed: local ones ("#/...") inside their own document,
 * absolute ones through the "refs" map the caller built (the registry puts
 * every lowcode: subject the schemas reach in it).  Recursion is bounded by
 * check_stack_depth, a depth limit, a budget of steps and a cycle guard on
 * the references being followed.
 *
 * src/registry/ is the schema registry component: tenant subjects and
 * versions, the compatibility diff, caches and the validation of submissions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "lc/lc_regex.h"
#include "registry/registry_diff.h"

#define REG_DIFF_MAX_DEPTH	500
#define REG_DIFF_MAX_STEPS	1000000

/* a schema where it stands: its value (NULL: absent, the true schema) and its document */
typedef struct Sch
{
	JsonbValue *v;
	JsonbContainer *root;
} Sch;

typedef enum SchKind
{
	SCH_TRUE,
	SCH_FALSE,
	SCH_OBJECT,
	SCH_OTHER					/* not a schema (a number...): compared as a value */
} SchKind;

/* a pair of references being followed, for the cycle guard */
typedef struct RefPair
{
	JsonbContainer *o;
	JsonbContainer *n;
} RefPair;

typedef struct DiffCtx
{
	List	   *changes;
	JsonbContainer *refs;		/* map uri -> document, or NULL */
	bool		negated;		/* inside an odd number of "not" */
	int			depth;
	long		steps;
	List	   *following;		/* RefPair * on the current path */
} DiffCtx;

/* keywords that never change which instances are valid */
static const char *const annotation_keywords[] = {
	"title", "description", "default", "examples", "$comment", "deprecated",
	"readOnly", "writeOnly", "contentMediaType", "contentEncoding",
	"contentSchema", "$id", "id", "$defs", "definitions", "$anchor",
	"$dynamicAnchor", "$recursiveAnchor", "$vocabulary", NULL
};

/* keywords this diff compares (anything else is an unknown keyword) */
static const char *const known_keywords[] = {
	"$ref", "$schema", "$dynamicRef", "$recursiveRef",
	"type", "enum", "const",
	"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains",
	"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains",
	"multipleOf", "pattern", "format", "uniqueItems", "required",
	"properties", "patternProperties", "additionalProperties", "unevaluatedProperties",
	"dependentRequired", "dependentSchemas", "dependencies", "propertyNames",
	"items", "prefixItems", "additionalItems", "unevaluatedItems", "contains",
	"anyOf", "oneOf", "allOf", "not", "if", "then", "else", "x-rules",
	NULL
};

static void diff_schema(DiffCtx *cx, Sch o, Sch n, const char *path);

/* ---------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------- */

static bool
in_list(const char *const *list, const char *s, int len)
{
	for (int i = 0; list[i]; i++)
		if ((int) strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return true;
	return false;
}

/* JSON Pointer token escaping (RFC 6901) */
static char *
path_join(const char *path, const char *token, int len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, path);
	appendStringInfoChar(&buf, '/');
	for (int i = 0; i < len; i++)
	{
		if (token[i] == '~')
			appendStringInfoString(&buf, "~0");
		else if (token[i] == '/')
			appendStringInfoString(&buf, "~1");
		else
			appendStringInfoChar(&buf, token[i]);
	}
	return buf.data;
}

static char *
path_join_cstr(const char *path, const char *token)
{
	return path_join(path, token, strlen(token));
}

static char *
path_join_int(const char *path, int i)
{
	return psprintf("%s/%d", path, i);
}

static void
add_change(DiffCtx *cx, const char *type, const char *path, bool backward, bool forward)
{
	RegChange  *c = palloc(sizeof(RegChange));

	c->type = pstrdup(type);
	c->path = pstrdup(path[0] ? path : "");
	/* inside "not", a wider subschema makes a narrower schema */
	c->backward = cx->negated ? forward : backward;
	c->forward = cx->negated ? backward : forward;
	cx->changes = lappend(cx->changes, c);
}

/* a change that makes the schema wider / narrower / neither */
static void
add_widened(DiffCtx *cx, const char *type, const char *path)
{
	add_change(cx, type, path, true, false);
}

static void
add_narrowed(DiffCtx *cx, const char *type, const char *path)
{
	add_change(cx, type, path, false, true);
}

static void
add_compatible(DiffCtx *cx, const char *type, const char *path)
{
	add_change(cx, type, path, true, true);
}

static void
add_incompatible(DiffCtx *cx, const char *type, const char *path)
{
	add_change(cx, type, path, false, false);
}

static char *
kwtype(const char *keyword, const char *what)
{
	return psprintf("%s_%s", keyword, what);
}

static bool
is_object(JsonbValue *v)
{
	return v && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(JsonbValue *v)
{
	return v && v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
		!JsonContainerIsScalar(v->val.binary.data);
}

/* JSON equality (1 equals 1.0; objects regardless of key order) */
static bool
json_equal(JsonbValue *a, JsonbValue *b)
{
	Jsonb	   *ja,
			   *jb;

	if (a == NULL || b == NULL)
		return a == b;
	/* containers are compared in place (a binary value's length may be unknown) */
	if (a->type == jbvBinary || b->type == jbvBinary)
		return a->type == b->type &&
			compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
	ja = JsonbValueToJsonb(a);
	jb = JsonbValueToJsonb(b);
	{
		bool		eq = compareJsonbContainers(&ja->root, &jb->root) == 0;

		/* freed: enum comparisons call this up to the step budget */
		pfree(ja);
		pfree(jb);
		return eq;
	}
}

static JsonbValue *
obj_get(JsonbValue *obj, const char *key)
{
	if (!is_object(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj->val.binary.data, key, strlen(key), NULL);
}

static JsonbValue *
obj_get_len(JsonbValue *obj, const char *key, int len)
{
	if (!is_object(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj->val.binary.data, key, len, NULL);
}

/* the pairs of an object, in jsonb key order */
typedef struct Pairs
{
	int			n;
	JsonbValue *keys;
	JsonbValue *vals;
} Pairs;

static void
obj_pairs(JsonbValue *obj, Pairs *p)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			cap;

	p->n = 0;
	p->keys = p->vals = NULL;
	if (!is_object(obj))
		return;
	cap = JsonContainerSize(obj->val.binary.data);
	if (cap == 0)
		return;
	p->keys = palloc(sizeof(JsonbValue) * cap);
	p->vals = palloc(sizeof(JsonbValue) * cap);
	it = JsonbIteratorInit(obj->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			p->keys[p->n] = v;
		else if (tok == WJB_VALUE)
			p->vals[p->n++] = v;
	}
}

/* the elements of an array (a non-array gives none) */
static JsonbValue *
arr_elems(JsonbValue *arr, int *n)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *out;
	int			cap;

	*n = 0;
	if (!is_array(arr))
		return NULL;
	cap = JsonContainerSize(arr->val.binary.data);
	if (cap == 0)
		return NULL;
	out = palloc(sizeof(JsonbValue) * cap);
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
			out[(*n)++] = v;
	}
	return out;
}

static bool
str_eq(JsonbValue *v, const char *s, int len)
{
	return v->type == jbvString && v->val.string.len == len &&
		memcmp(v->val.string.val, s, len) == 0;
}

static Sch
sch_make(JsonbValue *v, JsonbContainer *root)
{
	Sch			s;

	s.v = v;
	s.root = root;
	return s;
}

static Sch
sch_sub(Sch parent, const char *key)
{
	return sch_make(obj_get(parent.v, key), parent.root);
}

/* is this object made of annotations only (so it accepts everything)? */
static bool
only_annotations(JsonbValue *obj)
{
	Pairs		p;

	obj_pairs(obj, &p);
	for (int i = 0; i < p.n; i++)
		if (!in_list(annotation_keywords, p.keys[i].val.string.val, p.keys[i].val.string.len))
			return false;
	return true;
}

static SchKind
sch_kind(Sch s)
{
	if (s.v == NULL)
		return SCH_TRUE;
	if (s.v->type == jbvBool)
		return s.v->val.boolean ? SCH_TRUE : SCH_FALSE;
	if (is_object(s.v))
		return only_annotations(s.v) ? SCH_TRUE : SCH_OBJECT;
	return SCH_OTHER;
}

/* ---------------------------------------------------------------------
 * References
 * --------------------------------------------------------------------- */

/* decode one JSON Pointer token: ~1 -> /, ~0 -> ~, %XX */
static char *
pointer_token(const char *s, int len, int *outlen)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1'))
		{
			appendStringInfoChar(&buf, s[i + 1] == '0' ? '~' : '/');
			i++;
		}
		else if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char) s[i + 1]) &&
				 isxdigit((unsigned char) s[i + 2]))
		{
			char		hex[3] = {s[i + 1], s[i + 2], 0};

			appendStringInfoChar(&buf, (char) strtol(hex, NULL, 16));
			i += 2;
		}
		else
			appendStringInfoChar(&buf, s[i]);
	}
	*outlen = buf.len;
	return buf.data;
}

/* follow a JSON Pointer from the root of a document; NULL if it leads nowhere */
static JsonbValue *
follow_pointer(JsonbContainer *root, const char *ptr, int len)
{
	JsonbValue *cur = palloc(sizeof(JsonbValue));
	int			i = 0;

	cur->type = jbvBinary;
	cur->val.binary.data = root;
	cur->val.binary.len = 0;
	if (len == 0)
		return cur;
	if (ptr[0] != '/')
		return NULL;
	while (i < len)
	{
		int			start = ++i;
		int			toklen;
		char	   *tok;

		while (i < len && ptr[i] != '/')
			i++;
		tok = pointer_token(ptr + start, i - start, &toklen);
		if (is_object(cur))
			cur = obj_get_len(cur, tok, toklen);
		else if (is_array(cur))
		{
			char	   *end;
			long		idx = strtol(tok, &end, 10);

			if (toklen == 0 || *end != '\0' || idx < 0)
				return NULL;
			cur = getIthJsonbValueFromContainer(cur->val.binary.data, (uint32) idx);
		}
		else
			return NULL;
		if (cur == NULL)
			return NULL;
	}
	return cur;
}

/*
 * Resolve s's "$ref".  Returns true and sets *target when the reference
 * leads to a schema the diff can read.
 */
static bool
resolve_ref(DiffCtx *cx, Sch s, JsonbValue *ref, Sch *target)
{
	const char *str;
	int			len;
	int			hash;
	JsonbContainer *doc;
	JsonbValue *v;

	if (ref == NULL || ref->type != jbvString)
		return false;
	str = ref->val.string.val;
	len = ref->val.string.len;
	for (hash = 0; hash < len && str[hash] != '#'; hash++)
		;
	if (hash == 0)
		doc = s.root;
	else
	{
		JsonbValue	rv;

		if (cx->refs == NULL)
			return false;
		v = getKeyJsonValueFromContainer(cx->refs, str, hash, &rv);
		if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			return false;
		doc = v->val.binary.data;
	}
	if (doc == NULL)
		return false;
	if (hash >= len - 1)
		v = follow_pointer(doc, "", 0);
	else
		v = follow_pointer(doc, str + hash + 1, len - hash - 1);
	if (v == NULL)
		return false;
	*target = sch_make(v, doc);
	return true;
}

/* does the schema consist of a "$ref" plus annotations only? */
static bool
is_pure_ref(JsonbValue *obj)
{
	Pairs		p;
	bool		has_ref = false;

	obj_pairs(obj, &p);
	for (int i = 0; i < p.n; i++)
	{
		if (str_eq(&p.keys[i], "$ref", 4))
			has_ref = true;
		else if (!in_list(annotation_keywords, p.keys[i].val.string.val, p.keys[i].val.string.len))
			return false;
	}
	return has_ref;
}

/* ---------------------------------------------------------------------
 * Keyword families
 * --------------------------------------------------------------------- */

enum
{
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16,
	T_STRING = 32, T_INTEGER = 64, T_ALL = 127
};

static int
type_bit(JsonbValue *v)
{
	static const char *const names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};

	if (v->type != jbvString)
		return 0;
	for (int i = 0; i < 7; i++)
		if (str_eq(v, names[i], strlen(names[i])))
			return 1 << i;
	return 0;
}

/* the set of types a "type" keyword allows; integer is part of number */
static int
type_set(JsonbValue *t)
{
	int			mask = 0;

	if (t == NULL)
		return T_ALL;
	if (t->type == jbvString)
		mask = type_bit(t);
	else if (is_array(t))
	{
		int			n;
		JsonbValue *e = arr_elems(t, &n);

		for (int i = 0; i < n; i++)
			mask |= type_bit(&e[i]);
	}
	if (mask & T_NUMBER)
		mask |= T_INTEGER;
	return mask;
}

static void
diff_type(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	JsonbValue *ot = obj_get(o.v, "type");
	JsonbValue *nt = obj_get(n.v, "type");
	int			os,
				ns;
	char	   *p;

	if (ot == NULL && nt == NULL)
		return;
	os = type_set(ot);
	ns = type_set(nt);
	if (os == ns)
		return;
	p = path_join_cstr(path, "type");
	if ((os & ns) == os)
		add_widened(cx, "type_widened", p);
	else if ((os & ns) == ns)
		add_narrowed(cx, "type_narrowed", p);
	else
		add_incompatible(cx, "type_changed", p);
}

/* the allowed values of const/enum: NULL when unrestricted */
static JsonbValue *
allowed_values(Sch s, int *n, const char **kw)
{
	JsonbValue *c = obj_get(s.v, "const");
	JsonbValue *e = obj_get(s.v, "enum");

	*n = 0;
	if (c)
	{
		*kw = "const";
		*n = 1;
		return c;
	}
	if (e)
	{
		*kw = "enum";
		return arr_elems(e, n);
	}
	*kw = NULL;
	return NULL;
}

/*
 * Is v one of the n values of set?  Each comparison is a step of the diff's
 * budget: comparing two enums of a million values each is 10^12 comparisons.
 */
static bool
value_in(DiffCtx *cx, const char *path, JsonbValue *v, JsonbValue *set, int n, int hint)
{
	/*
	 * Start at the same position (hint) and wrap around: an unchanged or
	 * extended enum then costs one comparison per value.
	 */
	for (int k = 0; k < n; k++)
	{
		int			i = (hint + k) % n;

		CHECK_FOR_INTERRUPTS();
		if (++cx->steps > REG_DIFF_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_LG_DIFF_TOO_COMPLEX),
					 errmsg("schema too complex to compare at %s%s",
							path[0] ? pnstrdup(path, 100) : "the root", strlen(path) > 100 ? "..." : ""),
					 errdetail("The comparison exceeded %s.", "1000000 steps")));
		if (json_equal(v, &set[i]))
			return true;
	}
	return false;
}

static void
diff_values(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	int			on,
				nn;
	const char *okw,
			   *nkw;
	JsonbValue *ov = allowed_values(o, &on, &okw);
	JsonbValue *nv = allowed_values(n, &nn, &nkw);
	const char *kw;
	bool		o_sub_n = true,
				n_sub_o = true;

	if (okw == NULL && nkw == NULL)
		return;
	kw = nkw ? nkw : okw;
	if (okw == NULL)
	{
		add_narrowed(cx, kwtype(kw, "added"), path_join_cstr(path, kw));
		return;
	}
	if (nkw == NULL)
	{
		add_widened(cx, kwtype(kw, "removed"), path_join_cstr(path, kw));
		return;
	}
	for (int i = 0; i < on && o_sub_n; i++)
		o_sub_n = value_in(cx, path, &ov[i], nv, nn, nn > 0 ? i % nn : 0);
	for (int i = 0; i < nn && n_sub_o; i++)
		n_sub_o = value_in(cx, path, &nv[i], ov, on, on > 0 ? i % on : 0);
	if (o_sub_n && n_sub_o)
	{
		if (strcmp(okw, nkw) != 0)
			add_compatible(cx, kwtype(nkw, "equivalent"), path_join_cstr(path, nkw));
		return;
	}
	if (strcmp(kw, "const") == 0 && strcmp(okw, nkw) == 0)
	{
		add_incompatible(cx, "const_changed", path_join_cstr(path, kw));
		return;
	}
	if (o_sub_n)
		add_widened(cx, "enum_extended", path_join_cstr(path, kw));
	else if (n_sub_o)
		add_narrowed(cx, "enum_narrowed", path_join_cstr(path, kw));
	else
		add_incompatible(cx, "enum_changed", path_join_cstr(path, kw));
}

static int
numeric_compare(JsonbValue *a, JsonbValue *b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(a->val.numeric),
											 NumericGetDatum(b->val.numeric)));
}

/* minimum-like (is_min) or maximum-like bounds */
static void
diff_bound(DiffCtx *cx, Sch o, Sch n, const char *path, const char *kw, bool is_min)
{
	JsonbValue *ov = obj_get(o.v, kw);
	JsonbValue *nv = obj_get(n.v, kw);
	char	   *p;

	if (ov == NULL && nv == NULL)
		return;
	p = path_join_cstr(path, kw);
	if (ov == NULL)
	{
		/* draft 4's "exclusiveMinimum": false is no constraint */
		if (nv->type == jbvBool && !nv->val.boolean)
			return;
		add_narrowed(cx, kwtype(kw, "added"), p);
		return;
	}
	if (nv == NULL)
	{
		if (ov->type == jbvBool && !ov->val.boolean)
			return;
		add_widened(cx, kwtype(kw, "removed"), p);
		return;
	}
	if (ov->type == jbvNumeric && nv->type == jbvNumeric)
	{
		int			c = numeric_compare(ov, nv);

		if (c == 0)
			return;
		/* for a minimum, a larger value is tighter */
		if ((c < 0) == is_min)
			add_narrowed(cx, kwtype(kw, "tightened"), p);
		else
			add_widened(cx, kwtype(kw, "loosened"), p);
		return;
	}
	if (ov->type == jbvBool && nv->type == jbvBool)
	{
		if (ov->val.boolean == nv->val.boolean)
			return;
		if (nv->val.boolean)
			add_narrowed(cx, kwtype(kw, "tightened"), p);
		else
			add_widened(cx, kwtype(kw, "loosened"), p);
		return;
	}
	if (!json_equal(ov, nv))
		add_incompatible(cx, kwtype(kw, "changed"), p);
}

static bool
numeric_is_multiple(Numeric a, Numeric b)
{
	Numeric		r;
	Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));

	/* NaN, or a zero divisor (an invalid multipleOf): nothing is a multiple */
	if (numeric_is_nan(a) || numeric_is_nan(b) ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(b), zero)) == 0)
		return false;
	r = DatumGetNumeric(DirectFunctionCall2(numeric_mod, NumericGetDatum(a), NumericGetDatum(b)));
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(r), zero)) == 0;
}

static void
diff_multiple_of(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	JsonbValue *ov = obj_get(o.v, "multipleOf");
	JsonbValue *nv = obj_get(n.v, "multipleOf");
	char	   *p;

	if (ov == NULL && nv == NULL)
		return;
	p = path_join_cstr(path, "multipleOf");
	if (ov == NULL)
		add_narrowed(cx, "multipleOf_added", p);
	else if (nv == NULL)
		add_widened(cx, "multipleOf_removed", p);
	else if (ov->type != jbvNumeric || nv->type != jbvNumeric)
	{
		if (!json_equal(ov, nv))
			add_incompatible(cx, "multipleOf_changed", p);
	}
	else if (numeric_compare(ov, nv) == 0)
		return;
	else if (numeric_is_multiple(nv->val.numeric, ov->val.numeric))
		add_narrowed(cx, "multipleOf_tightened", p);	/* multiples of 10 are multiples of 5 */
	else if (numeric_is_multiple(ov->val.numeric, nv->val.numeric))
		add_widened(cx, "multipleOf_loosened", p);
	else
		add_incompatible(cx, "multipleOf_changed", p);
}

/* keywords whose any change the diff cannot order: added narrows, removed widens */
static void
diff_opaque(DiffCtx *cx, Sch o, Sch n, const char *path, const char *kw)
{
	JsonbValue *ov = obj_get(o.v, kw);
	JsonbValue *nv = obj_get(n.v, kw);

	if (ov == NULL && nv == NULL)
		return;
	if (ov == NULL)
		add_narrowed(cx, kwtype(kw, "added"), path_join_cstr(path, kw));
	else if (nv == NULL)
		add_widened(cx, kwtype(kw, "removed"), path_join_cstr(path, kw));
	else if (!json_equal(ov, nv))
		add_incompatible(cx, kwtype(kw, "changed"), path_join_cstr(path, kw));
}

static void
diff_unique_items(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	JsonbValue *ov = obj_get(o.v, "uniqueItems");
	JsonbValue *nv = obj_get(n.v, "uniqueItems");
	bool		ob = ov && ov->type == jbvBool && ov->val.boolean;
	bool		nb = nv && nv->type == jbvBool && nv->val.boolean;

	if (ob == nb)
		return;
	if (nb)
		add_narrowed(cx, "uniqueItems_added", path_join_cstr(path, "uniqueItems"));
	else
		add_widened(cx, "uniqueItems_removed", path_join_cstr(path, "uniqueItems"));
}

/* is string v among the strings of array arr? */
static bool
string_in_array(JsonbValue *v, JsonbValue *elems, int n)
{
	for (int i = 0; i < n; i++)
		if (elems[i].type == jbvString && v->type == jbvString &&
			elems[i].val.string.len == v->val.string.len &&
			memcmp(elems[i].val.string.val, v->val.string.val, v->val.string.len) == 0)
			return true;
	return false;
}

static void
diff_required(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	int			on,
				nn;
	JsonbValue *oe = arr_elems(obj_get(o.v, "required"), &on);
	JsonbValue *ne = arr_elems(obj_get(n.v, "required"), &nn);
	JsonbValue *nprops = obj_get(n.v, "properties");

	for (int i = 0; i < nn; i++)
	{
		JsonbValue *prop;

		if (ne[i].type != jbvString || string_in_array(&ne[i], oe, on))
			continue;
		prop = obj_get_len(nprops, ne[i].val.string.val, ne[i].val.string.len);
		/* validation does not fill in defaults: old data without it fails either way */
		add_narrowed(cx, (prop && obj_get(prop, "default")) ?
					 "required_property_added_with_default" : "required_property_added",
					 path_join(path_join_cstr(path, "properties"), ne[i].val.string.val, ne[i].val.string.len));
	}
	for (int i = 0; i < on; i++)
	{
		if (oe[i].type != jbvString || string_in_array(&oe[i], ne, nn))
			continue;
		add_widened(cx, "required_property_removed",
					path_join(path_join_cstr(path, "properties"), oe[i].val.string.val, oe[i].val.string.len));
	}
}

/* ---------------------------------------------------------------------
 * Objects: properties and content models
 * --------------------------------------------------------------------- */

typedef enum ModelKind
{
	MODEL_DECLARED,				/* the property is declared in "properties" */
	MODEL_OPEN,					/* any value allowed */
	MODEL_CLOSED,				/* the property is not allowed */
	MODEL_PARTIAL,				/* allowed with a schema (additionalProperties: {...}) */
	MODEL_PATTERN				/* governed by a patternProperties schema */
} ModelKind;

/*
 * Does a patternProperties pattern (ECMA-262, through lc_regex) match the
 * name?  A pattern that does not compile matches nothing: the schema itself
 * is invalid, which jsonschema_check reports at registration.
 */
static bool
pattern_matches(JsonbValue *pattern, JsonbValue *name)
{
	LcRegex    *re = lc_regex_compile(LC_REGEX_ECMA262, pattern->val.string.val,
									  pattern->val.string.len, NULL);

	return re != NULL && lc_regex_search(re, name->val.string.val, name->val.string.len);
}

/* the schema of the first patternProperties pattern of s matching the name (v NULL: none) */
static Sch
pattern_property(Sch s, JsonbValue *name)
{
	JsonbValue *pp = obj_get(s.v, "patternProperties");
	Pairs		p;

	obj_pairs(pp, &p);
	for (int i = 0; i < p.n; i++)
		if (pattern_matches(&p.keys[i], name))
			return sch_make(&p.vals[i], s.root);
	return sch_make(NULL, s.root);
}

/* what schema s says a property named "name" may hold */
static Sch
effective_property(Sch s, JsonbValue *name, ModelKind *kind)
{
	JsonbValue *v = obj_get_len(obj_get(s.v, "properties"), name->val.string.val, name->val.string.len);
	JsonbValue *pp;
	Sch			r;

	if (v)
	{
		*kind = MODEL_DECLARED;
		return sch_make(v, s.root);
	}
	pp = obj_get(s.v, "patternProperties");
	if (pp)
	{
		Pairs		p;

		obj_pairs(pp, &p);
		for (int i = 0; i < p.n; i++)
			if (pattern_matches(&p.keys[i], name))
			{
				*kind = MODEL_PATTERN;
				return sch_make(&p.vals[i], s.root);
			}
	}
	v = obj_get(s.v, "additionalProperties");
	if (v == NULL)
		v = obj_get(s.v, "unevaluatedProperties");
	r = sch_make(v, s.root);
	switch (sch_kind(r))
	{
		case SCH_TRUE:
			*kind = MODEL_OPEN;
			break;
		case SCH_FALSE:
			*kind = MODEL_CLOSED;
			break;
		default:
			*kind = MODEL_PARTIAL;
	}
	return r;
}

static const char *
model_name(ModelKind k)
{
	switch (k)
	{
		case MODEL_OPEN:
			return "open";
		case MODEL_CLOSED:
			return "closed";
		default:
			return "partially_open";
	}
}

/*
 * Diff two subschemas silently and report one change with the combined
 * flags.  "conjoined" says that the schema on one side (+1: the new one,
 * -1: the old one) is in fact the conjunction of the compared subschema with
 * the other side's schema: a property declared in "properties" whose name
 * also matches a patternProperties pattern with the same schema on both
 * sides.  That side is then at most as wide as the other.
 */
static void
diff_summarised_conj(DiffCtx *cx, Sch o, Sch n, const char *path, const char *type, int conjoined)
{
	List	   *saved = cx->changes;
	bool		negated = cx->negated;
	bool		backward = true,
				forward = true;
	ListCell   *lc;

	cx->changes = NIL;
	cx->negated = false;
	diff_schema(cx, o, n, path);
	foreach(lc, cx->changes)
	{
		RegChange  *c = lfirst(lc);

		backward &= c->backward;
		forward &= c->forward;
	}
	cx->changes = saved;
	cx->negated = negated;
	if (conjoined > 0)
		forward = true;			/* new = old AND declared */
	else if (conjoined < 0)
		backward = true;		/* old = new AND declared */
	add_change(cx, type, path, backward, forward);
}

static void
diff_summarised(DiffCtx *cx, Sch o, Sch n, const char *path, const char *type)
{
	diff_summarised_conj(cx, o, n, path, type, 0);
}

static void
diff_content_keyword(DiffCtx *cx, Sch o, Sch n, const char *path, const char *kw)
{
	Sch			os = sch_sub(o, kw);
	Sch			ns = sch_sub(n, kw);
	SchKind		ok = sch_kind(os),
				nk = sch_kind(ns);
	char	   *p = path_join_cstr(path, kw);

	if (os.v == NULL && ns.v == NULL)
		return;
	if (ok == SCH_TRUE && nk == SCH_FALSE)
		add_narrowed(cx, "content_model_closed", p);
	else if (ok == SCH_FALSE && nk == SCH_TRUE)
		add_widened(cx, "content_model_opened", p);
	else
		diff_schema(cx, os, ns, p);
}

static void
diff_object(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	JsonbValue *op = obj_get(o.v, "properties");
	JsonbValue *np = obj_get(n.v, "properties");
	Pairs		opp,
				npp;
	int			i = 0,
				j = 0;
	char	   *props_path = path_join_cstr(path, "properties");

	obj_pairs(op, &opp);
	obj_pairs(np, &npp);
	/* both lists are in jsonb key order: merge them */
	while (i < opp.n || j < npp.n)
	{
		int			c;

		CHECK_FOR_INTERRUPTS();
		if (i >= opp.n)
			c = 1;
		else if (j >= npp.n)
			c = -1;
		else
		{
			JsonbValue *a = &opp.keys[i],
					   *b = &npp.keys[j];

			/* jsonb orders keys by length, then bytes */
			if (a->val.string.len != b->val.string.len)
				c = a->val.string.len < b->val.string.len ? -1 : 1;
			else
				c = memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
		}
		if (c == 0)
		{
			diff_schema(cx, sch_make(&opp.vals[i], o.root), sch_make(&npp.vals[j], n.root),
						path_join(props_path, opp.keys[i].val.string.val, opp.keys[i].val.string.len));
			i++, j++;
		}
		else if (c > 0)
		{
			ModelKind	k;
			Sch			before = effective_property(o, &npp.keys[j], &k);
			Sch			still = pattern_property(n, &npp.keys[j]);

			diff_summarised_conj(cx, before, sch_make(&npp.vals[j], n.root),
								 path_join(props_path, npp.keys[j].val.string.val, npp.keys[j].val.string.len),
								 psprintf("property_added_to_%s_content_model", model_name(k)),
								 (k == MODEL_PATTERN && still.v && json_equal(still.v, before.v)) ? 1 : 0);
			j++;
		}
		else
		{
			ModelKind	k;
			Sch			after = effective_property(n, &opp.keys[i], &k);
			Sch			was = pattern_property(o, &opp.keys[i]);

			diff_summarised_conj(cx, sch_make(&opp.vals[i], o.root), after,
								 path_join(props_path, opp.keys[i].val.string.val, opp.keys[i].val.string.len),
								 psprintf("property_removed_from_%s_content_model", model_name(k)),
								 (k == MODEL_PATTERN && was.v && json_equal(was.v, after.v)) ? -1 : 0);
			i++;
		}
	}

	/* patternProperties: by pattern text */
	{
		JsonbValue *opat = obj_get(o.v, "patternProperties");
		JsonbValue *npat = obj_get(n.v, "patternProperties");
		char	   *pp_path = path_join_cstr(path, "patternProperties");
		Sch			oadd = sch_sub(o, "additionalProperties");
		Sch			nadd = sch_sub(n, "additionalProperties");

		obj_pairs(opat, &opp);
		obj_pairs(npat, &npp);
		for (j = 0; j < npp.n; j++)
		{
			JsonbValue *ov = obj_get_len(opat, npp.keys[j].val.string.val, npp.keys[j].val.string.len);
			char	   *p = path_join(pp_path, npp.keys[j].val.string.val, npp.keys[j].val.string.len);

			if (ov)
				diff_schema(cx, sch_make(ov, o.root), sch_make(&npp.vals[j], n.root), p);
			else
				diff_summarised(cx, oadd, sch_make(&npp.vals[j], n.root), p, "pattern_property_added");
		}
		for (i = 0; i < opp.n; i++)
		{
			if (obj_get_len(npat, opp.keys[i].val.string.val, opp.keys[i].val.string.len))
				continue;
			diff_summarised(cx, sch_make(&opp.vals[i], o.root), nadd,
							path_join(pp_path, opp.keys[i].val.string.val, opp.keys[i].val.string.len),
							"pattern_property_removed");
		}
	}

	diff_content_keyword(cx, o, n, path, "additionalProperties");
	diff_content_keyword(cx, o, n, path, "unevaluatedProperties");
	diff_content_keyword(cx, o, n, path, "propertyNames");
}

/* dependentRequired / dependentSchemas, and draft 7's "dependencies" */
static JsonbValue *
dependency_of(Sch s, JsonbValue *key, bool want_array)
{
	JsonbValue *v = obj_get_len(obj_get(s.v, want_array ? "dependentRequired" : "dependentSchemas"),
								key->val.string.val, key->val.string.len);

	if (v == NULL)
	{
		v = obj_get_len(obj_get(s.v, "dependencies"), key->val.string.val, key->val.string.len);
		if (v && is_array(v) != want_array)
			v = NULL;
	}
	return v;
}

static void
collect_dependency_keys(Sch s, List **keys)
{
	static const char *const kws[] = {"dependentRequired", "dependentSchemas", "dependencies"};

	for (int k = 0; k < 3; k++)
	{
		Pairs		p;

		obj_pairs(obj_get(s.v, kws[k]), &p);
		for (int i = 0; i < p.n; i++)
		{
			char	   *name = pnstrdup(p.keys[i].val.string.val, p.keys[i].val.string.len);
			ListCell   *lc;
			bool		found = false;

			foreach(lc, *keys)
				if (strcmp(lfirst(lc), name) == 0)
					found = true;
			if (!found)
				*keys = lappend(*keys, name);
		}
	}
}

static void
diff_dependencies(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	List	   *keys = NIL;
	ListCell   *lc;

	collect_dependency_keys(o, &keys);
	collect_dependency_keys(n, &keys);
	foreach(lc, keys)
	{
		JsonbValue	key;
		JsonbValue *oa,
				   *na;
		int			on,
					nn;
		JsonbValue *oe,
				   *ne;
		char	   *p;

		key.type = jbvString;
		key.val.string.val = lfirst(lc);
		key.val.string.len = strlen(lfirst(lc));

		/* required-when-present lists */
		oa = dependency_of(o, &key, true);
		na = dependency_of(n, &key, true);
		oe = arr_elems(oa, &on);
		ne = arr_elems(na, &nn);
		p = path_join_cstr(path_join_cstr(path, "dependentRequired"), lfirst(lc));
		for (int i = 0; i < nn; i++)
			if (!string_in_array(&ne[i], oe, on))
				add_narrowed(cx, "dependent_required_added", p);
		for (int i = 0; i < on; i++)
			if (!string_in_array(&oe[i], ne, nn))
				add_widened(cx, "dependent_required_removed", p);

		/* schemas applied when present */
		oa = dependency_of(o, &key, false);
		na = dependency_of(n, &key, false);
		if (oa || na)
			diff_schema(cx, sch_make(oa, o.root), sch_make(na, n.root),
						path_join_cstr(path_join_cstr(path, "dependentSchemas"), lfirst(lc)));
	}
}

/* ---------------------------------------------------------------------
 * Arrays
 * --------------------------------------------------------------------- */

/* the positional schemas and the schema of the remaining items, in any draft */
static JsonbValue *
array_model(Sch s, int *nprefix, Sch *rest, const char **rest_kw)
{
	JsonbValue *items = obj_get(s.v, "items");
	JsonbValue *prefix = obj_get(s.v, "prefixItems");

	if (prefix == NULL && is_array(items))
	{
		/* drafts 4 to 2019-09: "items" as an array, then "additionalItems" */
		*rest = sch_sub(s, "additionalItems");
		*rest_kw = "additionalItems";
		return arr_elems(items, nprefix);
	}
	*rest = sch_make(items, s.root);
	*rest_kw = "items";
	return arr_elems(prefix, nprefix);
}

static void
diff_array(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	int			on,
				nn;
	Sch			orest,
				nrest;
	const char *okw,
			   *nkw;
	JsonbValue *ope = array_model(o, &on, &orest, &okw);
	JsonbValue *npe = array_model(n, &nn, &nrest, &nkw);
	bool		n_old_style = strcmp(nkw, "additionalItems") == 0;
	char	   *prefix_path = path_join_cstr(path, n_old_style ? "items" : "prefixItems");

	for (int i = 0; i < Max(on, nn); i++)
	{
		Sch			os = i < on ? sch_make(&ope[i], o.root) : orest;
		Sch			ns = i < nn ? sch_make(&npe[i], n.root) : nrest;
		char	   *p = path_join_int(prefix_path, i);

		CHECK_FOR_INTERRUPTS();
		if (i >= on)
			diff_summarised(cx, os, ns, p, "prefix_item_added");
		else if (i >= nn)
			diff_summarised(cx, os, ns, p, "prefix_item_removed");
		else
			diff_schema(cx, os, ns, p);
	}
	if (orest.v || nrest.v)
	{
		SchKind		ok = sch_kind(orest),
					nk = sch_kind(nrest);
		char	   *p = path_join_cstr(path, nkw);

		if (ok == SCH_TRUE && nk == SCH_FALSE)
			add_narrowed(cx, "items_closed", p);
		else if (ok == SCH_FALSE && nk == SCH_TRUE)
			add_widened(cx, "items_opened", p);
		else
			diff_schema(cx, orest, nrest, p);
	}
	diff_content_keyword(cx, o, n, path, "unevaluatedItems");

	/* contains: a wider "contains" accepts more arrays */
	{
		Sch			oc = sch_sub(o, "contains");
		Sch			nc = sch_sub(n, "contains");

		if (oc.v == NULL && nc.v != NULL)
			add_narrowed(cx, "contains_added", path_join_cstr(path, "contains"));
		else if (oc.v != NULL && nc.v == NULL)
			add_widened(cx, "contains_removed", path_join_cstr(path, "contains"));
		else if (oc.v != NULL)
			diff_schema(cx, oc, nc, path_join_cstr(path, "contains"));
	}
}

/* ---------------------------------------------------------------------
 * Combinators and conditionals
 * --------------------------------------------------------------------- */

/*
 * anyOf / oneOf (conjunctive = false) and allOf (conjunctive = true).
 * Branches equal on both sides are matched first; when the same number of
 * branches is left on each side they are compared pairwise in order,
 * otherwise the change is named by what was added or removed.
 */
static void
diff_combinator(DiffCtx *cx, Sch o, Sch n, const char *path, const char *kw, bool conjunctive)
{
	JsonbValue *oa = obj_get(o.v, kw);
	JsonbValue *na = obj_get(n.v, kw);
	int			on,
				nn;
	JsonbValue *oe,
			   *ne;
	bool	   *omatched,
			   *nmatched;
	int			oleft,
				nleft;
	char	   *p = path_join_cstr(path, kw);

	if (oa == NULL && na == NULL)
		return;
	if (oa == NULL)
	{
		add_narrowed(cx, kwtype(kw, "added"), p);
		return;
	}
	if (na == NULL)
	{
		add_widened(cx, kwtype(kw, "removed"), p);
		return;
	}
	oe = arr_elems(oa, &on);
	ne = arr_elems(na, &nn);
	omatched = palloc0(sizeof(bool) * (on + 1));
	nmatched = palloc0(sizeof(bool) * (nn + 1));
	oleft = on;
	nleft = nn;
	for (int i = 0; i < on; i++)
		for (int j = 0; j < nn; j++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!nmatched[j] && json_equal(&oe[i], &ne[j]))
			{
				omatched[i] = nmatched[j] = true;
				oleft--, nleft--;
				break;
			}
		}
	if (oleft == 0 && nleft == 0)
		return;
	if (oleft == nleft)
	{
		int			j = 0;

		for (int i = 0; i < on; i++)
		{
			if (omatched[i])
				continue;
			while (nmatched[j])
				j++;
			diff_schema(cx, sch_make(&oe[i], o.root), sch_make(&ne[j], n.root), path_join_int(p, j));
			j++;
		}
		return;
	}
	if (oleft == 0)
	{
		/* branches added: anyOf accepts more, allOf less */
		if (conjunctive)
			add_narrowed(cx, kwtype(kw, "extended"), p);
		else
			add_widened(cx, kwtype(kw, "extended"), p);
	}
	else if (nleft == 0)
	{
		if (conjunctive)
			add_widened(cx, kwtype(kw, "narrowed"), p);
		else
			add_narrowed(cx, kwtype(kw, "narrowed"), p);
	}
	else
		add_incompatible(cx, kwtype(kw, "changed"), p);
}

static void
diff_not(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	Sch			os = sch_sub(o, "not");
	Sch			ns = sch_sub(n, "not");
	char	   *p = path_join_cstr(path, "not");

	if (os.v == NULL && ns.v == NULL)
		return;
	if (os.v == NULL)
		add_narrowed(cx, "not_added", p);
	else if (ns.v == NULL)
		add_widened(cx, "not_removed", p);
	else
	{
		cx->negated = !cx->negated;
		diff_schema(cx, os, ns, p);
		cx->negated = !cx->negated;
	}
}

static void
diff_conditional(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	JsonbValue *oif = obj_get(o.v, "if");
	JsonbValue *nif = obj_get(n.v, "if");
	bool		otrivial = sch_kind(sch_sub(o, "then")) == SCH_TRUE && sch_kind(sch_sub(o, "else")) == SCH_TRUE;
	bool		ntrivial = sch_kind(sch_sub(n, "then")) == SCH_TRUE && sch_kind(sch_sub(n, "else")) == SCH_TRUE;

	if (oif == NULL && nif == NULL)
		return;
	if (oif == NULL || (otrivial && !ntrivial && !json_equal(oif, nif)))
	{
		if (!ntrivial)
			add_narrowed(cx, "if_added", path_join_cstr(path, "if"));
		return;
	}
	if (nif == NULL || (ntrivial && !otrivial && !json_equal(oif, nif)))
	{
		if (!otrivial)
			add_widened(cx, "if_removed", path_join_cstr(path, "if"));
		return;
	}
	if (!json_equal(oif, nif))
	{
		if (!(otrivial && ntrivial))
			add_incompatible(cx, "if_changed", path_join_cstr(path, "if"));
		return;
	}
	/* same condition: each branch compares like any subschema */
	diff_content_keyword(cx, o, n, path, "then");
	diff_content_keyword(cx, o, n, path, "else");
}

/* x-rules: cross-field CEL rules, matched by their expression */
static void
diff_rules(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	int			on,
				nn;
	JsonbValue *oe = arr_elems(obj_get(o.v, "x-rules"), &on);
	JsonbValue *ne = arr_elems(obj_get(n.v, "x-rules"), &nn);
	char	   *p = path_join_cstr(path, "x-rules");

	for (int j = 0; j < nn; j++)
	{
		JsonbValue *nr = obj_get(&ne[j], "rule");
		bool		found = false;

		for (int i = 0; i < on && !found; i++)
			found = json_equal(nr, obj_get(&oe[i], "rule"));
		if (!found)
			add_narrowed(cx, "rule_added", path_join_int(p, j));
		else
		{
			/* same rule: a new message or error path does not change validity */
			bool		same = false;

			for (int i = 0; i < on && !same; i++)
				same = json_equal(&ne[j], &oe[i]);
			if (!same)
				add_compatible(cx, "rule_message_changed", path_join_int(p, j));
		}
	}
	for (int i = 0; i < on; i++)
	{
		JsonbValue *orl = obj_get(&oe[i], "rule");
		bool		found = false;

		for (int j = 0; j < nn && !found; j++)
			found = json_equal(orl, obj_get(&ne[j], "rule"));
		if (!found)
			add_widened(cx, "rule_removed", path_join_int(p, i));
	}
}

static void
diff_annotations_and_unknown(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	Pairs		op,
				np;

	obj_pairs(o.v, &op);
	obj_pairs(n.v, &np);
	/* keywords of the new schema, changed or added */
	for (int j = 0; j < np.n; j++)
	{
		const char *k = np.keys[j].val.string.val;
		int			klen = np.keys[j].val.string.len;
		JsonbValue *ov;

		if (in_list(known_keywords, k, klen) ||
			(klen == 5 && memcmp(k, "$defs", 5) == 0) ||
			(klen == 11 && memcmp(k, "definitions", 11) == 0))
			continue;
		ov = obj_get_len(o.v, k, klen);
		if (ov && json_equal(ov, &np.vals[j]))
			continue;
		/* title, description, default, examples... and keywords validators ignore */
		add_compatible(cx, psprintf("%s_%s",
									in_list(annotation_keywords, k, klen) ? pnstrdup(k, klen) : "unknown_keyword",
									ov ? "changed" : "added"),
					   path_join(path, k, klen));
	}
	for (int i = 0; i < op.n; i++)
	{
		const char *k = op.keys[i].val.string.val;
		int			klen = op.keys[i].val.string.len;

		if (in_list(known_keywords, k, klen) || obj_get_len(n.v, k, klen) ||
			(klen == 5 && memcmp(k, "$defs", 5) == 0) ||
			(klen == 11 && memcmp(k, "definitions", 11) == 0))
			continue;
		add_compatible(cx, psprintf("%s_removed",
									in_list(annotation_keywords, k, klen) ? pnstrdup(k, klen) : "unknown_keyword"),
					   path_join(path, k, klen));
	}
}

/* ---------------------------------------------------------------------
 * The walk
 * --------------------------------------------------------------------- */

static bool
following_pair(DiffCtx *cx, JsonbContainer *o, JsonbContainer *n)
{
	ListCell   *lc;

	foreach(lc, cx->following)
	{
		RefPair    *rp = lfirst(lc);

		if (rp->o == o && rp->n == n)
			return true;
	}
	return false;
}

/* does the subschema use a reference anywhere (its targets may differ)? */
static bool
contains_ref(JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	x;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary)
		return false;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &x, false)) != WJB_DONE)
	{
		if (tok == WJB_KEY &&
			(str_eq(&x, "$ref", 4) || str_eq(&x, "$dynamicRef", 11) || str_eq(&x, "$recursiveRef", 13)))
			return true;
	}
	return false;
}

static JsonbContainer *
container_of(Sch s)
{
	return (s.v && s.v->type == jbvBinary) ? s.v->val.binary.data : NULL;
}

static void
diff_keywords(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	static const char *const min_bounds[] = {"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains", NULL};
	static const char *const max_bounds[] = {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains", NULL};

	/* "$ref" beside other keywords: compare the targets, then the rest */
	{
		JsonbValue *oref = obj_get(o.v, "$ref");
		JsonbValue *nref = obj_get(n.v, "$ref");
		char	   *p = path_join_cstr(path, "$ref");

		if (oref && nref)
		{
			Sch			ot,
						nt;

			if (resolve_ref(cx, o, oref, &ot) && resolve_ref(cx, n, nref, &nt))
				diff_schema(cx, ot, nt, p);
			else if (!json_equal(oref, nref))
				add_incompatible(cx, "ref_changed", p);
		}
		else if (nref)
			add_narrowed(cx, "ref_added", p);
		else if (oref)
			add_widened(cx, "ref_removed", p);
	}
	diff_opaque(cx, o, n, path, "$dynamicRef");
	diff_opaque(cx, o, n, path, "$recursiveRef");
	{
		JsonbValue *os = obj_get(o.v, "$schema");
		JsonbValue *ns = obj_get(n.v, "$schema");

		/* another draft can change what every keyword means */
		if (os && ns && !json_equal(os, ns))
			add_incompatible(cx, "dialect_changed", path_join_cstr(path, "$schema"));
	}

	diff_type(cx, o, n, path);
	diff_values(cx, o, n, path);
	for (int i = 0; min_bounds[i]; i++)
		diff_bound(cx, o, n, path, min_bounds[i], true);
	for (int i = 0; max_bounds[i]; i++)
		diff_bound(cx, o, n, path, max_bounds[i], false);
	diff_multiple_of(cx, o, n, path);
	diff_opaque(cx, o, n, path, "pattern");
	diff_opaque(cx, o, n, path, "format");
	diff_unique_items(cx, o, n, path);
	diff_required(cx, o, n, path);
	diff_object(cx, o, n, path);
	diff_dependencies(cx, o, n, path);
	diff_array(cx, o, n, path);
	diff_combinator(cx, o, n, path, "allOf", true);
	diff_combinator(cx, o, n, path, "anyOf", false);
	diff_combinator(cx, o, n, path, "oneOf", false);
	diff_not(cx, o, n, path);
	diff_conditional(cx, o, n, path);
	diff_rules(cx, o, n, path);
	diff_annotations_and_unknown(cx, o, n, path);
}

static void
diff_schema(DiffCtx *cx, Sch o, Sch n, const char *path)
{
	SchKind		ok,
				nk;
	int			derefs = 0;
	int			pushed = 0;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (++cx->steps > REG_DIFF_MAX_STEPS || cx->depth >= REG_DIFF_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_LG_DIFF_TOO_COMPLEX),
				 errmsg("schema too complex to compare at %s%s",
						path[0] ? pnstrdup(path, 100) : "the root", strlen(path) > 100 ? "..." : ""),
				 errdetail("The comparison exceeded %s.",
						   cx->depth >= REG_DIFF_MAX_DEPTH ? "500 levels of nesting" : "1000000 steps")));

	/* a schema that is only a "$ref" is its target */
	while (derefs < 2 * REG_DIFF_MAX_DEPTH)
	{
		bool		changed = false;
		Sch			t;

		if (is_object(o.v) && is_pure_ref(o.v) && resolve_ref(cx, o, obj_get(o.v, "$ref"), &t))
		{
			o = t;
			changed = true;
		}
		if (is_object(n.v) && is_pure_ref(n.v) && resolve_ref(cx, n, obj_get(n.v, "$ref"), &t))
		{
			n = t;
			changed = true;
		}
		if (!changed)
			break;
		derefs++;
		/* the same pair of targets again: a recursive schema, compared already */
		if (following_pair(cx, container_of(o), container_of(n)))
		{
			while (pushed-- > 0)
				cx->following = list_delete_last(cx->following);
			return;
		}
		{
			RefPair    *rp = palloc(sizeof(RefPair));

			rp->o = container_of(o);
			rp->n = container_of(n);
			cx->following = lappend(cx->following, rp);
			pushed++;
		}
	}

	ok = sch_kind(o);
	nk = sch_kind(n);
	cx->depth++;
	if (ok == SCH_OTHER || nk == SCH_OTHER)
	{
		if (!json_equal(o.v, n.v))
			add_incompatible(cx, "schema_changed", path);
	}
	else if (ok == SCH_FALSE || nk == SCH_FALSE)
	{
		if (ok == SCH_FALSE && nk != SCH_FALSE)
			add_widened(cx, "false_schema_removed", path);
		else if (nk == SCH_FALSE && ok != SCH_FALSE)
			add_narrowed(cx, "false_schema_added", path);
	}
	else if (o.v != NULL && n.v != NULL && json_equal(o.v, n.v) && !contains_ref(o.v))
	{
		/* identical subschemas that reach no other schema: nothing to report */
	}
	else
	{
		/* "true" and annotation-only objects are compared as the empty schema */
		diff_keywords(cx, o, n, path);
	}
	cx->depth--;
	while (pushed-- > 0)
		cx->following = list_delete_last(cx->following);
}

List *
reg_schema_diff(Jsonb *old_schema, Jsonb *new_schema, Jsonb *refs)
{
	DiffCtx		cx;
	JsonbValue *ov = palloc(sizeof(JsonbValue));
	JsonbValue *nv = palloc(sizeof(JsonbValue));

	memset(&cx, 0, sizeof(cx));
	if (refs && JB_ROOT_IS_OBJECT(refs))
		cx.refs = &refs->root;

	/* the roots: scalars (true/false) are unwrapped */
	if (JB_ROOT_IS_SCALAR(old_schema))
		*ov = *getIthJsonbValueFromContainer(&old_schema->root, 0);
	else
	{
		ov->type = jbvBinary;
		ov->val.binary.data = &old_schema->root;
		ov->val.binary.len = VARSIZE(old_schema) - VARHDRSZ;
	}
	if (JB_ROOT_IS_SCALAR(new_schema))
		*nv = *getIthJsonbValueFromContainer(&new_schema->root, 0);
	else
	{
		nv->type = jbvBinary;
		nv->val.binary.data = &new_schema->root;
		nv->val.binary.len = VARSIZE(new_schema) - VARHDRSZ;
	}
	diff_schema(&cx, sch_make(ov, &old_schema->root), sch_make(nv, &new_schema->root), "");
	return cx.changes;
}

Jsonb *
reg_changes_to_jsonb(List *changes)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, changes)
	{
		RegChange  *c = lfirst(lc);

		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		appendStringInfoString(&buf, "{\"type\": ");
		escape_json(&buf, c->type);
		appendStringInfoString(&buf, ", \"path\": ");
		escape_json(&buf, c->path);
		appendStringInfo(&buf, ", \"backward\": %s, \"forward\": %s}",
						 c->backward ? "true" : "false", c->forward ? "true" : "false");
	}
	appendStringInfoChar(&buf, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
