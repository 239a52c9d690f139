# Workflows through PostgREST (replayed with PostgrestReplay): register a
# definition, create a record, POST /rpc/fire with its HTTP answers (200, 409
# not allowed in this state, 422 with the failed guard's message, 404 for
# another tenant's record, 400 for a bad reference), the timeline and the
# definitions as views, on pooled connections shared by two tenants.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('workflow_postgrest');
PostgrestReplay->setup_roles($node);
my $json = JSON::PP->new->utf8->canonical;

my ($ta, $tb) = map { $node->safe_psql('postgres', "SELECT lowcode.create_tenant('$_', NULL, 'enterprise')") } qw(wf-a wf-b);
my %claims = (
	ann => { role => 'authenticated', tenant_id => $ta, sub => 'ann' },
	mia => { role => 'authenticated', tenant_id => $ta, sub => 'mia', roles => ['manager'] },
	bob => { role => 'authenticated', tenant_id => $tb, sub => 'bob', roles => ['manager'] });

$node->safe_psql('postgres', q{
	CREATE TABLE leave_requests (id bigint GENERATED ALWAYS AS IDENTITY, employee text NOT NULL, days int NOT NULL,
	                             state text, decided_by text);
	SELECT lowcode.make_tenant_table('leave_requests');
	ALTER TABLE leave_requests ADD PRIMARY KEY (tenant_id, id);
	SELECT lowcode.attach_workflow('leave_requests', 'leave-approval');
	GRANT SELECT, INSERT, UPDATE ON leave_requests TO authenticated;
});

my $api = PostgrestReplay->new(node => $node, pool_size => 2);

sub rpc
{
	my ($who, $fn, $args, %o) = @_;
	my %types = (definition => 'jsonb', record => 'jsonb', payload => 'jsonb', version => 'int');
	# a JSON text given for a jsonb argument goes into the body as JSON, as a front end sends it
	my $body = '{' . join(', ', map {
		my $v = $args->{$_};
		$json->encode($_) . ': ' . (defined $types{$_} && $types{$_} =~ /^json/ && !ref $v && defined $v && $v =~ /^\s*[\[{]/
			? $v : $json->encode($v)) } sort keys %$args) . '}';
	return $api->rpc(function => "lowcode.$fn", args => $args, claims => $claims{$who},
		raw_body => (uc($o{method} // 'POST') eq 'GET' ? undef : $body),
		types => { map { $_ => $types{$_} } grep { $types{$_} } keys %$args }, %o);
}
sub scalar_of
{
	my ($res) = @_;
	my $row = $res->{rows}[0] // {};
	return defined $row->{body} ? JSON::PP->new->allow_nonref->decode($row->{body}) : undef;
}

my $definition = {
	initial => 'draft',
	states => {
		draft => { on => { submit => { target => 'submitted',
			guard => { rule => 'self.days > 0', message => 'a leave request needs at least one day' } } } },
		submitted => {
			after => { '48h' => 'escalated' },
			on => { approve => { target => 'approved',
				guard => { rule => "has(actor.claims.roles) && 'manager' in actor.claims.roles",
					message => 'only a manager may approve a leave request' },
				actions => [ { type => 'set', fields => { decided_by => 'actor.principal' } } ] } } },
		escalated => { on => { approve => 'approved' } },
		approved => { type => 'final' } } };

my $res = rpc('ann', 'register_workflow', { name => 'leave-approval', definition => $json->encode($definition) });
is($res->{status}, 200, 'POST /rpc/register_workflow') or diag explain $res->{error};
is(scalar_of($res), 1, '...version 1');
$res = rpc('ann', 'register_workflow', { name => 'leave-approval', definition => '{"initial": "x", "states": {}}' });
is($res->{status}, 422, 'an invalid definition: 422');
is($res->{error}{code}, 'LW011', '...LW011');
like($res->{error}{details}, qr{"path": "/states"}, '...with where the problem is');

$node->safe_psql('postgres', qq{SELECT set_config('request.jwt.claims', '{"tenant_id": "$ta"}', false);
	INSERT INTO leave_requests (employee, days) VALUES ('ann', 3), ('zed', 0)});
my %ids = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{SELECT employee, id FROM leave_requests});
ok($ids{ann}, 'records created (each starts an instance)');

my $rec = sub { return $json->encode({ table => 'leave_requests', id => $ids{ $_[0] } }) };

$res = rpc('ann', 'fire', { record => $rec->('ann'), event => 'approve', payload => '{}' });
is($res->{status}, 409, 'an event the state does not take: 409');
is($res->{error}{code}, 'LW409', '...LW409');
is($res->{error}{message}, 'event approve is not allowed in state draft', '...saying which event and state');
is_deeply(JSON::PP->new->decode($res->{error}{details})->{allowed}, ['submit'], '...and the events it takes');

$res = rpc('ann', 'fire', { record => $rec->('zed'), event => 'submit', payload => '{}' });
is($res->{status}, 422, 'a guard refuses: 422');
is($res->{error}{code}, 'LW422', '...LW422');
is($res->{error}{message}, 'a leave request needs at least one day', "...with the guard's message");

$res = rpc('ann', 'fire', { record => $rec->('ann'), event => 'submit', payload => '{"note": "summer"}' },
	headers => { traceparent => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
is($res->{status}, 200, 'POST /rpc/fire: 200 (as PostgREST answers an RPC without Prefer: return=representation)') or diag explain $res->{error};
is(scalar_of($res)->{to}, 'submitted', '...the new state');
is(scalar_of($res)->{record}{state}, 'submitted', '...and the record as it is now');

$res = rpc('ann', 'fire', { record => $rec->('ann'), event => 'approve', payload => '{}' });
is($res->{status}, 422, 'only a manager may approve: 422');
is($res->{error}{message}, 'only a manager may approve a leave request', "...with the guard's message");

$res = rpc('bob', 'fire', { record => $rec->('ann'), event => 'approve', payload => '{}' });
is($res->{status}, 404, "another tenant's manager: 404, the record does not exist for it");
is($res->{error}{code}, 'LW404', '...LW404');

$res = rpc('mia', 'fire', { record => $rec->('ann'), event => 'approve', payload => '{}' });
is($res->{status}, 200, 'the manager approves') or diag explain $res->{error};
is(scalar_of($res)->{record}{decided_by}, 'mia', '...the set action recorded who');

$res = rpc('mia', 'fire', { record => '{"id": 1}', event => 'approve', payload => '{}' });
is($res->{status}, 400, 'a bad record reference: 400');
is($res->{error}{code}, 'LW005', '...LW005');

$res = $api->update(table => 'leave_requests', claims => $claims{mia}, body => { state => 'draft' }, where => "id = $ids{ann}");
is($res->{status}, 400, 'PATCH of the state column: refused');
like($res->{error}{message}, qr/changes only through lowcode.fire/, '...saying how to change it');

$res = $api->get(table => 'lowcode.workflow_timeline', claims => $claims{ann}, where => "record_key = '$ids{ann}'");
is($res->{status}, 200, 'GET /workflow_timeline');
my @steps = @{ PostgrestReplay::body($res) };
is_deeply([ map { join(' ', $_->{outcome}, $_->{event} // '-', $_->{to_state}, $_->{actor_principal}) } sort { $a->{step} <=> $b->{step} } @steps ],
	[ 'created - draft postgres', 'transition submit submitted ann', 'transition approve approved mia' ], '...every step with its actor');
is((grep { ($_->{event} // '') eq 'submit' } @steps)[0]{trace_id}, '0af7651916cd43dd8448eb211c80319c', '...and the trace id');
$res = $api->get(table => 'lowcode.workflow_timeline', claims => $claims{bob});
is(scalar(@{ PostgrestReplay::body($res) }), 0, "tenant b sees none of tenant a's timeline");
$res = $api->get(table => 'lowcode.workflow_definitions', claims => $claims{ann});
is_deeply([ map { "$_->{name}:$_->{latest_version}" } @{ PostgrestReplay::body($res) } ], ['leave-approval:1'], 'GET /workflow_definitions');
$res = $api->get(table => 'lowcode.workflow_definitions', claims => $claims{bob});
is(scalar(@{ PostgrestReplay::body($res) }), 0, "tenant b does not see tenant a's definitions");

done_testing();
