/*-------------------------------------------------------------------------
 *
 * cel_lex.c
 *	  Lexer of the Common Expression Language.
 *
 * Follows the lexis of google/cel-spec doc/langdef.md: decimal and hex
 * integers with an optional u/U suffix, floats, strings and bytes in all
 * quote forms (single, double, triple, raw) with every escape, identifiers,
 * reserved words and operators.  Errors come back as T_ERROR tokens with a
 * message, so that the parser can report the position.
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "cel/cel_int.h"
#include "lc/lc_hex.h"

static const char *const reserved_words[] = {
	"as", "break", "const", "continue", "else", "for", "function", "if",
	"import", "let", "loop", "package", "namespace", "return", "var",
	"void", "while", NULL
};

static void
lex_error(CelToken *t, int pos, const char *msg)
{
	t->tok = T_ERROR;
	t->pos = pos;
	t->str = pstrdup(msg);
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Append code point cp as UTF-8. */
static void
append_utf8(StringInfo buf, uint32 cp)
{
	if (cp < 0x80)
		appendStringInfoChar(buf, (char) cp);
	else if (cp < 0x800)
	{
		appendStringInfoChar(buf, (char) (0xC0 | (cp >> 6)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else if (cp < 0x10000)
	{
		appendStringInfoChar(buf, (char) (0xE0 | (cp >> 12)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else
	{
		appendStringInfoChar(buf, (char) (0xF0 | (cp >> 18)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 12) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
}

/*
 * Lex a string or bytes literal whose opening quote is at lx->pos.
 */
static void
lex_string(CelLexer *lx, CelToken *t, int start, bool raw, bool bytes)
{
	const char *s = lx->src;
	int			n = lx->len;
	int			p = lx->pos;
	char		q = s[p];
	bool		triple = (p + 2 < n && s[p + 1] == q && s[p + 2] == q);
	StringInfoData buf;

	initStringInfo(&buf);
	p += triple ? 3 : 1;
	for (;;)
	{
		char		c;

		if (p >= n)
		{
			lex_error(t, start, "unterminated string literal");
			return;
		}
		c = s[p];
		if (c == q)
		{
			if (!triple)
			{
				p++;
				break;
			}
			if (p + 2 < n && s[p + 1] == q && s[p + 2] == q)
			{
				p += 3;
				break;
			}
			appendStringInfoChar(&buf, c);
			p++;
			continue;
		}
		if (!triple && (c == '\n' || c == '\r'))
		{
			lex_error(t, start, "newline in a single-line string literal");
			return;
		}
		if (c != '\\' || raw)
		{
			appendStringInfoChar(&buf, c);
			p++;
			continue;
		}
		/* escape */
		if (p + 1 >= n)
		{
			lex_error(t, p, "unterminated escape sequence");
			return;
		}
		c = s[p + 1];
		p += 2;
		switch (c)
		{
			case 'a':
				appendStringInfoChar(&buf, '\a');
				break;
			case 'b':
				appendStringInfoChar(&buf, '\b');
				break;
			case 'f':
				appendStringInfoChar(&buf, '\f');
				break;
			case 'n':
				appendStringInfoChar(&buf, '\n');
				break;
			case 'r':
				appendStringInfoChar(&buf, '\r');
				break;
			case 't':
				appendStringInfoChar(&buf, '\t');
				break;
			case 'v':
				appendStringInfoChar(&buf, '\v');
				break;
			case '\\':
			case '\'':
			case '"':
			case '`':
			case '?':
				appendStringInfoChar(&buf, c);
				break;
			case 'x':
			case 'X':
			case 'u':
			case 'U':
				{
					int			digits = (c == 'x' || c == 'X') ? 2 : (c == 'u' ? 4 : 8);
					uint32		cp = 0;
					int			k;

					if (bytes && (c == 'u' || c == 'U'))
					{
						lex_error(t, p - 2, "\\u and \\U escapes are not allowed in bytes literals");
						return;
					}
					for (k = 0; k < digits; k++)
					{
						int			h = (p + k < n) ? lc_hex_digit((unsigned char) s[p + k]) : -1;

						if (h < 0)
						{
							lex_error(t, p - 2, "invalid hexadecimal escape sequence");
							return;
						}
						cp = cp * 16 + h;
					}
					p += digits;
					if (bytes)
						appendStringInfoChar(&buf, (char) cp);
					else
					{
						if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
						{
							lex_error(t, p - digits - 2, "invalid Unicode code point in escape sequence");
							return;
						}
						append_utf8(&buf, cp);
					}
					break;
				}
			case '0':
			case '1':
			case '2':
			case '3':
				{
					uint32		cp = c - '0';
					int			k;

					for (k = 0; k < 2; k++)
					{
						if (p + k >= n || s[p + k] < '0' || s[p + k] > '7')
						{
							lex_error(t, p - 2, "invalid octal escape sequence");
							return;
						}
						cp = cp * 8 + (s[p + k] - '0');
					}
					p += 2;
					if (bytes)
						appendStringInfoChar(&buf, (char) cp);
					else
						append_utf8(&buf, cp);
					break;
				}
			default:
				lex_error(t, p - 2, "invalid escape sequence");
				return;
		}
	}
	lx->pos = p;
	t->tok = bytes ? T_BYTES : T_STRING;
	t->str = buf.data;
	t->len = buf.len;
	if (!bytes && !cel_utf8_valid(buf.data, buf.len))
		lex_error(t, start, "string literal is not valid UTF-8");
}

static void
lex_number(CelLexer *lx, CelToken *t)
{
	const char *s = lx->src;
	int			n = lx->len;
	int			p = lx->pos;
	int			start = p;
	bool		is_float = false;

	if (s[p] == '0' && p + 1 < n && (s[p + 1] == 'x' || s[p + 1] == 'X'))
	{
		uint64		v = 0;
		bool		overflow = false;
		int			ndig = 0;

		p += 2;
		while (p < n && lc_hex_digit((unsigned char) s[p]) >= 0)
		{
			if (v > (PG_UINT64_MAX >> 4))
				overflow = true;
			v = (v << 4) | lc_hex_digit((unsigned char) s[p]);
			p++;
			ndig++;
		}
		if (ndig == 0)
		{
			lex_error(t, start, "invalid hexadecimal literal");
			return;
		}
		if (p < n && (s[p] == 'u' || s[p] == 'U'))
		{
			p++;
			t->tok = T_UINT;
			t->u = v;
			if (overflow)
			{
				lex_error(t, start, "integer literal is out of range");
				return;
			}
		}
		else
		{
			t->tok = T_INT;
			t->int_too_big = (v > (uint64) PG_INT64_MAX);
			if (overflow || v > (uint64) PG_INT64_MAX + 1)
			{
				lex_error(t, start, "integer literal is out of range");
				return;
			}
			t->i = (int64) v;
			t->u = v;
		}
		lx->pos = p;
		t->end = p;
		return;
	}

	while (p < n && is_digit(s[p]))
		p++;
	if (p + 1 < n && s[p] == '.' && is_digit(s[p + 1]))
	{
		is_float = true;
		p++;
		while (p < n && is_digit(s[p]))
			p++;
	}
	if (p < n && (s[p] == 'e' || s[p] == 'E'))
	{
		int			q = p + 1;

		if (q < n && (s[q] == '+' || s[q] == '-'))
			q++;
		if (q < n && is_digit(s[q]))
		{
			is_float = true;
			p = q;
			while (p < n && is_digit(s[p]))
				p++;
		}
	}
	if (is_float)
	{
		char	   *tmp = pnstrdup(s + start, p - start);

		t->tok = T_DOUBLE;
		t->d = strtod(tmp, NULL);
		pfree(tmp);
	}
	else
	{
		uint64		v = 0;
		bool		overflow = false;
		int			k;

		for (k = start; k < p; k++)
		{
			int			dgt = s[k] - '0';

			if (v > (PG_UINT64_MAX - dgt) / 10)
				overflow = true;
			v = v * 10 + dgt;
		}
		if (p < n && (s[p] == 'u' || s[p] == 'U'))
		{
			p++;
			if (overflow)
			{
				lex_error(t, start, "integer literal is out of range");
				return;
			}
			t->tok = T_UINT;
			t->u = v;
		}
		else
		{
			if (overflow || v > (uint64) PG_INT64_MAX + 1)
			{
				lex_error(t, start, "integer literal is out of range");
				return;
			}
			t->tok = T_INT;
			t->int_too_big = (v > (uint64) PG_INT64_MAX);
			t->i = (int64) v;
			t->u = v;
		}
	}
	if (p < n && (is_ident_start(s[p]) || is_digit(s[p])))
	{
		lex_error(t, start, "invalid number literal");
		return;
	}
	lx->pos = p;
	t->end = p;
}

void
cel_lex_next(CelLexer *lx, CelToken *t)
{
	const char *s = lx->src;
	int			n = lx->len;
	int			p = lx->pos;
	char		c;

	memset(t, 0, sizeof(*t));
	/* whitespace and // comments */
	for (;;)
	{
		while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' ||
						 s[p] == '\r' || s[p] == '\f' || s[p] == '\v'))
			p++;
		if (p + 1 < n && s[p] == '/' && s[p + 1] == '/')
		{
			while (p < n && s[p] != '\n')
				p++;
			continue;
		}
		break;
	}
	t->pos = p;
	lx->pos = p;
	if (p >= n)
	{
		t->tok = T_EOF;
		t->end = p;
		return;
	}
	c = s[p];

	/* string and bytes literals with prefixes */
	if (c == '"' || c == '\'')
	{
		lex_string(lx, t, p, false, false);
		t->end = lx->pos;
		return;
	}
	if (is_ident_start(c))
	{
		bool		raw = false,
					bytes = false;
		int			q = p;

		/* r, b, rb, br prefixes (any case) */
		while (q < n && q - p < 2)
		{
			if ((s[q] == 'r' || s[q] == 'R') && !raw)
				raw = true;
			else if ((s[q] == 'b' || s[q] == 'B') && !bytes)
				bytes = true;
			else
				break;
			q++;
		}
		if (q > p && q < n && (s[q] == '"' || s[q] == '\''))
		{
			lx->pos = q;
			lex_string(lx, t, p, raw, bytes);
			t->end = lx->pos;
			return;
		}
		q = p;
		while (q < n && (is_ident_start(s[q]) || is_digit(s[q])))
			q++;
		t->str = pnstrdup(s + p, q - p);
		t->len = q - p;
		lx->pos = q;
		t->end = q;
		if (strcmp(t->str, "true") == 0)
			t->tok = T_TRUE;
		else if (strcmp(t->str, "false") == 0)
			t->tok = T_FALSE;
		else if (strcmp(t->str, "null") == 0)
			t->tok = T_NULL;
		else if (strcmp(t->str, "in") == 0)
			t->tok = T_IN;
		else
		{
			const char *const *r;

			t->tok = T_IDENT;
			for (r = reserved_words; *r; r++)
				if (strcmp(t->str, *r) == 0)
					t->tok = T_RESERVED;
		}
		return;
	}
	if (is_digit(c) || (c == '.' && p + 1 < n && is_digit(s[p + 1])))
	{
		lex_number(lx, t);
		return;
	}

	if (c == '`')
	{
		int			q = p + 1;

		while (q < n && s[q] != '`' && s[q] != '\n')
			q++;
		if (q >= n || s[q] != '`' || q == p + 1)
		{
			lex_error(t, p, "unterminated or empty quoted identifier");
			return;
		}
		t->tok = T_QIDENT;
		t->str = pnstrdup(s + p + 1, q - p - 1);
		t->len = q - p - 1;
		lx->pos = q + 1;
		t->end = q + 1;
		return;
	}
	lx->pos = p + 1;
	t->end = p + 1;
	switch (c)
	{
		case '(':
			t->tok = T_LPAREN;
			return;
		case ')':
			t->tok = T_RPAREN;
			return;
		case '[':
			t->tok = T_LBRACKET;
			return;
		case ']':
			t->tok = T_RBRACKET;
			return;
		case '{':
			t->tok = T_LBRACE;
			return;
		case '}':
			t->tok = T_RBRACE;
			return;
		case '.':
			t->tok = T_DOT;
			return;
		case ',':
			t->tok = T_COMMA;
			return;
		case ':':
			t->tok = T_COLON;
			return;
		case '?':
			t->tok = T_QUESTION;
			return;
		case '+':
			t->tok = T_PLUS;
			return;
		case '-':
			t->tok = T_MINUS;
			return;
		case '*':
			t->tok = T_STAR;
			return;
		case '/':
			t->tok = T_SLASH;
			return;
		case '%':
			t->tok = T_PERCENT;
			return;
		default:
			break;
	}
	if (p + 1 < n)
	{
		char		d = s[p + 1];
		CelTok		two = T_EOF;

		if (c == '=' && d == '=')
			two = T_EQ;
		else if (c == '!' && d == '=')
			two = T_NE;
		else if (c == '<' && d == '=')
			two = T_LE;
		else if (c == '>' && d == '=')
			two = T_GE;
		else if (c == '&' && d == '&')
			two = T_AND;
		else if (c == '|' && d == '|')
			two = T_OR;
		if (two != T_EOF)
		{
			t->tok = two;
			lx->pos = p + 2;
			t->end = p + 2;
			return;
		}
	}
	switch (c)
	{
		case '!':
			t->tok = T_NOT;
			return;
		case '<':
			t->tok = T_LT;
			return;
		case '>':
			t->tok = T_GT;
			return;
		default:
			break;
	}
	lex_error(t, p, psprintf("unexpected character '%s'",
							 (unsigned char) c >= 0x20 && (unsigned char) c < 0x7f ?
							 pnstrdup(&s[p], 1) : "?"));
}
