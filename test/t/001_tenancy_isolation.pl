# Tenant isolation through the PostgREST replay harness: CRUD on extension
# tables and on a user table made safe with make_tenant_table, cross-tenant
# attempts, spoofed context, pooled connections reused across tenants.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('isolation');
PostgrestReplay->setup_roles($node);

my ($a, $b, $c) = map {
	$node->safe_psql('postgres', "SELECT lowcode.create_tenant('$_', NULL, 'enterprise')")
} qw(tenant-a tenant-b tenant-c);

$node->safe_psql('postgres', q{
	CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY, title text NOT NULL);
	SELECT lowcode.make_tenant_table('public.notes');
	ALTER TABLE public.notes ADD PRIMARY KEY (tenant_id, id);
	GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes TO authenticated;
});

my $api = PostgrestReplay->new(node => $node, pool_size => 2);
my %claims = map { $_->[0] => { role => 'authenticated', tenant_id => $_->[1] } } (['a', $a], ['b', $b], ['c', $c]);

sub count_rows { my ($res) = @_; return scalar @{ PostgrestReplay::body($res) // [] }; }
sub superuser_count { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }

# --- inserts through the API land in the caller's tenant
for my $t (qw(a b))
{
	my $res = $api->insert(table => 'public.notes', columns => ['title'], claims => $claims{$t},
		body => [ { title => "$t-1" }, { title => "$t-2" } ]);
	is($res->{status}, 201, "tenant $t inserts its notes");
}
is(superuser_count("SELECT count(*) FROM notes WHERE tenant_id = '$a'"), 2, 'tenant a has 2 rows');
is(superuser_count("SELECT count(*) FROM notes WHERE tenant_id = '$b'"), 2, 'tenant b has 2 rows');

# --- reads see only the caller's rows
for my $t (qw(a b))
{
	my $res = $api->get(table => 'public.notes', claims => $claims{$t});
	is($res->{status}, 200, "tenant $t reads");
	my $rows = PostgrestReplay::body($res);
	is(scalar @$rows, 2, "tenant $t sees exactly its 2 rows");
	ok(!(grep { $_->{title} !~ /^$t-/ } @$rows), "tenant $t sees none of another tenant's rows");
}
my $b_id = superuser_count("SELECT min(id) FROM notes WHERE tenant_id = '$b'");
my $res = $api->get(table => 'public.notes', where => "id = $b_id", claims => $claims{a});
is(count_rows($res), 0, 'reading another tenant\'s row by id returns nothing');

# --- updates and deletes of another tenant's rows change nothing
$res = $api->update(table => 'public.notes', where => "id = $b_id", body => { title => 'hacked' }, claims => $claims{a});
is($res->{status}, 204, 'update of another tenant\'s row is not an error (204)...') or diag explain $res->{error};
is(count_rows($res), 0, '...and changes no row');
$res = $api->delete(table => 'public.notes', where => 'true', claims => $claims{a});
is(count_rows($res), 2, 'delete everything as tenant a deletes only a\'s 2 rows');
is(superuser_count("SELECT count(*) FROM notes WHERE tenant_id = '$b' AND title LIKE 'b-%'"), 2, 'tenant b\'s rows are intact');

# --- writing into another tenant is refused
$res = $api->insert(table => 'public.notes', columns => ['title', 'tenant_id'], claims => $claims{a},
	body => [ { title => 'planted', tenant_id => $b } ]);
is($res->{status}, 403, 'insert with another tenant\'s id is refused (403)');
is($res->{error}{sqlstate}, '42501', '...by the row level security policy');
$api->insert(table => 'public.notes', columns => ['title'], claims => $claims{a}, body => [ { title => 'a-3' } ]);
$res = $api->update(table => 'public.notes', where => 'true', body => { tenant_id => $b }, claims => $claims{a});
is($res->{status}, 403, 'moving a row to another tenant is refused (403)');
is(superuser_count("SELECT count(*) FROM notes WHERE title = 'planted'"), 0, 'no planted row');
is(superuser_count("SELECT count(*) FROM notes WHERE tenant_id = '$b'"), 2, 'tenant b still has exactly its rows');

# --- extension tables
$res = $api->get(table => 'lowcode.tenants', claims => $claims{a});
my $rows = PostgrestReplay::body($res);
is(scalar @$rows, 1, 'a tenant sees one row of lowcode.tenants');
is($rows->[0]{id}, $a, '...its own');
$node->safe_psql('postgres', "SELECT lowcode.emit_event('$a', 'test.a'), lowcode.emit_event('$b', 'test.b')");
$res = $api->get(table => 'lowcode.events', claims => $claims{a});
$rows = PostgrestReplay::body($res);
is(scalar @$rows, 1, 'a tenant sees only its own events');
is($rows->[0]{type}, 'test.a', '...the right one');
$res = $api->insert(table => 'lowcode.events', columns => ['tenant_id', 'type'], claims => $claims{a},
	body => [ { tenant_id => $b, type => 'forged.event' } ]);
is($res->{status}, 403, 'tenants cannot write events');
$res = $api->update(table => 'lowcode.tenants', where => 'true', body => { status => 'active' }, claims => $claims{a});
is($res->{status}, 403, 'tenants cannot update lowcode.tenants');
$res = $api->rpc(function => 'lowcode.create_tenant', args => { slug => 'evil' }, claims => $claims{a});
is($res->{status}, 403, 'tenants cannot call operator functions');

# --- requests without a valid tenant are rejected by pre_request
$res = $api->get(table => 'public.notes', claims => { role => 'authenticated' });
is($res->{status}, 401, 'no tenant claim: 401');
is($res->{error}{code}, 'LT401', '...code LT401');
ok($res->{headers}{'WWW-Authenticate'}, '...with a WWW-Authenticate header');
$res = $api->get(table => 'public.notes', claims => { role => 'authenticated', tenant_id => 'nope' });
is($res->{status}, 400, 'malformed tenant claim: 400');
$res = $api->get(table => 'public.notes', claims => { role => 'authenticated', tenant_id => '00000000-0000-0000-0000-00000000abcd' });
is($res->{status}, 403, 'unknown tenant: 403');
$node->safe_psql('postgres', "SELECT lowcode.suspend_tenant('$c')");
$res = $api->get(table => 'public.notes', claims => $claims{c});
is($res->{status}, 403, 'suspended tenant: 403');
is($res->{error}{code}, 'LT423', '...code LT423');
# Even skipping the hook, a suspended tenant's claims give no context.
$node->safe_psql('postgres', "INSERT INTO notes (tenant_id, title) VALUES ('$c', 'c-1')");
$res = $api->get(table => 'public.notes', claims => $claims{c}, pre_request => 'select 1');
is(count_rows($res), 0, 'suspended tenant sees nothing even without pre_request');

# --- pooled connections reused across tenants
my $single = PostgrestReplay->new(node => $node, pool_size => 1);
my @seen;
for my $t (qw(a b a b))
{
	my $r = $single->get(table => 'public.notes', claims => $claims{$t});
	my %ids = map { $_->{tenant_id} => 1 } @{ PostgrestReplay::body($r) };
	push @seen, join(',', sort keys %ids);
}
is($seen[0], $a, 'pooled connection: first request as a');
is($seen[1], $b, 'pooled connection: then b sees only b');
is($seen[3], $b, 'pooled connection: and again');
$res = $single->get(table => 'public.notes', claims => { role => 'anon' }, pre_request => 'select 1');
is(count_rows($res), 0, 'after tenant requests, a request with no tenant sees nothing on the same connection');

# --- spoofing the context
# API roles cannot change the context source.
$res = $api->request(method => 'POST', claims => $claims{a}, sql => q{SET lowcode.tenant_context = 'claims'});
is($res->{error}{sqlstate}, '42501', 'an API role cannot SET lowcode.tenant_context');
$res = $api->request(method => 'POST', claims => $claims{a}, sql => q{select set_config('lowcode.tenant_context', 'claims', true)});
is($res->{error}{sqlstate}, '42501', 'an API role cannot set_config lowcode.tenant_context');
# Session mode: claims set by SQL are not a context.
$node->append_conf('postgresql.conf', "lowcode.tenant_context = 'session'\n");
$node->reload;
my $fresh = PostgrestReplay->new(node => $node, pool_size => 1);
$res = $fresh->get(table => 'public.notes', claims => $claims{a});
is($res->{status}, 401, 'session mode: claims alone do not pass pre_request');
$res = $fresh->request(method => 'GET', claims => $claims{a}, pre_request => 'select 1',
	sql => q{select set_config('request.jwt.claims', '{"tenant_id":"} . $b . q{"}', true), (select count(*) from public.notes) as n});
is($res->{rows}[0]{n}, 0, 'session mode: set_config of claims gives no context');
$res = $fresh->request(method => 'GET', claims => $claims{a}, pre_request => 'select 1',
	sql => q{select lowcode.current_tenant() as t});
ok(!defined $res->{rows}[0]{t}, 'session mode: current_tenant() is NULL without a bound session');
$fresh->disconnect;
$node->append_conf('postgresql.conf', "lowcode.tenant_context = 'claims'\n");
$node->reload;

# --- the isolation report
my $report = $node->safe_psql('postgres', q{SELECT count(*) FROM lowcode.isolation_report() WHERE object_name LIKE '%notes%'});
is($report, 0, 'isolation report finds nothing wrong with the safe table');
$node->safe_psql('postgres', q{
	CREATE TABLE public.leaky (tenant_id uuid, v text UNIQUE);
	CREATE VIEW public.notes_view AS SELECT * FROM public.notes;
	CREATE FUNCTION public.definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'select 1';
	CREATE ROLE bypasser BYPASSRLS;
	GRANT bypasser TO authenticated;
});
my %problems = map { $_ => 1 } split /\n/, $node->safe_psql('postgres',
	q{SELECT problem || ' ' || object_name FROM lowcode.isolation_report()});
ok($problems{'rls_disabled public.leaky'}, 'report: table without RLS');
ok($problems{'unique_without_tenant leaky_v_key on public.leaky'}, 'report: unique constraint without tenant_id');
ok($problems{'view_without_security_invoker public.notes_view'}, 'report: view without security_invoker');
ok($problems{'security_definer_without_search_path public.definer()'}, 'report: SECURITY DEFINER without search_path');
ok($problems{'api_role_bypasses_rls authenticated'}, 'report: API role member of a BYPASSRLS role');

$api->disconnect;
$single->disconnect;
$node->stop;
done_testing();
