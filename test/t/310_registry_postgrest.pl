# The registry through PostgREST (replayed with PostgrestReplay): the
# functions and views a low-code front end uses, their HTTP errors (404, 409,
# 422 with the structured error list), and tenant isolation of every registry
# table, view and function on pooled connections shared by tenants.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;
use PostgrestReplay;


my $node = lowcode_node('registry_postgrest');
PostgrestReplay->setup_roles($node);
my $json = JSON::PP->new->utf8->canonical;

# enterprise tier: the test's burst of requests stays under the tier's rate limit
my ($a, $b) = map { $node->safe_psql('postgres', "SELECT lowcode.create_tenant('$_', NULL, 'enterprise')") } qw(reg-a reg-b);
my %claims = (
	a => { role => 'authenticated', tenant_id => $a, sub => 'alice' },
	b => { role => 'authenticated', tenant_id => $b, sub => 'bob' });

# a global subject, registered by the operator on purpose (lowcode.registry_scope)
$node->safe_psql('postgres', q{SET lowcode.registry_scope = global; SELECT lowcode.register_schema('common.address',
	'{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}')});

my $api = PostgrestReplay->new(node => $node, pool_size => 2);

# POST /rpc/fn with the jsonb arguments (given here as JSON text) sent as
# JSON; GET only for calls without jsonb arguments: PostgREST passes query-string
# arguments as text, so a jsonb one would arrive as a JSON string.
sub rpc
{
	my ($who, $fn, $args, %o) = @_;
	my %a = %$args;
	my $jsonb = 0;
	for my $k (grep { /^(?:schema|instance|data)$/ } keys %a)
	{
		$a{$k} = JSON::PP->new->allow_nonref->decode($a{$k}) unless ref $a{$k};
		$jsonb = 1;
	}
	$o{method} = 'POST' if $jsonb;
	return $api->rpc(function => "lowcode.$fn", args => \%a, claims => $claims{$who}, %o);
}
sub body { my ($res) = @_; return PostgrestReplay::body($res); }
sub scalar_of
{
	my ($res) = @_;
	my $row = $res->{rows}[0] // {};
	return defined $row->{body} ? JSON::PP->new->allow_nonref->decode($row->{body}) : undef;
}

my $form = leave_form();

# --- register, fetch, list
my $res = rpc('a', 'register_schema', { subject => 'leave', schema => $json->encode($form), description => 'Leave request' },
	headers => { traceparent => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
is($res->{status}, 200, 'tenant a registers a form (POST /rpc: 200)') or diag explain $res->{error};
is(scalar_of($res), 1, '...as version 1');
$res = rpc('a', 'get_schema', { subject => 'leave' }, method => 'GET');
is($res->{status}, 200, 'GET /rpc/get_schema');
is(scalar_of($res)->{'x-rules'}[0]{path}, '/end_date', '...returns the schema');
$res = $api->get(table => 'lowcode.forms', claims => $claims{a});
is_deeply([ sort map { "$_->{subject}:$_->{latest_version}:" . ($_->{global} ? 'global' : 'own') } @{ body($res) } ],
	[ 'common.address:1:global', 'leave:1:own' ], 'GET /forms: own forms and global ones with their latest versions');
$res = $api->get(table => 'lowcode.forms', claims => $claims{b});
is_deeply([ map { $_->{subject} } @{ body($res) } ], ['common.address'], 'tenant b lists only the global form');

# --- validate, with x-rules in the same error list
$res = rpc('a', 'validate', { subject => 'leave',
	instance => '{"name": "", "start_date": "2026-05-02", "end_date": "2026-05-01", "address": {}}' }, method => 'GET');
is($res->{status}, 200, 'POST /rpc/validate');
my $v = scalar_of($res);
ok(!$v->{valid}, '...invalid');
is_deeply([ sort map { "$_->{instancePath} $_->{keyword}" } @{ $v->{errors} } ],
	[ '/address required', '/end_date x-rules', '/name minLength' ], '...every error, with its field');

# --- compatibility: 409 with the list of incompatible changes
my %v2 = %$form;
$v2{required} = [ 'name', 'start_date', 'end_date', 'reason' ];
$v2{properties} = { %{ $form->{properties} }, reason => { type => 'string' } };
$res = rpc('a', 'check_compatibility', { subject => 'leave', schema => $json->encode(\%v2) }, method => 'GET');
my $report = scalar_of($res);
ok(!$report->{compatible}, 'check_compatibility reports the change as incompatible');
is($report->{mode}, 'BACKWARD', '...under the default mode');
$res = rpc('a', 'register_schema', { subject => 'leave', schema => $json->encode(\%v2) });
is($res->{status}, 409, 'registering it answers 409');
is($res->{error}{code}, 'LG004', '...code LG004');
my $changes = decode_json($res->{error}{details});
is_deeply([ map { "$_->{type} $_->{path} v$_->{against_version}" } @$changes ],
	[ 'required_property_added /properties/reason v1' ], '...details list the incompatible changes');
$v2{required} = [ 'name', 'start_date', 'end_date' ];
$res = rpc('a', 'register_schema', { subject => 'leave', schema => $json->encode(\%v2) });
is(scalar_of($res), 2, 'the compatible variant registers as version 2');

# --- submissions: 201 / 422
$res = rpc('a', 'submit', { subject => 'leave', data => '{"name": "Ann", "start_date": "2026-05-01", "end_date": "2026-05-03"}' });
is($res->{status}, 200, 'POST /rpc/submit: 200');
is(scalar_of($res)->{version}, 2, '...pinned to the latest version');
$res = $api->insert(table => 'lowcode.submissions', columns => [qw(subject version data)], claims => $claims{a},
	body => [ { subject => 'leave', version => 1, data => { name => 'Bob', start_date => '2026-06-01', end_date => '2026-06-02' } } ]);
is($res->{status}, 201, 'POST /submissions') or diag explain $res->{error};
is(body($res)->[0]{version}, 1, '...pinned to the version asked for');
$res = $api->insert(table => 'lowcode.submissions', columns => [qw(subject data)], claims => $claims{a},
	body => [ { subject => 'leave', data => { name => 'Cy', start_date => '2026-06-05', end_date => '2026-06-01', extra => 1 } } ]);
is($res->{status}, 422, 'invalid data answers 422');
is($res->{error}{code}, 'LG012', '...code LG012');
is_deeply([ sort map { "$_->{instancePath} $_->{keyword}" } @{ decode_json($res->{error}{details}) } ],
	[ ' additionalProperties', '/end_date x-rules' ], '...details carry every error with its field');
$res = $api->get(table => 'lowcode.submissions', claims => $claims{a});
is(scalar @{ body($res) }, 2, 'GET /submissions: tenant a has its 2 submissions');
is(body($res)->[0]{created_by}, 'alice', '...created by the JWT subject');

# --- audit, events, trace ids
$res = $api->get(table => 'lowcode.registry_audit', claims => $claims{a});
my @audit = @{ body($res) };
ok(scalar(@audit) >= 4, 'tenant a reads its audit rows');
is($audit[0]{actor_role}, 'authenticated', '...acting role');
is($audit[0]{actor_sub}, 'alice', '...end user');
is($audit[0]{trace_id}, '0af7651916cd43dd8448eb211c80319c', '...trace id from traceparent');
$res = $api->get(table => 'lowcode.events', where => q{type LIKE 'registry.%'}, claims => $claims{a});
is_deeply([ map { $_->{type} } @{ body($res) } ],
	[ qw(registry.schema_registered registry.schema_registered registry.submission_created registry.submission_created) ],
	'events of every change and submission');

# --- tenant b: a's subject is exactly a missing subject
for my $case (
	[ 'get_schema', { subject => 'leave' }, { subject => 'leavx' } ],
	[ 'validate', { subject => 'leave', instance => '{}' }, { subject => 'leavx', instance => '{}' } ],
	[ 'submit', { subject => 'leave', data => '{}' }, { subject => 'leavx', data => '{}' } ],
	[ 'deprecate_schema', { subject => 'leave', version => 1 }, { subject => 'leavx', version => 1 } ],
	[ 'delete_schema', { subject => 'leave', version => 1 }, { subject => 'leavx', version => 1 } ],
	[ 'set_schema_state', { subject => 'leave', version => 1, state => 'disabled' },
	  { subject => 'leavx', version => 1, state => 'disabled' } ],
	[ 'registry_validation_target', { subject => 'leave', requested => undef }, { subject => 'leavx', requested => undef } ])
{
	my ($fn, $theirs, $missing) = @$case;
	my $r1 = rpc('b', $fn, $theirs);
	my $r2 = rpc('b', $fn, $missing);
	is($r1->{error}{sqlstate}, 'PGRST', "b: $fn of a's subject raises the registry's error");
	is($r1->{status}, 404, "b: $fn of a's subject answers 404");
	(my $m1 = $r1->{error}{message} // '') =~ s/leave/X/;
	(my $m2 = $r2->{error}{message} // '') =~ s/leavx/X/;
	is("$r1->{status} $r1->{error}{code} $m1", "$r2->{status} $r2->{error}{code} $m2", "...exactly like a missing subject");
}
$res = rpc('b', 'registry_load_document', { uri => 'lowcode:leave' }, method => 'GET');
is($res->{status}, 200, 'b asks the document store loader for a\'s subject...');
is(scalar_of($res), undef, '...and gets nothing, as for a missing subject');
$res = rpc('b', 'validate', { subject => 'survey-x', instance => '{}', version => 1 }, method => 'GET');
is($res->{status}, 404, 'b validating a missing subject by version: 404');
$res = rpc('b', 'register_schema', { subject => 'b-form', schema => '{"$ref": "lowcode:leave"}' });
is($res->{status}, 422, 'b cannot reference a\'s subject...');
like($res->{error}{message}, qr/does not exist/, '...it does not exist for b');
$res = rpc('b', 'check_compatibility', { subject => 'leave', schema => '{"type": "integer"}' }, method => 'GET');
is_deeply(scalar_of($res)->{changes}, [], 'b\'s compatibility check of the name sees no versions');
for my $t (qw(subjects schema_versions schema_references registry_audit submissions form_versions forms registry_settings))
{
	$res = $api->get(table => "lowcode.$t", claims => $claims{b});
	is($res->{status}, 200, "b reads lowcode.$t");
	ok(!(grep { ($_->{tenant_id} // '') eq $a || ($_->{subject} // '') eq 'leave' } @{ body($res) }), "...and sees nothing of a");
}
$res = $api->update(table => 'lowcode.submissions', where => 'true', body => { status => 'hacked' }, claims => $claims{b});
is(scalar @{ body($res) }, 0, 'b updates none of a\'s submissions');
$res = $api->delete(table => 'lowcode.submissions', where => 'true', claims => $claims{b});
is(scalar @{ body($res) }, 0, 'b deletes none of a\'s submissions');
$res = $api->insert(table => 'lowcode.submissions', columns => [qw(tenant_id subject data)], claims => $claims{b},
	body => [ { tenant_id => $a, subject => 'leave', data => {} } ]);
is($res->{status}, 403, 'b cannot insert a submission into a');
$res = $api->insert(table => 'lowcode.subjects', columns => [qw(tenant_id name created_by)], claims => $claims{b},
	body => [ { tenant_id => $b, name => 'direct', created_by => 'bob' } ]);
is($res->{status}, 403, 'registry tables are not writable directly');
rpc('b', 'set_compatibility', { subject => 'leave', mode => 'NONE' });
is($node->safe_psql('postgres', "SELECT compatibility IS NULL FROM lowcode.subjects WHERE tenant_id = '$a' AND name = 'leave'"),
	't', 'b\'s set_compatibility of the same name does not touch a\'s subject');
is($node->safe_psql('postgres', "SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$a' AND status = 'submitted'"),
	'2', 'a\'s submissions are intact');

# --- same subject name in both tenants, on pooled connections: each gets its own version
rpc('b', 'register_schema', { subject => 'survey', schema => '{"type": "object", "required": ["b_only"]}' });
rpc('a', 'register_schema', { subject => 'survey', schema => '{"type": "object", "required": ["a_only"]}' });
my $mixups = 0;
for my $i (1 .. 8)
{
	for my $t (qw(a b))
	{
		my $doc = $t eq 'a' ? '{"a_only": 1}' : '{"b_only": 1}';
		my $r = scalar_of(rpc($t, 'validate', { subject => 'survey', instance => $doc }, method => 'GET'));
		$mixups++ unless $r && $r->{valid};
	}
}
is($mixups, 0, 'alternating tenants on pooled connections never validate against the other tenant\'s version');

# --- no tenant: rejected before any registry function runs
$res = $api->rpc(function => 'lowcode.get_schema', args => { subject => 'common.address' }, method => 'GET');
is($res->{status}, 401, 'a request without a tenant is rejected');

# --- the isolation report has nothing to say about the registry
is($node->safe_psql('postgres', q{SELECT count(*) FROM lowcode.isolation_report()
	WHERE object_name ~ '(subjects|schema_|registry_|submissions|forms|form_versions)'}), '0', 'isolation report: clean');

$node->stop;
done_testing();
