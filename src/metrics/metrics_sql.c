/*-------------------------------------------------------------------------
 *
 * metrics_sql.c
 *	  The metrics as SQL rows (lowcode.metrics_rows(), behind the view
 *	  lowcode.metrics) and as Prometheus text (lowcode.metrics_prometheus()),
 *	  plus lowcode.metrics_count(), lowcode.metrics_reset() and the trigger
 *	  that counts sessions.
 *
 * Bounded output: a metric with many tenants shows the top_n tenants with
 * the largest values (lowcode.metrics_top_n, 100 by default) and sums the
 * others under tenant "other", per series (per status for refusals, per
 * request count for the latency histogram), so that summing a metric over
 * tenants stays exact however many tenants there are.  See
 * docs/operations.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "pg_lowcode.h"
#include "metrics/metrics.h"
#include "metrics/metrics_int.h"

const char *const metrics_counter_names[METRIC_NUM] = {
	"lowcode_requests_admitted_total",
	"lowcode_requests_failed_total",
	"lowcode_validations_total",
	"lowcode_validation_failures_total",
	"lowcode_rule_evaluations_total",
	"lowcode_rule_budget_exhausted_total",
	"lowcode_sessions_created_total",
	"lowcode_sessions_expired_total",
	"lowcode_sessions_revoked_total"
};

const char *const metrics_counter_help[METRIC_NUM] = {
	"Requests admitted by lowcode.pre_request().",
	"Admitted requests whose transaction rolled back (an error after pre_request()).",
	"Registry validations (submissions, lowcode.validate, attached columns).",
	"Registry validations that found the instance invalid (schema or x-rules).",
	"Cross-field rules (x-rules) evaluated.",
	"Rule evaluations stopped by lowcode.rules_max_cost or lowcode.rules_max_depth.",
	"Sessions created.",
	"Sessions expired (idle or absolute timeout) by the worker.",
	"Sessions revoked (revoke_session*, end_session)."
};

/* names accepted by lowcode.metrics_count(): the counter names without prefix and suffix */
static const char *const counter_short_names[METRIC_NUM] = {
	"requests_admitted", "requests_failed", "validations", "validation_failures",
	"rule_evaluations", "rule_budget_exhausted", "sessions_created",
	"sessions_expired", "sessions_revoked"
};

/* ---------------------------------------------------------------------
 * MetricsSnap
 * --------------------------------------------------------------------- */

typedef struct TenantSnap
{
	pg_uuid_t	key;
	uint64		counters[METRIC_NUM];
	uint64		refused[METRICS_STATUS_NUM];
	uint64		latency[METRICS_LATENCY_BUCKETS];
	uint64		latency_sum_us;
	uint64		latency_count;
} TenantSnap;

typedef struct SubjectSnap
{
	MetricsSubjectKey key;
	uint64		validations;
	uint64		failures;
} SubjectSnap;

typedef struct MetricsSnap
{
	TenantSnap *tenants;
	int			ntenants;
	SubjectSnap *subjects;
	int			nsubjects;
	MetricsWorker workers[METRICS_MAX_DATABASES];
	uint32		used_tenants;
	uint32		used_subjects;
	uint64		overflows;
} MetricsSnap;

static void
take_snapshot(MetricsSnap *s)
{
	HASH_SEQ_STATUS seq;
	MetricsTenant *t;
	MetricsSubject *sub;
	long		n;

	memset(s, 0, sizeof(*s));
	metrics_lock_all(LW_SHARED);
	n = hash_get_num_entries(metrics_tenants);
	s->tenants = palloc_extended(sizeof(TenantSnap) * (n + 1), MCXT_ALLOC_HUGE);
	hash_seq_init(&seq, metrics_tenants);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		TenantSnap *o = &s->tenants[s->ntenants++];

		o->key = t->key;
		for (int i = 0; i < METRIC_NUM; i++)
			o->counters[i] = pg_atomic_read_u64(&t->counters[i]);
		for (int i = 0; i < METRICS_STATUS_NUM; i++)
			o->refused[i] = pg_atomic_read_u64(&t->refused[i]);
		o->latency_count = 0;
		for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
		{
			o->latency[i] = pg_atomic_read_u64(&t->latency[i]);
			o->latency_count += o->latency[i];
		}
		o->latency_sum_us = pg_atomic_read_u64(&t->latency_sum_us);
	}
	n = hash_get_num_entries(metrics_subjects);
	s->subjects = palloc_extended(sizeof(SubjectSnap) * (n + 1), MCXT_ALLOC_HUGE);
	hash_seq_init(&seq, metrics_subjects);
	while ((sub = hash_seq_search(&seq)) != NULL)
	{
		SubjectSnap *o = &s->subjects[s->nsubjects++];

		o->key = sub->key;
		o->validations = pg_atomic_read_u64(&sub->validations);
		o->failures = pg_atomic_read_u64(&sub->failures);
	}
	s->used_tenants = pg_atomic_read_u32(&metrics_shared->n_tenants);
	s->used_subjects = pg_atomic_read_u32(&metrics_shared->n_subjects);
	s->overflows = pg_atomic_read_u64(&metrics_shared->overflows);
	metrics_unlock_all();

	SpinLockAcquire(&metrics_shared->worker_mutex);
	memcpy(s->workers, metrics_shared->workers, sizeof(s->workers));
	SpinLockRelease(&metrics_shared->worker_mutex);
}

/* ---------------------------------------------------------------------
 * Samples: one per Prometheus line
 * --------------------------------------------------------------------- */

typedef struct Sample
{
	const char *family;			/* metric name of the # HELP / # TYPE lines */
	const char *suffix;			/* "_bucket", "_sum", "_count" or "" */
	const char *type;			/* counter, gauge, histogram */
	const char *help;
	char	   *tenant;			/* NULL: no tenant label */
	const char *lname;			/* second label (status, subject, database), or NULL */
	char	   *lvalue;
	const char *le;				/* histogram bucket bound, or NULL */
	double		value;
	bool		integral;
} Sample;

typedef struct Samples
{
	Sample	   *v;
	int			n;
	int			cap;
} Samples;

static Sample *
add_sample(Samples *ss, const char *family, const char *suffix, const char *type, const char *help)
{
	Sample	   *s;

	if (ss->n == ss->cap)
	{
		ss->cap = ss->cap ? 2 * ss->cap : 256;
		ss->v = ss->v ? repalloc_huge(ss->v, sizeof(Sample) * ss->cap)
			: palloc_extended(sizeof(Sample) * ss->cap, MCXT_ALLOC_HUGE);
	}
	s = &ss->v[ss->n++];
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->suffix = suffix;
	s->type = type;
	s->help = help;
	return s;
}

static char *
tenant_label(const pg_uuid_t *id)
{
	if (memcmp(id, &metrics_tenant_none, sizeof(pg_uuid_t)) == 0)
		return "none";
	if (memcmp(id, &metrics_tenant_other, sizeof(pg_uuid_t)) == 0)
		return "other";
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
}

static bool
is_reserved(const pg_uuid_t *id)
{
	return memcmp(id, &metrics_tenant_none, sizeof(pg_uuid_t)) == 0 ||
		memcmp(id, &metrics_tenant_other, sizeof(pg_uuid_t)) == 0;
}

/* Ranking: the values of one series, with the index of their entry. */
typedef struct Ranked
{
	uint64		value;
	int			idx;
	const void *key;			/* for ties: ordered by key bytes */
	int			keylen;
} Ranked;

static int
ranked_cmp(const void *a, const void *b)
{
	const Ranked *x = a;
	const Ranked *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return memcmp(x->key, y->key, x->keylen);
}

/*
 * The entries to show for one series: "ranked" gets the non-reserved
 * entries with a value, largest first, at most top_n of them (all when
 * top_n is 0); *rest is the sum of the others.
 */
static int
rank(Ranked *ranked, int nentries, int top_n, uint64 *rest)
{
	int			n = 0;

	*rest = 0;
	for (int i = 0; i < nentries; i++)
		if (ranked[i].value > 0)
			ranked[n++] = ranked[i];
	qsort(ranked, n, sizeof(Ranked), ranked_cmp);
	if (top_n > 0 && n > top_n)
	{
		for (int i = top_n; i < n; i++)
			*rest += ranked[i].value;
		n = top_n;
	}
	return n;
}

static const TenantSnap *
find_reserved(const MetricsSnap *s, const pg_uuid_t *id)
{
	for (int i = 0; i < s->ntenants; i++)
		if (memcmp(&s->tenants[i].key, id, sizeof(pg_uuid_t)) == 0)
			return &s->tenants[i];
	return NULL;
}

typedef uint64 (*TenantValue) (const TenantSnap *t, int arg);

static uint64
tv_counter(const TenantSnap *t, int arg)
{
	return t->counters[arg];
}

static uint64
tv_refused(const TenantSnap *t, int arg)
{
	return t->refused[arg];
}

/* One tenant series: the top tenants, "none", then "other" (with the rest). */
static void
tenant_series(Samples *ss, const MetricsSnap *s, int top_n, TenantValue fn, int arg,
			  const char *family, const char *type, const char *help,
			  const char *lname, const char *lvalue)
{
	Ranked	   *r = palloc_extended(sizeof(Ranked) * (s->ntenants + 1), MCXT_ALLOC_HUGE);
	int			nr = 0;
	int			n;
	uint64		rest;
	const TenantSnap *none = find_reserved(s, &metrics_tenant_none);
	const TenantSnap *other = find_reserved(s, &metrics_tenant_other);
	Sample	   *x;

	for (int i = 0; i < s->ntenants; i++)
	{
		if (is_reserved(&s->tenants[i].key))
			continue;
		r[nr].value = fn(&s->tenants[i], arg);
		r[nr].idx = i;
		r[nr].key = &s->tenants[i].key;
		r[nr].keylen = sizeof(pg_uuid_t);
		nr++;
	}
	n = rank(r, nr, top_n, &rest);
	for (int i = 0; i < n; i++)
	{
		x = add_sample(ss, family, "", type, help);
		x->tenant = tenant_label(&s->tenants[r[i].idx].key);
		x->lname = lname;
		x->lvalue = (char *) lvalue;
		x->value = (double) r[i].value;
		x->integral = true;
	}
	if (none && fn(none, arg) > 0)
	{
		x = add_sample(ss, family, "", type, help);
		x->tenant = "none";
		x->lname = lname;
		x->lvalue = (char *) lvalue;
		x->value = (double) fn(none, arg);
		x->integral = true;
	}
	rest += other ? fn(other, arg) : 0;
	if (rest > 0)
	{
		x = add_sample(ss, family, "", type, help);
		x->tenant = "other";
		x->lname = lname;
		x->lvalue = (char *) lvalue;
		x->value = (double) rest;
		x->integral = true;
	}
	pfree(r);
}

static const char *const le_labels[METRICS_LATENCY_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};

static void
histogram_samples(Samples *ss, const char *tenant, const uint64 *buckets, uint64 sum_us, uint64 count)
{
	static const char *family = "lowcode_request_duration_seconds";
	static const char *help = "Request latency, from the statement calling lowcode.pre_request() to the end of its transaction.";
	uint64		cum = 0;
	Sample	   *x;

	for (int b = 0; b < METRICS_LATENCY_BUCKETS; b++)
	{
		cum += buckets[b];
		x = add_sample(ss, family, "_bucket", "histogram", help);
		x->tenant = (char *) tenant;
		x->le = le_labels[b];
		x->value = (double) cum;
		x->integral = true;
	}
	x = add_sample(ss, family, "_sum", "histogram", help);
	x->tenant = (char *) tenant;
	x->value = (double) sum_us / 1000000.0;
	x = add_sample(ss, family, "_count", "histogram", help);
	x->tenant = (char *) tenant;
	x->value = (double) count;
	x->integral = true;
}

static void
latency_series(Samples *ss, const MetricsSnap *s, int top_n)
{
	Ranked	   *r = palloc_extended(sizeof(Ranked) * (s->ntenants + 1), MCXT_ALLOC_HUGE);
	int			nr = 0;
	int			n;
	uint64		rest;
	uint64		obuckets[METRICS_LATENCY_BUCKETS];
	uint64		osum = 0;
	uint64		ocount = 0;
	const TenantSnap *none = find_reserved(s, &metrics_tenant_none);
	const TenantSnap *other = find_reserved(s, &metrics_tenant_other);
	bool	   *shown = palloc0(sizeof(bool) * (s->ntenants + 1));

	for (int i = 0; i < s->ntenants; i++)
	{
		if (is_reserved(&s->tenants[i].key))
			continue;
		r[nr].value = s->tenants[i].latency_count;
		r[nr].idx = i;
		r[nr].key = &s->tenants[i].key;
		r[nr].keylen = sizeof(pg_uuid_t);
		nr++;
	}
	n = rank(r, nr, top_n, &rest);
	for (int i = 0; i < n; i++)
	{
		const TenantSnap *t = &s->tenants[r[i].idx];

		shown[r[i].idx] = true;
		histogram_samples(ss, tenant_label(&t->key), t->latency, t->latency_sum_us, t->latency_count);
	}
	if (none && none->latency_count > 0)
		histogram_samples(ss, "none", none->latency, none->latency_sum_us, none->latency_count);
	/* "other": the reserved entry plus every tenant not shown */
	memset(obuckets, 0, sizeof(obuckets));
	for (int i = 0; i < s->ntenants; i++)
	{
		const TenantSnap *t = &s->tenants[i];

		if (shown[i] || t == none || (t != other && is_reserved(&t->key)))
			continue;
		for (int b = 0; b < METRICS_LATENCY_BUCKETS; b++)
			obuckets[b] += t->latency[b];
		osum += t->latency_sum_us;
		ocount += t->latency_count;
	}
	if (ocount > 0)
		histogram_samples(ss, "other", obuckets, osum, ocount);
	pfree(r);
	pfree(shown);
}

static void
subject_series(Samples *ss, const MetricsSnap *s, int top_n, bool failures)
{
	const char *family = failures ? "lowcode_subject_validation_failures_total" : "lowcode_subject_validations_total";
	const char *help = failures ? "Failed registry validations per tenant and subject."
		: "Registry validations per tenant and subject.";
	Ranked	   *r = palloc_extended(sizeof(Ranked) * (s->nsubjects + 1), MCXT_ALLOC_HUGE);
	int			nr = 0;
	int			n;
	uint64		rest;
	Sample	   *x;

	for (int i = 0; i < s->nsubjects; i++)
	{
		const SubjectSnap *o = &s->subjects[i];
		uint64		v = failures ? o->failures : o->validations;

		if (memcmp(&o->key.tenant, &metrics_tenant_other, sizeof(pg_uuid_t)) == 0)
		{
			/* the overflow entry (tenant and subject "other") */
			continue;
		}
		r[nr].value = v;
		r[nr].idx = i;
		r[nr].key = &o->key;
		r[nr].keylen = sizeof(MetricsSubjectKey);
		nr++;
	}
	n = rank(r, nr, top_n, &rest);
	for (int i = 0; i < n; i++)
	{
		const SubjectSnap *o = &s->subjects[r[i].idx];

		x = add_sample(ss, family, "", "counter", help);
		x->tenant = tenant_label(&o->key.tenant);
		x->lname = "subject";
		x->lvalue = pstrdup(o->key.subject);
		x->value = (double) r[i].value;
		x->integral = true;
	}
	for (int i = 0; i < s->nsubjects; i++)
		if (memcmp(&s->subjects[i].key.tenant, &metrics_tenant_other, sizeof(pg_uuid_t)) == 0)
			rest += failures ? s->subjects[i].failures : s->subjects[i].validations;
	if (rest > 0)
	{
		x = add_sample(ss, family, "", "counter", help);
		x->tenant = "other";
		x->lname = "subject";
		x->lvalue = "other";
		x->value = (double) rest;
		x->integral = true;
	}
	pfree(r);
}

static void
gauge(Samples *ss, const char *family, const char *type, const char *help, double value, bool integral)
{
	Sample	   *x = add_sample(ss, family, "", type, help);

	x->value = value;
	x->integral = integral;
}

static void
worker_series(Samples *ss, const MetricsSnap *s)
{
	static const char *const fam[4] = {
		"lowcode_worker_sweeps_total", "lowcode_worker_sweep_failures_total",
		"lowcode_worker_sweep_duration_seconds", "lowcode_worker_lag_seconds"
	};
	static const char *const type[4] = {"counter", "counter", "gauge", "gauge"};
	static const char *const help[4] = {
		"Sweeps of the database worker (sessions, last-seen times, events, usage).",
		"Sweeps that ended with an error.",
		"Duration of the last sweep.",
		"Seconds since the end of the last sweep: the age of the oldest work the worker has not looked at."
	};
	TimestampTz now = GetCurrentTimestamp();

	for (int f = 0; f < 4; f++)
	{
		for (int i = 0; i < METRICS_MAX_DATABASES; i++)
		{
			const MetricsWorker *w = &s->workers[i];
			Sample	   *x;
			char	   *db;

			if (w->dboid == InvalidOid)
				continue;
			db = get_database_name(w->dboid);
			if (db == NULL)
				db = psprintf("%u", w->dboid);
			x = add_sample(ss, fam[f], "", type[f], help[f]);
			x->lname = "database";
			x->lvalue = db;
			switch (f)
			{
				case 0:
					x->value = (double) w->sweeps;
					x->integral = true;
					break;
				case 1:
					x->value = (double) w->failures;
					x->integral = true;
					break;
				case 2:
					x->value = (double) w->last_duration_us / 1000000.0;
					break;
				default:
					x->value = Max(0, (double) (now - w->last_end) / 1000000.0);
					break;
			}
		}
	}
}

static Samples *
collect_samples(int top_n)
{
	MetricsSnap	s;
	Samples    *ss = palloc0(sizeof(Samples));

	take_snapshot(&s);
	for (int m = 0; m < METRIC_NUM; m++)
	{
		tenant_series(ss, &s, top_n, tv_counter, m, metrics_counter_names[m], "counter",
					  metrics_counter_help[m], NULL, NULL);
		if (m == METRIC_REQUESTS_FAILED)
		{
			/* refusals next to the other request counters */
			for (int st = 0; st < METRICS_STATUS_NUM; st++)
				tenant_series(ss, &s, top_n, tv_refused, st, "lowcode_requests_refused_total", "counter",
							  "Requests refused with an HTTP error (pre_request() and every lowcode HTTP error), by status.",
							  "status", metrics_status_labels[st]);
		}
	}
	latency_series(ss, &s, top_n);
	subject_series(ss, &s, top_n, false);
	subject_series(ss, &s, top_n, true);
	worker_series(ss, &s);
	gauge(ss, "lowcode_metrics_tenants", "gauge", "Tenants in the metrics table (lowcode.metrics_max_tenants at most).",
		  s.used_tenants, true);
	gauge(ss, "lowcode_metrics_tenants_max", "gauge", "lowcode.metrics_max_tenants.", metrics_max_tenants, true);
	gauge(ss, "lowcode_metrics_subjects", "gauge", "(tenant, subject) pairs in the metrics table.", s.used_subjects, true);
	gauge(ss, "lowcode_metrics_overflows_total", "counter",
		  "Events counted under tenant \"other\" because the metrics table was full.", s.overflows, true);
	return ss;
}

static int
effective_top_n(FunctionCallInfo fcinfo)
{
	int			n;

	if (PG_NARGS() < 1 || PG_ARGISNULL(0))
		return metrics_top_n;
	n = PG_GETARG_INT32(0);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_n must not be negative, got %d", n),
				 errhint("0 shows every tenant; NULL uses lowcode.metrics_top_n.")));
	return n;
}

/* ---------------------------------------------------------------------
 * SQL functions
 * --------------------------------------------------------------------- */

static Jsonb *
labels_jsonb(const Sample *x)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (x->lname)
	{
		escape_json(&buf, x->lname);
		appendStringInfoChar(&buf, ':');
		escape_json(&buf, x->lvalue);
	}
	if (x->le)
	{
		if (x->lname)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "\"le\":");
		escape_json(&buf, x->le);
	}
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(lowcode_metrics_rows);

/*
 * lowcode.metrics_rows(top_n int DEFAULT NULL) RETURNS TABLE (metric text,
 * type text, tenant text, labels jsonb, value float8): one row per sample.
 */
Datum
lowcode_metrics_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Samples    *ss;
	int			top_n;

	metrics_require_shmem("lowcode.metrics");
	top_n = effective_top_n(fcinfo);
	InitMaterializedSRF(fcinfo, 0);
	ss = collect_samples(top_n);
	for (int i = 0; i < ss->n; i++)
	{
		const Sample *x = &ss->v[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(psprintf("%s%s", x->family, x->suffix));
		values[1] = CStringGetTextDatum(x->type);
		if (x->tenant)
			values[2] = CStringGetTextDatum(x->tenant);
		else
			nulls[2] = true;
		values[3] = JsonbPGetDatum(labels_jsonb(x));
		values[4] = Float8GetDatum(x->value);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* a label value in the text format: backslash, double quote and newline escaped */
static void
append_label_value(StringInfo buf, const char *v)
{
	appendStringInfoChar(buf, '"');
	for (const char *p = v; *p; p++)
	{
		if (*p == '\\')
			appendStringInfoString(buf, "\\\\");
		else if (*p == '"')
			appendStringInfoString(buf, "\\\"");
		else if (*p == '\n')
			appendStringInfoString(buf, "\\n");
		else
			appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

PG_FUNCTION_INFO_V1(lowcode_metrics_prometheus);

/* lowcode.metrics_prometheus(top_n int DEFAULT NULL) RETURNS text: text exposition format 0.0.4 */
Datum
lowcode_metrics_prometheus(PG_FUNCTION_ARGS)
{
	Samples    *ss;
	StringInfoData buf;
	const char *last_family = NULL;
	int			top_n;

	metrics_require_shmem("lowcode.metrics_prometheus()");
	top_n = effective_top_n(fcinfo);
	ss = collect_samples(top_n);
	initStringInfo(&buf);
	for (int i = 0; i < ss->n; i++)
	{
		const Sample *x = &ss->v[i];
		bool		any = false;

		if (last_family == NULL || strcmp(last_family, x->family) != 0)
		{
			appendStringInfo(&buf, "# HELP %s %s\n# TYPE %s %s\n", x->family, x->help, x->family, x->type);
			last_family = x->family;
		}
		appendStringInfo(&buf, "%s%s", x->family, x->suffix);
		if (x->tenant || x->lname || x->le)
		{
			appendStringInfoChar(&buf, '{');
			if (x->tenant)
			{
				appendStringInfoString(&buf, "tenant=");
				append_label_value(&buf, x->tenant);
				any = true;
			}
			if (x->lname)
			{
				appendStringInfo(&buf, "%s%s=", any ? "," : "", x->lname);
				append_label_value(&buf, x->lvalue);
				any = true;
			}
			if (x->le)
			{
				appendStringInfo(&buf, "%sle=", any ? "," : "");
				append_label_value(&buf, x->le);
			}
			appendStringInfoChar(&buf, '}');
		}
		if (x->integral)
			appendStringInfo(&buf, " %.0f\n", x->value);
		else
			appendStringInfo(&buf, " %.6f\n", x->value);
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

PG_FUNCTION_INFO_V1(lowcode_metrics_count);

/*
 * lowcode.metrics_count(tenant uuid, metric text, n bigint DEFAULT 1): count
 * from SQL (the operator's own jobs, the tests).  The metric is a counter's
 * short name, e.g. 'sessions_created'.
 */
Datum
lowcode_metrics_count(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		n = PG_ARGISNULL(2) ? 1 : PG_GETARG_INT64(2);

	metrics_require_shmem("lowcode.metrics_count()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("metrics_count: tenant and metric must not be NULL")));
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics_count: n must not be negative, got " INT64_FORMAT, n),
				 errdetail("Counters only go up.")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (int m = 0; m < METRIC_NUM; m++)
		if (strcmp(name, counter_short_names[m]) == 0)
		{
			metrics_count(PG_GETARG_UUID_P(0), (MetricId) m, n);
			PG_RETURN_VOID();
		}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("metrics_count: unknown metric \"%s\"", name),
			 errhint("The metrics are requests_admitted, requests_failed, validations, validation_failures, "
					 "rule_evaluations, rule_budget_exhausted, sessions_created, sessions_expired, sessions_revoked.")));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_metrics_reset);

/* lowcode.metrics_reset() RETURNS void */
Datum
lowcode_metrics_reset(PG_FUNCTION_ARGS)
{
	metrics_require_shmem("lowcode.metrics_reset()");
	metrics_reset_all();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lowcode_metrics_session_trigger);

/*
 * AFTER INSERT / AFTER UPDATE OF state trigger on lowcode.sessions: counts
 * sessions created, expired and revoked per tenant.  Without the shared
 * memory it does nothing: sessions work without preloading.
 */
Datum
lowcode_metrics_session_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	int			a_tenant;
	int			a_state;
	bool		isnull;
	Datum		d;
	char	   *state;
	MetricId	m;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("metrics_session_trigger must be a row trigger")));
	if (metrics_shared == NULL || !metrics_enabled)
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(td->tg_relation);
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	a_tenant = SPI_fnumber(desc, "tenant_id");
	a_state = SPI_fnumber(desc, "state");
	if (a_tenant <= 0 || a_state <= 0)
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		m = METRIC_SESSIONS_CREATED;
	else
	{
		d = heap_getattr(tup, a_state, desc, &isnull);
		if (isnull)
			return PointerGetDatum(NULL);
		state = TextDatumGetCString(d);
		if (strcmp(state, "expired") == 0)
			m = METRIC_SESSIONS_EXPIRED;
		else if (strcmp(state, "revoked") == 0)
			m = METRIC_SESSIONS_REVOKED;
		else
			return PointerGetDatum(NULL);
	}
	d = heap_getattr(tup, a_tenant, desc, &isnull);
	if (!isnull)
		metrics_count(DatumGetUUIDP(d), m, 1);
	return PointerGetDatum(NULL);
}
