-- Bad input for lowcode.event_channel() and lowcode.event_channel(tenant uuid) (issue 13.7, docs/tenancy.md "Events").
-- event_channel() takes no argument: its input is the request context; without a tenant it must refuse
-- (LT401, HTTP 401), never name a channel.  event_channel(uuid) is for operators; its input is a uuid.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set contexts :abs_srcdir '/sql/include/request_context.sql'
\i :contexts
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each context (include/request_context.sql) and the answer: a channel name is reported by its shape only.
SELECT n, what, regexp_replace(pg_temp.try(format('SELECT pg_temp.ctx(%L, %L, %L)', claims, headers, 'lowcode.event_channel()')),
                               'lowcode_events_[0-9a-f]{32}', 'lowcode_events_<32 hex>')
  FROM bad_context ORDER BY n;
-- event_channel(uuid): NULL names the operators' channel; malformed uuids fail at the cast.
SELECT regexp_replace(pg_temp.try(q), 'lowcode_events_[0-9a-f]{32}', 'lowcode_events_<32 hex>') FROM (VALUES
  ('SELECT lowcode.event_channel(NULL::uuid)'),
  ('SELECT lowcode.event_channel(''00000000-0000-0000-0000-000000000000'')'),
  ('SELECT lowcode.event_channel(''not-a-uuid'')'),
  ('SELECT lowcode.event_channel(repeat(''a'', 100000))'),
  ('SELECT lowcode.event_channel(''{"tenant_id": 1}'')')) v(q);
-- the same tenant always gets the same name, two tenants two names
SELECT lowcode.event_channel('00000000-0000-0000-0000-000000000001') = lowcode.event_channel('00000000-0000-0000-0000-000000000001') AS stable,
       lowcode.event_channel('00000000-0000-0000-0000-000000000001') <> lowcode.event_channel('00000000-0000-0000-0000-000000000002') AS distinct_names;
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
