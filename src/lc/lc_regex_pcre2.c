/*-------------------------------------------------------------------------
 *
 * lc_regex_pcre2.c
 *	  ECMA-262 patterns on PCRE2 (JIT): the rewrite and the matcher.
 *
 * PCRE2 is compiled with UTF (code points, as ECMA-262's "u" patterns that
 * JSON Schema means), DOLLAR_ENDONLY ("$" is the end, not a final newline),
 * MATCH_UNSET_BACKREF
 * (a reference to a group that did not take part matches the empty string)
 * and NEVER_BACKSLASH_C, without UCP, so that \d \w \b stay ASCII as in
 * ECMA-262.  The rewrite changes what PCRE2 reads differently:
 *	  .        [^\n\r\x{2028}\x{2029}]  (ECMA's line terminators)
 *	  \s \S    ECMA's white space set (Unicode spaces, U+FEFF) and its complement
 *	  \v       \x{b} (PCRE2: vertical space class)
 *	  \cX      the control character;  \0  \x{0}
 *	  []  [^]  (?!)  (?s:.)  (nothing, anything)
 *	  \uXXXX \u{X...}  \x{...} (a surrogate pair becomes one code point)
 *	  \p{General_Category=X} \p{Script=X} \p{Script_Extensions=X}  \p{X} \p{sc:X} \p{scx:X}
 *	  \ + another letter  that letter (an identity escape; PCRE2 gives
 *	           \A \Z \h \R \e ... meanings of its own)
 * What it cannot express (\S inside a class, modifiers such as (?i:...),
 * whose Unicode case folding differs) gives NULL, as does any pattern
 * PCRE2 then refuses (a variable-length lookbehind): the caller keeps
 * PostgreSQL's engine for those.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "lc/lc_hex.h"
#include "lc/lc_regex_int.h"
#include "lc/lc_regex_pcre2.h"

struct LcPcre2
{
	pcre2_code *code;
	bool		jit;
};

/* ECMA-262 WhiteSpace and LineTerminator, as class items */
#define ECMA_SPACE "\\t\\n\\x{b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}"

/* \uXXXX at p (p[0] == '\\', p[1] == 'u'): the value, or -1 */
static int
u4(const char *p, const char *end)
{
	int			v = 0;

	if (end - p < 6)
		return -1;
	for (int i = 2; i < 6; i++)
	{
		int			h = lc_hex_digit((unsigned char) p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

char *
lc_pcre2_rewrite_ecma(const char *pattern, int len)
{
	StringInfoData out;
	const char *p = pattern;
	const char *end = pattern + len;
	bool		in_class = false;

	initStringInfo(&out);
	while (p < end)
	{
		char		c = *p;

		if (c == '\\' && p + 1 < end)
		{
			char		e = p[1];

			switch (e)
			{
				case 's':
					appendStringInfoString(&out, in_class ? ECMA_SPACE : "[" ECMA_SPACE "]");
					p += 2;
					continue;
				case 'S':
					if (in_class)
						return NULL;
					appendStringInfoString(&out, "[^" ECMA_SPACE "]");
					p += 2;
					continue;
				case 'v':
					appendStringInfoString(&out, "\\x{b}");
					p += 2;
					continue;
				case 'b':
					appendStringInfoString(&out, in_class ? "\\x{8}" : "\\b");
					p += 2;
					continue;
				case 'd':
				case 'D':
				case 'w':
				case 'W':
				case 'B':
				case 'n':
				case 'r':
				case 't':
				case 'f':
					appendBinaryStringInfo(&out, p, 2);
					p += 2;
					continue;
				case 'c':
					if (p + 2 < end && ((p[2] >= 'a' && p[2] <= 'z') || (p[2] >= 'A' && p[2] <= 'Z')))
					{
						appendStringInfo(&out, "\\x{%x}", p[2] % 32);
						p += 3;
						continue;
					}
					return NULL;
				case '0':
					if (p + 2 < end && p[2] >= '0' && p[2] <= '9')
						return NULL;	/* legacy octal */
					appendStringInfoString(&out, "\\x{0}");
					p += 2;
					continue;
				case 'x':
					if (end - p >= 4 && lc_hex_digit((unsigned char) p[2]) >= 0 && lc_hex_digit((unsigned char) p[3]) >= 0)
					{
						appendBinaryStringInfo(&out, p, 4);
						p += 4;
						continue;
					}
					return NULL;
				case 'u':
					if (p + 2 < end && p[2] == '{')
					{
						const char *q = p + 3;
						long		v = 0;

						while (q < end && lc_hex_digit((unsigned char) *q) >= 0 && v <= 0x10FFFF)
							v = v * 16 + lc_hex_digit((unsigned char) *q++);
						if (q >= end || *q != '}' || q == p + 3 || v > 0x10FFFF)
							return NULL;
						appendStringInfo(&out, "\\x{%lx}", v);
						p = q + 1;
						continue;
					}
					else
					{
						int			v = u4(p, end);

						if (v < 0)
							return NULL;
						if (v >= 0xD800 && v <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u')
						{
							int			lo = u4(p + 6, end);

							if (lo >= 0xDC00 && lo <= 0xDFFF)
							{
								appendStringInfo(&out, "\\x{%x}", 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
								p += 12;
								continue;
							}
						}
						/* a lone surrogate: PCRE2 refuses it, the caller falls back */
						appendStringInfo(&out, "\\x{%x}", v);
						p += 6;
						continue;
					}
				case 'p':
				case 'P':
					{
						const char *q = p + 3;
						const char *eq;
						const char *close;
						int			nlen;

						if (p + 2 >= end || p[2] != '{')
							return NULL;
						close = memchr(q, '}', end - q);
						if (close == NULL)
							return NULL;
						eq = memchr(q, '=', close - q);
						appendBinaryStringInfo(&out, p, 3);
						if (eq)
						{
							nlen = eq - q;
							if ((nlen == 16 && strncmp(q, "General_Category", 16) == 0) ||
								(nlen == 2 && strncmp(q, "gc", 2) == 0))
								;
							else if ((nlen == 6 && strncmp(q, "Script", 6) == 0) ||
									 (nlen == 2 && strncmp(q, "sc", 2) == 0))
								appendStringInfoString(&out, "sc:");
							else if ((nlen == 17 && strncmp(q, "Script_Extensions", 17) == 0) ||
									 (nlen == 3 && strncmp(q, "scx", 3) == 0))
								appendStringInfoString(&out, "scx:");
							else
								return NULL;
							q = eq + 1;
						}
						appendBinaryStringInfo(&out, q, close - q);
						appendStringInfoChar(&out, '}');
						p = close + 1;
						continue;
					}
				case 'k':
					/* \k<name>: the same in PCRE2 */
					appendBinaryStringInfo(&out, p, 2);
					p += 2;
					continue;
				default:
					if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
					{
						/* identity escape of a letter: the letter itself */
						appendStringInfoChar(&out, e);
						p += 2;
						continue;
					}
					/* a backreference's digit, punctuation, a non-ASCII character: the same in both */
					appendBinaryStringInfo(&out, p, 2);
					p += 2;
					continue;
			}
		}
		if (in_class)
		{
			if (c == ']')
				in_class = false;
			/* "[" is literal in an ECMA class; in PCRE2 "[:alpha:]" would be a POSIX class */
			if (c == '[')
				appendStringInfoChar(&out, '\\');
			appendStringInfoChar(&out, c);
			p++;
			continue;
		}
		if (c == '[')
		{
			/* ECMA's "[]" matches nothing and "[^]" anything */
			if (end - p >= 2 && p[1] == ']')
			{
				appendStringInfoString(&out, "(?!)");
				p += 2;
				continue;
			}
			if (end - p >= 3 && p[1] == '^' && p[2] == ']')
			{
				appendStringInfoString(&out, "(?s:.)");
				p += 3;
				continue;
			}
			in_class = true;
			appendStringInfoChar(&out, c);
			p++;
			if (p < end && *p == '^')
				appendStringInfoChar(&out, *p++);
			continue;
		}
		if (c == '(' && end - p >= 3 && p[1] == '?' && strchr("imsx-", p[2]) != NULL)
		{
			/* modifiers (?i:...): ECMA's Unicode case folding is not PCRE2's */
			return NULL;
		}
		if (c == '.')
		{
			appendStringInfoString(&out, "[^\\n\\r\\x{2028}\\x{2029}]");
			p++;
			continue;
		}
		appendStringInfoChar(&out, c);
		p++;
	}
	return out.data;
}

/* one match context, match data and JIT stack per backend */
static pcre2_match_context *mctx = NULL;
static pcre2_match_data *mdata = NULL;
static pcre2_jit_stack *jstack = NULL;

static void
matcher_init(void)
{
	if (mctx)
		return;
	mctx = pcre2_match_context_create(NULL);
	mdata = pcre2_match_data_create(1, NULL);
	/* the JIT's own stack: deep patterns need more than its 32 kB default */
	jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (mctx == NULL || mdata == NULL || jstack == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	pcre2_jit_stack_assign(mctx, NULL, jstack);
	pcre2_set_match_limit(mctx, LC_PCRE2_MATCH_LIMIT);
	/* the interpreter's backtracking memory, in KiB */
	pcre2_set_heap_limit(mctx, 64 * 1024);
}

LcPcre2 *
lc_pcre2_compile_ecma(const char *pattern, int len)
{
	char	   *rewritten = lc_pcre2_rewrite_ecma(pattern, len);
	int			err;
	PCRE2_SIZE	off;
	pcre2_code *code;
	LcPcre2    *re;

	if (rewritten == NULL)
		return NULL;
	code = pcre2_compile((PCRE2_SPTR) rewritten, strlen(rewritten),
						 PCRE2_UTF | PCRE2_DOLLAR_ENDONLY |
						 PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK,
						 &err, &off, NULL);
	pfree(rewritten);
	if (code == NULL)
		return NULL;
	re = MemoryContextAlloc(TopMemoryContext, sizeof(LcPcre2));
	re->code = code;
	re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
	return re;
}

int
lc_pcre2_search(LcPcre2 *re, const char *subject, int len)
{
	int			rc;

	matcher_init();
	/*
	 * Text of a UTF-8 database is valid UTF-8: no check (the JIT's direct
	 * entry checks nothing, so check with pcre2_match otherwise).
	 */
	if (re->jit && GetDatabaseEncoding() == PG_UTF8)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR) subject, len, 0, PCRE2_NO_UTF_CHECK, mdata, mctx);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR) subject, len, 0,
						 GetDatabaseEncoding() == PG_UTF8 ? PCRE2_NO_UTF_CHECK : 0, mdata, mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	/* not UTF-8 (another database encoding): the caller's other engine decides */
	if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
		return -1;
	CHECK_FOR_INTERRUPTS();
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("regular expression match exceeded its budget"),
				 errdetail("The pattern backtracks more than %d steps (or too deep) on a subject of %d bytes.",
						   LC_PCRE2_MATCH_LIMIT, len),
				 errhint("Simplify the pattern: nested quantifiers such as (a+)+ backtrack exponentially.")));
	{
		PCRE2_UCHAR buf[256];

		pcre2_get_error_message(rc, buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("regular expression failed: %s", (char *) buf)));
	}
	return 0;					/* not reached */
}

void
lc_pcre2_free(LcPcre2 *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	pfree(re);
}
