/*-------------------------------------------------------------------------
 *
 * cel_jsonb.h
 *	  Mapping between jsonb and CEL values (cel_jsonb.c).
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CEL_JSONB_H
#define CEL_JSONB_H

#include "utils/jsonb.h"
#include "cel/cel.h"

/* jsonb value -> CEL value; containers are wrapped lazily, strings not copied */
extern void cel_from_jsonb_value(const JsonbValue *jv, CelValue *out);

/* resolver over the top-level keys of a jsonb object (ctx: JsonbContainer *) */
extern bool cel_jsonb_resolver(void *ctx, const char *name, int len, CelValue *out);
extern bool cel_jsonb_path_resolver(void *ctx, const char *const *names, const int *lens,
									int n, CelValue *out);

/* CEL value -> jsonb; errors are raised (ereport) */
extern Jsonb *cel_to_jsonb(const CelValue *v);
extern JsonbValue *cel_to_jsonb_value(const CelValue *v, JsonbParseState **state, bool top);

/* finite double -> numeric with the shortest digits that read back as the same double */
extern Numeric cel_double_to_numeric(double d);

/* proto3 JSON of cel.expr.Value (conformance data) <-> CEL values */
extern bool cel_from_proto_json(JsonbValue *jv, CelValue *out, char **why);
extern Jsonb *cel_to_proto_json(const CelValue *v);

/* raise the PostgreSQL error for a CEL error value */
extern void cel_raise_error(const CelValue *err, const char *expr) pg_attribute_noreturn();
extern int	cel_error_sqlstate(CelErrorCode code);

/* the SQL glue's parse and evaluation, for other components (cel_sql.c) */
extern CelProgram *cel_sql_parse(const char *src, int len);
extern int	cel_sql_unknown_calls(CelProgram *prog, bool registered_known, CelParseError **problems);
extern void cel_sql_eval(const CelProgram *prog, CelResolver resolve, void *ctx, CelValue *out);

/*
 * cel_sql_eval() in an internal subtransaction, for a program that calls
 * registered SQL functions: an error raised inside is rolled back and
 * returned, copied into the caller's memory context; NULL when none.  What
 * the error means (a failed rule, a refused step, or an error to raise
 * again) is the caller's.
 */
struct ErrorData;
extern struct ErrorData *cel_sql_eval_isolated(const CelProgram *prog, CelResolver resolve, void *ctx,
											   CelValue *out);

#endif							/* CEL_JSONB_H */
