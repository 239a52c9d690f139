/*-------------------------------------------------------------------------
 *
 * jsonschema_fuzz.c
 *	  libFuzzer harness for the JSON Schema compiler and validator
 *	  (src/jsonschema/js_compile.c, js_validate.c, js_fast.c, js_format.c, js_uri.c,
 *	  js_metaschemas.c, js_jsonb.c, src/lc/lc_regex*.c, lc_unicode.c).
 *
 * Unlike the CEL and JsonLogic harnesses this one runs against the REAL
 * PostgreSQL backend code, not a shim: the Debian postgres executable is
 * loaded as a shared library (run_jsonschema.sh copies it with the PIE flag
 * cleared), so jsonb_in, numeric, the regex engine, dynahash, memory
 * contexts and ereport/PG_TRY are the server's own.  Only the extension
 * sources are compiled here, with the sanitizers.
 *
 * Input: byte 0 picks the default draft (4, 6, 7, 2019-09, 2020-12) and the
 * validation options; the rest is "SCHEMA\nINSTANCE" (split at the first
 * newline).  Both are parsed with jsonb_in; the schema is compiled, the
 * instance validated (collecting errors and annotations, or stopping at the
 * first failure), every output shape is produced and re-parsed with jsonb_in
 * (it must be valid JSON), the fast path (js_fast.c) must agree with the
 * full validator alone, and the schema itself is validated against its
 * metaschema, as jsonschema_check() does.  A document reached through $ref
 * to "http://fuzz.example/instance" is the instance, so remote references
 * are exercised too.
 *
 * ERROR is a normal outcome; a crash, a sanitizer report, an ERROR raised
 * where none may be (output not valid JSON), or a timeout is a finding.
 *
 *-------------------------------------------------------------------------
 */
/* for dlvsym() */
#define _GNU_SOURCE
#include "postgres.h"

#include <dlfcn.h>
#include <stdio.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "jsonschema/js_internal.h"

/* printf is a macro for pg_printf in PostgreSQL's headers; use the C library's */
#undef fprintf
#undef printf

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static MemoryContext input_context;
static Jsonb *current_instance;
static bool verbose;

static const JsDraft drafts[] = {JS_DRAFT4, JS_DRAFT6, JS_DRAFT7, JS_DRAFT2019, JS_DRAFT2020};

/*
 * The dynamic loader applies R_X86_64_COPY relocations only in the main
 * program, so the copy of the postgres executable loaded as a library has
 * its copies of the C library's stdio and environ uninitialized; do what
 * the COPY relocation would have done, before main() (libFuzzer prints to
 * stderr, which every object now finds in that copy).
 */
static void fix_copy_relocations(void) __attribute__((constructor(101)));

static void
fix_copy_relocations(void)
{
	static const char *const names[] = {"stdin", "stdout", "stderr", "environ", "__environ"};
	void	   *pg = dlopen("libpostgres.so", RTLD_NOW | RTLD_NOLOAD);
	void	   *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	if (pg == NULL || libc == NULL)
	{
		fprintf(stderr, "cannot find libpostgres.so or libc.so.6: %s\n", dlerror());
		abort();
	}
	for (int i = 0; i < lengthof(names); i++)
	{
		void	  **slot = dlsym(pg, names[i]);
		void	  **orig;

		/* libc's own definition: look it up after libpostgres in the search order */
		orig = dlvsym(libc, names[i], "GLIBC_2.2.5");
		/* environ is set at startup through the copy already; keep it */
		if (slot != NULL && orig != NULL && slot != orig && *slot == NULL)
			*slot = *orig;
	}
}

static Jsonb *
loader(const char *uri, void *arg)
{
	if (strcmp(uri, "http://fuzz.example/instance") == 0)
		return current_instance;
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	MemoryContextInit();
	SetDatabaseEncoding(PG_UTF8);
	SetMessageEncoding(PG_UTF8);
	set_stack_base();
	/* the server's usual max_stack_depth (its boot value is only 100kB) */
	assign_max_stack_depth(2048, NULL);
	input_context = AllocSetContextCreate(TopMemoryContext, "fuzz input",
										  ALLOCSET_DEFAULT_SIZES);
	verbose = getenv("JS_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* Re-parse an output document: the validator must always produce JSON. */
static void
check_json(const char *what, const char *text)
{
	volatile bool ok = true;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		(void) DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	if (!ok)
	{
		fprintf(stderr, "%s output is not valid JSON: %s\n", what, text);
		abort();
	}
	if (verbose)
		fprintf(stderr, "%s: %s\n", what, text);
}

/* Copy a jsonb into an exactly-sized malloc'd buffer, so that reads past its end are seen. */
static Jsonb *
exact_copy(Jsonb *jb)
{
	Jsonb	   *copy = malloc(VARSIZE(jb));

	memcpy(copy, jb, VARSIZE(jb));
	return copy;
}

static void
run_one(const char *schema_text, const char *instance_text, uint8 flags)
{
	Jsonb	   *schema = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(schema_text)));
	Jsonb	   *instance = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(instance_text)));
	JsCompileOptions copts;
	JsValidateOptions vopts;
	JsCompiled *volatile compiled = NULL;
	JsResult	r;
	StringInfoData buf;
	JsonbValue	root;
	const char *meta_uri = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	schema = exact_copy(schema);
	instance = exact_copy(instance);
	current_instance = instance;

	memset(&copts, 0, sizeof(copts));
	copts.default_draft = drafts[(flags & 0x07) % lengthof(drafts)];
	copts.loader = loader;
	js_fast_path_mode = JS_FAST_ON;	/* an ERROR may have left it off */

	PG_TRY();
	{
		compiled = js_compile(schema, &copts);

		/* collect everything, with annotations, as output "basic" does */
		memset(&vopts, 0, sizeof(vopts));
		vopts.collect = true;
		vopts.annotate = (flags & 0x08) != 0;
		vopts.format_assert = (flags & 0x10) != 0;
		vopts.locale = (flags & 0x20) ? JS_LOCALE_ZH_CN : JS_LOCALE_EN;
		vopts.max_errors = (flags & 0x40) ? 2 : 0;
		memset(&r, 0, sizeof(r));
		js_validate(compiled, instance, &vopts, &r);
		for (JsOutput o = JS_OUTPUT_ERRORS; o <= JS_OUTPUT_BASIC; o++)
		{
			initStringInfo(&buf);
			js_result_append_json(&buf, &r, o);
			check_json(o == JS_OUTPUT_ERRORS ? "errors" : o == JS_OUTPUT_FLAG ? "flag" : "basic", buf.data);
		}

		/* stop at the first failure: must agree with the full run */
		{
			JsValidateOptions first = vopts;
			bool		valid;

			first.collect = false;
			first.annotate = false;
			first.max_errors = 0;
			valid = js_validate(compiled, instance, &first, NULL);
			if (valid != r.valid)
			{
				fprintf(stderr, "validation without collecting errors says %d, with says %d\n",
						valid, r.valid);
				abort();
			}

			/* the fast path (js_fast.c) against the full validator alone, both in flag mode */
			js_fast_path_mode = JS_FAST_OFF;
			if (js_validate(compiled, instance, &first, NULL) != valid)
			{
				fprintf(stderr, "the fast path says %d, the full validator %d\n", valid, !valid);
				abort();
			}
			js_fast_path_mode = JS_FAST_ON;
		}
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		if (verbose)
			fprintf(stderr, "ERROR %s: %s\n", unpack_sql_state(e->sqlerrcode), e->message);
	}
	PG_END_TRY();
	if (compiled != NULL)
		MemoryContextDelete(compiled->mcxt);

	/* the schema against its metaschema, as jsonschema_check() does */
	js_root_value(schema, &root);
	if (js_is_object(&root))
	{
		JsonbValue	sv;

		if (js_object_find(root.val.binary.data, "$schema", 7, &sv) && sv.type == jbvString)
			meta_uri = pnstrdup(sv.val.string.val, sv.val.string.len);
	}
	if (meta_uri == NULL)
		meta_uri = js_draft_metaschema_uri(copts.default_draft);
	compiled = NULL;
	PG_TRY();
	{
		Jsonb	   *meta;

		initStringInfo(&buf);
		appendStringInfoString(&buf, "{\"$ref\": ");
		escape_json(&buf, meta_uri);
		appendStringInfoChar(&buf, '}');
		meta = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
		memset(&copts, 0, sizeof(copts));
		copts.default_draft = JS_DRAFT2020;
		compiled = js_compile(meta, &copts);
		memset(&vopts, 0, sizeof(vopts));
		vopts.collect = true;
		memset(&r, 0, sizeof(r));
		js_validate(compiled, schema, &vopts, &r);
		initStringInfo(&buf);
		js_result_append_json(&buf, &r, JS_OUTPUT_ERRORS);
		check_json("metaschema", buf.data);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		if (verbose)
			fprintf(stderr, "metaschema ERROR %s: %s\n", unpack_sql_state(e->sqlerrcode), e->message);
	}
	PG_END_TRY();
	if (compiled != NULL)
		MemoryContextDelete(compiled->mcxt);
	free(schema);
	free(instance);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char	   *nl;
	MemoryContext old;

	if (size < 1)
		return 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (strlen(text) != size - 1)
	{
		/* jsonb_in takes a C string: an inner NUL would just cut it */
		free(text);
		return 0;
	}
	if (!pg_verify_mbstr(PG_UTF8, text, (int) size - 1, true))
	{
		/*
		 * Not UTF-8: the server verifies every text it receives (protocol,
		 * COPY, jsonb_recv, convert_from), so such a string never reaches a
		 * jsonb value; the validator may count the characters of valid UTF-8
		 * only (the fast path bounds them by bytes / 4).
		 */
		free(text);
		return 0;
	}
	nl = strchr(text, '\n');
	if (nl != NULL)
		*nl = '\0';

	old = MemoryContextSwitchTo(input_context);
	PG_TRY();
	{
		run_one(text, nl ? nl + 1 : "null", data[0]);
	}
	PG_CATCH();
	{
		/* schema or instance not JSON */
		ErrorData  *e;

		MemoryContextSwitchTo(input_context);
		e = CopyErrorData();
		FlushErrorState();
		if (verbose)
			fprintf(stderr, "input ERROR %s: %s\n", unpack_sql_state(e->sqlerrcode), e->message);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(input_context);
	free(text);

	/*
	 * Leak check.  LeakSanitizer cannot see palloc'd memory (AllocSet blocks
	 * stay referenced), so watch what outlives the input: everything below
	 * TopMemoryContext besides the (reset) input context is the regex cache
	 * (256 compiled patterns at most) and the server's own few contexts.
	 * Memory kept per input would pass this bound within the first million
	 * executions.
	 */
	{
		Size		kept = MemoryContextMemAllocated(TopMemoryContext, true);

		if (kept > (Size) 256 * 1024 * 1024)
		{
			fprintf(stderr, "memory kept across inputs: %zu bytes\n", kept);
			MemoryContextStats(TopMemoryContext);
			abort();
		}
		if (verbose)
			fprintf(stderr, "memory kept across inputs: %zu bytes\n", kept);
	}
	return 0;
}
