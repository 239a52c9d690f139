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
 * Compiled expressions live in a backend-wide LRU cache keyed by (dialect,
 * pattern).  The handle lc_regex_compile returns is allocated in the
 * caller's CurrentMemoryContext (so compile in the context that holds your
 * compiled form) and stays valid as long as that context: when the cache
 * has evicted its expression meanwhile, lc_regex_search compiles it again.
 * Callers never free handles themselves.  Neither function touches a table and
 * neither raises an error for a bad pattern: lc_regex_compile returns NULL
 * and an error message instead, so that callers can report where the
 * pattern was.  Both answer to query cancellation.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
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

/*
 * One-shot search with a pattern that changes from call to call (CEL
 * matches() with a computed pattern): compiles through the cache like
 * lc_regex_compile but allocates no handle.  Returns 1 for a match, 0 for
 * none, -1 when the pattern is invalid (*errmsg set).
 */
extern int	lc_regex_match(LcRegexDialect dialect, const char *pattern, int plen,
						   const char *subject, int slen, char **errmsg);

/*
 * Is "pattern" valid in its dialect (does it translate and compile)?  Like
 * lc_regex_compile but nothing is cached: for checking values (the JSON
 * Schema "regex" format) without evicting the patterns in use.
 */
extern bool lc_regex_is_valid(LcRegexDialect dialect, const char *pattern,
							  int len, char **errmsg);

/*
 * The ARE text a pattern translates to (UTF-8, palloc'd), or NULL with
 * *errmsg set; for lowcode.regex_translate() and error messages.
 */
extern char *lc_regex_translate(LcRegexDialect dialect, const char *pattern,
								int len, char **errmsg);

/*
 * A text argument of a SQL function, converted from the database encoding to
 * UTF-8 (palloc'd, NUL-terminated); *len is its length in bytes
 * (lc_regex_sql.c).
 */
struct varlena;
extern char *lc_text_to_utf8(struct varlena *t, int *len);

#endif							/* LC_REGEX_H */
