/*-------------------------------------------------------------------------
 *
 * lc_hex.h
 *	  The value of one hexadecimal digit, for the lexers and decoders of
 *	  every component (CEL string escapes, JSON Schema URI percent-decoding,
 *	  regular expression escapes, header values).
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_HEX_H
#define LC_HEX_H

/* 0..15 for a hex digit (either case), -1 for anything else (any code point). */
static inline int
lc_hex_digit(uint32 c)
{
	if (c >= '0' && c <= '9')
		return (int) (c - '0');
	if (c >= 'a' && c <= 'f')
		return (int) (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int) (c - 'A' + 10);
	return -1;
}

#endif							/* LC_HEX_H */
