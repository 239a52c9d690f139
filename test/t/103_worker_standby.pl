# Workers and hot standbys: on a standby no pg_lowcode worker runs and no
# session changes state; after promotion the launcher and the database
# worker start and expire what is due.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# The primary sweeps once at start, then not again for an hour: the session
# created below expires while only the standby is running.
my $primary = lowcode_node('primary', allows_streaming => 1,
	conf => "lowcode.sweep_interval = '1h'\n");
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->append_conf('postgresql.conf', "lowcode.sweep_interval = '200ms'\n");
$standby->start;

my $t = $primary->safe_psql('postgres', "SELECT lowcode.create_tenant('standby-a')");
my ($s, $sp) = split / /, $primary->safe_psql('postgres',
	"SELECT session_id || ' ' || lowcode.session_proof(token) FROM lowcode.create_session('$t', 'u', '{}', interval '1 second')");
$primary->wait_for_catchup($standby);
$primary->stop;

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby in recovery');
sleep 2;    # the session is now past its idle timeout
is($standby->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('pg_lowcode launcher', 'pg_lowcode worker')"),
	0, 'no pg_lowcode launcher or worker on a hot standby');
is($standby->safe_psql('postgres', "SELECT state FROM lowcode.sessions WHERE id = '$s'"), 'active',
	'the standby changed nothing');
# pre_request() still validates sessions on a standby (read-only), and rejects the expired one
my ($rc, $out, $err) = $standby->psql('postgres', qq{
	BEGIN READ ONLY;
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$t","sid":"$s","sid_proof":"$sp"}', true);
	SELECT lowcode.pre_request();
});
like($err, qr/LS440/, 'pre_request() on the standby rejects the expired session');
($rc, $out, $err) = $standby->psql('postgres', 'SELECT * FROM lowcode.sweep()');
like($err, qr/cannot run during recovery/, 'lowcode.sweep() refuses to run during recovery');

$standby->promote;
ok($standby->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'"),
	'after promotion the database worker runs');
ok($standby->poll_query_until('postgres', "SELECT state = 'expired' FROM lowcode.sessions WHERE id = '$s'"),
	'and expires the session that became due during recovery');
is($standby->safe_psql('postgres',
	"SELECT count(*) FROM lowcode.events WHERE type = 'session.expired' AND payload ->> 'session_id' = '$s'"),
	1, 'with its event');

$standby->stop;
done_testing();
