/*-------------------------------------------------------------------------
 *
 * lc_http.h
 *	  Errors that reach HTTP clients through PostgREST.
 *
 * PostgREST 12 turns an error raised with SQLSTATE 'PGRST' into an HTTP
 * response: the message is a JSON object {"code","message","details","hint"}
 * that becomes the body, and the detail is {"status": N, "headers": {...}}.
 * Every such error of the project is listed in docs/errors.md.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_HTTP_H
#define LC_HTTP_H

#include "lc/lc_errcodes.h"

/*
 * Raise an HTTP error.  "code" is the project's error code (as listed in
 * docs/errors.md), "details" and "hint" may be NULL, "headers_json" is a
 * JSON object text of response headers or NULL.
 */
extern void lc_raise_http(int status, const char *code, const char *message,
						  const char *details, const char *hint,
						  const char *headers_json) pg_attribute_noreturn();

#endif							/* LC_HTTP_H */
