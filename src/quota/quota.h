/*-------------------------------------------------------------------------
 *
 * quota.h
 *	  Quotas, rate limits and usage accounting: the parts other components call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QUOTA_H
#define QUOTA_H

/*
 * Called by the database worker once per sweep, inside a transaction of
 * the worker's database: flush usage counters from shared memory to
 * lowcode.tenant_usage.  Must not raise an error for ordinary conditions.
 */
extern void quota_worker_sweep(void);

#endif							/* QUOTA_H */
