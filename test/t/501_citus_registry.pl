# Scale-out on Citus (issue 17): the schema registry on every node.  A
# coordinator and two workers on loopback, the real PostgREST in front of the
# coordinator.
#   - a validated table (attach_validation) cannot be distributed, nor a
#     distributed table validated, while the registry is only on the
#     coordinator (LT013, LG015);
#   - lowcode.distribute_registry() (distribute_all() calls it for a
#     superuser when a tenant table is validated): registry_settings, subjects,
#     schema_versions and schema_references become reference tables, with
#     their foreign keys, forced RLS and policies in the Citus form on every
#     placement, the immutability and invalidation triggers on the shards;
#     idempotent; grant_api_role still works on every node afterwards;
#   - rows POSTed through PostgREST into distributed validated tables are
#     validated on the shard, on the worker: 201, or 422 with LG012, the
#     same error list as lowcode.validate() on the coordinator (in the
#     request's language: Accept-Language, the tenant's default locale) and
#     the table's own name; a new version registered on the coordinator is used
#     by the workers' backends at once (their caches are invalidated);
#   - isolation: another tenant cannot validate against the subject (LG002,
#     404, as on one node) and reads none of its rows on the workers, with
#     its own signed context or without one; the isolation report stays clean.
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
my ($coord, @workers) = citus_cluster('c17r', conf => "lowcode.context_secret = '$secret'");

sub q_coord { return $coord->safe_psql('postgres', $_[0]) }

PostgrestHttp->setup_roles($coord);
for my $w (@workers)
{
	citus_worker_login($w);
}
my ($ta, $tb) = map { q_coord("SELECT lowcode.create_tenant('$_')") } qw(acme beta);

# --- without the registry on the workers, validation and distribution do not mix
q_coord(q{
	CREATE TABLE public.orders (id bigserial, doc jsonb);
	SELECT lowcode.make_tenant_table('public.orders');
	ALTER TABLE public.orders ADD PRIMARY KEY (tenant_id, id);
	SELECT lowcode.attach_validation('public.orders', 'doc', 'order');
	CREATE TABLE public.lines (id bigserial, item jsonb);
	SELECT lowcode.distribute('public.lines');
});
my ($rc, $out, $err) = $coord->psql('postgres', q{\set VERBOSITY verbose
	SELECT lowcode.distribute('public.orders')});
like($err, qr/LT013.*public\.orders has a validation trigger and the registry is not on the workers/,
	'distribute() of a validated table before distribute_registry(): LT013');
is(q_coord(q{SELECT lowcode.citus_distribution('public.orders') IS NULL}), 't', '...and the table stays local');
($rc, $out, $err) = $coord->psql('postgres', q{\set VERBOSITY verbose
	SELECT lowcode.attach_validation('public.lines', 'item', 'order')});
like($err, qr/LG015.*lines is a Citus table and the registry is not on the workers/,
	'attach_validation() on a distributed table before distribute_registry(): LG015');

# a validation trigger made by hand on a distributed table: the isolation report names it
q_coord(q{SET citus.enable_unsafe_triggers = on;
  CREATE TRIGGER lowcode_validate_item BEFORE INSERT OR UPDATE OF item ON public.lines FOR EACH ROW
    EXECUTE FUNCTION lowcode.registry_validate_trigger('column', 'item', 'order')});
is(q_coord(q{SELECT string_agg(problem || ' ' || object_name || ' ' || hint, E'\n') FROM lowcode.isolation_report() WHERE problem = 'registry_not_distributed'}),
	'registry_not_distributed public.lines SELECT lowcode.distribute_registry() on the coordinator, as a superuser',
	'isolation report: a distributed table validated by hand while the registry is on the coordinator only');

# --- distribute_registry
($rc, $out, $err) = $coord->psql('postgres', q{SET ROLE lowcode_operator; SELECT lowcode.distribute_registry()});
like($err, qr/permission denied for function distribute_registry/, 'distribute_registry is for superusers only');
($rc, $out, $err) = $coord->psql('postgres', q{\set VERBOSITY verbose
	SET ROLE lowcode_operator; SELECT lowcode.distribute_all()});
like($err, qr/LT013.*public\.orders has a validation trigger and the registry is not on the workers/,
	'distribute_all() by an operator with a validated table: LT013 (the hint names distribute_registry)');
is(q_coord(q{SELECT string_agg(t::text, ',') FROM lowcode.distribute_all() t}),
	'lowcode.registry_settings,lowcode.subjects,lowcode.schema_versions,lowcode.schema_references,orders',
	'distribute_all() by a superuser: the four registry tables become reference tables, then the validated table is distributed');
is(q_coord(q{SELECT count(*) FROM lowcode.distribute_registry()}), '0', 'distribute_registry() is idempotent');
is(q_coord(q{SELECT string_agg(logicalrelid::text || ':' || lowcode.citus_distribution(logicalrelid), ' ' ORDER BY logicalrelid::text)
  FROM pg_dist_partition WHERE logicalrelid::text ~ '^lowcode\.'}),
	'lowcode.registry_settings:reference lowcode.schema_references:reference lowcode.schema_versions:reference lowcode.subjects:reference',
	'only the registry\'s tables are Citus tables');
is(q_coord(q{SELECT string_agg(conrelid::regclass || '->' || confrelid::regclass, ' ' ORDER BY conname) FROM pg_constraint
  WHERE contype = 'f' AND conrelid IN ('lowcode.schema_versions'::regclass, 'lowcode.schema_references'::regclass)}),
	'lowcode.schema_references->lowcode.schema_versions lowcode.schema_versions->lowcode.subjects',
	'the foreign keys between them are back');
is(q_coord(q{SELECT string_agg(polname || ':' || pg_get_expr(polqual, polrelid), ' ' ORDER BY polname) FROM pg_policy
  WHERE polrelid IN ('lowcode.subjects'::regclass, 'lowcode.schema_references'::regclass)}),
	'schema_references_read:(tenant_id = lowcode.current_tenant()) '
	  . 'subjects_read:(tenant_id = ANY (ARRAY[lowcode.current_tenant(), lowcode.registry_global()]))',
	'the registry\'s policies in the form Citus accepts');
for my $w (@workers)
{
	my $local = $w->safe_psql('postgres', q{
		SET citus.show_shards_for_app_name_prefixes = '*';
		SELECT string_agg(substring(c.relname from '^(.*)_[0-9]+$') || ':' || (c.relrowsecurity AND c.relforcerowsecurity)
		         || ':' || (SELECT string_agg(pg_get_expr(p.polqual, p.polrelid), ',') FROM pg_policy p WHERE p.polrelid = c.oid)
		         || ':' || coalesce((SELECT string_agg(substring(t.tgname from '^(.*)_[0-9]+$'), ',' ORDER BY t.tgname) FROM pg_trigger t
		                              WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), ''), ' ' ORDER BY c.relname)
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'lowcode' AND c.relkind = 'r' AND c.relname ~ '^(registry_settings|subjects|schema_versions|schema_references)_[0-9]+$'});
	is($local,
		'registry_settings:true:(tenant_id = ANY (ARRAY[lowcode.current_tenant(), lowcode.registry_global()])): '
		  . 'schema_references:true:(tenant_id = lowcode.current_tenant()): '
		  . 'schema_versions:true:(tenant_id = ANY (ARRAY[lowcode.current_tenant(), lowcode.registry_global()])):registry_changed,schema_versions_immutable '
		  . 'subjects:true:(tenant_id = ANY (ARRAY[lowcode.current_tenant(), lowcode.registry_global()])):registry_changed',
		$w->name . ': a placement of each registry table, forced RLS, the Citus form of the policies, the triggers');
}

is(q_coord(q{SELECT count(*) FROM lowcode.isolation_report() WHERE problem IN ('registry_not_distributed', 'shard_not_secured')}), '0',
	'isolation report: the registry\'s placements are secured, and the validated table is fine now');
my ($reg_shard, $reg_node) = citus_worker_placement($coord, \@workers, 'lowcode.subjects');
my $reg_port = $reg_node->port;
citus_force_rls($reg_node, 'lowcode.subjects', $reg_shard, 0);
like(q_coord(q{SELECT string_agg(problem || ' ' || object_name || ' ' || detail, E'\n') FROM lowcode.isolation_report() WHERE problem = 'shard_not_secured'}),
	qr/^shard_not_secured lowcode\.subjects shard $reg_shard on \S+:$reg_port registry placement without forced row level security/,
	'isolation report: a registry placement whose forced RLS was turned off is found');
citus_force_rls($reg_node, 'lowcode.subjects', $reg_shard, 1);

# an API role granted after the registry became reference tables: on every node
q_coord(q{CREATE ROLE api_later NOLOGIN; SELECT lowcode.grant_api_role('api_later')});
for my $n ($coord, @workers)
{
	is($n->safe_psql('postgres', q{SELECT has_table_privilege('api_later', 'lowcode.subjects', 'SELECT')
	  AND EXISTS (SELECT 1 FROM lowcode.api_roles WHERE role_name = 'api_later')}), 't',
		'grant_api_role after distribute_registry: granted on ' . $n->name);
}

# now both orders work: distribute a validated table (above), validate a distributed one
q_coord(q{SELECT lowcode.attach_validation('public.lines', 'item', 'order')});
is(q_coord(q{SELECT lowcode.citus_distribution('public.orders') || ' ' || lowcode.citus_distribution('public.lines')}),
	'tenant_id tenant_id', 'after distribute_registry(): the validated table is distributed, the distributed one validated');
for my $w (@workers)
{
	is($w->safe_psql('postgres', q{SET citus.show_shards_for_app_name_prefixes = '*';
		SELECT count(*) FILTER (WHERE t.tgname ~ '^lowcode_validate_(doc|item)_[0-9]+$') = count(DISTINCT c.oid) AND count(*) > 0
		  FROM pg_class c LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'lowcode\_validate\_%'
		 WHERE c.relname ~ '^(orders|lines)_[0-9]+$' AND c.relkind = 'r'}), 't',
		$w->name . ': every shard of both tables has the validation trigger');
}
q_coord(q{GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders, public.lines TO authenticated;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated});

# --- through the real PostgREST
# one connection: every request runs in the same coordinator backend, whose
# cached connection to each worker is one worker backend, which keeps its
# compiled versions from one request to the next
my $pg = PostgrestHttp->new(node => $coord, schemas => ['public', 'lowcode'], extra_search_path => ['public', 'lowcode'], pool => 1);
$pg->start;
my %ca = (role => 'authenticated', tenant_id => $ta);
my %cb = (role => 'authenticated', tenant_id => $tb);
my %lowcode = ('Content-Profile' => 'lowcode');
my $v1 = '{"type": "object", "properties": {"qty": {"type": "integer", "maximum": 10}, "sku": {"type": "string", "minLength": 3}}, "required": ["qty"]}';
my $res = $pg->rpc('register_schema', { subject => 'order', schema => JSON::PP->new->decode($v1) }, claims => \%ca, headers => \%lowcode);
is($res->{status}, 200, 'register_schema through PostgREST on the coordinator: 200') or diag $res->{content};
is($res->{content}, '1', '...version 1');
is(join(',', map { $_->safe_psql('postgres', q{SELECT count(*) FROM lowcode.schema_versions}) } @workers), '1,1',
	'the version is on every worker');

my ($holder) = grep { $_->port == citus_shard_port($coord, 'public.orders', $ta) } @workers;
ok($holder, "tenant A's shard of orders is on a worker (" . ($holder ? $holder->name : 'none') . ')');

$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 3, sku => 'abc' } },
	headers => { Prefer => 'return=representation' });
is($res->{status}, 201, 'POST of a valid row into the distributed validated table: 201') or diag $res->{content};
is($res->{body}[0]{doc}{qty}, 3, '...the row as stored');
my $shard_a = q_coord(qq{SELECT get_shard_id_for_distribution_column('public.orders', '$ta')});
is($holder->safe_psql('postgres', qq{SELECT count(*) FROM public.orders_$shard_a WHERE tenant_id = '$ta'}), '1',
	'...stored in the tenant\'s shard on ' . $holder->name);

my $invalid = { qty => 30, sku => 'x' };
$res = $pg->post('/orders', claims => \%ca, body => { doc => $invalid });
is($res->{status}, 422, 'POST of an invalid row: 422') or diag $res->{content};
is($res->{body}{code}, 'LG012', '...code LG012');
is($res->{body}{message}, 'column doc of orders is not valid for subject order version 1',
	'...the message names the table, not its shard');
my $details = JSON::PP->new->decode($res->{body}{details} // '[]');
is(join(' ', map { "$_->{instancePath}:$_->{keyword}" } @$details), '/qty:maximum /sku:minLength', '...the fields and keywords');
sub coordinator_errors { return citus_coordinator_errors($coord, $_[0], 'order', $_[1], $_[2]) }
is_deeply($details, coordinator_errors($ta, $invalid), '...exactly the errors lowcode.validate() gives on the coordinator');
# messages in the request's language: its Accept-Language, else the tenant's default locale, which only
# the coordinator knows (pre_request() forwards its choice)
$res = $pg->post('/orders', claims => \%ca, body => { doc => $invalid }, headers => { 'Accept-Language' => 'fr' });
$details = JSON::PP->new->decode($res->{body}{details} // '[]');
is_deeply($details, coordinator_errors($ta, $invalid, { 'accept-language' => 'fr' }),
	'Accept-Language: fr: the errors of the coordinator, in French');
isnt($details->[0]{message}, 'must be <= 10', '...which are not the English ones');
q_coord(qq{SELECT lowcode.set_tenant_locale('$ta', 'de')});
$res = $pg->post('/orders', claims => \%ca, body => { doc => $invalid });
$details = JSON::PP->new->decode($res->{body}{details} // '[]');
is_deeply($details, coordinator_errors($ta, $invalid), 'the tenant\'s default locale (de): the errors of the coordinator, in German');
isnt($details->[0]{message}, 'must be <= 10', '...which are not the English ones');
q_coord(qq{SELECT lowcode.set_tenant_locale('$ta', NULL)});
is(q_coord(qq{SELECT count(*) FROM public.orders WHERE tenant_id = '$ta'}), '1', '...and the invalid row was not stored');

# the other table, validated after it was distributed
$res = $pg->post('/lines', claims => \%ca, body => [ { item => { qty => 1 } }, { item => { qty => 11 } } ]);
is($res->{status}, 422, 'POST of two rows, one invalid, into the table validated after distribution: 422');
is($res->{body}{message}, 'column item of lines is not valid for subject order version 1', '...for the invalid one');
is(q_coord(q{SELECT count(*) FROM public.lines}), '0', '...and nothing stored');

# a new version on the coordinator is used on the shards at once (the same
# pooled PostgREST connections, the same cached worker connections)
my $v2 = '{"type": "object", "properties": {"qty": {"type": "integer", "maximum": 100}, "sku": {"type": "string", "minLength": 3}}, "required": ["qty"]}';
$res = $pg->rpc('register_schema', { subject => 'order', schema => JSON::PP->new->decode($v2) }, claims => \%ca, headers => \%lowcode);
is($res->{content}, '2', 'version 2 registered on the coordinator') or diag $res->{content};
$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 30 } });
is($res->{status}, 201, 'a row valid only under version 2: 201 (the workers use the new version)') or diag $res->{content};
$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 300 } });
is($res->{status} . ' ' . ($res->{body}{message} // ''), '422 column doc of orders is not valid for subject order version 2',
	'a row invalid under version 2: 422, naming version 2');
$res = $pg->rpc('set_schema_state', { subject => 'order', version => 2, state => 'disabled' }, claims => \%ca, headers => \%lowcode);
is($res->{status}, 204, 'version 2 disabled on the coordinator') or diag $res->{content};
$res = $pg->post('/orders', claims => \%ca, body => { doc => { qty => 30 } });
is($res->{status} . ' ' . ($res->{body}{message} // ''), '422 column doc of orders is not valid for subject order version 1',
	'...the workers validate against version 1 again');

# submissions stay on the coordinator and see the same registry
$res = $pg->rpc('submit', { subject => 'order', data => { qty => 3 } }, claims => \%ca, headers => \%lowcode);
is($res->{status}, 200, 'submit() on the coordinator against the reference tables: 200') or diag $res->{content};
$res = $pg->rpc('submit', { subject => 'order', data => { qty => 30 } }, claims => \%ca, headers => \%lowcode);
is($res->{status}, 422, '...and 422 for invalid data');

# --- isolation
my ($holder_b) = grep { $_->port == citus_shard_port($coord, 'public.orders', $tb) } @workers;
$res = $pg->post('/orders', claims => \%cb, body => { doc => { qty => 3 } });
is($res->{status} . ' ' . ($res->{body}{code} // ''), '404 LG002',
	'tenant B validating against A\'s subject on its shard: 404 LG002, as on one node') or diag $res->{content};
$res = $pg->get('/forms', claims => \%cb, headers => { 'Accept-Profile' => 'lowcode' });
is($res->{content}, '[]', 'tenant B lists no forms');
$res = $pg->get('/forms?select=subject,latest_version', claims => \%ca, headers => { 'Accept-Profile' => 'lowcode' });
is($res->{content}, '[{"subject":"order","latest_version":1}]', 'tenant A lists its form');
$pg->stop;

# the registry on the workers, as the API role, with each tenant's signed context
my $api = PostgrestReplay->new(node => $coord, pool_size => 1, schemas => ['public']);
my %ctx;
for my $t ($ta, $tb)
{
	my $r = $api->request(method => 'GET', claims => { role => 'authenticated', tenant_id => $t },
		sql => q{select current_setting('lowcode.context') AS ctx});
	$ctx{$t} = $r->{rows}[0]{ctx};
}
$api->disconnect;
my $count_sql = q{SELECT (SELECT count(*) FROM lowcode.subjects) || ' ' || (SELECT count(*) FROM lowcode.schema_versions)
  || ' ' || (SELECT count(*) FROM lowcode.schema_references) || ' ' || (SELECT count(*) FROM lowcode.form_versions)};
for my $w (@workers)
{
	my $as = sub {
		my ($ctx) = @_;
		my ($r, $o, $e) = $w->psql('postgres', (defined $ctx ? "SET lowcode.context = '$ctx';" : '') . $count_sql,
			extra_params => [ '-U', 'authenticated' ]);
		return $e ? "ERROR $e" : $o;
	};
	is($as->($ctx{$ta}), '1 2 0 2', $w->name . ': tenant A\'s context reads its subject and versions');
	is($as->($ctx{$tb}), '0 0 0 0', $w->name . ': tenant B\'s context reads none of them');
	is($as->(undef), '0 0 0 0', $w->name . ': without a context, none either');
}
is($holder_b->safe_psql('postgres', q{SELECT count(*) FROM lowcode.subjects}), '1', '(a superuser on the worker sees the row)');

# a global subject (the operator's) is visible to every tenant on the shards
q_coord(q{BEGIN; SET LOCAL lowcode.registry_scope = global;
  SELECT lowcode.register_schema('common.line', '{"type": "object", "required": ["qty"]}'); COMMIT;});
$pg->start;
q_coord(q{CREATE TABLE public.gl (id bigserial, item jsonb); SELECT lowcode.make_tenant_table('public.gl');
  ALTER TABLE public.gl ADD PRIMARY KEY (tenant_id, id); SELECT lowcode.distribute('public.gl');
  SELECT lowcode.attach_validation('public.gl', 'item', 'common.line');
  GRANT SELECT, INSERT ON public.gl TO authenticated; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated;
  NOTIFY pgrst, 'reload schema'});
$pg->reload_schema;
for my $case ([ 'A', \%ca ], [ 'B', \%cb ])
{
	my ($name, $claims) = @$case;
	is($pg->post('/gl', claims => $claims, body => { item => { qty => 1 } })->{status}, 201, "tenant $name: valid against the global subject: 201");
	is($pg->post('/gl', claims => $claims, body => { item => {} })->{status}, 422, "tenant $name: invalid: 422");
}
$pg->stop;

# --- the isolation report is clean (after the one fix it asks of this test's roles)
q_coord(q{REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea),
  pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC});
is(q_coord(q{SELECT coalesce(string_agg(problem || ' ' || object_name || ' ' || detail, E'\n'), '') FROM lowcode.isolation_report()
  WHERE severity = 'error' OR problem IN ('shard_not_secured', 'tenant_table_not_distributed', 'tenant_tables_not_colocated')}),
	'', 'isolation report: no error, nothing to say about the distributed tables');

$_->stop for ($coord, @workers);
done_testing();
