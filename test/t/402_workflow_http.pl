# Workflows through a real PostgREST (test/lib/PostgrestHttp.pm): POST
# /rpc/fire with JWTs, the HTTP statuses and bodies of a transition (200), an
# event the state does not take (409), a refusing guard with its message
# (422), another tenant's record (404), a direct PATCH of the state column
# (400), and GET /workflow_timeline.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestHttp;

plan skip_all => 'no PostgREST binary (set LOWCODE_POSTGREST or LOWCODE_SHARED)' unless PostgrestHttp->binary;

my $node = lowcode_node('workflow_http');
PostgrestHttp->setup_roles($node);
my ($ta, $tb) = map { $node->safe_psql('postgres', "SELECT lowcode.create_tenant('$_', NULL, 'enterprise')") } qw(wfh-a wfh-b);
$node->safe_psql('postgres', q{
	CREATE TABLE public.leave_requests (id bigint GENERATED ALWAYS AS IDENTITY, employee text NOT NULL,
	                                    days int NOT NULL, state text, decided_by text);
	SELECT lowcode.make_tenant_table('public.leave_requests');
	ALTER TABLE public.leave_requests ADD PRIMARY KEY (tenant_id, id);
	SELECT lowcode.attach_workflow('public.leave_requests', 'leave-approval');
	GRANT SELECT, INSERT, UPDATE ON public.leave_requests TO authenticated;
});
$node->safe_psql('postgres', qq{SELECT set_config('request.jwt.claims', '{"tenant_id": "$ta", "sub": "ann"}', false);
	SELECT lowcode.register_workflow('leave-approval', '{"initial": "draft", "states": {
	  "draft": {"on": {"submit": {"target": "submitted",
	            "guard": {"rule": "self.days > 0", "message": "a leave request needs at least one day"}}}},
	  "submitted": {"after": {"48h": "escalated"}, "on": {"approve": {"target": "approved",
	            "guard": {"rule": "has(actor.claims.roles) && \\"manager\\" in actor.claims.roles",
	                      "message": "only a manager may approve a leave request"},
	            "actions": [{"type": "set", "fields": {"decided_by": "actor.principal"}}]}}},
	  "escalated": {"on": {"approve": "approved"}},
	  "approved": {"type": "final"}}}');
	INSERT INTO public.leave_requests (employee, days) VALUES ('ann', 3);});
my $id = $node->safe_psql('postgres', q{SELECT id FROM public.leave_requests WHERE employee = 'ann'});

my $pg = PostgrestHttp->new(node => $node, schemas => ['lowcode', 'public'], extra_search_path => ['public']);
$pg->start;
my %ann = (role => 'authenticated', tenant_id => $ta, sub => 'ann');
my %mia = (role => 'authenticated', tenant_id => $ta, sub => 'mia', roles => ['manager']);
my %bob = (role => 'authenticated', tenant_id => $tb, sub => 'bob', roles => ['manager']);
my $record = { table => 'leave_requests', id => $id + 0 };
sub fire
{
	my ($claims, $event, $payload) = @_;
	return $pg->post('/rpc/fire', claims => $claims, headers => { 'Content-Profile' => 'lowcode' },
		body => { record => $record, event => $event, payload => $payload // {} });
}

my $res = fire(\%ann, 'approve');
is($res->{status}, 409, 'POST /rpc/fire of an event the state does not take: 409');
is($res->{body}{code}, 'LW409', '...code LW409');
is($res->{body}{message}, 'event approve is not allowed in state draft', '...message');

$res = fire(\%ann, 'submit', { note => 'summer' });
is($res->{status}, 200, 'POST /rpc/fire: 200') or diag explain $res->{body};
is($res->{body}{to}, 'submitted', '...the new state');
is($res->{body}{record}{state}, 'submitted', '...and the record');

$res = fire(\%ann, 'approve');
is($res->{status}, 422, 'a guard refuses: 422');
is($res->{body}{code}, 'LW422', '...code LW422');
is($res->{body}{message}, 'only a manager may approve a leave request', "...the guard's message");

$res = fire(\%bob, 'approve');
is($res->{status}, 404, "another tenant's manager: 404");

$res = $pg->patch("/leave_requests?id=eq.$id", claims => \%mia, body => { state => 'approved' },
	headers => { 'Content-Profile' => 'public' });
is($res->{status}, 400, 'PATCH of the state column: 400');
like($res->{body}{message}, qr/changes only through lowcode.fire/, '...saying how to change it');

$res = fire(\%mia, 'approve');
is($res->{status}, 200, 'the manager approves: 200') or diag explain $res->{body};
is($res->{body}{record}{decided_by}, 'mia', '...the set action recorded who');

$res = $pg->get("/workflow_timeline?record_key=eq.$id&order=step", claims => \%ann,
	headers => { 'Accept-Profile' => 'lowcode' });
is($res->{status}, 200, 'GET /workflow_timeline');
is_deeply([ map { "$_->{outcome} " . ($_->{event} // '-') . " $_->{to_state}" } @{ $res->{body} } ],
	[ 'created - draft', 'transition submit submitted', 'transition approve approved' ], '...the record\'s steps');
$res = $pg->get('/workflow_timeline', claims => \%bob, headers => { 'Accept-Profile' => 'lowcode' });
is_deeply($res->{body}, [], "...none of them for another tenant");

done_testing();
