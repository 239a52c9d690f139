/*-------------------------------------------------------------------------
 *
 * pg_shim.c
 *	  The few backend facilities the CEL engine core uses, for the
 *	  stand-alone fuzz build (test/fuzz/cel_fuzz.c): palloc and friends,
 *	  StringInfo, ereport, check_stack_depth and interrupts.
 *
 * Every allocation is a separate malloc() so that AddressSanitizer sees
 * each one; shim_reset() frees everything allocated since the previous
 * reset, as the reset of a memory context would.  ereport(ERROR) longjmps
 * to shim_error_jmp, set by the harness around each input.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "pg_shim.h"

sigjmp_buf *shim_error_jmp = NULL;
char		shim_last_error[256];
volatile sig_atomic_t InterruptPending = false;
char	   *shim_stack_base = NULL;

typedef struct Chunk
{
	struct Chunk *prev,
			   *next;
	size_t		size;
	/* data follows, aligned */
	max_align_t align[];
} Chunk;

static Chunk head = {&head, &head, 0};

static void *
shim_alloc(size_t size, bool zero)
{
	Chunk	   *c;

	if (size > MaxAllocSize)
	{
		snprintf(shim_last_error, sizeof(shim_last_error), "invalid memory alloc request size %zu", size);
		siglongjmp(*shim_error_jmp, 1);
	}
	c = zero ? calloc(1, sizeof(Chunk) + size) : malloc(sizeof(Chunk) + size);
	if (c == NULL)
		abort();
	c->size = size;
	c->next = head.next;
	c->prev = &head;
	head.next->prev = c;
	head.next = c;
	return c->align;
}

static Chunk *
chunk_of(void *p)
{
	return (Chunk *) ((char *) p - offsetof(Chunk, align));
}

void
shim_reset(void)
{
	while (head.next != &head)
	{
		Chunk	   *c = head.next;

		head.next = c->next;
		free(c);
	}
	head.prev = &head;
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

void *
palloc_extended(Size size, int flags)
{
	return shim_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *p)
{
	Chunk	   *c = chunk_of(p);

	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void *
repalloc(void *p, Size size)
{
	Chunk	   *c = chunk_of(p);
	void	   *n = shim_alloc(size, false);

	memcpy(n, p, Min(c->size, size));
	pfree(p);
	return n;
}

char *
pstrdup(const char *s)
{
	return pnstrdup(s, strlen(s));
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

/* ---- StringInfo ---- */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
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
	int			newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
	{
		snprintf(shim_last_error, sizeof(shim_last_error), "out of memory (string buffer)");
		siglongjmp(*shim_error_jmp, 1);
	}
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

int
appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	int			n = vsnprintf(str->data + str->len, avail, fmt, args);

	if (n >= avail)
	{
		str->data[str->len] = '\0';
		return n + 1;
	}
	str->len += n;
	return 0;
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
	appendBinaryStringInfo(str, s, strlen(s));
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

/* ---- errors ---- */

static int	shim_elevel;

bool
errstart(int elevel, const char *domain)
{
	shim_elevel = elevel;
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (shim_elevel >= ERROR)
		siglongjmp(*shim_error_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(shim_last_error, sizeof(shim_last_error), fmt, args);
	va_end(args);
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

/* ---- stack and interrupts ---- */

void
check_stack_depth(void)
{
	char		here;

	/* the backend's default max_stack_depth is 2MB; stay below it */
	if (shim_stack_base && shim_stack_base - &here > 1024 * 1024)
	{
		snprintf(shim_last_error, sizeof(shim_last_error), "stack depth limit exceeded");
		siglongjmp(*shim_error_jmp, 1);
	}
}

void
ProcessInterrupts(void)
{
}

int
pg_strcasecmp(const char *s1, const char *s2)
{
	return strcasecmp(s1, s2);
}

/* matches(): the regex engine is the server's; the fuzz build stubs it */
int
cel_regex_match(const char *pattern, int plen, const char *subject, int slen, char **errmsg)
{
	*errmsg = pstrdup("regular expressions are not available in the fuzz build");
	return -1;
}

/*
 * port.h maps snprintf and qsort to PostgreSQL's own implementations; the
 * stand-alone build uses the C library's.
 */
#undef vsnprintf
#undef snprintf
#undef qsort

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

void
pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}
