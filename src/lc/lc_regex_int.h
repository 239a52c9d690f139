/*-------------------------------------------------------------------------
 *
 * lc_regex_int.h
 *	  Private header of the regular expression library (lc_regex*.c):
 *	  code point sets (lc_regex_charset.c) and the translator to ARE
 *	  (lc_regex_translate.c), shared with the cache (lc_regex.c).
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h).  Only the
 * lc_regex*.c files include this header; others use lc_regex.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_REGEX_INT_H
#define LC_REGEX_INT_H

#include "lc/lc_regex.h"
#include "mb/pg_wchar.h"

#define LC_REGEX_MAX_NESTING	500		/* parenthesis depth */
#define LC_REGEX_MAX_OUTPUT		(1024 * 1024)	/* code points of ARE text */
#define ARE_DUPMAX				255 /* the engine's largest bound */
#define UNICODE_MAX				0x10FFFF

/* ---- code point sets (lc_regex_charset.c): sorted, merged ranges once normalized ---- */

typedef struct CpRange
{
	pg_wchar	lo;
	pg_wchar	hi;
} CpRange;

typedef struct CpSet
{
	CpRange    *r;
	int			n;
	int			cap;
} CpSet;

extern void cpset_init(CpSet *s);
extern void cpset_add(CpSet *s, pg_wchar lo, pg_wchar hi);
extern void cpset_add_cb(void *arg, pg_wchar lo, pg_wchar hi);
extern void cpset_normalize(CpSet *s);
extern void cpset_complement(CpSet *s);
extern void cpset_union(CpSet *dst, const CpSet *src);
extern bool cpset_contains(const CpSet *s, pg_wchar c);
extern void cpset_case_close(CpSet *s);
extern void cpset_add_digit(CpSet *s);
extern void cpset_add_word(CpSet *s);
extern void cpset_add_ecma_space(CpSet *s);
extern void cpset_add_re2_space(CpSet *s);

/* ---- the translator (lc_regex_translate.c) ---- */

/*
 * Decode UTF-8 into code points.  Returns the count, or -1 for invalid
 * UTF-8 when strict; otherwise invalid bytes become U+FFFD.
 */
extern int	lc_regex_decode_utf8(const char *s, int len, pg_wchar *out, bool strict);

/*
 * Translate a pattern.  Returns the ARE pattern as code points (palloc'd,
 * *outlen set), or NULL with *errmsg set.
 */
extern pg_wchar *lc_regex_to_are(LcRegexDialect dialect, const char *pattern, int len,
								 int *outlen, char **errmsg);

/* the value of a hex digit, -1 when c is none (lc_regex_translate.c) */
extern int	lc_regex_hexval(pg_wchar c);

#endif							/* LC_REGEX_INT_H */
