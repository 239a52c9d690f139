/*-------------------------------------------------------------------------
 *
 * asan_postgres.c
 *	  A "postgres" executable with the AddressSanitizer and UBSan runtimes
 *	  linked in, that runs the Debian postgres loaded as a library (see
 *	  scripts/asan.sh).
 *
 * Why not LD_PRELOAD=libasan.so with the Debian binary: the preloaded
 * runtime initializes lazily, on the first malloc, which happens inside
 * libgpg-error's constructor while it holds glibc's gettext lock; the
 * runtime's start-up then calls dlerror(), which takes the same lock, and
 * the process hangs before main().  Linked into the executable, the runtime
 * starts from the preinit array, before any library constructor.
 *
 * The postgres executable (a PIE) is loaded through a copy with DF_1_PIE
 * cleared (test/fuzz/depie.py); main() calls its main().  The dynamic loader
 * applies R_X86_64_COPY relocations only to the main program, so the
 * library's copies of the C library's and libxml2's variables (stdout,
 * optind, xmlFree, ...) are filled in here, as those relocations would
 * have done, before anything uses them.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct CopyReloc
{
	const char *name;
	const char *version;
	const char *library;
} CopyReloc;

/* readelf -rW postgres | grep R_X86_64_COPY (Debian 15) */
static const CopyReloc copy_relocs[] = {
	{"stdin", "GLIBC_2.2.5", "libc.so.6"},
	{"stdout", "GLIBC_2.2.5", "libc.so.6"},
	{"stderr", "GLIBC_2.2.5", "libc.so.6"},
	{"optind", "GLIBC_2.2.5", "libc.so.6"},
	{"opterr", "GLIBC_2.2.5", "libc.so.6"},
	{"optarg", "GLIBC_2.2.5", "libc.so.6"},
	{"in6addr_any", "GLIBC_2.2.5", "libc.so.6"},
	{"xmlFree", "LIBXML2_2.4.30", "libxml2.so.2"},
	{"xmlIsBaseCharGroup", "LIBXML2_2.6.0", "libxml2.so.2"},
	{"xmlIsCombiningGroup", "LIBXML2_2.6.0", "libxml2.so.2"},
	{"xmlIsDigitGroup", "LIBXML2_2.6.0", "libxml2.so.2"},
	{"xmlIsExtenderGroup", "LIBXML2_2.6.0", "libxml2.so.2"},
	/* __environ is set at start-up through the library's copy already */
};

static void fix_copy_relocations(void) __attribute__((constructor(101)));

static void
fix_copy_relocations(void)
{
	void	   *pg = dlopen("libpostgres.so", RTLD_NOW | RTLD_NOLOAD);

	if (pg == NULL)
	{
		fprintf(stderr, "asan_postgres: libpostgres.so not loaded: %s\n", dlerror());
		abort();
	}
	for (size_t i = 0; i < sizeof(copy_relocs) / sizeof(copy_relocs[0]); i++)
	{
		void	   *lib = dlopen(copy_relocs[i].library, RTLD_NOW | RTLD_NOLOAD);
		void	   *slot = dlsym(pg, copy_relocs[i].name);
		void	   *orig = lib ? dlvsym(lib, copy_relocs[i].name, copy_relocs[i].version) : NULL;
		Dl_info		info;
		const ElfW(Sym) *sym = NULL;

		if (slot == NULL || orig == NULL || slot == orig)
			continue;
		if (dladdr1(slot, &info, (void **) &sym, RTLD_DL_SYMENT) == 0 || sym == NULL)
			continue;
		{
			/* constant tables sit in the RELRO segment, read-only by now */
			long		page = sysconf(_SC_PAGESIZE);
			char	   *start = (char *) ((uintptr_t) slot & ~(uintptr_t) (page - 1));
			size_t		len = (char *) slot + sym->st_size - start;

			if (mprotect(start, len, PROT_READ | PROT_WRITE) != 0)
				abort();
			memcpy(slot, orig, sym->st_size);
		}
	}
}

int
main(int argc, char **argv)
{
	void	   *pg = dlopen("libpostgres.so", RTLD_NOW | RTLD_NOLOAD);
	int			(*pg_main) (int, char **) = pg ? (int (*) (int, char **)) dlsym(pg, "main") : NULL;

	if (pg_main == NULL)
	{
		fprintf(stderr, "asan_postgres: no main in libpostgres.so\n");
		return 1;
	}
	return pg_main(argc, argv);
}
