/*-------------------------------------------------------------------------
 *
 * lc_regex.c
 *	  ECMA-262 and RE2 regular expressions on PostgreSQL's regex engine:
 *	  the entry points and the cache of compiled expressions.
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h).  The
 * regular expression library is four files: lc_regex_charset.c (code
 * point sets), lc_regex_translate.c (the dialects' parsers, writing ARE),
 * lc_regex_pcre2.c (the PCRE2 JIT matcher of ECMA-262 patterns, which a
 * cache slot holds beside the ARE one when the pattern can go there) and
 * this one.
 *
 * A pattern is parsed in its own dialect and rewritten into PostgreSQL's
 * ARE syntax, then compiled with pg_regcomp() under the C collation, as
 * utils/adt/regexp.c does.  Both sides work on Unicode code points: the
 * pattern and the subject are decoded from UTF-8 here (not with the
 * database encoding), so the engine sees the same characters whatever the
 * database encoding is.  With the C collation the engine's own classes are
 * ASCII-only, which is what ECMA-262 and RE2 want for \d, \w and \b; every
 * other class is computed here as an explicit set of code point ranges, so
 * the translation never depends on the engine's locale support.
 *
 * Matching is only ever asked "is there a match?", so greediness (which
 * differs between ARE and both dialects) never changes a result.
 *
 * Compiled expressions are kept in a backend-wide LRU cache of
 * LC_REGEX_CACHE_SIZE slots.  A handle (LcRegex) returned to a caller is
 * allocated in the caller's memory context and remembers its pattern; if
 * its slot has been reused by the time it is searched, the pattern is
 * compiled again.  So callers can keep handles in their own compiled forms
 * while the cache stays bounded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation_d.h"
#include "common/hashfn.h"
#include "lc/lc_regex.h"
#include "lc/lc_regex_int.h"
#include "lc/lc_regex_pcre2.h"
#include "lc/lc_unicode.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/memutils.h"

#define LC_REGEX_CACHE_SIZE		256
#define LC_REGEX_HASH_BUCKETS	512

/* ---------------------------------------------------------------------
 * Cache of compiled expressions
 * ---------------------------------------------------------------------
 */
typedef struct CacheSlot
{
	uint64		serial;			/* 0: free */
	LcRegexDialect dialect;
	uint32		hash;
	char	   *pattern;		/* in RegexCacheContext */
	int			len;
	regex_t		re;
	LcPcre2    *pcre;			/* ECMA-262: the PCRE2 matcher, NULL: use re */
	int			hash_next;		/* next slot in the bucket, -1 */
	int			lru_prev;		/* towards most recently used, -1 */
	int			lru_next;		/* towards least recently used, -1 */
} CacheSlot;

struct LcRegex
{
	LcRegexDialect dialect;
	int			len;
	uint32		hash;
	int			slot;
	uint64		serial;			/* the slot's serial when it was ours */
	char		pattern[FLEXIBLE_ARRAY_MEMBER];
};

static MemoryContext RegexCacheContext = NULL;
static CacheSlot cache[LC_REGEX_CACHE_SIZE];
static int	buckets[LC_REGEX_HASH_BUCKETS];
static int	lru_head = -1;		/* most recently used */
static int	lru_tail = -1;		/* least recently used */
static int	slots_used = 0;
static uint64 next_serial = 1;

static void
cache_init(void)
{
	if (RegexCacheContext)
		return;
	RegexCacheContext = AllocSetContextCreate(TopMemoryContext,
											  "lowcode regex cache",
											  ALLOCSET_SMALL_SIZES);
	for (int i = 0; i < LC_REGEX_HASH_BUCKETS; i++)
		buckets[i] = -1;
	memset(cache, 0, sizeof(cache));
}

static uint32
pattern_hash(LcRegexDialect dialect, const char *pattern, int len)
{
	return hash_bytes((const unsigned char *) pattern, len) ^ ((uint32) dialect * 0x9E3779B9);
}

static void
lru_unlink(int i)
{
	CacheSlot  *s = &cache[i];

	if (s->lru_prev >= 0)
		cache[s->lru_prev].lru_next = s->lru_next;
	else
		lru_head = s->lru_next;
	if (s->lru_next >= 0)
		cache[s->lru_next].lru_prev = s->lru_prev;
	else
		lru_tail = s->lru_prev;
	s->lru_prev = s->lru_next = -1;
}

static void
lru_push_front(int i)
{
	CacheSlot  *s = &cache[i];

	s->lru_prev = -1;
	s->lru_next = lru_head;
	if (lru_head >= 0)
		cache[lru_head].lru_prev = i;
	lru_head = i;
	if (lru_tail < 0)
		lru_tail = i;
}

static void
lru_touch(int i)
{
	if (lru_head == i)
		return;
	lru_unlink(i);
	lru_push_front(i);
}

static int
cache_find(LcRegexDialect dialect, uint32 hash, const char *pattern, int len)
{
	for (int i = buckets[hash % LC_REGEX_HASH_BUCKETS]; i >= 0; i = cache[i].hash_next)
	{
		CacheSlot  *s = &cache[i];

		if (s->hash == hash && s->dialect == dialect && s->len == len &&
			memcmp(s->pattern, pattern, len) == 0)
			return i;
	}
	return -1;
}

/* Free the least recently used slot and return its index. */
static int
cache_evict(void)
{
	int			i = lru_tail;
	CacheSlot  *s = &cache[i];
	int		   *link = &buckets[s->hash % LC_REGEX_HASH_BUCKETS];

	while (*link != i)
		link = &cache[*link].hash_next;
	*link = s->hash_next;
	lru_unlink(i);
	pg_regfree(&s->re);
	lc_pcre2_free(s->pcre);
	s->pcre = NULL;
	pfree(s->pattern);
	s->serial = 0;
	slots_used--;
	return i;
}

/*
 * Find or compile (dialect, pattern).  Returns the slot index, or -1 with
 * *errmsg set when the pattern does not translate or compile.
 */
static int
cache_lookup(LcRegexDialect dialect, uint32 hash, const char *pattern, int len, char **errmsg)
{
	int			i;
	pg_wchar   *are;
	int			arelen;
	regex_t		re;
	int			rc;
	CacheSlot  *s;
	char	   *msg = NULL;
	MemoryContext tmpcxt;
	MemoryContext oldcxt;

	cache_init();
	i = cache_find(dialect, hash, pattern, len);
	if (i >= 0)
	{
		lru_touch(i);
		return i;
	}

	/* Translation garbage goes away with a temporary context. */
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "lowcode regex translation",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	are = lc_regex_to_are(dialect, pattern, len, &arelen, &msg);
	if (are)
	{
		rc = pg_regcomp(&re, are, arelen, REG_ADVANCED | REG_NOSUB, C_COLLATION_OID);
		if (rc != REG_OKAY)
		{
			char		buf[256];

			/* the engine returns REG_CANCEL when a cancel is pending */
			MemoryContextSwitchTo(oldcxt);
			MemoryContextDelete(tmpcxt);
			CHECK_FOR_INTERRUPTS();
			pg_regerror(rc, &re, buf, sizeof(buf));
			*errmsg = psprintf("the regular expression engine rejected the translated pattern: %s",
							   buf);
			return -1;
		}
	}
	MemoryContextSwitchTo(oldcxt);
	if (!are)
	{
		*errmsg = pstrdup(msg);
		MemoryContextDelete(tmpcxt);
		return -1;
	}
	MemoryContextDelete(tmpcxt);

	if (slots_used < LC_REGEX_CACHE_SIZE)
	{
		for (i = 0; i < LC_REGEX_CACHE_SIZE; i++)
			if (cache[i].serial == 0)
				break;
		Assert(i < LC_REGEX_CACHE_SIZE);
	}
	else
		i = cache_evict();
	s = &cache[i];
	s->pattern = MemoryContextAlloc(RegexCacheContext, len + 1);
	memcpy(s->pattern, pattern, len);
	s->pattern[len] = '\0';
	s->len = len;
	s->dialect = dialect;
	s->hash = hash;
	s->re = re;
	/* the pattern is valid ECMA-262 (it translated): match it with PCRE2 where it can */
	s->pcre = dialect == LC_REGEX_ECMA262 ? lc_pcre2_compile_ecma(pattern, len) : NULL;
	s->serial = next_serial++;
	s->hash_next = buckets[hash % LC_REGEX_HASH_BUCKETS];
	buckets[hash % LC_REGEX_HASH_BUCKETS] = i;
	lru_push_front(i);
	slots_used++;
	return i;
}

LcRegex *
lc_regex_compile(LcRegexDialect dialect, const char *pattern, int len, char **errmsg)
{
	uint32		hash = pattern_hash(dialect, pattern, len);
	char	   *msg = NULL;
	int			i;
	LcRegex    *h;

	i = cache_lookup(dialect, hash, pattern, len, &msg);
	if (i < 0)
	{
		if (errmsg)
			*errmsg = msg;
		return NULL;
	}
	h = palloc(offsetof(LcRegex, pattern) + len + 1);
	h->dialect = dialect;
	h->len = len;
	h->hash = hash;
	h->slot = i;
	h->serial = cache[i].serial;
	memcpy(h->pattern, pattern, len);
	h->pattern[len] = '\0';
	return h;
}

/* Run the compiled expression of slot i over a UTF-8 subject. */
static bool
slot_search(int i, const char *subject, int len)
{
	CacheSlot  *s = &cache[i];
	pg_wchar   *wide;
	pg_wchar	stackbuf[256];
	int			n;
	int			rc;

	if (s->pcre && (rc = lc_pcre2_search(s->pcre, subject, len)) >= 0)
		return rc == 1;
	/* a subject of up to 1 GB takes 4 bytes a character: allow a huge buffer */
	wide = (len < lengthof(stackbuf)) ? stackbuf :
		palloc_extended(sizeof(pg_wchar) * ((Size) len + 1), MCXT_ALLOC_HUGE);
	n = lc_regex_decode_utf8(subject, len, wide, false);
	rc = pg_regexec(&s->re, wide, n, 0, NULL, 0, NULL, 0);
	if (wide != stackbuf)
		pfree(wide);
	if (rc == REG_OKAY)
		return true;
	if (rc == REG_NOMATCH)
		return false;
	{
		char		buf[256];

		CHECK_FOR_INTERRUPTS();
		pg_regerror(rc, &s->re, buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("regular expression failed: %s", buf)));
	}
	return false;				/* not reached */
}

bool
lc_regex_search(LcRegex *re, const char *subject, int len)
{
	if (RegexCacheContext == NULL || cache[re->slot].serial != re->serial)
	{
		/* our slot was reused: compile again (it compiled before) */
		char	   *msg = NULL;
		int			i = cache_lookup(re->dialect, re->hash, re->pattern, re->len, &msg);

		if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("could not recompile regular expression \"%.*s\"",
							pg_encoding_mbcliplen(PG_UTF8, re->pattern, re->len, 60), re->pattern),
					 errdetail("%s", msg)));
		re->slot = i;
		re->serial = cache[i].serial;
		elog(DEBUG2, "lowcode regex cache: compiled an evicted expression again");
	}
	else
		lru_touch(re->slot);
	return slot_search(re->slot, subject, len);
}

int
lc_regex_match(LcRegexDialect dialect, const char *pattern, int plen,
			   const char *subject, int slen, char **errmsg)
{
	char	   *msg = NULL;
	int			i = cache_lookup(dialect, pattern_hash(dialect, pattern, plen), pattern, plen, &msg);

	if (i < 0)
	{
		if (errmsg)
			*errmsg = msg;
		return -1;
	}
	return slot_search(i, subject, slen) ? 1 : 0;
}

bool
lc_regex_is_valid(LcRegexDialect dialect, const char *pattern, int len, char **errmsg)
{
	MemoryContext tmpcxt;
	MemoryContext oldcxt;
	pg_wchar   *are;
	int			arelen;
	char	   *msg = NULL;
	int			rc = REG_OKAY;
	regex_t		re;
	char		buf[256];

	/* already compiled and cached: valid */
	cache_init();
	if (cache_find(dialect, pattern_hash(dialect, pattern, len), pattern, len) >= 0)
		return true;

	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "lowcode regex check",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	are = lc_regex_to_are(dialect, pattern, len, &arelen, &msg);
	if (are)
	{
		rc = pg_regcomp(&re, are, arelen, REG_ADVANCED | REG_NOSUB, C_COLLATION_OID);
		if (rc == REG_OKAY)
			pg_regfree(&re);
		else
			pg_regerror(rc, &re, buf, sizeof(buf));
	}
	MemoryContextSwitchTo(oldcxt);
	if (!are)
	{
		if (errmsg)
			*errmsg = pstrdup(msg);
		MemoryContextDelete(tmpcxt);
		return false;
	}
	MemoryContextDelete(tmpcxt);
	if (rc != REG_OKAY)
	{
		CHECK_FOR_INTERRUPTS();
		if (errmsg)
			*errmsg = psprintf("the regular expression engine rejected the translated pattern: %s",
							   buf);
		return false;
	}
	return true;
}
