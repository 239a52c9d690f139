/*-------------------------------------------------------------------------
 *
 * registry_rules.c
 *	  Cross-field rules of registered schemas ("x-rules"), at any level of
 *	  a schema, as an extension keyword of the JSON Schema validator.
 *
 * Modelled on Kubernetes' x-kubernetes-validations: a rule is a CEL
 * expression standing in any schema object; it is evaluated wherever that
 * schema applies (the root, properties, array items, additionalProperties,
 * $defs reached by $ref, the branches of oneOf/anyOf/if: the validator
 * calls registry_rules_validate from the same walk as its own keywords, so
 * a rule inside a oneOf branch decides that branch), with `self` bound to
 * the value at that level.  When that value is an object, its keys are
 * variables too (the names rules used before `self` existed).
 *
 * Transition rules read `oldSelf`, the value at the same place in the
 * stored submission being updated; they are skipped on create, and where
 * no old value corresponds (a new key, a place under an array index).
 * Ratcheting: on an update, a value equal to the old one at its place was
 * accepted before and is not judged again, so an unchanged value that an
 * older version accepted does not block an update of other fields.
 *
 * Each rule may carry message (text) or messageExpression (CEL giving the
 * text), reason (FieldValueInvalid, FieldValueForbidden, FieldValueRequired,
 * FieldValueDuplicate), fieldPath (where the error lands, a JSON Pointer or
 * a Kubernetes-style ".a.b['c']" path, relative to the level) and severity
 * ("error", the default, or "warning": reported, not rejecting).
 *
 * Registration compiles the schema with the same hook in checking mode
 * (lowcode.registry_check_rules), which refuses any malformed rule with
 * LG011 and the rule's JSON Pointer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"

#include "cel/cel_jsonb.h"
#include "cel/cel.h"
#include "jsonschema/jsonschema.h"
#include "lc/lc_http.h"
#include "metrics/metrics.h"
#include "quota/quota.h"
#include "rules/rules.h"
#include "registry/registry_rules.h"

typedef struct RegRule
{
	char	   *rule;
	CelProgram *prog;
	bool		transition;		/* reads oldSelf */
	bool		calls_sql;		/* calls registered SQL functions: evaluated in a subtransaction */
	char	   *message;
	CelProgram *message_expr;
	bool		message_calls_sql;
	char	   *reason;
	char	   *field_ptr;		/* JSON Pointer relative to the level, "" for the level itself */
	bool		warning;
	char	   *kw_path;		/* "x-rules/<n>" */
} RegRule;

typedef struct RegRules
{
	int			n;
	RegRule    *rules;
} RegRules;

/* checking mode (registration): what to name in errors */
typedef struct RegRulesCheck
{
	const char *subject;
	Jsonb	   *root;			/* the schema registered: local $ref targets */
} RegRulesCheck;

/* the type environment of one level: its schema, and the document for local references */
typedef struct LevelTypes
{
	RegRulesCheck *chk;
	bool		local_refs;		/* the level is in the registered document itself */
	JsonbValue	level;
} LevelTypes;

static const char *const reasons[] = {
	"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate", NULL
};

static const char *const rule_keys[] = {
	"rule", "message", "messageExpression", "reason", "fieldPath", "path", "severity", NULL
};

static pg_attribute_noreturn() void
rule_error(RegRulesCheck *chk, const char *where, const char *details, const char *fmt,...)
	pg_attribute_printf(4, 5);

static void
rule_error(RegRulesCheck *chk, const char *where, const char *details, const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

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
	lc_raise_http(422, "LG011",
				  psprintf("x-rules item %s of subject %s: %s", where, chk->subject, buf.data),
				  details,
				  "A rule is {\"rule\": <CEL>, \"message\" or \"messageExpression\", \"reason\", \"fieldPath\", \"severity\": \"error\" or \"warning\"}; see docs/registry.md.",
				  NULL);
}

static char *
pointer_escape(const char *s, int len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '~')
			appendStringInfoString(&buf, "~0");
		else if (s[i] == '/')
			appendStringInfoString(&buf, "~1");
		else
			appendStringInfoChar(&buf, s[i]);
	}
	return buf.data;
}

/*
 * fieldPath: a JSON Pointer ("/a/b"), or Kubernetes' form (".a.b",
 * ".a['b.c']", ".list[2]"), relative to the level; as a JSON Pointer, or
 * NULL when it is neither.
 */
static char *
field_path_pointer(const char *fp)
{
	StringInfoData buf;
	const char *p = fp;

	if (fp[0] == '\0' || fp[0] == '/')
	{
		/* a JSON Pointer: "~" only as ~0 or ~1 */
		for (const char *q = fp; *q; q++)
			if (*q == '~' && q[1] != '0' && q[1] != '1')
				return NULL;
		return pstrdup(fp);
	}
	initStringInfo(&buf);
	while (*p)
	{
		if (*p == '.')
		{
			const char *start = ++p;

			while (*p && *p != '.' && *p != '[')
			{
				if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '$'))
					return NULL;
				p++;
			}
			if (p == start)
				return NULL;
			appendStringInfoChar(&buf, '/');
			appendStringInfoString(&buf, pointer_escape(start, p - start));
		}
		else if (*p == '[')
		{
			p++;
			if (*p == '\'' || *p == '"')
			{
				char		q = *p++;
				const char *start = p;

				while (*p && *p != q)
					p++;
				if (*p != q || p[1] != ']')
					return NULL;
				appendStringInfoChar(&buf, '/');
				appendStringInfoString(&buf, pointer_escape(start, p - start));
				p += 2;
			}
			else
			{
				const char *start = p;

				while (isdigit((unsigned char) *p))
					p++;
				if (p == start || *p != ']')
					return NULL;
				appendStringInfo(&buf, "/%.*s", (int) (p - start), start);
				p++;
			}
		}
		else
			return NULL;
	}
	return buf.data;
}

static char *
member_string(JsonbContainer *obj, const char *key, RegRulesCheck *chk, const char *where)
{
	JsonbValue	v;

	if (!js_object_find(obj, key, strlen(key), &v))
		return NULL;
	if (v.type != jbvString)
	{
		if (chk)
			rule_error(chk, where, NULL, "\"%s\" must be a string", key);
		return NULL;
	}
	return pnstrdup(v.val.string.val, v.val.string.len);
}

/* the details of LG011: [{"message", "position"}, ...] */
static char *
problems_json(const CelParseError *problems, int n)
{
	StringInfoData d;

	initStringInfo(&d);
	appendStringInfoChar(&d, '[');
	for (int i = 0; i < n; i++)
	{
		appendStringInfoString(&d, i ? ", {\"message\": " : "{\"message\": ");
		escape_json(&d, problems[i].message);
		appendStringInfo(&d, ", \"position\": %d}", problems[i].pos);
	}
	appendStringInfoChar(&d, ']');
	return d.data;
}

/* parse a CEL text of a rule; in checking mode, refuse syntax errors and unknown functions */
static CelProgram *
parse_cel(const char *src, const char *what, RegRulesCheck *chk, const char *where, bool *calls_sql)
{
	CelProgram *prog = cel_sql_parse(src, strlen(src));
	CelParseError *problems = NULL;
	int			n;

	if (prog->error)
	{
		int			line,
					col;

		if (chk)
		{
			char	   *msg = cel_format_parse_error(prog, &line, &col);
			StringInfoData d;

			initStringInfo(&d);
			appendStringInfoString(&d, "[{\"message\": ");
			escape_json(&d, msg);
			appendStringInfo(&d, ", \"position\": %d, \"line\": %d, \"column\": %d}]",
							 prog->error->pos, line, col);
			/* the form the documentation once showed: say what to write instead */
			if (strstr(prog->error->message, "has()") != NULL)
				rule_error(chk, where, d.data, "%s is not a valid CEL expression: has() takes a field selection; test an optional field with has(self.field)", what);
			rule_error(chk, where, d.data, "%s is not a valid CEL expression", what);
		}
		return NULL;
	}
	*calls_sql = cel_sql_unknown_calls(prog, false, &problems) > 0;
	if (chk && *calls_sql)
	{
		n = cel_sql_unknown_calls(prog, true, &problems);
		if (n > 0)
		{
			rule_error(chk, where, problems_json(problems, n),
					   "%s is not a valid CEL expression: %s", what, problems[0].message);
		}
	}
	return prog;
}

static bool
reads_variable(CelProgram *prog, const char *name)
{
	for (int i = 0; i < prog->nvars; i++)
		if (strcmp(prog->vars[i], name) == 0)
			return true;
	return false;
}

static bool pointer_get(Jsonb *doc, const char *ptr, JsonbValue *out);

/* ---- rules checked against the schema's declared types ---- */

static bool
has_member(const JsonbValue *schema, const char *key)
{
	JsonbValue	v;

	return js_object_find(schema->val.binary.data, key, strlen(key), &v);
}

/* a local "#/..." reference of the registered document, followed (a bounded number of hops) */
static const JsonbValue *
follow_refs(LevelTypes *lt, const JsonbValue *schema, JsonbValue *buf)
{
	for (int hops = 0; hops < 16; hops++)
	{
		JsonbValue	ref;

		if (!js_is_object(schema) || !js_object_find(schema->val.binary.data, "$ref", 4, &ref) ||
			ref.type != jbvString)
			return schema;
		if (!lt->local_refs || ref.val.string.len < 1 || ref.val.string.val[0] != '#')
			return NULL;
		if (!pointer_get(lt->chk->root, pnstrdup(ref.val.string.val + 1, ref.val.string.len - 1), buf))
			return NULL;
		schema = buf;
	}
	return NULL;
}

static int64
bound_of(const JsonbValue *schema, const char *key)
{
	JsonbValue	v;
	int64		n;

	if (js_object_find(schema->val.binary.data, key, strlen(key), &v) && v.type == jbvNumeric &&
		js_numeric_is_integral(v.val.numeric) && js_numeric_sign(v.val.numeric) >= 0)
	{
		/* bounds beyond int32 are no bound at all */
		bool		err = false;

		n = numeric_int4_opt_error(v.val.numeric, &err);
		return err ? -1 : n;
	}
	return -1;
}

/* the CEL type of the values a subschema accepts */
static void
schema_type(LevelTypes *lt, const JsonbValue *schema0, CelDeclType *out)
{
	JsonbValue	buf;
	JsonbValue	t;
	const JsonbValue *schema = follow_refs(lt, schema0, &buf);
	JsonbValue *copy;

	out->tag = CT_DYN;
	out->handle = NULL;
	out->max_size = -1;
	if (schema == NULL || !js_is_object(schema))
		return;
	copy = palloc(sizeof(JsonbValue));
	*copy = *schema;
	if (js_object_find(schema->val.binary.data, "type", 4, &t) && t.type == jbvString)
	{
		char	   *name = pnstrdup(t.val.string.val, t.val.string.len);

		if (strcmp(name, "string") == 0)
		{
			out->tag = CT_STRING;
			out->max_size = bound_of(schema, "maxLength");
		}
		else if (strcmp(name, "integer") == 0)
			out->tag = CT_INT;
		else if (strcmp(name, "number") == 0)
			out->tag = CT_NUMBER;
		else if (strcmp(name, "boolean") == 0)
			out->tag = CT_BOOL;
		else if (strcmp(name, "null") == 0)
			out->tag = CT_NULL;
		else if (strcmp(name, "object") == 0)
		{
			out->tag = CT_MAP;
			out->handle = copy;
			out->max_size = bound_of(schema, "maxProperties");
		}
		else if (strcmp(name, "array") == 0)
		{
			out->tag = CT_LIST;
			out->handle = copy;
			out->max_size = bound_of(schema, "maxItems");
		}
		return;
	}
	if (js_object_find(schema->val.binary.data, "type", 4, &t))
		return;					/* several types: dyn */
	if (has_member(schema, "properties"))
	{
		out->tag = CT_MAP;
		out->handle = copy;
	}
}

/*
 * A field of an object schema: declared in properties, or governed by
 * additionalProperties; not declared at all when the schema lists its
 * properties and nothing else can supply one (composition keywords and
 * patternProperties make it unknown: dyn).
 */
static int
type_field(void *ctx, const CelDeclType *obj, const char *name, CelDeclType *out)
{
	LevelTypes *lt = (LevelTypes *) ctx;
	const JsonbValue *s = (const JsonbValue *) obj->handle;
	JsonbValue	props,
				f,
				ap;
	static const char *const open_keys[] = {"patternProperties", "allOf", "anyOf", "oneOf", "if",
		"$ref", "$dynamicRef", "dependentSchemas", "dependencies", "unevaluatedProperties", NULL};

	if (js_object_find(s->val.binary.data, "properties", 10, &props) && js_is_object(&props) &&
		js_object_find(props.val.binary.data, name, strlen(name), &f))
	{
		schema_type(lt, &f, out);
		return 1;
	}
	for (int i = 0; open_keys[i]; i++)
		if (has_member(s, open_keys[i]))
			return -1;
	if (js_object_find(s->val.binary.data, "additionalProperties", 20, &ap))
	{
		if (js_is_object(&ap))
		{
			schema_type(lt, &ap, out);
			return 1;
		}
		if (ap.type == jbvBool && !ap.val.boolean)
			return 0;
	}
	return has_member(s, "properties") ? 0 : -1;
}

static void
type_elem(void *ctx, const CelDeclType *list, CelDeclType *out)
{
	LevelTypes *lt = (LevelTypes *) ctx;
	const JsonbValue *s = (const JsonbValue *) list->handle;
	JsonbValue	items;

	out->tag = CT_DYN;
	out->handle = NULL;
	out->max_size = -1;
	if (s && !has_member(s, "prefixItems") &&
		js_object_find(s->val.binary.data, "items", 5, &items) && js_is_object(&items))
		schema_type(lt, &items, out);
}

static bool
type_variable(void *ctx, const char *name, CelDeclType *out)
{
	LevelTypes *lt = (LevelTypes *) ctx;
	CelDeclType level;

	schema_type(lt, &lt->level, &level);
	if (strcmp(name, "self") == 0 || strcmp(name, "oldSelf") == 0)
	{
		*out = level;
		return true;
	}
	/* the level's keys, when the level is an object */
	out->tag = CT_DYN;
	out->handle = NULL;
	out->max_size = -1;
	if (level.tag == CT_MAP && level.handle)
		return type_field(ctx, &level, name, out) != 0;
	return level.tag == CT_DYN;
}

/* refuse a rule whose types do not fit the schema, or whose estimated cost is over the limit */
static void
check_types(RegRulesCheck *chk, const JsonbValue *level, const char *base, CelProgram *prog,
			bool is_rule, const char *what, const char *where)
{
	LevelTypes	lt;
	CelTypeEnv	env;
	CelParseError *problems = NULL;
	int64		cost = 0;
	int			n;

	lt.chk = chk;
	lt.local_refs = (base == NULL || base[0] == '\0');
	lt.level = *level;
	env.variable = type_variable;
	env.field = type_field;
	env.elem = type_elem;
	env.ctx = &lt;
	n = cel_check_types(prog, &env, is_rule, &problems, &cost);
	if (n > 0)
	{
		rule_error(chk, where, problems_json(problems, n),
				   "%s does not fit the schema: %s", what, problems[0].message);
	}
	if (cost > rules_max_cost)
		rule_error(chk, where, NULL,
				   "%s may cost up to " INT64_FORMAT " units, over lowcode.rules_max_cost (%d): bound the lists it walks with maxItems (and strings with maxLength)",
				   what, cost, rules_max_cost);
}

/*
 * The validator's compile hook: the x-rules of one schema object, or NULL.
 * arg: NULL when validating (registration checked the rules: bad items are
 * skipped), a RegRulesCheck when registering (bad items are refused).
 */
void *
registry_rules_compile(const JsonbValue *schema, const char *base, const char *ptr, void *arg)
{
	RegRulesCheck *chk = (RegRulesCheck *) arg;
	JsonbValue	rv;
	JsonbContainer *arr;
	RegRules   *rs;
	int			n;

	if (!js_object_find(schema->val.binary.data, "x-rules", 7, &rv))
		return NULL;
	if (rv.type != jbvBinary || !JsonContainerIsArray(rv.val.binary.data))
	{
		if (chk)
			rule_error(chk, psprintf("%s/x-rules", ptr), NULL, "x-rules must be an array");
		return NULL;
	}
	arr = rv.val.binary.data;
	n = JsonContainerSize(arr);
	if (n == 0)
		return NULL;
	rs = palloc0(sizeof(RegRules));
	rs->rules = palloc0(sizeof(RegRule) * n);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	item;
		JsonbContainer *obj;
		RegRule    *r = &rs->rules[rs->n];
		char	   *where = (base && base[0]) ? psprintf("%s#%s/x-rules/%d", base, ptr, i) :
			psprintf("%s/x-rules/%d", ptr, i);
		char	   *severity;
		char	   *fp;
		char	   *msgexpr;
		JsIter		it;
		JsonbValue	k,
					val;

		CHECK_FOR_INTERRUPTS();
		if (!js_array_get(arr, i, &item) || item.type != jbvBinary ||
			!JsonContainerIsObject(item.val.binary.data))
		{
			if (chk)
				rule_error(chk, where, NULL, "must be an object");
			continue;
		}
		obj = item.val.binary.data;
		if (chk)
		{
			js_iter_init(&it, obj);
			while (js_iter_next_pair(&it, &k, &val))
			{
				bool		known = false;

				for (int j = 0; rule_keys[j]; j++)
					if (k.val.string.len == strlen(rule_keys[j]) &&
						memcmp(k.val.string.val, rule_keys[j], k.val.string.len) == 0)
						known = true;
				if (!known)
					rule_error(chk, where, NULL, "unknown key \"%.*s\"", k.val.string.len, k.val.string.val);
			}
		}
		r->rule = member_string(obj, "rule", chk, where);
		if (r->rule == NULL)
		{
			if (chk)
				rule_error(chk, where, NULL, "\"rule\" (a CEL expression) is missing");
			continue;
		}
		r->prog = parse_cel(r->rule, "the rule", chk, where, &r->calls_sql);
		if (r->prog == NULL)
			continue;
		if (chk)
			check_types(chk, schema, base, r->prog, true, "the rule", where);
		r->transition = reads_variable(r->prog, "oldSelf");
		r->message = member_string(obj, "message", chk, where);
		msgexpr = member_string(obj, "messageExpression", chk, where);
		if (msgexpr)
		{
			r->message_expr = parse_cel(msgexpr, "messageExpression", chk, where, &r->message_calls_sql);
			if (r->message_expr == NULL)
				continue;
			if (chk)
				check_types(chk, schema, base, r->message_expr, false, "messageExpression", where);
		}
		r->reason = member_string(obj, "reason", chk, where);
		if (r->reason)
		{
			bool		ok = false;

			for (int j = 0; reasons[j]; j++)
				ok |= strcmp(reasons[j], r->reason) == 0;
			if (!ok)
			{
				if (chk)
					rule_error(chk, where, NULL, "reason \"%s\" is not one of FieldValueInvalid, FieldValueForbidden, FieldValueRequired, FieldValueDuplicate", r->reason);
				continue;
			}
		}
		fp = member_string(obj, "fieldPath", chk, where);
		if (fp == NULL)
			fp = member_string(obj, "path", chk, where);
		r->field_ptr = fp ? field_path_pointer(fp) : "";
		if (r->field_ptr == NULL)
		{
			if (chk)
				rule_error(chk, where, NULL, "fieldPath \"%s\" is neither a JSON Pointer (/a/b) nor a path (.a.b, .a['b'], .a[0])", fp);
			continue;
		}
		severity = member_string(obj, "severity", chk, where);
		if (severity && strcmp(severity, "warning") != 0 && strcmp(severity, "error") != 0)
		{
			if (chk)
				rule_error(chk, where, NULL, "severity must be \"error\" or \"warning\", not \"%s\"", severity);
			continue;
		}
		r->warning = severity && strcmp(severity, "warning") == 0;
		r->kw_path = psprintf("x-rules/%d", i);
		rs->n++;
	}
	return rs->n ? rs : NULL;
}

/* ---- evaluation ---- */

typedef struct RuleVars
{
	const JsonbValue *self;
	const JsonbValue *old;		/* NULL: no oldSelf */
} RuleVars;

static bool
rule_resolve(void *ctx, const char *name, int len, CelValue *out)
{
	RuleVars   *rv = (RuleVars *) ctx;
	JsonbValue	v;

	if (len == 4 && memcmp(name, "self", 4) == 0)
	{
		cel_from_jsonb_value(rv->self, out);
		return true;
	}
	if (len == 7 && memcmp(name, "oldSelf", 7) == 0)
	{
		if (rv->old == NULL)
			return false;
		cel_from_jsonb_value(rv->old, out);
		return true;
	}
	/* the keys of an object level, as variables */
	if (rv->self->type == jbvBinary && JsonContainerIsObject(rv->self->val.binary.data) &&
		js_object_find(rv->self->val.binary.data, name, len, &v))
	{
		JsonbValue *copy = palloc(sizeof(JsonbValue));

		*copy = v;
		cel_from_jsonb_value(copy, out);
		return true;
	}
	return false;
}

/*
 * Evaluate one program.  Errors CEL reports as values come back as values;
 * a program that calls registered SQL functions runs in a subtransaction,
 * so that an error raised by such a function fails the rule, not the
 * statement (cancellation excepted).
 */
static void
eval_program(const CelProgram *prog, bool calls_sql, RuleVars *vars, CelValue *out)
{
	ErrorData  *edata;

	if (!calls_sql)
	{
		/*
		 * No subtransaction: an error goes on up (a budget error, LR020, is
		 * counted in the metrics where CEL raises it, through the host).
		 */
		cel_sql_eval(prog, rule_resolve, vars, out);
		return;
	}
	edata = cel_sql_eval_isolated(prog, rule_resolve, vars, out);
	if (edata == NULL)
		return;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ReThrowError(edata);
	cel_make_error(out, CEL_ERR_FUNCTION_FAILED, "%s", edata->message ? edata->message : "evaluation failed");
}

/* the value at a JSON Pointer of a document, or false */
static bool
pointer_get(Jsonb *doc, const char *ptr, JsonbValue *out)
{
	JsonbValue	cur;
	const char *p = ptr;

	js_root_value(doc, &cur);
	while (*p == '/')
	{
		const char *end = strchr(p + 1, '/');
		int			len = end ? end - (p + 1) : strlen(p + 1);
		StringInfoData tok;

		initStringInfo(&tok);
		for (int i = 0; i < len; i++)
		{
			if (p[1 + i] == '~' && i + 1 < len)
			{
				appendStringInfoChar(&tok, p[2 + i] == '1' ? '/' : '~');
				i++;
			}
			else
				appendStringInfoChar(&tok, p[1 + i]);
		}
		if (cur.type != jbvBinary)
			return false;
		if (JsonContainerIsObject(cur.val.binary.data))
		{
			if (!js_object_find(cur.val.binary.data, tok.data, tok.len, &cur))
				return false;
		}
		else
		{
			char	   *e;
			long		idx = strtol(tok.data, &e, 10);

			if (tok.len == 0 || *e != '\0' || idx < 0 || idx > PG_INT32_MAX ||
				!js_array_get(cur.val.binary.data, (int) idx, &cur))
				return false;
		}
		p += 1 + len;
	}
	*out = cur;
	return true;
}

bool
registry_rules_unchanged(RegRulesRun *run, const char *instance_location, const JsonbValue *value)
{
	JsonbValue	old;

	if (run == NULL || run->old == NULL || instance_location == NULL)
		return false;
	if (!pointer_get(run->old, instance_location, &old))
		return false;
	return js_json_equal(&old, value);
}

bool
registry_rules_ratchet_error(RegRulesRun *run, Jsonb *instance, const char *instance_location)
{
	JsonbValue	now;

	if (run == NULL || run->old == NULL)
		return false;
	if (!pointer_get(instance, instance_location, &now))
		return false;
	return registry_rules_unchanged(run, instance_location, &now);
}

static char *
value_text(const CelValue *v)
{
	StringInfoData buf;

	if (v->kind == CEL_STRING)
		return pnstrdup(v->v.s.data, v->v.s.len);
	initStringInfo(&buf);
	cel_value_out(&buf, v);
	return buf.data;
}

/* The validator's validation hook: the rules of one level. */
bool
registry_rules_validate(void *ext, JsExtCall *call, void *arg)
{
	RegRules   *rs = (RegRules *) ext;
	RegRulesRun *run = (RegRulesRun *) arg;
	JsonbValue	oldv;
	bool		have_old = false;
	bool		ok = true;
	RuleVars	vars;

	if (run && run->old && call->instance_location)
	{
		if (!pointer_get(run->old, call->instance_location, &oldv))
			have_old = false;
		else if (js_json_equal(&oldv, call->instance))
			return true;		/* ratcheting: unchanged, accepted before */
		else
			have_old = !call->through_array;
	}
	vars.self = call->instance;
	vars.old = have_old ? &oldv : NULL;
	for (int i = 0; i < rs->n; i++)
	{
		RegRule    *r = &rs->rules[i];
		CelValue	res;
		char	   *failure = NULL;
		char	   *message = NULL;
		StringInfoData params;

		CHECK_FOR_INTERRUPTS();
		/* transition rules only on updates, where an old value corresponds */
		if (r->transition && !have_old)
			continue;
		quota_count_rule_evaluation();
		metrics_count(NULL, METRIC_RULE_EVALUATIONS, 1);
		eval_program(r->prog, r->calls_sql, &vars, &res);
		if (res.kind == CEL_BOOL && res.v.b)
			continue;
		if (res.kind == CEL_ERROR)
			failure = pstrdup(res.v.err->message);
		else if (res.kind != CEL_BOOL)
			failure = psprintf("the rule returned %s, not bool", cel_type_name(&res));
		if (!r->warning)
			ok = false;
		if (!call->collect)
		{
			if (!ok)
				return false;
			continue;
		}
		if (r->message_expr)
		{
			CelValue	m;

			eval_program(r->message_expr, r->message_calls_sql, &vars, &m);
			/* as Kubernetes: a messageExpression that fails or is empty falls back to message */
			if (m.kind == CEL_STRING && m.v.s.len > 0)
				message = value_text(&m);
		}
		if (message == NULL)
			message = r->message ? pstrdup(r->message) : psprintf("failed rule: %s", r->rule);
		initStringInfo(&params);
		appendStringInfoString(&params, "{\"rule\": ");
		escape_json(&params, r->rule);
		appendStringInfoString(&params, ", \"reason\": ");
		escape_json(&params, r->reason ? r->reason : "FieldValueInvalid");
		if (r->warning)
			appendStringInfoString(&params, ", \"severity\": \"warning\"");
		if (failure)
		{
			appendStringInfoString(&params, ", \"error\": ");
			escape_json(&params, failure);
		}
		appendStringInfoChar(&params, '}');
		js_ext_report(call, "x-rules", r->kw_path, r->field_ptr, params.data, message, r->warning);
	}
	return ok;
}

/*
 * lowcode.registry_check_rules(schema jsonb, subject text, base text):
 * compile the schema with the rules hook in checking mode (its references
 * resolved as the caller sees subjects), which refuses any malformed rule
 * with LG011.  The schema is valid JSON Schema already (jsonschema_check).
 */
PG_FUNCTION_INFO_V1(lowcode_registry_check_rules);

Datum
lowcode_registry_check_rules(PG_FUNCTION_ARGS)
{
	Jsonb	   *schema = PG_GETARG_JSONB_P(0);
	RegRulesCheck chk;
	JsCompileOptions opts;
	JsCompiled *c;

	chk.subject = PG_ARGISNULL(1) ? "(none)" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	chk.root = schema;
	/* the schema's own choice of format assertion, at its root */
	if (JB_ROOT_IS_OBJECT(schema) && !JB_ROOT_IS_SCALAR(schema))
	{
		JsonbValue	fm;
		JsonbValue	root;

		js_root_value(schema, &root);
		if (js_object_find(root.val.binary.data, "x-format", 8, &fm) &&
			!(fm.type == jbvString &&
			  ((fm.val.string.len == 6 && memcmp(fm.val.string.val, "assert", 6) == 0) ||
			   (fm.val.string.len == 8 && memcmp(fm.val.string.val, "annotate", 8) == 0))))
			lc_raise_http(422, "LG011",
						  psprintf("the schema of subject %s has \"x-format\" other than \"assert\" or \"annotate\"", chk.subject),
						  NULL, "\"x-format\" at the root chooses whether \"format\" asserts (the default, lowcode.registry_format_assert) or only annotates.", NULL);
	}
	memset(&opts, 0, sizeof(opts));
	opts.default_draft = JS_DRAFT2020;
	opts.loader = js_store_load;
	opts.ext_compile = registry_rules_compile;
	opts.ext_arg = &chk;
	c = js_compile(schema, &opts);
	MemoryContextDelete(c->mcxt);
	PG_RETURN_VOID();
}
