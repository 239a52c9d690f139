# Quotas through the PostgREST replay harness: every limit and its HTTP
# error (429 + Retry-After, 403 rows, 413 storage, 403 sessions), the tier
# settings of a request (statement_timeout, work_mem) and that they do not
# leak to the next request on a pooled connection, and the counters a
# tenant sees in lowcode.tenant_stats.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('quota_replay');
PostgrestReplay->setup_roles($node);
my $sql = sub { $node->safe_psql('postgres', $_[0]) };

# enterprise tier (1000 requests per second): only the limits set below bind
my ($a, $b) = map { $sql->("SELECT lowcode.create_tenant('$_', NULL, 'enterprise')") } qw(quota-a quota-b);
$sql->(q{
	CREATE TABLE public.docs (id bigint GENERATED ALWAYS AS IDENTITY, body text NOT NULL);
	SELECT lowcode.make_tenant_table('public.docs');
	ALTER TABLE public.docs ADD PRIMARY KEY (tenant_id, id);
	GRANT SELECT, INSERT, UPDATE, DELETE ON public.docs TO authenticated;
});
my $api = PostgrestReplay->new(node => $node, pool_size => 2);
my %claims = (a => { role => 'authenticated', tenant_id => $a }, b => { role => 'authenticated', tenant_id => $b });

# --- rate limit: burst 3 at 1 request per second
$sql->("SELECT lowcode.set_tenant_limit('$a', 'request_burst', 3), lowcode.set_tenant_limit('$a', 'requests_per_second', 1)");
my @status = map { $api->get(table => 'public.docs', claims => $claims{a})->{status} } 1 .. 3;
is_deeply(\@status, [200, 200, 200], 'the burst is admitted');
my $res = $api->get(table => 'public.docs', claims => $claims{a});
is($res->{status}, 429, 'over the rate: HTTP 429');
is($res->{error}{code}, 'LQ429', 'error code LQ429');
like($res->{headers}{'Retry-After'} // '', qr/^[1-9][0-9]*$/, 'Retry-After header in whole seconds');
is($res->{headers}{'Retry-After'}, '1', 'Retry-After is 1 s at 1 request per second');
is($api->get(table => 'public.docs', claims => $claims{b})->{status}, 200, 'another tenant is not limited');
sleep(1);
is($api->get(table => 'public.docs', claims => $claims{a})->{status}, 200, 'admitted again after Retry-After');
$sql->("SELECT lowcode.reset_tenant_limit('$a', 'request_burst'), lowcode.reset_tenant_limit('$a', 'requests_per_second')");
sleep(1);    # the bucket refills at the tier's rate

# --- tier settings: for the request's transaction only
$sql->("SELECT lowcode.set_tenant_limit('$a', 'statement_timeout_ms', 300), lowcode.set_tenant_limit('$a', 'work_mem_kb', 777)");
$res = $api->request(method => 'GET', path => '/rpc/settings', claims => $claims{a},
	sql => q{select current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm});
is_deeply([ $res->{rows}[0]{st}, $res->{rows}[0]{wm} ], [ '300ms', '777kB' ], 'tenant a gets its statement_timeout and work_mem');
$res = $api->request(method => 'GET', path => '/rpc/slow', claims => $claims{a}, sql => 'select pg_sleep(1)');
is($res->{error}{sqlstate}, '57014', 'a statement past the tenant\'s statement_timeout is cancelled');
is($res->{status}, 500, '... which PostgREST answers with 500');
$res = $api->request(method => 'GET', path => '/rpc/slow', claims => $claims{b}, sql => 'select pg_sleep(0.5)');
is($res->{status}, 200, 'tenant b (enterprise tier: 60 s) runs the same statement on a pooled connection');
for my $dbh ($api->connections)
{
	my ($st, $wm) = $dbh->selectrow_array(q{select current_setting('statement_timeout'), current_setting('work_mem')});
	is_deeply([ $st, $wm ], [ '0', '4MB' ], 'nothing leaks into the pooled connection\'s session');
}
$sql->("SELECT lowcode.reset_tenant_limit('$a', 'statement_timeout_ms'), lowcode.reset_tenant_limit('$a', 'work_mem_kb')");

# --- row quota: 403, the whole request stores nothing
$sql->("SELECT lowcode.set_tenant_limit('$a', 'max_rows', 3)");
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{a}, body => [ map { { body => "d$_" } } 1 .. 2 ]);
is($res->{status}, 201, 'insert under the row quota');
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{a}, body => [ map { { body => "e$_" } } 1 .. 2 ]);
is($res->{status}, 403, 'insert past the row quota: 403');
is($res->{error}{code}, 'LQ431', 'error code LQ431');
like($res->{error}{details}, qr/at most 3 rows/, 'details name the limit');
is($sql->("SELECT count(*) FROM docs WHERE tenant_id = '$a'"), 2, 'the rejected request stored nothing');
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{a}, body => [ { body => 'f' } ]);
is($res->{status}, 201, 'one more row fits');
$res = $api->delete(table => 'public.docs', where => "body = 'f'", claims => $claims{a});
is($res->{status}, 204, 'delete frees a row (204)');
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{a}, body => [ { body => 'g' } ]);
is($res->{status}, 201, 'the freed row can be used again');

# --- storage quota: 413
$sql->("SELECT lowcode.set_tenant_limit('$b', 'max_storage_bytes', 3000)");
my $big = join('', map { sprintf('%08x', ($_ * 2654435761) % 4294967296) } 1 .. 500);
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{b}, body => [ { body => $big } ]);
is($res->{status}, 413, 'insert past the storage quota: 413');
is($res->{error}{code}, 'LQ432', 'error code LQ432');
$res = $api->insert(table => 'public.docs', columns => ['body'], claims => $claims{b}, body => [ { body => 'small' } ]);
is($res->{status}, 201, 'a small row still fits');
$res = $api->update(table => 'public.docs', where => "docs.body = 'small'", body => { body => $big }, claims => $claims{b});
is($res->{status}, 413, 'an update that grows past the storage quota: 413');

# --- session limit: 403 when a session past max_sessions is created
$sql->("SELECT lowcode.set_tenant_limit('$b', 'max_sessions', 1)");
is($sql->("SELECT count(*) FROM lowcode.create_session('$b', 'alice')"), 1, 'first session');
my ($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM lowcode.create_session('$b', 'bob')");
like($err, qr/"code":"LQ433"/, 'a session past max_sessions: LQ433');
like($err, qr/"status":403/, '... HTTP 403');
$sql->("SELECT lowcode.revoke_sessions('$b', 'alice')");
is($sql->("SELECT count(*) FROM lowcode.create_session('$b', 'bob')"), 1, 'a revoked session frees its place');

# --- what a tenant sees of its usage
$res = $api->get(table => 'lowcode.tenant_stats', claims => $claims{a});
my $rows = PostgrestReplay::body($res);
is(scalar @$rows, 1, 'a tenant sees one row of tenant_stats');
is($rows->[0]{tenant_id}, $a, '... its own');
cmp_ok($rows->[0]{requests}, '>=', 10, 'its requests are counted');
is($rows->[0]{rejected_rate}, 1, 'its rate rejection is counted');
is($rows->[0]{rejected_rows}, 1, 'its row quota rejection is counted');
is($rows->[0]{rows_used}, 3, 'rows used: 3');
is($rows->[0]{max_rows}, 3, 'against max_rows 3');
my $stats_b = $sql->("SELECT rejected_storage || ',' || rejected_sessions FROM lowcode.tenant_stats WHERE tenant_id = '$b'");
is($stats_b, '2,1', 'the operator sees tenant b\'s rejections');

# --- optional per-session bucket: 429 LQ430 for one session, the others go on
$sql->("SELECT lowcode.revoke_tenant_sessions('$b')");
$sql->("SELECT lowcode.reset_tenant_limit('$b', 'max_sessions')");
my ($s1, $p1) = split / /, $sql->(new_session_sql($b, 'carol'));
my ($s2, $p2) = split / /, $sql->(new_session_sql($b, 'dave'));
$sql->("ALTER SYSTEM SET lowcode.session_requests_per_second = 1; ALTER SYSTEM SET lowcode.session_request_burst = 2");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('lowcode.session_requests_per_second') = '1'");
my %sess1 = (%{ $claims{b} }, sid => $s1, sid_proof => $p1);
my %sess2 = (%{ $claims{b} }, sid => $s2, sid_proof => $p2);
@status = map { $api->get(table => 'public.docs', claims => \%sess1)->{status} } 1 .. 3;
is_deeply(\@status, [200, 200, 429], 'a session past its own burst: 429');
$res = $api->get(table => 'public.docs', claims => \%sess1);
is($res->{error}{code}, 'LQ430', 'error code LQ430');
is($res->{headers}{'Retry-After'}, '1', 'with Retry-After');
is($api->get(table => 'public.docs', claims => \%sess2)->{status}, 200, 'another session of the tenant goes on');
$sql->("ALTER SYSTEM RESET lowcode.session_requests_per_second; ALTER SYSTEM RESET lowcode.session_request_burst");
$node->reload;

$api->disconnect;
$node->stop;
done_testing();
