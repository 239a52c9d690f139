/*-------------------------------------------------------------------------
 *
 * lc_regex_class.c
 *	  The translator's escapes and character classes: hex and Unicode
 *	  escapes, \p{...} properties, the class escapes (\d \w \s ...),
 *	  POSIX classes and [...] bracket expressions of ECMA-262 and RE2,
 *	  written as ARE code point sets.
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h); this file
 * is part of the regular expression library (see lc_regex.c for the
 * design, lc_regex_translate.c for the grammar that calls it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_hex.h"
#include "lc/lc_regex_int.h"
#include "lc/lc_unicode.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

/* Read exactly n hex digits; -1 when they are not there (pos unchanged). */
static int64
read_hex_fixed(Tr *t, int n)
{
	int64		v = 0;

	for (int i = 0; i < n; i++)
	{
		int			h = lc_hex_digit(tr_peek(t, i));

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
	while (!tr_eof(t) && lc_hex_digit(tr_peek(t, 0)) >= 0)
	{
		v = v * 16 + lc_hex_digit(tr_peek(t, 0));
		if (v > UNICODE_MAX)
		{
			lctr_error(t, "code point escape above U+10FFFF");
			return -1;
		}
		ndig++;
		t->pos++;
	}
	if (ndig == 0 || tr_peek(t, 0) != '}')
	{
		lctr_error(t, "malformed \\u{...} or \\x{...} escape");
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
				lctr_error(t, "invalid Unicode property name");
				return false;
			}
			name[len++] = (char) c;
			t->pos++;
		}
		if (tr_eof(t))
		{
			lctr_error(t, "missing } after \\p{");
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
		lctr_error(t, "\\p and \\P need a property name in braces");
		return false;
	}
	name[len] = '\0';
	cpset_init(&tmp);
	if (!property_set(t, name, &tmp))
	{
		lctr_error(t, "unknown or unsupported Unicode property \"%s\"", name);
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
EscKind
lctr_escape(Tr *t, bool in_class, pg_wchar *ch, CpSet *set)
{
	pg_wchar	c;
	int64		v;

	if (tr_eof(t))
	{
		lctr_error(t, "\\ at end of pattern");
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
				lctr_error(t, "\\%c is not allowed in a character class", (char) c);
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
					lctr_out_str(t, parts[k]);
					lctr_out_set(t, &w);
				}
				lctr_out_str(t, parts[4]);
				pfree(w.r);
				return ESC_EMITTED;
			}
			/* word boundary: ARE's \y and \Y use the same ASCII word chars */
			lctr_out_str(t, c == 'b' ? "\\y" : "\\Y");
			return ESC_EMITTED;
		case 'x':
			t->pos++;
			if (t->dialect == LC_REGEX_RE2 && tr_peek(t, 0) == '{')
				v = read_hex_braced(t);
			else
			{
				v = read_hex_fixed(t, 2);
				if (v < 0)
					lctr_error(t, "\\x needs two hexadecimal digits");
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
					lctr_error(t, "\\c must be followed by a letter");
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
					lctr_error(t, "\\u needs four hexadecimal digits or {...}");
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
					lctr_error(t, "octal escapes are not allowed");
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
					lctr_error(t, "invalid escape \\k");
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
				lctr_error(t, "back reference or octal escape in a character class");
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
		lctr_error(t, "invalid escape \\%s", esc_desc(c));
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
			lctr_out_str(t, "^");
			return ESC_EMITTED;
		case 'z':
			if (in_class)
				break;
			t->pos++;
			lctr_out_str(t, "$");
			return ESC_EMITTED;
		case 'C':
			lctr_error(t, "\\C (any byte) cannot be matched on characters");
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
			lctr_error(t, "back references are not supported in RE2");
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
		lctr_error(t, "back references are not supported in RE2");
		return ESC_ERROR;
	}
	if (c < 0x80 && !is_ascii_alnum(c) && c != '_' && c >= 0x20)
	{
		*ch = c;
		t->pos++;
		return ESC_CHAR;
	}
	lctr_error(t, "invalid escape \\%s", esc_desc(c));
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
				lctr_error(t, "unknown POSIX class [:%s:]", name);
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
		k = lctr_escape(t, true, ch, set);
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
			lctr_error(t, "this escape is not allowed in a character class");
		return false;
	}
	*is_char = true;
	*ch = c;
	t->pos++;
	return true;
}

/* [...]; pos is just after '['. */
void
lctr_class(Tr *t)
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
			lctr_error(t, "missing ] to close a character class");
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
					lctr_error(t, "invalid character class range");
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
				lctr_error(t, "character class range out of order");
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
	lctr_out_set(t, &s);
	pfree(s.r);
}
