# Scale-out on Citus (issue 17): a worker added to a running cluster.  A
# coordinator and two workers on loopback with the registry distributed
# (distribute_all), validated and plain tenant tables, the real PostgREST in
# front of the coordinator; then a third worker:
#   - citus_add_node gives it pg_lowcode and the roles, but not what
#     docs/scale-out.md's "Adding a worker" makes it: the request roles'
#     LOGIN there, the registry's placements (replicate_reference_tables:
#     a shard move refuses to run without them), the API role's grants and
#     its row in that worker's lowcode.api_roles (grant_api_role again);
#   - a tenant's shard group moved there (citus_move_shard_placement,
#     block_writes) keeps forced RLS, the policies and the quota and
#     validation triggers on its shards;
#   - through PostgREST the tenant reads and writes its rows on the new
#     worker (EXPLAIN: one task, on the new node), its rows are validated
#     there against the registry's new placement with the same 422 LG012 and
#     error list as lowcode.validate() on the coordinator, a version
#     registered later is used there at once; the other tenant is untouched;
#   - the API role logs in there with a tenant's signed context and reads
#     that tenant's registry rows only; with citus.select_opens_transaction_block
#     off the context does not reach the worker and the tenant reads no rows;
#   - a version registered in a transaction is not seen by a validation on a
#     worker in that transaction (LG002), only after it commits;
#   - the isolation report is clean and checks the new placements (a shard
#     or a registry placement on the new node with its forced RLS turned off
#     is named);
#   - a registry read on the coordinator after the transaction connected to
#     the coordinator's own placement (EXPLAIN ANALYZE): validate(), submit()
#     and the forms view still work (registry_lookup made no nested
#     distributed query there).
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use LowcodeCitus;
use PostgrestHttp;
use PostgrestReplay;

plan skip_all => 'Citus is not built into this PostgreSQL (scripts/build-citus.sh; scripts/test.sh builds it)'
  unless citus_available();
plan skip_all => 'no PostgREST binary (LOWCODE_SHARED/bin/postgrest, LOWCODE_POSTGREST or postgrest on the PATH)'
  unless PostgrestHttp::binary();

my $secret = 'tap-secret-' . int(rand(1e9));
my $conf = "lowcode.context_secret = '$secret'";
my ($coord, @workers) = citus_cluster('c17t', conf => $conf);

sub q_coord { return $coord->safe_psql('postgres', $_[0]) }

# replicate_reference_tables() connects to the coordinator itself, by
# citus.local_hostname (localhost over TCP by default): these nodes listen on
# their Unix socket directory only.
q_coord(sprintf(q{ALTER SYSTEM SET citus.local_hostname = '%s'; SELECT pg_reload_conf()}, $coord->host));

PostgrestHttp->setup_roles($coord);
citus_worker_login($_) for @workers;
my ($ta, $tb) = map { q_coord("SELECT lowcode.create_tenant('$_')") } qw(acme beta);
q_coord(q{
	CREATE TABLE public.orders (id bigserial, doc jsonb);
	SELECT lowcode.make_tenant_table('public.orders');
	ALTER TABLE public.orders ADD PRIMARY KEY (tenant_id, id);
	SELECT lowcode.attach_validation('public.orders', 'doc', 'order');
	CREATE TABLE public.notes (id bigserial, body text);
	SELECT lowcode.make_tenant_table('public.notes');
	ALTER TABLE public.notes ADD PRIMARY KEY (tenant_id, id);
	SELECT count(*) FROM lowcode.distribute_all();
	GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders, public.notes TO authenticated;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated;
});

my $pg = PostgrestHttp->new(node => $coord, schemas => ['public', 'lowcode'], extra_search_path => ['public', 'lowcode'], pool => 1);
$pg->start;
my %ca = (role => 'authenticated', tenant_id => $ta);
my %cb = (role => 'authenticated', tenant_id => $tb);
my %lowcode = ('Content-Profile' => 'lowcode');
my $v1 = { type => 'object', properties => { qty => { type => 'integer', maximum => 10 }, sku => { type => 'string', minLength => 3 } },
	required => ['qty'] };
my $res = $pg->rpc('register_schema', { subject => 'order', schema => $v1 }, claims => \%ca, headers => \%lowcode);
is($res->{content}, '1', 'register_schema through PostgREST: version 1') or diag $res->{content};
for my $case ([ \%ca, 'a1' ], [ \%cb, 'b1' ])
{
	$res = $pg->post('/notes', claims => $case->[0], body => { body => $case->[1] });
	is($res->{status}, 201, "POST /notes ($case->[1]) before the new worker: 201") or diag $res->{content};
}
is($pg->post('/orders', claims => \%ca, body => { doc => { qty => 1 } })->{status}, 201, 'POST /orders (valid) before the new worker: 201');

# --- the third worker
my $w3 = citus_node('c17t_w3', conf => $conf);
q_coord(sprintf(q{SELECT citus_add_node('%s', %d)}, $w3->host, $w3->port));
is($w3->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_lowcode'}),
	q_coord(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_lowcode'}),
	'citus_add_node: the new worker has pg_lowcode, at the coordinator\'s version');
# what citus_add_node does not do (docs/scale-out.md, "Adding a worker")
is($w3->safe_psql('postgres', q{SELECT rolcanlogin FROM pg_roles WHERE rolname = 'authenticated'}), 'f',
	'...the API role exists there, NOLOGIN as on the coordinator');
is($w3->safe_psql('postgres', q{SELECT count(*) || ' ' || has_table_privilege('authenticated', 'lowcode.tenants', 'SELECT')
  FROM lowcode.api_roles}), '0 false', '...and neither grant_api_role\'s grants nor its row in lowcode.api_roles');
is(q_coord(sprintf(q{SELECT count(*) FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = %d}, $w3->port)), '0',
	'...nor placements of the registry\'s reference tables');
my $shard_a = q_coord(qq{SELECT get_shard_id_for_distribution_column('public.orders', '$ta')});
my $from_port = citus_shard_port($coord, 'public.orders', $ta);
my ($from) = grep { $_->port == $from_port } @workers;
my $move = sprintf(q{SELECT citus_move_shard_placement(%s, '%s', %d, '%s', %d, shard_transfer_mode => 'block_writes')},
	$shard_a, $from->host, $from->port, $w3->host, $w3->port);
my ($rc, $out, $err) = $coord->psql('postgres', $move);
like($err, qr/there are missing reference tables on some nodes/, 'a shard move to it before replicate_reference_tables() is refused');

# the steps of docs/scale-out.md
citus_worker_login($w3);
q_coord(q{SELECT replicate_reference_tables('block_writes')});
is(q_coord(q{SELECT count(*) FROM lowcode.distribute_registry()}), '0', 'distribute_registry() again: nothing to distribute');
q_coord(q{SELECT lowcode.grant_api_role(role_name) FROM lowcode.api_roles});
is(q_coord(sprintf(q{SELECT string_agg(s.logicalrelid::text, ' ' ORDER BY s.logicalrelid::text)
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = %d}, $w3->port)),
	'lowcode.registry_settings lowcode.schema_references lowcode.schema_versions lowcode.subjects',
	'replicate_reference_tables(): the registry\'s four tables have a placement on the new worker');
is($w3->safe_psql('postgres', q{SELECT string_agg(role_name, ',') || ' ' || has_table_privilege('authenticated', 'lowcode.tenants', 'SELECT')
  || ' ' || has_table_privilege('authenticated', 'lowcode.subjects', 'SELECT') FROM lowcode.api_roles}), 'authenticated true true',
	'grant_api_role for each API role on the coordinator: granted on the new worker, which lists the role');
is($w3->safe_psql('postgres', q{SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'lowcode.subjects'::regclass}),
	'(tenant_id = ANY (ARRAY[lowcode.current_tenant(), lowcode.registry_global()]))',
	'distribute_registry(): the new worker\'s copy of subjects has the policy in the Citus form');

# tenant A's shard group to the new worker
q_coord($move);
is(citus_shard_port($coord, 'public.orders', $ta) . ' ' . citus_shard_port($coord, 'public.notes', $ta), $w3->port . ' ' . $w3->port,
	'citus_move_shard_placement: tenant A\'s shards of both co-located tables are on the new worker');
my $shard_notes_a = q_coord(qq{SELECT get_shard_id_for_distribution_column('public.notes', '$ta')});
is($w3->safe_psql('postgres', qq{SET citus.show_shards_for_app_name_prefixes = '*';
	SELECT string_agg(c.relname || ':' || (c.relrowsecurity AND c.relforcerowsecurity) || ':'
	         || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname LIKE 'lowcode_tenant_%') || ':'
	         || (SELECT string_agg(regexp_replace(t.tgname, '_[0-9]+\$', ''), ',' ORDER BY t.tgname) FROM pg_trigger t
	              WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), ' ' ORDER BY c.relname)
	  FROM pg_class c WHERE c.relname IN ('orders_$shard_a', 'notes_$shard_notes_a')}),
	"notes_$shard_notes_a:true:4:lowcode_quota,lowcode_quota_truncate orders_$shard_a:true:4:lowcode_quota,lowcode_quota_truncate,lowcode_validate_doc",
	'the moved shards keep forced RLS, the four policies, the quota and validation triggers');
isnt(citus_shard_port($coord, 'public.notes', $tb), $w3->port, 'tenant B\'s shards stay where they were');

# --- requests of the moved tenant, through PostgREST
$res = $pg->get('/notes?select=body', claims => \%ca);
is($res->{content}, '[{"body":"a1"}]', 'GET /notes as tenant A: its row, read on the new worker') or diag $res->{content};
$res = $pg->get('/notes?select=body', claims => \%cb);
is($res->{content}, '[{"body":"b1"}]', 'GET /notes as tenant B: its own row only');
$res = $pg->post('/notes', claims => \%ca, body => { body => 'a2' });
is($res->{status}, 201, 'POST /notes as tenant A: 201') or diag $res->{content};
is($w3->safe_psql('postgres', qq{SELECT string_agg(body, ',' ORDER BY body) FROM public.notes_$shard_notes_a WHERE tenant_id = '$ta'}), 'a1,a2',
	'...stored in its shard on the new worker');
$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 3, sku => 'abc' } });
is($res->{status}, 201, 'POST /orders of a valid row: 201, validated on the new worker') or diag $res->{content};
my $invalid = { qty => 30, sku => 'x' };
$res = $pg->post('/orders', claims => \%ca, body => { doc => $invalid });
is($res->{status} . ' ' . ($res->{body}{code} // ''), '422 LG012', 'POST /orders of an invalid row: 422 LG012') or diag $res->{content};
is($res->{body}{message}, 'column doc of orders is not valid for subject order version 1', '...the message names the table and version');
is_deeply(JSON::PP->new->decode($res->{body}{details} // '[]'), citus_coordinator_errors($coord, $ta, 'order', $invalid),
	'...exactly the errors lowcode.validate() gives on the coordinator');
is(q_coord(qq{SELECT count(*) FROM public.orders WHERE tenant_id = '$ta'}), '2', '...and the invalid row was not stored');
# a new version on the coordinator reaches the new worker's placement and its backends' caches
my $v2 = { %$v1, properties => { %{ $v1->{properties} }, qty => { type => 'integer', maximum => 100 } } };
$res = $pg->rpc('register_schema', { subject => 'order', schema => $v2 }, claims => \%ca, headers => \%lowcode);
is($res->{content}, '2', 'version 2 registered on the coordinator') or diag $res->{content};
$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 30 } });
is($res->{status}, 201, 'a row valid only under version 2: 201 on the new worker') or diag $res->{content};
$res = $pg->post('/orders', claims => \%cb, body => { doc => { qty => 3 } });
is($res->{status} . ' ' . ($res->{body}{code} // ''), '404 LG002', 'tenant B validating against A\'s subject: 404 LG002');
$pg->stop;

# the plans: tenant A's requests go to the new worker, one task
my $api = PostgrestReplay->new(node => $coord, pool_size => 1, schemas => ['public']);
my $w3_port = $w3->port;
for my $case ([ 'point read', q{SELECT * FROM public.notes WHERE id = 1} ], [ 'update', q{UPDATE public.notes SET body = body WHERE id = 1} ],
	[ 'insert', q{INSERT INTO public.orders (doc) VALUES ('{"qty": 1}')} ])
{
	my ($label, $sql) = @$case;
	my $plan = citus_explain_as($api, $ta, $sql, write => $label eq 'insert');
	like($plan, qr/Task Count: 1\n/, "tenant A's $label: one task") or diag $plan;
	like($plan, qr/port=$w3_port /, "...on the new worker");
}
unlike(citus_explain_as($api, $tb, q{SELECT * FROM public.notes WHERE id = 1}), qr/port=$w3_port /,
	'tenant B\'s point read does not go to the new worker');

# citus.select_opens_transaction_block = off would save two of the three
# round trips, but Citus then sends no BEGIN, so none of the SET LOCALs: the
# worker has no context and the tenant reads nothing (docs/scale-out.md,
# Limits).  Not another tenant's rows either: it fails closed.
for my $on (1, 0)
{
	my $r = $api->request(method => 'GET', claims => \%ca,
		code => sub {
			my ($dbh) = @_;
			$dbh->do('SET LOCAL citus.select_opens_transaction_block = ' . ($on ? 'on' : 'off')) or return undef;
			return $dbh->selectall_arrayref(q{SELECT coalesce(string_agg(body, ',' ORDER BY body), '') AS b FROM public.notes}, { Slice => {} });
		});
	is($r->{rows}[0]{b} // 'ERROR', $on ? 'a1,a2' : '', 'citus.select_opens_transaction_block = ' . ($on ? 'on' : 'off')
	  . ': ' . ($on ? 'tenant A reads its rows' : 'no context on the worker, no rows')) or diag explain $r->{error};
}

# A limit (docs/scale-out.md, Limits): a version registered in a transaction
# is not seen by a validation trigger on a worker in the same transaction (the
# shard's connection is not the one that wrote the reference placement); once
# committed, it is.
q_coord(q{CREATE TABLE public.later (id bigserial, doc jsonb); SELECT lowcode.make_tenant_table('public.later');
  ALTER TABLE public.later ADD PRIMARY KEY (tenant_id, id); SELECT lowcode.attach_validation('public.later', 'doc', 'later');
  SELECT lowcode.distribute('public.later'); GRANT SELECT, INSERT ON public.later TO authenticated;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated});
my $later = sub {
	my ($register) = @_;
	my $r = $api->request(method => 'POST', path => '/later', claims => \%ca, read_only => 0,
		code => sub {
			my ($dbh) = @_;
			$dbh->do(q{SELECT lowcode.register_schema('later', '{"type": "object"}')}) or return undef if $register;
			return $dbh->selectall_arrayref(q{INSERT INTO public.later (doc) VALUES ('{}') RETURNING id}, { Slice => {} });
		});
	return $r->{error} ? ($r->{error}{code} // $r->{error}{sqlstate}) : 'stored';
};
is($later->(1), 'LG002', 'a version registered in the same transaction: not found on the worker (LG002)');
is(q_coord(q{SELECT count(*) FROM lowcode.subjects WHERE name = 'later'}), '0', '...and the transaction rolled back');
$api->request(method => 'POST', path => '/rpc/register_schema', claims => \%ca, read_only => 0,
	sql => q{select lowcode.register_schema('later', '{"type": "object"}')});
is($later->(0), 'stored', 'registered in an earlier request: the worker validates against it');

# the API role on the new worker, with each tenant's signed context
my %ctx;
for my $t ($ta, $tb)
{
	my $r = $api->request(method => 'GET', claims => { role => 'authenticated', tenant_id => $t },
		sql => q{select current_setting('lowcode.context') AS ctx});
	$ctx{$t} = $r->{rows}[0]{ctx};
}
my $count_sql = q{SELECT (SELECT count(*) FROM lowcode.subjects) || ' ' || (SELECT count(*) FROM lowcode.schema_versions)};
for my $case ([ 'tenant A', $ctx{$ta}, '2 3' ], [ 'tenant B', $ctx{$tb}, '0 0' ])
{
	($rc, $out, $err) = $w3->psql('postgres', "SET lowcode.context = '$case->[1]'; $count_sql", extra_params => [ '-U', 'authenticated' ]);
	is($err ? "ERROR $err" : $out, $case->[2], "the API role logs in to the new worker: $case->[0]'s context reads its registry rows only");
}

# --- the isolation report covers the new placements
q_coord(q{REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea),
  pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC});
my $report = q{SELECT coalesce(string_agg(problem || ' ' || object_name || ' ' || detail, E'\n'), '') FROM lowcode.isolation_report()
  WHERE severity = 'error' OR problem IN ('shard_not_secured', 'tenant_table_not_distributed', 'tenant_tables_not_colocated', 'registry_not_distributed')};
is(q_coord($report), '', 'isolation report after the move: clean');
for my $case ([ 'public.notes', $shard_notes_a, 'shard placement' ],
	[ 'lowcode.subjects', q_coord(qq{SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'lowcode.subjects'::regclass}), 'registry placement' ])
{
	my ($table, $shard, $what) = @$case;
	citus_force_rls($w3, $table, $shard, 0);
	like(q_coord($report), qr/^shard_not_secured \Q$table\E shard $shard on \S+:$w3_port $what without forced row level security: /,
		"isolation report: the new worker's $what of $table without forced RLS is found");
	citus_force_rls($w3, $table, $shard, 1);
}
is(q_coord($report), '', '...and it is clean again');

# --- a registry read on the coordinator after the transaction connected to
# the coordinator's own placement: Citus runs the read over that connection
# then, and refused a function in it that reads a Citus table
# (registry_lookup's call of registry_owner, "cannot execute a distributed
# query from a query on a shard")
$res = $api->request(method => 'POST', path => '/rpc/validate', claims => \%ca, read_only => 0,
	code => sub {
		my ($dbh) = @_;
		$dbh->do(q{EXPLAIN ANALYZE SELECT * FROM lowcode.subjects}) or return undef;
		my @out;
		for my $sql (q{SELECT (lowcode.validate('order', '{"qty": 3}') ->> 'valid') AS r},
			q{SELECT (lowcode.validate('order', '{"qty": 300}') -> 'errors' -> 0 ->> 'keyword') AS r},
			q{SELECT (lowcode.submit('order', '{"qty": 4}') IS NOT NULL)::text AS r},
			q{SELECT string_agg(subject || ':' || latest_version, ',' ORDER BY subject) AS r FROM lowcode.forms})
		{
			my $rows = $dbh->selectall_arrayref($sql, { Slice => {} }) or return undef;
			push @out, $rows->[0];
		}
		return \@out;
	});
is(join(' ', map { $_->{r} // 'NULL' } @{ $res->{rows} // [] }), 'true maximum true later:1,order:2',
	'after EXPLAIN ANALYZE of a registry table: validate(), submit() and the forms view read the registry')
  or diag explain $res->{error};
$api->disconnect;

$_->stop for ($coord, @workers, $w3);
done_testing();
