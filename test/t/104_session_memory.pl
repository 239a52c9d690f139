# The shared memory table of last-seen times when it is full (never an
# error for a request: flushed entries are evicted, otherwise the touch is
# dropped and counted), and sessions without shared_preload_libraries.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# 128 entries, and no sweep by the worker during the test.
my $node = lowcode_node('memory', conf => "lowcode.max_tracked_sessions = 128\nlowcode.sweep_interval = '1h'\n");
my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('memory-a', NULL, 'enterprise')");
$node->safe_psql('postgres', qq{
	CREATE TABLE sids AS SELECT s.session_id AS id, lowcode.session_proof(s.token) AS proof, g AS n
	  FROM generate_series(1, 300) g, LATERAL lowcode.create_session('$t', 'u' || g) s;
	CREATE FUNCTION touch(sid uuid, proof text) RETURNS boolean LANGUAGE plpgsql AS \$\$
	BEGIN
	  PERFORM set_config('request.jwt.claims',
	    json_build_object('tenant_id', '$t', 'sid', sid, 'sid_proof', proof)::text, true);
	  PERFORM lowcode.pre_request();
	  RETURN true;
	END \$\$;
});

is($node->safe_psql('postgres', 'SELECT count(*) FILTER (WHERE touch(id, proof)) FROM sids WHERE n <= 200'), 200,
	'200 sessions on a 128-entry table: every request succeeds');
is($node->safe_psql('postgres', 'SELECT entries, dropped_touches, evictions FROM lowcode.session_memory_stats()'),
	'128|72|0', 'the table is full, 72 touches dropped (nothing flushed yet, nothing to evict)');

is($node->safe_psql('postgres', 'SELECT flushed FROM lowcode.sweep()'), 128, 'a sweep flushes the 128 entries');
is($node->safe_psql('postgres', 'SELECT count(*) FILTER (WHERE touch(id, proof)) FROM sids WHERE n > 200'), 100,
	'100 more sessions: every request succeeds');
is($node->safe_psql('postgres', 'SELECT entries, dropped_touches, evictions FROM lowcode.session_memory_stats()'),
	'128|72|100', 'flushed entries were evicted to make room; nothing more dropped');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM lowcode.sessions WHERE state = 'active'"), 300, 'all sessions still active');
$node->stop;

# --- without shared_preload_libraries
my $plain = PostgreSQL::Test::Cluster->new('nopreload');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
my $tp = $plain->safe_psql('postgres', "SELECT lowcode.create_tenant('plain-a')");
my ($sp, $pp) = split / /, $plain->safe_psql('postgres', "SELECT session_id || ' ' || lowcode.session_proof(token) FROM lowcode.create_session('$tp', 'u')");
ok($sp, 'create_session works without shared_preload_libraries');
my ($rc, $out, $err) = $plain->psql('postgres', qq{
	BEGIN READ ONLY;
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$tp","sid":"$sp","sid_proof":"$pp"}', true);
	SELECT lowcode.pre_request();
});
like($err, qr/requires pg_lowcode in shared_preload_libraries/, 'validating a session needs the preloaded library');
($rc, $out, $err) = $plain->psql('postgres', qq{
	BEGIN READ ONLY;
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$tp"}', true);
	SELECT lowcode.pre_request();
});
is($rc, 0, 'a request without a session still works (claims mode)');
($rc, $out, $err) = $plain->psql('postgres', 'SELECT * FROM lowcode.session_memory_stats()');
like($err, qr/requires pg_lowcode in shared_preload_libraries/, 'session_memory_stats() says it needs the preloaded library');
($rc, $out, $err) = $plain->psql('postgres', 'SELECT * FROM lowcode.worker_status()');
like($err, qr/requires pg_lowcode in shared_preload_libraries/, 'worker_status() too');
is($plain->safe_psql('postgres', "SELECT lowcode.revoke_session('$sp')"), 't', 'revocation works without it');
$plain->stop;

done_testing();
