/*-------------------------------------------------------------------------
 *
 * session_token.c
 *	  Session tokens: generation (pg_strong_random) and hashing (SHA-256
 *	  through PostgreSQL's cryptohash API).
 *
 * A token is "lcs_" followed by the unpadded base64url encoding of 32
 * random bytes (256 bits).  Only its SHA-256 is stored, so a copy of the
 * sessions table does not let anyone act as a user.  The prefix makes
 * leaked tokens easy to recognise by secret scanners.
 *
 * src/session/ is the sessions component: settings, the last-seen table in
 * shared memory, the sweep, tokens, and the session step of pre_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "session/session.h"

#define TOKEN_RANDOM_BYTES 32
#define TOKEN_PREFIX "lcs_"

static const char b64url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of "len" bytes into "dst" (needs 4*ceil(len/3)+1). */
static void
base64url_encode(const uint8 *src, int len, char *dst)
{
	int			i;
	char	   *p = dst;

	for (i = 0; i + 2 < len; i += 3)
	{
		uint32		v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];

		*p++ = b64url[(v >> 18) & 0x3F];
		*p++ = b64url[(v >> 12) & 0x3F];
		*p++ = b64url[(v >> 6) & 0x3F];
		*p++ = b64url[v & 0x3F];
	}
	if (len - i == 1)
	{
		uint32		v = src[i] << 16;

		*p++ = b64url[(v >> 18) & 0x3F];
		*p++ = b64url[(v >> 12) & 0x3F];
	}
	else if (len - i == 2)
	{
		uint32		v = (src[i] << 16) | (src[i + 1] << 8);

		*p++ = b64url[(v >> 18) & 0x3F];
		*p++ = b64url[(v >> 12) & 0x3F];
		*p++ = b64url[(v >> 6) & 0x3F];
	}
	*p = '\0';
}

void
session_token_hash(const char *token, size_t len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) token, len) < 0 ||
		pg_cryptohash_final(ctx, out, SESSION_TOKEN_HASH_LEN) < 0)
	{
		const char *why = ctx ? pg_cryptohash_error(ctx) : "out of memory";

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SHA-256 of a session token: %s", why)));
	}
	pg_cryptohash_free(ctx);
}

PG_FUNCTION_INFO_V1(lowcode_session_new_token);

/* lowcode.session_new_token() RETURNS text */
Datum
lowcode_session_new_token(PG_FUNCTION_ARGS)
{
	uint8		random[TOKEN_RANDOM_BYTES];
	char		buf[sizeof(TOKEN_PREFIX) + (TOKEN_RANDOM_BYTES + 2) / 3 * 4 + 1];

	if (!pg_strong_random(random, sizeof(random)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random session token")));
	strcpy(buf, TOKEN_PREFIX);
	base64url_encode(random, sizeof(random), buf + strlen(TOKEN_PREFIX));
	explicit_bzero(random, sizeof(random));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

PG_FUNCTION_INFO_V1(lowcode_session_token_hash);

/* lowcode.session_token_hash(token text) RETURNS bytea */
Datum
lowcode_session_token_hash(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *result = palloc(VARHDRSZ + SESSION_TOKEN_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + SESSION_TOKEN_HASH_LEN);
	session_token_hash(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), (uint8 *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}
