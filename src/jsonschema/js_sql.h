/*-------------------------------------------------------------------------
 *
 * js_sql.h
 *	  Settings and set-up of the JSON Schema SQL glue (js_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef JS_SQL_H
#define JS_SQL_H

extern int	jsonschema_cache_size;	/* lowcode.jsonschema_cache_size */
extern int	lowcode_locale;			/* lowcode.locale (JsLocale) */

extern void js_sql_init(void);

#endif							/* JS_SQL_H */
