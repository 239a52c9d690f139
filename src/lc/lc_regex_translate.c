/*-------------------------------------------------------------------------
 *
 * lc_regex_translate.c
 *	  The translator of ECMA-262 and RE2 patterns into PostgreSQL's ARE
 *	  syntax: a recursive-descent parser of each dialect that writes the
 *	  equivalent ARE text as code points, or says why it cannot.  This
 *	  file holds the output helpers and the grammar of disjunctions,
 *	  terms, groups and quantifiers; escapes and bracket classes are in
 *	  lc_regex_class.c.
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
static void tr_disjunction(Tr *t);

void
lctr_error(Tr *t, const char *fmt,...)
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

static void
out_char(Tr *t, pg_wchar c)
{
	if (t->outlen >= t->outcap)
	{
		if (t->outcap >= LC_REGEX_MAX_OUTPUT)
		{
			lctr_error(t, "the translated regular expression is too large");
			t->outlen = 0;
			return;
		}
		t->outcap *= 2;
		t->out = repalloc(t->out, sizeof(pg_wchar) * t->outcap);
	}
	t->out[t->outlen++] = c;
}

void
lctr_out_str(Tr *t, const char *s)
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
	lctr_out_str(t, buf);
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
void
lctr_out_set(Tr *t, CpSet *s)
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
		lctr_out_str(t, "[^\\u0000-\\U0010FFFF]");
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
		lctr_out_set(t, &s);
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
	lctr_out_set(t, s);
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
	lctr_out_set(t, &s);
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
	lctr_out_str(t, buf);
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
			lctr_error(t, "possessive quantifiers are not supported");
			return;
		}
		return;
	}
	if (!read_braces(t, &min, &max))
		return;
	if (max >= 0 && max < min)
	{
		lctr_error(t, "numbers out of order in {} quantifier");
		return;
	}
	if (t->dialect == LC_REGEX_RE2 && (min > 1000 || max > 1000))
	{
		lctr_error(t, "repetition count above 1000");
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
		lctr_error(t, "a repetition count above %d is not supported on a capturing group",
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
			lctr_error(t, "the translated regular expression is too large");
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
			lctr_out_str(t, "(?:");
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
			lctr_error(t, "invalid character in group name");
			return NULL;
		}
		unicode_to_utf8(c, u);
		appendBinaryStringInfo(&buf, (char *) u, pg_utf_mblen(u));
		t->pos++;
	}
	if (tr_eof(t) || buf.len == 0)
	{
		lctr_error(t, "invalid group name");
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
		lctr_error(t, "back references inside lookaround assertions are not supported");
		return;
	}
	if (gi->are_number == 0 && gi->closed)
	{
		lctr_error(t, "back references to a group inside a lookaround assertion are not supported");
		return;
	}
	if (!gi->closed)
	{
		/*
		 * ECMA-262: a reference to a group that has not captured yet (a
		 * forward reference, or one inside its own group) matches the empty
		 * string.
		 */
		lctr_out_str(t, "(?:)");
		return;
	}
	snprintf(buf, sizeof(buf), "(?:\\%d)", gi->are_number);
	lctr_out_str(t, buf);
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
				lctr_error(t, "inline flags (?flags) are not ECMA-262; use (?flags:...)");
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
	lctr_error(t, "invalid group or flag syntax after (?");
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
		lctr_error(t, "groups nested too deeply");
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
			lctr_out_str(t, "(?:");
		}
		else if (c == '=' || c == '!' ||
				 (c == '<' && (tr_peek(t, 2) == '=' || tr_peek(t, 2) == '!')))
		{
			if (t->dialect == LC_REGEX_RE2)
			{
				lctr_error(t, "lookaround assertions are not supported in RE2");
				return;
			}
			lctr_out_str(t, "(?");
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
			lctr_out_str(t, "(?:");
		}
	}
	else
		capturing = true;

	if (capturing)
	{
		srcgroup = ++t->groups_opened;
		if (srcgroup > t->ngroups)
		{
			lctr_error(t, "internal error: group count mismatch");
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
			lctr_out_str(t, "(?:");
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
		lctr_error(t, "missing ) to close a group");
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
				lctr_out_str(t, "(?:^|(?<=\\n))");
			else
				out_char(t, '^');
			quantifiable = false;
			break;
		case '$':
			t->pos++;
			if (t->flags.multiline)
				lctr_out_str(t, "(?:$|(?=\\n))");
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
			lctr_error(t, "unmatched )");
			return;
		case '[':
			t->pos++;
			lctr_class(t);
			break;
		case '.':
			t->pos++;
			tr_dot(t);
			break;
		case '*':
		case '+':
		case '?':
			lctr_error(t, "nothing to repeat");
			return;
		case '{':
			if (at_quantifier(t))
			{
				lctr_error(t, "nothing to repeat");
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
				k = lctr_escape(t, false, &ch, &s);
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
							lctr_error(t, "reference to unknown group name \"%s\"", name);
							return;
						}
						tr_backref(t, g);
					}
					else
					{
						int			g = read_decimal(t);

						if (g > t->ngroups)
						{
							lctr_error(t, "back reference \\%d to a group that does not exist", g);
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
			lctr_error(t, "nothing to repeat");
			return;
		}
		tr_quantifier(t, atom_start, groups_before);
		if (!t->err && at_quantifier(t))
			lctr_error(t, "nested quantifier");
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
								lctr_error(t, "duplicate group name \"%s\"", buf.data);
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
		lctr_error(&t, "unmatched )");
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
