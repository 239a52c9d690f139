# The launcher and the database workers: expiry with events, a killed
# worker is restarted, SIGHUP reloads, a database created with the
# extension added later gets its worker, DROP EXTENSION and DROP DATABASE
# are not blocked, a crash and the postmaster's reinitialisation bring every
# worker back, nothing is resurrected, SIGTERM stops cleanly.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use LowcodeTest;

my $node = lowcode_node('workers', conf => "lowcode.sweep_interval = '200ms'\nrestart_after_crash = on\n");

sub worker_pid
{
	my ($db) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = '$db'");
}
sub wait_worker
{
	my ($db, $not_pid) = @_;
	my $cond = $not_pid ? "AND pid <> $not_pid" : '';
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = '$db' $cond");
}
sub wait_no_worker
{
	my ($db) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = '$db'");
}

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode launcher'"), 'the launcher runs');
ok(wait_worker('postgres'), 'database "postgres" (extension installed) has its worker');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'template1'"),
	0, 'no worker in template1');

# --- expiry: state and event within the sweep interval
my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('workers-a')");
my $s = $node->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$t', 'u', '{}', interval '1 second')");
ok($node->poll_query_until('postgres', "SELECT state = 'expired' FROM lowcode.sessions WHERE id = '$s'"),
	'an idle session is marked expired by the worker');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM lowcode.events WHERE type = 'session.expired' AND payload ->> 'session_id' = '$s'"),
	1, 'with one session.expired event');
my $delay = $node->safe_psql('postgres',
	"SELECT extract(epoch FROM ended_at - expires_at) FROM lowcode.sessions WHERE id = '$s'");
cmp_ok($delay, '<', 2, "expiry delay ${delay}s is under 2 s");

# --- the NOTIFY of a session.expired event carries what lowcode.emit_event()'s does:
# json_build_object('tenant_id', 'id', 'type') of the outbox row, to the byte
my $s2 = $node->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$t', 'v')");
# (issue 13.7: on the tenant's channel; issue 21: sent by the worker just after the commit)
my $chan = $node->safe_psql('postgres', "SELECT lowcode.event_channel('$t')");
my $heard = $node->safe_psql('postgres', qq{
	LISTEN "$chan";
	BEGIN;
	UPDATE lowcode.sessions SET absolute_expires_at = now() - interval '1 second',
	                            expires_at = now() - interval '1 second' WHERE id = '$s2';
	SELECT expired FROM lowcode.sweep();
	COMMIT;
	SELECT pg_sleep(1);
	SELECT 1;
});
my $expected = $node->safe_psql('postgres', qq{
	SELECT format('{"tenant_id":"%s","id":%s,"type":"%s"}', tenant_id, id, type)
	  FROM lowcode.events WHERE type = 'session.expired' AND payload ->> 'session_id' = '$s2'});
like($heard, qr/^1$/m, 'lowcode.sweep() expired the session');
like($heard, qr/Asynchronous notification "\Q$chan\E" with payload "\Q$expected\E" received/,
	'its notification payload is the one emit_event() sends');

# --- retention: ended sessions and events past their deadline are deleted
$node->safe_psql('postgres', "ALTER SYSTEM SET lowcode.session_retention = '1s'");
$node->reload;
my $ev = $node->safe_psql('postgres', "SELECT lowcode.emit_event('$t', 'test.old', '{}', interval '1 second')");
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM lowcode.sessions WHERE id = '$s'"),
	'an expired session is deleted after lowcode.session_retention');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM lowcode.events WHERE id = $ev"),
	'an event past its deadline is deleted');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET lowcode.session_retention');
$node->reload;

# --- a killed worker is restarted
my $pid = worker_pid('postgres');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok(wait_worker('postgres', $pid), 'a terminated worker is started again by the launcher');

# --- SIGHUP reloads the settings
$node->safe_psql('postgres', "ALTER SYSTEM SET lowcode.sweep_interval = '300ms'");
$node->reload;
ok($node->wait_for_log(qr/pg_lowcode worker: sweep interval is now 300 ms/), 'SIGHUP: the worker reloads lowcode.sweep_interval');

# --- a database created, with the extension added later
$node->safe_psql('postgres', 'CREATE DATABASE app');
sleep 2;
is(worker_pid('app'), '', 'no worker in a database without the extension');
$node->safe_psql('app', 'CREATE EXTENSION pg_lowcode');
my $t0 = time;
ok(wait_worker('app'), 'CREATE EXTENSION: the database gets its worker');
my $elapsed = time - $t0;
cmp_ok($elapsed, '<', 10, sprintf('within %.1f s', $elapsed));
my $ta = $node->safe_psql('app', "SELECT lowcode.create_tenant('app-a')");
my $sa = $node->safe_psql('app', "SELECT session_id FROM lowcode.create_session('$ta', 'u', '{}', interval '1 second')");
ok($node->poll_query_until('app', "SELECT state = 'expired' FROM lowcode.sessions WHERE id = '$sa'"),
	'the new worker expires sessions of its database');

# --- DROP EXTENSION is not blocked; the worker leaves
$t0 = time;
my ($rc, $out, $err) = $node->psql('app', "SET lock_timeout = '5s'; DROP EXTENSION pg_lowcode");
is($rc, 0, 'DROP EXTENSION succeeds while the worker runs') or diag $err;
cmp_ok(time - $t0, '<', 5, 'and is not blocked');
ok(wait_no_worker('app'), 'the worker of the database stops after DROP EXTENSION');

# --- DROP DATABASE is not blocked by the worker
$node->safe_psql('app', 'CREATE EXTENSION pg_lowcode');
ok(wait_worker('app'), 'extension created again: worker back');
# Commands that need the database without other connections are not refused because of its worker.
($rc, $out, $err) = $node->psql('postgres', 'CREATE DATABASE app_copy TEMPLATE app');
is($rc, 0, 'CREATE DATABASE ... TEMPLATE of a database with a worker succeeds') or diag $err;
($rc, $out, $err) = $node->psql('postgres', 'ALTER DATABASE app RENAME TO app_renamed');
is($rc, 0, 'ALTER DATABASE ... RENAME of a database with a worker succeeds') or diag $err;
$node->safe_psql('postgres', 'ALTER DATABASE app_renamed RENAME TO app');
$t0 = time;
($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE app');
is($rc, 0, 'DROP DATABASE (without FORCE) succeeds while the database has a worker') or diag $err;
cmp_ok(time - $t0, '<', 10, 'and is not blocked');
ok(wait_no_worker('app'), 'no worker left for the dropped database');

# --- no resurrection: a revoked session that was in use stays revoked
my ($sr, $srp) = split / /, $node->safe_psql('postgres', new_session_sql($t, 'r'));
$node->safe_psql('postgres', qq{
	BEGIN READ ONLY;
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$t","sid":"$sr","sid_proof":"$srp"}', true);
	SELECT lowcode.pre_request();
	COMMIT;
	SELECT lowcode.revoke_session('$sr');
});
# the touch of the request above is still to be flushed: wait for two sweeps
sleep 1;
is($node->safe_psql('postgres', "SELECT state FROM lowcode.sessions WHERE id = '$sr'"), 'revoked',
	'a flush of a revoked session\'s last-seen time does not make it active');

# --- crash and reinitialisation: every worker comes back
my ($live, $livep) = split / /, $node->safe_psql('postgres', new_session_sql($t, 'live'));
$node->safe_psql('postgres', qq{
	BEGIN READ ONLY;
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$t","sid":"$live","sid_proof":"$livep"}', true);
	SELECT lowcode.pre_request();
	COMMIT;
});
my $launcher = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode launcher'");
$pid = worker_pid('postgres');
kill 'KILL', $pid;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/), 'SIGKILL of a worker: the postmaster reinitialises');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode launcher' AND pid <> $launcher"),
	'the launcher is back after the crash');
ok(wait_worker('postgres', $pid), 'the database worker is back after the crash');
is($node->safe_psql('postgres', "SELECT state FROM lowcode.sessions WHERE id = '$sr'"), 'revoked',
	'after the crash the revoked session is still revoked');
is($node->safe_psql('postgres', "SELECT state FROM lowcode.sessions WHERE id = '$live'"), 'active',
	'and the live session still active');

# --- SIGTERM: a clean stop
my $log_offset = -s $node->logfile;
$node->stop('fast');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/pg_lowcode worker stopping on request/, 'SIGTERM: the worker stops on request');
unlike($log, qr/pg_lowcode.*(terminated by signal|exited with exit code [2-9])/, 'no worker crashed at shutdown');

done_testing();
