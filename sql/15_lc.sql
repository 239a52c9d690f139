-- 15_common.sql: SQL entry points of the shared C code (src/lc):
-- regular expression translation.

-- Does "pattern" (dialect 'ecma262' for JSON Schema, 're2' for CEL) match
-- anywhere in "subject"?  Errors with SQLSTATE 2201B for a bad pattern.
CREATE FUNCTION lowcode.regex_test(dialect text, pattern text, subject text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lc_regex_test_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.regex_test(text, text, text) IS
'Search "subject" with an ECMA-262 (''ecma262'') or RE2 (''re2'') pattern, as JSON Schema and CEL do';

-- The PostgreSQL ARE text a pattern is translated to.
CREATE FUNCTION lowcode.regex_translate(dialect text, pattern text)
RETURNS text
AS 'MODULE_PATHNAME', 'lc_regex_translate_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.regex_translate(text, text) IS
'The PostgreSQL advanced regular expression an ECMA-262 or RE2 pattern is translated to';
