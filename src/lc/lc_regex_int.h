/*-------------------------------------------------------------------------
 *
 * lc_regex_int.h
 *	  Private header of the regular expression library (lc_regex*.c):
 *	  code point sets (lc_regex_charset.c) and the translator to ARE
 *	  (lc_regex_translate.c, lc_regex_class.c), shared with the cache
 *	  (lc_regex.c).
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

/* ---- the translator's state, shared by lc_regex_translate.c (the grammar
 * of terms, groups and quantifiers) and lc_regex_class.c (escapes, Unicode
 * properties and bracket classes) ---- */

typedef struct Flags
{
	bool		icase;			/* i */
	bool		multiline;		/* m: ^ and $ at line ends */
	bool		dotall;			/* s: . matches \n */
} Flags;

typedef struct GroupInfo
{
	char	   *name;			/* NULL when unnamed */
	int			are_number;		/* ARE group number; 0 inside a lookaround */
	bool		closed;			/* closing parenthesis seen */
} GroupInfo;

typedef struct Tr
{
	LcRegexDialect dialect;
	const pg_wchar *p;			/* pattern code points */
	int			n;
	int			pos;
	/* output: ARE pattern as code points */
	pg_wchar   *out;
	int			outlen;
	int			outcap;
	/* error, when set translation stops */
	char	   *err;
	/* capturing groups of the source, numbered from 1 */
	GroupInfo  *groups;
	int			ngroups;		/* total, from the pre-pass */
	int			groups_opened;	/* opened so far */
	int			are_groups;		/* ARE capturing groups opened so far */
	int			lookaround_depth;
	bool		has_backrefs;	/* any \N or \k<name>: groups must capture */
	int			depth;
	Flags		flags;
} Tr;

/*
 * Result of parsing one escape or class atom: a single character, a set,
 * or something already written to the output (assertions, back
 * references).
 */
typedef enum EscKind
{
	ESC_CHAR,
	ESC_SET,
	ESC_EMITTED,
	ESC_BACKREF,				/* ECMA \N or \k<name>: the caller parses it */
	ESC_QUOTE,					/* RE2 \Q...\E: the caller parses it */
	ESC_ERROR
} EscKind;

static inline bool
tr_eof(Tr *t)
{
	return t->pos >= t->n;
}

static inline pg_wchar
tr_peek(Tr *t, int ahead)
{
	return t->pos + ahead < t->n ? t->p[t->pos + ahead] : (pg_wchar) -1;
}

static inline bool
is_ascii_alnum(pg_wchar c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Record the first error (later ones are dropped); the position is appended. */
extern void lctr_error(Tr *t, const char *fmt,...) pg_attribute_printf(2, 3);
/* Append ASCII text / a code point set, as ARE, to the output. */
extern void lctr_out_str(Tr *t, const char *s);
extern void lctr_out_set(Tr *t, CpSet *s);
/* Parse an escape (pos just after the backslash) / a bracket class (pos at '['). */
extern EscKind lctr_escape(Tr *t, bool in_class, pg_wchar *ch, CpSet *set);
extern void lctr_class(Tr *t);

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

#endif							/* LC_REGEX_INT_H */
