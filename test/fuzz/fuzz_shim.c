/*-------------------------------------------------------------------------
 *
 * fuzz_shim.c
 *	  Stand-ins for the few backend facilities the CEL and JsonLogic engine
 *	  cores use, so that test/fuzz/cel_fuzz.c and test/fuzz/jsonlogic_fuzz.c
 *	  can drive them without a server: palloc and friends (an arena freed after each input), StringInfo,
 *	  ereport/elog (ERROR jumps back to the harness), CHECK_FOR_INTERRUPTS and
 *	  check_stack_depth (a real stack-depth check, like the server's).
 *
 * Every allocation is a separate malloc() so that AddressSanitizer sees
 * each one.  Only for the standalone fuzz builds; never linked into the
 * extension.  (The JSON Schema harness links the real server code instead:
 * see jsonschema_fuzz.c.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <time.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "fuzz_shim.h"
#include "lc/lc_host.h"

/* printf-family calls in PostgreSQL headers are macros for pg_* versions */
#undef vsnprintf
#undef snprintf
#undef sprintf
#undef vsprintf
#undef fprintf
#undef qsort

volatile sig_atomic_t InterruptPending = 0;

sigjmp_buf *shim_error_jmp = NULL;
int			shim_last_sqlstate = 0;
char		shim_last_message[512];
char	   *shim_stack_base = NULL;
long		shim_max_stack_bytes = 1024L * 1024L;

static int	cur_elevel;

/* ---------------------------------------------------------------- memory */

typedef struct ShimChunk
{
	struct ShimChunk *prev;
	struct ShimChunk *next;
	size_t		size;
	/* payload follows, max-aligned */
} ShimChunk;

#define CHUNK_HDR MAXALIGN(sizeof(ShimChunk))

static ShimChunk arena = {&arena, &arena, 0};
size_t		shim_arena_bytes = 0;

static void *
shim_alloc(Size size, bool zero)
{
	ShimChunk  *c;

	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("invalid memory alloc request size %zu", size)));
	c = zero ? calloc(1, CHUNK_HDR + size) : malloc(CHUNK_HDR + size);
	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	c->size = size;
	c->next = arena.next;
	c->prev = &arena;
	arena.next->prev = c;
	arena.next = c;
	shim_arena_bytes += size;
	return (char *) c + CHUNK_HDR;
}

void *
palloc(Size size)
{
	return shim_alloc(size, false);
}

void *
palloc0(Size size)
{
	return shim_alloc(size, true);
}

void
pfree(void *pointer)
{
	ShimChunk  *c = (ShimChunk *) ((char *) pointer - CHUNK_HDR);

	c->prev->next = c->next;
	c->next->prev = c->prev;
	shim_arena_bytes -= c->size;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	ShimChunk  *c = (ShimChunk *) ((char *) pointer - CHUNK_HDR);
	void	   *n = palloc(size);

	memcpy(n, pointer, Min(size, c->size));
	pfree(pointer);
	return n;
}

void *
palloc_extended(Size size, int flags)
{
	return shim_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

char *
pnstrdup(const char *s, Size len)
{
	char	   *r;

	len = strnlen(s, len);
	r = palloc(len + 1);
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

char *
pstrdup(const char *s)
{
	return pnstrdup(s, strlen(s));
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	char		tmp[1];
	int			n;
	char	   *r;

	va_start(args, fmt);
	n = vsnprintf(tmp, 1, fmt, args);
	va_end(args);
	r = palloc(n + 1);
	va_start(args, fmt);
	vsnprintf(r, n + 1, fmt, args);
	va_end(args);
	return r;
}

void
shim_reset_arena(void)
{
	while (arena.next != &arena)
		pfree((char *) arena.next + CHUNK_HDR);
	shim_arena_bytes = 0;
}

/* ------------------------------------------------------------ StringInfo */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

StringInfo
makeStringInfo(void)
{
	StringInfo	s = palloc(sizeof(StringInfoData));

	initStringInfo(s);
	return s;
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	Size		newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory"),
				 errdetail("Cannot enlarge string buffer containing %d bytes by %d more bytes.",
						   str->len, needed)));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * (Size) str->maxlen;
	while ((Size) needed > newlen)
		newlen *= 2;
	if (newlen > MaxAllocSize)
		newlen = MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = (int) newlen;
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, (int) strlen(s));
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		enlargeStringInfo(str, 1);
	str->data[str->len] = ch;
	str->len++;
	str->data[str->len] = '\0';
}

int
appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	int			n = vsnprintf(str->data + str->len, avail, fmt, args);

	if (n < 0)
		elog(ERROR, "vsnprintf failed");
	if (n < avail)
	{
		str->len += n;
		return 0;
	}
	return n + 1;				/* caller enlarges and retries */
}

void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(str, needed);
	}
}

/* ------------------------------------------------------------ printf */

int
pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args)
{
	return vsnprintf(str, count, fmt, args);
}

int
pg_snprintf(char *str, size_t count, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(str, count, fmt, args);
	va_end(args);
	return n;
}

int
pg_sprintf(char *str, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsprintf(str, fmt, args);
	va_end(args);
	return n;
}

/* ------------------------------------------------------------ errors */

bool
message_level_is_interesting(int elevel)
{
	return true;				/* so that "log" formats its argument */
}

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	if (elevel >= ERROR)
	{
		shim_last_sqlstate = 0;
		shim_last_message[0] = '\0';
	}
	return true;				/* format every message: exercises the formats */
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	shim_last_sqlstate = sqlerrcode;
	return 0;
}

static void
format_into(char *buf, size_t len, const char *fmt, va_list args)
{
	vsnprintf(buf, len, fmt, args);
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	format_into(shim_last_message, sizeof(shim_last_message), fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	format_into(shim_last_message, sizeof(shim_last_message), fmt, args);
	va_end(args);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	char		buf[512];
	va_list		args;

	va_start(args, fmt);
	format_into(buf, sizeof(buf), fmt, args);
	va_end(args);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		buf[512];
	va_list		args;

	va_start(args, fmt);
	format_into(buf, sizeof(buf), fmt, args);
	va_end(args);
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel >= ERROR)
	{
		if (shim_error_jmp == NULL)
		{
			fprintf(stderr, "ERROR outside the harness: %s\n", shim_last_message);
			abort();
		}
		siglongjmp(*shim_error_jmp, 1);
	}
}

/* ------------------------------------------------------------ interrupts */

void
ProcessInterrupts(void)
{
	InterruptPending = 0;
}

void
check_stack_depth(void)
{
	char		here;

	if (shim_stack_base != NULL &&
		labs((long) (shim_stack_base - &here)) > shim_max_stack_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded")));
}

/* ------------------------------------------------------------ libc */

int
pg_strcasecmp(const char *s1, const char *s2)
{
	return strcasecmp(s1, s2);
}

void
pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}

/* ------------------------------------------------------------ host */

/*
 * The engines' host interface (src/lc/lc_host.h) in the fuzz builds.  No
 * regular expressions: the regex engine is the server's, which this build
 * does not have (the JSON Schema harness runs it against the real server
 * code).  Time zones: UTC only, through the C library.
 */
static int
fuzz_regex_match(LcRegexDialect dialect, const char *pattern, int plen,
				 const char *subject, int slen, char **errmsg)
{
	*errmsg = pstrdup("regular expressions are not available in the fuzz build");
	return -1;
}

static bool
fuzz_zone_local_time(const char *zone, int64 sec, LcLocalTime *lt, char **err)
{
	time_t		t = (time_t) sec;
	struct tm	tm;

	if (strcmp(zone, "UTC") != 0 || gmtime_r(&t, &tm) == NULL)
	{
		*err = psprintf("unknown time zone \"%s\"", zone);
		return false;
	}
	lt->year = (int64) tm.tm_year + 1900;
	lt->month = tm.tm_mon + 1;
	lt->mday = tm.tm_mday;
	lt->wday = tm.tm_wday;
	lt->yday = tm.tm_yday;
	lt->hour = tm.tm_hour;
	lt->minute = tm.tm_min;
	lt->second = tm.tm_sec;
	return true;
}

static const LcEngineHost fuzz_host = {
	.name = "fuzz",
	.regex_match = fuzz_regex_match,
	.zone_local_time = fuzz_zone_local_time,
	.max_alloc = MaxAllocSize,
	.budget_exhausted = NULL,	/* nothing to count */
};

const LcEngineHost *const lc_engine_host = &fuzz_host;
