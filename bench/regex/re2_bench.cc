// bench/regex/re2_bench.cc: ns per match of RE2 (PartialMatch, as CEL's
// matches() and JSON Schema's search semantics need) on the cases of
// cases.h, CPU time of this process, best of ROUNDS.  RE2 is linear-time:
// the catastrophic case needs no budget.
//   re2_bench [ROUNDS]
#include <re2/re2.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include "cases.h"

int
main(int argc, char **argv)
{
	int			rounds = argc > 1 ? atoi(argv[1]) : 7;

	for (int c = 0; c < N_REGEX_CASES; c++)
	{
		const RegexCase *rc = &regex_cases[c];
		RE2			re(rc->pattern);
		double		best = 1e30;
		int			n = 200000;
		bool		m = false;

		if (!re.ok())
		{
			fprintf(stderr, "%s: %s\n", rc->name, re.error().c_str());
			return 1;
		}
		for (int r = 0; r < rounds; r++)
		{
			double		t0 = bench_cpu_ns();

			for (int i = 0; i < n; i++)
				m = RE2::PartialMatch(rc->subject, re);
			t0 = bench_cpu_ns() - t0;
			if (t0 / n < best)
				best = t0 / n;
		}
		printf("re2\t%s\t%.1f\t%s\n", rc->name, best, m ? "match" : "no match");
	}
	return 0;
}
