/*-------------------------------------------------------------------------
 *
 * session_token.c
 *	  Session tokens: generation (pg_strong_random) and hashing (SHA-256
 *	  through PostgreSQL's cryptohash API).
 *
 * A token is "lcs_" followed by the unpadded base64url encoding of 32
 * random bytes (256 bits).  Its proof is its SHA-256, which a JWT carries
 * (claim "sid_proof") so that a session is proven by a secret and never by
 * its id alone; only the SHA-256 of the proof is stored, so a copy of the
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
#define PROOF_PREFIX "lcp_"
#define PROOF_CHARS 43		/* unpadded base64url of 32 bytes */

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
session_sha256(const uint8 *data, size_t len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
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

/* The stored hash of a token: SHA-256 of its proof (see session.h). */
void
session_token_hash(const char *token, size_t len, uint8 *out)
{
	uint8		proof[SESSION_TOKEN_HASH_LEN];

	session_sha256((const uint8 *) token, len, proof);
	session_sha256(proof, sizeof(proof), out);
	explicit_bzero(proof, sizeof(proof));
}

static int
b64url_value(char c)
{
	const char *p = (c != '\0') ? strchr(b64url, c) : NULL;

	return p ? (int) (p - b64url) : -1;
}

/*
 * Parse a proof "lcp_" + 43 base64url characters (32 bytes, unpadded).
 * False when malformed.
 */
bool
session_parse_proof(const char *text, uint8 *proof)
{
	const char *p;
	uint32		acc = 0;
	int			bits = 0,
				n = 0;

	if (text == NULL || strncmp(text, PROOF_PREFIX, strlen(PROOF_PREFIX)) != 0 ||
		strlen(text) != strlen(PROOF_PREFIX) + PROOF_CHARS)
		return false;
	for (p = text + strlen(PROOF_PREFIX); *p; p++)
	{
		int			v = b64url_value(*p);

		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n < SESSION_TOKEN_HASH_LEN)
				proof[n++] = (uint8) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 43 characters carry 258 bits: the last 2 must be zero (canonical form) */
	return n == SESSION_TOKEN_HASH_LEN && acc == 0;
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

/*
 * The 0.1.0 and 0.2.0 lowcode.session_token_hash(token): the token's
 * SHA-256, which those versions stored.  Kept for a database whose SQL is
 * not yet updated to 0.3.0 while this library is installed: its
 * create_session stores what its sessions table holds, and the update
 * converts every row (sql/pg_lowcode--0.2.0--0.3.0.sql).
 */
Datum
lowcode_session_token_hash(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *result = palloc(VARHDRSZ + SESSION_TOKEN_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + SESSION_TOKEN_HASH_LEN);
	session_sha256((const uint8 *) VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), (uint8 *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(lowcode_session_token_hash_v2);

/* lowcode.session_token_hash(token text) RETURNS bytea: the stored hash, SHA-256 of the proof. */
Datum
lowcode_session_token_hash_v2(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *result = palloc(VARHDRSZ + SESSION_TOKEN_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + SESSION_TOKEN_HASH_LEN);
	session_token_hash(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), (uint8 *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(lowcode_session_proof);

/*
 * lowcode.session_proof(token text) RETURNS text: the value of the JWT claim
 * "sid_proof" for the session of this token, "lcp_" + base64url(SHA-256).
 */
Datum
lowcode_session_proof(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	uint8		proof[SESSION_TOKEN_HASH_LEN];
	char		buf[sizeof(PROOF_PREFIX) + PROOF_CHARS + 2];

	session_sha256((const uint8 *) VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), proof);
	strcpy(buf, PROOF_PREFIX);
	base64url_encode(proof, sizeof(proof), buf + strlen(PROOF_PREFIX));
	explicit_bzero(proof, sizeof(proof));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}
