/*-------------------------------------------------------------------------
 *
 * quota_bench.c
 *	  Benchmark-only functions of the quota component: the cost of the rate
 *	  check of pre_request(), per call, against an empty loop
 *	  (bench/quota_rate.sh, bench/quota_scale.sh).
 *
 * They are not part of the shipped API.  Their SQL declarations are in
 * sql/bench/pg_lowcode_bench.sql (schema lowcode_bench), installed only by
 * "make install LOWCODE_BENCH=1", and their bodies are compiled only with
 * that flag (as pgvector's HNSW_BENCH).  The C symbols exist in every build
 * because the frozen install scripts of 0.1.0 and 0.2.0 declared the
 * functions in the extension (the upgrade to 0.3.0 drops them): without the
 * flag they raise feature_not_supported.
 *
 * src/quota/ is the quotas component: limits, rate limits, usage counters in
 * shared memory, and the quota step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#ifdef LOWCODE_BENCH
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/uuid.h"

#include "pg_lowcode.h"
#include "quota/quota.h"
#include "quota/quota_int.h"

static void
require_bench_shmem(void)
{
	lowcode_require_preload("lowcode_bench.quota_check_cost()");
	if (!quota_shared)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lowcode_bench.quota_check_cost(): the quota shared memory is not initialised")));
}

/*
 * The result row (check_ns, empty_ns, admitted): nanoseconds per iteration
 * of the checking loop (start..t1) and of the empty loop (t1..t2).
 */
static Datum
cost_row(FunctionCallInfo fcinfo, instr_time start, instr_time t1, instr_time t2,
		 int32 iterations, int64 admitted)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	INSTR_TIME_SUBTRACT(t2, t1);
	INSTR_TIME_SUBTRACT(t1, start);
	values[0] = Float8GetDatum(INSTR_TIME_GET_DOUBLE(t1) * 1e9 / iterations);
	values[1] = Float8GetDatum(INSTR_TIME_GET_DOUBLE(t2) * 1e9 / iterations);
	values[2] = Int64GetDatum(admitted);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

PG_FUNCTION_INFO_V1(lowcode_quota_check_cost);

/*
 * lowcode_bench.quota_check_cost(tenant uuid, iterations int) RETURNS record
 * (check_ns float8, empty_ns float8, admitted bigint): runs the rate check
 * of pre_request() "iterations" times against the tenant's bucket, then an
 * empty loop as long, and reports nanoseconds per iteration of each.
 */
Datum
lowcode_quota_check_cost(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant;
	int32		iterations;
	instr_time	start,
				t1,
				t2;
	int64		admitted = 0;
	volatile int64 sink = 0;

	require_bench_shmem();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	tenant = PG_GETARG_UUID_P(0);
	iterations = PG_GETARG_INT32(1);
	if (iterations < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quota_check_cost: iterations must be positive")));

	/* warm up: loads the limits into the entry */
	{
		int64		w;

		(void) quota_rate_check_for_bench(tenant, &w);
	}
	INSTR_TIME_SET_CURRENT(start);
	for (int32 i = 0; i < iterations; i++)
	{
		int64		w;

		admitted += quota_rate_check_for_bench(tenant, &w);
	}
	INSTR_TIME_SET_CURRENT(t1);
	for (int32 i = 0; i < iterations; i++)
	{
		/* the same loop around a call that does nothing */
		sink = sink + i;
	}
	INSTR_TIME_SET_CURRENT(t2);
	PG_RETURN_DATUM(cost_row(fcinfo, start, t1, t2, iterations, admitted));
}

PG_FUNCTION_INFO_V1(lowcode_quota_check_cost_spread);

/*
 * lowcode_bench.quota_check_cost(tenants uuid[], iterations int) RETURNS record:
 * as above, over many tenants' buckets, visited in a pseudo-random order
 * (a stride prime to the array length), as real traffic would.
 */
Datum
lowcode_quota_check_cost_spread(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	int32		iterations;
	instr_time	start,
				t1,
				t2;
	int64		admitted = 0;
	volatile int64 sink = 0;
	int64		stride = 7919;	/* a prime */
	int64		k = 0;

	require_bench_shmem();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	iterations = PG_GETARG_INT32(1);
	if (iterations < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quota_check_cost: iterations must be positive")));
	deconstruct_array(arr, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &elems, &enulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quota_check_cost: the tenant array is empty")));
	for (int i = 0; i < n; i++)
		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quota_check_cost: the tenant array contains NULL")));
	if (n % stride == 0)
		stride = 1;

	for (int i = 0; i < n; i++)
	{
		int64		w;

		(void) quota_rate_check_for_bench(DatumGetUUIDP(elems[i]), &w);
		CHECK_FOR_INTERRUPTS();
	}
	INSTR_TIME_SET_CURRENT(start);
	for (int32 i = 0; i < iterations; i++)
	{
		int64		w;

		admitted += quota_rate_check_for_bench(DatumGetUUIDP(elems[k]), &w);
		k = (k + stride) % n;
	}
	INSTR_TIME_SET_CURRENT(t1);
	k = 0;
	for (int32 i = 0; i < iterations; i++)
	{
		sink = sink + DatumGetUUIDP(elems[k])->data[0];
		k = (k + stride) % n;
	}
	INSTR_TIME_SET_CURRENT(t2);
	PG_RETURN_DATUM(cost_row(fcinfo, start, t1, t2, iterations, admitted));
}

#else							/* !LOWCODE_BENCH */

static pg_attribute_noreturn() void
not_built(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("quota_check_cost is a benchmark function and this build of pg_lowcode does not include it"),
			 errhint("Build with \"make LOWCODE_BENCH=1\" and run sql/bench/pg_lowcode_bench.sql (the benchmarks under bench/ do both).")));
}

PG_FUNCTION_INFO_V1(lowcode_quota_check_cost);
Datum
lowcode_quota_check_cost(PG_FUNCTION_ARGS)
{
	not_built();
}

PG_FUNCTION_INFO_V1(lowcode_quota_check_cost_spread);
Datum
lowcode_quota_check_cost_spread(PG_FUNCTION_ARGS)
{
	not_built();
}

#endif							/* LOWCODE_BENCH */
