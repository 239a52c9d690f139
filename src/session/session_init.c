/*-------------------------------------------------------------------------
 *
 * session_init.c
 *	  Entry point of the session component, called from _PG_init().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_lowcode.h"
#include "tenancy/pre_request.h"

void
session_init(void)
{
}

/*
 * The session step of pre_request(): nothing yet; the sessions component
 * validates the request's session here and binds its tenant.
 */
void
session_pre_request(PreRequest *req)
{
}
