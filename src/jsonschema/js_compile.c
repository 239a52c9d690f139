/*-------------------------------------------------------------------------
 *
 * js_compile.c
 *	  Compile a JSON Schema (jsonb) into the tree the validator walks.
 *
 * Compilation has three steps:
 *	1. walk the schema through the keywords of its draft, creating one
 *	   JsSchema per schema object; $id makes a new resource (base URI),
 *	   $anchor / $dynamicAnchor / "$id": "#name" register anchors.  Only
 *	   schema positions are walked, so an "$id" inside "const" or an
 *	   unknown keyword is not an identifier.
 *	2. resolve every $ref / $dynamicRef: by resource URI, then by anchor or
 *	   JSON pointer.  A document not part of the schema is asked from the
 *	   loader (the built-in metaschemas first); JSON pointers may lead into
 *	   places step 1 did not walk, which are compiled on demand.
 *	3. reject reference cycles that never move into the instance (they
 *	   would recurse forever whatever the instance).
 * A reference that does not resolve is an error only where validation can
 * reach it from the root (through any keyword but $defs/definitions, and
 * through references), as ajv compiles only what it reaches; a cycle only
 * where every validation enters it (through in-place applicators and
 * references from the root).  Elsewhere (an unused definition of a stored
 * document, a cycle under "properties") the error is kept on the schema
 * (deferred_error), raised if validation ever enters it, and listed as a
 * warning by jsonschema_check.
 *
 * Every error names the schema location as URI#pointer.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "jsonschema/js_internal.h"

typedef struct PendingRef
{
	JsSchema   *owner;
	bool		dynamic;
	char	   *target;			/* absolute (or base-less) URI with fragment */
} PendingRef;

typedef struct MemoEntry
{
	JsonbContainer *key;
	JsSchema   *schema;
} MemoEntry;

typedef struct CompileCtx
{
	JsCompiled *c;
	const JsCompileOptions *opts;
	HTAB	   *memo;
	List	   *pending;
	List	   *all;			/* object schemas in creation order */
	int			depth;
	/* lexical edges, for reachability (see compile_schema) */
	JsSchema   *parent;			/* the schema whose keywords are compiled */
	bool		in_defs;		/* ... under $defs / definitions */
	List	   *edges;			/* SchemaEdge * */
	/* set while resolving: an unresolved reference is returned, not raised */
	char	   *ref_failure;
} CompileCtx;

typedef struct SchemaEdge
{
	JsSchema   *from;
	JsSchema   *to;
} SchemaEdge;

/* kinds of positions met when following a JSON pointer */
typedef enum PosKind
{
	POS_SCHEMA,
	POS_SCHEMA_MAP,
	POS_SCHEMA_ARRAY,
	POS_OTHER
} PosKind;

static bool ajv_ref_only(const JsonbValue *v);
static JsSchema *compile_schema(CompileCtx *cc, const JsonbValue *v,
								JsResource *res, const char *base,
								const char *ptr, JsDraft draft, uint32 vocab);

/* ---------- errors ---------- */

static char *
location_text(const char *base, const char *ptr)
{
	/* deep locations are cut: the start says where, the rest is noise */
	if (ptr && strlen(ptr) > 160)
		return psprintf("%s#%.160s...", base ? base : "", ptr);
	return psprintf("%s#%s", base ? base : "", ptr ? ptr : "");
}

static void
schema_error(int sqlstate, const char *base, const char *ptr, const char *fmt,...)
pg_attribute_printf(4, 5) pg_attribute_noreturn();

/*
 * The error_pointer buffer of the options of the compile under way (NULL:
 * none asked for), so that schema_error(), called from helpers that see no
 * options, can fill it.  Set and restored by js_compile(), also on error.
 */
static char *compile_error_pointer = NULL;

/*
 * A reference that does not resolve: raised, or while resolving (the
 * pending loop of compile_document) kept in cc->ref_failure with the
 * message the error would have, the caller returning NULL.
 */
static void
ref_failure(CompileCtx *cc, const char *base, const char *ptr, const char *msg)
{
	if (cc->ref_failure == NULL)
		schema_error(ERRCODE_LJ_UNRESOLVED_REF, base, ptr, "%s", msg);
	pfree(cc->ref_failure);
	cc->ref_failure = psprintf("invalid JSON Schema at \"%s\": %s", location_text(base, ptr), msg);
}

static void
schema_error(int sqlstate, const char *base, const char *ptr, const char *fmt,...)
{
	StringInfoData msg;

	if (compile_error_pointer)
		strlcpy(compile_error_pointer, ptr ? ptr : "", JS_ERROR_POINTER_SIZE);

	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid JSON Schema at \"%s\": %s",
					location_text(base, ptr), msg.data)));
}

/* ---------- small helpers ---------- */

static char *
pointer_escape(const char *s, int len)
{
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	for (i = 0; i < len; i++)
	{
		if (s[i] == '~')
			appendStringInfoString(&out, "~0");
		else if (s[i] == '/')
			appendStringInfoString(&out, "~1");
		else
			appendStringInfoChar(&out, s[i]);
	}
	return out.data;
}

static char *
child_ptr(const char *ptr, const char *kw)
{
	return psprintf("%s/%s", ptr, kw);
}

static char *
child_ptr2(const char *ptr, const char *kw, const char *key, int keylen)
{
	return psprintf("%s/%s/%s", ptr, kw, pointer_escape(key, keylen));
}

static char *
child_ptr_i(const char *ptr, const char *kw, int i)
{
	return psprintf("%s/%s/%d", ptr, kw, i);
}

static inline bool
key_is(const JsonbValue *k, const char *name)
{
	int			len = strlen(name);

	return k->val.string.len == len && memcmp(k->val.string.val, name, len) == 0;
}

static char *
value_cstring(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
get_member(const JsonbValue *obj, const char *name, JsonbValue *out)
{
	if (!js_is_object(obj))
		return false;
	return js_object_find(obj->val.binary.data, name, strlen(name), out);
}

static bool
get_string_member(const JsonbValue *obj, const char *name, char **out)
{
	JsonbValue	v;

	if (!get_member(obj, name, &v) || v.type != jbvString)
		return false;
	*out = value_cstring(&v);
	return true;
}

static JsResource *
find_resource(CompileCtx *cc, const char *uri)
{
	ListCell   *lc;

	foreach(lc, cc->c->resources)
	{
		JsResource *r = lfirst(lc);

		if (strcmp(r->uri, uri) == 0)
			return r;
	}
	return NULL;
}

static JsSchema *
memo_lookup(CompileCtx *cc, JsonbContainer *jc)
{
	MemoEntry  *e = hash_search(cc->memo, &jc, HASH_FIND, NULL);

	return e ? e->schema : NULL;
}

static void
memo_insert(CompileCtx *cc, JsonbContainer *jc, JsSchema *s)
{
	bool		found;
	MemoEntry  *e = hash_search(cc->memo, &jc, HASH_ENTER, &found);

	e->schema = s;
}

static void
add_anchor(JsResource *res, const char *name, JsSchema *s, bool dynamic)
{
	JsAnchor   *a = palloc(sizeof(JsAnchor));

	a->name = pstrdup(name);
	a->schema = s;
	a->dynamic = dynamic;
	res->anchors = lappend(res->anchors, a);
}

/* ---------- dialects ---------- */

JsDraft
js_draft_from_name(const char *name)
{
	if (strcmp(name, "4") == 0 || strcmp(name, "draft4") == 0 || strcmp(name, "draft-04") == 0)
		return JS_DRAFT4;
	if (strcmp(name, "6") == 0 || strcmp(name, "draft6") == 0 || strcmp(name, "draft-06") == 0)
		return JS_DRAFT6;
	if (strcmp(name, "7") == 0 || strcmp(name, "draft7") == 0 || strcmp(name, "draft-07") == 0)
		return JS_DRAFT7;
	if (strcmp(name, "2019-09") == 0 || strcmp(name, "draft2019-09") == 0)
		return JS_DRAFT2019;
	if (strcmp(name, "2020-12") == 0 || strcmp(name, "draft2020-12") == 0)
		return JS_DRAFT2020;
	return JS_DRAFT_NONE;
}

const char *
js_draft_metaschema_uri(JsDraft draft)
{
	switch (draft)
	{
		case JS_DRAFT4:
			return "http://json-schema.org/draft-04/schema";
		case JS_DRAFT6:
			return "http://json-schema.org/draft-06/schema";
		case JS_DRAFT7:
			return "http://json-schema.org/draft-07/schema";
		case JS_DRAFT2019:
			return "https://json-schema.org/draft/2019-09/schema";
		default:
			return "https://json-schema.org/draft/2020-12/schema";
	}
}

static JsDraft
known_dialect(const char *uri)
{
	char	   *u = js_uri_strip_fragment(uri, NULL);

	if (strncmp(u, "https://", 8) == 0)
		u = psprintf("http://%s", u + 8);
	if (strcmp(u, "http://json-schema.org/draft-04/schema") == 0)
		return JS_DRAFT4;
	if (strcmp(u, "http://json-schema.org/draft-06/schema") == 0)
		return JS_DRAFT6;
	if (strcmp(u, "http://json-schema.org/draft-07/schema") == 0)
		return JS_DRAFT7;
	if (strcmp(u, "http://json-schema.org/draft/2019-09/schema") == 0)
		return JS_DRAFT2019;
	if (strcmp(u, "http://json-schema.org/draft/2020-12/schema") == 0)
		return JS_DRAFT2020;
	return JS_DRAFT_NONE;
}

static Jsonb *
load_document(CompileCtx *cc, const char *uri)
{
	const JsBuiltinDocument *d;

	for (d = js_builtin_documents; d->uri; d++)
	{
		if (strcmp(d->uri, uri) == 0)
			return DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													  CStringGetDatum(d->json)));
	}
	if (cc->opts->loader)
	{
		Jsonb	   *doc = cc->opts->loader(uri, cc->opts->loader_arg);

		if (doc)
		{
			cc->c->used_loader = true;
			return doc;
		}
	}
	return NULL;
}

/*
 * The draft and vocabularies named by a $schema URI: one of the five
 * drafts, or a custom metaschema from the store whose $vocabulary says
 * which vocabularies apply and whose own $schema gives the draft.
 */
static void
dialect_of_uri(CompileCtx *cc, const char *uri, const char *where_base,
			   const char *where_ptr, JsDraft *draft, uint32 *vocab, int depth)
{
	JsDraft		d = known_dialect(uri);
	Jsonb	   *doc;
	JsonbValue	root,
				vocabs;
	char	   *meta;

	if (d != JS_DRAFT_NONE)
	{
		*draft = d;
		*vocab = JS_VOCAB_DEFAULT;
		return;
	}
	doc = depth < 8 ? load_document(cc, js_uri_strip_fragment(uri, NULL)) : NULL;
	if (doc == NULL)
		schema_error(ERRCODE_LJ_UNKNOWN_DIALECT, where_base, where_ptr,
					 "unknown $schema \"%s\"", uri);
	js_root_value(doc, &root);
	if (get_string_member(&root, "$schema", &meta))
		dialect_of_uri(cc, meta, where_base, where_ptr, draft, vocab, depth + 1);
	else
	{
		*draft = JS_DRAFT2020;
		*vocab = JS_VOCAB_DEFAULT;
	}
	if (get_member(&root, "$vocabulary", &vocabs) && js_is_object(&vocabs))
	{
		JsIter		it;
		JsonbValue	k,
					v;
		uint32		fl = JS_VOCAB_APPLICATOR;

		js_iter_init(&it, vocabs.val.binary.data);
		while (js_iter_next_pair(&it, &k, &v))
		{
			char	   *name = value_cstring(&k);
			int			nlen = strlen(name);

			if (nlen >= 11 && strcmp(name + nlen - 11, "/validation") == 0)
				fl |= JS_VOCAB_VALIDATION;
			else if (nlen >= 17 && strcmp(name + nlen - 17, "/format-assertion") == 0)
				fl |= JS_VOCAB_FORMAT_ASSERT;
		}
		*vocab = fl;
	}
}

/* ---------- keyword value checks ---------- */

static int64
nonneg_integer(const JsonbValue *v, const char *base, const char *ptr, const char *kw)
{
	bool		err = false;
	int32		i;

	if (v->type != jbvNumeric || !js_numeric_is_integral(v->val.numeric))
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "\"%s\" must be a non-negative integer", kw);
	i = numeric_int4_opt_error(v->val.numeric, &err);
	if (err)
	{
		if (js_numeric_sign(v->val.numeric) > 0)
			return PG_INT32_MAX;
		i = -1;
	}
	if (i < 0)
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "\"%s\" must be a non-negative integer", kw);
	return i;
}

static Numeric
number_value(const JsonbValue *v, const char *base, const char *ptr, const char *kw)
{
	if (v->type != jbvNumeric)
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "\"%s\" must be a number", kw);
	return v->val.numeric;
}

static void
require_type(const JsonbValue *v, bool ok, const char *base, const char *ptr,
			 const char *kw, const char *what)
{
	if (!ok)
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "the value of \"%s\" must be %s", kw, what);
	(void) v;
}

static uint32
type_bit(const JsonbValue *v, const char *base, const char *ptr)
{
	const char *names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};
	uint32		bits[] = {JS_T_NULL, JS_T_BOOLEAN, JS_T_OBJECT, JS_T_ARRAY, JS_T_NUMBER, JS_T_STRING, JS_T_INTEGER};
	int			i;

	if (v->type == jbvString)
		for (i = 0; i < 7; i++)
			if (key_is(v, names[i]))
				return bits[i];
	schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
				 "\"type\" must be one of null, boolean, object, array, number, string, integer");
}

static int
jsstring_cmp(const void *a, const void *b)
{
	const JsString *x = a;
	const JsString *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

static JsString
copy_string(const JsonbValue *v)
{
	JsString	s;

	s.s = value_cstring(v);
	s.len = v->val.string.len;
	return s;
}

static JsString *
string_array(const JsonbValue *v, int *n, const char *base, const char *ptr, const char *kw)
{
	JsIter		it;
	JsonbValue	e;
	JsString   *out;
	int			i = 0;

	require_type(v, js_is_array(v), base, ptr, kw, "an array of strings");
	js_iter_init(&it, v->val.binary.data);
	out = palloc0(sizeof(JsString) * (it.n + 1));
	while (js_iter_next_elem(&it, &e))
	{
		if (e.type != jbvString)
			schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
						 "the value of \"%s\" must be an array of strings", kw);
		out[i++] = copy_string(&e);
	}
	*n = i;
	return out;
}

static LcRegex *
compile_pattern(const JsonbValue *v, const char *base, const char *ptr, const char *kw)
{
	char	   *err = NULL;
	LcRegex    *re;

	re = lc_regex_compile(LC_REGEX_ECMA262, v->val.string.val, v->val.string.len, &err);
	if (re == NULL)
		schema_error(ERRCODE_LJ_INVALID_PATTERN, base, ptr,
					 "the regular expression \"%s\" of \"%s\" does not compile: %s",
					 value_cstring(v), kw, err ? err : "invalid");
	return re;
}

/* ---------- schema walk ---------- */

static JsSchema **
schema_array(CompileCtx *cc, const JsonbValue *v, int *n, JsResource *res,
			 const char *base, const char *ptr, const char *kw, JsDraft draft,
			 uint32 vocab, bool nonempty)
{
	JsIter		it;
	JsonbValue	e;
	JsSchema  **out;
	int			i = 0;

	if (!js_is_array(v) || (nonempty && JsonContainerSize(v->val.binary.data) == 0))
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "the value of \"%s\" must be a%s array of schemas", kw,
					 nonempty ? " non-empty" : "n");
	js_iter_init(&it, v->val.binary.data);
	out = palloc0(sizeof(JsSchema *) * (it.n + 1));
	while (js_iter_next_elem(&it, &e))
	{
		out[i] = compile_schema(cc, &e, res, base, child_ptr_i(ptr, kw, i), draft, vocab);
		i++;
	}
	*n = i;
	return out;
}

static JsNamed *
schema_map(CompileCtx *cc, const JsonbValue *v, int *n, JsResource *res,
		   const char *base, const char *ptr, const char *kw, JsDraft draft,
		   uint32 vocab)
{
	JsIter		it;
	JsonbValue	k,
				e;
	JsNamed    *out;
	int			i = 0;

	if (!js_is_object(v))
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "the value of \"%s\" must be an object of schemas", kw);
	js_iter_init(&it, v->val.binary.data);
	out = palloc0(sizeof(JsNamed) * (it.n + 1));
	/* iteration yields keys in jsonb order, which the validator relies on */
	while (js_iter_next_pair(&it, &k, &e))
	{
		out[i].name = copy_string(&k);
		out[i].schema = compile_schema(cc, &e, res, base,
									   child_ptr2(ptr, kw, k.val.string.val, k.val.string.len),
									   draft, vocab);
		i++;
	}
	*n = i;
	return out;
}

static void
add_pending(CompileCtx *cc, JsSchema *owner, bool dynamic, const char *base,
			const char *ref)
{
	PendingRef *p = palloc(sizeof(PendingRef));

	p->owner = owner;
	p->dynamic = dynamic;
	p->target = js_uri_resolve(base, ref);
	cc->pending = lappend(cc->pending, p);
}

static JsResource *
new_resource(CompileCtx *cc, const char *uri, JsSchema *root, const JsonbValue *v,
			 JsDraft draft, uint32 vocab)
{
	JsResource *r = palloc0(sizeof(JsResource));

	r->uri = pstrdup(uri);
	r->root = root;
	r->root_value = *v;
	r->draft = draft;
	r->vocab = vocab;
	cc->c->resources = lappend(cc->c->resources, r);
	return r;
}

/*
 * Where a schema object is compiled: its resource, base URI, JSON pointer
 * within the resource, dialect and vocabularies.  Identifiers ($id) and
 * $schema at a resource root change them for the schema and its children.
 */
typedef struct SchemaSite
{
	JsResource *res;
	const char *base;
	const char *ptr;
	JsDraft		draft;
	uint32		vocab;
	bool		ajv_compat;		/* the compile option */
} SchemaSite;

/* keywords whose meaning depends on a sibling met later, applied at the end */
typedef struct LateKeywords
{
	bool		items_array;	/* "items" was an array (up to 2019-09) */
	JsSchema   *additional_items;
	bool		excl_min_bool;	/* draft 4's boolean exclusiveMinimum */
	bool		excl_max_bool;
} LateKeywords;

/*
 * $id (id in draft 4) and $schema of a schema object: start a new resource
 * where they say so (at the document root, or at an $id), record
 * location-independent identifiers as anchors.  Updates *st.
 */
static void
compile_identifiers(CompileCtx *cc, JsSchema *s, const JsonbValue *v, bool has_ref,
					SchemaSite *st)
{
	JsonbValue	idv;
	char	   *id = NULL;
	char	   *str;
	bool		root_dialect = false;

	/*
	 * At the root of the document, $schema decides the draft before the
	 * identifier is read: a draft-04 document names its base URI with "id".
	 */
	if (st->res == NULL && get_string_member(v, "$schema", &str))
	{
		dialect_of_uri(cc, str, st->base, st->ptr, &st->draft, &st->vocab, 0);
		root_dialect = true;
	}

	/* identifiers: $id (id in draft 4); ignored beside $ref up to draft 7 */
	if (!(has_ref && st->draft <= JS_DRAFT7) &&
		get_member(v, st->draft == JS_DRAFT4 ? "id" : "$id", &idv))
	{
		if (idv.type != jbvString)
			schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr,
						 "\"$id\" must be a string");
		id = value_cstring(&idv);
	}

	/* $schema applies at resource roots only */
	if (root_dialect)
		;
	else if ((st->res == NULL || id != NULL) && get_string_member(v, "$schema", &str))
		dialect_of_uri(cc, str, st->base, st->ptr, &st->draft, &st->vocab, 0);
	else if ((st->res == NULL || id != NULL) && get_member(v, "$schema", &idv))
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr, "\"$schema\" must be a string");

	if (id != NULL && st->draft <= JS_DRAFT7 && id[0] == '#')
	{
		/* location-independent identifier: an anchor in the current resource */
		if (st->res == NULL)
			st->res = new_resource(cc, st->base, s, v, st->draft, st->vocab);
		add_anchor(st->res, js_uri_percent_decode(id + 1), s, false);
	}
	else if (id != NULL || st->res == NULL)
	{
		char	   *frag;
		char	   *uri = js_uri_strip_fragment(id ? js_uri_resolve(st->base, id) : st->base, &frag);

		if (id && frag[0] != '\0' && st->draft >= JS_DRAFT2019)
			schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr,
						 "\"$id\" must not contain a fragment: \"%s\"", id);
		st->res = new_resource(cc, uri, s, v, st->draft, st->vocab);
		st->base = st->res->uri;
		st->ptr = "";
		if (frag[0] != '\0')
			add_anchor(st->res, js_uri_percent_decode(frag), s, false);
	}
}

/* $anchor, $dynamicAnchor (2020-12) and $recursiveAnchor (2019-09) */
static void
compile_anchors(JsSchema *s, const JsonbValue *v, const SchemaSite *st)
{
	JsonbValue	idv;

	if (st->draft >= JS_DRAFT2019)
	{
		if (get_member(v, "$anchor", &idv))
		{
			if (idv.type != jbvString)
				schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr, "\"$anchor\" must be a string");
			add_anchor(st->res, value_cstring(&idv), s, false);
		}
		if (st->draft == JS_DRAFT2020 && get_member(v, "$dynamicAnchor", &idv))
		{
			if (idv.type != jbvString)
				schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr, "\"$dynamicAnchor\" must be a string");
			s->dynamic_anchor = value_cstring(&idv);
			add_anchor(st->res, s->dynamic_anchor, s, true);
		}
		if (st->draft == JS_DRAFT2019 && get_member(v, "$recursiveAnchor", &idv))
		{
			if (idv.type != jbvBool)
				schema_error(ERRCODE_LJ_INVALID_SCHEMA, st->base, st->ptr, "\"$recursiveAnchor\" must be a boolean");
			if (idv.val.boolean && st->res->root == s)
			{
				st->res->recursive_anchor = true;
				s->recursive_anchor = true;
			}
		}
	}
}

/*
 * One keyword of the applicator vocabulary (and the core, format and
 * definitions keywords, which are read whatever the vocabularies): true
 * when "k" was one of them.
 */
static bool
compile_applicator_keyword(CompileCtx *cc, JsSchema *s, const JsonbValue *v,
						   const JsonbValue *k, const JsonbValue *ev,
						   const SchemaSite *st, LateKeywords *late)
{
	JsonbValue	e = *ev;
	JsResource *res = st->res;
	const char *base = st->base;
	const char *ptr = st->ptr;
	JsDraft		draft = st->draft;
	uint32		vocab = st->vocab;

#define KW(name) key_is(k, name)
#define SUB(kw) compile_schema(cc, &e, res, base, child_ptr(ptr, kw), draft, vocab)
	if (KW("$dynamicRef") && draft == JS_DRAFT2020)
	{
		char	   *frag;

		require_type(&e, e.type == jbvString, base, ptr, "$dynamicRef", "a string");
		s->dynref_text = value_cstring(&e);
		add_pending(cc, s, true, base, s->dynref_text);
		(void) js_uri_strip_fragment(s->dynref_text, &frag);
		if (frag[0] != '\0' && frag[0] != '/')
			s->dynref_anchor = js_uri_percent_decode(frag);
		cc->c->uses_dynamic_scope = true;
	}
	else if (KW("$recursiveRef") && draft == JS_DRAFT2019)
	{
		require_type(&e, e.type == jbvString && key_is(&e, "#"), base, ptr,
					 "$recursiveRef", "\"#\"");
		s->recursive_ref = true;
		cc->c->uses_dynamic_scope = true;
	}
	else if (KW("allOf"))
		s->all_of = schema_array(cc, &e, &s->n_all_of, res, base, ptr, "allOf", draft, vocab, true);
	else if (KW("anyOf"))
		s->any_of = schema_array(cc, &e, &s->n_any_of, res, base, ptr, "anyOf", draft, vocab, true);
	else if (KW("oneOf"))
		s->one_of = schema_array(cc, &e, &s->n_one_of, res, base, ptr, "oneOf", draft, vocab, true);
	else if (KW("not"))
		s->not = SUB("not");
	else if (KW("if") && draft >= JS_DRAFT7)
		s->if_ = SUB("if");
	else if (KW("then") && draft >= JS_DRAFT7)
		s->then_ = SUB("then");
	else if (KW("else") && draft >= JS_DRAFT7)
		s->else_ = SUB("else");
	else if (KW("properties"))
		s->props = schema_map(cc, &e, &s->n_props, res, base, ptr, "properties", draft, vocab);
	else if (KW("patternProperties"))
	{
		JsIter		pit;
		JsonbValue	pk,
					pv;
		int			i = 0;

		require_type(&e, js_is_object(&e), base, ptr, "patternProperties", "an object of schemas");
		js_iter_init(&pit, e.val.binary.data);
		s->pattern_props = palloc0(sizeof(JsPatternProp) * (pit.n + 1));
		while (js_iter_next_pair(&pit, &pk, &pv))
		{
			char	   *p = child_ptr2(ptr, "patternProperties", pk.val.string.val, pk.val.string.len);

			s->pattern_props[i].source = copy_string(&pk);
			s->pattern_props[i].re = compile_pattern(&pk, base, p, "patternProperties");
			s->pattern_props[i].schema = compile_schema(cc, &pv, res, base, p, draft, vocab);
			i++;
		}
		s->n_pattern_props = i;
	}
	else if (KW("additionalProperties"))
		s->additional_props = SUB("additionalProperties");
	else if (KW("propertyNames") && draft >= JS_DRAFT6)
		s->property_names = SUB("propertyNames");
	else if (KW("unevaluatedProperties") && draft >= JS_DRAFT2019)
		s->unevaluated_props = SUB("unevaluatedProperties");
	else if (KW("unevaluatedItems") && draft >= JS_DRAFT2019)
		s->unevaluated_items = SUB("unevaluatedItems");
	else if (KW("dependentSchemas") && draft >= JS_DRAFT2019)
	{
		s->dep_schemas = schema_map(cc, &e, &s->n_dep_schemas, res, base, ptr, "dependentSchemas", draft, vocab);
		s->dep_schemas_kw = "dependentSchemas";
	}
	else if (KW("dependencies") &&
			 (draft <= JS_DRAFT7 ||
			  /* 2019-09+: still understood, unless its successors are there */
			  (!get_member(v, "dependentSchemas", NULL) &&
			   !get_member(v, "dependentRequired", NULL))))
	{
		JsIter		dit;
		JsonbValue	dk,
					dv;
		int			ns = 0,
					nr = 0;

		require_type(&e, js_is_object(&e), base, ptr, "dependencies", "an object");
		js_iter_init(&dit, e.val.binary.data);
		s->dep_schemas = palloc0(sizeof(JsNamed) * (dit.n + 1));
		s->dep_required = palloc0(sizeof(JsDepRequired) * (dit.n + 1));
		while (js_iter_next_pair(&dit, &dk, &dv))
		{
			char	   *p = child_ptr2(ptr, "dependencies", dk.val.string.val, dk.val.string.len);

			if (js_is_array(&dv))
			{
				s->dep_required[nr].name = copy_string(&dk);
				s->dep_required[nr].required = string_array(&dv, &s->dep_required[nr].n, base, p, "dependencies");
				nr++;
			}
			else
			{
				s->dep_schemas[ns].name = copy_string(&dk);
				s->dep_schemas[ns].schema = compile_schema(cc, &dv, res, base, p, draft, vocab);
				ns++;
			}
		}
		s->n_dep_schemas = ns;
		s->n_dep_required = nr;
		s->dep_schemas_kw = s->dep_required_kw = "dependencies";
	}
	else if (KW("prefixItems") && draft == JS_DRAFT2020)
	{
		s->prefix_items = schema_array(cc, &e, &s->n_prefix_items, res, base, ptr, "prefixItems", draft, vocab, true);
		s->prefix_kw = "prefixItems";
	}
	else if (KW("items"))
	{
		if (draft <= JS_DRAFT2019 && js_is_array(&e))
		{
			s->prefix_items = schema_array(cc, &e, &s->n_prefix_items, res, base, ptr, "items", draft, vocab, false);
			s->prefix_kw = "items";
			late->items_array = true;
		}
		else
		{
			s->items = SUB("items");
			s->items_kw = "items";
		}
	}
	else if (KW("additionalItems") && draft <= JS_DRAFT2019)
		late->additional_items = SUB("additionalItems");
	else if (KW("contains") && draft >= JS_DRAFT6)
		s->contains = SUB("contains");
	else if ((KW("$defs") && draft >= JS_DRAFT2019) || KW("definitions"))
	{
		int			n;

		if (js_is_object(&e))
		{
			cc->in_defs = true;
			(void) schema_map(cc, &e, &n, res, base, ptr,
							  KW("$defs") ? "$defs" : "definitions", draft, vocab);
			cc->in_defs = false;
		}
	}

	/* format: annotation, or assertion (format-assertion vocabulary, option) */
	else if (KW("format"))
	{
		if (e.type == jbvString)
			s->format = value_cstring(&e);
	}
	else
		return false;
	return true;
#undef KW
#undef SUB
}

/* One keyword of the validation vocabulary: true when "k" was one of them. */
static bool
compile_validation_keyword(JsSchema *s, const JsonbValue *k, const JsonbValue *ev,
						   const SchemaSite *st, LateKeywords *late)
{
	JsonbValue	e = *ev;
	const char *base = st->base;
	const char *ptr = st->ptr;
	JsDraft		draft = st->draft;

#define KW(name) key_is(k, name)
	if (KW("type"))
	{
		if (js_is_array(&e))
		{
			JsIter		tit;
			JsonbValue	tv;
			StringInfoData names,
						json;

			/* ajv's type error names the array as written (order, repeats) */
			initStringInfo(&names);
			initStringInfo(&json);
			appendStringInfoChar(&json, '[');
			js_iter_init(&tit, e.val.binary.data);
			while (js_iter_next_elem(&tit, &tv))
			{
				s->types |= type_bit(&tv, base, ptr);
				if (names.len)
				{
					appendStringInfoChar(&names, ',');
					appendStringInfoString(&json, ", ");
				}
				appendBinaryStringInfo(&names, tv.val.string.val, tv.val.string.len);
				appendStringInfo(&json, "\"%.*s\"", tv.val.string.len, tv.val.string.val);
			}
			appendStringInfoChar(&json, ']');
			s->type_array_names = names.data;
			s->type_array_json = json.data;
			if (s->types == 0)
				s->types = 0x80;	/* "type": [] accepts nothing */
		}
		else
			s->types = type_bit(&e, base, ptr);
	}
	else if (KW("enum"))
	{
		JsIter		eit;
		JsonbValue	ev;
		int			i = 0;

		require_type(&e, js_is_array(&e), base, ptr, "enum", "an array");
		js_iter_init(&eit, e.val.binary.data);
		s->enum_values = palloc0(sizeof(JsonbValue) * (eit.n + 1));
		while (js_iter_next_elem(&eit, &ev))
			s->enum_values[i++] = ev;
		s->n_enum = i;
		s->enum_array = e;
		if (i == 0)
			s->n_enum = -1;	/* "enum": [] accepts nothing */
	}
	else if (KW("const") && (draft >= JS_DRAFT6 || st->ajv_compat))
	{
		s->has_const = true;
		s->const_value = e;
	}
	else if (KW("multipleOf"))
	{
		s->multiple_of = number_value(&e, base, ptr, "multipleOf");
		if (js_numeric_sign(s->multiple_of) <= 0)
			schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
						 "\"multipleOf\" must be greater than 0");
	}
	else if (KW("maximum"))
		s->maximum = number_value(&e, base, ptr, "maximum");
	else if (KW("minimum"))
		s->minimum = number_value(&e, base, ptr, "minimum");
	else if (KW("exclusiveMaximum"))
	{
		if (draft == JS_DRAFT4)
		{
			require_type(&e, e.type == jbvBool, base, ptr, "exclusiveMaximum", "a boolean");
			late->excl_max_bool = e.val.boolean;
		}
		else
		{
			s->exclusive_maximum = number_value(&e, base, ptr, "exclusiveMaximum");
			s->exclusive_maximum_kw = "exclusiveMaximum";
		}
	}
	else if (KW("exclusiveMinimum"))
	{
		if (draft == JS_DRAFT4)
		{
			require_type(&e, e.type == jbvBool, base, ptr, "exclusiveMinimum", "a boolean");
			late->excl_min_bool = e.val.boolean;
		}
		else
		{
			s->exclusive_minimum = number_value(&e, base, ptr, "exclusiveMinimum");
			s->exclusive_minimum_kw = "exclusiveMinimum";
		}
	}
	else if (KW("maxLength"))
		s->max_length = nonneg_integer(&e, base, ptr, "maxLength");
	else if (KW("minLength"))
		s->min_length = nonneg_integer(&e, base, ptr, "minLength");
	else if (KW("pattern"))
	{
		require_type(&e, e.type == jbvString, base, ptr, "pattern", "a string");
		s->pattern_source = copy_string(&e);
		s->pattern = compile_pattern(&e, base, child_ptr(ptr, "pattern"), "pattern");
	}
	else if (KW("maxItems"))
		s->max_items = nonneg_integer(&e, base, ptr, "maxItems");
	else if (KW("minItems"))
		s->min_items = nonneg_integer(&e, base, ptr, "minItems");
	else if (KW("uniqueItems"))
	{
		require_type(&e, e.type == jbvBool, base, ptr, "uniqueItems", "a boolean");
		s->unique_items = e.val.boolean;
	}
	else if (KW("maxContains") && draft >= JS_DRAFT2019)
		s->max_contains = nonneg_integer(&e, base, ptr, "maxContains");
	else if (KW("minContains") && draft >= JS_DRAFT2019)
		s->min_contains = nonneg_integer(&e, base, ptr, "minContains");
	else if (KW("maxProperties"))
		s->max_props = nonneg_integer(&e, base, ptr, "maxProperties");
	else if (KW("minProperties"))
		s->min_props = nonneg_integer(&e, base, ptr, "minProperties");
	else if (KW("required"))
	{
	{
		s->required = string_array(&e, &s->n_required, base, ptr, "required");
		/* jsonb key order, so that the validator can merge-join them */
		qsort(s->required, s->n_required, sizeof(JsString), jsstring_cmp);
	}
	}
	else if (KW("dependentRequired") && draft >= JS_DRAFT2019)
	{
		JsIter		dit;
		JsonbValue	dk,
					dv;
		int			nr = 0;

		require_type(&e, js_is_object(&e), base, ptr, "dependentRequired", "an object");
		js_iter_init(&dit, e.val.binary.data);
		s->dep_required = palloc0(sizeof(JsDepRequired) * (dit.n + 1));
		while (js_iter_next_pair(&dit, &dk, &dv))
		{
			s->dep_required[nr].name = copy_string(&dk);
			s->dep_required[nr].required = string_array(&dv, &s->dep_required[nr].n, base,
														child_ptr2(ptr, "dependentRequired", dk.val.string.val, dk.val.string.len),
														"dependentRequired");
			nr++;
		}
		s->n_dep_required = nr;
		s->dep_required_kw = "dependentRequired";
	}
	else
		return false;
	return true;
#undef KW
}

/* annotation keywords (meta-data and content vocabularies, 2019-09 on) */
static void
compile_annotation(JsSchema *s, const JsonbValue *k, const JsonbValue *e, JsDraft draft)
{
	static const char *const annotation_keywords[] = {"title", "description",
		"default", "deprecated", "readOnly", "writeOnly", "examples",
	"contentEncoding", "contentMediaType", NULL};

	for (int a = 0; draft >= JS_DRAFT2019 && annotation_keywords[a]; a++)
	{
		if (key_is(k, annotation_keywords[a]))
		{
			if (s->annotation_kw == NULL)
			{
				s->annotation_kw = palloc(sizeof(char *) * 9);
				s->annotation_values = palloc(sizeof(JsonbValue) * 9);
			}
			s->annotation_kw[s->n_annotations] = annotation_keywords[a];
			s->annotation_values[s->n_annotations] = *e;
			s->n_annotations++;
		}
	}
}

/* the summary flags the validator tests before looking at keywords */
static void
compile_summary_flags(JsSchema *s, bool has_ref)
{
	s->needs_eval = (s->unevaluated_props != NULL || s->unevaluated_items != NULL);
	s->has_object_kw = (s->props || s->pattern_props || s->additional_props ||
						s->property_names || s->unevaluated_props || s->required ||
						s->dep_required || s->dep_schemas || s->min_props >= 0 ||
						s->max_props >= 0);
	s->has_array_kw = (s->prefix_items || s->items || s->unevaluated_items ||
					   s->contains || s->min_items >= 0 || s->max_items >= 0 ||
					   s->unique_items);
	s->has_string_kw = (s->min_length >= 0 || s->max_length >= 0 || s->pattern ||
						s->format);
	s->has_number_kw = (s->minimum || s->maximum || s->exclusive_minimum ||
						s->exclusive_maximum || s->multiple_of);
	s->has_refs = (has_ref || s->dynref_text || s->recursive_ref);
	s->has_inplace = (s->all_of || s->any_of || s->one_of || s->not || s->if_);

}

/*
 * Keywords for people filling in forms: "title" (any draft: messages name
 * the field by it) and ajv-errors' "errorMessage" (a string or an object).
 */
static void
compile_form_keyword(JsSchema *s, const JsonbValue *k, const JsonbValue *e)
{
	if (key_is(k, "title") && e->type == jbvString)
		s->title = value_cstring(e);
	else if (key_is(k, "errorMessage") && (e->type == jbvString || js_is_object(e)))
	{
		s->has_error_message = true;
		s->error_message = *e;
	}
}

/*
 * compile_schema records the lexical edge from the schema whose keywords
 * are being compiled (cc->parent) to each subschema, unless it sits under
 * $defs / definitions: validation reaches a definition only by reference.
 */
static JsSchema *compile_schema_body(CompileCtx *cc, const JsonbValue *v, JsResource *res,
									 const char *base, const char *ptr, JsDraft draft, uint32 vocab);

static JsSchema *
compile_schema(CompileCtx *cc, const JsonbValue *v, JsResource *res,
			   const char *base, const char *ptr, JsDraft draft, uint32 vocab)
{
	JsSchema   *parent = cc->parent;
	bool		in_defs = cc->in_defs;
	JsSchema   *s = compile_schema_body(cc, v, res, base, ptr, draft, vocab);

	cc->parent = parent;
	cc->in_defs = in_defs;
	if (parent && !in_defs && !s->is_bool)
	{
		SchemaEdge *e = palloc(sizeof(SchemaEdge));

		e->from = parent;
		e->to = s;
		cc->edges = lappend(cc->edges, e);
	}
	return s;
}

static JsSchema *
compile_schema_body(CompileCtx *cc, const JsonbValue *v, JsResource *res,
					const char *base, const char *ptr, JsDraft draft, uint32 vocab)
{
	JsSchema   *s;
	JsIter		it;
	JsonbValue	k,
				e;
	JsonbValue	idv;
	bool		has_ref;
	SchemaSite	st;
	LateKeywords late;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (cc->depth >= JS_MAX_DEPTH || stack_is_too_deep())
		schema_error(ERRCODE_LJ_TOO_DEEP, base, ptr,
					 "the schema is nested more than %d levels deep", JS_MAX_DEPTH);

	if (v->type == jbvBool)
	{
		s = palloc0(sizeof(JsSchema));
		s->is_bool = true;
		s->bool_value = v->val.boolean;
		s->draft = draft;
		if (res == NULL)
			res = new_resource(cc, base, s, v, draft, vocab);
		s->resource = res;
		s->ptr = ptr;
		return s;
	}
	if (!js_is_object(v))
		schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr,
					 "a schema must be an object or a boolean");

	s = memo_lookup(cc, v->val.binary.data);
	if (s)
		return s;
	s = palloc0(sizeof(JsSchema));
	memo_insert(cc, v->val.binary.data, s);
	cc->all = lappend(cc->all, s);
	s->src = v->val.binary.data;
	cc->depth++;
	cc->parent = s;
	cc->in_defs = false;

	has_ref = get_member(v, "$ref", &idv);

	st.res = res;
	st.base = base;
	st.ptr = ptr;
	st.draft = draft;
	st.vocab = vocab;
	st.ajv_compat = cc->opts->ajv_compat;
	compile_identifiers(cc, s, v, has_ref, &st);
	res = st.res;
	base = st.base;
	ptr = st.ptr;
	draft = st.draft;
	vocab = st.vocab;

	s->resource = res;
	s->ptr = ptr;
	s->draft = draft;
	s->validation = (vocab & JS_VOCAB_VALIDATION) != 0;
	s->format_assert = (vocab & JS_VOCAB_FORMAT_ASSERT) != 0;
	s->min_props = s->max_props = -1;
	s->min_items = s->max_items = -1;
	s->min_length = s->max_length = -1;
	s->min_contains = s->max_contains = -1;

	compile_anchors(s, v, &st);

	if (has_ref)
	{
		get_member(v, "$ref", &idv);
		if (idv.type != jbvString)
			schema_error(ERRCODE_LJ_INVALID_SCHEMA, base, ptr, "\"$ref\" must be a string");
		s->ref_text = value_cstring(&idv);
		s->ajv_ref_only = ajv_ref_only(v);
		add_pending(cc, s, false, base, s->ref_text);
		if (draft <= JS_DRAFT7 && !cc->opts->ajv_compat)
		{
			/* up to draft 7, $ref replaces its siblings (ajv applies them: ajv_compat) */
			s->has_refs = true;
			cc->depth--;
			return s;
		}
	}

	memset(&late, 0, sizeof(late));
	js_iter_init(&it, v->val.binary.data);
	while (js_iter_next_pair(&it, &k, &e))
	{
		compile_annotation(s, &k, &e, draft);
		compile_form_keyword(s, &k, &e);
		if (!compile_applicator_keyword(cc, s, v, &k, &e, &st, &late) && s->validation)
			(void) compile_validation_keyword(s, &k, &e, &st, &late);
	}

	if (late.items_array)
	{
		s->items = late.additional_items;
		s->items_kw = "additionalItems";
	}
	if (late.excl_max_bool && s->maximum)
	{
		s->exclusive_maximum = s->maximum;
		s->exclusive_maximum_kw = "maximum";
		s->maximum = NULL;
	}
	if (late.excl_min_bool && s->minimum)
	{
		s->exclusive_minimum = s->minimum;
		s->exclusive_minimum_kw = "minimum";
		s->minimum = NULL;
	}

	compile_summary_flags(s, has_ref);
	/* the caller's extension keywords (x-rules): compiled in the compiled form's context */
	if (cc->opts->ext_compile)
	{
		s->ext = cc->opts->ext_compile(v, base, ptr, cc->opts->ext_arg);
		if (s->ext)
			cc->c->has_ext = true;
	}
	cc->depth--;
	return s;
}

/* ---------- ajv's view of references (schemaPath of errors) ---------- */

/*
 * Keywords ajv knows without validating anything with them (ajv's
 * RULES.keywords without a definition: core identifiers, $defs, metadata);
 * with $ref only these beside it, a schema is "only a $ref" to ajv
 * (schemaHasRulesButRef in lib/compile/util.ts).  Keywords neither knows
 * (x-...) do not count either.
 */
static bool
ajv_ref_only(const JsonbValue *v)
{
	static const char *const plain[] = {"$ref", "$schema", "$id", "$defs", "definitions", "$vocabulary",
		"$anchor", "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
	NULL};
	JsIter		it;
	JsonbValue	k,
				e;

	js_iter_init(&it, v->val.binary.data);
	while (js_iter_next_pair(&it, &k, &e))
	{
		bool		known = k.val.string.len >= 2 && strncmp(k.val.string.val, "x-", 2) == 0;

		for (int i = 0; !known && plain[i]; i++)
			known = key_is(&k, plain[i]);
		if (!known)
			return false;
	}
	return true;
}

/* does the JSON hold a key of ajv's REF_KEYWORDS anywhere (hasRef, lib/compile/resolve.ts)? */
static bool
json_has_ref_keyword(JsonbContainer *jc, int depth)
{
	static const char *const refkw[] = {"$ref", "$recursiveRef", "$recursiveAnchor", "$dynamicRef",
	"$dynamicAnchor", NULL};
	JsIter		it;
	JsonbValue	k,
				e;

	check_stack_depth();
	js_iter_init(&it, jc);
	if (JsonContainerIsObject(jc))
	{
		while (js_iter_next_pair(&it, &k, &e))
		{
			for (int i = 0; refkw[i]; i++)
				if (key_is(&k, refkw[i]))
					return true;
			if (e.type == jbvBinary && json_has_ref_keyword(e.val.binary.data, depth + 1))
				return true;
		}
	}
	else
		while (js_iter_next_elem(&it, &e))
			if (e.type == jbvBinary && json_has_ref_keyword(e.val.binary.data, depth + 1))
				return true;
	return false;
}

/* ---------- reference resolution ---------- */

static PosKind
next_kind(PosKind kind, const char *tok, const JsonbValue *child)
{
	static const char *const maps[] = {"properties", "patternProperties", "$defs",
	"definitions", "dependentSchemas", "dependencies", NULL};
	static const char *const arrays[] = {"allOf", "anyOf", "oneOf", "prefixItems", NULL};
	static const char *const singles[] = {"additionalProperties", "additionalItems",
		"not", "if", "then", "else", "contains", "propertyNames",
	"unevaluatedProperties", "unevaluatedItems", NULL};
	int			i;

	switch (kind)
	{
		case POS_SCHEMA_MAP:
		case POS_SCHEMA_ARRAY:
			return POS_SCHEMA;
		case POS_OTHER:
			return POS_OTHER;
		case POS_SCHEMA:
			for (i = 0; maps[i]; i++)
				if (strcmp(tok, maps[i]) == 0)
					return POS_SCHEMA_MAP;
			for (i = 0; arrays[i]; i++)
				if (strcmp(tok, arrays[i]) == 0)
					return POS_SCHEMA_ARRAY;
			if (strcmp(tok, "items") == 0)
				return js_is_array(child) ? POS_SCHEMA_ARRAY : POS_SCHEMA;
			for (i = 0; singles[i]; i++)
				if (strcmp(tok, singles[i]) == 0)
					return POS_SCHEMA;
			return POS_OTHER;
	}
	return POS_OTHER;
}

static JsSchema *
walk_pointer(CompileCtx *cc, JsResource *r, const char *pointer,
			 const char *ref_base, const char *ref_ptr, const char *target)
{
	JsonbValue	cur = r->root_value;
	JsResource *res = r;
	const char *base = r->uri;
	JsDraft		draft = r->draft;
	uint32		vocab = r->vocab;
	char	   *path = pstrdup("");
	PosKind		kind = POS_SCHEMA;
	const char *p = pointer;
	JsSchema   *known;

	while (*p == '/')
	{
		const char *end = strchr(p + 1, '/');
		int			len = end ? end - (p + 1) : strlen(p + 1);
		StringInfoData tok;
		int			i;
		JsonbValue	child;
		bool		found = false;

		CHECK_FOR_INTERRUPTS();
		initStringInfo(&tok);
		for (i = 0; i < len; i++)
		{
			char		c = p[1 + i];

			if (c == '~' && i + 1 < len && p[2 + i] == '1')
			{
				appendStringInfoChar(&tok, '/');
				i++;
			}
			else if (c == '~' && i + 1 < len && p[2 + i] == '0')
			{
				appendStringInfoChar(&tok, '~');
				i++;
			}
			else
				appendStringInfoChar(&tok, c);
		}
		if (js_is_object(&cur))
			found = js_object_find(cur.val.binary.data, tok.data, tok.len, &child);
		else if (js_is_array(&cur))
		{
			char	   *endp;
			long		idx = strtol(tok.data, &endp, 10);

			if (tok.len > 0 && *endp == '\0' && isdigit((unsigned char) tok.data[0]))
				found = js_array_get(cur.val.binary.data, (int) idx, &child);
		}
		if (!found)
		{
			ref_failure(cc, ref_base, ref_ptr,
						psprintf("cannot resolve \"$ref\": \"%s\": no such location", target));
			return NULL;
		}
		kind = next_kind(kind, tok.data, &child);
		path = psprintf("%s/%s", path, pointer_escape(tok.data, tok.len));
		cur = child;
		if (kind == POS_SCHEMA && js_is_object(&cur))
		{
			known = memo_lookup(cc, cur.val.binary.data);
			if (known)
			{
				res = known->resource;
				base = res->uri;
				draft = known->draft;
				vocab = (known->validation ? JS_VOCAB_VALIDATION : 0) |
					(known->format_assert ? JS_VOCAB_FORMAT_ASSERT : 0) |
					JS_VOCAB_APPLICATOR;
				path = pstrdup(known->ptr);
			}
		}
		p = p + 1 + len;
	}
	if (js_is_object(&cur) && (known = memo_lookup(cc, cur.val.binary.data)) != NULL)
		return known;
	return compile_schema(cc, &cur, res, base, path, draft, vocab);
}

static JsSchema *
resolve_target(CompileCtx *cc, PendingRef *p)
{
	char	   *frag;
	char	   *docuri = js_uri_strip_fragment(p->target, &frag);
	JsResource *r = find_resource(cc, docuri);
	const char *ref_base = p->owner->resource->uri;
	const char *ref_ptr = p->owner->ptr;
	ListCell   *lc;

	if (r == NULL)
	{
		Jsonb	   *doc = load_document(cc, docuri);
		JsonbValue	root;
		JsSchema   *s;

		if (doc == NULL)
		{
			ref_failure(cc, ref_base, ref_ptr,
						psprintf("cannot resolve \"%s\": no schema or registered document has the URI \"%s\"",
								 p->target, docuri));
			return NULL;
		}
		js_root_value(doc, &root);
		s = compile_schema(cc, &root, NULL, docuri, "", p->owner->draft, JS_VOCAB_DEFAULT);
		r = find_resource(cc, docuri);
		if (r == NULL)
			r = new_resource(cc, docuri, s, &root, s->draft,
							 s->resource->vocab);
	}
	frag = js_uri_percent_decode(frag);
	if (frag[0] == '\0')
		return r->root;
	if (frag[0] == '/')
		return walk_pointer(cc, r, frag, ref_base, ref_ptr, p->target);
	foreach(lc, r->anchors)
	{
		JsAnchor   *a = lfirst(lc);

		if (strcmp(a->name, frag) == 0)
			return a->schema;
	}
	ref_failure(cc, ref_base, ref_ptr,
				psprintf("cannot resolve \"%s\": no anchor \"%s\" in %s",
						 p->target, frag, docuri[0] ? psprintf("\"%s\"", docuri) : "the schema"));
	return NULL;
}

/* ---------- cycles without progress ---------- */

typedef struct CycleState
{
	HTAB	   *state;			/* JsSchema* -> 1 visiting, 2 done */
	int			depth;
} CycleState;

typedef struct CycleEntry
{
	JsSchema   *key;
	int			state;
} CycleEntry;

static void check_cycles(CycleState *cs, JsSchema *s);

static void
check_cycle_edge(CycleState *cs, JsSchema *from, JsSchema *to, const char *kw)
{
	CycleEntry *e;

	if (to == NULL || to->is_bool)
		return;
	e = hash_search(cs->state, &to, HASH_FIND, NULL);
	if (e && e->state == 1)
	{
		if (from->always_entered)
			schema_error(ERRCODE_LJ_REF_CYCLE, from->resource->uri, from->ptr,
						 "\"%s\" leads back to \"%s#%s\" without moving into the instance: the validation would never end",
						 kw, to->resource->uri, to->ptr);

		/*
		 * Entered only for some instances (under "properties", say) or never:
		 * kept, raised if validation enters it (as ajv, whose validation
		 * would overflow its stack there)
		 */
		if (from->deferred_error == NULL)
		{
			from->deferred_error =
				psprintf("invalid JSON Schema at \"%s\": \"%s\" leads back to \"%s#%s\" without moving into the instance: the validation would never end",
						 location_text(from->resource->uri, from->ptr), kw, to->resource->uri, to->ptr);
			from->deferred_sqlstate = ERRCODE_LJ_REF_CYCLE;
		}
		return;
	}
	if (e == NULL)
		check_cycles(cs, to);
}

static void
check_cycles(CycleState *cs, JsSchema *s)
{
	bool		found;
	CycleEntry *e;
	int			i;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (cs->depth >= JS_MAX_DEPTH)
		schema_error(ERRCODE_LJ_TOO_DEEP, s->resource->uri, s->ptr,
					 "references are chained more than %d levels deep", JS_MAX_DEPTH);
	e = hash_search(cs->state, &s, HASH_ENTER, &found);
	e->state = 1;
	cs->depth++;
	check_cycle_edge(cs, s, s->ref, "$ref");
	check_cycle_edge(cs, s, s->dynref, "$dynamicRef");
	for (i = 0; i < s->n_all_of; i++)
		check_cycle_edge(cs, s, s->all_of[i], "allOf");
	for (i = 0; i < s->n_any_of; i++)
		check_cycle_edge(cs, s, s->any_of[i], "anyOf");
	for (i = 0; i < s->n_one_of; i++)
		check_cycle_edge(cs, s, s->one_of[i], "oneOf");
	check_cycle_edge(cs, s, s->not, "not");
	check_cycle_edge(cs, s, s->if_, "if");
	check_cycle_edge(cs, s, s->then_, "then");
	check_cycle_edge(cs, s, s->else_, "else");
	for (i = 0; i < s->n_dep_schemas; i++)
		check_cycle_edge(cs, s, s->dep_schemas[i].schema, s->dep_schemas_kw);
	cs->depth--;
	e = hash_search(cs->state, &s, HASH_FIND, NULL);
	e->state = 2;
}

/* ---------- reachability ---------- */

typedef struct ReachEntry
{
	JsSchema   *key;
	List	   *out;			/* JsSchema * */
} ReachEntry;

/* mark every schema validation can reach from root (lexical and reference edges) */
static void
mark_reachable(CompileCtx *cc, JsSchema *root)
{
	HASHCTL		hctl;
	HTAB	   *adj;
	ListCell   *lc;
	List	   *todo;

	if (root->is_bool)
		return;
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(JsSchema *);
	hctl.entrysize = sizeof(ReachEntry);
	hctl.hcxt = CurrentMemoryContext;
	adj = hash_create("jsonschema reachability", 64, &hctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, cc->edges)
	{
		SchemaEdge *e = lfirst(lc);
		bool		found;
		ReachEntry *r = hash_search(adj, &e->from, HASH_ENTER, &found);

		if (!found)
			r->out = NIL;
		r->out = lappend(r->out, e->to);
	}
	root->reachable = true;
	todo = list_make1(root);
	while (todo != NIL)
	{
		JsSchema   *s = llast(todo);
		ReachEntry *r;

		todo = list_delete_last(todo);
		CHECK_FOR_INTERRUPTS();
		r = hash_search(adj, &s, HASH_FIND, NULL);
		if (r == NULL)
			continue;
		foreach(lc, r->out)
		{
			JsSchema   *t = lfirst(lc);

			if (!t->reachable)
			{
				t->reachable = true;
				todo = lappend(todo, t);
			}
		}
	}
	hash_destroy(adj);
}

/*
 * Mark the schemas every validation enters: the root and what in-place
 * applicators and references lead to from it (the edges of check_cycles).
 * A cycle there is an error whatever the instance.
 */
static void
mark_always_entered(JsSchema *s, int depth)
{
	int			i;

	if (s == NULL || s->is_bool || s->always_entered || depth >= JS_MAX_DEPTH)
		return;
	check_stack_depth();
	s->always_entered = true;
	mark_always_entered(s->ref, depth + 1);
	mark_always_entered(s->dynref, depth + 1);
	for (i = 0; i < s->n_all_of; i++)
		mark_always_entered(s->all_of[i], depth + 1);
	for (i = 0; i < s->n_any_of; i++)
		mark_always_entered(s->any_of[i], depth + 1);
	for (i = 0; i < s->n_one_of; i++)
		mark_always_entered(s->one_of[i], depth + 1);
	mark_always_entered(s->not, depth + 1);
	mark_always_entered(s->if_, depth + 1);
	mark_always_entered(s->then_, depth + 1);
	mark_always_entered(s->else_, depth + 1);
}

/* ---------- entry points ---------- */

static JsCompiled *
compile_document(Jsonb *schema, const JsCompileOptions *opts)
{
	MemoryContext mcxt;
	MemoryContext old;
	JsCompiled *c;
	CompileCtx	cc;
	HASHCTL		hctl;
	JsonbValue	root;
	ListCell   *lc;

	/*
	 * Build in a context below the caller's, so that an error frees it; the
	 * caller reparents it to keep the result.
	 */
	mcxt = AllocSetContextCreate(CurrentMemoryContext, "jsonschema compiled",
								 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(mcxt);

	c = palloc0(sizeof(JsCompiled));
	c->mcxt = mcxt;
	c->schema = (Jsonb *) palloc(VARSIZE(schema));
	memcpy(c->schema, schema, VARSIZE(schema));

	memset(&cc, 0, sizeof(cc));
	cc.c = c;
	cc.opts = opts;
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(JsonbContainer *);
	hctl.entrysize = sizeof(MemoEntry);
	hctl.hcxt = mcxt;
	cc.memo = hash_create("jsonschema compile memo", 64, &hctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	js_root_value(c->schema, &root);
	c->root = compile_schema(&cc, &root, NULL, "",
							 "", opts->default_draft ? opts->default_draft : JS_DRAFT2020,
							 JS_VOCAB_DEFAULT);

	/*
	 * The list grows while it is walked: resolving may compile more.  A
	 * reference that does not resolve is kept on its owner for now.
	 */
	cc.parent = NULL;
	for (int i = 0; i < list_length(cc.pending); i++)
	{
		PendingRef *p = list_nth(cc.pending, i);
		JsSchema   *t;

		CHECK_FOR_INTERRUPTS();
		cc.ref_failure = pstrdup("");
		t = resolve_target(&cc, p);
		if (t == NULL)
		{
			if (p->owner->deferred_error == NULL)
			{
				p->owner->deferred_error = cc.ref_failure;
				p->owner->deferred_sqlstate = ERRCODE_LJ_UNRESOLVED_REF;
			}
		}
		else if (!t->is_bool)
		{
			SchemaEdge *e = palloc(sizeof(SchemaEdge));

			e->from = p->owner;
			e->to = t;
			cc.edges = lappend(cc.edges, e);
		}
		cc.ref_failure = NULL;
		if (p->dynamic)
			p->owner->dynref = t;
		else
			p->owner->ref = t;
		/* ajv inlines a target without references (ajv's inlineRef, inlineRefs: true) */
		if (t && !t->ajv_inline_known)
		{
			t->ajv_inline_known = true;
			t->ajv_inline = t->is_bool || t->src == NULL || !json_has_ref_keyword(t->src, 0);
		}
	}
	mark_reachable(&cc, c->root);
	/* a broken reference that validation can reach is an error, as before */
	foreach(lc, cc.all)
	{
		JsSchema   *sch = lfirst(lc);

		if (sch->deferred_error && sch->reachable)
		{
			if (compile_error_pointer)
				strlcpy(compile_error_pointer, sch->ptr, JS_ERROR_POINTER_SIZE);
			ereport(ERROR, (errcode(sch->deferred_sqlstate), errmsg_internal("%s", sch->deferred_error)));
		}
	}

	/* check every compiled object schema for cycles, in a stable order */
	mark_always_entered(c->root, 0);
	{
		CycleState	cs;

		memset(&hctl, 0, sizeof(hctl));
		hctl.keysize = sizeof(JsSchema *);
		hctl.entrysize = sizeof(CycleEntry);
		hctl.hcxt = mcxt;
		cs.state = hash_create("jsonschema cycle check", 64, &hctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		cs.depth = 0;
		foreach(lc, cc.all)
		{
			JsSchema   *sch = lfirst(lc);

			if (hash_search(cs.state, &sch, HASH_FIND, NULL) == NULL)
				check_cycles(&cs, sch);
		}
		hash_destroy(cs.state);
	}
	foreach(lc, cc.all)
	{
		JsSchema   *sch = lfirst(lc);

		if (sch->deferred_error)
			c->warnings = lappend(c->warnings, (char *) sch->deferred_error);
	}
	hash_destroy(cc.memo);

	/* the fast path's plan, kept with the compiled form (js_fast.c) */
	c->fast = js_fast_compile(c);

	MemoryContextSwitchTo(old);
	return c;
}

JsCompiled *
js_compile(Jsonb *schema, const JsCompileOptions *opts)
{
	char	   *saved = compile_error_pointer;
	JsCompiled *c;

	compile_error_pointer = opts->error_pointer;
	PG_TRY();
	{
		c = compile_document(schema, opts);
	}
	PG_FINALLY();
	{
		compile_error_pointer = saved;
	}
	PG_END_TRY();
	return c;
}

/* the draft a schema declares with $schema (known drafts only) */
JsDraft
js_dialect_of(Jsonb *schema, JsDraft default_draft)
{
	JsonbValue	root;
	char	   *s;

	js_root_value(schema, &root);
	if (get_string_member(&root, "$schema", &s))
	{
		JsDraft		d = known_dialect(s);

		if (d != JS_DRAFT_NONE)
			return d;
	}
	return default_draft;
}
