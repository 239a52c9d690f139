# Event notifications delivered by the database worker under concurrent commits
# (issue 21, session 6): a committing transaction wakes the worker only when the
# queue was empty (src/events/events.c), and the worker takes batches until it
# finds the queue empty.  Every event of many concurrent submitting sessions
# must still reach its tenant's listener, promptly and once, with the channel
# names the worker now caches per tenant; a new channel secret (a restore) is
# picked up at the next delivery.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use DBI;
use IO::Select;
use Time::HiRes qw(time);
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# sweeps a minute apart: a notification that no commit woke the worker for would wait for the
# next sweep, so every "heard within" below is a wake-up's doing
my $node = lowcode_node('event_delivery', no_cron => 1, conf => "lowcode.sweep_interval = '60s'\n");
my $sql = sub { $node->safe_psql('postgres', $_[0]) };
my @tenants = map { $sql->("SELECT lowcode.create_tenant('deliver-$_')") } 1 .. 3;
my $dsn = sprintf('dbi:Pg:dbname=postgres;host=%s;port=%d', $node->host, $node->port);

sub listener
{
	my ($tenant) = @_;
	my $dbh = DBI->connect($dsn, '', '', { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
	my ($chan) = $dbh->selectrow_array('SELECT lowcode.event_channel($1)', undef, $tenant);
	$dbh->do(qq{LISTEN "$chan"});
	return $dbh;
}

# notifications heard by each listener until each has $want (a number, or a number per
# listener), or $timeout seconds
sub hear
{
	my ($listeners, $want, $timeout) = @_;
	my %want = ref $want ? %$want : map { $_ => $want } keys %$listeners;
	my %heard = map { $_ => [] } keys %$listeners;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		my $sel = IO::Select->new(map { $_->{pg_socket} } values %$listeners);
		$sel->can_read(0.2);
		for my $t (keys %$listeners)
		{
			while (my $n = $listeners->{$t}->pg_notifies)
			{
				push @{ $heard{$t} }, $n->[2];
			}
		}
		last unless grep { @{ $heard{$_} } < $want{$_} } keys %heard;
	}
	return \%heard;
}

my %listeners = map { $_ => listener($_) } @tenants;
is($sql->('SELECT worker_attached FROM lowcode.event_queue_stats()'), 't', 'the database worker takes the events');
my ($delivered0) = $sql->('SELECT delivered FROM lowcode.event_queue_stats()');

# 6 sessions, 150 transactions each, every transaction one event of one of the 3 tenants
# (emit_event: the same queue as the submissions' events), so that commits arrive while
# the worker is delivering and the queue is seldom empty
my $script = join("\n",
	'\set t random(1, 3)',
	"SELECT lowcode.emit_event((ARRAY['$tenants[0]', '$tenants[1]', '$tenants[2]']::uuid[])[:t], 'test.delivered', '{}');",
	'');
$node->pgbench('--no-vacuum --client=6 --jobs=2 --transactions=150', 0, [qr/processed: 900\/900/], [qr/^$/],
	'900 events committed by 6 sessions at once', { 'events' => $script });
my %expected = map {
	my $t = $_;
	($t => [ split /\n/, $sql->(qq{
		SELECT format('{"tenant_id":"%s","id":%s,"type":"%s"}', tenant_id, id, type)
		  FROM lowcode.events WHERE tenant_id = '$t' AND type = 'test.delivered' ORDER BY id}) ])
} @tenants;
my $total = 0;
$total += scalar @{ $expected{$_} } for @tenants;
is($total, 900, 'every event is in the outbox');

my $t0 = time;
my $heard = hear(\%listeners, { map { $_ => scalar @{ $expected{$_} } } @tenants }, 30);
my $waited = time - $t0;
for my $t (@tenants)
{
	is_deeply([ sort @{ $heard->{$t} } ], [ sort @{ $expected{$t} } ],
		'tenant ' . substr($t, 0, 8) . ': each of its ' . scalar(@{ $expected{$t} }) . ' events heard once, and no other tenant\'s');
}
cmp_ok($waited, '<', 5, sprintf('all heard within 5 s of the last commit (%.2f s)', $waited));
my ($queued, $delivered) = split /\|/, $sql->('SELECT queued, delivered FROM lowcode.event_queue_stats()');
is($queued, 0, 'the queue is empty');
cmp_ok($delivered - $delivered0, '>=', 900, 'the worker delivered them (not the committing sessions)');

# one commit after a quiet moment: the queue was empty, the commit wakes the worker
sleep 1;
my $t1 = time;
$sql->("SELECT lowcode.emit_event('$tenants[0]', 'test.single', '{}')");
$heard = hear({ $tenants[0] => $listeners{$tenants[0]} }, 1, 10);
is(scalar @{ $heard->{ $tenants[0] } }, 1, 'a single event on an empty queue is heard');
cmp_ok(time - $t1, '<', 5, sprintf('...promptly: its commit woke the worker (%.3f s)', time - $t1));

# a new channel secret (as a restore of another database's dump would bring): the worker
# reads it at its next delivery and sends on the new channels, not on cached old names
$sql->(q{UPDATE lowcode.event_secret SET key = sha256(key)});
my $fresh = listener($tenants[1]);
my ($new_chan) = $fresh->selectrow_array('SELECT lowcode.event_channel($1)', undef, $tenants[1]);
$sql->("SELECT lowcode.emit_event('$tenants[1]', 'test.after_secret', '{}')");
$heard = hear({ new => $fresh, old => $listeners{ $tenants[1] } }, 1, 10);
is(scalar @{ $heard->{new} }, 1, 'after the secret changed, the event is sent on the new channel');
is(scalar @{ $heard->{old} }, 0, '...and not on the channel of the old secret');

# a delivery that fails leaves the notifications queued; no commit wakes the worker for them
# (the queue is not empty), so it retries on its own, soon (EVENTS_RETRY_MS), not at the next sweep
my $listener2 = listener($tenants[2]);	# on the channel of the current secret
my $keeper = DBI->connect($dsn, '', '', { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
$keeper->selectrow_array('SELECT lowcode.event_channel($1)', undef, $tenants[2]);	# loads the secret
my $key = $sql->(q{SELECT encode(key, 'hex') FROM lowcode.event_secret});
$sql->(q{DELETE FROM lowcode.event_secret});
$keeper->do("SELECT lowcode.emit_event('$tenants[2]', 'test.retried', '{}')");
ok($node->poll_query_until('postgres', q{SELECT queued = 1 FROM lowcode.event_queue_stats()}),
	'without a channel secret the delivery fails and the event stays queued');
sleep 1;
ok($node->log_contains(qr/lowcode\.event_secret must hold exactly one key/), '...and the worker says why');
$sql->(qq{INSERT INTO lowcode.event_secret (key) VALUES (decode('$key', 'hex'))});
my $t2 = time;
$heard = hear({ $tenants[2] => $listener2 }, 1, 30);
is(scalar @{ $heard->{ $tenants[2] } }, 1, 'once the secret is back, the queued event is delivered without another commit');
cmp_ok(time - $t2, '<', 5, sprintf('...within the retry interval, not at the next sweep a minute later (%.2f s)', time - $t2));
is($sql->('SELECT queued FROM lowcode.event_queue_stats()'), 0, 'the queue is empty again');
$keeper->disconnect;
$listener2->disconnect;

$_->disconnect for values %listeners;
$fresh->disconnect;
$node->stop;
done_testing();
