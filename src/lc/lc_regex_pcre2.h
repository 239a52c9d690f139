/*-------------------------------------------------------------------------
 *
 * lc_regex_pcre2.h
 *	  The matcher of ECMA-262 patterns (JSON Schema): PCRE2 with its JIT.
 *
 * The translator (lc_regex.h) stays the judge of what is a valid ECMA-262
 * pattern and keeps PostgreSQL's engine as the fallback; a pattern it
 * accepts is also rewritten for PCRE2 (the few places where PCRE2's syntax
 * means something else than ECMA-262's), compiled and JIT-compiled, and
 * searched on the UTF-8 subject directly: 10-50x faster than the
 * translation on PostgreSQL's engine (bench/regex_engines.sh,
 * docs/benchmarks.md).  A backtracking engine needs a budget: a search that
 * exceeds LC_PCRE2_MATCH_LIMIT steps raises 54000 (program_limit_exceeded)
 * instead of running without end.
 *
 * Compiled codes are malloc'd by PCRE2 and belong to the caller (the regex
 * cache), which frees them with lc_pcre2_free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_REGEX_PCRE2_H
#define LC_REGEX_PCRE2_H

/* steps (backtracking points) one search may take: about 4 ms with the JIT */
#define LC_PCRE2_MATCH_LIMIT 1000000

typedef struct LcPcre2 LcPcre2;

/*
 * Compile an ECMA-262 pattern (UTF-8, already accepted by the translator)
 * for PCRE2.  NULL when the pattern uses what the rewrite or PCRE2 does not
 * take with ECMA-262's meaning (a variable-length lookbehind, \S inside a
 * class, ...): the caller keeps using PostgreSQL's engine for it.
 */
extern LcPcre2 *lc_pcre2_compile_ecma(const char *pattern, int len);

/*
 * Search anywhere in "subject": 1 match, 0 none, -1 the subject is not
 * UTF-8 (a database in another encoding: ask the other engine).  Raises
 * 54000 past the budget.
 */
extern int	lc_pcre2_search(LcPcre2 *re, const char *subject, int len);

extern void lc_pcre2_free(LcPcre2 *re);

/* the PCRE2 text of an ECMA-262 pattern (palloc'd), NULL when not rewritable */
extern char *lc_pcre2_rewrite_ecma(const char *pattern, int len);

#endif							/* LC_REGEX_PCRE2_H */
