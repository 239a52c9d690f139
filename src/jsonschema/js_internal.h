/*-------------------------------------------------------------------------
 *
 * js_internal.h
 *	  Private header of the JSON Schema component (src/jsonschema/): the
 *	  compiled form, the jsonb readers, URIs, format checkers and the SQL
 *	  glue's set-up.  Other components use jsonschema.h only.
 *
 * A schema (jsonb) is compiled once into a tree of JsSchema nodes: keyword
 * values are parsed, property names sorted the way jsonb sorts object keys
 * (so that "properties" is matched by a merge join, without lookups),
 * regular expressions compiled, and every $ref resolved to the node it
 * points to.  The validator walks that tree over a jsonb instance, reading
 * the instance's containers in place (no JsonbIterator, no per-value
 * palloc on the success path).
 *
 * This core is pure: it uses palloc, StringInfo, ereport, jsonb and numeric
 * only.  Documents other than the schema itself are reached through the
 * loader callback given to js_compile() (see jsonschema.h, "The document
 * store", for the SQL side).
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#ifndef JS_INTERNAL_H
#define JS_INTERNAL_H

#include "utils/numeric.h"

#include "jsonschema/jsonschema.h"
#include "lc/lc_regex.h"

/* Nesting limit of schemas and of validation (own limit, below the stack's) */
#define JS_MAX_DEPTH	2000
/* Nesting limit of evaluation (schema levels crossed); the stack usually ends it first */
#define JS_MAX_EVAL_DEPTH	100000

/* vocabulary flags of a dialect (custom metaschemas may drop some) */
#define JS_VOCAB_VALIDATION		0x01
#define JS_VOCAB_APPLICATOR		0x02
#define JS_VOCAB_FORMAT_ASSERT	0x04
#define JS_VOCAB_DEFAULT		(JS_VOCAB_VALIDATION | JS_VOCAB_APPLICATOR)

/* instance type bits of "type" */
#define JS_T_NULL		0x01
#define JS_T_BOOLEAN	0x02
#define JS_T_OBJECT		0x04
#define JS_T_ARRAY		0x08
#define JS_T_NUMBER		0x10
#define JS_T_STRING		0x20
#define JS_T_INTEGER	0x40

typedef struct JsAnchor
{
	char	   *name;
	JsSchema   *schema;
	bool		dynamic;		/* $dynamicAnchor (also usable as plain anchor) */
} JsAnchor;

/* A schema resource: a schema with its own base URI ($id or document) */
typedef struct JsResource
{
	char	   *uri;			/* absolute URI without fragment; "" if none */
	JsSchema   *root;
	JsonbValue	root_value;		/* the resource's JSON, for JSON pointers */
	JsDraft		draft;
	uint32		vocab;
	bool		recursive_anchor;	/* 2019-09 $recursiveAnchor: true */
	List	   *anchors;		/* of JsAnchor */
} JsResource;

typedef struct JsString
{
	const char *s;
	int			len;
} JsString;

typedef struct JsNamed			/* properties, dependentSchemas */
{
	JsString	name;
	JsSchema   *schema;
} JsNamed;

typedef struct JsPatternProp
{
	JsString	source;
	LcRegex    *re;
	JsSchema   *schema;
} JsPatternProp;

typedef struct JsDepRequired
{
	JsString	name;
	int			n;
	JsString   *required;
} JsDepRequired;

struct JsSchema
{
	JsResource *resource;
	const char *ptr;			/* JSON pointer of this schema in its resource */
	JsDraft		draft;
	bool		is_bool;
	bool		bool_value;
	bool		format_assert;	/* the dialect's vocabulary asserts formats */
	bool		needs_eval;		/* has unevaluatedProperties/Items */
	bool		validation;		/* validation vocabulary active */
	bool		recursive_anchor;
	const char *dynamic_anchor;

	uint32		types;			/* JS_T_* mask; 0 when no "type" */
	/*
	 * "type" given as an array: the array as written (JSON text) and its
	 * names joined by ",", in the schema's order, for the error's params and
	 * message, as ajv reports them (NULL for a single type name).
	 */
	const char *type_array_json;
	const char *type_array_names;
	bool		has_object_kw;	/* any keyword applying to objects */
	bool		has_array_kw;
	bool		has_string_kw;
	bool		has_number_kw;
	bool		has_refs;		/* $ref, $dynamicRef or $recursiveRef */
	bool		has_inplace;	/* allOf, anyOf, oneOf, not or if */

	/*
	 * A reference that does not resolve, or a cycle without progress, in a
	 * part of the schema no validation reaches from the root: the error is
	 * kept and raised only if validation enters this schema (as ajv, which
	 * compiles only what is reachable); jsonschema_check reports it as a
	 * warning.
	 */
	const char *deferred_error;
	int			deferred_sqlstate;
	bool		reachable;		/* from the root (compile time only) */
	bool		always_entered;	/* by every validation (compile time only) */

	/* references */
	JsSchema   *ref;
	const char *ref_text;

	/*
	 * ajv's schemaPath through $ref (lib/vocabularies/core/ref.ts,
	 * lib/compile/index.ts): a $ref whose JSON pointer names a schema that
	 * is only a $ref (no other keyword ajv validates) goes on to that one's
	 * target; a target without any reference keyword inside is inlined, its
	 * errors' schemaPath starting with the $ref as written; any other is a
	 * function of its own, its paths starting at "#".
	 */
	bool		ajv_ref_only;	/* $ref and no keyword ajv validates beside it */
	bool		ajv_inline_known;
	bool		ajv_inline;		/* no reference keyword anywhere inside */
	JsonbContainer *src;		/* the schema's JSON (compile time only) */
	JsSchema   *dynref;
	const char *dynref_text;
	const char *dynref_anchor;	/* the anchor name, when it may be dynamic */
	bool		recursive_ref;

	/* in-place applicators */
	JsSchema  **all_of;
	int			n_all_of;
	JsSchema  **any_of;
	int			n_any_of;
	JsSchema  **one_of;
	int			n_one_of;
	JsSchema   *not;
	JsSchema   *if_;
	JsSchema   *then_;
	JsSchema   *else_;
	JsNamed    *dep_schemas;
	int			n_dep_schemas;
	const char *dep_schemas_kw;

	/* objects */
	JsNamed    *props;			/* sorted as jsonb sorts keys */
	int			n_props;
	JsPatternProp *pattern_props;
	int			n_pattern_props;
	JsSchema   *additional_props;
	JsSchema   *property_names;
	JsSchema   *unevaluated_props;
	JsString   *required;
	int			n_required;
	JsDepRequired *dep_required;
	int			n_dep_required;
	const char *dep_required_kw;
	int64		min_props;		/* -1 when absent */
	int64		max_props;

	/* arrays */
	JsSchema  **prefix_items;
	int			n_prefix_items;
	const char *prefix_kw;		/* "prefixItems" or "items" (array form) */
	JsSchema   *items;			/* applies after the prefix */
	const char *items_kw;		/* "items" or "additionalItems" */
	JsSchema   *unevaluated_items;
	JsSchema   *contains;
	int64		min_contains;	/* -1 when absent */
	int64		max_contains;
	int64		min_items;
	int64		max_items;
	bool		unique_items;

	/* numbers */
	Numeric		minimum;
	Numeric		maximum;
	Numeric		exclusive_minimum;
	Numeric		exclusive_maximum;
	const char *exclusive_minimum_kw;	/* draft 4: "minimum" */
	const char *exclusive_maximum_kw;
	Numeric		multiple_of;

	/* strings */
	int64		min_length;
	int64		max_length;
	LcRegex    *pattern;
	JsString	pattern_source;
	const char *format;

	/* any type */
	bool		has_const;
	JsonbValue	const_value;
	JsonbValue *enum_values;
	int			n_enum;
	JsonbValue	enum_array;

	/* annotation keywords (title, readOnly, ...) reported by "basic" output */
	int			n_annotations;
	const char **annotation_kw;
	JsonbValue *annotation_values;

	/* an extension keyword's compiled form (the registry's x-rules), or NULL */
	void	   *ext;

	/* "title" (any draft), for messages a person reads (JsValidateOptions.titles) */
	const char *title;

	/* ajv-errors' "errorMessage" (a string or an object), when present */
	bool		has_error_message;
	JsonbValue	error_message;

	/* this schema's node of the fast path's plan (js_fast.c), or NULL */
	void	   *fast;
};

typedef struct JsBuiltinDocument
{
	const char *uri;
	const char *json;
} JsBuiltinDocument;

extern const JsBuiltinDocument js_builtin_documents[];

/* js_uri.c */
extern char *js_uri_resolve(const char *base, const char *ref);
extern char *js_uri_strip_fragment(const char *uri, char **fragment);
extern char *js_uri_percent_decode(const char *s);
extern bool js_uri_is_absolute(const char *uri);

/* js_jsonb.c: reading jsonb containers in place (declared in jsonschema.h) */

/* js_format.c: the "format" checkers (pure, no ereport for bad values) */
/*
 * Is "value" (UTF-8, "len" bytes) valid for "format"?  When the format is
 * not one this file checks, *known is set to false and the value is valid
 * (the specification says unknown formats must not fail validation).
 */
extern bool js_format_check(const char *format, const char *value, int len,
							bool *known);

/* js_validate.c: the full validator in flag mode on a subschema (the plan's FULL nodes) */
extern bool js_eval_flag(JsSchema *s, const JsonbValue *inst,
						 const JsValidateOptions *opts, int depth);

/*
 * js_fast.c: the fast path.  js_fast_compile() builds the plan of a compiled
 * schema (NULL when it would not help), in the current memory context;
 * js_fast_validate() answers FAST_VALID, FAST_INVALID or FAST_UNKNOWN (the
 * full validator decides).
 */
#define FAST_INVALID	0
#define FAST_VALID		1
#define FAST_UNKNOWN	(-1)

/* lowcode.jsonschema_fast_path */
#define JS_FAST_OFF		0
#define JS_FAST_ON		1
#define JS_FAST_CHECK	2
extern int	js_fast_path_mode;

extern JsFastPlan *js_fast_compile(JsCompiled *c);
extern int	js_fast_validate(JsFastPlan *plan, Jsonb *instance, const JsValidateOptions *opts);

/* js_sql.c, js_store.c: the SQL glue (not pure) */
extern int	jsonschema_cache_size;	/* lowcode.jsonschema_cache_size */
extern void js_sql_init(void);
extern void js_store_init(void);

#endif							/* JS_INTERNAL_H */
