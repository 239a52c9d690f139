/*-------------------------------------------------------------------------
 *
 * lc_regex_charset.c
 *	  Code point sets of the regular expression translator: ranges, their
 *	  normal form, complement, union, case closure, and the fixed classes
 *	  (\d, \w, \s of ECMA-262 and RE2).
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h); this file
 * is part of the regular expression library (see lc_regex.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_regex_int.h"
#include "lc/lc_unicode.h"

/* ---------------------------------------------------------------------
 * Code point sets
 * ---------------------------------------------------------------------
 */

void
cpset_init(CpSet *s)
{
	s->cap = 8;
	s->n = 0;
	s->r = palloc(sizeof(CpRange) * s->cap);
}

void
cpset_add(CpSet *s, pg_wchar lo, pg_wchar hi)
{
	if (s->n == s->cap)
	{
		s->cap *= 2;
		s->r = repalloc(s->r, sizeof(CpRange) * s->cap);
	}
	s->r[s->n].lo = lo;
	s->r[s->n].hi = hi;
	s->n++;
}

/* cpset_add() as a callback of the lc_unicode range walkers (arg: the set) */
void
cpset_add_cb(void *arg, pg_wchar lo, pg_wchar hi)
{
	cpset_add((CpSet *) arg, lo, hi);
}

static int
range_cmp(const void *a, const void *b)
{
	const CpRange *x = a;
	const CpRange *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

/* Sort and merge overlapping or adjacent ranges. */
void
cpset_normalize(CpSet *s)
{
	int			j = 0;

	if (s->n <= 1)
		return;
	qsort(s->r, s->n, sizeof(CpRange), range_cmp);
	for (int i = 1; i < s->n; i++)
	{
		if (s->r[i].lo <= s->r[j].hi + 1)
		{
			if (s->r[i].hi > s->r[j].hi)
				s->r[j].hi = s->r[i].hi;
		}
		else
			s->r[++j] = s->r[i];
	}
	s->n = j + 1;
}

/* Replace s by its complement within [0, UNICODE_MAX]. */
void
cpset_complement(CpSet *s)
{
	CpSet		c;
	pg_wchar	next = 0;

	cpset_normalize(s);
	cpset_init(&c);
	for (int i = 0; i < s->n; i++)
	{
		if (s->r[i].lo > next)
			cpset_add(&c, next, s->r[i].lo - 1);
		next = s->r[i].hi + 1;
	}
	if (next <= UNICODE_MAX)
		cpset_add(&c, next, UNICODE_MAX);
	pfree(s->r);
	*s = c;
}

void
cpset_union(CpSet *dst, const CpSet *src)
{
	for (int i = 0; i < src->n; i++)
		cpset_add(dst, src->r[i].lo, src->r[i].hi);
}

bool
cpset_contains(const CpSet *s, pg_wchar c)
{
	int			lo = 0,
				hi = s->n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < s->r[mid].lo)
			hi = mid - 1;
		else if (c > s->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

typedef struct CaseCloseArg
{
	const CpSet *orig;
	CpSet	   *out;
} CaseCloseArg;

static void
case_close_cb(void *arg, pg_wchar lo, pg_wchar hi)
{
	CaseCloseArg *a = arg;

	/* lo == hi: one cased code point */
	if (cpset_contains(a->orig, lo))
	{
		for (pg_wchar c = lc_unicode_case_next(lo); c != lo; c = lc_unicode_case_next(c))
			cpset_add(a->out, c, c);
	}
}

/* Add every case variant of every member (simple case folding). */
void
cpset_case_close(CpSet *s)
{
	CpSet		orig;
	CaseCloseArg arg;

	cpset_normalize(s);
	orig.n = s->n;
	orig.cap = s->n > 0 ? s->n : 1;
	orig.r = palloc(sizeof(CpRange) * orig.cap);
	memcpy(orig.r, s->r, sizeof(CpRange) * s->n);
	arg.orig = &orig;
	arg.out = s;
	lc_unicode_cased_chars(case_close_cb, &arg);
	cpset_normalize(s);
	pfree(orig.r);
}

/* ---------------------------------------------------------------------
 * Fixed classes
 * ---------------------------------------------------------------------
 */
void
cpset_add_digit(CpSet *s)
{
	cpset_add(s, '0', '9');
}

void
cpset_add_word(CpSet *s)
{
	cpset_add(s, '0', '9');
	cpset_add(s, 'A', 'Z');
	cpset_add(s, '_', '_');
	cpset_add(s, 'a', 'z');
}

/* ECMA-262 WhiteSpace and LineTerminator */
void
cpset_add_ecma_space(CpSet *s)
{
	cpset_add(s, 0x09, 0x0D);
	cpset_add(s, 0x20, 0x20);
	cpset_add(s, 0xA0, 0xA0);
	cpset_add(s, 0x1680, 0x1680);
	cpset_add(s, 0x2000, 0x200A);
	cpset_add(s, 0x2028, 0x2029);
	cpset_add(s, 0x202F, 0x202F);
	cpset_add(s, 0x205F, 0x205F);
	cpset_add(s, 0x3000, 0x3000);
	cpset_add(s, 0xFEFF, 0xFEFF);
}

/* RE2 \s is [\t\n\f\r ] (no \v) */
void
cpset_add_re2_space(CpSet *s)
{
	cpset_add(s, 0x09, 0x0A);
	cpset_add(s, 0x0C, 0x0D);
	cpset_add(s, 0x20, 0x20);
}
