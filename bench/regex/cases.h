/*
 * The patterns and subjects of bench/regex_engines.sh, shared by the PCRE2
 * and RE2 programs (the SQL side of PostgreSQL's engine reads the same list
 * from their --list output).  The first three are the form workload's
 * patterns (bench/form_workload.sql); "@" is the floor of a call; the
 * bounded repetition is the kind PostgreSQL's engine is slowest at; the last
 * is the classic catastrophic-backtracking pattern, which a backtracking
 * engine must stop with a budget.
 */
#include <time.h>

/* CPU time of this process, ns */
static inline double
bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct RegexCase
{
	const char *name;
	const char *pattern;		/* ECMA-262 / RE2 / PCRE2 alike */
	const char *subject;
} RegexCase;

static const RegexCase regex_cases[] = {
	{"email", "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", "user12345@example.com"},
	{"phone", "^\\+[0-9]{1,3}-[0-9]{6,14}$", "+86-13800012345"},
	{"zip", "^[0-9]{6}$", "012345"},
	{"at", "@", "user12345@example.com"},
	{"bounded", "^[a-z]{7,20}$", "abcdefghijklmno"},
	{"catastrophic", "^(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"},
};
#define N_REGEX_CASES ((int) (sizeof(regex_cases) / sizeof(regex_cases[0])))
