# The database worker delivers a stream of committed events in batches
# (issue 19): once woken by a commit's events it waits 2 ms for more before
# it sends them, so that a burst of commits costs a few delivery
# transactions, not one each, and every notification still arrives once.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use LowcodeTest;

# no sweeps during the test: the only transactions besides the test's own are the worker's deliveries
my $node = lowcode_node('event_batches', conf => "lowcode.sweep_interval = '10min'\n");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'"),
	'the worker runs');
ok($node->poll_query_until('postgres', "SELECT worker_attached FROM lowcode.event_queue_stats()"),
	'its event queue is attached');

my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('batches')");
my $chan = $node->safe_psql('postgres', "SELECT lowcode.event_channel('$t')");
ok($node->poll_query_until('postgres', "SELECT queued = 0 AND reserved = 0 FROM lowcode.event_queue_stats()"),
	'nothing queued before the burst');
my $n = 200;
my $delivered0 = $node->safe_psql('postgres', "SELECT delivered FROM lowcode.event_queue_stats()");
my $xid0 = $node->safe_psql('postgres', "SELECT txid_current()");
# one session listens and commits $n events, one transaction each, as fast as it can
my $script = qq{LISTEN "$chan";\n}
  . join('', map { "SELECT lowcode.emit_event('$t', 'test.batch', '{\"n\": $_}');\n" } 1 .. $n);
my $tail = "SELECT pg_sleep(0.5);\nSELECT 'end';\n";	# the last notifications arrive during the sleep
my $start = time;
my ($ret, $heard, $err) = $node->psql('postgres', $script . $tail);
my $elapsed_ms = (time - $start) * 1000 - 500;
is($ret, 0, 'the burst ran');
ok($node->poll_query_until('postgres', "SELECT delivered - $delivered0 >= $n FROM lowcode.event_queue_stats()"),
	"the worker delivered the $n notifications");
my $xid1 = $node->safe_psql('postgres', "SELECT txid_current()");
# xids between the two txid_current() calls: the $n events' transactions and the worker's deliveries
my $deliveries = $xid1 - $xid0 - 1 - $n;
cmp_ok($deliveries, '>=', 1, "the worker sent them in $deliveries transactions");
cmp_ok($deliveries, '<=', 1 + int($elapsed_ms / 2) + 1,
	sprintf('at most one delivery per 2 ms of the burst (%.0f ms)', $elapsed_ms));
cmp_ok($deliveries, '<', $n, 'fewer deliveries than events');

# every notification reached the listener, once
my @heard = $heard =~ /Asynchronous notification "\Q$chan\E" with payload "[^\n]*"type":"test\.batch"\}" received/g;
is(scalar(@heard), $n, "the listener heard the $n notifications");
is($node->safe_psql('postgres', "SELECT count(*) FROM lowcode.events WHERE tenant_id = '$t' AND type = 'test.batch'"),
	$n, "$n outbox rows");
is($node->safe_psql('postgres', "SELECT delivered - $delivered0 FROM lowcode.event_queue_stats()"), $n,
	'each notification delivered once');

$node->stop;
done_testing();
