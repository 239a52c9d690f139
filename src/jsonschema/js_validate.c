/*-------------------------------------------------------------------------
 *
 * js_validate.c
 *	  Validate a jsonb instance against a compiled schema (js_compile.c).
 *
 * Two modes: "flag" stops at the first failure and records nothing (what
 * jsonschema_is_valid needs, and the fast path: no allocation while the
 * instance is valid unless the schema uses unevaluated*); "collect" records
 * every error with both output shapes (JSON Schema 2020-12 basic output and
 * ajv), keeping the instance and keyword paths as stacks of segments that
 * are only rendered to text when an error is recorded.
 *
 * Errors raised inside branches whose failure is not final (anyOf, oneOf)
 * are rolled back when the branch does not matter; "not", "if" and
 * "contains" evaluate their subschemas in flag mode.
 *
 * unevaluatedProperties/Items need to know what the other keywords
 * evaluated: a JsEval records it per property index / item index of the
 * instance, passed down to in-place applicators and merged only from valid
 * subschemas, as the specification drops annotations of failing ones.
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
#include "utils/json.h"

#include "jsonschema/js_internal.h"

typedef struct JsSeg
{
	const char *s;
	int			len;
	int			index;			/* >= 0: an array index; else s/len */
} JsSeg;

typedef struct JsEval
{
	int			nprops;
	bool	   *props;
	bool		all_props;
	int			nitems;
	bool	   *items;
	bool		all_items;
} JsEval;

typedef struct JsV
{
	const JsValidateOptions *o;
	bool		collect;
	int			speculative;
	bool		stop;
	int			depth;
	JsSeg	   *ipath;
	int			ilen,
				icap;
	JsSeg	   *kpath;
	int			klen,
				kcap;
	int			refs_crossed;
	/*
	 * ajv's schemaPath below the last $ref crossed (see JsSchema.ajv_inline):
	 * sp_base (the $ref as written, or "#") stands for schema sp_anchor;
	 * NULL: paths are the schema's JSON pointer in its resource.  sp_skip
	 * counts the $refs of a chain ajv followed at once, still to cross.
	 */
	const char *sp_base;
	const JsSchema *sp_anchor;
	int			sp_skip;
	bool		track_scope;
	JsResource **scope;
	int			slen,
				scap;
	JsError   **errors;
	int			nerr,
				errcap;
	JsError   **anns;			/* annotations, when asked for */
	int			nann,
				anncap;
	JsError   **warns;			/* extension warnings */
	int			nwarn,
				warncap;
	const char *title;			/* the title of the value being validated (titles) */
	int			title_ilen;		/* ... at this instance depth */
} JsV;

/* ---------- messages ---------- */

typedef enum JsMsg
{
	M_TYPE, M_REQUIRED, M_MIN_LENGTH, M_MAX_LENGTH, M_MIN_ITEMS, M_MAX_ITEMS,
	M_MIN_PROPS, M_MAX_PROPS, M_COMPARE, M_MULTIPLE, M_PATTERN, M_FORMAT,
	M_ENUM, M_CONST, M_ADDITIONAL, M_UNEVAL_PROPS, M_UNIQUE, M_MIN_CONTAINS,
	M_MAX_CONTAINS, M_DEPENDENT, M_PROPERTY_NAME, M_NOT, M_ANY_OF, M_ONE_OF,
	M_IF, M_FALSE, M_DEPENDENTS
} JsMsg;

static const char *const messages[][2] = {
	[M_TYPE] = {"must be %s", "应当是 %s 类型"},
	[M_REQUIRED] = {"must have required property '%s'", "应当有必需属性 '%s'"},
	[M_MIN_LENGTH] = {"must NOT have fewer than %s characters", "不应少于 %s 个字符"},
	[M_MAX_LENGTH] = {"must NOT have more than %s characters", "不应多于 %s 个字符"},
	[M_MIN_ITEMS] = {"must NOT have fewer than %s items", "不应少于 %s 项"},
	[M_MAX_ITEMS] = {"must NOT have more than %s items", "不应多于 %s 项"},
	[M_MIN_PROPS] = {"must NOT have fewer than %s properties", "不应少于 %s 个属性"},
	[M_MAX_PROPS] = {"must NOT have more than %s properties", "不应多于 %s 个属性"},
	[M_COMPARE] = {"must be %s %s", "应当 %s %s"},
	[M_MULTIPLE] = {"must be multiple of %s", "应当是 %s 的整数倍"},
	[M_PATTERN] = {"must match pattern \"%s\"", "应当匹配模式 \"%s\""},
	[M_FORMAT] = {"must match format \"%s\"", "应当匹配格式 \"%s\""},
	[M_ENUM] = {"must be equal to one of the allowed values", "应当是预设定的枚举值之一"},
	[M_CONST] = {"must be equal to constant", "应当等于常量"},
	[M_ADDITIONAL] = {"must NOT have additional properties", "不允许有额外的属性"},
	[M_UNEVAL_PROPS] = {"must NOT have unevaluated properties", "不允许有未求值的属性"},
	[M_UNIQUE] = {"must NOT have duplicate items (items ## %s and %s are identical)",
	"不应当有重复项 (第 %s 项和第 %s 项是重复的)"},
	[M_MIN_CONTAINS] = {"must contain at least %s valid item(s)", "应当包含至少 %s 个有效项"},
	/* with maxContains; zh: ajv-i18n has no such text, this one is built from its minContains text */
	[M_MAX_CONTAINS] = {"must contain at least %s and no more than %s valid item(s)", "应当包含至少 %s 个且至多 %s 个有效项"},
	[M_DEPENDENT] = {"must have property %s when property %s is present",
	"应当有属性 %s（当属性 %s 存在时）"},
	[M_PROPERTY_NAME] = {"property name must be valid", "属性名 无效"},
	[M_NOT] = {"must NOT be valid", "不应当通过 \"not\" 中的 schema"},
	[M_ANY_OF] = {"must match a schema in anyOf", "应当匹配 anyOf 中的某一个 schema"},
	[M_ONE_OF] = {"must match exactly one schema in oneOf", "应当只匹配 oneOf 中的一个 schema"},
	[M_IF] = {"must match \"%s\" schema", "应当匹配 \"%s\" schema"},
	[M_FALSE] = {"boolean schema is false", "布尔 schema 为 false"},
	[M_DEPENDENTS] = {"must have properties %s when property %s is present",
	"应当有属性 %s（当属性 %s 存在时）"},
};

/*
 * de, es, fr, ja, pt-BR: the texts of ajv-i18n 4.2 (its localize/<lang>
 * functions, written here as templates; %1$s and %2$s are the same
 * arguments as the en column's first and second %s).  NULL: the en text.
 */
static const char *const messages_i18n[][5] = {
	[M_TYPE] = {"muss sein: %1$s", "debe ser %1$s", "doit être de type %1$s", "%1$sでなければいけない", "deve ser %1$s"},
	[M_REQUIRED] = {"muss das erforderliche Attribut %1$s enthalten", "debe tener la propiedad requerida %1$s", "requiert la propriété %1$s", "必要なプロパティ%1$sがなければいけない", "deve ter a propriedade obrigatória %1$s"},
	[M_MIN_LENGTH] = {"darf nicht kürzer als %1$s Zeichen sein", "no debe contener menos de %1$s caracteres", "ne doit pas faire moins de %1$s caractères", "は%1$s文字以下であってはいけない", "não deve ser mais curta que %1$s caracteres"},
	[M_MAX_LENGTH] = {"darf nicht länger als %1$s Zeichen sein", "no debe contener más de %1$s caracteres", "ne doit pas dépasser %1$s caractères", "は%1$s文字以上であってはいけない", "não deve ser maior que %1$s caracteres"},
	[M_MIN_ITEMS] = {"darf nicht weniger als %1$s Elemente haben", "no debe contener menos de %1$s elementos", "ne doit pas contenir moins de %1$s éléments", "は%1$s個以下であってはいけない", "não deve ter menos que %1$s elementos"},
	[M_MAX_ITEMS] = {"darf nicht mehr als %1$s Elemente haben", "no debe contener más de %1$s elementos", "ne doit pas contenir plus de %1$s éléments", "は%1$s個以上であってはいけない", "não deve ter mais que %1$s elementos"},
	[M_MIN_PROPS] = {"darf nicht weniger als %1$s Attribute haben", "no debe contener menos de %1$s propiedades", "ne doit pas contenir moins de %1$s propriétés", "は%1$s個以下のプロパティを有してはいけない", "não deve ter menos que %1$s propriedades"},
	[M_MAX_PROPS] = {"darf nicht mehr als %1$s Attribute haben", "no debe contener más de %1$s propiedades", "ne doit pas contenir plus de %1$s propriétés", "は%1$s個以上のプロパティを有してはいけない", "não deve ter mais que %1$s propriedades"},
	[M_COMPARE] = {"muss %1$s %2$s sein", "debe ser %1$s %2$s", "doit être %1$s %2$s", "%1$s %2$sでなければいけない", "deve ser %1$s %2$s"},
	[M_MULTIPLE] = {"muss ein Vielfaches von %1$s sein", "debe ser múltiplo de %1$s", "doit être un multiple de %1$s", "%1$sの倍数でなければいけない", "deve ser múltiplo de %1$s"},
	[M_PATTERN] = {"muss diesem Muster entsprechen: \"%1$s\"", "debe coincidir con el patron \"%1$s\"", "doit correspondre au format \"%1$s\"", "\"%1$s\"のパターンと一致しなければいけない", "deve corresponder ao padrão \"%1$s\""},
	[M_FORMAT] = {"muss diesem Format entsprechen: \"%1$s\"", "debe coincidir con el formato \"%1$s\"", "doit correspondre au format \"%1$s\"", "\"%1$s\"形式に揃えなければいけない", "deve corresponder ao formato \"%1$s\""},
	[M_ENUM] = {"muss einem der vorgegebenen Werte entsprechen", "deber ser igual a uno de los valores predefinidos", "doit être égal à une des valeurs prédéfinies", "事前に定義された値のいずれかに等しくなければいけない", "deve ser igual a um dos valores permitidos"},
	[M_CONST] = {"muss gleich der Konstanten sein", "debe ser igual a la constante", "doit être égal à la constante", "must be equal to constant", "deve ser igual à constante"},
	[M_ADDITIONAL] = {"darf keine zusätzlichen Attribute haben", "no debe tener propiedades adicionales", "ne doit pas contenir de propriétés additionnelles", "追加してはいけない", "não são permitidas propriedades adicionais"},
	[M_UNEVAL_PROPS] = {"darf keine unausgewerteten Attribute haben", "must NOT have unevaluated properties", "must NOT have unevaluated properties", "must NOT have unevaluated properties", "não pode possuir propridades não avaliadas"},
	[M_UNIQUE] = {"darf keine Duplikate enthalten (Elemente #%1$s und #%2$s sind gleich)", "no debe contener elementos duplicados, (los elementos ## %1$s y %2$s son idénticos)", "ne doit pas contenir de doublons (les éléments ## %1$s et %2$s sont identiques)", "重複するアイテムがあってはいけない（%1$sと%2$sは同じである）", "não deve ter itens duplicados (os itens ## %1$s e %2$s são idênticos)"},
	[M_MIN_CONTAINS] = {"muss ein valides Element enthalten", "debe contener un elemento válido", "doit contenir un élément valide", "must contain a valid item", "deve conter um item válido"},
	/* ajv-i18n's contains text, which names no count, serves with maxContains too */
	[M_MAX_CONTAINS] = {"muss ein valides Element enthalten", "debe contener un elemento válido", "doit contenir un élément valide", "must contain a valid item", "deve conter um item válido"},
	[M_DEPENDENT] = {"muss Attribute %1$s aufweisen, wenn Attribut %2$s gesetzt ist", "debe contener las propiedades %1$s cuando la propiedad %2$s se encuentra presente", "doit avoir la propriété %1$s quand la propriété %2$s est présente", "%2$sがある場合、は%1$sをつけなければいけない", " deve ter propriedades %1$s quando a propriedade %2$s estiver presente"},
	[M_PROPERTY_NAME] = {"Attributname ist ungültig", "la propiedad no és válida", "le nom de propriété est invalide", "property name is invalid", "o nome da propriedade é inválido"},
	[M_NOT] = {"muss dem in \"not\" angegebenen Schema widersprechen", "no debe ser válido según el esquema en \"not\"", "est invalide selon le schéma \"not\"", "\"not\"のスキーマに従って有効としてはいけない", "não deve ser valido segundo o schema em \"not\""},
	[M_ANY_OF] = {"muss einem der Schemata in \"anyOf\" entsprechen", "debe coincidir con algún esquema en \"anyOf\"", "doit correspondre à un schéma de \"anyOf\"", "\"anyOf\"のスキーマとマッチしなくてはいけない", "os dados não correspondem a nenhum schema de \"anyOf\""},
	[M_ONE_OF] = {"muss genau einem der Schemata in \"oneOf\" entsprechen", "debe coincidir con un solo esquema en \"oneOf\"", "doit correspondre à exactement un schéma de \"oneOf\"", "\"oneOf\"のスキーマと完全に一致しなくてはいけない", "deve corresponder exatamente com um schema em \"oneOf\""},
	[M_IF] = {"muss dem Schema \"%1$s\" entsprechen", "debe corresponderse con el esquema \"%1$s\"", "doit correspondre au schéma \"%1$s\"", "must match \"%1$s\" schema", "deve corresponder ao schema \"%1$s\""},
	[M_FALSE] = {"boolesches Schema ist falsch", "el esquema és falso", "le schema est \"false\"", "boolean schema is false", "o schema booleano é \"false\""},
};

/* the singular where a language has one (the count, the first argument, is 1) */
static const char *const messages_i18n_one[][5] = {
	[M_TYPE] = {NULL, NULL, NULL, NULL, NULL},
	[M_REQUIRED] = {NULL, NULL, NULL, NULL, NULL},
	[M_MIN_LENGTH] = {NULL, "no debe contener menos de %1$s caracter", "ne doit pas faire moins de %1$s caractère", NULL, "não deve ser mais curta que %1$s caracter"},
	[M_MAX_LENGTH] = {NULL, "no debe contener más de %1$s caracter", "ne doit pas dépasser %1$s caractère", NULL, "não deve ser maior que %1$s caracter"},
	[M_MIN_ITEMS] = {"darf nicht weniger als %1$s Element haben", "no debe contener menos de %1$s elemento", "ne doit pas contenir moins de %1$s élément", NULL, "não deve ter menos que %1$s elemento"},
	[M_MAX_ITEMS] = {"darf nicht mehr als %1$s Element haben", "no debe contener más de %1$s elemento", "ne doit pas contenir plus de %1$s élément", NULL, "não deve ter mais que %1$s elemento"},
	[M_MIN_PROPS] = {"darf nicht weniger als %1$s Attribut haben", "no debe contener menos de %1$s propiedad", "ne doit pas contenir moins de %1$s propriété", NULL, "não deve ter menos que %1$s propriedade"},
	[M_MAX_PROPS] = {"darf nicht mehr als %1$s Attribut haben", "no debe contener más de %1$s propiedad", "ne doit pas contenir plus de %1$s propriété", NULL, "não deve ter mais que %1$s propriedade"},
	[M_COMPARE] = {NULL, NULL, NULL, NULL, NULL},
	[M_MULTIPLE] = {NULL, NULL, NULL, NULL, NULL},
	[M_PATTERN] = {NULL, NULL, NULL, NULL, NULL},
	[M_FORMAT] = {NULL, NULL, NULL, NULL, NULL},
	[M_ENUM] = {NULL, NULL, NULL, NULL, NULL},
	[M_CONST] = {NULL, NULL, NULL, NULL, NULL},
	[M_ADDITIONAL] = {NULL, NULL, NULL, NULL, NULL},
	[M_UNEVAL_PROPS] = {NULL, NULL, NULL, NULL, NULL},
	[M_UNIQUE] = {NULL, NULL, NULL, NULL, NULL},
	[M_MIN_CONTAINS] = {NULL, NULL, NULL, NULL, NULL},
	[M_MAX_CONTAINS] = {NULL, NULL, NULL, NULL, NULL},
	[M_DEPENDENT] = {"muss Attribut %1$s aufweisen, wenn Attribut %2$s gesetzt ist", "debe contener la propiedad %1$s cuando la propiedad %2$s se encuentra presente", NULL, NULL, " deve ter propriedade %1$s quando a propriedade %2$s estiver presente"},
	[M_PROPERTY_NAME] = {NULL, NULL, NULL, NULL, NULL},
	[M_NOT] = {NULL, NULL, NULL, NULL, NULL},
	[M_ANY_OF] = {NULL, NULL, NULL, NULL, NULL},
	[M_ONE_OF] = {NULL, NULL, NULL, NULL, NULL},
	[M_IF] = {NULL, NULL, NULL, NULL, NULL},
	[M_FALSE] = {NULL, NULL, NULL, NULL, NULL},
};

static char *
msg(JsV *v, JsMsg m, const char *a1, const char *a2)
{
	const char *fmt = messages[m][v->o->locale == JS_LOCALE_ZH_CN ? 1 : 0];

	if (v->o->locale >= JS_LOCALE_DE && v->o->locale < JS_LOCALE_COUNT)
	{
		int			l = v->o->locale - JS_LOCALE_DE;
		const char *i18n = messages_i18n[m][l];

		/* M_DEPENDENT is the singular of M_DEPENDENTS (ajv-i18n's one text for both) */
		if (m == M_DEPENDENTS)
			i18n = messages_i18n[M_DEPENDENT][l];
		else if (((a1 && strcmp(a1, "1") == 0) || m == M_DEPENDENT) && messages_i18n_one[m][l])
			i18n = messages_i18n_one[m][l];
		if (i18n)
			fmt = i18n;
	}
	return psprintf(fmt, a1 ? a1 : "", a2 ? a2 : "");
}

int
js_locale_from_name(const char *name, int len)
{
	static const struct
	{
		const char *tag;
		int			locale;
	}			tags[] = {
		{"en", JS_LOCALE_EN}, {"zh", JS_LOCALE_ZH_CN}, {"de", JS_LOCALE_DE}, {"es", JS_LOCALE_ES},
		{"fr", JS_LOCALE_FR}, {"ja", JS_LOCALE_JA}, {"pt", JS_LOCALE_PT_BR}, {NULL, 0}
	};
	int			primary = 0;

	/* the primary subtag decides: zh-TW reads zh-CN's texts, pt-PT pt-BR's, de-AT de's */
	while (primary < len && name[primary] != '-' && name[primary] != '_')
		primary++;
	for (int i = 0; tags[i].tag; i++)
		if ((int) strlen(tags[i].tag) == primary && pg_strncasecmp(name, tags[i].tag, primary) == 0)
			return tags[i].locale;
	return -1;
}

/* ---------- paths and errors ---------- */

static inline void
seg_push(JsSeg **arr, int *len, int *cap, const char *s, int slen, int index)
{
	if (*len >= *cap)
	{
		*cap = *cap ? *cap * 2 : 32;
		*arr = *arr ? repalloc(*arr, sizeof(JsSeg) * *cap) : palloc(sizeof(JsSeg) * *cap);
	}
	(*arr)[*len].s = s;
	(*arr)[*len].len = slen;
	(*arr)[*len].index = index;
	(*len)++;
}

#define KPUSH(v, str) do { if ((v)->collect) seg_push(&(v)->kpath, &(v)->klen, &(v)->kcap, (str), strlen(str), -1); } while (0)
#define KPUSH_N(v, str, n) do { if ((v)->collect) seg_push(&(v)->kpath, &(v)->klen, &(v)->kcap, (str), (n), -1); } while (0)
#define KPUSH_I(v, i) do { if ((v)->collect) seg_push(&(v)->kpath, &(v)->klen, &(v)->kcap, NULL, 0, (i)); } while (0)
#define KPOP(v) do { if ((v)->collect) (v)->klen--; } while (0)
#define IPUSH_N(v, str, n) do { if ((v)->collect) seg_push(&(v)->ipath, &(v)->ilen, &(v)->icap, (str), (n), -1); } while (0)
#define IPUSH_I(v, i) do { if ((v)->collect) seg_push(&(v)->ipath, &(v)->ilen, &(v)->icap, NULL, 0, (i)); } while (0)
#define IPOP(v) do { if ((v)->collect) (v)->ilen--; } while (0)

static void
append_escaped_segment(StringInfo buf, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '~')
			appendStringInfoString(buf, "~0");
		else if (s[i] == '/')
			appendStringInfoString(buf, "~1");
		else
			appendStringInfoChar(buf, s[i]);
	}
}

static char *
render_path(const JsSeg *segs, int n, const char *last)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		appendStringInfoChar(&buf, '/');
		if (segs[i].index >= 0)
			appendStringInfo(&buf, "%d", segs[i].index);
		else
			append_escaped_segment(&buf, segs[i].s, segs[i].len);
	}
	if (last)
		appendStringInfo(&buf, "/%s", last);
	return buf.data;
}

/*
 * A schema's JSON pointer as ajv writes it in schemaPath: the names of
 * properties, patternProperties, dependentSchemas, dependencies and $defs
 * are escaped as URI fragments (ajv's escapeFragment, encodeURIComponent of
 * the JSON pointer token: "foo\tbar" is foo%09bar, "$ref" %24ref), keywords
 * and indexes are not.
 */
static bool
ajv_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		strchr("-_.!~*'()", c) != NULL;
}

static const char *
ajv_fragment_path(const char *ptr)
{
	static const char *const maps[] = {"properties", "patternProperties", "dependentSchemas", "dependencies",
	"$defs", "definitions", NULL};
	static const char *const arrays[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items", NULL};
	StringInfoData buf;
	const char *p = ptr;
	int			state = 0;		/* 0: a keyword, 1: a name, 2: an index or a keyword */
	bool		any = false;

	for (const char *c = ptr; *c && !any; c++)
		any = *c != '/' && !ajv_unreserved((unsigned char) *c) && *c != '$';
	if (!any && strchr(ptr, '$') == NULL)
		return ptr;				/* nothing to escape (the usual case) */
	initStringInfo(&buf);
	while (*p == '/')
	{
		const char *seg = p + 1;
		const char *end = strchr(seg, '/');
		int			len = end ? (int) (end - seg) : (int) strlen(seg);

		appendStringInfoChar(&buf, '/');
		if (state == 1)
		{
			for (int i = 0; i < len; i++)
			{
				unsigned char c = (unsigned char) seg[i];

				if (ajv_unreserved(c))
					appendStringInfoChar(&buf, c);
				else
					appendStringInfo(&buf, "%%%02X", c);
			}
			state = 0;
		}
		else
		{
			appendBinaryStringInfo(&buf, seg, len);
			if (state == 2 && len > 0 && seg[0] >= '0' && seg[0] <= '9')
				state = 0;		/* an index of an array of schemas */
			else
			{
				state = 0;
				for (int i = 0; maps[i]; i++)
					if ((int) strlen(maps[i]) == len && strncmp(seg, maps[i], len) == 0)
						state = 1;
				for (int i = 0; state == 0 && arrays[i]; i++)
					if ((int) strlen(arrays[i]) == len && strncmp(seg, arrays[i], len) == 0)
						state = 2;
			}
		}
		p = seg + len;
	}
	return buf.data;
}

/*
 * Record an error of keyword "kw" of schema "s" (kw NULL: the schema itself,
 * a false boolean schema).  "params" is the JSON text of ajv's params.
 */
static void
add_error(JsV *v, JsSchema *s, const char *kw, const char *keyword_name,
		  const char *params, char *message)
{
	JsError    *e;

	if (!v->collect)
		return;
	e = palloc(sizeof(JsError));
	e->keyword = keyword_name ? keyword_name : kw;
	e->instance_location = render_path(v->ipath, v->ilen, NULL);
	e->keyword_location = render_path(v->kpath, v->klen, kw);
	if (v->refs_crossed > 0 && s->resource->uri[0] != '\0')
		e->absolute_keyword_location = psprintf("%s#%s%s%s", s->resource->uri, s->ptr,
												kw ? "/" : "", kw ? kw : "");
	else
		e->absolute_keyword_location = NULL;
	e->schema_path = NULL;
	if (v->sp_base && v->sp_anchor && v->sp_anchor->resource == s->resource)
	{
		/* below a $ref: ajv's base, then the path from the schema it stands for */
		size_t		n = strlen(v->sp_anchor->ptr);

		if (strncmp(s->ptr, v->sp_anchor->ptr, n) == 0 && (s->ptr[n] == '\0' || s->ptr[n] == '/'))
			e->schema_path = psprintf("%s%s%s%s", v->sp_base, ajv_fragment_path(s->ptr + n), kw ? "/" : "", kw ? kw : "");
	}
	if (e->schema_path == NULL)
		e->schema_path = psprintf("#%s%s%s", ajv_fragment_path(s->ptr), kw ? "/" : "", kw ? kw : "");
	/* ajv names a false schema's error "<its path>/false schema" */
	if (kw == NULL && keyword_name && strcmp(keyword_name, "false schema") == 0)
		e->schema_path = psprintf("%s/false schema", e->schema_path);
	e->params = pstrdup(params);
	e->message = message;
	e->title = NULL;
	/* the field's title, for a person: "Start date: must be string" */
	if (v->o->titles && v->title && v->title_ilen == v->ilen && message &&
		!(kw && strcmp(kw, "required") == 0))
	{
		e->title = v->title;
		e->message = psprintf("%s: %s", v->title, message);
	}
	if (v->nerr >= v->errcap)
	{
		v->errcap = v->errcap ? v->errcap * 2 : 16;
		v->errors = v->errors ? repalloc(v->errors, sizeof(JsError *) * v->errcap)
			: palloc(sizeof(JsError *) * v->errcap);
	}
	v->errors[v->nerr++] = e;
	if (v->speculative == 0 && v->o->max_errors > 0 && v->nerr >= v->o->max_errors)
		v->stop = true;
}

/* record the annotations of a schema that passed (basic output) */
static void
add_annotations(JsV *v, JsSchema *s)
{
	int			i;

	for (i = 0; i < s->n_annotations; i++)
	{
		JsError    *a = palloc(sizeof(JsError));
		StringInfoData val;

		initStringInfo(&val);
		js_value_to_json(&val, &s->annotation_values[i]);
		a->keyword = s->annotation_kw[i];
		a->instance_location = render_path(v->ipath, v->ilen, NULL);
		a->keyword_location = render_path(v->kpath, v->klen, a->keyword);
		a->absolute_keyword_location = s->resource->uri[0] != '\0'
			? psprintf("%s#%s/%s", s->resource->uri, s->ptr, a->keyword) : NULL;
		a->schema_path = psprintf("#%s/%s", s->ptr, a->keyword);
		a->params = val.data;
		a->message = NULL;
		a->title = NULL;
		if (v->nann >= v->anncap)
		{
			v->anncap = v->anncap ? v->anncap * 2 : 16;
			v->anns = v->anns ? repalloc(v->anns, sizeof(JsError *) * v->anncap)
				: palloc(sizeof(JsError *) * v->anncap);
		}
		v->anns[v->nann++] = a;
	}
}

/* arguments (messages, params) are only built when errors are collected */
#define ADD_ERROR(v, ...) do { if ((v)->collect) add_error((v), __VA_ARGS__); } while (0)

static char *
json_string(const char *s, int len)
{
	StringInfoData buf;
	char	   *c = pnstrdup(s, len);

	initStringInfo(&buf);
	escape_json(&buf, c);
	return buf.data;
}

static char *
numeric_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

static char *
int_text(int64 i)
{
	return psprintf(INT64_FORMAT, i);
}

static char *
value_json(const JsonbValue *val)
{
	StringInfoData buf;

	initStringInfo(&buf);
	js_value_to_json(&buf, val);
	return buf.data;
}

/* ---------- annotations for unevaluated* ---------- */

static JsEval *
eval_new(const JsonbValue *inst)
{
	JsEval	   *ev = palloc0(sizeof(JsEval));

	if (js_is_object(inst))
	{
		ev->nprops = JsonContainerSize(inst->val.binary.data);
		ev->props = palloc0(sizeof(bool) * (ev->nprops + 1));
	}
	else if (js_is_array(inst))
	{
		ev->nitems = JsonContainerSize(inst->val.binary.data);
		ev->items = palloc0(sizeof(bool) * (ev->nitems + 1));
	}
	return ev;
}

static void
eval_merge(JsEval *dst, const JsEval *src)
{
	int			i;

	if (dst == NULL || src == NULL)
		return;
	dst->all_props |= src->all_props;
	dst->all_items |= src->all_items;
	for (i = 0; i < dst->nprops && i < src->nprops; i++)
		dst->props[i] |= src->props[i];
	for (i = 0; i < dst->nitems && i < src->nitems; i++)
		dst->items[i] |= src->items[i];
}

/* ---------- the walk ---------- */

static bool eval(JsV *v, JsSchema *s, const JsonbValue *inst, JsEval *ev);

#define FAIL() do { ok = false; if (!v->collect || v->stop) goto done; } while (0)
#define FAILR() do { ok = false; if (!v->collect || v->stop) return false; } while (0)

/* jsonb key order: length first, then bytes; the first byte inline */
static inline int
key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (alen == 0)
		return 0;
	if (a[0] != b[0])
		return (unsigned char) a[0] < (unsigned char) b[0] ? -1 : 1;
	return memcmp(a + 1, b + 1, alen - 1);
}

static bool
type_matches(uint32 types, const JsonbValue *inst)
{
	switch (inst->type)
	{
		case jbvNull:
			return (types & JS_T_NULL) != 0;
		case jbvBool:
			return (types & JS_T_BOOLEAN) != 0;
		case jbvString:
			return (types & JS_T_STRING) != 0;
		case jbvNumeric:
			if (types & JS_T_NUMBER)
				return true;
			return (types & JS_T_INTEGER) != 0 && js_numeric_is_integral(inst->val.numeric);
		case jbvBinary:
			if (JsonContainerIsObject(inst->val.binary.data))
				return (types & JS_T_OBJECT) != 0;
			return (types & JS_T_ARRAY) != 0;
		default:
			return false;
	}
}

/* draft 4 tells 1.0 (a float) from 1: an integer has no decimal places written */
static bool
draft4_integer(Numeric n)
{
	return DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(n))) == 0;
}

static char *
types_text(uint32 types)
{
	const char *names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < 7; i++)
		if (types & (1 << i))
		{
			if (buf.len)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, names[i]);
		}
	return buf.data;
}

static bool
eval_string(JsV *v, JsSchema *s, const JsonbValue *inst)
{
	bool		ok = true;
	const char *str = inst->val.string.val;
	int			len = inst->val.string.len;

	if (s->validation && (s->min_length >= 0 || s->max_length >= 0))
	{
		int			cps = js_utf8_length(str, len);

		{
			if (s->min_length >= 0 && cps < s->min_length)
			{
				ADD_ERROR(v, s, "minLength", NULL,
						  psprintf("{\"limit\": " INT64_FORMAT "}", s->min_length),
						  msg(v, M_MIN_LENGTH, int_text(s->min_length), NULL));
				FAILR();
			}
			if (s->max_length >= 0 && cps > s->max_length)
			{
				ADD_ERROR(v, s, "maxLength", NULL,
						  psprintf("{\"limit\": " INT64_FORMAT "}", s->max_length),
						  msg(v, M_MAX_LENGTH, int_text(s->max_length), NULL));
				FAILR();
			}
		}
	}
	if (s->pattern && !lc_regex_search(s->pattern, str, len))
	{
		char	   *src = pnstrdup(s->pattern_source.s, s->pattern_source.len);

		ADD_ERROR(v, s, "pattern", NULL,
				  psprintf("{\"pattern\": %s}", json_string(src, strlen(src))),
				  msg(v, M_PATTERN, src, NULL));
		FAILR();
	}
	if (s->format && (v->o->format_assert || s->format_assert))
	{
		bool		known = true;

		if (!js_format_check(s->format, str, len, &known))
		{
			ADD_ERROR(v, s, "format", NULL,
					  psprintf("{\"format\": %s}", json_string(s->format, strlen(s->format))),
					  msg(v, M_FORMAT, s->format, NULL));
			FAILR();
		}
	}
	return ok;
}

static bool
eval_number(JsV *v, JsSchema *s, const JsonbValue *inst)
{
	bool		ok = true;
	Numeric		n = inst->val.numeric;

	if (!s->validation)
		return true;
	if (s->minimum && js_numeric_cmp(n, s->minimum) < 0)
	{
		ADD_ERROR(v, s, "minimum", NULL,
				  psprintf("{\"comparison\": \">=\", \"limit\": %s}", numeric_text(s->minimum)),
				  msg(v, M_COMPARE, ">=", numeric_text(s->minimum)));
		FAILR();
	}
	if (s->maximum && js_numeric_cmp(n, s->maximum) > 0)
	{
		ADD_ERROR(v, s, "maximum", NULL,
				  psprintf("{\"comparison\": \"<=\", \"limit\": %s}", numeric_text(s->maximum)),
				  msg(v, M_COMPARE, "<=", numeric_text(s->maximum)));
		FAILR();
	}
	if (s->exclusive_minimum && js_numeric_cmp(n, s->exclusive_minimum) <= 0)
	{
		ADD_ERROR(v, s, s->exclusive_minimum_kw, "exclusiveMinimum",
				  psprintf("{\"comparison\": \">\", \"limit\": %s}", numeric_text(s->exclusive_minimum)),
				  msg(v, M_COMPARE, ">", numeric_text(s->exclusive_minimum)));
		FAILR();
	}
	if (s->exclusive_maximum && js_numeric_cmp(n, s->exclusive_maximum) >= 0)
	{
		ADD_ERROR(v, s, s->exclusive_maximum_kw, "exclusiveMaximum",
				  psprintf("{\"comparison\": \"<\", \"limit\": %s}", numeric_text(s->exclusive_maximum)),
				  msg(v, M_COMPARE, "<", numeric_text(s->exclusive_maximum)));
		FAILR();
	}
	if (s->multiple_of)
	{
		bool		err = false;
		Numeric		rem;

		if (numeric_is_nan(n) || numeric_is_inf(n))
			rem = NULL;
		else
			rem = numeric_mod_opt_error(n, s->multiple_of, &err);
		if (err || rem == NULL || js_numeric_sign(rem) != 0)
		{
			ADD_ERROR(v, s, "multipleOf", NULL,
					  psprintf("{\"multipleOf\": %s}", numeric_text(s->multiple_of)),
					  msg(v, M_MULTIPLE, numeric_text(s->multiple_of), NULL));
			FAILR();
		}
	}
	return ok;
}

/* the title of a property's schema (through a $ref), else its name */
static const char *
property_title(JsSchema *s, const JsString *name)
{
	for (int i = 0; i < s->n_props; i++)
	{
		JsSchema   *p = s->props[i].schema;

		if (s->props[i].name.len != name->len || memcmp(s->props[i].name.s, name->s, name->len) != 0)
			continue;
		if (p && !p->is_bool && !p->title && p->ref && !p->ref->is_bool)
			p = p->ref;
		if (p && !p->is_bool && p->title)
			return p->title;
		break;
	}
	return name->s;
}

static bool
eval_object(JsV *v, JsSchema *s, const JsonbValue *inst, JsEval *ev)
{
	bool		ok = true;
	JsonbContainer *jc = inst->val.binary.data;
	int			n = JsonContainerSize(jc);
	int			i,
				j;
	int			found_required = 0;

	if (s->validation)
	{
		if (s->min_props >= 0 && n < s->min_props)
		{
			ADD_ERROR(v, s, "minProperties", NULL,
					  psprintf("{\"limit\": " INT64_FORMAT "}", s->min_props),
					  msg(v, M_MIN_PROPS, int_text(s->min_props), NULL));
			FAILR();
		}
		if (s->max_props >= 0 && n > s->max_props)
		{
			ADD_ERROR(v, s, "maxProperties", NULL,
					  psprintf("{\"limit\": " INT64_FORMAT "}", s->max_props),
					  msg(v, M_MAX_PROPS, int_text(s->max_props), NULL));
			FAILR();
		}
		for (i = 0; i < s->n_dep_required; i++)
		{
			JsDepRequired *d = &s->dep_required[i];

			if (!js_object_find(jc, d->name.s, d->name.len, NULL))
				continue;
			for (j = 0; j < d->n; j++)
			{
				if (!js_object_find(jc, d->required[j].s, d->required[j].len, NULL))
				{
					/* ajv names every dependency of the property, in each error */
					StringInfoData deps;

					initStringInfo(&deps);
					for (int q = 0; v->collect && q < d->n; q++)
					{
						if (q > 0)
							appendStringInfoString(&deps, ", ");
						appendBinaryStringInfo(&deps, d->required[q].s, d->required[q].len);
					}
					KPUSH(v, s->dep_required_kw);
					ADD_ERROR(v, s, NULL, s->dep_required_kw,
							  psprintf("{\"property\": %s, \"missingProperty\": %s, \"depsCount\": %d, \"deps\": %s}",
									   json_string(d->name.s, d->name.len),
									   json_string(d->required[j].s, d->required[j].len), d->n,
									   json_string(deps.data, deps.len)),
							  d->n == 1 ? msg(v, M_DEPENDENT, deps.data, d->name.s) :
							  msg(v, M_DEPENDENTS, deps.data, d->name.s));
					KPOP(v);
					/* the pointer names the keyword, the params the property */
					if (v->collect)
					{
						JsError    *e = v->errors[v->nerr - 1];

						e->schema_path = psprintf("#%s/%s", s->ptr, s->dep_required_kw);
					}
					FAILR();
				}
			}
		}
	}

	if (s->props || s->pattern_props || s->additional_props || s->property_names)
	{
		JsIter		it;
		JsonbValue	key,
					val;
		int			rq = 0;
		bool		bsearch_props = s->n_props > 16 && s->n_props > 4 * n;

		js_iter_init(&it, jc);
		j = 0;
		for (i = 0; js_iter_next_pair(&it, &key, &val); i++)
		{
			bool		matched = false;
			bool		r;
			int			p;
			int			c = 1;
			const char *k = key.val.string.val;
			int			klen = key.val.string.len;

			CHECK_FOR_INTERRUPTS();
			/* instance keys, properties and required are all in jsonb key order: merge join */
			while (rq < s->n_required &&
				   key_cmp(s->required[rq].s, s->required[rq].len, k, klen) < 0)
				rq++;
			if (rq < s->n_required &&
				key_cmp(s->required[rq].s, s->required[rq].len, k, klen) == 0)
			{
				rq++;
				found_required++;
			}
			if (bsearch_props)
			{
				/* many properties, few keys: binary search in what remains */
				int			lo = j,
							hi = s->n_props;

				while (lo < hi)
				{
					int			mid = lo + (hi - lo) / 2;

					c = key_cmp(s->props[mid].name.s, s->props[mid].name.len, k, klen);
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
				if (j >= s->n_props)
					c = 1;
			}
			else
			{
				while (j < s->n_props &&
					   (c = key_cmp(s->props[j].name.s, s->props[j].name.len, k, klen)) < 0)
					j++;
			}
			if (j < s->n_props && c == 0)
			{
				matched = true;
				KPUSH(v, "properties");
				KPUSH_N(v, k, klen);
				IPUSH_N(v, k, klen);
				r = eval(v, s->props[j].schema, &val, NULL);
				IPOP(v);
				KPOP(v);
				KPOP(v);
				if (!r)
					FAILR();
			}
			for (p = 0; p < s->n_pattern_props; p++)
			{
				if (lc_regex_search(s->pattern_props[p].re, k, klen))
				{
					matched = true;
					KPUSH(v, "patternProperties");
					KPUSH_N(v, s->pattern_props[p].source.s, s->pattern_props[p].source.len);
					IPUSH_N(v, k, klen);
					r = eval(v, s->pattern_props[p].schema, &val, NULL);
					IPOP(v);
					KPOP(v);
					KPOP(v);
					if (!r)
						FAILR();
				}
			}
			if (!matched && s->additional_props)
			{
				JsSchema   *ap = s->additional_props;

				matched = true;
				if (ap->is_bool && !ap->bool_value)
				{
					ADD_ERROR(v, s, "additionalProperties", NULL,
							  psprintf("{\"additionalProperty\": %s}", json_string(k, klen)),
							  msg(v, M_ADDITIONAL, NULL, NULL));
					FAILR();
				}
				else
				{
					KPUSH(v, "additionalProperties");
					IPUSH_N(v, k, klen);
					r = eval(v, ap, &val, NULL);
					IPOP(v);
					KPOP(v);
					if (!r)
						FAILR();
				}
			}
			if (ev && matched && i < ev->nprops)
				ev->props[i] = true;
			if (s->property_names)
			{
				KPUSH(v, "propertyNames");
				r = eval(v, s->property_names, &key, NULL);
				KPOP(v);
				if (!r)
				{
					char	   *kc = pnstrdup(k, klen);

					ADD_ERROR(v, s, "propertyNames", NULL,
							  psprintf("{\"propertyName\": %s}", json_string(k, klen)),
							  msg(v, M_PROPERTY_NAME, kc, NULL));
					FAILR();
				}
			}
		}
	}

	/* required: counted by the pass above, else (or when missing) looked up */
	if (s->validation && s->n_required > 0 && found_required < s->n_required)
	{
		for (i = 0; i < s->n_required; i++)
		{
			if (!js_object_find(jc, s->required[i].s, s->required[i].len, NULL))
			{
				ADD_ERROR(v, s, "required", NULL,
						  psprintf("{\"missingProperty\": %s}",
								   json_string(s->required[i].s, s->required[i].len)),
						  msg(v, M_REQUIRED, v->o->titles ? property_title(s, &s->required[i]) : s->required[i].s, NULL));
				FAILR();
			}
		}
	}

	for (i = 0; i < s->n_dep_schemas; i++)
	{
		JsNamed    *d = &s->dep_schemas[i];
		bool		r;

		if (!js_object_find(jc, d->name.s, d->name.len, NULL))
			continue;
		KPUSH(v, s->dep_schemas_kw);
		KPUSH_N(v, d->name.s, d->name.len);
		r = eval(v, d->schema, inst, ev);
		KPOP(v);
		KPOP(v);
		if (!r)
			FAILR();
	}
	return ok;
}


/*
 * uniqueItems of a large array: pairwise comparison is quadratic (a million
 * items would take hours), so sort the items by js_json_hash and compare only
 * those with equal hashes.  Answers the same pair as the pairwise loop: the
 * first item that has a later duplicate, and its first duplicate.
 */
#define UNIQUE_PAIRWISE_MAX 64

typedef struct UniqueItem
{
	uint32		hash;
	int			index;
	JsonbValue	value;
} UniqueItem;

static int
unique_item_cmp(const void *a, const void *b)
{
	const UniqueItem *x = a;
	const UniqueItem *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->index - y->index;
}

static void
unique_items_by_hash(JsonbContainer *jc, int n, int *dup_i, int *dup_j)
{
	UniqueItem *items = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UniqueItem) * (Size) n);
	JsIter		it;
	int			count = 0;
	int			start;

	js_iter_init(&it, jc);
	while (count < n && js_iter_next_elem(&it, &items[count].value))
	{
		if ((count & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		items[count].index = count;
		items[count].hash = js_json_hash(&items[count].value);
		count++;
	}
	qsort(items, count, sizeof(UniqueItem), unique_item_cmp);
	for (start = 0; start < count;)
	{
		int			end = start + 1;
		int			p;

		while (end < count && items[end].hash == items[start].hash)
			end++;
		/* within a run, items are in index order: the first with a later equal one wins */
		for (p = start; p < end - 1; p++)
		{
			int			q;

			if (*dup_i >= 0 && items[p].index >= *dup_i)
				break;
			CHECK_FOR_INTERRUPTS();
			for (q = p + 1; q < end; q++)
			{
				if (js_json_equal(&items[p].value, &items[q].value))
				{
					*dup_i = items[p].index;
					*dup_j = items[q].index;
					break;
				}
			}
			if (q < end)
				break;
		}
		start = end;
	}
	pfree(items);
}

static bool
eval_array(JsV *v, JsSchema *s, const JsonbValue *inst, JsEval *ev)
{
	bool		ok = true;
	JsonbContainer *jc = inst->val.binary.data;
	int			n = JsonContainerSize(jc);
	int			i;

	if (s->validation)
	{
		if (s->min_items >= 0 && n < s->min_items)
		{
			ADD_ERROR(v, s, "minItems", NULL,
					  psprintf("{\"limit\": " INT64_FORMAT "}", s->min_items),
					  msg(v, M_MIN_ITEMS, int_text(s->min_items), NULL));
			FAILR();
		}
		if (s->max_items >= 0 && n > s->max_items)
		{
			ADD_ERROR(v, s, "maxItems", NULL,
					  psprintf("{\"limit\": " INT64_FORMAT "}", s->max_items),
					  msg(v, M_MAX_ITEMS, int_text(s->max_items), NULL));
			FAILR();
		}
		if (s->unique_items && n > 1)
		{
			JsIter		a;
			JsonbValue	x,
						y;
			int			dup_i = -1,
						dup_j = -1;

			if (n <= UNIQUE_PAIRWISE_MAX)
			{
				/*
				 * ajv's pair: the last item that repeats an earlier one (i),
				 * and the nearest earlier item equal to it (j)
				 */
				JsonbValue *items = palloc(sizeof(JsonbValue) * n);
				int			k;

				js_iter_init(&a, jc);
				for (k = 0; k < n && js_iter_next_elem(&a, &items[k]); k++)
					;
				for (i = k - 1; dup_i < 0 && i > 0; i--)
				{
					CHECK_FOR_INTERRUPTS();
					for (int m = i - 1; m >= 0; m--)
					{
						if (js_json_equal(&items[i], &items[m]))
						{
							dup_i = m;
							dup_j = i;
							break;
						}
					}
				}
				(void) x;
				(void) y;
			}
			else
				unique_items_by_hash(jc, n, &dup_i, &dup_j);
			if (dup_i >= 0)
			{
				ADD_ERROR(v, s, "uniqueItems", NULL,
						  psprintf("{\"i\": %d, \"j\": %d}", dup_j, dup_i),
						  msg(v, M_UNIQUE, int_text(dup_i), int_text(dup_j)));
				FAILR();
			}
		}
	}

	if (s->prefix_items || s->items)
	{
		JsIter		it;
		JsonbValue	e;
		bool		r;

		js_iter_init(&it, jc);
		for (i = 0; js_iter_next_elem(&it, &e); i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (i < s->n_prefix_items)
			{
				KPUSH(v, s->prefix_kw);
				KPUSH_I(v, i);
				IPUSH_I(v, i);
				r = eval(v, s->prefix_items[i], &e, NULL);
				IPOP(v);
				KPOP(v);
				KPOP(v);
			}
			else if (s->items)
			{
				/*
				 * false after prefixItems (additionalItems after an items
				 * array): one error for the array, as ajv; "items": false
				 * alone is a false schema for each item, as ajv reports it
				 */
				if (s->items->is_bool && !s->items->bool_value &&
					(s->n_prefix_items > 0 || strcmp(s->items_kw, "items") != 0))
				{
					ADD_ERROR(v, s, s->items_kw, NULL,
							  psprintf("{\"limit\": %d}", s->n_prefix_items),
							  msg(v, M_MAX_ITEMS, int_text(s->n_prefix_items), NULL));
					FAILR();
					break;
				}
				KPUSH(v, s->items_kw);
				IPUSH_I(v, i);
				r = eval(v, s->items, &e, NULL);
				IPOP(v);
				KPOP(v);
			}
			else
				break;
			if (ev && i < ev->nitems)
				ev->items[i] = true;
			if (!r)
				FAILR();
		}
	}

	if (s->contains)
	{
		JsIter		it;
		JsonbValue	e;
		int			count = 0;
		bool		saved = v->collect;
		int64		minc = s->min_contains >= 0 && s->validation ? s->min_contains : 1;
		int64		maxc = s->validation ? s->max_contains : -1;
		int			saved_nerr = v->nerr;

		/*
		 * ajv's shape (lib/vocabularies/applicator/contains.ts): one error of
		 * keyword "contains", params {minContains} (and maxContains when the
		 * schema has it), after the errors of the items that did not match,
		 * as far as ajv looks: it stops at the item that decides (the
		 * minContains-th match without maxContains, the match beyond
		 * maxContains), so later items' errors are not reported.  Every item
		 * is still evaluated, for the annotations unevaluatedItems reads.
		 * minContains 0 without maxContains asks nothing; minContains above
		 * maxContains fails without looking at the items.
		 */
		bool		asks = !(maxc < 0 && minc == 0);
		bool		impossible = maxc >= 0 && minc > maxc;
		bool		decided = !asks || impossible;
		bool		valid;

		if (saved && !decided)
			v->speculative++;	/* the items' errors may be dropped: no max_errors stop */
		js_iter_init(&it, jc);
		for (i = 0; js_iter_next_elem(&it, &e); i++)
		{
			bool		matched;

			CHECK_FOR_INTERRUPTS();
			v->collect = saved && !decided;
			KPUSH(v, "contains");
			IPUSH_I(v, i);
			matched = eval(v, s->contains, &e, NULL);
			IPOP(v);
			KPOP(v);
			if (matched)
			{
				count++;
				if (ev && s->draft >= JS_DRAFT2020 && i < ev->nitems)
					ev->items[i] = true;
				if ((maxc >= 0 && count > maxc) || (maxc < 0 && count >= minc))
					decided = true;
			}
		}
		v->collect = saved;
		if (saved && asks && !impossible)
			v->speculative--;
		valid = !asks || (!impossible && count >= minc && (maxc < 0 || count <= maxc));
		if (valid)
			v->nerr = saved_nerr;	/* the items that did not match are no error */
		else
		{
			ADD_ERROR(v, s, "contains", NULL,
					  maxc >= 0 ? psprintf("{\"minContains\": " INT64_FORMAT ", \"maxContains\": " INT64_FORMAT "}", minc, maxc)
					  : psprintf("{\"minContains\": " INT64_FORMAT "}", minc),
					  maxc >= 0 ? msg(v, M_MAX_CONTAINS, int_text(minc), int_text(maxc))
					  : msg(v, M_MIN_CONTAINS, int_text(minc), NULL));
			FAILR();
		}
	}
	return ok;
}

static JsSchema *
dynamic_target(JsV *v, JsSchema *s)
{
	JsSchema   *t = s->dynref;
	int			i;

	if (s->dynref_anchor && t->dynamic_anchor &&
		strcmp(t->dynamic_anchor, s->dynref_anchor) == 0)
	{
		for (i = 0; i < v->slen; i++)
		{
			ListCell   *lc;

			foreach(lc, v->scope[i]->anchors)
			{
				JsAnchor   *a = lfirst(lc);

				if (a->dynamic && strcmp(a->name, s->dynref_anchor) == 0)
					return a->schema;
			}
		}
	}
	return t;
}

static JsSchema *
recursive_target(JsV *v, JsSchema *s)
{
	JsSchema   *t = s->resource->root;
	int			i;

	if (s->resource->recursive_anchor)
	{
		for (i = 0; i < v->slen; i++)
			if (v->scope[i]->recursive_anchor)
				return v->scope[i]->root;
	}
	return t;
}

/*
 * ajv's schemaPath base for the $ref of schema "s" (ref.ts, resolveRef and
 * getJsonPointer in compile/index.ts): a JSON pointer naming a schema that is
 * only a $ref goes on to that one's target, and so on; the schema reached is
 * inlined when it holds no reference keyword (paths start with the $ref as
 * written), else compiled on its own (paths start at "#").
 */
static void
ajv_ref_base(JsV *v, const JsSchema *s)
{
	const JsSchema *t = s->ref;
	const char *text = s->ref_text;
	int			skip = 0;

	while (t && !t->is_bool && t->ajv_ref_only && t->ref && skip < 64)
	{
		const char *hash = strchr(text, '#');
		const char *next = strchr(t->ref_text, '#');

		/* only a JSON pointer goes on, and not to an anchor (ajv finds none there) */
		if (hash == NULL || hash[1] != '/' || (next && next[1] != '\0' && next[1] != '/'))
			break;
		text = t->ref_text;
		t = t->ref;
		skip++;
	}
	v->sp_anchor = t;
	v->sp_base = t && t->ajv_inline ? s->ref_text : "#";
	v->sp_skip = skip;
}

static bool
eval_ref(JsV *v, JsSchema *owner, JsSchema *target, const char *kw, const JsonbValue *inst, JsEval *ev)
{
	bool		r;
	const char *saved_base = v->sp_base;
	const JsSchema *saved_anchor = v->sp_anchor;

	if (v->collect && owner && owner->ref == target)
	{
		if (v->sp_skip > 0)
			v->sp_skip--;		/* a step of a chain ajv followed at once */
		else
			ajv_ref_base(v, owner);
	}
	else if (v->collect)
	{
		/* $dynamicRef, $recursiveRef: ajv calls the target's own function, its paths start at "#" */
		v->sp_base = "#";
		v->sp_anchor = target;
		v->sp_skip = 0;
	}
	KPUSH(v, kw);
	v->refs_crossed++;
	r = eval(v, target, inst, ev);
	v->refs_crossed--;
	KPOP(v);
	v->sp_base = saved_base;
	v->sp_anchor = saved_anchor;
	return r;
}

/* ---------- ajv-errors' errorMessage ---------- */

/* ajv's fields of an error: "instancePath", ... "message" (no braces) */
static void
append_ajv_fields(StringInfo buf, const JsError *e)
{
	appendStringInfoString(buf, "\"instancePath\": ");
	escape_json(buf, e->instance_location);
	appendStringInfoString(buf, ", \"schemaPath\": ");
	escape_json(buf, e->schema_path);
	appendStringInfoString(buf, ", \"keyword\": ");
	escape_json(buf, e->keyword);
	appendStringInfo(buf, ", \"params\": %s, \"message\": ", e->params);
	escape_json(buf, e->message);
}

static void
append_error_json(StringInfo buf, const JsError *e)
{
	appendStringInfoChar(buf, '{');
	append_ajv_fields(buf, e);
	appendStringInfoString(buf, ", \"emUsed\": true}");
}

/* a string member of an object, or NULL */
static char *
member_text(const JsonbValue *obj, const char *key, int len)
{
	JsonbValue	m;

	if (!js_is_object(obj) || !js_object_find(obj->val.binary.data, key, len, &m) || m.type != jbvString)
		return NULL;
	return pnstrdup(m.val.string.val, m.val.string.len);
}

/* the name in "{"missingProperty": "x"}"-like params, for required/dependentRequired maps */
static char *
param_text(const char *params, const char *key)
{
	Jsonb	   *p = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(params)));
	JsonbValue	root;

	js_root_value(p, &root);
	return member_text(&root, key, strlen(key));
}

/*
 * errorMessage (ajv-errors): a string replaces every error of the schema
 * and its subschemas by one error; an object replaces the errors of the
 * keywords it names ("required" and "dependentRequired" by property),
 * "properties"/"items" the errors of those children, "_" all others.  The
 * replaced errors go to params.errors, as ajv-errors has them.
 */
static void
apply_error_message(JsV *v, JsSchema *s, int from)
{
	int			n = v->nerr - from;
	JsError   **orig;
	char	   *here;
	char	   *own_prefix;
	char	  **msgs;
	char	  **locs;
	bool	   *done;
	int			kept;

	if (n <= 0)
		return;
	orig = palloc(sizeof(JsError *) * n);
	memcpy(orig, v->errors + from, sizeof(JsError *) * n);
	here = render_path(v->ipath, v->ilen, NULL);
	own_prefix = psprintf("#%s/", s->ptr);
	msgs = palloc0(sizeof(char *) * n);
	locs = palloc0(sizeof(char *) * n);
	done = palloc0(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		JsError    *e = orig[i];
		bool		own = strcmp(e->instance_location, here) == 0 &&
			strncmp(e->schema_path, own_prefix, strlen(own_prefix)) == 0 &&
			strchr(e->schema_path + strlen(own_prefix), '/') == NULL;

		locs[i] = here;
		/* a message a subschema's errorMessage already gave stands */
		if (strcmp(e->keyword, "errorMessage") == 0)
			continue;
		if (s->error_message.type == jbvString)
		{
			msgs[i] = pnstrdup(s->error_message.val.string.val, s->error_message.val.string.len);
			continue;
		}
		if (own)
		{
			JsonbValue	kwv;

			if (js_object_find(s->error_message.val.binary.data, e->keyword, strlen(e->keyword), &kwv))
			{
				if (kwv.type == jbvString)
					msgs[i] = pnstrdup(kwv.val.string.val, kwv.val.string.len);
				else if (js_is_object(&kwv))
				{
					/* required: by the missing property; dependencies: by the property that has them */
					char	   *name = param_text(e->params, strcmp(e->keyword, "required") == 0 ? "missingProperty" : "property");
					if (name)
						msgs[i] = member_text(&kwv, name, strlen(name));
				}
			}
		}
		else
		{
			JsonbValue	props;
			size_t		hl = strlen(here);

			/* an error below a named property: "properties": {"name": "..."} */
			if (js_object_find(s->error_message.val.binary.data, "properties", 10, &props) && js_is_object(&props) &&
				strncmp(e->instance_location, here, hl) == 0 && e->instance_location[hl] == '/')
			{
				const char *seg = e->instance_location + hl + 1;
				const char *end = strchr(seg, '/');
				int			len = end ? end - seg : strlen(seg);
				StringInfoData name;

				initStringInfo(&name);
				for (int k = 0; k < len; k++)
				{
					if (seg[k] == '~' && k + 1 < len)
					{
						appendStringInfoChar(&name, seg[k + 1] == '1' ? '/' : '~');
						k++;
					}
					else
						appendStringInfoChar(&name, seg[k]);
				}
				msgs[i] = member_text(&props, name.data, name.len);
				if (msgs[i])
					locs[i] = psprintf("%s/%.*s", here, len, seg);
			}
		}
		if (msgs[i] == NULL)
			msgs[i] = member_text(&s->error_message, "_", 1);
	}
	/* keep the errors no message claims, then one error per message and place */
	kept = from;
	for (int i = 0; i < n; i++)
		if (msgs[i] == NULL)
			v->errors[kept++] = orig[i];
	v->nerr = kept;
	for (int i = 0; i < n; i++)
	{
		StringInfoData params;
		JsError    *e;
		int			count = 0;

		if (msgs[i] == NULL || done[i])
			continue;
		initStringInfo(&params);
		appendStringInfoString(&params, "{\"errors\": [");
		for (int j = i; j < n; j++)
		{
			if (msgs[j] == NULL || done[j] || strcmp(msgs[j], msgs[i]) != 0 || strcmp(locs[j], locs[i]) != 0)
				continue;
			if (count++ > 0)
				appendStringInfoString(&params, ", ");
			append_error_json(&params, orig[j]);
			done[j] = true;
		}
		appendStringInfoString(&params, "]}");
		add_error(v, s, "errorMessage", NULL, params.data, msgs[i]);
		e = v->errors[v->nerr - 1];
		e->instance_location = locs[i];
		e->title = NULL;
		e->message = msgs[i];
	}
}

static bool
eval(JsV *v, JsSchema *s, const JsonbValue *inst, JsEval *ev)
{
	bool		ok = true;
	bool		pushed_scope = false;
	int			i;
	bool		r;
	JsEval	   *parent_ev = NULL;
	int			ann_saved = v->nann;
	int			warn_saved = v->nwarn;
	int			err_saved = v->nerr;
	bool		type_failed = false;
	const char *title_saved = v->title;
	int			title_ilen_saved = v->title_ilen;

	if (s->is_bool)
	{
		if (s->bool_value)
			return true;
		ADD_ERROR(v, s, NULL, "false schema", "{}", msg(v, M_FALSE, NULL, NULL));
		return false;
	}

	/* a broken reference or a cycle compile time found out of reach (js_compile.c) */
	if (unlikely(s->deferred_error != NULL))
		ereport(ERROR, (errcode(s->deferred_sqlstate), errmsg_internal("%s", s->deferred_error)));

	/* our own error before the stack's, so that it carries our SQLSTATE */
	if (v->depth >= JS_MAX_EVAL_DEPTH || stack_is_too_deep())
		ereport(ERROR,
				(errcode(ERRCODE_LJ_TOO_DEEP),
				 errmsg("JSON Schema validation is nested too deeply"),
				 errdetail("%d schema levels deep at \"%s#%.160s\": the schema recurses without end, or the instance is nested too deeply.",
						   v->depth, s->resource->uri, s->ptr)));
	v->depth++;
	if (s->title && v->collect && v->o->titles)
	{
		v->title = s->title;
		v->title_ilen = v->ilen;
	}

	if (v->track_scope && (v->slen == 0 || v->scope[v->slen - 1] != s->resource))
	{
		if (v->slen >= v->scap)
		{
			v->scap = v->scap ? v->scap * 2 : 16;
			v->scope = v->scope ? repalloc(v->scope, sizeof(JsResource *) * v->scap)
				: palloc(sizeof(JsResource *) * v->scap);
		}
		v->scope[v->slen++] = s->resource;
		pushed_scope = true;
	}
	/*
	 * unevaluated* sees only what this schema's own keywords evaluated, not
	 * its siblings' in the parent: a fresh record, handed up at the end.
	 */
	if (s->needs_eval)
	{
		parent_ev = ev;
		ev = eval_new(inst);
	}

	if (s->has_refs)
	{
		if (s->ref && !eval_ref(v, s, s->ref, "$ref", inst, ev))
			FAIL();
		if (s->dynref && !eval_ref(v, NULL, dynamic_target(v, s), "$dynamicRef", inst, ev))
			FAIL();
		if (s->recursive_ref && !eval_ref(v, NULL, recursive_target(v, s), "$recursiveRef", inst, ev))
			FAIL();
	}

	if (s->validation)
	{
		if (s->types && (!type_matches(s->types, inst) ||
						 (s->draft == JS_DRAFT4 && inst->type == jbvNumeric &&
						  !(s->types & JS_T_NUMBER) && !draft4_integer(inst->val.numeric))))
		{
			/* ajv: params.type is the schema's "type" (a name, or the array as written) */
			const char *t = s->type_array_names ? s->type_array_names : types_text(s->types);

			ADD_ERROR(v, s, "type", NULL,
					  s->type_array_json ? psprintf("{\"type\": %s}", s->type_array_json)
					  : psprintf("{\"type\": %s}", json_string(t, strlen(t))),
					  msg(v, M_TYPE, t, NULL));
			type_failed = true;
			FAIL();
		}
		if (s->has_const && !js_json_equal(&s->const_value, inst))
		{
			ADD_ERROR(v, s, "const", NULL,
					  psprintf("{\"allowedValue\": %s}", value_json(&s->const_value)),
					  msg(v, M_CONST, NULL, NULL));
			FAIL();
		}
		if (s->n_enum)
		{
			bool		found = false;

			for (i = 0; i < s->n_enum && !found; i++)
				found = js_json_equal(&s->enum_values[i], inst);
			if (!found)
			{
				ADD_ERROR(v, s, "enum", NULL,
						  psprintf("{\"allowedValues\": %s}", value_json(&s->enum_array)),
						  msg(v, M_ENUM, NULL, NULL));
				FAIL();
			}
		}
	}

	switch (inst->type)
	{
		case jbvString:
			if (s->has_string_kw && !eval_string(v, s, inst))
				FAIL();
			break;
		case jbvNumeric:
			if (s->has_number_kw && !eval_number(v, s, inst))
				FAIL();
			break;
		case jbvBinary:
			if (JsonContainerIsObject(inst->val.binary.data))
			{
				if (s->has_object_kw && !eval_object(v, s, inst, ev))
					FAIL();
			}
			else if (s->has_array_kw && !eval_array(v, s, inst, ev))
				FAIL();
			break;
		default:
			break;
	}

	if (!s->has_inplace)
		goto unevaluated;

	for (i = 0; i < s->n_all_of; i++)
	{
		KPUSH(v, "allOf");
		KPUSH_I(v, i);
		r = eval(v, s->all_of[i], inst, ev);
		KPOP(v);
		KPOP(v);
		if (!r)
			FAIL();
	}

	if (s->n_any_of)
	{
		int			saved_nerr = v->nerr;
		bool		any = false;

		v->speculative++;
		for (i = 0; i < s->n_any_of; i++)
		{
			JsEval	   *tev = ev ? eval_new(inst) : NULL;

			KPUSH(v, "anyOf");
			KPUSH_I(v, i);
			r = eval(v, s->any_of[i], inst, tev);
			KPOP(v);
			KPOP(v);
			if (r)
			{
				any = true;
				eval_merge(ev, tev);
				if (ev == NULL)
					break;
			}
		}
		v->speculative--;
		if (any)
			v->nerr = saved_nerr;
		else
		{
			ADD_ERROR(v, s, "anyOf", NULL, "{}", msg(v, M_ANY_OF, NULL, NULL));
			FAIL();
		}
	}

	if (s->n_one_of)
	{
		int			saved_nerr = v->nerr;
		int			first = -1,
					second = -1;
		JsEval	   *valid_ev = NULL;

		v->speculative++;
		for (i = 0; i < s->n_one_of; i++)
		{
			JsEval	   *tev = ev ? eval_new(inst) : NULL;

			KPUSH(v, "oneOf");
			KPUSH_I(v, i);
			r = eval(v, s->one_of[i], inst, tev);
			KPOP(v);
			KPOP(v);
			if (r)
			{
				if (first < 0)
				{
					first = i;
					valid_ev = tev;
				}
				else
				{
					second = i;
					break;
				}
			}
		}
		v->speculative--;
		if (first >= 0 && second < 0)
		{
			v->nerr = saved_nerr;
			eval_merge(ev, valid_ev);
		}
		else
		{
			if (first >= 0)
				v->nerr = saved_nerr;
			ADD_ERROR(v, s, "oneOf", NULL,
					  first >= 0 ? psprintf("{\"passingSchemas\": [%d, %d]}", first, second)
					  : "{\"passingSchemas\": null}",
					  msg(v, M_ONE_OF, NULL, NULL));
			FAIL();
		}
	}

	if (s->not)
	{
		bool		saved = v->collect;

		v->collect = false;
		r = eval(v, s->not, inst, NULL);
		v->collect = saved;
		if (r)
		{
			ADD_ERROR(v, s, "not", NULL, "{}", msg(v, M_NOT, NULL, NULL));
			FAIL();
		}
	}

	if (s->if_)
	{
		bool		saved = v->collect;
		JsEval	   *tev = ev ? eval_new(inst) : NULL;
		JsSchema   *branch;
		const char *bkw;

		v->collect = false;
		r = eval(v, s->if_, inst, tev);
		v->collect = saved;
		if (r)
		{
			eval_merge(ev, tev);
			branch = s->then_;
			bkw = "then";
		}
		else
		{
			branch = s->else_;
			bkw = "else";
		}
		if (branch)
		{
			KPUSH(v, bkw);
			r = eval(v, branch, inst, ev);
			KPOP(v);
			if (!r)
			{
				ADD_ERROR(v, s, "if", NULL,
						  psprintf("{\"failingKeyword\": \"%s\"}", bkw),
						  msg(v, M_IF, bkw, NULL));
				FAIL();
			}
		}
	}

unevaluated:
	/* unevaluated*: last, once every other keyword has left its annotations */
	if (!s->needs_eval)
		goto extensions;
	if (s->unevaluated_props && js_is_object(inst))
	{
		JsIter		it;
		JsonbValue	key,
					val;

		js_iter_init(&it, inst->val.binary.data);
		for (i = 0; js_iter_next_pair(&it, &key, &val); i++)
		{
			if (ev->all_props || ev->props[i])
				continue;
			ev->props[i] = true;
			if (s->unevaluated_props->is_bool && !s->unevaluated_props->bool_value)
			{
				ADD_ERROR(v, s, "unevaluatedProperties", NULL,
						  psprintf("{\"unevaluatedProperty\": %s}",
								   json_string(key.val.string.val, key.val.string.len)),
						  msg(v, M_UNEVAL_PROPS, NULL, NULL));
				FAIL();
				continue;
			}
			KPUSH(v, "unevaluatedProperties");
			IPUSH_N(v, key.val.string.val, key.val.string.len);
			r = eval(v, s->unevaluated_props, &val, NULL);
			IPOP(v);
			KPOP(v);
			if (!r)
				FAIL();
		}
	}
	if (s->unevaluated_items && js_is_array(inst))
	{
		JsIter		it;
		JsonbValue	e;

		js_iter_init(&it, inst->val.binary.data);
		for (i = 0; js_iter_next_elem(&it, &e); i++)
		{
			if (ev->all_items || ev->items[i])
				continue;
			ev->items[i] = true;
			if (s->unevaluated_items->is_bool && !s->unevaluated_items->bool_value)
			{
				int			nev = i;

				ADD_ERROR(v, s, "unevaluatedItems", NULL,
						  psprintf("{\"limit\": %d}", nev),
						  msg(v, M_MAX_ITEMS, int_text(nev), NULL));
				FAIL();
				break;
			}
			KPUSH(v, "unevaluatedItems");
			IPUSH_I(v, i);
			r = eval(v, s->unevaluated_items, &e, NULL);
			IPOP(v);
			KPOP(v);
			if (!r)
				FAIL();
		}
	}

extensions:
	/*
	 * Extension keywords (x-rules) last, where this schema applies; not on a
	 * value of the wrong type, whose error says enough.
	 */
	if (s->ext && v->o->ext_validate && !type_failed)
	{
		JsExtCall	call;

		memset(&call, 0, sizeof(call));
		call.instance = inst;
		call.collect = v->collect;
		call.v = v;
		call.schema = s;
		if (v->collect)
		{
			call.instance_location = render_path(v->ipath, v->ilen, NULL);
			for (i = 0; i < v->ilen; i++)
				if (v->ipath[i].index >= 0)
					call.through_array = true;
		}
		if (!v->o->ext_validate(s->ext, &call, v->o->ext_arg))
			FAIL();
	}

done:
	if (!ok && s->has_error_message && v->collect)
		apply_error_message(v, s, err_saved);
	/* annotations (and warnings) of a failing schema are dropped, with its subschemas' */
	if (!ok)
	{
		v->nann = ann_saved;
		/* warnings of a branch that did not apply (oneOf, anyOf, if) go with it */
		if (v->speculative > 0)
			v->nwarn = warn_saved;
	}
	else if (s->n_annotations && v->o->annotate && v->collect)
		add_annotations(v, s);
	if (parent_ev)
		eval_merge(parent_ev, ev);
	if (pushed_scope)
		v->slen--;
	v->title = title_saved;
	v->title_ilen = title_ilen_saved;
	v->depth--;
	return ok;
}

bool
js_validate(JsCompiled *c, Jsonb *instance, const JsValidateOptions *opts,
			JsResult *result)
{
	JsV			v;
	JsonbValue	root;
	bool		ok;

	/*
	 * The fast path (js_fast.c): its answer stands when no error is wanted;
	 * when errors are collected, a valid answer stands (no error to build,
	 * no warning of an extension to miss) and anything else comes here.
	 * Annotations are the full validator's.
	 */
	if (c->fast && js_fast_path_mode != JS_FAST_OFF && !opts->annotate &&
		!(opts->collect && c->has_ext))
	{
		int			f = js_fast_validate(c->fast, instance, opts);

		if (js_fast_path_mode == JS_FAST_CHECK && f != FAST_UNKNOWN)
		{
			JsValidateOptions flag = *opts;

			flag.collect = false;
			memset(&v, 0, sizeof(v));
			v.o = &flag;
			v.track_scope = c->uses_dynamic_scope;
			js_root_value(instance, &root);
			if (eval(&v, c->root, &root, NULL) != (f == FAST_VALID))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg_internal("JSON Schema fast path says %s, the full validator %s",
										 f == FAST_VALID ? "valid" : "invalid",
										 f == FAST_VALID ? "invalid" : "valid")));
		}
		if (f == FAST_VALID || (f == FAST_INVALID && !opts->collect))
		{
			if (result)
				memset(result, 0, sizeof(*result));
			if (result)
				result->valid = (f == FAST_VALID);
			return f == FAST_VALID;
		}
	}

	memset(&v, 0, sizeof(v));
	v.o = opts;
	v.collect = opts->collect;
	v.track_scope = c->uses_dynamic_scope;
	js_root_value(instance, &root);
	ok = eval(&v, c->root, &root, NULL);
	if (result)
	{
		result->valid = ok;
		result->errors = v.errors;
		result->n_errors = v.nerr;
		if (opts->max_errors > 0 && result->n_errors > opts->max_errors)
			result->n_errors = opts->max_errors;
		result->annotations = v.anns;
		result->n_annotations = ok ? v.nann : 0;
		result->warnings = v.warns;
		result->n_warnings = v.nwarn;
	}
	return ok;
}

/* the full validator in flag mode on a subschema, "depth" schema levels down */
bool
js_eval_flag(JsSchema *s, const JsonbValue *inst, const JsValidateOptions *opts, int depth)
{
	JsValidateOptions flag = *opts;
	JsV			v;

	flag.collect = false;
	flag.annotate = false;
	memset(&v, 0, sizeof(v));
	v.o = &flag;
	v.depth = depth;
	return eval(&v, s, inst, NULL);
}

void
js_ext_report(JsExtCall *call, const char *keyword, const char *kw_path,
			  const char *instance_suffix, const char *params, char *message, bool warning)
{
	JsV		   *v = (JsV *) call->v;
	JsError    *e;

	if (!v->collect)
		return;
	if (!warning)
	{
		add_error(v, (JsSchema *) call->schema, kw_path, keyword, params, message);
		e = v->errors[v->nerr - 1];
	}
	else
	{
		int			saved = v->nerr;

		/* built as an error, then moved to the warnings */
		add_error(v, (JsSchema *) call->schema, kw_path, keyword, params, message);
		e = v->errors[saved];
		v->nerr = saved;
		if (v->nwarn >= v->warncap)
		{
			v->warncap = v->warncap ? v->warncap * 2 : 8;
			v->warns = v->warns ? repalloc(v->warns, sizeof(JsError *) * v->warncap)
				: palloc(sizeof(JsError *) * v->warncap);
		}
		v->warns[v->nwarn++] = e;
	}
	/* the author's message stands as written */
	e->title = NULL;
	e->message = message;
	if (instance_suffix && instance_suffix[0])
		e->instance_location = psprintf("%s%s", e->instance_location, instance_suffix);
}

static void
append_unit(StringInfo buf, const JsError *e, bool annotation)
{
	appendStringInfo(buf, "{\"valid\": %s, \"instanceLocation\": ", annotation ? "true" : "false");
	escape_json(buf, e->instance_location);
	appendStringInfoString(buf, ", \"keywordLocation\": ");
	escape_json(buf, e->keyword_location);
	if (e->absolute_keyword_location)
	{
		appendStringInfoString(buf, ", \"absoluteKeywordLocation\": ");
		escape_json(buf, e->absolute_keyword_location);
	}
	if (annotation)
	{
		appendStringInfo(buf, ", \"annotation\": %s, \"keyword\": ", e->params);
		escape_json(buf, e->keyword);
		appendStringInfoChar(buf, '}');
		return;
	}
	appendStringInfoString(buf, ", \"error\": ");
	escape_json(buf, e->message);
	appendStringInfoString(buf, ", ");
	append_ajv_fields(buf, e);
	if (e->title)
	{
		appendStringInfoString(buf, ", \"title\": ");
		escape_json(buf, e->title);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * The result as JSON text: {"valid": ..., "errors": [...]} where the root
 * and each error are output units of the 2020-12 "basic" format, each
 * error also carrying ajv's fields.  JS_OUTPUT_BASIC follows that format
 * strictly: a valid result carries "annotations" instead of "errors".
 */
void
js_result_append_json(StringInfo buf, const JsResult *result, JsOutput output)
{
	int			i;

	appendStringInfo(buf, "{\"valid\": %s", result->valid ? "true" : "false");
	if (output == JS_OUTPUT_FLAG)
	{
		appendStringInfoChar(buf, '}');
		return;
	}
	appendStringInfoString(buf, ", \"keywordLocation\": \"\", \"instanceLocation\": \"\"");
	if (output == JS_OUTPUT_BASIC && result->valid)
	{
		appendStringInfoString(buf, ", \"annotations\": [");
		for (i = 0; i < result->n_annotations; i++)
		{
			if (i > 0)
				appendStringInfoString(buf, ", ");
			append_unit(buf, result->annotations[i], true);
		}
		appendStringInfoString(buf, "]}");
		return;
	}
	appendStringInfoString(buf, ", \"errors\": [");
	for (i = 0; i < result->n_errors; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		append_unit(buf, result->errors[i], false);
	}
	appendStringInfoChar(buf, ']');
	/* warnings of extension keywords (x-rules with severity "warning"), only when there are some */
	if (result->n_warnings > 0)
	{
		appendStringInfoString(buf, ", \"warnings\": [");
		for (i = 0; i < result->n_warnings; i++)
		{
			if (i > 0)
				appendStringInfoString(buf, ", ");
			append_unit(buf, result->warnings[i], false);
		}
		appendStringInfoChar(buf, ']');
	}
	appendStringInfoChar(buf, '}');
}
