-- Bad input for (SELECT count(*) FROM lowcode.session_info()): it takes no argument; its input is the request context,
-- request.jwt.claims and request.headers as PostgREST sets them: the current request's session, no row without one (docs/sessions.md).
-- Each context below is bad in some way; the answer must be NULL / nothing, never an error or a crash.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set contexts :abs_srcdir '/sql/include/request_context.sql'
\i :contexts
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each context (include/request_context.sql) and the answer (SQLSTATE: message, or ok: the value).
SELECT n, what, pg_temp.try(format('SELECT pg_temp.ctx(%L, %L, %L)', claims, headers, '(SELECT count(*) FROM lowcode.session_info())'))
  FROM bad_context ORDER BY n;
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
