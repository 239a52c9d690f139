/*-------------------------------------------------------------------------
 *
 * lc_json.h
 *	  Reading one top-level field of a JSON object held in a setting
 *	  (request.jwt.claims, request.headers), and uuids, without raising
 *	  errors: the callers decide what a missing or malformed value means.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_JSON_H
#define LC_JSON_H

#include "utils/uuid.h"

typedef enum LcJsonFieldStatus
{
	LC_JSON_ABSENT,				/* no such key, or its value is null */
	LC_JSON_STRING,				/* a string value: *value is set */
	LC_JSON_NOT_STRING,			/* a number, boolean, object or array */
	LC_JSON_NOT_JSON			/* the text is not valid JSON */
} LcJsonFieldStatus;

extern LcJsonFieldStatus lc_json_top_field(const char *json, const char *key, bool case_insensitive,
										   char **value);
extern bool lc_parse_uuid(const char *s, pg_uuid_t *out);

#endif							/* LC_JSON_H */
