/*-------------------------------------------------------------------------
 *
 * js_format.h
 *	  JSON Schema "format" checkers.
 *
 * Pure functions of their input (no table access, no ereport for bad
 * values): date-time, date, time, duration, email, idn-email, hostname,
 * idn-hostname, ipv4, ipv6, uri, uri-reference, iri, iri-reference,
 * uri-template, uuid, regex, json-pointer, relative-json-pointer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef JS_FORMAT_H
#define JS_FORMAT_H

/*
 * Is "value" (UTF-8, "len" bytes) valid for "format"?  When the format is
 * not one this file checks, *known is set to false and the value is valid
 * (the specification says unknown formats must not fail validation).
 */
extern bool js_format_check(const char *format, const char *value, int len,
							bool *known);

#endif							/* JS_FORMAT_H */
