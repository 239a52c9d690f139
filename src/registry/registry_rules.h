/*-------------------------------------------------------------------------
 *
 * registry_rules.h
 *	  The registry's x-rules as an extension keyword of the JSON Schema
 *	  validator (registry_rules.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REGISTRY_RULES_H
#define REGISTRY_RULES_H

#include "jsonschema/jsonschema.h"

/* one validation: the stored data of the submission being updated, or NULL */
typedef struct RegRulesRun
{
	Jsonb	   *old;
} RegRulesRun;

/* hooks given to js_compile (arg NULL) and js_validate (arg a RegRulesRun or NULL) */
extern void *registry_rules_compile(const JsonbValue *schema, const char *base, const char *ptr, void *arg);
extern bool registry_rules_validate(void *ext, JsExtCall *call, void *arg);

/* ratcheting: the value at instance_location is the same in the instance and the old data */
extern bool registry_rules_unchanged(RegRulesRun *run, const char *instance_location, const JsonbValue *value);
extern bool registry_rules_ratchet_error(RegRulesRun *run, Jsonb *instance, const char *instance_location);

#endif							/* REGISTRY_RULES_H */
