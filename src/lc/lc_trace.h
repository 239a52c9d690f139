/*-------------------------------------------------------------------------
 *
 * lc_trace.h
 *	  The W3C trace context of the current request (issue 20).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_TRACE_H
#define LC_TRACE_H

/*
 * The trace id (32 lowercase hex digits) of the traceparent header in
 * PostgREST's request.headers, or NULL when there is none or it is not a
 * valid version-00 traceparent.  Audit rows, events and HTTP errors carry
 * it.  Parsed once per distinct request.headers text; the result lives
 * until the setting changes (do not pfree it).
 */
extern const char *lc_trace_id(void);

/* The trace id of a traceparent value, palloc'd, or NULL when it is not valid. */
extern char *lc_trace_id_of(const char *traceparent);

#endif							/* LC_TRACE_H */
