/*-------------------------------------------------------------------------
 *
 * js_format.c
 *	  JSON Schema "format" checkers (see js_internal.h).
 *
 * Each checker follows the grammar the JSON Schema specification points
 * to: RFC 3339 (date-time, date, time, and duration from its appendix A),
 * RFC 5321 / RFC 6531 (email, idn-email), RFC 1123 and IDNA2008 (RFC 5890
 * to 5893: hostname, idn-hostname), RFC 2673 / RFC 4291 (ipv4, ipv6),
 * RFC 3986 / RFC 3987 (uri, uri-reference, iri, iri-reference), RFC 6570
 * (uri-template), RFC 4122 (uuid), ECMA-262 (regex, through lc_regex),
 * RFC 6901 and the relative JSON pointer draft.  Where the JSON Schema Test
 * Suite pins down a choice the RFCs leave open, the suite wins; those
 * choices are listed in docs/jsonschema-formats.md.
 *
 * The checkers are pure: no table access and no error for a bad value, so
 * the validator can call them on any input.  Values are UTF-8.
 *
 * src/jsonschema/ is the JSON Schema component: the pure compiler and
 * validator, its format checkers, and its SQL glue (the lowcode.jsonschema_*
 * functions and the document store).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lc/lc_regex.h"
#include "lc/lc_unicode.h"
#include "mb/pg_wchar.h"

#include "jsonschema/js_internal.h"

#define MAX_LABEL_CHARS 256		/* longer labels are invalid anyway */

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Parse exactly n ASCII digits at s; -1 when they are not there. */
static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Decode UTF-8 into code points; false for invalid UTF-8 or more than max
 * code points.
 */
static bool
decode_utf8(const char *s, int len, pg_wchar *out, int max, int *n)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	int			k = 0;

	while (p < end)
	{
		int			l = pg_utf_mblen(p);

		if (k >= max)
			return false;
		if (*p < 0x80)
		{
			out[k++] = *p++;
			continue;
		}
		if (p + l > end || !pg_utf8_islegal(p, l))
			return false;
		out[k++] = utf8_to_unicode(p);
		p += l;
	}
	*n = k;
	return true;
}

/* ---------------------------------------------------------------------
 * Dates and times (RFC 3339 section 5.6, appendix A)
 * ---------------------------------------------------------------------
 */
static bool
is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* full-date = date-fullyear "-" date-month "-" date-mday */
static bool
check_full_date(const char *s, int len)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d,
				max;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && is_leap_year(y))
		max = 29;
	return d <= max;
}

/*
 * full-time = partial-time time-offset, with a leap second allowed only
 * when the time converted to UTC is 23:59:60.
 */
static bool
check_full_time(const char *s, int len)
{
	int			h,
				mi,
				sec,
				pos,
				off = 0;

	if (len < 9 || s[2] != ':' || s[5] != ':')
		return false;
	h = digits(s, 2);
	mi = digits(s + 3, 2);
	sec = digits(s + 6, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return false;
	pos = 8;
	if (s[pos] == '.')
	{
		pos++;
		if (pos >= len || !is_digit(s[pos]))
			return false;
		while (pos < len && is_digit(s[pos]))
			pos++;
	}
	if (pos >= len)
		return false;			/* the offset is required */
	if (s[pos] == 'Z' || s[pos] == 'z')
	{
		if (pos + 1 != len)
			return false;
	}
	else if (s[pos] == '+' || s[pos] == '-')
	{
		int			oh,
					om;

		if (len - pos != 6 || s[pos + 3] != ':')
			return false;
		oh = digits(s + pos + 1, 2);
		om = digits(s + pos + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
	}
	else
		return false;
	if (sec == 60)
	{
		int			utc = ((h * 60 + mi - off) % 1440 + 1440) % 1440;

		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool
check_date_time(const char *s, int len)
{
	if (len < 11 || (s[10] != 'T' && s[10] != 't'))
		return false;
	return check_full_date(s, 10) && check_full_time(s + 11, len - 11);
}

/*
 * duration (RFC 3339 appendix A):
 *   "P" (dur-date / dur-time / dur-week)
 *   dur-date = (dur-day / dur-month / dur-year) [dur-time]
 *   dur-year = 1*DIGIT "Y" [dur-month]; dur-month = 1*DIGIT "M" [dur-day]
 *   dur-day = 1*DIGIT "D"; dur-time = "T" (dur-hour / dur-minute / dur-second)
 *   dur-hour = 1*DIGIT "H" [dur-minute]; dur-minute = 1*DIGIT "M" [dur-second]
 *   dur-second = 1*DIGIT "S"; dur-week = 1*DIGIT "W"
 * So the units that appear form a contiguous run of Y M D (then of H M S).
 */
static bool
duration_part(const char *s, int len, int *pos, const char *units)
{
	int			last = -1;		/* index in units of the last unit seen */
	bool		any = false;

	while (*pos < len && is_digit(s[*pos]))
	{
		const char *u;
		int			idx;

		while (*pos < len && is_digit(s[*pos]))
			(*pos)++;
		if (*pos >= len)
			return false;		/* a number without its unit */
		u = strchr(units, s[*pos]);
		if (u == NULL || s[*pos] == '\0')
			return false;
		idx = u - units;
		/* each unit must directly follow the previous one */
		if (last >= 0 && idx != last + 1)
			return false;
		last = idx;
		any = true;
		(*pos)++;
	}
	return any;
}

static bool
check_duration(const char *s, int len)
{
	int			pos = 1;

	if (len < 3 || s[0] != 'P')
		return false;
	/* dur-week */
	if (s[len - 1] == 'W')
	{
		if (len < 3)
			return false;
		for (int i = 1; i < len - 1; i++)
			if (!is_digit(s[i]))
				return false;
		return true;
	}
	if (s[pos] != 'T')
	{
		if (!duration_part(s, len, &pos, "YMD"))
			return false;
		if (pos == len)
			return true;
	}
	if (s[pos] != 'T')
		return false;
	pos++;
	if (!duration_part(s, len, &pos, "HMS"))
		return false;
	return pos == len;
}

/* ---------------------------------------------------------------------
 * IP addresses
 * ---------------------------------------------------------------------
 */

/* dotted-quad: four decimal octets 0-255, no leading zeros */
static bool
check_ipv4(const char *s, int len)
{
	int			pos = 0;

	for (int part = 0; part < 4; part++)
	{
		int			start = pos,
					v = 0;

		if (part > 0)
		{
			if (pos >= len || s[pos] != '.')
				return false;
			start = ++pos;
		}
		while (pos < len && is_digit(s[pos]) && pos - start < 3)
			v = v * 10 + (s[pos++] - '0');
		if (pos == start || v > 255)
			return false;
		if (pos - start > 1 && s[start] == '0')
			return false;		/* leading zero: ambiguous (octal) */
	}
	return pos == len;
}

/* RFC 4291 text form, with an optional trailing dotted-quad; no zone id */
static bool
check_ipv6(const char *s, int len)
{
	int			groups = 0;
	bool		double_colon = false;
	int			pos = 0;

	if (len < 2)
		return false;
	if (s[0] == ':')
	{
		if (s[1] != ':')
			return false;
		double_colon = true;
		pos = 2;
		if (pos == len)
			return true;		/* "::" */
	}
	for (;;)
	{
		int			start = pos;

		while (pos < len && is_hex(s[pos]) && pos - start < 5)
			pos++;
		if (pos < len && s[pos] == '.')
		{
			/* embedded IPv4 in the last 32 bits */
			if (!check_ipv4(s + start, len - start))
				return false;
			groups += 2;
			break;
		}
		if (pos == start || pos - start > 4)
			return false;
		groups++;
		if (pos == len)
			break;
		if (s[pos] != ':')
			return false;
		pos++;
		if (pos < len && s[pos] == ':')
		{
			if (double_colon)
				return false;
			double_colon = true;
			pos++;
			if (pos == len)
				break;
		}
		else if (pos == len)
			return false;		/* trailing single colon */
	}
	if (double_colon)
		return groups <= 7;
	return groups == 8;
}

/* ---------------------------------------------------------------------
 * Host names (RFC 1123) and IDNA2008 (RFC 5890-5893)
 * ---------------------------------------------------------------------
 */

/* Punycode (RFC 3492) parameters */
#define PC_BASE 36
#define PC_TMIN 1
#define PC_TMAX 26
#define PC_SKEW 38
#define PC_DAMP 700
#define PC_INITIAL_BIAS 72
#define PC_INITIAL_N 128

static int
pc_adapt(int64 delta, int numpoints, bool firsttime)
{
	int			k = 0;

	delta = firsttime ? delta / PC_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2)
	{
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (int) ((PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW));
}

static int
pc_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return -1;
}

static char
pc_digit_char(int d)
{
	return d < 26 ? 'a' + d : '0' + (d - 26);
}

/* Decode the Punycode "in" (the part after "xn--"); false when invalid. */
static bool
punycode_decode(const char *in, int inlen, pg_wchar *out, int max, int *outlen)
{
	int			b = -1;
	int			n = 0;
	int64		cp = PC_INITIAL_N;
	int64		i = 0;
	int			bias = PC_INITIAL_BIAS;
	int			pos;

	for (int j = 0; j < inlen; j++)
		if (in[j] == '-')
			b = j;
	if (b > 0)
	{
		if (b > max)
			return false;
		for (int j = 0; j < b; j++)
		{
			if ((unsigned char) in[j] >= 0x80)
				return false;
			out[n++] = (unsigned char) in[j];
		}
	}
	pos = b >= 0 ? b + 1 : 0;
	while (pos < inlen)
	{
		int64		oldi = i;
		int64		w = 1;

		for (int k = PC_BASE;; k += PC_BASE)
		{
			int			digit,
						t;

			if (pos >= inlen)
				return false;
			digit = pc_digit_value(in[pos++]);
			if (digit < 0)
				return false;
			if (digit > (PG_INT32_MAX - i) / w)
				return false;	/* overflow */
			i += digit * w;
			t = k <= bias ? PC_TMIN : (k >= bias + PC_TMAX ? PC_TMAX : k - bias);
			if (digit < t)
				break;
			if (w > PG_INT32_MAX / (PC_BASE - t))
				return false;
			w *= PC_BASE - t;
		}
		bias = pc_adapt(i - oldi, n + 1, oldi == 0);
		if (i / (n + 1) > 0x10FFFF - cp)
			return false;
		cp += i / (n + 1);
		i %= (n + 1);
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0x80)
			return false;
		if (n >= max)
			return false;
		memmove(&out[i + 1], &out[i], sizeof(pg_wchar) * (n - i));
		out[i] = (pg_wchar) cp;
		n++;
		i++;
	}
	*outlen = n;
	return true;
}

/* Encode code points as Punycode into out (no "xn--"); false on overflow. */
static bool
punycode_encode(const pg_wchar *in, int inlen, char *out, int max, int *outlen)
{
	int			o = 0;
	int			h,
				b;
	int64		n = PC_INITIAL_N;
	int64		delta = 0;
	int			bias = PC_INITIAL_BIAS;

	for (int j = 0; j < inlen; j++)
		if (in[j] < 0x80)
		{
			if (o >= max)
				return false;
			out[o++] = (char) in[j];
		}
	h = b = o;
	if (b > 0)
	{
		if (o >= max)
			return false;
		out[o++] = '-';
	}
	while (h < inlen)
	{
		int64		m = PG_INT64_MAX;

		for (int j = 0; j < inlen; j++)
			if (in[j] >= n && in[j] < m)
				m = in[j];
		delta += (m - n) * (h + 1);
		n = m;
		for (int j = 0; j < inlen; j++)
		{
			if (in[j] < n)
				delta++;
			if (in[j] == n)
			{
				int64		q = delta;

				for (int k = PC_BASE;; k += PC_BASE)
				{
					int			t = k <= bias ? PC_TMIN :
					(k >= bias + PC_TMAX ? PC_TMAX : k - bias);

					if (q < t)
						break;
					if (o >= max)
						return false;
					out[o++] = pc_digit_char(t + (q - t) % (PC_BASE - t));
					q = (q - t) / (PC_BASE - t);
				}
				if (o >= max)
					return false;
				out[o++] = pc_digit_char((int) q);
				bias = pc_adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		n++;
	}
	*outlen = o;
	return true;
}

/* Greek, Hebrew, Hiragana, Katakana and Han script numbers, looked up once. */
static int	script_greek = -2,
			script_hebrew,
			script_hiragana,
			script_katakana,
			script_han;

static void
load_scripts(void)
{
	if (script_greek != -2)
		return;
	script_hebrew = lc_unicode_script_lookup("Hebrew");
	script_hiragana = lc_unicode_script_lookup("Hiragana");
	script_katakana = lc_unicode_script_lookup("Katakana");
	script_han = lc_unicode_script_lookup("Han");
	script_greek = lc_unicode_script_lookup("Greek");
}

static bool
joining_type_in(pg_wchar c, const char *types)
{
	return strchr(types, lc_unicode_joining_type(c)) != NULL;
}

/* RFC 5892 appendix A: the contextual rules of CONTEXTJ/CONTEXTO code points */
static bool
context_rule_ok(const pg_wchar *l, int n, int i)
{
	pg_wchar	c = l[i];

	load_scripts();
	switch (c)
	{
		case 0x200C:			/* ZERO WIDTH NON-JOINER */
			{
				int			j;

				if (i > 0 && lc_unicode_is_virama(l[i - 1]))
					return true;
				/* (L|D) T* ZWNJ T* (R|D) */
				for (j = i - 1; j >= 0 && lc_unicode_joining_type(l[j]) == 'T'; j--)
					;
				if (j < 0 || !joining_type_in(l[j], "LD"))
					return false;
				for (j = i + 1; j < n && lc_unicode_joining_type(l[j]) == 'T'; j++)
					;
				return j < n && joining_type_in(l[j], "RD");
			}
		case 0x200D:			/* ZERO WIDTH JOINER */
			return i > 0 && lc_unicode_is_virama(l[i - 1]);
		case 0x00B7:			/* MIDDLE DOT */
			return i > 0 && i < n - 1 && l[i - 1] == 'l' && l[i + 1] == 'l';
		case 0x0375:			/* GREEK LOWER NUMERAL SIGN (KERAIA) */
			return i < n - 1 && lc_unicode_script(l[i + 1]) == script_greek;
		case 0x05F3:			/* HEBREW PUNCTUATION GERESH */
		case 0x05F4:			/* HEBREW PUNCTUATION GERSHAYIM */
			return i > 0 && lc_unicode_script(l[i - 1]) == script_hebrew;
		case 0x30FB:			/* KATAKANA MIDDLE DOT */
			for (int j = 0; j < n; j++)
			{
				int			s = lc_unicode_script(l[j]);

				if (l[j] != 0x30FB &&
					(s == script_hiragana || s == script_katakana || s == script_han))
					return true;
			}
			return false;
		default:
			break;
	}
	if (c >= 0x0660 && c <= 0x0669)
	{
		for (int j = 0; j < n; j++)
			if (l[j] >= 0x06F0 && l[j] <= 0x06F9)
				return false;
		return true;
	}
	if (c >= 0x06F0 && c <= 0x06F9)
	{
		for (int j = 0; j < n; j++)
			if (l[j] >= 0x0660 && l[j] <= 0x0669)
				return false;
		return true;
	}
	return false;				/* a contextual code point without a rule */
}

/* RFC 5891 section 5.4 checks of a U-label (no Bidi rule here). */
static bool
check_ulabel(const pg_wchar *l, int n)
{
	LcUniGc		gc0;

	if (n == 0)
		return false;
	if (n >= 4 && l[2] == '-' && l[3] == '-')
		return false;
	if (l[0] == '-' || l[n - 1] == '-')
		return false;
	gc0 = lc_unicode_gc(l[0]);
	if (gc0 == LC_GC_Mn || gc0 == LC_GC_Mc || gc0 == LC_GC_Me)
		return false;
	for (int i = 0; i < n; i++)
	{
		pg_wchar	c = l[i];

		/* ASCII capitals: DNS is case-insensitive, accept them */
		if (c >= 'A' && c <= 'Z')
			continue;
		switch (lc_unicode_idna_class(c))
		{
			case LC_IDNA_PVALID:
				break;
			case LC_IDNA_CONTEXTJ:
			case LC_IDNA_CONTEXTO:
				if (!context_rule_ok(l, n, i))
					return false;
				break;
			default:
				return false;
		}
	}
	return true;
}

static bool
has_rtl(const pg_wchar *l, int n)
{
	for (int i = 0; i < n; i++)
	{
		LcUniBidi	b = lc_unicode_bidi(l[i]);

		if (b == LC_BIDI_R || b == LC_BIDI_AL || b == LC_BIDI_AN)
			return true;
	}
	return false;
}

/* The Bidi rule of RFC 5893 section 2, for one label of a Bidi domain name. */
static bool
bidi_rule_ok(const pg_wchar *l, int n)
{
	LcUniBidi	first = lc_unicode_bidi(l[0]);
	int			last;
	bool		has_en = false,
				has_an = false;

	if (first == LC_BIDI_R || first == LC_BIDI_AL)
	{
		for (int i = 0; i < n; i++)
		{
			LcUniBidi	b = lc_unicode_bidi(l[i]);

			switch (b)
			{
				case LC_BIDI_R:
				case LC_BIDI_AL:
				case LC_BIDI_ES:
				case LC_BIDI_CS:
				case LC_BIDI_ET:
				case LC_BIDI_ON:
				case LC_BIDI_BN:
				case LC_BIDI_NSM:
					break;
				case LC_BIDI_EN:
					has_en = true;
					break;
				case LC_BIDI_AN:
					has_an = true;
					break;
				default:
					return false;
			}
		}
		if (has_en && has_an)
			return false;
		for (last = n - 1; last > 0 && lc_unicode_bidi(l[last]) == LC_BIDI_NSM; last--)
			;
		switch (lc_unicode_bidi(l[last]))
		{
			case LC_BIDI_R:
			case LC_BIDI_AL:
			case LC_BIDI_EN:
			case LC_BIDI_AN:
				return true;
			default:
				return false;
		}
	}
	if (first != LC_BIDI_L)
		return false;
	for (int i = 0; i < n; i++)
	{
		switch (lc_unicode_bidi(l[i]))
		{
			case LC_BIDI_L:
			case LC_BIDI_EN:
			case LC_BIDI_ES:
			case LC_BIDI_CS:
			case LC_BIDI_ET:
			case LC_BIDI_ON:
			case LC_BIDI_BN:
			case LC_BIDI_NSM:
				break;
			default:
				return false;
		}
	}
	for (last = n - 1; last > 0 && lc_unicode_bidi(l[last]) == LC_BIDI_NSM; last--)
		;
	return lc_unicode_bidi(l[last]) == LC_BIDI_L || lc_unicode_bidi(l[last]) == LC_BIDI_EN;
}

static inline bool
is_label_separator(pg_wchar c, bool idn)
{
	return c == '.' || (idn && (c == 0x3002 || c == 0xFF0E || c == 0xFF61));
}

/*
 * hostname: labels of letters, digits and hyphens (RFC 1123), each 1-63
 * characters and not starting or ending with a hyphen, 253 characters in
 * all; labels starting "xn--" must be valid A-labels.  idn-hostname also
 * takes U-labels and the ideographic full stops as separators; lengths are
 * those of the A-label form.  Either way, a name with right-to-left labels
 * must satisfy the Bidi rule in every label.
 */
static bool
check_hostname(const char *s, int len, bool idn)
{
	pg_wchar   *cps;
	int			n;
	pg_wchar	ulabel[MAX_LABEL_CHARS];
	int			total = 0;
	bool		bidi_domain = false;
	bool		ok = true;
	int			start;
	/* labels, as code points, kept for the Bidi pass */
	int			nlabels = 0;
	int			lab_start[128];
	int			lab_len[128];
	pg_wchar   *decoded;
	int			dpos = 0;

	if (len == 0 || len > 4 * 256)
		return false;
	cps = palloc(sizeof(pg_wchar) * (len + 1));
	decoded = palloc(sizeof(pg_wchar) * (len * 2 + MAX_LABEL_CHARS));
	if (!decode_utf8(s, len, cps, len + 1, &n))
	{
		pfree(cps);
		pfree(decoded);
		return false;
	}
	start = 0;
	for (int i = 0; i <= n && ok; i++)
	{
		const pg_wchar *l;
		int			ln;
		bool		ascii = true;
		int			alabel_len;

		if (i < n && !is_label_separator(cps[i], idn))
		{
			if (cps[i] >= 0x80)
			{
				if (!idn)
					ok = false;
			}
			continue;
		}
		l = cps + start;
		ln = i - start;
		start = i + 1;
		if (ln == 0 || ln > MAX_LABEL_CHARS || nlabels >= lengthof(lab_start))
		{
			ok = false;
			break;
		}
		for (int j = 0; j < ln; j++)
			if (l[j] >= 0x80)
				ascii = false;
		if (ascii && ln >= 4 && lower((char) l[0]) == 'x' && lower((char) l[1]) == 'n' &&
			l[2] == '-' && l[3] == '-')
		{
			/* an A-label: decode, check, and check it is canonical */
			char		ace[MAX_LABEL_CHARS];
			char		reenc[MAX_LABEL_CHARS];
			int			un,
						rn;
			bool		nonascii = false;

			for (int j = 4; j < ln; j++)
				ace[j - 4] = (char) l[j];
			if (!punycode_decode(ace, ln - 4, ulabel, MAX_LABEL_CHARS, &un) || un == 0)
			{
				ok = false;
				break;
			}
			for (int j = 0; j < un; j++)
				if (ulabel[j] >= 0x80)
					nonascii = true;
			if (!nonascii || !check_ulabel(ulabel, un) ||
				!punycode_encode(ulabel, un, reenc, MAX_LABEL_CHARS, &rn) ||
				rn != ln - 4)
			{
				ok = false;
				break;
			}
			for (int j = 0; j < rn; j++)
				if (lower(reenc[j]) != lower(ace[j]))
					ok = false;
			alabel_len = ln;
			memcpy(decoded + dpos, ulabel, sizeof(pg_wchar) * un);
			lab_start[nlabels] = dpos;
			lab_len[nlabels++] = un;
			dpos += un;
		}
		else if (ascii)
		{
			/* LDH label */
			for (int j = 0; j < ln; j++)
			{
				char		c = (char) l[j];

				if (!(is_alpha(c) || is_digit(c) || c == '-'))
					ok = false;
			}
			if (l[0] == '-' || l[ln - 1] == '-')
				ok = false;
			alabel_len = ln;
			memcpy(decoded + dpos, l, sizeof(pg_wchar) * ln);
			lab_start[nlabels] = dpos;
			lab_len[nlabels++] = ln;
			dpos += ln;
		}
		else
		{
			/* a U-label (idn-hostname only) */
			char		enc[MAX_LABEL_CHARS];
			int			en;

			if (!check_ulabel(l, ln) ||
				!punycode_encode(l, ln, enc, MAX_LABEL_CHARS, &en))
			{
				ok = false;
				break;
			}
			alabel_len = 4 + en;
			memcpy(decoded + dpos, l, sizeof(pg_wchar) * ln);
			lab_start[nlabels] = dpos;
			lab_len[nlabels++] = ln;
			dpos += ln;
		}
		if (alabel_len > 63)
			ok = false;
		total += alabel_len + 1;
	}
	if (ok && total - 1 > 253)
		ok = false;
	if (ok)
	{
		for (int k = 0; k < nlabels; k++)
			if (has_rtl(decoded + lab_start[k], lab_len[k]))
				bidi_domain = true;
		if (bidi_domain)
			for (int k = 0; k < nlabels && ok; k++)
				ok = bidi_rule_ok(decoded + lab_start[k], lab_len[k]);
	}
	pfree(cps);
	pfree(decoded);
	return ok;
}

/* ---------------------------------------------------------------------
 * Email (RFC 5321 Mailbox; RFC 6531 for idn-email)
 * ---------------------------------------------------------------------
 */
static bool
is_atext(unsigned char c, bool idn)
{
	if (c >= 0x80)
		return idn;
	return c != 0 && (is_alpha(c) || is_digit(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
check_email(const char *s, int len, bool idn)
{
	int			at = -1;
	int			pos = 0;

	if (len == 0)
		return false;
	if (s[0] == '"')
	{
		/* Quoted-string: qtextSMTP or quoted-pairSMTP */
		pos = 1;
		for (;;)
		{
			unsigned char c;

			if (pos >= len)
				return false;
			c = (unsigned char) s[pos];
			if (c == '"')
				break;
			if (c == '\\')
			{
				if (pos + 1 >= len || (unsigned char) s[pos + 1] < 32 ||
					(unsigned char) s[pos + 1] > 126)
					return false;
				pos += 2;
				continue;
			}
			if (!((c >= 32 && c <= 126) || (idn && c >= 0x80)))
				return false;
			pos++;
		}
		pos++;
		if (pos >= len || s[pos] != '@')
			return false;
		at = pos;
	}
	else
	{
		/* Dot-string: atoms separated by single dots */
		bool		prev_dot = true;

		for (pos = 0; pos < len && s[pos] != '@'; pos++)
		{
			if (s[pos] == '.')
			{
				if (prev_dot)
					return false;
				prev_dot = true;
			}
			else if (is_atext((unsigned char) s[pos], idn))
				prev_dot = false;
			else
				return false;
		}
		if (pos >= len || prev_dot)
			return false;
		at = pos;
	}
	if (at > 64)
		return false;
	/* Domain or address-literal */
	{
		const char *d = s + at + 1;
		int			dl = len - at - 1;

		if (dl <= 0)
			return false;
		if (d[0] == '[')
		{
			if (d[dl - 1] != ']')
				return false;
			if (dl > 7 && strncasecmp(d + 1, "IPv6:", 5) == 0)
				return check_ipv6(d + 6, dl - 7);
			return check_ipv4(d + 1, dl - 2);
		}
		return check_hostname(d, dl, idn);
	}
}

/* ---------------------------------------------------------------------
 * URIs (RFC 3986) and IRIs (RFC 3987)
 * ---------------------------------------------------------------------
 */
typedef struct UriParse
{
	const pg_wchar *p;
	int			n;
	bool		iri;
} UriParse;

static bool
is_unreserved(pg_wchar c)
{
	return c < 0x80 && (is_alpha((char) c) || is_digit((char) c) ||
						c == '-' || c == '.' || c == '_' || c == '~');
}

static bool
is_sub_delim(pg_wchar c)
{
	return c < 0x80 && strchr("!$&'()*+,;=", (int) c) != NULL && c != 0;
}

/* RFC 3987 ucschar */
static bool
is_ucschar(pg_wchar c)
{
	if ((c >= 0xA0 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
		(c >= 0xFDF0 && c <= 0xFFEF))
		return true;
	if (c >= 0x10000 && c <= 0xEFFFD && (c & 0xFFFF) <= 0xFFFD)
		return c < 0xE0000 || c >= 0xE1000;
	return false;
}

static bool
is_iprivate(pg_wchar c)
{
	return (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && c <= 0xFFFFD) ||
		(c >= 0x100000 && c <= 0x10FFFD);
}

/* unreserved (or iunreserved) / sub-delims / extra, or a valid %XX at *i */
static bool
uri_char(UriParse *u, int *i, const char *extra, bool private_ok)
{
	pg_wchar	c = u->p[*i];

	if (c == '%')
	{
		if (*i + 2 >= u->n || u->p[*i + 1] >= 0x80 || u->p[*i + 2] >= 0x80 ||
			!is_hex((char) u->p[*i + 1]) || !is_hex((char) u->p[*i + 2]))
			return false;
		*i += 3;
		return true;
	}
	if (is_unreserved(c) || is_sub_delim(c) ||
		(c < 0x80 && c != 0 && strchr(extra, (int) c) != NULL) ||
		(u->iri && (is_ucschar(c) || (private_ok && is_iprivate(c)))))
	{
		(*i)++;
		return true;
	}
	return false;
}

/* Check that [from, to) consists of chars allowed by uri_char. */
static bool
uri_run(UriParse *u, int from, int to, const char *extra, bool private_ok)
{
	int			i = from;

	while (i < to)
		if (!uri_char(u, &i, extra, private_ok) || i > to)
			return false;
	return true;
}

static bool
check_ipv6_cps(const pg_wchar *p, int n)
{
	char		buf[64];

	if (n >= (int) sizeof(buf))
		return false;
	for (int i = 0; i < n; i++)
	{
		if (p[i] >= 0x80)
			return false;
		buf[i] = (char) p[i];
	}
	return check_ipv6(buf, n);
}

/* authority = [ userinfo "@" ] host [ ":" port ]; [from, to) */
static bool
check_authority(UriParse *u, int from, int to)
{
	int			at = -1;
	int			hstart,
				hend,
				i;

	for (i = from; i < to; i++)
		if (u->p[i] == '@')
		{
			if (at >= 0)
				return false;	/* '@' is not allowed in userinfo or host */
			at = i;
		}
	if (at >= 0 && !uri_run(u, from, at, ":", false))
		return false;
	hstart = at >= 0 ? at + 1 : from;
	if (hstart < to && u->p[hstart] == '[')
	{
		/* IP-literal */
		for (hend = hstart; hend < to && u->p[hend] != ']'; hend++)
			;
		if (hend >= to)
			return false;
		if (hend > hstart + 1 && (u->p[hstart + 1] == 'v' || u->p[hstart + 1] == 'V'))
		{
			/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
			int			j = hstart + 2,
						k;

			while (j < hend && u->p[j] < 0x80 && is_hex((char) u->p[j]))
				j++;
			if (j == hstart + 2 || j >= hend || u->p[j] != '.' || j + 1 >= hend)
				return false;
			for (k = j + 1; k < hend; k++)
				if (!(is_unreserved(u->p[k]) || is_sub_delim(u->p[k]) || u->p[k] == ':'))
					return false;
		}
		else if (!check_ipv6_cps(u->p + hstart + 1, hend - hstart - 1))
			return false;
		hend++;
	}
	else
	{
		/* reg-name (an IPv4address is a reg-name too) */
		for (hend = hstart; hend < to && u->p[hend] != ':'; hend++)
			;
		if (!uri_run(u, hstart, hend, "", false))
			return false;
	}
	if (hend < to)
	{
		if (u->p[hend] != ':')
			return false;
		for (i = hend + 1; i < to; i++)
			if (!(u->p[i] >= '0' && u->p[i] <= '9'))
				return false;
	}
	return true;
}

/*
 * URI / relative reference.  reference: a relative-ref is also accepted.
 */
static bool
check_uri(const char *s, int len, bool iri, bool reference)
{
	UriParse	u;
	pg_wchar   *cps;
	int			n,
				i,
				pathstart,
				pathend,
				qend;
	bool		has_scheme = false;
	bool		ok = true;

	cps = palloc(sizeof(pg_wchar) * (len + 1));
	if (!decode_utf8(s, len, cps, len + 1, &n))
	{
		pfree(cps);
		return false;
	}
	u.p = cps;
	u.n = n;
	u.iri = iri;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	i = 0;
	if (n > 0 && cps[0] < 0x80 && is_alpha((char) cps[0]))
	{
		int			j = 1;

		while (j < n && cps[j] < 0x80 &&
			   (is_alpha((char) cps[j]) || is_digit((char) cps[j]) ||
				cps[j] == '+' || cps[j] == '-' || cps[j] == '.'))
			j++;
		if (j < n && cps[j] == ':')
		{
			has_scheme = true;
			i = j + 1;
		}
	}
	if (!has_scheme && !reference)
	{
		pfree(cps);
		return false;
	}

	/* the hierarchical part ends at '?' or '#' */
	for (pathend = i; pathend < n && cps[pathend] != '?' && cps[pathend] != '#'; pathend++)
		;
	pathstart = i;
	if (pathend - i >= 2 && cps[i] == '/' && cps[i + 1] == '/')
	{
		int			aend;

		for (aend = i + 2; aend < pathend && cps[aend] != '/'; aend++)
			;
		ok = check_authority(&u, i + 2, aend);
		pathstart = aend;
	}
	else if (!has_scheme)
	{
		/* path-noscheme: no ':' in the first segment */
		for (int j = i; j < pathend && cps[j] != '/'; j++)
			if (cps[j] == ':')
				ok = false;
	}
	/* path: segments of pchar separated by '/' */
	if (ok)
		ok = uri_run(&u, pathstart, pathend, ":@/", false);
	/* query */
	qend = pathend;
	if (ok && pathend < n && cps[pathend] == '?')
	{
		for (qend = pathend + 1; qend < n && cps[qend] != '#'; qend++)
			;
		ok = uri_run(&u, pathend + 1, qend, ":@/?", true);
	}
	/* fragment */
	if (ok && qend < n)
	{
		Assert(cps[qend] == '#');
		ok = uri_run(&u, qend + 1, n, ":@/?", false);
	}
	pfree(cps);
	return ok;
}

/* ---------------------------------------------------------------------
 * URI templates (RFC 6570)
 * ---------------------------------------------------------------------
 */
static bool
check_uri_template(const char *s, int len)
{
	pg_wchar   *cps;
	int			n,
				i = 0;
	bool		ok = true;

	cps = palloc(sizeof(pg_wchar) * (len + 1));
	if (!decode_utf8(s, len, cps, len + 1, &n))
	{
		pfree(cps);
		return false;
	}
	while (i < n && ok)
	{
		pg_wchar	c = cps[i];

		if (c == '{')
		{
			i++;
			/* operator */
			if (i < n && cps[i] < 0x80 && cps[i] != 0 && strchr("+#./;?&", (int) cps[i]))
				i++;
			for (;;)
			{
				/* varname = varchar *( ["."] varchar ) */
				bool		need_char = true;

				for (;;)
				{
					if (i < n && cps[i] == '%')
					{
						if (i + 2 >= n || cps[i + 1] >= 0x80 || cps[i + 2] >= 0x80 ||
							!is_hex((char) cps[i + 1]) || !is_hex((char) cps[i + 2]))
						{
							ok = false;
							break;
						}
						i += 3;
						need_char = false;
					}
					else if (i < n && cps[i] < 0x80 &&
							 (is_alpha((char) cps[i]) || is_digit((char) cps[i]) || cps[i] == '_'))
					{
						i++;
						need_char = false;
					}
					else if (i < n && cps[i] == '.' && !need_char)
					{
						i++;
						need_char = true;
					}
					else
						break;
				}
				if (!ok || need_char)
				{
					ok = false;
					break;
				}
				/* modifier-level4 */
				if (i < n && cps[i] == '*')
					i++;
				else if (i < n && cps[i] == ':')
				{
					int			start = ++i;

					while (i < n && cps[i] >= '0' && cps[i] <= '9')
						i++;
					if (i == start || i - start > 4 || cps[start] == '0')
					{
						ok = false;
						break;
					}
				}
				if (i < n && cps[i] == ',')
				{
					i++;
					continue;
				}
				break;
			}
			if (!ok || i >= n || cps[i] != '}')
				ok = false;
			i++;
			continue;
		}
		if (c == '%')
		{
			if (i + 2 >= n || cps[i + 1] >= 0x80 || cps[i + 2] >= 0x80 ||
				!is_hex((char) cps[i + 1]) || !is_hex((char) cps[i + 2]))
				ok = false;
			i += 3;
			continue;
		}
		/*
		 * literals: any printable ASCII but " < > \ ^ ` { | } (and '%' alone);
		 * the apostrophe is allowed as the test suite expects (RFC 6570
		 * erratum); any ucschar or iprivate.
		 */
		if (c < 0x80)
		{
			if (c <= 0x20 || c >= 0x7F || strchr("\"<>\\^`{|}", (int) c))
				ok = false;
		}
		else if (!is_ucschar(c) && !is_iprivate(c))
			ok = false;
		i++;
	}
	pfree(cps);
	return ok;
}

/* ---------------------------------------------------------------------
 * Small formats
 * ---------------------------------------------------------------------
 */
static bool
check_uuid(const char *s, int len)
{
	if (len != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!is_hex(s[i]))
			return false;
	}
	return true;
}

/* json-pointer = *( "/" reference-token ), "~" only as "~0" or "~1" */
static bool
check_json_pointer_at(const char *s, int len)
{
	if (len > 0 && s[0] != '/')
		return false;
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '~')
		{
			if (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1'))
				return false;
			i++;
		}
	}
	return true;
}

/* relative-json-pointer = non-negative-integer ( "#" / json-pointer ) */
static bool
check_relative_json_pointer(const char *s, int len)
{
	int			i = 0;

	if (len == 0 || !is_digit(s[0]))
		return false;
	if (s[0] == '0')
		i = 1;
	else
		while (i < len && is_digit(s[i]))
			i++;
	if (i < len && s[i] == '#')
		return i + 1 == len;
	return check_json_pointer_at(s + i, len - i);
}

static bool
check_regex(const char *s, int len)
{
	char	   *msg = NULL;

	/* not cached: values are checked, not used, and must not evict patterns */
	if (lc_regex_is_valid(LC_REGEX_ECMA262, s, len, &msg))
		return true;
	if (msg)
		pfree(msg);
	return false;
}

bool
js_format_check(const char *format, const char *value, int len, bool *known)
{
	*known = true;
	switch (format[0])
	{
		case 'd':
			if (strcmp(format, "date-time") == 0)
				return check_date_time(value, len);
			if (strcmp(format, "date") == 0)
				return check_full_date(value, len);
			if (strcmp(format, "duration") == 0)
				return check_duration(value, len);
			break;
		case 't':
			if (strcmp(format, "time") == 0)
				return check_full_time(value, len);
			break;
		case 'e':
			if (strcmp(format, "email") == 0)
				return check_email(value, len, false);
			break;
		case 'h':
			if (strcmp(format, "hostname") == 0)
				return check_hostname(value, len, false);
			break;
		case 'i':
			if (strcmp(format, "idn-email") == 0)
				return check_email(value, len, true);
			if (strcmp(format, "idn-hostname") == 0)
				return check_hostname(value, len, true);
			if (strcmp(format, "ipv4") == 0)
				return check_ipv4(value, len);
			if (strcmp(format, "ipv6") == 0)
				return check_ipv6(value, len);
			if (strcmp(format, "iri") == 0)
				return check_uri(value, len, true, false);
			if (strcmp(format, "iri-reference") == 0)
				return check_uri(value, len, true, true);
			break;
		case 'u':
			if (strcmp(format, "uri") == 0)
				return check_uri(value, len, false, false);
			if (strcmp(format, "uri-reference") == 0)
				return check_uri(value, len, false, true);
			if (strcmp(format, "uri-template") == 0)
				return check_uri_template(value, len);
			if (strcmp(format, "uuid") == 0)
				return check_uuid(value, len);
			break;
		case 'r':
			if (strcmp(format, "regex") == 0)
				return check_regex(value, len);
			if (strcmp(format, "relative-json-pointer") == 0)
				return check_relative_json_pointer(value, len);
			break;
		case 'j':
			if (strcmp(format, "json-pointer") == 0)
				return check_json_pointer_at(value, len);
			break;
		default:
			break;
	}
	*known = false;
	return true;
}
