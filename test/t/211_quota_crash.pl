# Usage accounting across failures: counters live in shared memory, so they
# survive the end of the backends (and of the database worker) that counted
# them; a crash loses at most what was not yet flushed (one sweep interval),
# and the storage reconciliation repairs the storage figures.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('quota_crash', conf => "restart_after_crash = on\n");
my $sql = sub { $node->safe_psql('postgres', $_[0]) };

my $t = $sql->("SELECT lowcode.create_tenant('crash-co', NULL, 'enterprise')");
$sql->(q{
	CREATE TABLE public.items (id bigint GENERATED ALWAYS AS IDENTITY, v text);
	SELECT lowcode.make_tenant_table('public.items');
});
my $as_tenant = "SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false);";
sub requests { my ($n) = @_; $sql->($as_tenant . join('', map { 'SELECT lowcode.pre_request();' } 1 .. $n)); }
sub insert_rows { my ($n) = @_; $sql->($as_tenant . "INSERT INTO items (v) SELECT 'x' || g FROM generate_series(1, $n) g;"); }
sub live { $sql->("SELECT requests || '/' || rows_used FROM lowcode.tenant_stats WHERE tenant_id = '$t'") }
sub flushed_requests { $sql->("SELECT coalesce(sum(requests), 0) FROM lowcode.tenant_usage WHERE tenant_id = '$t'") }

my @workers = split /\n/, $sql->("SELECT pid FROM pg_stat_activity WHERE backend_type ILIKE '%lowcode%'");

# --- counters survive the backends that counted them (each safe_psql is a new backend)
requests(50);
insert_rows(100);
is(live(), '50/100', 'counters from ended backends are still there');
my $pid = $node->safe_psql('postgres', "SELECT pg_backend_pid()");
requests(5);
is(live(), '55/100', 'and keep counting');

# --- the database worker's restart loses nothing
SKIP:
{
	skip 'the database worker (sessions issue) is not on this branch', 2 unless @workers;
	$sql->("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type ILIKE '%lowcode%'");
	ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type ILIKE '%lowcode%'"), 'the worker comes back');
	ok($node->poll_query_until('postgres',
		"SELECT coalesce(sum(requests), 0) = 55 FROM lowcode.tenant_usage WHERE tenant_id = '$t'"),
		'the restarted worker flushes every counted request');
}

# --- flush, then work that is not flushed yet, then a crash
$sql->("SELECT lowcode.flush_usage()");
is(flushed_requests(), 55, 'flushed: 55 requests in tenant_usage');
is($sql->("SELECT rows FROM lowcode.tenant_storage WHERE tenant_id = '$t'"), 100, 'flushed: 100 rows in tenant_storage');
requests(30);
insert_rows(20);
is(live(), '85/120', 'live counters before the crash');

my $ckpt = $sql->("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
kill 'KILL', $ckpt;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server recovers from the crash');
$node->poll_query_until('postgres', "SELECT to_regclass('lowcode.tenant_usage') IS NOT NULL", 't');

my $after = flushed_requests();
if (@workers)
{
	cmp_ok($after, '>=', 55, 'flushed usage survives the crash');
	cmp_ok($after, '<=', 85, 'nothing is counted twice');
}
else
{
	is($after, 55, 'flushed usage survives the crash; the 30 unflushed requests (one interval) are lost');
}
is($sql->("SELECT count(*) FROM items"), 120, 'the rows themselves are all there');
my $rows_after = $sql->("SELECT rows_used FROM lowcode.tenant_stats WHERE tenant_id = '$t'");
ok($rows_after >= 100 && $rows_after <= 120, "storage after the crash comes from the last flush ($rows_after)");
is($sql->("SELECT rows FROM lowcode.reconcile_storage() WHERE tenant_id = '$t'"), ($rows_after == 120 ? '' : 120),
	'the reconciliation repairs the storage figure');
is($sql->("SELECT rows_used FROM lowcode.tenant_stats WHERE tenant_id = '$t'"), 120, 'storage figure repaired: 120 rows');

# the repaired figure is what the quota enforces
$sql->("SELECT lowcode.set_tenant_limit('$t', 'max_rows', 120)");
my ($rc, $out, $err) = $node->psql('postgres', $as_tenant . "INSERT INTO items (v) VALUES ('one too many')");
like($err, qr/LQ431/, 'the row quota applies to the repaired figure');
is($sql->("SELECT count(*) FROM items"), 120, 'nothing inserted past the quota');

# --- a clean restart loses nothing: the worker writes its counters and the
# sessions' last-seen times on SIGTERM (no sweep runs meanwhile: interval 1h)
SKIP:
{
	skip 'the database worker (sessions issue) is not on this branch', 3 unless @workers;
	$sql->("SELECT lowcode.set_tenant_limit('$t', 'max_rows', NULL)");
	$sql->("SELECT lowcode.flush_usage()");
	my $before = flushed_requests();
	my ($sid, $proof) = split / /, $sql->(new_session_sql($t, 'ida'));
	$sql->("ALTER SYSTEM SET lowcode.sweep_interval = '1h'; SELECT pg_reload_conf();");
	# the reload wakes the worker for one sweep, then it sleeps for an hour
	$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type ILIKE '%lowcode worker%' AND state = 'active'");
	sleep 1;
	$sql->("SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$t\", \"sid\": \"$sid\", \"sid_proof\": \"$proof\"}', false);"
		  . join('', map { 'SELECT lowcode.pre_request();' } 1 .. 40));
	is(flushed_requests(), $before, 'the 40 requests are not flushed yet');
	$node->restart;
	is(flushed_requests(), $before + 40, 'after a clean restart every request is in tenant_usage');
	is($sql->("SELECT last_seen_at > created_at FROM lowcode.sessions WHERE id = '$sid'"), 't',
		'and the session\'s last-seen time is in the table');
	$sql->("ALTER SYSTEM RESET lowcode.sweep_interval; SELECT pg_reload_conf();");
}

$node->stop;
done_testing();
