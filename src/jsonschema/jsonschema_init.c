/*-------------------------------------------------------------------------
 *
 * jsonschema_init.c
 *	  Entry point of the jsonschema component, called from _PG_init():
 *	  settings, and the document store's loader and invalidation callback.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "pg_lowcode.h"
#include "jsonschema/js_internal.h"

static const struct config_enum_entry locale_options[] = {
	{"en", JS_LOCALE_EN, false},
	{"zh-CN", JS_LOCALE_ZH_CN, false},
	{"zh_CN", JS_LOCALE_ZH_CN, true},
	{"zh", JS_LOCALE_ZH_CN, true},
	{"de", JS_LOCALE_DE, false},
	{"es", JS_LOCALE_ES, false},
	{"fr", JS_LOCALE_FR, false},
	{"ja", JS_LOCALE_JA, false},
	{"pt-BR", JS_LOCALE_PT_BR, false},
	{"pt_BR", JS_LOCALE_PT_BR, true},
	{"pt", JS_LOCALE_PT_BR, true},
	{NULL, 0, false}
};

static const struct config_enum_entry fast_path_options[] = {
	{"on", JS_FAST_ON, false},
	{"off", JS_FAST_OFF, false},
	{"check", JS_FAST_CHECK, false},
	{"true", JS_FAST_ON, true},
	{"false", JS_FAST_OFF, true},
	{"1", JS_FAST_ON, true},
	{"0", JS_FAST_OFF, true},
	{NULL, 0, false}
};

void
jsonschema_init(void)
{
	DefineCustomIntVariable("lowcode.jsonschema_cache_size",
							"Compiled JSON Schemas kept per backend (least recently used are dropped).",
							NULL,
							&jsonschema_cache_size,
							128, 0, 100000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("lowcode.locale",
							 "Language of validation messages: en, zh-CN, de, es, fr, ja or pt-BR.",
							 NULL,
							 &lowcode_locale,
							 JS_LOCALE_EN, locale_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("lowcode.jsonschema_fast_path",
							 "The JSON Schema validator's fast path: on, off, or check (run both, error when they disagree).",
							 "The fast path answers valid/invalid from a plan compiled with the schema; errors are always built by the full validator.",
							 &js_fast_path_mode,
							 JS_FAST_ON, fast_path_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	js_sql_init();
}
