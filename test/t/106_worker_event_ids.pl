# lowcode.new_id() (src/events/events_id.c) under concurrency and across
# restarts: ids are unique across backends, increase within each session,
# stay below 2^53, survive a backend's exit (its lane's next holder starts
# after it) and a crash restart (the lanes start ahead of every earlier id).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('ids', no_cron => 1, conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', q{
	CREATE UNLOGGED TABLE ids (id bigint PRIMARY KEY, pid int NOT NULL, n bigint NOT NULL);
	CREATE SEQUENCE ids_n;
});

# four sessions at once, each making ids in bursts (more than one per millisecond,
# so that they run ahead and take spare lanes) and one at a time
$node->pgbench('--no-vacuum --client=4 --jobs=2 --transactions=300', 0, [qr/processed: 1200\/1200/], [qr/^$/],
	'4 sessions make ids at once without a duplicate key',
	{ 'ids' => q{INSERT INTO ids SELECT lowcode.new_id(), pg_backend_pid(), nextval('ids_n') FROM generate_series(1, 50);
INSERT INTO ids VALUES (lowcode.new_id(), pg_backend_pid(), nextval('ids_n'));
} });
is($node->safe_psql('postgres', 'SELECT count(*) FROM ids'), 1200 * 51, 'every id was stored');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT id, lag(id) OVER (PARTITION BY pid ORDER BY n) AS prev FROM ids) s WHERE id <= prev}),
	0, 'ids increase within each session (ORDER BY id is the order a session made them in)');
is($node->safe_psql('postgres', 'SELECT bool_and(id < 2::bigint ^ 53) FROM ids'), 't', 'every id is below 2^53');

# a burst far beyond one id per millisecond: the session takes spare lanes
# instead of running far ahead of the clock
my ($ahead_ms) = $node->safe_psql('postgres', q{
	CREATE TEMP TABLE burst AS SELECT lowcode.new_id() AS id FROM generate_series(1, 200000);
	SELECT (max(id) >> 12) - (extract(epoch FROM clock_timestamp() - '2000-01-01 UTC'::timestamptz) * 1000)::bigint,
	       count(DISTINCT id & 4095) > 1 FROM burst});
my ($ahead, $lanes) = split /\|/, $ahead_ms;
cmp_ok($ahead, '<=', 100, "200,000 ids in one statement end at most 100 ms ahead of the clock ($ahead ms)");
is($lanes, 't', '...on more than one lane');

# a backend's exit: the next session on its lane starts after its last id
my $max = $node->safe_psql('postgres', 'SELECT max(id) FROM ids');
my $next = $node->safe_psql('postgres', 'SELECT lowcode.new_id()');
cmp_ok($next, '>', $max - (100 << 12), 'a later session\'s id is not older than the earlier sessions\' ids by more than 100 ms');
is($node->safe_psql('postgres', "SELECT count(*) FROM ids WHERE id = $next"), 0, '...and repeats none of them');

# a crash restart: every lane starts beyond the ids made before it
$max = $node->safe_psql('postgres', 'SELECT max(id) FROM ids');
my $pid = $node->safe_psql('postgres', 'SELECT pg_backend_pid()');
my $victim = $node->background_psql('postgres');
$victim->query_safe('SELECT 1');
my $vpid = $victim->query_safe('SELECT pg_backend_pid()');
chomp $vpid;
kill 'KILL', $vpid;
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server is back after a crash restart');
eval { $victim->quit };
# the unlogged table is emptied by the crash: what counts is that new ids are beyond $max
my $after = $node->safe_psql('postgres', 'SELECT min(id) FROM (SELECT lowcode.new_id() AS id FROM generate_series(1, 1000)) s');
cmp_ok($after, '>', $max, 'after a crash restart, ids are beyond every id made before');

$node->stop;
done_testing();
