/*-------------------------------------------------------------------------
 *
 * cel_lex.h
 *	  Tokens of the CEL lexer (cel_lex.c), used by the parser only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CEL_LEX_H
#define CEL_LEX_H

#include "cel/cel_value.h"

typedef enum CelTok
{
	T_EOF,
	T_ERROR,
	T_INT,
	T_UINT,
	T_DOUBLE,
	T_STRING,
	T_BYTES,
	T_IDENT,
	T_QIDENT,					/* `quoted field name` */
	T_TRUE,
	T_FALSE,
	T_NULL,
	T_IN,
	T_RESERVED,
	T_LPAREN,
	T_RPAREN,
	T_LBRACKET,
	T_RBRACKET,
	T_LBRACE,
	T_RBRACE,
	T_DOT,
	T_COMMA,
	T_COLON,
	T_QUESTION,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PERCENT,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_AND,
	T_OR
} CelTok;

typedef struct CelToken
{
	CelTok		tok;
	int			pos;
	int			end;
	/* literal values */
	int64		i;
	uint64		u;
	double		d;
	char	   *str;			/* T_STRING/T_BYTES data, T_IDENT name, T_ERROR msg */
	int			len;
	bool		int_too_big;	/* T_INT literal above INT64_MAX (maybe -MIN) */
} CelToken;

typedef struct CelLexer
{
	const char *src;
	int			len;
	int			pos;
} CelLexer;

extern void cel_lex_next(CelLexer *lx, CelToken *t);

#endif							/* CEL_LEX_H */
