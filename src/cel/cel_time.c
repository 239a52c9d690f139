/*-------------------------------------------------------------------------
 *
 * cel_time.c
 *	  CEL timestamps and durations: parsing, formatting, accessors.
 *
 * Timestamps are seconds since the Unix epoch plus nanoseconds, in the
 * range of google.protobuf.Timestamp (years 0001 to 9999).  Durations are
 * seconds plus nanoseconds within +-315,576,000,000 s (the range of
 * google.protobuf.Duration).  Accessors take an optional time zone: an IANA
 * name, resolved by the host (lc_host.h: in the server PostgreSQL's own time
 * zone library), or a fixed offset "+HH:MM" / "-HH:MM" / "HH:MM".
 *
 * src/cel/ is the CEL component: the pure engine core and its SQL glue
 * (cel_sql.c, cel_jsonb.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cel/cel_int.h"
#include "lc/lc_host.h"

#define TS_MIN_SEC	INT64CONST(-62135596800)	/* 0001-01-01T00:00:00Z */
#define TS_MAX_SEC	INT64CONST(253402300799)	/* 9999-12-31T23:59:59Z */
#define DUR_MAX_SEC INT64CONST(315576000000)

bool
cel_timestamp_in_range(int64 sec)
{
	return sec >= TS_MIN_SEC && sec <= TS_MAX_SEC;
}

bool
cel_duration_in_range(int64 sec, int32 nanos)
{
	return sec >= -DUR_MAX_SEC && sec <= DUR_MAX_SEC;
}

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm) */
static int64
days_from_civil(int64 y, int m, int d)
{
	int64		era;
	int64		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64 z, int64 *y, int *m, int *d)
{
	int64		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	if (*m <= 2)
		(*y)++;
}

static bool
digits(const char *s, int n, int *out)
{
	int			v = 0,
				i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int
days_in_month(int64 y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* RFC 3339: 2009-02-13T23:31:30.123Z or with an offset +01:00 */
bool
cel_parse_timestamp(const char *s, int len, int64 *sec, int32 *nanos)
{
	int			y,
				mo,
				d,
				h,
				mi,
				se,
				p = 19;
	int64		ns = 0;
	int			offset = 0;

	if (len < 20)
		return false;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
		!digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
		!digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
		!digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
		return false;
	if (p < len && s[p] == '.')
	{
		int			nd = 0;

		p++;
		while (p < len && s[p] >= '0' && s[p] <= '9')
		{
			if (nd < 9)
			{
				ns = ns * 10 + (s[p] - '0');
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return false;
		while (nd++ < 9)
			ns *= 10;
	}
	if (p < len && (s[p] == 'Z' || s[p] == 'z'))
		p++;
	else if (p + 6 == len && (s[p] == '+' || s[p] == '-'))
	{
		int			oh,
					om;

		if (!digits(s + p + 1, 2, &oh) || s[p + 3] != ':' || !digits(s + p + 4, 2, &om) ||
			oh > 23 || om > 59)
			return false;
		offset = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
		p += 6;
	}
	else
		return false;
	if (p != len)
		return false;
	if (y < 1)
		return false;
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	*nanos = (int32) ns;
	return true;
}

void
cel_format_timestamp(StringInfo buf, int64 sec, int32 nanos)
{
	int64		days = sec / 86400,
				rem = sec % 86400,
				y;
	int			m,
				d;

	if (rem < 0)
	{
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	appendStringInfo(buf, "%04d-%02d-%02dT%02d:%02d:%02d", (int) y, m, d,
					 (int) (rem / 3600), (int) (rem / 60 % 60), (int) (rem % 60));
	if (nanos > 0)
	{
		char		frac[16];
		int			n;

		snprintf(frac, sizeof(frac), "%09d", nanos);
		n = 9;
		while (n > 0 && frac[n - 1] == '0')
			n--;
		frac[n] = '\0';
		appendStringInfo(buf, ".%s", frac);
	}
	appendStringInfoChar(buf, 'Z');
}

void
cel_format_duration(StringInfo buf, int64 sec, int32 nanos)
{
	if (sec < 0 || nanos < 0)
	{
		appendStringInfoChar(buf, '-');
		sec = -sec;
		nanos = -nanos;
	}
	appendStringInfo(buf, INT64_FORMAT, sec);
	if (nanos > 0)
	{
		char		frac[16];
		int			n = 9;

		snprintf(frac, sizeof(frac), "%09d", nanos);
		while (n > 0 && frac[n - 1] == '0')
			n--;
		frac[n] = '\0';
		appendStringInfo(buf, ".%s", frac);
	}
	appendStringInfoChar(buf, 's');
}

/*
 * Go's time.ParseDuration syntax: [-+] (number[.fraction] unit)+, units
 * h m s ms us µs ns; "0" alone is allowed.
 */
bool
cel_parse_duration(const char *s, int len, int64 *sec_out, int32 *nanos_out)
{
	int			p = 0;
	bool		neg = false;
	/* accumulate in 128-bit-safe pieces: whole seconds and nanoseconds */
	int64		sec = 0,
				ns = 0;

	if (p < len && (s[p] == '-' || s[p] == '+'))
	{
		neg = (s[p] == '-');
		p++;
	}
	if (p == len)
		return false;
	if (len - p == 1 && s[p] == '0')
	{
		*sec_out = 0;
		*nanos_out = 0;
		return true;
	}
	while (p < len)
	{
		int64		whole = 0;
		int64		frac = 0;
		int			fracdigits = 0;
		int64		unit_ns;
		bool		any = false;

		while (p < len && s[p] >= '0' && s[p] <= '9')
		{
			if (whole > PG_INT64_MAX / 10 - 10)
				return false;
			whole = whole * 10 + (s[p] - '0');
			p++;
			any = true;
		}
		if (p < len && s[p] == '.')
		{
			p++;
			while (p < len && s[p] >= '0' && s[p] <= '9')
			{
				if (fracdigits < 18)
				{
					frac = frac * 10 + (s[p] - '0');
					fracdigits++;
				}
				p++;
				any = true;
			}
		}
		if (!any)
			return false;
		if (p + 2 <= len && s[p] == 'n' && s[p + 1] == 's')
		{
			unit_ns = 1;
			p += 2;
		}
		else if (p + 2 <= len && s[p] == 'u' && s[p + 1] == 's')
		{
			unit_ns = 1000;
			p += 2;
		}
		else if (p + 3 <= len && (unsigned char) s[p] == 0xC2 && (unsigned char) s[p + 1] == 0xB5 && s[p + 2] == 's')
		{
			unit_ns = 1000;
			p += 3;
		}
		else if (p + 2 <= len && s[p] == 'm' && s[p + 1] == 's')
		{
			unit_ns = 1000000;
			p += 2;
		}
		else if (p < len && s[p] == 's')
		{
			unit_ns = 1000000000;
			p++;
		}
		else if (p < len && s[p] == 'm')
		{
			unit_ns = INT64CONST(60000000000);
			p++;
		}
		else if (p < len && s[p] == 'h')
		{
			unit_ns = INT64CONST(3600000000000);
			p++;
		}
		else
			return false;

		/* whole * unit_ns, split into seconds and nanoseconds */
		if (unit_ns >= 1000000000)
		{
			int64		unit_s = unit_ns / 1000000000;

			if (whole > DUR_MAX_SEC * 2 / unit_s)
				return false;
			sec += whole * unit_s;
		}
		else
		{
			sec += whole / (1000000000 / unit_ns);
			ns += (whole % (1000000000 / unit_ns)) * unit_ns;
		}
		if (fracdigits > 0)
		{
			/* frac / 10^fracdigits * unit_ns nanoseconds */
			double		f = (double) frac;

			for (int k = 0; k < fracdigits; k++)
				f /= 10;
			f *= (double) unit_ns;
			sec += (int64) (f / 1e9);
			ns += (int64) (f - (double) ((int64) (f / 1e9)) * 1e9 + 0.5);
		}
		sec += ns / 1000000000;
		ns %= 1000000000;
		if (sec > DUR_MAX_SEC * 2)
			return false;
	}
	if (neg)
	{
		sec = -sec;
		ns = -ns;
	}
	*sec_out = sec;
	*nanos_out = (int32) ns;
	return true;
}

/* local broken-down time of a timestamp in zone tz (NULL = UTC) */
typedef LcLocalTime LocalTime;

static void
civil_local(int64 sec, LocalTime *lt)
{
	int64		days = sec / 86400,
				rem = sec % 86400;

	if (rem < 0)
	{
		rem += 86400;
		days--;
	}
	civil_from_days(days, &lt->year, &lt->month, &lt->mday);
	lt->wday = (int) (((days % 7) + 11) % 7);	/* 1970-01-01 was a Thursday */
	lt->yday = (int) (days - days_from_civil(lt->year, 1, 1));
	lt->hour = (int) (rem / 3600);
	lt->minute = (int) (rem / 60 % 60);
	lt->second = (int) (rem % 60);
}

static bool
local_time(int64 sec, const char *tz, int tzlen, LocalTime *lt, char **err)
{
	if (tz == NULL)
	{
		civil_local(sec, lt);
		return true;
	}
	if (tzlen > 0 && (tz[0] == '+' || tz[0] == '-' || (tz[0] >= '0' && tz[0] <= '9')))
	{
		int			p = (tz[0] == '+' || tz[0] == '-') ? 1 : 0;
		int			oh,
					om;

		if (tzlen - p != 5 || !digits(tz + p, 2, &oh) || tz[p + 2] != ':' ||
			!digits(tz + p + 3, 2, &om) || oh > 23 || om > 59)
		{
			*err = psprintf("invalid time zone offset \"%.*s\"", Min(tzlen, 64), tz);
			return false;
		}
		civil_local(sec + (oh * 3600 + om * 60) * (tz[0] == '-' ? -1 : 1), lt);
		return true;
	}
	{
		char	   *name = pnstrdup(tz, Min(tzlen, 256));

		if (tzlen > 255 || strchr(name, '\0') != name + tzlen)
		{
			*err = psprintf("unknown time zone \"%s\"", name);
			return false;
		}
		return lc_engine_host->zone_local_time(name, sec, lt, err);
	}
}

void
cel_time_accessor(const char *f, const CelValue *ts, const CelValue *tz, CelValue *out)
{
	LocalTime	lt;
	char	   *err = NULL;
	int64		r;

	out->kind = CEL_INT;
	if (ts->kind == CEL_DURATION)
	{
		int64		s = ts->v.t.sec;

		if (strcmp(f, "getHours") == 0)
			r = s / 3600;
		else if (strcmp(f, "getMinutes") == 0)
			r = s / 60;
		else if (strcmp(f, "getSeconds") == 0)
			r = s;
		else if (strcmp(f, "getMilliseconds") == 0)
			r = ts->v.t.nanos / 1000000;
		else
		{
			cel_make_error(out, CEL_ERR_NO_OVERLOAD, "found no matching overload for '%s' applied to duration", f);
			return;
		}
		out->v.i = r;
		return;
	}
	if (!local_time(ts->v.t.sec, tz ? tz->v.s.data : NULL, tz ? tz->v.s.len : 0, &lt, &err))
	{
		cel_make_error(out, CEL_ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	if (strcmp(f, "getFullYear") == 0)
		r = lt.year;
	else if (strcmp(f, "getMonth") == 0)
		r = lt.month - 1;
	else if (strcmp(f, "getDate") == 0)
		r = lt.mday;
	else if (strcmp(f, "getDayOfMonth") == 0)
		r = lt.mday - 1;
	else if (strcmp(f, "getDayOfWeek") == 0)
		r = lt.wday;
	else if (strcmp(f, "getDayOfYear") == 0)
		r = lt.yday;
	else if (strcmp(f, "getHours") == 0)
		r = lt.hour;
	else if (strcmp(f, "getMinutes") == 0)
		r = lt.minute;
	else if (strcmp(f, "getSeconds") == 0)
		r = lt.second;
	else
		r = ts->v.t.nanos / 1000000;
	out->v.i = r;
}
