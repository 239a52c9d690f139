# Sessions through the PostgREST replay harness: lowcode.pre_request()'s
# session step on pooled connections, as PostgREST drives it.  Valid,
# expired, revoked (from another backend), wrong tenant, no session,
# suspended tenant, a pooled connection reused by another session, session
# mode, sign-out, and last-seen times reaching the table without any write
# by a GET request.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('session_hook', conf => "lowcode.sweep_interval = '200ms'\n");
PostgrestReplay->setup_roles($node);

my ($ta, $tb, $tc) = map {
	$node->safe_psql('postgres', "SELECT lowcode.create_tenant('$_')")
} qw(hook-a hook-b hook-c);

# The identity back end: a trusted role that creates sessions.
$node->safe_psql('postgres', q{
	CREATE ROLE identity_backend LOGIN;
	GRANT lowcode_identity TO identity_backend;
});
my %proof;    # session id -> its sid_proof claim
sub create_session
{
	my ($tenant, $principal, $extra) = @_;
	$extra //= '';
	my $row = $node->safe_psql('postgres',
		"SELECT session_id || ' ' || token || ' ' || lowcode.session_proof(token) FROM lowcode.create_session('$tenant', '$principal'$extra)",
		connstr => $node->connstr('postgres') . ' user=identity_backend');
	my ($sid, $token, $sid_proof) = split / /, $row;
	$proof{$sid} = $sid_proof;
	return ($sid, $token);
}

my ($sa1, $tok_a1) = create_session($ta, 'alice');
my ($sa2) = create_session($ta, 'adam');
my ($sb1) = create_session($tb, 'bella');
my ($sc1) = create_session($tc, 'carl');

my $api = PostgrestReplay->new(node => $node, pool_size => 2);
my $info_sql = 'select session_id::text, principal, tenant_id::text from lowcode.session_info()';

sub claims
{
	my ($tenant, $sid) = @_;
	my %c = (role => 'authenticated', tenant_id => $tenant);
	%c = (%c, sid => $sid, sid_proof => $proof{$sid} // 'lcp_none') if defined $sid;
	return \%c;
}

sub www_auth { return $_[0]{headers}{'WWW-Authenticate'} // '' }

# --- valid
my $res = $api->request(method => 'GET', path => '/rpc/session_info', claims => claims($ta, $sa1), sql => $info_sql);
is($res->{status}, 200, 'valid session: 200') or diag explain $res->{error};
is($res->{rows}[0]{session_id}, $sa1, 'session_info() is the request\'s session');
is($res->{rows}[0]{principal}, 'alice', 'with its principal');

# --- the token in a header instead of the sid claim
$res = $api->request(method => 'GET', claims => claims($ta), headers => { 'x-session-token' => $tok_a1 }, sql => $info_sql);
is($res->{status}, 200, 'token header: 200');
is($res->{rows}[0]{session_id}, $sa1, 'token header names the same session');

# --- a pooled connection reused by another session, then by a request without one
my ($conn1) = $api->connections;
$res = $api->request(dbh => $conn1, method => 'GET', claims => claims($ta, $sa1), sql => $info_sql);
is($res->{rows}[0]{principal}, 'alice', 'connection 1 serves alice');
$res = $api->request(dbh => $conn1, method => 'GET', claims => claims($ta, $sa2), sql => $info_sql);
is($res->{rows}[0]{principal}, 'adam', 'the same connection then serves adam\'s session, not alice\'s');
$res = $api->request(dbh => $conn1, method => 'GET', claims => claims($tb, $sb1), sql => $info_sql);
is($res->{rows}[0]{tenant_id}, $tb, 'then bella of another tenant, with her tenant');
$res = $api->request(dbh => $conn1, method => 'GET', claims => claims($ta), sql => $info_sql);
is($res->{status}, 200, 'a request without a session on the reused connection (claims mode): 200');
is(scalar @{ $res->{rows} }, 0, '...and it sees no session left over from the previous request');

# --- wrong tenant
$res = $api->request(method => 'GET', claims => claims($tb, $sa1), sql => $info_sql);
is($res->{status}, 401, 'session of another tenant: 401');
is($res->{error}{code}, 'LS442', 'code LS442');
like(www_auth($res), qr/^Bearer error="invalid_token"/, 'WWW-Authenticate header');

# --- unknown session
$res = $api->request(method => 'GET', claims => claims($ta, '3b241101-e2bb-4255-8caf-4136c566a962'), sql => $info_sql);
is($res->{status}, 401, 'unknown session: 401');
is($res->{error}{code}, 'LS401', 'code LS401');
like(www_auth($res), qr/invalid_token/, 'WWW-Authenticate header');

# --- expired (past its lifetime; the worker has not marked it yet or has)
my ($s_exp) = create_session($ta, 'ed', ", '{}', interval '1 second'");
sleep 2;
$res = $api->request(method => 'GET', claims => claims($ta, $s_exp), sql => $info_sql);
is($res->{status}, 401, 'expired session: 401');
is($res->{error}{code}, 'LS440', 'code LS440');
like(www_auth($res), qr/invalid_token/, 'WWW-Authenticate header');

# --- revoked from another backend: the very next request on every pooled connection fails
for my $dbh ($api->connections)
{
	$res = $api->request(dbh => $dbh, method => 'GET', claims => claims($ta, $sa2), sql => $info_sql);
	is($res->{status}, 200, 'adam\'s session works on each pooled connection before revocation');
}
$node->safe_psql('postgres', "SELECT lowcode.revoke_session('$sa2')",
	connstr => $node->connstr('postgres') . ' user=identity_backend');
for my $dbh ($api->connections)
{
	$res = $api->request(dbh => $dbh, method => 'GET', claims => claims($ta, $sa2), sql => $info_sql);
	is($res->{status}, 401, 'revoked: the next request on each pooled connection is 401');
	is($res->{error}{code}, 'LS441', 'code LS441');
}

# --- suspended tenant
$res = $api->request(method => 'GET', claims => claims($tc, $sc1), sql => $info_sql);
is($res->{status}, 200, 'tenant c session works');
$node->safe_psql('postgres', "SELECT lowcode.suspend_tenant('$tc')");
$res = $api->request(method => 'GET', claims => claims($tc, $sc1), sql => $info_sql);
is($res->{status}, 403, 'suspended tenant: 403');
is($res->{error}{code}, 'LT423', 'code LT423');
$node->safe_psql('postgres', "SELECT lowcode.resume_tenant('$tc')");

# --- last-seen times reach the table although GET requests are READ ONLY
my $before = $node->safe_psql('postgres', "SELECT last_seen_at FROM lowcode.sessions WHERE id = '$sa1'");
sleep 1;
$res = $api->request(method => 'GET', claims => claims($ta, $sa1), sql => $info_sql);
is($res->{status}, 200, 'GET in a READ ONLY transaction succeeds');
ok($node->poll_query_until('postgres',
	"SELECT last_seen_at > '$before' FROM lowcode.sessions WHERE id = '$sa1'"),
	'the worker flushed the last-seen time to lowcode.sessions');

# --- sign-out through the API (POST: READ WRITE)
my ($s_out) = create_session($tb, 'bob');
$res = $api->request(method => 'POST', path => '/rpc/end_session', claims => claims($tb, $s_out),
	sql => 'select lowcode.end_session() as ended');
is($res->{status}, 200, 'end_session through the API (POST /rpc: 200)');
is($res->{rows}[0]{ended}, 1, 'it ended the session');
$res = $api->request(method => 'GET', claims => claims($tb, $s_out), sql => $info_sql);
is($res->{status}, 401, 'the signed-out session is rejected');

# --- the API role cannot create or revoke sessions
$res = $api->request(method => 'POST', claims => claims($tb, $sb1),
	sql => "select * from lowcode.create_session('$tb', 'mallory')");
is($res->{status}, 403, 'API role calling create_session: 403 (42501)');
$res = $api->request(method => 'POST', claims => claims($tb, $sb1),
	sql => "select lowcode.revoke_session('$sa1')");
is($res->{status}, 403, 'API role calling revoke_session: 403');

# --- session mode: the session is the only source of the tenant
$node->safe_psql('postgres', "ALTER SYSTEM SET lowcode.tenant_context = 'session'; SELECT pg_reload_conf();");
$api->disconnect;
$api = PostgrestReplay->new(node => $node, pool_size => 2);
$res = $api->request(method => 'GET', claims => { role => 'authenticated', sid => $sb1, sid_proof => $proof{$sb1} },
	sql => 'select lowcode.current_tenant()::text as t');
is($res->{status}, 200, 'session mode: the session (sid and its proof) alone is enough');
is($res->{rows}[0]{t}, $tb, 'the tenant comes from the session');
$res = $api->request(method => 'GET', claims => { role => 'authenticated', tenant_id => $ta, sid => $sb1, sid_proof => $proof{$sb1} },
	sql => 'select lowcode.current_tenant()::text as t');
is($res->{rows}[0]{t}, $tb, 'a tenant_id claim cannot override the session\'s tenant');
$res = $api->request(method => 'GET', claims => claims($ta), sql => 'select 1');
is($res->{status}, 401, 'session mode without a session: 401');
is($res->{error}{code}, 'LT401', 'code LT401');
# spoofing the claims after pre_request() changes nothing
$res = $api->request(method => 'GET', claims => { role => 'authenticated', sid => $sb1, sid_proof => $proof{$sb1} },
	sql => "select set_config('request.jwt.claims', '{\"tenant_id\":\"$ta\"}', true), lowcode.current_tenant()::text as t");
is($res->{rows}[0]{t}, $tb, 'set_config of other claims after pre_request() does not change the tenant');

$api->disconnect;
$node->stop;
done_testing();
