/*-------------------------------------------------------------------------
 *
 * cel_fuzz.c
 *	  libFuzzer harness of the CEL engine core: every input is parsed as a
 *	  CEL expression and, when it parses, evaluated against a few bound
 *	  variables with a cost limit; the result is printed to a buffer.  A
 *	  crash, a sanitizer report or a leak fails the run; a clean error
 *	  (ereport) is a normal outcome.  See test/fuzz/README.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cel/cel.h"
#include "fuzz_shim.h"

extern int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* variables: x = 42, d = 2.5, s = "héllo", l = [1, "two", 3.0], m = {"k": [true, null]} */
static bool
resolver(void *ctx, const char *name, int len, CelValue *out)
{
	if (len == 1 && name[0] == 'x')
	{
		out->kind = CEL_INT;
		out->v.i = 42;
		return true;
	}
	if (len == 1 && name[0] == 'd')
	{
		out->kind = CEL_DOUBLE;
		out->v.d = 2.5;
		return true;
	}
	if (len == 1 && name[0] == 's')
	{
		cel_make_string(out, "h\xc3\xa9llo", 6);
		return true;
	}
	if (len == 1 && name[0] == 'l')
	{
		CelValue   *items = palloc(3 * sizeof(CelValue));

		items[0].kind = CEL_INT;
		items[0].v.i = 1;
		cel_make_string(&items[1], "two", 3);
		items[2].kind = CEL_DOUBLE;
		items[2].v.d = 3.0;
		cel_make_list(out, 3, items);
		return true;
	}
	if (len == 1 && name[0] == 'm')
	{
		CelValue   *keys = palloc(sizeof(CelValue));
		CelValue   *vals = palloc(sizeof(CelValue));
		CelValue   *items = palloc(2 * sizeof(CelValue));

		cel_make_string(&keys[0], "k", 1);
		items[0].kind = CEL_BOOL;
		items[0].v.b = true;
		items[1].kind = CEL_NULL;
		cel_make_list(&vals[0], 2, items);
		cel_make_map(out, 1, keys, vals);
		return true;
	}
	return false;
}

/* the fast path for a.b.c: walks maps of the variables above */
static bool
path_resolver(void *ctx, const char *const *names, const int *lens, int n, CelValue *out)
{
	CelValue	v;
	int			i;

	if (!resolver(ctx, names[0], lens[0], &v))
		return false;
	for (i = 1; i < n; i++)
	{
		CelValue	key,
					next;

		if (v.kind != CEL_MAP)
			return false;
		cel_make_string(&key, names[i], lens[i]);
		if (!cel_map_lookup(v.v.map, &key, &next))
			return false;
		v = next;
	}
	*out = v;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf	jb;
	char		base;

	if (size > 100000)
		return 0;
	shim_stack_base = &base;
	shim_error_jmp = &jb;
	if (sigsetjmp(jb, 0) == 0)
	{
		char	   *src = palloc(size + 1);
		CelProgram *prog;

		memcpy(src, data, size);
		src[size] = '\0';
		prog = cel_parse(src, (int) size, 250);
		if (prog->error)
		{
			int			line,
						col;

			(void) cel_format_parse_error(prog, &line, &col);
		}
		else
		{
			CelEnv		env;
			CelValue	result;
			StringInfoData buf;

			cel_collect_variables(prog);
			cel_env_init(&env, resolver, NULL, 100000);
			/* half of the inputs take the a.b.c fast path */
			if (size % 2)
				env.resolve_path = path_resolver;
			cel_eval(&env, prog->root, &result);
			initStringInfo(&buf);
			cel_value_out(&buf, &result);
		}
	}
	shim_reset_arena();
	return 0;
}
