# Metadata attacks (issue 13.7): tenant A tries to learn of tenant B's activity through event
# notifications and identifiers, in both attacker models:
#   - through the PostgREST request path (test/lib/PostgrestReplay.pm), with A's verified JWT;
#   - with a direct SQL connection as the API role (authenticator, SET ROLE authenticated),
#     which can LISTEN on any channel name it can think of and run any SQL the role may.
# Every case checks a real outcome: what the attacker's listener received, what its calls
# returned, and that the same listener does hear what it is entitled to (positive controls,
# so that "heard nothing" means something).
use strict;
use warnings;

use DBI;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('attack_metadata');
PostgrestReplay->setup_roles($node);
my $A = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('meta-attacker', NULL, 'enterprise')});
my $B = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('meta-victim', NULL, 'enterprise')});
my $schema = '{"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}';
for my $t ($A, $B)
{
	$node->safe_psql('postgres', qq{
		BEGIN;
		SELECT set_config('request.jwt.claims', '{"tenant_id":"$t"}', true);
		SELECT lowcode.pre_request();
		SELECT lowcode.register_schema('form', '$schema');
		COMMIT;});
}

my $api = PostgrestReplay->new(node => $node, pool_size => 2);
my $claims_a = { role => 'authenticated', tenant_id => $A };
my $claims_b = { role => 'authenticated', tenant_id => $B };

sub submit_as
{
	my ($claims, $n) = @_;
	my $res = $api->rpc(function => 'lowcode.submit', claims => $claims,
		args => { subject => 'form', data => { n => $n } });
	die "submit failed: $res->{status} " . join(" ", %{ $res->{error} // {} }) . " " . join(" ", %$res) unless $res->{status} == 200 || $res->{status} == 201;
	return PostgrestReplay::body($res);
}

# A direct SQL connection as the API role, in A's own (legitimate) tenant context.
sub direct_conn
{
	my $dsn = sprintf('dbi:Pg:dbname=postgres;host=%s;port=%d', $node->host, $node->port);
	my $dbh = DBI->connect($dsn, 'authenticator', '', { AutoCommit => 1, RaiseError => 0, PrintError => 0 })
	  or die $DBI::errstr;
	$dbh->do('SET ROLE authenticated') or die $dbh->errstr;
	return $dbh;
}

# Everything a listening connection received within a second or so.
sub heard
{
	my ($dbh, $wait) = @_;
	my @got;
	my $until = time + ($wait // 2);
	while (time <= $until)
	{
		$dbh->do('SELECT 1');
		while (my $n = $dbh->pg_notifies)
		{
			push @got, { channel => $n->[0], payload => $n->[2] };
		}
		select(undef, undef, undef, 0.1);
	}
	return \@got;
}

# --- the PostgREST path
# GET /rpc/event_channel, as PostgREST sends it for a function without arguments
sub channel_request
{
	my ($claims) = @_;
	return $api->request(method => 'GET', path => '/rpc/event_channel', claims => $claims,
		sql => 'WITH pgrst_source AS (SELECT "lowcode"."event_channel"() AS pgrst_scalar) '
		  . "SELECT null::bigint AS total_result_set, 1 AS page_total, "
		  . "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t");
}
my $chan_a_res = channel_request($claims_a);
is($chan_a_res->{status}, 200, "PostgREST: a tenant gets its own event channel") or diag explain $chan_a_res->{error};
my $chan_a = PostgrestReplay::body($chan_a_res);
my $chan_b = PostgrestReplay::body(channel_request($claims_b));
like($chan_a, qr/^lowcode_events_[0-9a-f]{32}$/, 'PostgREST: the channel is a name of 32 hex digits');
isnt($chan_a, $chan_b, 'PostgREST: tenants A and B have different channels');
my $b_hex = $B =~ s/-//gr;
unlike($chan_a . $chan_b, qr/\Q$A\E|\Q$B\E|\Q$b_hex\E/,
	'PostgREST: a channel name does not contain the tenant id');

my $r = $api->rpc(function => 'lowcode.event_channel', claims => $claims_a, method => 'GET',
	args => { tenant => $B }, types => { tenant => 'uuid' });
is($r->{status}, 403, "PostgREST: A cannot ask for B's channel (event_channel(uuid) is for operators)");
$r = $api->request(method => 'GET', claims => $claims_a, sql => 'SELECT key FROM lowcode.event_secret');
is($r->{status}, 403, 'PostgREST: A cannot read the secret that names the channels');

# identifiers: B's activity between two of A's submissions does not show in A's ids
my $a1 = submit_as($claims_a, 1);
submit_as($claims_b, $_) for 1 .. 30;
my $a2 = submit_as($claims_a, 2);
my $gap = $a2->{id} - $a1->{id} - 1;
isnt($gap, 30, "PostgREST: the gap between A's submission ids ($gap) is not B's 30 submissions");
cmp_ok($gap, '>', 4096, 'PostgREST: submission ids are time-ordered (milliseconds << 12 | lane), not a count');
my $ev = $api->request(method => 'GET', claims => $claims_a,
	sql => q{SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM lowcode.events WHERE type = 'registry.submission_created'});
is($ev->{rows}[0]{n}, 2, 'PostgREST: A sees its own two submission events only');
my $au = $api->request(method => 'GET', claims => $claims_a,
	sql => q{SELECT count(*) AS n FROM lowcode.registry_audit WHERE action = 'submission_created'});
is($au->{rows}[0]{n}, 2, 'PostgREST: and its own two audit rows');
$r = $api->request(method => 'GET', claims => $claims_a, sql => q{
	SELECT count(*) AS n FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid IN ('lowcode.events'::regclass, 'lowcode.registry_audit'::regclass, 'lowcode.submissions'::regclass)
	   AND a.attname = 'id' AND (a.attidentity <> '' OR pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, 'id') IS NOT NULL)});
is($r->{rows}[0]{n}, 0, 'PostgREST: no shared sequence behind event, audit or submission ids to count with');

# --- a direct SQL connection as the API role
my $spy = direct_conn();
# the old shared channel, the operators' channel name computed without the secret, B's id as a name
my @guesses = ('lowcode_events', "lowcode_events_$B", "lowcode_events_$b_hex", 'lowcode_events_all',
	'lowcode_events_' . substr($b_hex, 0, 32));
$spy->do(qq{LISTEN "$_"}) or die $spy->errstr for @guesses;
my $hit = $spy->selectrow_array(q{SELECT lowcode.event_channel(?::uuid)}, undef, $B);
like($spy->state, qr/^42501$/, 'direct SQL: event_channel(B) is refused (42501)');
ok(!defined $hit, 'direct SQL: and returns nothing');
my $key = $spy->selectrow_array(q{SELECT key FROM lowcode.event_secret});
is($spy->state, '42501', 'direct SQL: the channel secret is unreadable (42501)');
$spy->do('BEGIN');
$spy->do(qq{SELECT set_config('request.jwt.claims', '{"tenant_id":"$A"}', true)});
$spy->do('SELECT lowcode.pre_request()');
my $own = $spy->selectrow_array('SELECT lowcode.event_channel()');
$spy->do('COMMIT');
is($own, $chan_a, 'direct SQL: A\'s context gives A\'s channel');
$spy->do(qq{LISTEN "$own"});

# B is busy; then A submits once (the positive control)
submit_as($claims_b, 100 + $_) for 1 .. 5;
my $b_events = heard($spy, 2);
is(scalar @$b_events, 0, "direct SQL: A's listener (own channel + 5 guessed ones) heard nothing of B's 5 submissions")
  or diag explain $b_events;
my $mine = submit_as($claims_a, 3);
my $a_events = heard($spy, 2);
is(scalar @$a_events, 1, 'direct SQL: the same listener hears A\'s own submission (it works)');
is($a_events->[0]{channel}, $chan_a, 'direct SQL: on A\'s channel');
like($a_events->[0]{payload}, qr/^\{"tenant_id":"\Q$A\E","id":\d+,"type":"registry.submission_created"\}$/,
	'direct SQL: the payload names A\'s own event only');
unlike(join('', map { $_->{payload} } @$a_events), qr/\Q$B\E/, 'direct SQL: nothing in it names B');

# counting B's submissions with ids: insert directly (A's context), twice around B's activity
sub direct_insert_id
{
	my ($dbh) = @_;
	$dbh->do('BEGIN');
	$dbh->do(qq{SELECT set_config('request.jwt.claims', '{"tenant_id":"$A"}', true)});
	$dbh->do('SELECT lowcode.pre_request()');
	my $id = $dbh->selectrow_array(q{INSERT INTO lowcode.submissions (subject, data) VALUES ('form', '{"n": 9}') RETURNING id});
	$dbh->do('COMMIT');
	return $id;
}
my $d1 = direct_insert_id($spy);
submit_as($claims_b, 200 + $_) for 1 .. 20;
my $d2 = direct_insert_id($spy);
ok(defined $d1 && defined $d2, 'direct SQL: A inserts submissions directly');
isnt($d2 - $d1 - 1, 20, 'direct SQL: the gap between A\'s ids is not B\'s 20 submissions');
my $seqs = $spy->selectrow_array(q{
	SELECT count(*) FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class c ON c.oid = d.objid
	 WHERE c.relkind = 'S' AND d.refobjid IN ('lowcode.events'::regclass, 'lowcode.registry_audit'::regclass,
	                                          'lowcode.submissions'::regclass)});
is($seqs, 0, 'direct SQL: no sequence owned by the event, audit or submission tables');
my $ev_n = $spy->selectrow_array(q{SELECT count(*) FROM lowcode.events});
is($ev_n, 0, 'direct SQL: without a tenant context the outbox shows nothing');

# the operators' channel (positive control for the firehose): hears both tenants
my $op_chan = $node->safe_psql('postgres', 'SELECT lowcode.event_channel(NULL)');
isnt($op_chan, $chan_a, 'the operators\' channel is another name');
my $op = DBI->connect(sprintf('dbi:Pg:dbname=postgres;host=%s;port=%d', $node->host, $node->port), $node->{_pg_user} // $ENV{USER},
	'', { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
$op->do(qq{LISTEN "$op_chan"});
submit_as($claims_a, 4);
submit_as($claims_b, 5);
my $all = heard($op, 2);
is(scalar @$all, 2, 'the operators\' channel carries both tenants\' events');
ok((grep { $_->{payload} =~ /\Q$A\E/ } @$all) && (grep { $_->{payload} =~ /\Q$B\E/ } @$all), 'one of each');

# the report flags nothing new and the outbox is intact: every submission has its event and audit row
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM lowcode.submissions s
	 WHERE NOT EXISTS (SELECT 1 FROM lowcode.events e WHERE e.tenant_id = s.tenant_id AND (e.payload ->> 'id')::bigint = s.id)
	    OR NOT EXISTS (SELECT 1 FROM lowcode.registry_audit a WHERE a.tenant_id = s.tenant_id AND (a.details ->> 'id')::bigint = s.id)}),
	0, 'every submission has its event and its audit row');

$spy->disconnect;
$op->disconnect;
$api->disconnect;
done_testing();
