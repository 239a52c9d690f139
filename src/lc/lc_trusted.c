/*-------------------------------------------------------------------------
 *
 * lc_trusted.c
 *	  A forced search_path (and optionally the bootstrap superuser) for the
 *	  SQL texts the extension runs through SPI; see lc_trusted.h for why.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "lc/lc_trusted.h"

void
lc_trusted_begin(LcTrusted *t, bool as_superuser)
{
	t->switched = as_superuser;
	GetUserIdAndSecContext(&t->save_userid, &t->save_sec);
	if (as_superuser)
		SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
							   t->save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	/* As fmgr_security_definer() does for "SET search_path = ...". */
	t->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", LC_TRUSTED_SEARCH_PATH,
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

void
lc_trusted_end(LcTrusted *t)
{
	AtEOXact_GUC(true, t->guc_level);
	if (t->switched)
		SetUserIdAndSecContext(t->save_userid, t->save_sec);
}
