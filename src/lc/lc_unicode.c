/*-------------------------------------------------------------------------
 *
 * lc_unicode.c
 *	  Lookups in the generated Unicode tables (see lc_unicode.h).
 *
 * Every table is a sorted array of disjoint runs, so each lookup is a
 * binary search; code points outside every run have the table's default.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_unicode.h"
#include "lc/lc_unicode_data.h"

/* Binary search for c in runs; returns the run's value or dflt. */
static int
run_lookup(const LcUniRun *runs, int n, pg_wchar c, int dflt)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < runs[mid].lo)
			hi = mid - 1;
		else if (c > runs[mid].hi)
			lo = mid + 1;
		else
			return runs[mid].val;
	}
	return dflt;
}

const char *
lc_unicode_version(void)
{
	return LC_UNICODE_VERSION;
}

LcUniGc
lc_unicode_gc(pg_wchar c)
{
	return (LcUniGc) run_lookup(lc_uni_gc_runs, lengthof(lc_uni_gc_runs), c, LC_GC_Cn);
}

LcUniBidi
lc_unicode_bidi(pg_wchar c)
{
	return (LcUniBidi) run_lookup(lc_uni_bidi_runs, lengthof(lc_uni_bidi_runs), c, LC_BIDI_L);
}

int
lc_unicode_script(pg_wchar c)
{
	return run_lookup(lc_uni_script_runs, lengthof(lc_uni_script_runs), c, 0);
}

char
lc_unicode_joining_type(pg_wchar c)
{
	static const char names[] = "UDRLCT";

	return names[run_lookup(lc_uni_joining_runs, lengthof(lc_uni_joining_runs), c, 0)];
}

bool
lc_unicode_is_virama(pg_wchar c)
{
	return run_lookup(lc_uni_virama_runs, lengthof(lc_uni_virama_runs), c, 0) != 0;
}

LcIdnaClass
lc_unicode_idna_class(pg_wchar c)
{
	return (LcIdnaClass) run_lookup(lc_uni_idna_runs, lengthof(lc_uni_idna_runs), c,
									LC_IDNA_DISALLOWED);
}

/*
 * UAX #44 loose matching: ignore case, spaces, '_' and '-' (and a leading
 * "is", which we do not need).  Writes the normalized form into buf.
 */
static void
loose_name(const char *name, char *buf, int buflen)
{
	int			j = 0;

	for (; *name && j < buflen - 1; name++)
	{
		char		ch = *name;

		if (ch == '_' || ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		buf[j++] = ch;
	}
	buf[j] = '\0';
}

typedef struct GcName
{
	const char *name;
	uint32		mask;
} GcName;

#define B(x) LC_GC_BIT(LC_GC_##x)

static const GcName gc_names[] = {
	{"C", B(Cc) | B(Cf) | B(Cn) | B(Co) | B(Cs)}, {"Other", B(Cc) | B(Cf) | B(Cn) | B(Co) | B(Cs)},
	{"Cc", B(Cc)}, {"Control", B(Cc)}, {"cntrl", B(Cc)},
	{"Cf", B(Cf)}, {"Format", B(Cf)},
	{"Cn", B(Cn)}, {"Unassigned", B(Cn)},
	{"Co", B(Co)}, {"Private_Use", B(Co)},
	{"Cs", B(Cs)}, {"Surrogate", B(Cs)},
	{"L", B(Lu) | B(Ll) | B(Lt) | B(Lm) | B(Lo)}, {"Letter", B(Lu) | B(Ll) | B(Lt) | B(Lm) | B(Lo)},
	{"LC", B(Lu) | B(Ll) | B(Lt)}, {"Cased_Letter", B(Lu) | B(Ll) | B(Lt)},
	{"Ll", B(Ll)}, {"Lowercase_Letter", B(Ll)},
	{"Lm", B(Lm)}, {"Modifier_Letter", B(Lm)},
	{"Lo", B(Lo)}, {"Other_Letter", B(Lo)},
	{"Lt", B(Lt)}, {"Titlecase_Letter", B(Lt)},
	{"Lu", B(Lu)}, {"Uppercase_Letter", B(Lu)},
	{"M", B(Mn) | B(Mc) | B(Me)}, {"Mark", B(Mn) | B(Mc) | B(Me)}, {"Combining_Mark", B(Mn) | B(Mc) | B(Me)},
	{"Mc", B(Mc)}, {"Spacing_Mark", B(Mc)},
	{"Me", B(Me)}, {"Enclosing_Mark", B(Me)},
	{"Mn", B(Mn)}, {"Nonspacing_Mark", B(Mn)},
	{"N", B(Nd) | B(Nl) | B(No)}, {"Number", B(Nd) | B(Nl) | B(No)},
	{"Nd", B(Nd)}, {"Decimal_Number", B(Nd)}, {"digit", B(Nd)},
	{"Nl", B(Nl)}, {"Letter_Number", B(Nl)},
	{"No", B(No)}, {"Other_Number", B(No)},
	{"P", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
	{"Punctuation", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
	{"punct", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
	{"Pc", B(Pc)}, {"Connector_Punctuation", B(Pc)},
	{"Pd", B(Pd)}, {"Dash_Punctuation", B(Pd)},
	{"Pe", B(Pe)}, {"Close_Punctuation", B(Pe)},
	{"Pf", B(Pf)}, {"Final_Punctuation", B(Pf)},
	{"Pi", B(Pi)}, {"Initial_Punctuation", B(Pi)},
	{"Po", B(Po)}, {"Other_Punctuation", B(Po)},
	{"Ps", B(Ps)}, {"Open_Punctuation", B(Ps)},
	{"S", B(Sm) | B(Sc) | B(Sk) | B(So)}, {"Symbol", B(Sm) | B(Sc) | B(Sk) | B(So)},
	{"Sc", B(Sc)}, {"Currency_Symbol", B(Sc)},
	{"Sk", B(Sk)}, {"Modifier_Symbol", B(Sk)},
	{"Sm", B(Sm)}, {"Math_Symbol", B(Sm)},
	{"So", B(So)}, {"Other_Symbol", B(So)},
	{"Z", B(Zs) | B(Zl) | B(Zp)}, {"Separator", B(Zs) | B(Zl) | B(Zp)},
	{"Zl", B(Zl)}, {"Line_Separator", B(Zl)},
	{"Zp", B(Zp)}, {"Paragraph_Separator", B(Zp)},
	{"Zs", B(Zs)}, {"Space_Separator", B(Zs)},
};

#undef B

bool
lc_unicode_gc_lookup(const char *name, uint32 *mask)
{
	char		want[64];
	char		have[64];

	/* Short names are case-sensitive in practice ("Lu" vs "LU" never clash). */
	loose_name(name, want, sizeof(want));
	for (int i = 0; i < lengthof(gc_names); i++)
	{
		loose_name(gc_names[i].name, have, sizeof(have));
		if (strcmp(want, have) == 0)
		{
			*mask = gc_names[i].mask;
			return true;
		}
	}
	return false;
}

int
lc_unicode_script_lookup(const char *name)
{
	char		want[64];
	char		have[64];

	loose_name(name, want, sizeof(want));
	for (int i = 0; i < lengthof(lc_uni_script_names); i++)
	{
		loose_name(lc_uni_script_names[i], have, sizeof(have));
		if (strcmp(want, have) == 0)
			return i;
	}
	for (int i = 0; i < lengthof(lc_uni_script_aliases); i++)
	{
		loose_name(lc_uni_script_aliases[i].alias, have, sizeof(have));
		if (strcmp(want, have) == 0)
			return lc_uni_script_aliases[i].script;
	}
	return -1;
}

/*
 * Enumerate the code points whose run value satisfies "want" (a bit mask of
 * values); the table's default value (0) covers the gaps between runs.
 */
static void
runs_enumerate(const LcUniRun *runs, int n, uint64 want, LcUniRangeFn fn, void *arg)
{
	pg_wchar	next = 0;		/* first code point not yet covered */
	bool		want_default = (want & 1) != 0;

	for (int i = 0; i < n; i++)
	{
		if (want_default && runs[i].lo > next)
			fn(arg, next, runs[i].lo - 1);
		if (want & (((uint64) 1) << runs[i].val))
			fn(arg, runs[i].lo, runs[i].hi);
		next = runs[i].hi + 1;
	}
	if (want_default && next <= 0x10FFFF)
		fn(arg, next, 0x10FFFF);
}

void
lc_unicode_gc_ranges(uint32 mask, LcUniRangeFn fn, void *arg)
{
	runs_enumerate(lc_uni_gc_runs, lengthof(lc_uni_gc_runs), mask, fn, arg);
}

void
lc_unicode_script_ranges(int script, LcUniRangeFn fn, void *arg)
{
	/* Scripts are numbered beyond 64: filter run by run. */
	pg_wchar	next = 0;

	for (int i = 0; i < lengthof(lc_uni_script_runs); i++)
	{
		const LcUniRun *r = &lc_uni_script_runs[i];

		if (script == 0 && r->lo > next)
			fn(arg, next, r->lo - 1);
		if (r->val == script && script != 0)
			fn(arg, r->lo, r->hi);
		next = r->hi + 1;
	}
	if (script == 0 && next <= 0x10FFFF)
		fn(arg, next, 0x10FFFF);
}

void
lc_unicode_scx_ranges(int script, LcUniRangeFn fn, void *arg)
{
	const LcUniRun *ov = lc_uni_scx_runs;
	int			nov = lengthof(lc_uni_scx_runs);
	int			k = 0;

	/* the script's own code points, less those whose extensions are listed */
	for (int i = 0; i < lengthof(lc_uni_script_runs); i++)
	{
		const LcUniRun *r = &lc_uni_script_runs[i];
		pg_wchar	lo;

		if (r->val != script)
			continue;
		lo = r->lo;
		while (k < nov && ov[k].hi < lo)
			k++;
		for (int j = k; j < nov && ov[j].lo <= r->hi && lo <= r->hi; j++)
		{
			if (ov[j].lo > lo)
				fn(arg, lo, ov[j].lo - 1);
			lo = ov[j].hi + 1;
		}
		if (lo <= r->hi)
			fn(arg, lo, r->hi);
	}
	/* plus the listed code points whose extensions include the script */
	for (int j = 0; j < nov; j++)
	{
		const uint8 *list = lc_uni_scx_lists[ov[j].val];

		for (int m = 0; list[m] != 0; m++)
			if (list[m] == script)
			{
				fn(arg, ov[j].lo, ov[j].hi);
				break;
			}
	}
}

bool
lc_unicode_binprop_ranges(const char *name, LcUniRangeFn fn, void *arg)
{
	int			idx = -1;

	for (int i = 0; i < lengthof(lc_uni_binprops); i++)
		if (strcmp(lc_uni_binprops[i].name, name) == 0)
			idx = i;
	for (int i = 0; idx < 0 && i < lengthof(lc_uni_binprop_aliases); i++)
		if (strcmp(lc_uni_binprop_aliases[i].alias, name) == 0)
			idx = lc_uni_binprop_aliases[i].script;
	if (idx < 0)
		return false;
	for (int i = 0; i < lc_uni_binprops[idx].count; i++)
	{
		const LcUniRun *r = &lc_uni_binprop_runs[lc_uni_binprops[idx].start + i];

		fn(arg, r->lo, r->hi);
	}
	return true;
}

pg_wchar
lc_unicode_case_next(pg_wchar c)
{
	int			lo = 0,
				hi = lengthof(lc_uni_case_orbit) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < lc_uni_case_orbit[mid].cp)
			hi = mid - 1;
		else if (c > lc_uni_case_orbit[mid].cp)
			lo = mid + 1;
		else
			return lc_uni_case_orbit[mid].next;
	}
	return c;
}

void
lc_unicode_cased_chars(LcUniRangeFn fn, void *arg)
{
	for (int i = 0; i < lengthof(lc_uni_case_orbit); i++)
		fn(arg, lc_uni_case_orbit[i].cp, lc_uni_case_orbit[i].cp);
}
