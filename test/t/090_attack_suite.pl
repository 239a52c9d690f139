# The attack suite: a tenant (A) tries every path we know to read, change or
# learn another tenant's (B) data, through the PostgREST replay harness.
# Every case asserts that nothing of B was seen or changed; at the end, B's
# data is compared with a checksum taken before the attacks.  Residual risks
# that PostgreSQL itself cannot close are listed in docs/security.md.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('attack');
PostgrestReplay->setup_roles($node);
my $A = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('attacker', NULL, 'enterprise')});
my $B = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('victim', NULL, 'enterprise')});

$node->safe_psql('postgres', q{
	CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY, code text NOT NULL, title text);
	SELECT lowcode.make_tenant_table('public.notes');
	ALTER TABLE public.notes ADD PRIMARY KEY (tenant_id, id), ADD UNIQUE (tenant_id, code);
	CREATE TABLE public.parents (id bigint GENERATED ALWAYS AS IDENTITY, name text);
	SELECT lowcode.make_tenant_table('public.parents');
	ALTER TABLE public.parents ADD PRIMARY KEY (tenant_id, id);
	CREATE TABLE public.children (id bigint GENERATED ALWAYS AS IDENTITY, parent_id bigint, name text);
	SELECT lowcode.make_tenant_table('public.children');
	ALTER TABLE public.children ADD PRIMARY KEY (tenant_id, id),
	  ADD FOREIGN KEY (tenant_id, parent_id) REFERENCES public.parents (tenant_id, id);
	GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes, public.parents, public.children TO authenticated;
	CREATE VIEW public.notes_invoker WITH (security_invoker = true) AS SELECT * FROM public.notes;
	CREATE VIEW public.notes_definer AS SELECT * FROM public.notes;    -- owned by the superuser running the test
	GRANT SELECT ON public.notes_invoker TO authenticated;
	CREATE ROLE app_owner;
	CREATE VIEW public.notes_owner_view AS SELECT * FROM public.notes;
	ALTER TABLE public.notes OWNER TO app_owner;
	ALTER VIEW public.notes_owner_view OWNER TO app_owner;
	GRANT SELECT ON public.notes_owner_view TO authenticated;
	CREATE FUNCTION public.count_notes() RETURNS bigint LANGUAGE sql SECURITY DEFINER
	  SET search_path = pg_catalog, public AS 'SELECT count(*) FROM public.notes';
	ALTER FUNCTION public.count_notes() OWNER TO app_owner;
});
$node->safe_psql('postgres', qq{
	INSERT INTO notes (tenant_id, code, title) VALUES
	  ('$A', 'a1', 'attacker note'), ('$A', 'shared-code', 'attacker copy'),
	  ('$B', 'b1', 'victim note'), ('$B', 'shared-code', 'b-secret'), ('$B', 'b-only', 'b-secret 2');
	INSERT INTO parents (tenant_id, name) VALUES ('$A', 'a parent'), ('$B', 'b parent');
	INSERT INTO children (tenant_id, parent_id, name)
	  SELECT '$B', id, 'b child' FROM parents WHERE tenant_id = '$B';
	ANALYZE notes;
});
my $b_parent = $node->safe_psql('postgres', "SELECT id FROM parents WHERE tenant_id = '$B'");
my $b_note = $node->safe_psql('postgres', "SELECT id FROM notes WHERE tenant_id = '$B' AND code = 'b1'");
my $a_note = $node->safe_psql('postgres', "SELECT id FROM notes WHERE tenant_id = '$A' AND code = 'a1'");

my $victim_state_sql = qq{
	SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
	  SELECT 'n' || id || code || coalesce(title, '') AS x FROM notes WHERE tenant_id = '$B'
	  UNION ALL SELECT 'p' || id || name FROM parents WHERE tenant_id = '$B'
	  UNION ALL SELECT 'c' || id || parent_id || name FROM children WHERE tenant_id = '$B') s};
my $victim_before = $node->safe_psql('postgres', $victim_state_sql);

my $api = PostgrestReplay->new(node => $node, pool_size => 2);
my $claims_a = { role => 'authenticated', tenant_id => $A };
my $claims_b = { role => 'authenticated', tenant_id => $B };
my $n = 0;

# Run SQL as tenant A through the replayed transaction.
sub as_a
{
	my ($sql, %o) = @_;
	return $api->request(method => $o{method} // 'POST', claims => $o{claims} // $claims_a, sql => $sql, %o);
}

# No row of the result belongs to B or carries B's data.
sub no_victim_rows
{
	my ($res, $what) = @_;
	my @bad = grep {
		my $r = $_;
		grep { defined $_ && ($_ eq $B || /b-secret|victim|b parent|b child/) } values %$r
	} @{ $res->{rows} // [] };
	ok(!$res->{error} || $res->{status} >= 400, sprintf('attack %02d: %s', ++$n, $what))
	  and ok(!@bad, "  ...no row of the victim in the answer") or diag explain $res;
}

# The attack fails with the given status (and changes nothing).
sub refused
{
	my ($res, $status, $what) = @_;
	is($res->{status}, $status, sprintf('attack %02d: %s -> %d', ++$n, $what, $status))
	  or diag explain $res->{error};
}

# --- cross-tenant CRUD -------------------------------------------------------
no_victim_rows($api->get(table => 'public.notes', claims => $claims_a), 'list notes');
no_victim_rows($api->get(table => 'public.notes', where => "id = $b_note", claims => $claims_a), 'read victim note by id');
no_victim_rows($api->get(table => 'public.notes', where => "tenant_id = '$B'", claims => $claims_a), 'filter on victim tenant_id');
no_victim_rows(as_a(q{SELECT * FROM notes WHERE code = 'shared-code'}), 'read by a code both tenants use');
no_victim_rows(as_a("SELECT * FROM notes WHERE id = $b_note FOR UPDATE"), 'SELECT FOR UPDATE of a victim row');
no_victim_rows(as_a("SELECT * FROM notes WHERE id = $b_note FOR SHARE"), 'SELECT FOR SHARE of a victim row');
no_victim_rows(as_a(q{SELECT count(*) AS c, (count(*) > 2)::text AS more FROM notes}), 'aggregate over all notes');
no_victim_rows(as_a(q{SELECT id, count(*) OVER () AS total FROM notes}), 'window function over all notes');
no_victim_rows(as_a(qq{SELECT EXISTS (SELECT 1 FROM notes WHERE tenant_id = '$B')::text AS found}), 'EXISTS probe');
is(as_a(qq{SELECT EXISTS (SELECT 1 FROM notes WHERE tenant_id = '$B') AS found})->{rows}[0]{found}, 0, '  ...answers false');
no_victim_rows($api->update(table => 'public.notes', where => "id = $b_note", body => { title => 'pwned' }, claims => $claims_a),
	'PATCH a victim row');
no_victim_rows(as_a(q{UPDATE notes SET title = 'pwned' RETURNING *}), 'UPDATE every row, RETURNING *');
refused($api->update(table => 'public.notes', where => "id = $a_note", body => { tenant_id => $B }, claims => $claims_a), 403,
	'move own row into the victim tenant');
no_victim_rows($api->delete(table => 'public.notes', where => "id = $b_note", claims => $claims_a), 'DELETE a victim row');
no_victim_rows(as_a(qq{WITH d AS (DELETE FROM notes WHERE tenant_id = '$B' RETURNING *) SELECT * FROM d}),
	'writable CTE deleting the victim rows');
no_victim_rows(as_a(qq{UPDATE notes n SET title = 'x' FROM notes m WHERE m.tenant_id = '$B' AND n.id = m.id RETURNING n.*}),
	'UPDATE ... FROM a self join');
no_victim_rows(as_a(qq{DELETE FROM notes n USING parents p WHERE p.tenant_id = '$B' RETURNING n.*}), 'DELETE ... USING');
refused($api->insert(table => 'public.notes', columns => [qw(code title tenant_id)], claims => $claims_a,
	body => [ { code => 'planted', title => 'x', tenant_id => $B } ]), 403, 'POST a row into the victim tenant');
refused(as_a(q{INSERT INTO notes (code, tenant_id) VALUES ('nul', NULL)}), 403, 'INSERT with tenant_id NULL');
my $res = as_a(q{INSERT INTO notes (code, title) VALUES ('shared-code', 'upsert') ON CONFLICT (tenant_id, code)
	DO UPDATE SET title = 'pwned by upsert' RETURNING *});
no_victim_rows($res, 'INSERT ... ON CONFLICT on a code the victim also has');
is($res->{rows}[0]{tenant_id}, $A, '  ...the upsert hit the attacker\'s own row');
refused(as_a(qq{INSERT INTO notes (code, tenant_id) VALUES ('b1', '$B') ON CONFLICT (tenant_id, code) DO UPDATE SET title = 'pwned'}),
	403, 'ON CONFLICT DO UPDATE aimed at the victim\'s key');
no_victim_rows(as_a(q{MERGE INTO notes n USING (SELECT 'b1' AS code) s ON n.code = s.code
	WHEN MATCHED THEN UPDATE SET title = 'pwned by merge'}), 'MERGE matching a victim code');
refused(as_a(qq{MERGE INTO notes n USING (SELECT 'zz' AS code) s ON n.code = s.code
	WHEN NOT MATCHED THEN INSERT (code, tenant_id) VALUES (s.code, '$B')}), 403, 'MERGE inserting into the victim tenant');

# --- foreign keys and unique keys as oracles ----------------------------------
my $fk_victim = as_a("INSERT INTO children (parent_id, name) VALUES ($b_parent, 'probe')");
my $fk_none = as_a("INSERT INTO children (parent_id, name) VALUES (987654321, 'probe')");
refused($fk_victim, 409, 'child row pointing at the victim\'s parent');
is($fk_victim->{error}{sqlstate}, $fk_none->{error}{sqlstate}, '  ...same error as for a parent that does not exist');
(my $m1 = $fk_victim->{error}{details} // '') =~ s/\d+/N/g;
(my $m2 = $fk_none->{error}{details} // '') =~ s/\d+/N/g;
is($m1, $m2, '  ...with the same detail (no existence oracle)');
$n++;
$res = as_a(q{INSERT INTO notes (code) VALUES ('b-only') RETURNING tenant_id});
is($res->{status}, 201, sprintf('attack %02d: a code only the victim has is free for the attacker (no unique-key oracle)', $n));
my $a_rows = $node->safe_psql('postgres', "SELECT count(*) FROM notes WHERE tenant_id = '$A'");

# --- spoofing the context ------------------------------------------------------
$res = as_a(qq{SELECT set_config('request.jwt.claims', '{"tenant_id":"$B"}', true), (SELECT count(*) FROM notes WHERE tenant_id = '$B') AS c});
is($res->{rows}[0]{c}, 0, sprintf('attack %02d: set_config of victim claims after pre_request (context pinned)', ++$n));
$res = $api->request(method => 'POST', claims => $claims_a,
	code => sub {
		my $dbh = shift;
		$dbh->do(qq{SET LOCAL request.jwt.claims = '{"tenant_id":"$B"}'}) or return undef;
		return $dbh->selectall_arrayref(q{SELECT lowcode.current_tenant()::text AS t}, { Slice => {} });
	});
is($res->{rows}[0]{t}, $A, sprintf('attack %02d: SET LOCAL of victim claims after pre_request', ++$n));
refused(as_a(q{SET lowcode.tenant_context = 'session'}), 403, 'SET lowcode.tenant_context');
refused(as_a(q{SELECT set_config('lowcode.tenant_context', 'session', true)}), 403, 'set_config lowcode.tenant_context');
refused(as_a(q{ALTER ROLE authenticated SET lowcode.tenant_context = 'claims'}), 403, 'ALTER ROLE ... SET the context source');
refused(as_a(q{SET ROLE postgres}), 403, 'SET ROLE to a superuser');
refused(as_a(q{SET ROLE lowcode_operator}), 403, 'SET ROLE to the operator role');
refused(as_a(q{SET SESSION AUTHORIZATION postgres}), 403, 'SET SESSION AUTHORIZATION');
refused(as_a(q{RESET ROLE; SELECT * FROM notes}), 403, 'RESET ROLE back to the authenticator');
no_victim_rows(as_a(q{SET ROLE anon; SELECT * FROM notes}), 'SET ROLE anon then read');
# A session-level set_config persisted on a pooled connection does not reach the next request.
my $single = PostgrestReplay->new(node => $node, pool_size => 1);
$single->request(method => 'POST', claims => $claims_a,
	sql => qq{SELECT set_config('request.jwt.claims', '{"tenant_id":"$B","role":"authenticated"}', false)});
$res = $single->request(method => 'GET', claims => { role => 'anon' }, pre_request => 'select 1',
	sql => q{SELECT lowcode.current_tenant() AS t});
ok(!defined $res->{rows}[0]{t}, sprintf('attack %02d: claims planted at session level on a pooled connection are overridden', ++$n));
$res = $single->request(method => 'GET', claims => { role => 'authenticated' }, sql => q{SELECT 1});
refused($res, 401, 'next request without tenant on the planted connection is still rejected');
$single->disconnect;
$res = $api->get(table => 'public.notes', claims => { role => 'authenticated' }, headers => { 'x-tenant-id' => $B });
refused($res, 401, 'a tenant id in a request header is not a context');
$node->safe_psql('postgres', "SELECT lowcode.suspend_tenant('$A')");
refused($api->get(table => 'public.notes', claims => $claims_a), 403, 'suspended tenant');
no_victim_rows($api->get(table => 'public.notes', claims => $claims_a, pre_request => 'select 1'),
	'suspended tenant skipping pre_request');
$node->safe_psql('postgres', "SELECT lowcode.resume_tenant('$A')");

# --- bypass paths ----------------------------------------------------------------
no_victim_rows(as_a(q{SELECT * FROM notes_invoker}), 'security_invoker view');
no_victim_rows(as_a(q{SELECT * FROM notes_owner_view}), 'definer view owned by the table owner (FORCE RLS applies)');
refused(as_a(q{SELECT * FROM notes_definer}), 403, 'definer view owned by a superuser is not granted');
no_victim_rows(as_a(q{SELECT public.count_notes() AS c}), 'SECURITY DEFINER function owned by the table owner');
is(as_a(q{SELECT public.count_notes() AS c})->{rows}[0]{c}, $a_rows, '  ...counts only the attacker\'s rows');
refused(as_a(q{TRUNCATE notes}), 403, 'TRUNCATE');
refused(as_a(q{ALTER TABLE notes DISABLE ROW LEVEL SECURITY}), 403, 'disable row level security');
refused(as_a(q{ALTER TABLE notes NO FORCE ROW LEVEL SECURITY}), 403, 'unforce row level security');
refused(as_a(q{DROP POLICY lowcode_tenant_select ON notes}), 403, 'drop a policy');
refused(as_a(q{CREATE POLICY open ON notes USING (true)}), 403, 'create an open policy');
refused(as_a(q{CREATE TRIGGER t BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION lowcode.tiers_upsert()}), 403, 'create a trigger');
refused(as_a(q{CREATE FUNCTION public.leak(text) RETURNS bool LANGUAGE sql AS 'select true'}), 403, 'create a function in public');
refused(as_a(q{CREATE VIEW public.v AS SELECT 1}), 403, 'create a view in public');
refused(as_a(q{CREATE FUNCTION lowcode.leak() RETURNS int LANGUAGE sql AS 'select 1'}), 403, 'create a function in schema lowcode');
$res = $api->request(method => 'GET', claims => $claims_a, code => sub {
	my $dbh = shift;
	$dbh->do('COPY notes TO STDOUT') or return undef;
	my ($line, @rows);
	push @rows, { line => $line } while $dbh->pg_getcopydata($line) >= 0;
	return \@rows;
});
no_victim_rows($res, 'COPY notes TO STDOUT');
is(scalar @{ $res->{rows} }, $a_rows, '  ...copies exactly the attacker\'s rows');
$res = $api->request(method => 'POST', claims => $claims_a, code => sub {
	my $dbh = shift;
	$dbh->do('COPY notes (code, tenant_id) FROM STDIN') or return undef;
	$dbh->pg_putcopydata("copied\t$B\n");
	$dbh->pg_putcopyend() or return undef;
	return [];
});
ok($res->{status} >= 400, sprintf('attack %02d: COPY FROM STDIN into the victim tenant is refused', ++$n));
no_victim_rows(as_a(q{SELECT * FROM notes WHERE 1 / (CASE WHEN title LIKE 'b-secret%' THEN 0 ELSE 1 END) = 1}),
	'division-by-zero oracle in a user qual (security quals run first)');
refused(as_a(q{SELECT setval(pg_get_serial_sequence('notes', 'id'), 1)}), 403, 'reset the shared identity sequence');

# --- extension tables and functions -------------------------------------------------
no_victim_rows($api->get(table => 'lowcode.tenants', claims => $claims_a), 'read lowcode.tenants');
no_victim_rows($api->get(table => 'lowcode.tenants', where => "id = '$B'", claims => $claims_a), 'read the victim tenant row');
refused($api->update(table => 'lowcode.tenants', where => "id = '$B'", body => { status => 'suspended' }, claims => $claims_a), 403,
	'suspend the victim tenant by UPDATE');
refused($api->rpc(function => 'lowcode.suspend_tenant', args => { tenant => $B }, types => { tenant => 'uuid' }, claims => $claims_a),
	403, 'suspend the victim tenant by RPC');
refused($api->rpc(function => 'lowcode.set_tenant_tier', args => { tenant => $A, tier => 'enterprise' },
	types => { tenant => 'uuid' }, claims => $claims_a), 403, 'upgrade own tier');
refused(as_a(q{UPDATE lowcode.tiers SET requests_per_second = 1000000}), 403, 'change a tier');
refused(as_a(qq{SELECT lowcode.tenant_must_exist('$B')}), 403, 'tenant existence oracle function');
refused(as_a(qq{SELECT lowcode.emit_event('$B', 'forged.event')}), 403, 'emit an event for the victim');
refused(as_a(q{SELECT * FROM lowcode.api_roles}), 403, 'read the API role list');
refused(as_a(q{SELECT * FROM lowcode.isolation_report()}), 403, 'run the isolation report');
refused(as_a(q{SELECT lowcode.make_tenant_table('public.notes')}), 403, 'call make_tenant_table');
refused(as_a(q{SELECT lowcode.grant_api_role('anon')}), 403, 'call grant_api_role');
$node->safe_psql('postgres', "SELECT lowcode.emit_event('$B', 'victim.secret', '{\"secret\": \"b-secret\"}')");
no_victim_rows($api->get(table => 'lowcode.events', claims => $claims_a), 'read the event outbox');

# --- side channels ----------------------------------------------------------------------
$res = as_a(q{SELECT most_common_vals::text AS v FROM pg_stats WHERE tablename = 'notes'}, method => 'GET');
is(scalar @{ $res->{rows} }, 0, sprintf('attack %02d: column statistics (pg_stats) of a tenant table are hidden', ++$n));
$res = as_a(q{SELECT * FROM notes WHERE title LIKE 'b-secret%'}, method => 'GET');
is(scalar @{ $res->{rows} }, 0, sprintf('attack %02d: LIKE probe on victim data', ++$n));
$res = as_a(q{SELECT count(*) AS c FROM notes n1 JOIN notes n2 ON n1.code = n2.code}, method => 'GET');
is($res->{rows}[0]{c}, $a_rows, sprintf('attack %02d: self join sees only own rows', ++$n));

# --- issue 13: privilege, session, parallel, partition, policy, service and scope attacks ------
# Two attacker models: the PostgREST request path (the replay harness, as tenant A), and a
# direct SQL connection as the API role (mallory: a login that is a member of authenticated,
# as with a leaked password or a SQL console), which also owns a schema it can write.
$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	GRANT authenticated TO mallory;
	CREATE SCHEMA evil AUTHORIZATION mallory;
});
sub mallory
{
	my ($sql) = @_;
	# verbose: errors carry their SQLSTATE
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql", extra_params => [ '-U', 'mallory' ], on_error_stop => 1);
	return { ret => $ret, out => $out, err => $err };
}
sub sqlstate_of { my ($e) = @_; return ($e =~ /(L[A-Z][0-9A-Z]{3}|42501)/) ? $1 : ($e // ''); }
sub direct_refused
{
	my ($r, $state, $what) = @_;
	ok($r->{ret} != 0 && $r->{err} =~ /\Q$state\E|$state/, sprintf('attack %02d: direct SQL: %s -> %s', ++$n, $what, $state))
	  or diag "ret $r->{ret}: $r->{err}";
}

# 1. A hostile schema shadowing operators, functions and types. Every one of them counts
#    its calls in a sequence (not rolled back with the statement) and, when it finds itself
#    running as a superuser, makes mallory one.
my $r = mallory(q{
	CREATE SEQUENCE evil.calls; CREATE SEQUENCE evil.super_calls;
	GRANT USAGE ON SCHEMA evil TO PUBLIC;
	GRANT USAGE, SELECT ON evil.calls, evil.super_calls TO PUBLIC;
	CREATE FUNCTION evil.hit() RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	  PERFORM pg_catalog.nextval('evil.calls');
	  IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
	    PERFORM pg_catalog.nextval('evil.super_calls');
	    EXECUTE 'ALTER ROLE mallory SUPERUSER';
	  END IF;
	END $$;
	CREATE FUNCTION evil.f_uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.uuid_eq($1, $2); END';
	CREATE FUNCTION evil.f_text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.texteq($1, $2); END';
	CREATE FUNCTION evil.f_text_ne(text, text) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.textne($1, $2); END';
	CREATE FUNCTION evil.f_bytea_eq(bytea, bytea) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.byteaeq($1, $2); END';
	CREATE FUNCTION evil.f_int84_ne(bigint, integer) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.int84ne($1, $2); END';
	CREATE FUNCTION evil.f_int8_ge(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.int8ge($1, $2); END';
	CREATE FUNCTION evil.f_ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.timestamptz_lt($1, $2); END';
	CREATE FUNCTION evil.f_ts_le(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.timestamptz_le($1, $2); END';
	CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.f_uuid_eq);
	CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.f_text_eq);
	CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.f_text_ne);
	CREATE OPERATOR evil.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = evil.f_bytea_eq);
	CREATE OPERATOR evil.<> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.f_int84_ne);
	CREATE OPERATOR evil.>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.f_int8_ge);
	CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.f_ts_lt);
	CREATE OPERATOR evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.f_ts_le);
	CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.now(); END';
	CREATE FUNCTION evil.pg_has_role(text, text, text) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN true; END';
	CREATE FUNCTION evil.pg_has_role(name, text, text) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN true; END';
	CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.jsonb_typeof($1); END';
	CREATE FUNCTION evil.date_trunc(text, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS 'BEGIN PERFORM evil.hit(); RETURN pg_catalog.date_trunc($1, $2); END';
	CREATE DOMAIN evil.oid AS bigint;
	CREATE DOMAIN evil.uuid AS text;
});
is($r->{ret}, 0, 'the hostile schema is in place') or diag $r->{err};
my $evil_path = 'evil, pg_catalog, lowcode, public';
my $calls_sql = q{SELECT (SELECT is_called FROM evil.calls)::text || ' ' || (SELECT is_called FROM evil.super_calls)::text};
my $bump = q{UPDATE lowcode.tiers SET description = description};   # limits reload at the next pre_request()
my ($sid_a, $tok_a) = split / /, $node->safe_psql('postgres', qq{SELECT session_id || ' ' || token FROM lowcode.create_session('$A', 'ann')});
my ($sid_b, $tok_b) = split / /, $node->safe_psql('postgres', qq{SELECT session_id || ' ' || token FROM lowcode.create_session('$B', 'bea')});
my $proof_a = $node->safe_psql('postgres', qq{SELECT lowcode.session_proof('$tok_a')});
$node->safe_psql('postgres', q{CREATE FUNCTION public.add_one(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
	SELECT lowcode.register_rule_function('add_one', 'public.add_one(bigint)')});

# the PostgREST path, with a search_path that puts the writable schema first
# (db-schemas / db-extra-search-path naming a schema API users can write)
my $evil_api = PostgrestReplay->new(node => $node, pool_size => 1, schemas => [qw(evil pg_catalog lowcode public)]);
my $claims_sa = { role => 'authenticated', tenant_id => $A, sid_proof => $proof_a };
for my $case (
	[ 'quota_active_sessions', qq{SELECT lowcode.quota_active_sessions('$A') AS n} ],
	[ 'session_info', q{SELECT principal FROM lowcode.session_info()} ],
	[ 'rule_test with a registered function', q{SELECT lowcode.rule_test('add_one(1) == 2', '{}') AS ok} ],
	[ 'validate against the registry', q{SELECT lowcode.validate('no-such-form', '{}') AS v} ],
	[ 'jsonschema_validate with a registry reference', q{SELECT lowcode.jsonschema_validate('{"$ref": "lowcode:registry/nowhere"}', '{}') AS v} ],
	[ 'flush_usage', q{SELECT lowcode.flush_usage() AS n} ])
{
	$node->safe_psql('postgres', $bump);
	my $res = $evil_api->request(method => 'POST', claims => $claims_sa, sql => $case->[1]);
	is($node->safe_psql('postgres', $calls_sql), 'false false',
		sprintf('attack %02d: hostile operators on the request path: pre_request() and %s run none of them', ++$n, $case->[0]))
	  or diag explain $res;
}
# the same functions from a direct connection, with temporary tables shadowing relation names too
for my $case (
	[ 'quota_active_sessions', qq{SELECT lowcode.quota_active_sessions('$A')} ],
	[ 'session_info', q{SELECT * FROM lowcode.session_info()} ],
	[ 'rule_test', q{SELECT lowcode.rule_test('add_one(1) == 2', '{}')} ],
	[ 'validate', q{SELECT lowcode.validate('no-such-form', '{}')} ],
	[ 'end_session', q{SELECT lowcode.end_session()} ])
{
	$node->safe_psql('postgres', $bump);
	mallory(qq{SET search_path = $evil_path;
		CREATE TEMP TABLE tenants (id text, status text, tier text);
		CREATE TEMP TABLE sessions (id text, tenant_id text, state text);
		CREATE TEMP TABLE pg_roles (rolname name, rolsuper boolean);
		BEGIN;
		SELECT set_config('request.jwt.claims', '{"tenant_id": "$A", "sid_proof": "$proof_a"}', true);
		SELECT lowcode.pre_request();
		$case->[1];
		ROLLBACK;});
	is($node->safe_psql('postgres', $calls_sql), 'false false',
		sprintf('attack %02d: direct SQL: hostile operators, functions, types and temporary tables: %s runs none of them', ++$n, $case->[0]));
}
# a superuser tricked into running the extension's maintenance under the hostile path
$node->safe_psql('postgres', qq{SET search_path = $evil_path; SELECT lowcode.sweep(); SELECT lowcode.flush_usage();});
is($node->safe_psql('postgres', $calls_sql), 'false false', sprintf('attack %02d: sweep() and flush_usage() under a hostile search_path run none of its operators', ++$n));
is($node->safe_psql('postgres', q{SELECT rolsuper::text FROM pg_roles WHERE rolname = 'mallory'}), 'false', '  ...and mallory gained no privilege');
# positive control: the hostile operator does run where the caller's own SQL uses it
mallory(qq{SET search_path = $evil_path; SELECT '$A'::pg_catalog.uuid = '$A'::pg_catalog.uuid});
is($node->safe_psql('postgres', $calls_sql), 'true false', '  ...while the attacker\'s own comparison does call it (the trap works)');
$evil_api->disconnect;

# 2. A session id is not a credential.
$res = $api->request(method => 'GET', claims => { role => 'authenticated', sid => $sid_b }, sql => q{SELECT principal FROM lowcode.session_info()});
refused($res, 401, 'claims with only the victim\'s session id');
is($res->{error}{code}, 'LS401', '  ...LS401 (a session id is not a secret)');
refused($api->request(method => 'GET', claims => { role => 'authenticated', tenant_id => $A, sid => $sid_b, sid_proof => $proof_a },
	sql => q{SELECT 1}), 401, 'the victim\'s session id with the attacker\'s own proof');
refused($api->request(method => 'GET', claims => { role => 'authenticated', sid_proof => 'lcp_' . ('A' x 43) }, sql => q{SELECT 1}),
	401, 'a guessed proof');
$res = $api->request(method => 'GET', claims => { role => 'authenticated', tenant_id => $A, sid_proof => $proof_a },
	sql => q{SELECT principal FROM lowcode.session_info()});
is($res->{rows}[0]{principal}, 'ann', '  ...(the attacker\'s own proof opens the attacker\'s own session)');
$r = mallory(qq{BEGIN; SELECT set_config('request.jwt.claims', '{"sid": "$sid_b"}', true); SELECT lowcode.pre_request(); SELECT lowcode.end_session(); COMMIT;});
direct_refused($r, 'session claim without proof', 'a victim\'s session id in self-made claims, then end_session()');
is($node->safe_psql('postgres', qq{SELECT state FROM lowcode.sessions WHERE id = '$sid_b'}), 'active', '  ...the victim\'s session is still active');

# 3. Parallel workers.  Claims mode: claims changed after pre_request() do not reach a worker.
my @parallel = ('SET LOCAL force_parallel_mode = on', 'SET LOCAL parallel_setup_cost = 0', 'SET LOCAL parallel_tuple_cost = 0',
	'SET LOCAL min_parallel_table_scan_size = 0', 'SET LOCAL max_parallel_workers_per_gather = 2');
sub parallel_query
{
	my ($claims, @sql) = @_;
	return $api->request(method => 'GET', claims => $claims, code => sub {
		my $dbh = shift;
		$dbh->do($_) or return undef for @parallel, @sql[0 .. $#sql - 1];
		return $dbh->selectall_arrayref($sql[-1], { Slice => {} });
	});
}
$res = parallel_query($claims_a, qq{SELECT set_config('request.jwt.claims', '{"tenant_id":"$B","role":"authenticated"}', true)},
	qq{SELECT count(*) AS c FROM notes WHERE tenant_id = '$B'});
is($res->{rows}[0]{c}, 0, sprintf('attack %02d: parallel plan after set_config of victim claims sees no victim row', ++$n)) or diag explain $res;
$res = parallel_query($claims_a, q{SELECT count(*) AS c FROM notes});
is($res->{rows}[0]{c}, $a_rows, '  ...and a parallel plan of the attacker\'s own query sees its own rows');
$res = parallel_query($claims_a, q{EXPLAIN (COSTS OFF) SELECT count(*) FROM notes});
ok((grep { $_->{'QUERY PLAN'} =~ /Gather/ } @{ $res->{rows} }), '  ...through a parallel plan (the tenant is an InitPlan of the leader)') or diag explain $res;
$r = mallory(qq{CREATE FUNCTION evil.ct() RETURNS uuid LANGUAGE plpgsql STABLE PARALLEL SAFE AS 'BEGIN RETURN lowcode.current_tenant(); END';
	BEGIN; SELECT set_config('request.jwt.claims', '{"tenant_id": "$A"}', true); SELECT lowcode.pre_request();
	SELECT set_config('request.jwt.claims', '{"tenant_id": "$B"}', true);
	} . join(";\n", @parallel) . q{;
	SELECT count(*) FROM public.notes WHERE tenant_id = evil.ct(); COMMIT;});
ok(($r->{ret} != 0 && $r->{err} =~ /cannot run in a parallel worker/) || ($r->{out} =~ /^0$/m),
	sprintf('attack %02d: direct SQL: a wrapper declared PARALLEL SAFE does not read the claims in a worker', ++$n)) or diag explain $r;
unlike($r->{out} // '', qr/^[1-9]/m, '  ...no victim row counted');
# Session mode: a tenant's own parallel query sees its rows (it silently saw none before).
$node->safe_psql('postgres', q{ALTER SYSTEM SET lowcode.tenant_context = 'session'; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('lowcode.tenant_context') = 'session'});
$res = parallel_query({ role => 'authenticated', sid_proof => $proof_a }, q{SELECT count(*) AS c FROM notes});
is($res->{rows}[0]{c}, $a_rows, sprintf('attack %02d: session mode: a parallel plan sees the session tenant\'s own rows', ++$n)) or diag explain $res;
$res = parallel_query({ role => 'authenticated', sid => $sid_b }, q{SELECT count(*) AS c FROM notes});
refused($res, 401, 'session mode: the victim\'s session id alone');
$r = mallory(qq{BEGIN; SELECT set_config('request.jwt.claims', '{"sid": "$sid_b"}', true); SELECT lowcode.pre_request();
	SELECT count(*) FROM public.notes; COMMIT;});
direct_refused($r, 'session claim without proof', 'session mode: the victim\'s session id in self-made claims');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET lowcode.tenant_context; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('lowcode.tenant_context') = 'claims'});

# 4. Partitions: every partition, present and future, is secured.
$node->safe_psql('postgres', qq{
	CREATE TABLE public.ledger (k int NOT NULL, note text) PARTITION BY RANGE (k);
	CREATE TABLE public.ledger_1 PARTITION OF public.ledger FOR VALUES FROM (0) TO (100);
	SELECT lowcode.make_tenant_table('public.ledger');
	CREATE TABLE public.ledger_2 PARTITION OF public.ledger FOR VALUES FROM (100) TO (200);
	CREATE TABLE public.ledger_3 (tenant_id uuid NOT NULL DEFAULT lowcode.current_tenant(), k int NOT NULL, note text);
	ALTER TABLE public.ledger ATTACH PARTITION public.ledger_3 FOR VALUES FROM (200) TO (300);
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated;
	INSERT INTO public.ledger (tenant_id, k, note) VALUES ('$A', 1, 'a'), ('$A', 101, 'a'), ('$A', 201, 'a'),
	  ('$B', 2, 'b-secret'), ('$B', 102, 'b-secret'), ('$B', 202, 'b-secret');
});
my $ledger_sql = qq{SELECT string_agg(tableoid::regclass::text || k || note, ',' ORDER BY k) FROM public.ledger WHERE tenant_id = '$B'};
my $ledger_before = $node->safe_psql('postgres', $ledger_sql);
for my $p (qw(ledger_1 ledger_2 ledger_3))
{
	no_victim_rows(as_a("SELECT * FROM public.$p"), "read partition $p directly");
	no_victim_rows(as_a("UPDATE public.$p SET note = 'pwned' RETURNING *"), "update partition $p directly");
	no_victim_rows(as_a("DELETE FROM public.$p RETURNING *"), "delete from partition $p directly");
	$r = mallory("SELECT count(*) FROM public.$p WHERE note = 'b-secret'");
	is($r->{out}, '0', sprintf('attack %02d: direct SQL without a tenant: partition %s shows no row', ++$n, $p));
	$r = mallory(qq{BEGIN; SELECT set_config('request.jwt.claims', '{"tenant_id": "$A"}', true); SELECT lowcode.pre_request();
		UPDATE public.$p SET note = 'pwned' WHERE note = 'b-secret'; COMMIT;});
}
refused(as_a(qq{INSERT INTO public.ledger_2 (tenant_id, k, note) VALUES ('$B', 150, 'planted')}), 403, 'insert into a future partition for the victim');
is($node->safe_psql('postgres', $ledger_sql), $ledger_before, '  ...the victim\'s partitioned rows are byte for byte unchanged');
$node->safe_psql('postgres', q{ALTER EVENT TRIGGER lowcode_tenant_partitions DISABLE;
	CREATE TABLE public.ledger_4 PARTITION OF public.ledger FOR VALUES FROM (300) TO (400);
	ALTER EVENT TRIGGER lowcode_tenant_partitions ENABLE;});
my %rep = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok($rep{'rls_disabled public.ledger_4'} && $rep{'partition_without_tenant_policies public.ledger_4'},
	'report flags a partition made while the guard was off (no RLS, no policies)') or diag explain \%rep;
$node->safe_psql('postgres', q{SELECT lowcode.make_tenant_table('public.ledger')});
%rep = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok(!(grep { /ledger/ } keys %rep), '  ...and make_tenant_table on the parent secures it') or diag explain \%rep;

# 5. An open permissive policy is refused, not kept.
$node->safe_psql('postgres', q{CREATE TABLE public.memos (body text);
	CREATE POLICY everyone ON public.memos USING (true);
	GRANT SELECT, INSERT ON public.memos TO authenticated;});
my ($ret, $out, $err) = $node->psql('postgres', qq{\\set VERBOSITY verbose\nSELECT lowcode.make_tenant_table('public.memos')});
like($err, qr/LT011|would open the table/, 'make_tenant_table refuses a table with an open permissive policy');
is($node->safe_psql('postgres', q{SELECT c.relrowsecurity::text || (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id') FROM pg_class c WHERE c.oid = 'public.memos'::regclass}),
	'false0', '  ...and changes nothing');
$node->safe_psql('postgres', qq{DROP POLICY everyone ON public.memos; SELECT lowcode.make_tenant_table('public.memos');
	INSERT INTO public.memos (tenant_id, body) VALUES ('$B', 'b-secret memo');});
no_victim_rows(as_a(q{SELECT * FROM public.memos}), 'read memos once made tenant-safe');
is(mallory(q{SELECT count(*) FROM public.memos})->{out}, '0', sprintf('attack %02d: direct SQL: memos show nothing without a tenant', ++$n));
$node->safe_psql('postgres', q{CREATE POLICY everyone_again ON public.memos USING (true)});
($ret, $out, $err) = $node->psql('postgres', qq{\\set VERBOSITY verbose\nSELECT lowcode.make_tenant_table('public.memos')});
like($err, qr/LT011/, '  ...an open policy added later is refused on the next call too');
%rep = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok($rep{'policy_not_tenant_scoped everyone_again on public.memos'}, '  ...and flagged by the report');
$node->safe_psql('postgres', q{DROP POLICY everyone_again ON public.memos});

# 6. Service attacks.  The session-limit lock is not an advisory lock anyone can take.
my $hold = DBI->connect(sprintf('dbi:Pg:dbname=postgres;host=%s;port=%d', $node->host, $node->port), 'mallory', '',
	{ AutoCommit => 1, RaiseError => 0, PrintError => 0 });
$hold->do(qq{SELECT pg_advisory_lock(hashtext('lowcode.sessions'), hashtext('$B'))});
($ret, $out, $err) = $node->psql('postgres', qq{SET statement_timeout = '5s'; SELECT count(*) FROM lowcode.create_session('$B', 'bea2')});
is($out, '1', sprintf('attack %02d: direct SQL: the old advisory key held by the attacker does not block the victim\'s sign-in', ++$n)) or diag $err;
ok(!$hold->do(qq{SELECT 1 FROM lowcode.tenants WHERE id = '$B' FOR KEY SHARE}), '  ...and the attacker cannot lock the victim\'s tenant row');
$hold->disconnect;
refused(as_a(qq{SELECT 1 FROM lowcode.tenants WHERE id = '$A' FOR NO KEY UPDATE}), 403, 'lock the tenant row the session limit serialises on');
# Tier settings cannot be lifted after pre_request().
for my $case (
	[ q{SET LOCAL statement_timeout = 0}, 'SET LOCAL statement_timeout = 0' ],
	[ q{SELECT set_config('statement_timeout', '1h', true)}, 'set_config statement_timeout 1h' ],
	[ q{RESET statement_timeout}, 'RESET statement_timeout' ],
	[ q{SET statement_timeout TO DEFAULT}, 'SET statement_timeout TO DEFAULT' ],
	[ q{SET LOCAL work_mem = '1GB'}, 'SET LOCAL work_mem = 1GB' ],
	[ q{SELECT set_config('work_mem', '2GB', false)}, 'set_config work_mem 2GB for the session' ],
	[ q{SET LOCAL hash_mem_multiplier = 1000}, 'SET LOCAL hash_mem_multiplier = 1000' ],
	[ q{RESET ALL}, 'RESET ALL' ])
{
	$res = as_a($case->[0]);
	ok($res->{status} >= 400 && $res->{error}{sqlstate} eq 'LQ434', sprintf('attack %02d: %s after pre_request() -> LQ434', ++$n, $case->[1]))
	  or diag explain $res;
}
$res = $api->request(method => 'GET', claims => $claims_a, code => sub {
	my $dbh = shift;
	$dbh->do(q{SET LOCAL statement_timeout = '2s'}) or return undef;
	return $dbh->selectall_arrayref(q{SELECT current_setting('statement_timeout') AS t, current_setting('work_mem') AS w}, { Slice => {} });
});
is_deeply($res->{rows}, [ { t => '2s', w => '64MB' } ], '  ...a lower statement_timeout is allowed, work_mem stays the tier\'s');
$r = mallory(qq{BEGIN; SELECT set_config('request.jwt.claims', '{"tenant_id": "$A"}', true); SELECT lowcode.pre_request();
	SET LOCAL statement_timeout = 0; SELECT pg_sleep(0); COMMIT;});
direct_refused($r, 'LQ434|cannot be raised', 'SET LOCAL statement_timeout = 0 after pre_request()');
# Large objects belong to the role, not to a tenant: flagged, and closed by the recommended REVOKE.
$res = $api->request(method => 'POST', claims => $claims_b, sql => q{SELECT lo_from_bytea(0, 'b-secret blob') AS o});
my $lo = $res->{rows}[0]{o};
ok($lo, 'before the REVOKE the victim could store a large object');
%rep = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok($rep{'api_role_can_create_large_objects postgres'} && $rep{"api_role_has_large_object $lo"},
	'report flags that API roles may create large objects, and the one they own') or diag explain \%rep;
$node->safe_psql('postgres', qq{SELECT lo_unlink($lo);
	REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea),
	  pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC;});
refused(as_a(q{SELECT lo_from_bytea(0, 'shared blob')}), 403, 'create a large object after the recommended REVOKE');
direct_refused(mallory(q{SELECT lo_creat(-1)}), '42501', 'create a large object after the recommended REVOKE');
%rep = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok(!(grep { /large_object/ } keys %rep), '  ...and the report is clean of large objects');

# 8. No global object by accident: a registry call without a tenant is refused.
direct_refused(mallory(q{SELECT lowcode.register_schema('planted', '{}')}), 'LG006', 'register_schema without a tenant context');
direct_refused(mallory(q{SET lowcode.registry_scope = global; SELECT lowcode.register_schema('planted', '{}')}), 'LG006',
	'register_schema in the global scope as a non-operator');
$res = $api->request(method => 'POST', claims => $claims_a, code => sub {
	my $dbh = shift;
	$dbh->do(q{SET LOCAL lowcode.registry_scope = global}) or return undef;
	return $dbh->selectall_arrayref(q{SELECT lowcode.register_schema('planted', '{}') AS v}, { Slice => {} });
});
ok($res->{status} >= 400 && $res->{error}{sqlstate} eq 'LG006', sprintf('attack %02d: a request asking for the global registry scope -> LG006', ++$n))
  or diag explain $res;
is($node->safe_psql('postgres', q{SELECT count(*) FROM lowcode.subjects WHERE name = 'planted'}), '0', '  ...no subject was made anywhere');
is($node->safe_psql('postgres', q{SELECT rolsuper::text FROM pg_roles WHERE rolname = 'mallory'}), 'false', 'mallory never became a superuser');

# --- the report sees the remaining hazards, and the recommended fix closes them -----------
my %report = map { $_ => 1 } split /\n/, $node->safe_psql('postgres',
	q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok($report{'view_without_security_invoker public.notes_definer'}, 'report flags the superuser-owned definer view');
ok($report{'api_role_can_create_temp postgres'}, 'report flags the TEMP privilege of the API role');
$node->safe_psql('postgres', 'REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC');
refused(as_a(q{CREATE TEMP TABLE notes (tenant_id uuid, title text)}), 403,
	'temporary table shadowing a tenant table for the next pooled request (after the recommended REVOKE)');

# --- nothing of the victim changed -------------------------------------------------------
is($node->safe_psql('postgres', $victim_state_sql), $victim_before, 'the victim\'s data is byte for byte unchanged');
my $b_view = $api->get(table => 'public.notes', claims => $claims_b);
is(scalar @{ PostgrestReplay::body($b_view) }, 3, 'the victim still sees its 3 notes');
cmp_ok($n, '>=', 60, "at least 60 attack cases ran ($n)");

$api->disconnect;
$node->stop;
done_testing();
