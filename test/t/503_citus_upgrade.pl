# Scale-out on Citus (issue 17): ALTER EXTENSION pg_lowcode UPDATE on a
# cluster.  A coordinator and two workers on loopback with pg_lowcode 0.2.0
# (the frozen sql/pg_lowcode--0.2.0.sql, which knows nothing of Citus):
#   - CREATE EXTENSION ... VERSION '0.2.0' on the coordinator reaches the
#     workers; a tenant table of 0.2.0 cannot be distributed (Citus refuses
#     its triggers and its policies' sub-selects), so it holds its rows on the
#     coordinator;
#   - ALTER EXTENSION pg_lowcode UPDATE on the coordinator only: Citus runs
#     it on every worker, all nodes end at the default version;
#   - the API role granted under 0.2.0 lacks the grants of what 0.3.0 added
#     (permission denied for lowcode.workflows) until grant_api_role runs
#     again on the coordinator (docs/scale-out.md, "Upgrading"), which also
#     gives every worker the role's grants and its lowcode.api_roles row;
#   - then distribute_all() distributes the registry and the tenant tables
#     with the rows made under 0.2.0; PostgREST-shaped requests (the replay)
#     read and write each tenant's own rows on the workers, routed (EXPLAIN),
#     validated on the worker (422 LG012) against a schema registered under
#     0.2.0; every shard has forced RLS and the four policies; the isolation
#     report is clean.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use LowcodeCitus;
use PostgrestReplay;

plan skip_all => 'Citus is not built into this PostgreSQL (scripts/build-citus.sh; scripts/test.sh builds it)'
  unless citus_available();

my $secret = 'tap-secret-' . int(rand(1e9));
my ($coord, @workers) = citus_cluster('c17u', conf => "lowcode.context_secret = '$secret'", no_extension => 1);
my @all = ($coord, @workers);

sub q_coord { return $coord->safe_psql('postgres', $_[0]) }
sub versions { return join(' ', map { $_->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_lowcode'}) } @all) }

q_coord(q{CREATE EXTENSION pg_lowcode VERSION '0.2.0'});
is(versions(), '0.2.0 0.2.0 0.2.0', 'CREATE EXTENSION pg_lowcode VERSION 0.2.0 on the coordinator: on every node');

PostgrestReplay->setup_roles($coord);
citus_worker_login($_) for @workers;
my ($ta, $tb) = map { q_coord("SELECT lowcode.create_tenant('$_')") } qw(acme beta);
sub as_tenant
{
	my ($tenant, $sql) = @_;
	return $coord->safe_psql('postgres', qq{BEGIN; SET LOCAL ROLE authenticated;
	  SELECT set_config('request.jwt.claims', '{"role": "authenticated", "tenant_id": "$tenant"}', true) \\g /dev/null
	  SELECT lowcode.pre_request() \\g /dev/null
	  $sql; COMMIT;});
}
q_coord(q{
	CREATE TABLE public.notes (id bigserial, body text);
	SELECT lowcode.make_tenant_table('public.notes');
	ALTER TABLE public.notes ADD PRIMARY KEY (tenant_id, id);
	CREATE TABLE public.orders (id bigserial, doc jsonb);
	SELECT lowcode.make_tenant_table('public.orders');
	ALTER TABLE public.orders ADD PRIMARY KEY (tenant_id, id);
	SELECT lowcode.attach_validation('public.orders', 'doc', 'order');
	GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes, public.orders TO authenticated;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated;
});
as_tenant($ta, q{SELECT lowcode.register_schema('order', '{"type": "object", "properties": {"qty": {"type": "integer", "maximum": 10}}, "required": ["qty"]}')});
as_tenant($ta, q{INSERT INTO public.notes (body) VALUES ('a-old'); INSERT INTO public.orders (doc) VALUES ('{"qty": 1}')});
as_tenant($tb, q{INSERT INTO public.notes (body) VALUES ('b-old')});
my ($rc, $out, $err) = $coord->psql('postgres', q{SET citus.enable_unsafe_triggers = on; SELECT create_distributed_table('public.notes', 'tenant_id')});
like($err, qr/Subqueries are not supported in policies on distributed tables/,
	'under 0.2.0 a tenant table cannot be distributed (its policies\' sub-selects)');

# --- the update, on the coordinator only
q_coord(q{ALTER EXTENSION pg_lowcode UPDATE});
my $default = q_coord(q{SELECT default_version FROM pg_available_extensions WHERE name = 'pg_lowcode'});
is(versions(), join(' ', ($default) x 3), "ALTER EXTENSION UPDATE on the coordinator: every node is at $default (Citus propagates it)");

my $api = PostgrestReplay->new(node => $coord, pool_size => 1, schemas => ['public', 'lowcode']);
sub claims { return { role => 'authenticated', tenant_id => $_[0] } }
my $res = $api->request(method => 'GET', claims => claims($ta), sql => q{select count(*) AS n from lowcode.workflows});
is($res->{error}{code} // $res->{error}{sqlstate} // '', '42501',
	'the API role granted under 0.2.0 lacks the grants of 0.3.0\'s objects (lowcode.workflows)') or diag explain $res;
is(join(' ', map { $_->safe_psql('postgres', q{SELECT count(*) FROM lowcode.api_roles}) } @workers), '0 0',
	'...and the workers do not list it (0.2.0 granted on the coordinator only)');
q_coord(q{SELECT lowcode.grant_api_role(role_name) FROM lowcode.api_roles});
$res = $api->request(method => 'GET', claims => claims($ta), sql => q{select count(*) AS n from lowcode.workflows});
is($res->{rows}[0]{n}, '0', 'grant_api_role again after the update: the role reads lowcode.workflows') or diag explain $res->{error};
for my $w (@workers)
{
	is($w->safe_psql('postgres', q{SELECT string_agg(role_name, ',') || ' ' || has_table_privilege('authenticated', 'lowcode.workflows', 'SELECT')
	  FROM lowcode.api_roles}), 'authenticated true', '...and it is granted on ' . $w->name . ', which lists it');
}

# --- distribute what 0.2.0 made, with its rows
is(q_coord(q{SELECT string_agg(t::text, ',' ORDER BY t::text) FROM lowcode.distribute_all() t}),
	'lowcode.registry_settings,lowcode.schema_references,lowcode.schema_versions,lowcode.subjects,notes,orders',
	'distribute_all() after the update: the registry and both tenant tables');
my $shards = q_coord(q{SELECT count(*) FROM pg_dist_shard WHERE logicalrelid IN ('public.notes'::regclass, 'public.orders'::regclass)});
my $secured = 0;
for my $w (@workers)
{
	$secured += $w->safe_psql('postgres', q{SET citus.show_shards_for_app_name_prefixes = '*';
		SELECT count(*) FROM pg_class c WHERE c.relname ~ '^(notes|orders)_[0-9]+$' AND c.relkind = 'r'
		   AND c.relrowsecurity AND c.relforcerowsecurity
		   AND (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname LIKE 'lowcode_tenant_%') = 4});
}
is($secured, $shards, "every one of the $shards shards has forced RLS and the four policies");

$res = $api->get(table => 'public.notes', claims => claims($ta));
is(join(',', map { $_->{body} } @{ JSON::PP->new->decode($res->{rows}[0]{body} // '[]') }), 'a-old',
	'tenant A reads its row made under 0.2.0, from a worker') or diag explain $res->{error};
$res = $api->insert(table => 'public.notes', columns => ['body'], body => [ { body => 'a-new' } ], claims => claims($ta));
is($res->{status}, 201, 'tenant A writes: 201') or diag explain $res->{error};
$res = $api->get(table => 'public.notes', claims => claims($tb));
is(join(',', map { $_->{body} } @{ JSON::PP->new->decode($res->{rows}[0]{body} // '[]') }), 'b-old', 'tenant B reads only its own row');
my $port_a = citus_shard_port($coord, 'public.notes', $ta);
my $plan = citus_explain_as($api, $ta, q{SELECT * FROM public.notes WHERE id = 1});
like($plan, qr/Task Count: 1\n(?s:.*)port=$port_a /, 'tenant A\'s point read: one task, on its node') or diag $plan;
for my $case ([ '{"qty": 2}', 201 ], [ '{"qty": 20}', 422 ])
{
	$res = $api->insert(table => 'public.orders', columns => ['doc'], body => [ { doc => JSON::PP->new->decode($case->[0]) } ], claims => claims($ta));
	is($res->{status}, $case->[1], "POST /orders $case->[0] against the schema registered under 0.2.0: $case->[1]");
}
is($res->{error}{code} // $res->{error}{sqlstate}, 'LG012', '...the invalid one with LG012, raised on the worker');
is(q_coord(qq{SELECT count(*) FROM public.orders WHERE tenant_id = '$ta'}), '2', '...which stored nothing');

# --- the isolation report
q_coord(q{REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea),
  pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC});
is(q_coord(q{SELECT coalesce(string_agg(problem || ' ' || object_name || ' ' || detail, E'\n'), '') FROM lowcode.isolation_report()
  WHERE severity = 'error' OR problem IN ('shard_not_secured', 'tenant_table_not_distributed', 'tenant_tables_not_colocated', 'registry_not_distributed')}),
	'', 'isolation report on the updated cluster: clean');
$api->disconnect;

$_->stop for @all;
done_testing();
