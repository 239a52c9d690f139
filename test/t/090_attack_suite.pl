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
