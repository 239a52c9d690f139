/*-------------------------------------------------------------------------
 *
 * lc_trusted.h
 *	  Running the extension's own SQL texts immune to the caller.
 *
 * Every SQL text pg_lowcode runs through SPI is written with schema-
 * qualified tables and functions, but operators, casts and type names are
 * still looked up through search_path.  A caller who can create objects in
 * any schema could put an "=" for uuid there, put that schema first and
 * have it run by our query: as the bootstrap superuser when the query runs
 * with raised privileges, or in a later request of another tenant when the
 * result is cached in the backend.  lc_trusted_begin() therefore forces
 * search_path = pg_catalog, lowcode, pg_temp (pg_temp last: it is otherwise
 * searched first for relations and types) for the duration, in a GUC nest
 * level of its own, exactly as PostgreSQL does for a function with a SET
 * clause (fmgr_security_definer), and optionally switches to the bootstrap
 * superuser in a security-restricted operation.  lc_trusted_end() undoes
 * both; on an error, transaction or subtransaction abort undoes them.
 *
 * src/lc/ holds the project's shared libraries (prefix lc_): error codes, the
 * engines' host interface, HTTP errors, JSON fields, regular expressions,
 * Unicode tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_TRUSTED_H
#define LC_TRUSTED_H

/* The search_path of every SQL text the extension runs itself. */
#define LC_TRUSTED_SEARCH_PATH "pg_catalog, lowcode, pg_temp"

typedef struct LcTrusted
{
	int			guc_level;
	bool		switched;
	Oid			save_userid;
	int			save_sec;
} LcTrusted;

extern void lc_trusted_begin(LcTrusted *t, bool as_superuser);
extern void lc_trusted_end(LcTrusted *t);

#endif							/* LC_TRUSTED_H */
