/*-------------------------------------------------------------------------
 *
 * lc_hash.h
 *	  A backend-local hash table keyed by a fixed-size blob, in a memory
 *	  context of the caller's choice: the HASHCTL set-up the components'
 *	  caches share.
 *
 * src/lc/ is code shared by components.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_HASH_H
#define LC_HASH_H

#include "utils/hsearch.h"

static inline HTAB *
lc_blob_hash_create(const char *name, long nelem, Size keysize, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, nelem, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

#endif							/* LC_HASH_H */
