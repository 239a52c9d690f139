/*-------------------------------------------------------------------------
 *
 * lc_regex_translate.c
 *	  The translator of ECMA-262 and RE2 patterns into PostgreSQL's ARE
 *	  syntax: a recursive-descent parser of each dialect that writes the
 *	  equivalent ARE text as code points, or says why it cannot.
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h); this file
 * is part of the regular expression library (see lc_regex.c for the
 * design).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_regex_int.h"
#include "lc/lc_unicode.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

/* ---------------------------------------------------------------------
 * Translator
 * ---------------------------------------------------------------------
 */
typedef struct Flags
{
	bool		icase;			/* i */
	bool		multiline;		/* m: ^ and $ at line ends */
	bool		dotall;			/* s: . matches \n */
} Flags;

typedef struct GroupInfo
{
	char	   *name;			/* NULL when unnamed */
	int			are_number;		/* ARE group number; 0 inside a lookaround */
	bool		closed;			/* closing parenthesis seen */
} GroupInfo;

typedef struct Tr
{
	LcRegexDialect dialect;
	const pg_wchar *p;			/* pattern code points */
	int			n;
	int			pos;
	/* output: ARE pattern as code points */
	pg_wchar   *out;
	int			outlen;
	int			outcap;
	/* error, when set translation stops */
	char	   *err;
	/* capturing groups of the source, numbered from 1 */
	GroupInfo  *groups;
	int			ngroups;		/* total, from the pre-pass */
	int			groups_opened;	/* opened so far */
	int			are_groups;		/* ARE capturing groups opened so far */
	int			lookaround_depth;
	bool		has_backrefs;	/* any \N or \k<name>: groups must capture */
	int			depth;
	Flags		flags;
} Tr;

static void tr_disjunction(Tr *t);

static void
tr_error(Tr *t, const char *fmt,...) pg_attribute_printf(2, 3);

static void
tr_error(Tr *t, const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

	if (t->err)
		return;
	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	appendStringInfo(&buf, " at position %d", t->pos);
	t->err = buf.data;
}

static inline bool
tr_eof(Tr *t)
{
	return t->pos >= t->n;
}

static inline pg_wchar
tr_peek(Tr *t, int ahead)
{
	return t->pos + ahead < t->n ? t->p[t->pos + ahead] : (pg_wchar) -1;
}

static void
out_char(Tr *t, pg_wchar c)
{
	if (t->outlen >= t->outcap)
	{
		if (t->outcap >= LC_REGEX_MAX_OUTPUT)
		{
			tr_error(t, "the translated regular expression is too large");
			t->outlen = 0;
			return;
		}
		t->outcap *= 2;
		t->out = repalloc(t->out, sizeof(pg_wchar) * t->outcap);
	}
	t->out[t->outlen++] = c;
}

static void
out_str(Tr *t, const char *s)
{
	for (; *s; s++)
		out_char(t, (unsigned char) *s);
}

static void
out_hex(Tr *t, pg_wchar c)
{
	char		buf[16];

	if (c <= 0xFFFF)
		snprintf(buf, sizeof(buf), "\\u%04X", (unsigned int) c);
	else
		snprintf(buf, sizeof(buf), "\\U%08X", (unsigned int) c);
	out_str(t, buf);
}

static inline bool
is_ascii_alnum(pg_wchar c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * Emit one code point so that ARE reads it literally, inside or outside a
 * bracket expression: letters and digits as they are, other printable ASCII
 * escaped with a backslash, controls and separators as \u escapes, the rest
 * of Unicode as itself.
 */
static void
out_literal(Tr *t, pg_wchar c)
{
	if (is_ascii_alnum(c))
		out_char(t, c);
	else if (c > 0x20 && c < 0x7F)
	{
		out_char(t, '\\');
		out_char(t, c);
	}
	else if (c < 0xA0 || c > UNICODE_MAX ||
			 (LC_GC_BIT(lc_unicode_gc(c)) &
			  (LC_GC_BIT(LC_GC_Zs) | LC_GC_BIT(LC_GC_Zl) | LC_GC_BIT(LC_GC_Zp) |
			   LC_GC_BIT(LC_GC_Cc) | LC_GC_BIT(LC_GC_Cf) | LC_GC_BIT(LC_GC_Cn) |
			   LC_GC_BIT(LC_GC_Co) | LC_GC_BIT(LC_GC_Cs) | LC_GC_BIT(LC_GC_Mn) |
			   LC_GC_BIT(LC_GC_Mc) | LC_GC_BIT(LC_GC_Me))))
		out_hex(t, c);	/* invisible or combining: keep the text readable */
	else
		out_char(t, c);
}

/* Emit a set as an ARE atom. */
static void
out_set(Tr *t, CpSet *s)
{
	CpSet		comp;
	CpSet	   *use;
	bool		negate = false;

	cpset_normalize(s);
	if (s->n == 0)
	{
		/*
		 * Matches nothing: no decoded subject holds a code point above
		 * U+10FFFF.  (A "(?!)" constraint would not take a quantifier.)
		 */
		out_str(t, "[^\\u0000-\\U0010FFFF]");
		return;
	}
	if (s->n == 1 && s->r[0].lo == s->r[0].hi)
	{
		out_literal(t, s->r[0].lo);
		return;
	}
	/* Write whichever of the set and its complement is shorter. */
	comp.n = s->n;
	comp.cap = s->n;
	comp.r = palloc(sizeof(CpRange) * s->n);
	memcpy(comp.r, s->r, sizeof(CpRange) * s->n);
	cpset_complement(&comp);
	use = s;
	if (comp.n > 0 && comp.n < s->n)
	{
		use = &comp;
		negate = true;
	}
	out_char(t, '[');
	if (negate)
		out_char(t, '^');
	for (int i = 0; i < use->n; i++)
	{
		out_literal(t, use->r[i].lo);
		if (use->r[i].hi != use->r[i].lo)
		{
			if (use->r[i].hi > use->r[i].lo + 1)
				out_char(t, '-');
			out_literal(t, use->r[i].hi);
		}
	}
	out_char(t, ']');
	pfree(comp.r);
}

/* Emit a single source character, honouring case-insensitivity. */
static void
out_source_char(Tr *t, pg_wchar c)
{
	if (t->flags.icase && lc_unicode_case_next(c) != c)
	{
		CpSet		s;

		cpset_init(&s);
		cpset_add(&s, c, c);
		cpset_case_close(&s);
		out_set(t, &s);
		pfree(s.r);
	}
	else
		out_literal(t, c);
}

static void
out_source_set(Tr *t, CpSet *s)
{
	if (t->flags.icase)
		cpset_case_close(s);
	out_set(t, s);
}

int
lc_regex_hexval(pg_wchar c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read exactly n hex digits; -1 when they are not there (pos unchanged). */
static int64
read_hex_fixed(Tr *t, int n)
{
	int64		v = 0;

	for (int i = 0; i < n; i++)
	{
		int			h = lc_regex_hexval(tr_peek(t, i));

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	t->pos += n;
	return v;
}

/* Read {hhhh} (1..8 hex digits up to 0x10FFFF); -1 on error (error set). */
static int64
read_hex_braced(Tr *t)
{
	int64		v = 0;
	int			ndig = 0;

	if (tr_peek(t, 0) != '{')
		return -1;
	t->pos++;
	while (!tr_eof(t) && lc_regex_hexval(tr_peek(t, 0)) >= 0)
	{
		v = v * 16 + lc_regex_hexval(tr_peek(t, 0));
		if (v > UNICODE_MAX)
		{
			tr_error(t, "code point escape above U+10FFFF");
			return -1;
		}
		ndig++;
		t->pos++;
	}
	if (ndig == 0 || tr_peek(t, 0) != '}')
	{
		tr_error(t, "malformed \\u{...} or \\x{...} escape");
		return -1;
	}
	t->pos++;
	return v;
}

/*
 * Resolve a Unicode property name (the text inside \p{...}) into a set.
 * ECMA-262 accepts General_Category values (optionally "gc=" or
 * "General_Category="), Script and Script_Extensions values ("sc=",
 * "scx=") and the binary properties of its table (Alphabetic, Emoji, ...);
 * RE2 accepts category and script names, and "Any".
 */
static bool
property_set(Tr *t, const char *name, CpSet *s)
{
	const char *eq = strchr(name, '=');
	uint32		mask;
	int			script;

	if (eq)
	{
		int			plen = eq - name;
		const char *value = eq + 1;

		if (t->dialect != LC_REGEX_ECMA262)
			return false;
		if ((plen == 2 && strncmp(name, "gc", 2) == 0) ||
			(plen == 16 && strncmp(name, "General_Category", 16) == 0))
		{
			if (!lc_unicode_gc_lookup(value, &mask))
				return false;
			lc_unicode_gc_ranges(mask, cpset_add_cb, s);
			return true;
		}
		if ((plen == 2 && strncmp(name, "sc", 2) == 0) ||
			(plen == 6 && strncmp(name, "Script", 6) == 0))
		{
			script = lc_unicode_script_lookup(value);
			if (script < 0)
				return false;
			lc_unicode_script_ranges(script, cpset_add_cb, s);
			return true;
		}
		if ((plen == 3 && strncmp(name, "scx", 3) == 0) ||
			(plen == 17 && strncmp(name, "Script_Extensions", 17) == 0))
		{
			script = lc_unicode_script_lookup(value);
			if (script < 0)
				return false;
			lc_unicode_scx_ranges(script, cpset_add_cb, s);
			return true;
		}
		return false;
	}
	if (strcmp(name, "Any") == 0)
	{
		cpset_add(s, 0, UNICODE_MAX);
		return true;
	}
	if (t->dialect == LC_REGEX_ECMA262)
	{
		if (strcmp(name, "ASCII") == 0)
		{
			cpset_add(s, 0, 0x7F);
			return true;
		}
		if (strcmp(name, "Assigned") == 0)
		{
			lc_unicode_gc_ranges(~LC_GC_BIT(LC_GC_Cn), cpset_add_cb, s);
			return true;
		}
		/* a lone name is a General_Category value or a binary property */
		if (lc_unicode_gc_lookup(name, &mask))
		{
			lc_unicode_gc_ranges(mask, cpset_add_cb, s);
			return true;
		}
		return lc_unicode_binprop_ranges(name, cpset_add_cb, s);
	}
	/* RE2: category or script */
	if (lc_unicode_gc_lookup(name, &mask) && strlen(name) <= 2)
	{
		lc_unicode_gc_ranges(mask, cpset_add_cb, s);
		return true;
	}
	script = lc_unicode_script_lookup(name);
	if (script > 0)
	{
		lc_unicode_script_ranges(script, cpset_add_cb, s);
		return true;
	}
	return false;
}

/*
 * Parse \p / \P (the 'p' or 'P' is at pos) into s.  ECMA-262 requires
 * braces; RE2 also takes one letter (\pL) and {^Name} for negation.
 */
static bool
tr_property(Tr *t, CpSet *s)
{
	bool		negate = (tr_peek(t, 0) == 'P');
	char		name[80];
	int			len = 0;
	CpSet		tmp;

	t->pos++;
	if (tr_peek(t, 0) == '{')
	{
		t->pos++;
		if (t->dialect == LC_REGEX_RE2 && tr_peek(t, 0) == '^')
		{
			negate = !negate;
			t->pos++;
		}
		while (!tr_eof(t) && tr_peek(t, 0) != '}')
		{
			pg_wchar	c = tr_peek(t, 0);

			if (c > 0x7E || c < 0x20 || len >= (int) sizeof(name) - 1)
			{
				tr_error(t, "invalid Unicode property name");
				return false;
			}
			name[len++] = (char) c;
			t->pos++;
		}
		if (tr_eof(t))
		{
			tr_error(t, "missing } after \\p{");
			return false;
		}
		t->pos++;
	}
	else if (t->dialect == LC_REGEX_RE2 && !tr_eof(t) && tr_peek(t, 0) < 0x7F &&
			 isalpha((int) tr_peek(t, 0)))
	{
		name[len++] = (char) tr_peek(t, 0);
		t->pos++;
	}
	else
	{
		tr_error(t, "\\p and \\P need a property name in braces");
		return false;
	}
	name[len] = '\0';
	cpset_init(&tmp);
	if (!property_set(t, name, &tmp))
	{
		tr_error(t, "unknown or unsupported Unicode property \"%s\"", name);
		pfree(tmp.r);
		return false;
	}
	if (negate)
	{
		/*
		 * RE2 folds the property and then negates it; ECMA-262 (u flag)
		 * negates it and matches the result case-insensitively, so that
		 * /\P{Lu}/ui matches "A" (its variant "a" is not Lu).
		 */
		if (t->flags.icase && t->dialect == LC_REGEX_RE2)
			cpset_case_close(&tmp);
		cpset_complement(&tmp);
	}
	cpset_union(s, &tmp);
	pfree(tmp.r);
	return true;
}

/*
 * Result of parsing one escape or class atom: a single character, a set,
 * or something already written to the output (assertions, back
 * references).
 */
typedef enum EscKind
{
	ESC_CHAR,
	ESC_SET,
	ESC_EMITTED,
	ESC_BACKREF,				/* ECMA \N or \k<name>: the caller parses it */
	ESC_QUOTE,					/* RE2 \Q...\E: the caller parses it */
	ESC_ERROR
} EscKind;

/* Describe an escaped character for an error message. */
static const char *
esc_desc(pg_wchar c)
{
	static char buf[8];

	if (c >= 0x20 && c < 0x7F)
	{
		buf[0] = (char) c;
		buf[1] = '\0';
		return buf;
	}
	return "(non-ASCII or control character)";
}

/*
 * Parse an escape; pos is just after the backslash.  in_class tells
 * whether we are inside [...] (where \b is backspace and assertions and
 * back references do not exist).
 */
static EscKind
tr_escape(Tr *t, bool in_class, pg_wchar *ch, CpSet *set)
{
	pg_wchar	c;
	int64		v;

	if (tr_eof(t))
	{
		tr_error(t, "\\ at end of pattern");
		return ESC_ERROR;
	}
	c = tr_peek(t, 0);
	switch (c)
	{
		case 'd':
		case 'D':
		case 'w':
		case 'W':
		case 's':
		case 'S':
			{
				CpSet		tmp;

				cpset_init(&tmp);
				if (c == 'd' || c == 'D')
					cpset_add_digit(&tmp);
				else if (c == 'w' || c == 'W')
					cpset_add_word(&tmp);
				else if (t->dialect == LC_REGEX_ECMA262)
					cpset_add_ecma_space(&tmp);
				else
					cpset_add_re2_space(&tmp);
				if (c == 'D' || c == 'W' || c == 'S')
				{
					/*
					 * Under case-insensitivity a negated class excludes the
					 * case variants of what it negates (\W does not match
					 * U+017F, a variant of 's'): fold first, then negate.
					 */
					if (t->flags.icase)
						cpset_case_close(&tmp);
					cpset_complement(&tmp);
				}
				cpset_union(set, &tmp);
				pfree(tmp.r);
				t->pos++;
				return ESC_SET;
			}
		case 'p':
		case 'P':
			return tr_property(t, set) ? ESC_SET : ESC_ERROR;
		case 't':
			*ch = '\t';
			t->pos++;
			return ESC_CHAR;
		case 'n':
			*ch = '\n';
			t->pos++;
			return ESC_CHAR;
		case 'v':
			*ch = '\v';
			t->pos++;
			return ESC_CHAR;
		case 'f':
			*ch = '\f';
			t->pos++;
			return ESC_CHAR;
		case 'r':
			*ch = '\r';
			t->pos++;
			return ESC_CHAR;
		case 'b':
		case 'B':
			t->pos++;
			if (in_class)
			{
				if (c == 'b' && t->dialect == LC_REGEX_ECMA262)
				{
					*ch = '\b';
					return ESC_CHAR;
				}
				tr_error(t, "\\%c is not allowed in a character class", (char) c);
				return ESC_ERROR;
			}
			if (t->dialect == LC_REGEX_ECMA262 && t->flags.icase)
			{
				/*
				 * With the u and i flags the word characters of \b also
				 * include U+017F and U+212A (case variants of s and k):
				 * spell the boundary out with lookarounds on that set.
				 */
				CpSet		w;
				static const char *const parts_b[] = {"(?:(?<=", ")(?!", ")|(?<!", ")(?=", "))"};
				static const char *const parts_B[] = {"(?:(?<=", ")(?=", ")|(?<!", ")(?!", "))"};
				const char *const *parts = (c == 'b') ? parts_b : parts_B;

				cpset_init(&w);
				cpset_add_word(&w);
				cpset_case_close(&w);
				for (int k = 0; k < 4; k++)
				{
					out_str(t, parts[k]);
					out_set(t, &w);
				}
				out_str(t, parts[4]);
				pfree(w.r);
				return ESC_EMITTED;
			}
			/* word boundary: ARE's \y and \Y use the same ASCII word chars */
			out_str(t, c == 'b' ? "\\y" : "\\Y");
			return ESC_EMITTED;
		case 'x':
			t->pos++;
			if (t->dialect == LC_REGEX_RE2 && tr_peek(t, 0) == '{')
				v = read_hex_braced(t);
			else
			{
				v = read_hex_fixed(t, 2);
				if (v < 0)
					tr_error(t, "\\x needs two hexadecimal digits");
			}
			if (v < 0)
				return ESC_ERROR;
			*ch = (pg_wchar) v;
			return ESC_CHAR;
		default:
			break;
	}

	if (t->dialect == LC_REGEX_ECMA262)
	{
		switch (c)
		{
			case 'c':
				{
					pg_wchar	l = tr_peek(t, 1);

					if ((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))
					{
						*ch = l % 32;
						t->pos += 2;
						return ESC_CHAR;
					}
					tr_error(t, "\\c must be followed by a letter");
					return ESC_ERROR;
				}
			case 'u':
				t->pos++;
				if (tr_peek(t, 0) == '{')
				{
					v = read_hex_braced(t);
					if (v < 0)
						return ESC_ERROR;
					*ch = (pg_wchar) v;
					return ESC_CHAR;
				}
				v = read_hex_fixed(t, 4);
				if (v < 0)
				{
					tr_error(t, "\\u needs four hexadecimal digits or {...}");
					return ESC_ERROR;
				}
				/* a UTF-16 surrogate pair written as two escapes */
				if (v >= 0xD800 && v <= 0xDBFF && tr_peek(t, 0) == '\\' &&
					tr_peek(t, 1) == 'u')
				{
					int			save = t->pos;
					int64		lo;

					t->pos += 2;
					lo = read_hex_fixed(t, 4);
					if (lo >= 0xDC00 && lo <= 0xDFFF)
						v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
					else
						t->pos = save;
				}
				*ch = (pg_wchar) v;
				return ESC_CHAR;
			case '0':
				if (tr_peek(t, 1) >= '0' && tr_peek(t, 1) <= '9')
				{
					tr_error(t, "octal escapes are not allowed");
					return ESC_ERROR;
				}
				*ch = 0;
				t->pos++;
				return ESC_CHAR;
			case '-':
				*ch = '-';
				t->pos++;
				return ESC_CHAR;
			case 'k':
				if (in_class || tr_peek(t, 1) != '<')
				{
					tr_error(t, "invalid escape \\k");
					return ESC_ERROR;
				}
				break;			/* handled by the caller */
			default:
				break;
		}
		if (c >= '1' && c <= '9')
		{
			if (in_class)
			{
				tr_error(t, "back reference or octal escape in a character class");
				return ESC_ERROR;
			}
			return ESC_BACKREF;
		}
		if (c == 'k')
			return ESC_BACKREF;
		/* identity escapes: syntax characters and any other punctuation */
		if (c < 0x80 && !is_ascii_alnum(c) && c != '_' && c >= 0x20)
		{
			*ch = c;
			t->pos++;
			return ESC_CHAR;
		}
		if (c >= 0x80 && lc_unicode_gc(c) != LC_GC_Cn &&
			!(LC_GC_BIT(lc_unicode_gc(c)) &
			  (LC_GC_BIT(LC_GC_Lu) | LC_GC_BIT(LC_GC_Ll) | LC_GC_BIT(LC_GC_Lt) |
			   LC_GC_BIT(LC_GC_Lm) | LC_GC_BIT(LC_GC_Lo) | LC_GC_BIT(LC_GC_Nd) |
			   LC_GC_BIT(LC_GC_Mn) | LC_GC_BIT(LC_GC_Mc))))
		{
			*ch = c;
			t->pos++;
			return ESC_CHAR;
		}
		tr_error(t, "invalid escape \\%s", esc_desc(c));
		return ESC_ERROR;
	}

	/* RE2 */
	switch (c)
	{
		case 'a':
			*ch = 0x07;
			t->pos++;
			return ESC_CHAR;
		case 'A':
			if (in_class)
				break;
			t->pos++;
			out_str(t, "^");
			return ESC_EMITTED;
		case 'z':
			if (in_class)
				break;
			t->pos++;
			out_str(t, "$");
			return ESC_EMITTED;
		case 'C':
			tr_error(t, "\\C (any byte) cannot be matched on characters");
			return ESC_ERROR;
		case 'Q':
			return ESC_QUOTE;
		case 'E':
			/* a stray \E is ignored by RE2 */
			t->pos++;
			return ESC_EMITTED;
		default:
			break;
	}
	if (c >= '0' && c <= '7')
	{
		/* octal: \0, \012, \123 (RE2 takes \1-\7 only with more digits) */
		int			nd = 0;

		v = 0;
		if (c != '0' && !(tr_peek(t, 1) >= '0' && tr_peek(t, 1) <= '7'))
		{
			tr_error(t, "back references are not supported in RE2");
			return ESC_ERROR;
		}
		while (nd < 3 && tr_peek(t, 0) >= '0' && tr_peek(t, 0) <= '7')
		{
			v = v * 8 + (tr_peek(t, 0) - '0');
			t->pos++;
			nd++;
		}
		*ch = (pg_wchar) v;
		return ESC_CHAR;
	}
	if (c == '8' || c == '9')
	{
		tr_error(t, "back references are not supported in RE2");
		return ESC_ERROR;
	}
	if (c < 0x80 && !is_ascii_alnum(c) && c != '_' && c >= 0x20)
	{
		*ch = c;
		t->pos++;
		return ESC_CHAR;
	}
	tr_error(t, "invalid escape \\%s", esc_desc(c));
	return ESC_ERROR;
}

/* RE2 POSIX classes inside brackets, ASCII only as in RE2. */
static bool
posix_class(const char *name, CpSet *s)
{
	if (strcmp(name, "alnum") == 0)
	{
		cpset_add(s, '0', '9');
		cpset_add(s, 'A', 'Z');
		cpset_add(s, 'a', 'z');
	}
	else if (strcmp(name, "alpha") == 0)
	{
		cpset_add(s, 'A', 'Z');
		cpset_add(s, 'a', 'z');
	}
	else if (strcmp(name, "ascii") == 0)
		cpset_add(s, 0, 0x7F);
	else if (strcmp(name, "blank") == 0)
	{
		cpset_add(s, '\t', '\t');
		cpset_add(s, ' ', ' ');
	}
	else if (strcmp(name, "cntrl") == 0)
	{
		cpset_add(s, 0, 0x1F);
		cpset_add(s, 0x7F, 0x7F);
	}
	else if (strcmp(name, "digit") == 0)
		cpset_add(s, '0', '9');
	else if (strcmp(name, "graph") == 0)
		cpset_add(s, '!', '~');
	else if (strcmp(name, "lower") == 0)
		cpset_add(s, 'a', 'z');
	else if (strcmp(name, "print") == 0)
		cpset_add(s, ' ', '~');
	else if (strcmp(name, "punct") == 0)
	{
		cpset_add(s, '!', '/');
		cpset_add(s, ':', '@');
		cpset_add(s, '[', '`');
		cpset_add(s, '{', '~');
	}
	else if (strcmp(name, "space") == 0)
	{
		cpset_add(s, '\t', '\r');
		cpset_add(s, ' ', ' ');
	}
	else if (strcmp(name, "upper") == 0)
		cpset_add(s, 'A', 'Z');
	else if (strcmp(name, "word") == 0)
		cpset_add_word(s);
	else if (strcmp(name, "xdigit") == 0)
	{
		cpset_add(s, '0', '9');
		cpset_add(s, 'A', 'F');
		cpset_add(s, 'a', 'f');
	}
	else
		return false;
	return true;
}

/* One atom inside [...]: a character or a set.  Returns false on error. */
static bool
tr_class_atom(Tr *t, bool *is_char, pg_wchar *ch, CpSet *set)
{
	pg_wchar	c = tr_peek(t, 0);

	if (t->dialect == LC_REGEX_RE2 && c == '[' && tr_peek(t, 1) == ':')
	{
		/* [:name:] or [:^name:] */
		char		name[16];
		int			len = 0;
		int			save = t->pos;
		bool		negate = false;

		t->pos += 2;
		if (tr_peek(t, 0) == '^')
		{
			negate = true;
			t->pos++;
		}
		while (!tr_eof(t) && tr_peek(t, 0) != ':' && len < (int) sizeof(name) - 1 &&
			   tr_peek(t, 0) < 0x7F)
			name[len++] = (char) t->p[t->pos++];
		name[len] = '\0';
		if (tr_peek(t, 0) == ':' && tr_peek(t, 1) == ']')
		{
			CpSet		tmp;

			cpset_init(&tmp);
			if (!posix_class(name, &tmp))
			{
				tr_error(t, "unknown POSIX class [:%s:]", name);
				return false;
			}
			if (negate)
				cpset_complement(&tmp);
			cpset_union(set, &tmp);
			pfree(tmp.r);
			t->pos += 2;
			*is_char = false;
			return true;
		}
		t->pos = save;			/* just a '[' */
	}
	if (c == '\\')
	{
		EscKind		k;

		t->pos++;
		k = tr_escape(t, true, ch, set);
		if (k == ESC_CHAR)
		{
			*is_char = true;
			return true;
		}
		if (k == ESC_SET)
		{
			*is_char = false;
			return true;
		}
		if (!t->err)
			tr_error(t, "this escape is not allowed in a character class");
		return false;
	}
	*is_char = true;
	*ch = c;
	t->pos++;
	return true;
}

/* [...]; pos is just after '['. */
static void
tr_class(Tr *t)
{
	CpSet		s;
	bool		negate = false;
	bool		first = true;

	cpset_init(&s);
	if (tr_peek(t, 0) == '^')
	{
		negate = true;
		t->pos++;
	}
	for (;;)
	{
		bool		is_char;
		pg_wchar	lo;

		if (tr_eof(t))
		{
			tr_error(t, "missing ] to close a character class");
			return;
		}
		if (tr_peek(t, 0) == ']' && !(first && t->dialect == LC_REGEX_RE2))
		{
			t->pos++;
			break;
		}
		first = false;
		if (!tr_class_atom(t, &is_char, &lo, &s))
			return;
		if (!is_char)
		{
			/* a set; a following '-' is literal (Annex B) */
			continue;
		}
		if (tr_peek(t, 0) == '-' && tr_peek(t, 1) != ']' && t->pos + 1 < t->n)
		{
			int			save = t->pos;
			pg_wchar	hi;
			bool		hi_char;
			CpSet		hiset;

			t->pos++;
			cpset_init(&hiset);
			if (!tr_class_atom(t, &hi_char, &hi, &hiset))
				return;
			if (!hi_char)
			{
				if (t->dialect == LC_REGEX_RE2)
				{
					tr_error(t, "invalid character class range");
					return;
				}
				/* Annex B: [a-\d] is a, '-' and the set */
				cpset_add(&s, lo, lo);
				cpset_add(&s, '-', '-');
				cpset_union(&s, &hiset);
				pfree(hiset.r);
				continue;
			}
			pfree(hiset.r);
			if (hi < lo)
			{
				t->pos = save;
				tr_error(t, "character class range out of order");
				return;
			}
			cpset_add(&s, lo, hi);
		}
		else
			cpset_add(&s, lo, lo);
	}
	if (t->flags.icase)
		cpset_case_close(&s);
	if (negate)
		cpset_complement(&s);
	out_set(t, &s);
	pfree(s.r);
}

/* The set "." stands for. */
static void
tr_dot(Tr *t)
{
	CpSet		s;

	cpset_init(&s);
	if (t->flags.dotall)
		cpset_add(&s, 0, UNICODE_MAX);
	else
	{
		cpset_add(&s, '\n', '\n');
		if (t->dialect == LC_REGEX_ECMA262)
		{
			cpset_add(&s, '\r', '\r');
			cpset_add(&s, 0x2028, 0x2029);
		}
		cpset_complement(&s);
	}
	out_set(t, &s);
	pfree(s.r);
}

/* Read a decimal number; -1 when none, INT_MAX when huge. */
static int
read_decimal(Tr *t)
{
	int64		v = 0;
	bool		any = false;

	while (!tr_eof(t) && tr_peek(t, 0) >= '0' && tr_peek(t, 0) <= '9')
	{
		v = v * 10 + (tr_peek(t, 0) - '0');
		if (v > PG_INT32_MAX)
			v = PG_INT32_MAX;
		any = true;
		t->pos++;
	}
	return any ? (int) v : -1;
}

/*
 * Try to read a {n}, {n,} or {n,m} quantifier at pos.  Returns false (pos
 * unchanged) when the text is not one: then '{' is a literal.
 */
static bool
read_braces(Tr *t, int *min, int *max)
{
	int			save = t->pos;

	if (tr_peek(t, 0) != '{')
		return false;
	t->pos++;
	*min = read_decimal(t);
	if (*min < 0)
		goto no;
	if (tr_peek(t, 0) == '}')
	{
		*max = *min;
		t->pos++;
		return true;
	}
	if (tr_peek(t, 0) != ',')
		goto no;
	t->pos++;
	if (tr_peek(t, 0) == '}')
	{
		*max = -1;
		t->pos++;
		return true;
	}
	*max = read_decimal(t);
	if (*max < 0 || tr_peek(t, 0) != '}')
		goto no;
	t->pos++;
	return true;
no:
	t->pos = save;
	return false;
}

static bool
at_quantifier(Tr *t)
{
	pg_wchar	c = tr_peek(t, 0);
	int			save = t->pos;
	int			a,
				b;
	bool		r;

	if (c == '*' || c == '+' || c == '?')
		return true;
	r = read_braces(t, &a, &b);
	t->pos = save;
	return r;
}

static void
out_bound(Tr *t, int min, int max)
{
	char		buf[32];

	if (max == min)
		snprintf(buf, sizeof(buf), "{%d}", min);
	else if (max < 0)
		snprintf(buf, sizeof(buf), "{%d,}", min);
	else
		snprintf(buf, sizeof(buf), "{%d,%d}", min, max);
	out_str(t, buf);
}

/*
 * Apply a quantifier (at pos) to the atom written at out[atom_start..].
 * Bounds above the engine's 255 are written as a sequence of copies of
 * the atom, which is exact as long as the atom holds no capturing group.
 */
static void
tr_quantifier(Tr *t, int atom_start, int groups_before)
{
	pg_wchar	c = tr_peek(t, 0);
	int			min,
				max;

	if (c == '*' || c == '+' || c == '?')
	{
		t->pos++;
		out_char(t, c);
		if (tr_peek(t, 0) == '?')
		{
			t->pos++;
			out_char(t, '?');
		}
		else if (tr_peek(t, 0) == '+' && t->dialect == LC_REGEX_RE2)
		{
			tr_error(t, "possessive quantifiers are not supported");
			return;
		}
		return;
	}
	if (!read_braces(t, &min, &max))
		return;
	if (max >= 0 && max < min)
	{
		tr_error(t, "numbers out of order in {} quantifier");
		return;
	}
	if (t->dialect == LC_REGEX_RE2 && (min > 1000 || max > 1000))
	{
		tr_error(t, "repetition count above 1000");
		return;
	}
	if (tr_peek(t, 0) == '?')
		t->pos++;				/* laziness does not change whether it matches */
	if (min <= ARE_DUPMAX && max <= ARE_DUPMAX)
	{
		out_bound(t, min, max);
		return;
	}
	if (t->are_groups != groups_before)
	{
		tr_error(t, "a repetition count above %d is not supported on a capturing group",
				 ARE_DUPMAX);
		return;
	}
	{
		int			atom_len = t->outlen - atom_start;
		pg_wchar   *atom = palloc(sizeof(pg_wchar) * (atom_len + 1));
		int			done_min = 0;
		int			done_max = 0;
		bool		first = true;

		if ((int64) atom_len * (Max(min, max) / ARE_DUPMAX + 2) > LC_REGEX_MAX_OUTPUT)
		{
			tr_error(t, "the translated regular expression is too large");
			return;
		}
		memcpy(atom, t->out + atom_start, sizeof(pg_wchar) * atom_len);
		t->outlen = atom_start;
		/* (?:atom){a,b} pieces adding up to {min,max} */
		while (done_min < min || (max >= 0 ? done_max < max : first))
		{
			int			pmin = Min(min - done_min, ARE_DUPMAX);
			int			pmax;

			if (max < 0)
				pmax = (done_min + pmin >= min) ? -1 : pmin;
			else
				pmax = Min(max - done_max, ARE_DUPMAX);
			if (pmin > pmax && pmax >= 0)
				pmin = pmax;
			out_str(t, "(?:");
			for (int i = 0; i < atom_len; i++)
				out_char(t, atom[i]);
			out_char(t, ')');
			out_bound(t, pmin, pmax);
			done_min += pmin;
			if (pmax < 0)
				break;
			done_max += pmax;
			first = false;
			if (t->err)
				break;
		}
		pfree(atom);
	}
}

/* Read a group name up to '>' (pos just after '<'); palloc'd, NULL on error. */
static char *
read_group_name(Tr *t)
{
	StringInfoData buf;

	initStringInfo(&buf);
	while (!tr_eof(t) && tr_peek(t, 0) != '>')
	{
		pg_wchar	c = tr_peek(t, 0);
		unsigned char u[8];

		if (!(is_ascii_alnum(c) || c == '_' || c == '$' || c >= 0x80))
		{
			tr_error(t, "invalid character in group name");
			return NULL;
		}
		unicode_to_utf8(c, u);
		appendBinaryStringInfo(&buf, (char *) u, pg_utf_mblen(u));
		t->pos++;
	}
	if (tr_eof(t) || buf.len == 0)
	{
		tr_error(t, "invalid group name");
		return NULL;
	}
	t->pos++;
	return buf.data;
}

/* Emit a back reference to source group g (1-based). */
static void
tr_backref(Tr *t, int g)
{
	GroupInfo  *gi = &t->groups[g - 1];
	char		buf[32];

	if (t->lookaround_depth > 0)
	{
		tr_error(t, "back references inside lookaround assertions are not supported");
		return;
	}
	if (gi->are_number == 0 && gi->closed)
	{
		tr_error(t, "back references to a group inside a lookaround assertion are not supported");
		return;
	}
	if (!gi->closed)
	{
		/*
		 * ECMA-262: a reference to a group that has not captured yet (a
		 * forward reference, or one inside its own group) matches the empty
		 * string.
		 */
		out_str(t, "(?:)");
		return;
	}
	snprintf(buf, sizeof(buf), "(?:\\%d)", gi->are_number);
	out_str(t, buf);
}

/*
 * Parse the inline flags of RE2 "(?flags)" / "(?flags:" or ECMA-262
 * modifiers "(?flags:"; pos is just after "(?".  Returns 0 on error, 1 for
 * a flag group with a body, 2 for a bare "(?flags)".
 */
static int
tr_flags(Tr *t, Flags *f)
{
	bool		neg = false;
	bool		any = false;

	for (;;)
	{
		pg_wchar	c = tr_peek(t, 0);

		if (c == ':' || c == ')')
		{
			if (!any)
				break;
			t->pos++;
			if (c == ')' && t->dialect == LC_REGEX_ECMA262)
			{
				tr_error(t, "inline flags (?flags) are not ECMA-262; use (?flags:...)");
				return 0;
			}
			return c == ':' ? 1 : 2;
		}
		if (c == '-' && !neg)
		{
			neg = true;
			t->pos++;
			continue;
		}
		if (c == 'i')
			f->icase = !neg;
		else if (c == 'm')
			f->multiline = !neg;
		else if (c == 's')
			f->dotall = !neg;
		else if (c == 'U' && t->dialect == LC_REGEX_RE2)
			 /* ungreedy: no effect on whether it matches */ ;
		else
			break;
		any = true;
		t->pos++;
	}
	tr_error(t, "invalid group or flag syntax after (?");
	return 0;
}

/* A group; pos is at '('. */
static void
tr_group(Tr *t)
{
	Flags		saved = t->flags;
	bool		capturing = false;
	bool		lookaround = false;
	char	   *name = NULL;
	int			srcgroup = 0;

	if (++t->depth > LC_REGEX_MAX_NESTING)
	{
		tr_error(t, "groups nested too deeply");
		return;
	}
	check_stack_depth();
	t->pos++;
	if (tr_peek(t, 0) == '?')
	{
		pg_wchar	c = tr_peek(t, 1);

		if (c == ':')
		{
			t->pos += 2;
			out_str(t, "(?:");
		}
		else if (c == '=' || c == '!' ||
				 (c == '<' && (tr_peek(t, 2) == '=' || tr_peek(t, 2) == '!')))
		{
			if (t->dialect == LC_REGEX_RE2)
			{
				tr_error(t, "lookaround assertions are not supported in RE2");
				return;
			}
			out_str(t, "(?");
			if (c == '<')
			{
				out_char(t, '<');
				t->pos++;
				c = tr_peek(t, 1);
			}
			out_char(t, c);
			t->pos += 2;
			lookaround = true;
			t->lookaround_depth++;
		}
		else if (c == '<' || (c == 'P' && tr_peek(t, 2) == '<' && t->dialect == LC_REGEX_RE2))
		{
			t->pos += (c == 'P') ? 3 : 2;
			name = read_group_name(t);
			if (!name)
				return;
			capturing = true;
		}
		else
		{
			int			r;

			t->pos++;
			r = tr_flags(t, &t->flags);
			if (r == 0)
				return;
			if (r == 2)
			{
				/* RE2 (?flags): applies to the rest of the enclosing group */
				t->depth--;
				return;
			}
			out_str(t, "(?:");
		}
	}
	else
		capturing = true;

	if (capturing)
	{
		srcgroup = ++t->groups_opened;
		if (srcgroup > t->ngroups)
		{
			tr_error(t, "internal error: group count mismatch");
			return;
		}
		t->groups[srcgroup - 1].name = name;
		if (!t->has_backrefs)
		{
			/*
			 * Nothing refers to what the group captures and only whether the
			 * pattern matches is asked: a non-capturing group is equivalent,
			 * and lifts ARE's limits on capturing groups (bounds above 255).
			 */
			t->groups[srcgroup - 1].are_number = 0;
			out_str(t, "(?:");
		}
		else
		{
			if (t->lookaround_depth > 0)
			{
				/* ARE's parentheses in lookarounds do not capture */
				t->groups[srcgroup - 1].are_number = 0;
			}
			else
				t->groups[srcgroup - 1].are_number = ++t->are_groups;
			out_char(t, '(');
		}
	}
	tr_disjunction(t);
	if (t->err)
		return;
	if (tr_peek(t, 0) != ')')
	{
		tr_error(t, "missing ) to close a group");
		return;
	}
	t->pos++;
	out_char(t, ')');
	if (srcgroup > 0)
		t->groups[srcgroup - 1].closed = true;
	if (lookaround)
		t->lookaround_depth--;
	t->flags = saved;
	t->depth--;
}

/* One term: an assertion, or an atom with an optional quantifier. */
static void
tr_term(Tr *t)
{
	pg_wchar	c = tr_peek(t, 0);
	int			atom_start = t->outlen;
	int			groups_before = t->are_groups;
	bool		quantifiable = true;

	switch (c)
	{
		case '^':
			t->pos++;
			if (t->flags.multiline)
				out_str(t, "(?:^|(?<=\\n))");
			else
				out_char(t, '^');
			quantifiable = false;
			break;
		case '$':
			t->pos++;
			if (t->flags.multiline)
				out_str(t, "(?:$|(?=\\n))");
			else
				out_char(t, '$');
			quantifiable = false;
			break;
		case '(':
			{
				bool		was_flags = false;

				if (tr_peek(t, 1) == '?' && t->dialect == LC_REGEX_RE2)
				{
					/* detect a bare (?flags) which is no atom */
					int			i = 2;

					while (t->pos + i < t->n && tr_peek(t, i) < 0x80 &&
						   tr_peek(t, i) != 0 && strchr("imsU-", (int) tr_peek(t, i)))
						i++;
					if (i > 2 && tr_peek(t, i) == ')')
						was_flags = true;
				}
				tr_group(t);
				if (t->err)
					return;
				if (was_flags)
					return;
				/* a quantified lookaround is not allowed (ARE refuses too) */
				if (t->outlen - atom_start >= 3 && t->out[atom_start + 1] == '?' &&
					(t->out[atom_start + 2] == '=' || t->out[atom_start + 2] == '!' ||
					 t->out[atom_start + 2] == '<'))
					quantifiable = false;
			}
			break;
		case ')':
			tr_error(t, "unmatched )");
			return;
		case '[':
			t->pos++;
			tr_class(t);
			break;
		case '.':
			t->pos++;
			tr_dot(t);
			break;
		case '*':
		case '+':
		case '?':
			tr_error(t, "nothing to repeat");
			return;
		case '{':
			if (at_quantifier(t))
			{
				tr_error(t, "nothing to repeat");
				return;
			}
			t->pos++;
			out_source_char(t, c);
			break;
		case '\\':
			{
				pg_wchar	ch;
				CpSet		s;
				EscKind		k;

				t->pos++;
				cpset_init(&s);
				k = tr_escape(t, false, &ch, &s);
				if (k == ESC_CHAR)
					out_source_char(t, ch);
				else if (k == ESC_SET)
					out_source_set(t, &s);
				else if (k == ESC_EMITTED)
				{
					/* assertions (\b, \B, \A, \z) take no quantifier */
					quantifiable = false;
				}
				else if (k == ESC_BACKREF)
				{
					/* ECMA back reference: \N or \k<name> */
					if (tr_peek(t, 0) == 'k')
					{
						char	   *name;
						int			g = 0;

						t->pos += 2;
						name = read_group_name(t);
						if (!name)
							return;
						for (int i = 0; i < t->ngroups; i++)
						{
							/* names of groups not yet opened come from the pre-pass */
							if (t->groups[i].name && strcmp(t->groups[i].name, name) == 0)
							{
								g = i + 1;
								break;
							}
						}
						if (g == 0)
						{
							tr_error(t, "reference to unknown group name \"%s\"", name);
							return;
						}
						tr_backref(t, g);
					}
					else
					{
						int			g = read_decimal(t);

						if (g > t->ngroups)
						{
							tr_error(t, "back reference \\%d to a group that does not exist", g);
							return;
						}
						tr_backref(t, g);
					}
				}
				else if (k == ESC_QUOTE)
				{
					/* RE2 \Q...\E */
					int			start = atom_start;

					t->pos++;
					while (!tr_eof(t) &&
						   !(tr_peek(t, 0) == '\\' && tr_peek(t, 1) == 'E'))
					{
						start = t->outlen;
						out_source_char(t, t->p[t->pos++]);
					}
					if (!tr_eof(t))
						t->pos += 2;
					/* a quantifier applies to the last character only */
					atom_start = start;
				}
				else
				{
					pfree(s.r);
					return;
				}
				pfree(s.r);
			}
			break;
		default:
			t->pos++;
			out_source_char(t, c);
			break;
	}
	if (t->err)
		return;
	if (at_quantifier(t))
	{
		if (!quantifiable)
		{
			tr_error(t, "nothing to repeat");
			return;
		}
		tr_quantifier(t, atom_start, groups_before);
		if (!t->err && at_quantifier(t))
			tr_error(t, "nested quantifier");
	}
}

static void
tr_alternative(Tr *t)
{
	while (!tr_eof(t) && !t->err && tr_peek(t, 0) != '|' && tr_peek(t, 0) != ')')
	{
		CHECK_FOR_INTERRUPTS();
		tr_term(t);
	}
}

static void
tr_disjunction(Tr *t)
{
	tr_alternative(t);
	while (!t->err && tr_peek(t, 0) == '|')
	{
		t->pos++;
		out_char(t, '|');
		tr_alternative(t);
	}
}

/*
 * Pre-pass: count the capturing groups and collect their names, so that
 * back references (which may point forward in ECMA-262) can be checked.
 */
static void
count_groups(Tr *t)
{
	int			in_class = 0;
	int			n = 0;

	for (int i = 0; i < t->n; i++)
	{
		pg_wchar	c = t->p[i];

		if (c == '\\')
		{
			if (t->dialect == LC_REGEX_RE2 && i + 1 < t->n && t->p[i + 1] == 'Q')
			{
				/* skip \Q...\E */
				i += 2;
				while (i + 1 < t->n && !(t->p[i] == '\\' && t->p[i + 1] == 'E'))
					i++;
				i++;
				continue;
			}
			/* a back reference (in a class it is an error reported later) */
			if (!in_class && i + 1 < t->n &&
				((t->p[i + 1] >= '1' && t->p[i + 1] <= '9') || t->p[i + 1] == 'k'))
				t->has_backrefs = true;
			i++;
			continue;
		}
		if (in_class)
		{
			if (c == ']')
				in_class = 0;
			continue;
		}
		if (c == '[')
		{
			in_class = 1;
			/* a leading ']' is literal in RE2; "[]" is an empty class in ECMA */
			if (i + 1 < t->n && t->p[i + 1] == '^')
				i++;
			if (t->dialect == LC_REGEX_RE2 && i + 1 < t->n && t->p[i + 1] == ']')
				i++;
			continue;
		}
		if (c != '(')
			continue;
		if (i + 1 < t->n && t->p[i + 1] == '?')
		{
			if (i + 2 < t->n && t->p[i + 2] == '<' &&
				!(i + 3 < t->n && (t->p[i + 3] == '=' || t->p[i + 3] == '!')))
				n++;
			else if (t->dialect == LC_REGEX_RE2 && i + 3 < t->n &&
					 t->p[i + 2] == 'P' && t->p[i + 3] == '<')
				n++;
			continue;
		}
		n++;
	}
	t->ngroups = n;
	t->groups = palloc0(sizeof(GroupInfo) * (n + 1));

	/* Names, in order, for \k<name> that points forward. */
	if (t->dialect == LC_REGEX_ECMA262)
	{
		int			g = 0;

		in_class = 0;
		for (int i = 0; i < t->n; i++)
		{
			pg_wchar	c = t->p[i];

			if (c == '\\')
			{
				i++;
				continue;
			}
			if (in_class)
			{
				if (c == ']')
					in_class = 0;
				continue;
			}
			if (c == '[')
			{
				in_class = 1;
				if (i + 1 < t->n && t->p[i + 1] == '^')
					i++;
				continue;
			}
			if (c != '(')
				continue;
			if (i + 1 < t->n && t->p[i + 1] == '?')
			{
				if (i + 2 < t->n && t->p[i + 2] == '<' &&
					!(i + 3 < t->n && (t->p[i + 3] == '=' || t->p[i + 3] == '!')))
				{
					StringInfoData buf;
					int			j = i + 3;

					initStringInfo(&buf);
					while (j < t->n && t->p[j] != '>')
					{
						unsigned char u[8];

						unicode_to_utf8(t->p[j], u);
						appendBinaryStringInfo(&buf, (char *) u, pg_utf_mblen(u));
						j++;
					}
					if (g < n)
					{
						/* duplicate names are an error in ECMA-262 */
						for (int k = 0; k < g; k++)
							if (t->groups[k].name && strcmp(t->groups[k].name, buf.data) == 0)
								tr_error(t, "duplicate group name \"%s\"", buf.data);
						t->groups[g].name = buf.data;
					}
					g++;
				}
				continue;
			}
			g++;
		}
	}
}

/*
 * Decode UTF-8 into code points.  Returns the count, or -1 for invalid
 * UTF-8 when strict; otherwise invalid bytes become U+FFFD.
 */
int
lc_regex_decode_utf8(const char *s, int len, pg_wchar *out, bool strict)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	int			n = 0;

	while (p < end)
	{
		int			l = pg_utf_mblen(p);

		if (*p < 0x80)
		{
			out[n++] = *p++;
			continue;
		}
		if (p + l > end || !pg_utf8_islegal(p, l))
		{
			if (strict)
				return -1;
			out[n++] = 0xFFFD;
			p++;
			continue;
		}
		out[n++] = utf8_to_unicode(p);
		p += l;
	}
	return n;
}

/*
 * Translate a pattern.  Returns the ARE pattern as code points (palloc'd,
 * *outlen set), or NULL with *errmsg set.
 */
pg_wchar *
lc_regex_to_are(LcRegexDialect dialect, const char *pattern, int len, int *outlen, char **errmsg)
{
	Tr			t;
	pg_wchar   *src;
	int			n;

	src = palloc(sizeof(pg_wchar) * (len + 1));
	n = lc_regex_decode_utf8(pattern, len, src, true);
	if (n < 0)
	{
		*errmsg = pstrdup("the pattern is not valid UTF-8");
		return NULL;
	}
	memset(&t, 0, sizeof(t));
	t.dialect = dialect;
	t.p = src;
	t.n = n;
	t.outcap = n * 2 + 16;
	t.out = palloc(sizeof(pg_wchar) * t.outcap);
	count_groups(&t);
	if (!t.err)
		tr_disjunction(&t);
	if (!t.err && !tr_eof(&t))
		tr_error(&t, "unmatched )");
	if (t.err)
	{
		*errmsg = t.err;
		return NULL;
	}
	*outlen = t.outlen;
	return t.out;
}

char *
lc_regex_translate(LcRegexDialect dialect, const char *pattern, int len, char **errmsg)
{
	int			n;
	pg_wchar   *are = lc_regex_to_are(dialect, pattern, len, &n, errmsg);
	StringInfoData buf;

	if (!are)
		return NULL;
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		unsigned char u[8];

		unicode_to_utf8(are[i], u);
		appendBinaryStringInfo(&buf, (char *) u, pg_utf_mblen(u));
	}
	pfree(are);
	return buf.data;
}
