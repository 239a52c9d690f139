/*
 * bench/regex/pcre2_bench.c: ns per match of PCRE2 (JIT and interpreter) on
 * the cases of cases.h, CPU time of this process, best of ROUNDS.  The match
 * limit (match_limit 10^6, as pg_lowcode would set it) is what stops the
 * catastrophic case: its figure is the time to that error.
 *   pcre2_bench [ROUNDS] | pcre2_bench --list
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cases.h"

int
main(int argc, char **argv)
{
	int			rounds = argc > 1 ? atoi(argv[1]) : 7;

	if (argc > 1 && strcmp(argv[1], "--list") == 0)
	{
		for (int c = 0; c < N_REGEX_CASES; c++)
			printf("%s\t%s\t%s\n", regex_cases[c].name, regex_cases[c].pattern, regex_cases[c].subject);
		return 0;
	}
	for (int c = 0; c < N_REGEX_CASES; c++)
	{
		const RegexCase *rc = &regex_cases[c];
		int			err;
		PCRE2_SIZE	off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR) rc->pattern, PCRE2_ZERO_TERMINATED,
									   PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF,
									   &err, &off, NULL);
		pcre2_match_context *mctx = pcre2_match_context_create(NULL);
		pcre2_match_data *md;
		size_t		slen = strlen(rc->subject);

		if (re == NULL)
		{
			fprintf(stderr, "%s: compile error %d\n", rc->name, err);
			return 1;
		}
		pcre2_set_match_limit(mctx, 1000000);
		md = pcre2_match_data_create_from_pattern(re, NULL);
		for (int jit = 0; jit < 2; jit++)
		{
			double		best = 1e30;
			int			n = strcmp(rc->name, "catastrophic") == 0 ? 20 : 200000;
			int			rcode = 0;

			if (jit && pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
			{
				fprintf(stderr, "%s: no JIT\n", rc->name);
				return 1;
			}
			for (int r = 0; r < rounds; r++)
			{
				double		t0 = bench_cpu_ns();

				/*
				 * The subject is valid UTF-8 (jsonb text is checked on input):
				 * no UTF check; with JIT, the direct entry pcre2_jit_match
				 */
				for (int i = 0; i < n; i++)
					rcode = jit ? pcre2_jit_match(re, (PCRE2_SPTR) rc->subject, slen, 0, PCRE2_NO_UTF_CHECK, md, mctx)
						: pcre2_match(re, (PCRE2_SPTR) rc->subject, slen, 0, PCRE2_NO_UTF_CHECK, md, mctx);
				t0 = bench_cpu_ns() - t0;
				if (t0 / n < best)
					best = t0 / n;
			}
			printf("pcre2%s\t%s\t%.1f\t%s\n", jit ? "-jit" : "", rc->name, best,
				   rcode >= 0 ? "match" : rcode == PCRE2_ERROR_NOMATCH ? "no match" :
				   rcode == PCRE2_ERROR_MATCHLIMIT ? "match limit" : "error");
		}
		pcre2_match_data_free(md);
		pcre2_match_context_free(mctx);
		pcre2_code_free(re);
	}
	return 0;
}
