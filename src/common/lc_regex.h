/*-------------------------------------------------------------------------
 *
 * lc_regex.h
 *	  Regular expressions of other languages on PostgreSQL's regex engine.
 *
 * JSON Schema patterns are ECMA-262 regular expressions and CEL's matches()
 * takes RE2 syntax.  Both are translated to PostgreSQL's ARE flavour and
 * compiled with its engine (regcomp.c), so no new regex engine enters the
 * server.  What cannot be translated is reported as a compile error.
 *
 * Compiled expressions live in a backend-wide cache keyed by (dialect,
 * pattern); callers never free them.  Neither function touches a table and
 * neither raises an error for a bad pattern: lc_regex_compile returns NULL
 * and an error message instead, so that callers can report where the
 * pattern was.  Both answer to query cancellation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_REGEX_H
#define LC_REGEX_H

typedef enum LcRegexDialect
{
	LC_REGEX_ECMA262,			/* JSON Schema "pattern", "patternProperties" */
	LC_REGEX_RE2				/* CEL matches() */
} LcRegexDialect;

typedef struct LcRegex LcRegex;

/*
 * Translate and compile "pattern" (UTF-8, "len" bytes).  Returns NULL when
 * the pattern is not valid in its dialect, with *errmsg set to a palloc'd
 * message (when errmsg is not NULL).
 */
extern LcRegex *lc_regex_compile(LcRegexDialect dialect, const char *pattern,
								 int len, char **errmsg);

/*
 * Does the regex match anywhere in "subject" (UTF-8, "len" bytes)?  Search
 * semantics (unanchored), as both ECMA-262 test() and RE2 partial match.
 */
extern bool lc_regex_search(LcRegex *re, const char *subject, int len);

#endif							/* LC_REGEX_H */
